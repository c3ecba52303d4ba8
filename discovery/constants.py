"""The catalog of named constants: mpmath definitions, sympy forms, aliases and descriptions.

Canonical names are lowercase identifiers (``pi``, ``e``, ``ln2``, ``zeta3``, ``catalan``,
``gauss``, ``lemniscate``, ``gompertz``, ``phi``, ``sqrt2``, ...).  Each constant has a sympy form:
sympy's own constant where sympy has one (``pi``, ``E``, ``log(2)``, ``zeta(3)``, ``Catalan``,
``EulerGamma``), otherwise a symbol named after the catalog entry (``gauss``, ``lemniscate``,
``gompertz``, ``khinchin``, ``glaisher``, ...), so closed forms parse with ``sympy.sympify`` and
with :func:`to_sympy` here, the package's own parser (:mod:`discovery.expressions`) given the
catalog's names: :func:`parse` is how the rest of the package reads text that may name constants.

Users' catalog files add constants after the built-in ones (:func:`load_catalog`): the files are
read and their tables checked by :mod:`discovery.catalogs`, and evaluated and registered here.

The alias ``exp2`` of e² is deprecated: ``exp2`` is also the program target 2^x.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import mpmath
import sympy

from discovery import expressions
from discovery.catalogs import CatalogEntry, catalog_entry, catalog_tables, read_toml
from discovery.errors import InputError


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
    value_digest : str
        For a user's constant, a digest of its value ("" for a built-in one); see :attr:`key`.
    definition : str
        For a user's constant, its ``value`` text (what a database keeps to read it back).
    """

    name: str
    description: str
    mp: Callable[[], mpmath.mpf]
    sympy_form: str
    aliases: tuple[str, ...] = ()
    value_digest: str = ""
    definition: str = ""

    @property
    def key(self) -> str:
        """What the database stores for this constant: the name of a built-in constant, and
        ``name@digest`` for a user's, so two catalogs giving one name different values never
        share identifications (the digest is of the value, not of the file or its text)."""
        return f"{self.name}@{self.value_digest}" if self.value_digest else self.name

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

_CORE_COUNT = len(_ENTRIES)  # the entries above: screened first, and the default of the Möbius table


def _defined(text: str) -> Callable[[], mpmath.mpf]:
    """An mpmath definition read by the package's whitelisting parser (never evaluated as code)."""

    def value():
        return parse(text).value(mpmath.mp.dps)

    return value


