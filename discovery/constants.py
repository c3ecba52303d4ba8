"""The catalog of named constants: mpmath definitions, sympy forms, aliases and descriptions.

Canonical names are lowercase identifiers (``pi``, ``e``, ``ln2``, ``zeta3``, ``catalan``,
``gauss``, ``lemniscate``, ``gompertz``, ``phi``, ``sqrt2``, ...).  Each constant has a sympy form:
sympy's own constant where sympy has one (``pi``, ``E``, ``log(2)``, ``zeta(3)``, ``Catalan``,
``EulerGamma``), otherwise a symbol named after the catalog entry (``gauss``, ``lemniscate``,
``gompertz``, ``khinchin``, ``glaisher``, ...), so closed forms parse with ``sympy.sympify`` and
with :func:`discovery.expressions.to_sympy`, the parser the package itself reads text with.

The alias ``exp2`` of e² is deprecated: ``exp2`` is also the program target 2^x.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

import mpmath
import sympy


@dataclass(frozen=True)
class Constant:
    """One catalog entry.

    Attributes
    ----------
    name : str
        Canonical name.
    description : str
        One line for people.
    mp : callable
        Returns the value as an mpmath number at the current working precision.
    sympy_form : str
        The constant in sympy syntax (a catalog symbol where sympy has no such constant).
    aliases : tuple of str
        Other accepted names.
    """

    name: str
    description: str
    mp: Callable[[], mpmath.mpf]
    sympy_form: str
    aliases: tuple[str, ...] = ()

    def value(self, dps: int) -> mpmath.mpf:
        """The value to ``dps`` decimal digits (cached per precision)."""
        return _cached_value(self.name, int(dps))

    def sympy(self) -> sympy.Expr:
        """The sympy expression of the constant."""
        return _sympy_form(self.name, self.sympy_form)


def _gompertz():
    return mpmath.e * mpmath.e1(1)


_ENTRIES = [
    Constant("pi", "π, the circle constant", lambda: +mpmath.pi, "pi", ("π", "Pi")),
    Constant("e", "Euler's number e", lambda: +mpmath.e, "E", ("E", "euler_e")),
    Constant("e2", "e²", lambda: mpmath.e**2, "exp(2)", ("e^2", "e_squared", "exp2")),
    Constant("ln2", "the natural logarithm of 2", lambda: mpmath.log(2), "log(2)", ("log2", "log(2)", "ln(2)")),
    Constant("ln3", "the natural logarithm of 3", lambda: mpmath.log(3), "log(3)", ("log3", "log(3)")),
    Constant("ln10", "the natural logarithm of 10", lambda: mpmath.log(10), "log(10)", ("log10",)),
    Constant("zeta2", "ζ(2) = π²/6", lambda: mpmath.zeta(2), "zeta(2)", ("ζ(2)", "zeta(2)")),
    Constant("zeta3", "Apéry's constant ζ(3)", lambda: mpmath.zeta(3), "zeta(3)", ("ζ(3)", "zeta(3)", "apery")),
    Constant("zeta5", "ζ(5)", lambda: mpmath.zeta(5), "zeta(5)", ("ζ(5)", "zeta(5)")),
    Constant("zeta7", "ζ(7)", lambda: mpmath.zeta(7), "zeta(7)", ("ζ(7)", "zeta(7)")),
    Constant("catalan", "Catalan's constant G", lambda: +mpmath.catalan, "Catalan", ("G", "Catalan")),
    Constant("euler_gamma", "the Euler–Mascheroni constant γ", lambda: +mpmath.euler, "EulerGamma",
             ("γ", "EulerGamma", "euler")),
    Constant("gauss", "Gauss' constant 1/agm(1, √2)", lambda: 1 / mpmath.agm(1, mpmath.sqrt(2)), "gauss", ("Gauss",)),
    Constant(
        "lemniscate",
        "the lemniscate constant ϖ = Γ(1/4)²/(2√(2π))",
        lambda: mpmath.gamma(mpmath.mpf(1) / 4) ** 2 / (2 * mpmath.sqrt(2 * mpmath.pi)),
        "lemniscate",
        ("ϖ", "varpi"),
    ),
    Constant("gompertz", "the Gompertz constant e·E₁(1)", _gompertz, "gompertz", ("δ_G",)),
    Constant("sqrt2", "√2", lambda: mpmath.sqrt(2), "sqrt(2)", ("√2", "sqrt(2)")),
    Constant("sqrt3", "√3", lambda: mpmath.sqrt(3), "sqrt(3)", ("√3", "sqrt(3)")),
    Constant("phi", "the golden ratio (1 + √5)/2", lambda: +mpmath.phi, "GoldenRatio",
             ("φ", "golden_ratio", "GoldenRatio")),
    Constant("sqrt5", "√5", lambda: mpmath.sqrt(5), "sqrt(5)", ("√5", "sqrt(5)")),
    Constant("cbrt2", "∛2", lambda: mpmath.cbrt(2), "2**(1/3)", ("∛2", "cbrt(2)")),
    Constant("cbrt4", "∛4", lambda: mpmath.cbrt(4), "2**(2/3)", ("∛4", "cbrt(4)")),
    Constant("pi2", "π²", lambda: mpmath.pi**2, "pi**2", ("π²", "pi^2")),
    Constant("ln_1_sqrt2", "ln(1 + √2) = asinh(1)", lambda: mpmath.log(1 + mpmath.sqrt(2)), "log(1 + sqrt(2))",
             ("asinh1",)),
    Constant("gamma_1_4", "Γ(1/4)", lambda: mpmath.gamma(mpmath.mpf(1) / 4), "gamma(1/4)", ("Γ(1/4)",)),
    Constant(
        "bessel_i1_i0",
        "I₁(2)/I₀(2), the value of the continued fraction [0; 1, 2, 3, ...]",
        lambda: mpmath.besseli(1, 2) / mpmath.besseli(0, 2),
        "besseli(1, 2)/besseli(0, 2)",
        ("I1/I0",),
    ),
    Constant("tan1", "tan 1", lambda: mpmath.tan(1), "tan(1)", ("tan(1)",)),
    Constant("khinchin", "Khinchin's constant K₀", lambda: +mpmath.khinchin, "khinchin", ("K0",)),
    Constant("glaisher", "the Glaisher–Kinkelin constant A", lambda: +mpmath.glaisher, "glaisher", ("A",)),
    Constant("e_pi", "Gelfond's constant e^π", lambda: mpmath.e**mpmath.pi, "exp(pi)", ("gelfond",)),
    Constant("sqrt_pi", "√π", lambda: mpmath.sqrt(mpmath.pi), "sqrt(pi)", ("√π",)),
    Constant("ln_pi", "ln π", lambda: mpmath.log(mpmath.pi), "log(pi)", ("log(pi)",)),
    Constant("pi_sqrt3", "π√3", lambda: mpmath.pi * mpmath.sqrt(3), "pi*sqrt(3)", ()),
]

CATALOG: dict[str, Constant] = {c.name: c for c in _ENTRIES}
_ALIASES: dict[str, str] = {}
_EXACT: dict[str, str] = {}
for _c in _ENTRIES:
    for _alias in (_c.name, *_c.aliases):
        _EXACT[_alias] = _c.name
        _ALIASES[_alias] = _c.name
        _ALIASES[_alias.lower()] = _c.name

# Aliases kept for old scripts and databases, with what to use instead.
DEPRECATED_ALIASES = {
    "exp2": "the constant name 'exp2' is deprecated (it is also the program target 2^x); use 'e2' for e²",
}

# Names a closed form may use for constants sympy lacks, as sympy symbols.
SYMPY_LOCALS = {c.name: sympy.Symbol(c.name) for c in _ENTRIES if c.sympy_form == c.name and not hasattr(sympy, c.name)}


@lru_cache(maxsize=None)
def _sympy_form(name: str, text: str) -> sympy.Expr:
    if name in SYMPY_LOCALS:
        return SYMPY_LOCALS[name]
    from discovery.expressions import to_sympy  # the parser resolves catalog names through here

    return to_sympy(text)


def lookup(name: str) -> Constant | None:
    """The catalog entry for a canonical name or alias spelled exactly (case counts), or None.

    This is how expressions resolve names: ``G`` is Catalan's constant there, ``g`` is not.
    """
    if name in DEPRECATED_ALIASES:
        warnings.warn(DEPRECATED_ALIASES[name], DeprecationWarning, stacklevel=2)
    key = _EXACT.get(name)
    return None if key is None else CATALOG[key]


@lru_cache(maxsize=4096)
def _cached_value(name: str, dps: int) -> mpmath.mpf:
    with mpmath.workdps(dps + 10):
        return +CATALOG[name].mp()


def get(name: str) -> Constant:
    """The catalog entry for a canonical name or alias.

    Raises
    ------
    ValueError
        For an unknown name, listing close matches.
    """
    if isinstance(name, Constant):
        return name
    if name in DEPRECATED_ALIASES:
        warnings.warn(DEPRECATED_ALIASES[name], DeprecationWarning, stacklevel=2)
    key = _ALIASES.get(name, _ALIASES.get(str(name).lower()))
    if key is None:
        close = difflib.get_close_matches(str(name), list(_ALIASES), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(sorted({_ALIASES[c] for c in close}))}?" if close else ""
        raise ValueError(f"unknown constant {name!r}{hint} (known: {', '.join(CATALOG)})")
    return CATALOG[key]


def resolve(names: Iterable[str] | None) -> list[Constant]:
    """Catalog entries for a list of names (all of them for None), without repeats."""
    if names is None:
        return list(_ENTRIES)
    out: list[Constant] = []
    for name in names:
        c = get(name)
        if c not in out:
            out.append(c)
    if not out:
        raise ValueError("no constants given")
    return out