# The wider catalog, tried after the core: (name, description, mpmath definition, sympy form or
# None for a symbol of the name).  Sources: DLMF §5.4 (Γ at rational points), §25.11 and §25.15
# (Hurwitz zeta, ψ′ and Dirichlet L-values), §25.12 (polylogarithms at 1/2), Lewin, "Polylogarithms
# and associated functions" (Clausen values; the Gieseking constant is Cl₂(π/3)).
_WIDER = [
    ("zeta4", "ζ(4) = π⁴/90", "zeta(4)", "zeta(4)"),
    ("zeta6", "ζ(6) = π⁶/945", "zeta(6)", "zeta(6)"),
    ("zeta9", "ζ(9)", "zeta(9)", "zeta(9)"),
    ("zeta_half", "ζ(1/2)", "zeta(1/2)", "zeta(1/2)"),
    ("zeta_3_2", "ζ(3/2)", "zeta(3/2)", "zeta(3/2)"),
    ("pi3", "π³", "pi^3", "pi**3"),
    ("pi4", "π⁴", "pi^4", "pi**4"),
    ("pi5", "π⁵", "pi^5", "pi**5"),
    ("pi_sqrt2", "π√2", "pi*sqrt(2)", "pi*sqrt(2)"),
    ("pi3_sqrt3", "π³√3", "pi^3*sqrt(3)", "pi**3*sqrt(3)"),
    ("pi_ln2", "π ln 2", "pi*log(2)", "pi*log(2)"),
    ("sqrt_2pi", "√(2π)", "sqrt(2*pi)", "sqrt(2*pi)"),
    ("pi_e", "π^e", "pi^e", "pi**E"),
    ("e3", "e³", "exp(3)", "exp(3)"),
    ("e4", "e⁴", "exp(4)", "exp(4)"),
    ("e5", "e⁵", "exp(5)", "exp(5)"),
    ("sqrt_e", "√e", "exp(1/2)", "exp(1/2)"),
    ("cbrt_e", "e^(1/3)", "exp(1/3)", "exp(1/3)"),
    ("e_pi_2", "e^(π/2)", "exp(pi/2)", "exp(pi/2)"),
    ("e_gamma", "e^γ", "exp(EulerGamma)", "exp(EulerGamma)"),
    ("two_sqrt2", "2^√2, the Gelfond–Schneider constant", "2^sqrt(2)", "2**sqrt(2)"),
    ("ln5", "ln 5", "log(5)", "log(5)"),
    ("ln6", "ln 6", "log(6)", "log(6)"),
    ("ln7", "ln 7", "log(7)", "log(7)"),
    ("ln_3_2", "ln(3/2)", "log(3/2)", "log(3/2)"),
    ("ln_5_4", "ln(5/4)", "log(5/4)", "log(5/4)"),
    ("ln_phi", "ln φ", "log(GoldenRatio)", "log(GoldenRatio)"),
    ("ln_2_sqrt3", "ln(2 + √3)", "log(2 + sqrt(3))", "log(2 + sqrt(3))"),
    ("ln_ln2", "ln ln 2", "log(log(2))", "log(log(2))"),
    ("ln2_sq", "(ln 2)²", "log(2)^2", "log(2)**2"),
    ("sqrt6", "√6", "sqrt(6)", "sqrt(6)"),
    ("sqrt7", "√7", "sqrt(7)", "sqrt(7)"),
    ("sqrt10", "√10", "sqrt(10)", "sqrt(10)"),
    ("cbrt3", "∛3", "cbrt(3)", "3**(1/3)"),
    ("cbrt5", "∛5", "cbrt(5)", "5**(1/3)"),
    ("root4_2", "2^(1/4)", "root(2, 4)", "2**(1/4)"),
    ("plastic", "the plastic number, the real root of x³ = x + 1",
     "cbrt((9 + sqrt(69))/18) + cbrt((9 - sqrt(69))/18)", "cbrt((9 + sqrt(69))/18) + cbrt((9 - sqrt(69))/18)"),
    ("tribonacci", "the tribonacci constant, the real root of x³ = x² + x + 1",
     "(1 + cbrt(19 + 3*sqrt(33)) + cbrt(19 - 3*sqrt(33)))/3",
     "(1 + cbrt(19 + 3*sqrt(33)) + cbrt(19 - 3*sqrt(33)))/3"),
    ("chi3_l2", "L(2, χ₋₃) = (ψ′(1/3) − ψ′(2/3))/9", "(psi(1, 1/3) - psi(1, 2/3))/9",
     "(polygamma(1, 1/3) - polygamma(1, 2/3))/9"),
    ("chi3_l4", "L(4, χ₋₃)", "(psi(3, 1/3) - psi(3, 2/3))/486", "(polygamma(3, 1/3) - polygamma(3, 2/3))/486"),
    ("beta4", "Dirichlet β(4) = L(4, χ₋₄)", "(psi(3, 1/4) - psi(3, 3/4))/1536",
     "(polygamma(3, 1/4) - polygamma(3, 3/4))/1536"),
    ("chi8_l2", "L(2, χ₋₈)", "(psi(1, 1/8) + psi(1, 3/8) - psi(1, 5/8) - psi(1, 7/8))/64",
     "(polygamma(1, 1/8) + polygamma(1, 3/8) - polygamma(1, 5/8) - polygamma(1, 7/8))/64"),
    ("gieseking", "the Gieseking constant Cl₂(π/3) = (3√3/4) L(2, χ₋₃)", "clsin(2, pi/3)", None),
    ("clausen_pi_4", "Cl₂(π/4)", "clsin(2, pi/4)", None),
    ("clausen_pi_6", "Cl₂(π/6)", "clsin(2, pi/6)", None),
    ("psi1_1_3", "ψ′(1/3)", "psi(1, 1/3)", "polygamma(1, 1/3)"),
    ("psi1_1_4", "ψ′(1/4) = π² + 8G", "psi(1, 1/4)", "polygamma(1, 1/4)"),
    ("psi1_1_5", "ψ′(1/5)", "psi(1, 1/5)", "polygamma(1, 1/5)"),
    ("psi1_1_6", "ψ′(1/6)", "psi(1, 1/6)", "polygamma(1, 1/6)"),
    ("psi1_1_8", "ψ′(1/8)", "psi(1, 1/8)", "polygamma(1, 1/8)"),
    ("gamma_1_3", "Γ(1/3)", "gamma(1/3)", "gamma(1/3)"),
    ("gamma_1_5", "Γ(1/5)", "gamma(1/5)", "gamma(1/5)"),
    ("gamma_2_5", "Γ(2/5)", "gamma(2/5)", "gamma(2/5)"),
    ("gamma_1_6", "Γ(1/6)", "gamma(1/6)", "gamma(1/6)"),
    ("gamma_1_8", "Γ(1/8)", "gamma(1/8)", "gamma(1/8)"),
    ("gamma_3_4", "Γ(3/4)", "gamma(3/4)", "gamma(3/4)"),
    ("li2_1_2", "Li₂(1/2) = π²/12 − (ln 2)²/2", "polylog(2, 1/2)", "polylog(2, 1/2)"),
    ("li3_1_2", "Li₃(1/2)", "polylog(3, 1/2)", "polylog(3, 1/2)"),
    ("li4_1_2", "Li₄(1/2)", "polylog(4, 1/2)", "polylog(4, 1/2)"),
    ("li2_1_3", "Li₂(1/3)", "polylog(2, 1/3)", "polylog(2, 1/3)"),
    ("omega", "the omega constant W(1)", "lambertw(1)", "lambertw(1)"),
    ("erf1", "erf 1", "erf(1)", "erf(1)"),
    ("sin1", "sin 1", "sin(1)", "sin(1)"),
    ("cos1", "cos 1", "cos(1)", "cos(1)"),
    ("atan_1_2", "arctan(1/2)", "atan(1/2)", "atan(1/2)"),
    ("bessel_i0_2", "I₀(2)", "besseli(0, 2)", "besseli(0, 2)"),
    ("bessel_i1_2", "I₁(2)", "besseli(1, 2)", "besseli(1, 2)"),
    ("bessel_i1_i0_1", "I₁(1)/I₀(1)", "besseli(1, 1)/besseli(0, 1)", "besseli(1, 1)/besseli(0, 1)"),
    ("bessel_j1_j0", "J₁(2)/J₀(2)", "besselj(1, 2)/besselj(0, 2)", "besselj(1, 2)/besselj(0, 2)"),
    ("bessel_j0_1", "J₀(1)", "besselj(0, 1)", "besselj(0, 1)"),
    ("bessel_k0_1", "K₀(1)", "besselk(0, 1)", "besselk(0, 1)"),
]
_ENTRIES += [Constant(name, desc, _defined(text), form or name) for name, desc, text, form in _WIDER]

# Constants tried two at a time, and the factors of the products tried: a few that published
# formulas combine (ζ(5) with ζ(3), ζ(4) with ζ(2), ϖ² with π, πG², π³√3).
PAIR_CONSTANTS = ("pi", "pi2", "pi3", "pi4", "zeta3", "zeta5", "zeta7", "e", "ln2", "ln3", "ln2_sq", "catalan",
                  "euler_gamma", "sqrt2", "sqrt3", "lemniscate", "chi3_l2", "pi_ln2", "pi_sqrt3", "gompertz")
PRODUCT_CONSTANTS = ("pi", "e", "ln2", "zeta3", "zeta5", "catalan", "lemniscate", "gamma_1_4", "gamma_1_3", "sqrt2",
                     "sqrt3", "euler_gamma")

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
_USER: list[Constant] = []


@lru_cache(maxsize=None)
def _sympy_form(name: str, text: str) -> sympy.Expr:
    if name in SYMPY_LOCALS:
        return SYMPY_LOCALS[name]
    return to_sympy(text)


def parse(text: str, variables: Sequence[str] = ()) -> expressions.Expression:
    """:func:`discovery.expressions.parse` resolving the catalog's names and aliases (the user's
    catalogs included): how the package reads text that may name a constant."""
    return expressions.parse(text, variables, names=lookup)


def to_sympy(text: str, variables: Sequence[str] = ()) -> sympy.Expr:
    """The sympy form of text read by :func:`parse`; variables become symbols of the same names."""
    return parse(text, variables).sympy()


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
    """Catalog entries for a list of names (the core catalog for None), without repeats."""
    if names is None:
        return core()
    out: list[Constant] = []
    for name in names:
        c = get(name)
        if c not in out:
            out.append(c)
    if not out:
        raise ValueError("no constants given")
    return out


def core() -> list[Constant]:
    """The core catalog: the constants screened first and tabulated for meet-in-the-middle."""
    return list(_ENTRIES[:_CORE_COUNT])


def extended() -> list[Constant]:
    """Every other entry: the wider catalog, then the user's constants in the order loaded."""
    return list(_ENTRIES[_CORE_COUNT:]) + list(_USER)


@dataclass(frozen=True)
class Product:
    """A product of powers of catalog constants (ϖ²/π, π³√3), usable wherever a constant is.

    Attributes
    ----------
    factors : tuple of (Constant, int)
        The constants and their (non-zero) exponents.
    """

    factors: tuple[tuple[Constant, int], ...]

    @property
    def name(self) -> str:
        """``pi^3*sqrt3``, ``lemniscate^2*pi^-1``."""
        return "*".join(c.name if e == 1 else f"{c.name}^{e}" for c, e in self.factors)

    def value(self, dps: int) -> mpmath.mpf:
        """The value to ``dps`` digits."""
        with mpmath.workdps(dps + 10):
            return mpmath.fprod(c.value(dps + 10) ** e for c, e in self.factors)

    def sympy(self) -> sympy.Expr:
        """The product as a sympy expression."""
        return sympy.Mul(*[c.sympy() ** e for c, e in self.factors])


_PRODUCT_EXPONENTS = (-3, -2, -1, 1, 2, 3)


def _algebraic(c: Constant) -> bool:
    return bool(c.sympy().is_algebraic)


def products(constants: Iterable[Constant]) -> list[Product]:
    """Squares and cubes of the constants, then x^i y^j for each pair, |i|, |j| <= 3.

    An inverse is left out (a Möbius relation in 1/z is one in z), so of (i, j) and (−i, −j) only
    the one with i > 0 is listed; so are powers and products of algebraic constants alone (√2³,
    √2·√3), algebraic of low degree and left to the other stages.
    """
    consts = list(constants)
    out = [Product(((c, e),)) for e in (2, 3) for c in consts if not _algebraic(c)]
    for x, y in itertools.combinations(consts, 2):
        if _algebraic(x) and _algebraic(y):
            continue  # an algebraic number of low degree, or a rational (√2² = 2)
        for i in (1, 2, 3):
            for j in _PRODUCT_EXPONENTS:
                out.append(Product(((x, i), (y, j))))
    return out


# A user's sympy form must agree with its value to this many digits.
_FORM_CHECK_DIGITS = 30


def _value_digest(expression) -> str:
    """A digest of a constant's value (40 digits): the same number, however written, gets the same."""
    text = mpmath.nstr(expression.value(50), 40, min_fixed=-1, max_fixed=-1)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def load_catalog(path) -> list[Constant]:
    """Add the constants of a TOML catalog file to the catalog (after every built-in one).

    The file holds ``[[constant]]`` tables with ``name`` (an identifier), ``value`` (an expression
    for :func:`discovery.expressions.parse`: catalog names, ``pi``, ``zeta(3)``, ``gamma(1/3)``,
    ``clsin(2, pi/3)`` ...), and optionally ``description``, ``aliases`` (a list of names) and
    ``sympy`` (the closed form to report, parsed the same way and checked to agree with ``value``
    to 30 digits; default: the value's own sympy form, or a symbol of the name when it has none)::

        [[constant]]
        name = "zeta3_over_pi2"
        value = "zeta(3)/pi^2"
        description = "ζ(3)/π²"

    A name sympy reads as something else (``I``, ``E``, ``S``, ``N``, ``pi``, ``oo``, ``gamma``,
    ... : anything in the ``sympy`` namespace) or a function of the expression parser is refused,
    so closed forms read back as written.  Each constant gets a :attr:`Constant.key` from its
    name and its value, which is what the database stores.  Loading the same file twice is
    harmless; a name already taken by a different definition is refused.  The file is read by
    :func:`read_toml` and holds at most :data:`~discovery.catalogs.MAX_CATALOG_CONSTANTS` constants (each is
    evaluated on load).

    Returns
    -------
    list of Constant
        The constants of the file.

    Raises
    ------
    discovery.errors.InputError
        For a missing or unreadable file, bad TOML, an unknown key, a bad or reserved name, a
        definition that does not parse or evaluate to a finite real number, or a sympy form that
        disagrees with the value; the message names the file and the entry.
    """

    path = Path(path)
    tables = catalog_tables(read_toml(path, "catalog file"), path)
    loaded = [_user_constant(catalog_entry(table, i, path)) for i, table in enumerate(tables, 1)]
    for c in loaded:
        _register(c, path)
    return loaded


def _user_constant(entry: CatalogEntry) -> Constant:
    """A catalog file's checked entry evaluated: its value, the value's digest, and its sympy form
    (refused unless it agrees with the value)."""
    name, text, where = entry.name, entry.value, entry.where
    try:
        expression = parse(text)
        value = expression.value(_FORM_CHECK_DIGITS + 10)
        digest = _value_digest(expression)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None
    form = entry.sympy
    if form is None:
        try:
            expression.sympy()
            form = text
        except InputError:
            form = name
    elif not isinstance(form, str):
        raise InputError(f"{where}: sympy must be an expression in quotes, got {form!r}")
    elif form.strip() != name:
        _check_form(form, value, where)
    return Constant(name, entry.description, _defined(text), form.strip(), entry.aliases, digest, text)


def _check_form(form: str, value: mpmath.mpf, where: str) -> None:
    """Refuse a sympy form that is not the value (a closed form in it would be wrong)."""
    try:
        parsed = parse(form)
        parsed.sympy()
        other = parsed.value(_FORM_CHECK_DIGITS + 10)
    except InputError as err:
        raise InputError(f"{where}: sympy: {err}") from None
    with mpmath.workdps(_FORM_CHECK_DIGITS + 10):
        close = abs(other - value) <= mpmath.mpf(10) ** -_FORM_CHECK_DIGITS * max(1, abs(value))
    if not close:
        raise InputError(f"{where}: sympy {form!r} is {mpmath.nstr(other, 15)}, not the value "
                         f"{mpmath.nstr(value, 15)}; give the value's closed form or leave sympy out")


def stored_definition(const: Constant) -> dict:
    """What a database keeps of a user's constant so another process can read its
    identifications back (see :func:`register_stored`)."""
    return {"key": const.key, "name": const.name, "value": const.definition, "sympy": const.sympy_form,
            "description": const.description}


def register_stored(definitions: Iterable[dict]) -> None:
    """Make the user constants other campaigns stored resolvable by their keys, so their
    identifications (met by this campaign too) are re-identified with their own values (families
    do), never with a constant of the same name loaded here.

    Each is registered under its key as its name (``myk@02d1e25b65``) and is never screened: only
    a campaign's own catalog is.  Definitions that do not parse, or whose value no longer gives
    their key, are skipped: their identifications then resolve nowhere, as before they were kept.
    """
    for d in definitions:
        key, name, text = d.get("key"), d.get("name"), d.get("value")
        if not all(isinstance(v, str) for v in (key, name, text)) or key in _EXACT:
            continue
        try:
            if f"{name}@{_value_digest(parse(text))}" != key:
                continue
        except InputError:
            continue
        form = d.get("sympy") if isinstance(d.get("sympy"), str) else name
        CATALOG[key] = Constant(key, str(d.get("description", text)), _defined(text), form, (), "", text)
        _EXACT[key] = _ALIASES[key] = key
        if form == name:
            # Its closed forms show the name it was given, not a constant of that name loaded here.
            SYMPY_LOCALS[key] = sympy.Symbol(name)


def _register(const: Constant, path) -> None:

    old = CATALOG.get(const.name)
    if old is not None:
        if old.key == const.key and old.sympy_form == const.sympy_form and old.description == const.description:
            return
        raise InputError(f"{path}: constant {const.name!r} is already in the catalog ({old.description})")
    for alias in (const.name, *const.aliases):
        if alias in _EXACT:
            raise InputError(f"{path}: name {alias!r} of {const.name!r} is already taken by {_EXACT[alias]!r}")
    CATALOG[const.name] = const
    _USER.append(const)
    for alias in (const.name, const.key, *const.aliases):
        _EXACT[alias] = const.name
        _ALIASES[alias] = const.name
        _ALIASES.setdefault(alias.lower(), const.name)
    if const.sympy_form == const.name:
        SYMPY_LOCALS[const.name] = sympy.Symbol(const.name)
