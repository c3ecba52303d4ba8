"""Integer-relation identification of limits, screened by LLL and confirmed at double precision.

A Möbius relation L = (c₀ + c₁x)/(c₂ + c₃x) with a catalog constant x is an integer relation among
[1, x, L, xL]; more constants or a higher degree extend the vector with their monomials.  A
candidate relation is

1. **screened** with LLL (python-flint) on ``digits`` digits of every entry;
2. **gated** by its return on investment: digits of agreement ÷ digits spent on coefficients must
   be at least :data:`MIN_ROI` (spurious relations among random numbers sit near 0.85, true ones
   far above 2); screening stops at the first relation whose return reaches
   :data:`DECISIVE_ROI`, in catalog order;
3. **confirmed** against a value known to at least twice as many digits: the relation must hold
   to ``2 * digits`` digits.  A relation that fails confirmation is never reported.

``digits_verified`` is the number of digits to which the confirmed relation holds, never more than
the value is known to.

**Escalation.**  By default the search escalates, stopping at the first confirmed relation and
within ``budget_seconds``: rational → Möbius in one constant of the core catalog → quadratic
irrational (these three whatever the budget) → Möbius in one constant of the rest of the catalog
→ degree 2 in one constant (on request) → two constants at once, linear and
Möbius (:data:`discovery.constants.PAIR_CONSTANTS`) → Möbius in products and powers of catalog
constants (ϖ²/π, π³√3, πG², :data:`discovery.constants.PRODUCT_CONSTANTS`).

**Digits available.**  A value known to fewer digits (a slowly converging fraction) is screened on
a third of them and must be confirmed on all the rest; ``digits_verified`` then says how few they
were.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import flint
import mpmath
import numpy as np
import sympy

from discovery import constants as catalog
from discovery.errors import InputError
from discovery.pcf.exact import LimitEstimate
from discovery.pcf.formula import PCF
from discovery.pcf.kernels import traces

MIN_ROI = 2.0
DECISIVE_ROI = 8.0
DEFAULT_BUDGET = 5.0  # seconds per value for the escalation
REPRESENTATIVE_BUDGET = 0.25  # seconds per campaign cluster representative
ESCALATION_SECONDS = 0.5  # seconds of escalation per campaign (then the plain screen)
MIN_KNOWN = 20  # digits a value must be known to before anything is claimed about it
_MIN_SCREEN = 8
_ALWAYS = 2  # the stages up to this index run whatever the budget
_SCREEN_MARGIN = 5  # guard digits when the value is computed for screening
_L = sympy.Symbol("L")
# Digits before the point of any number made an integer for LLL.  Past it the integers grow with the
# number itself: LLL on millions of digits runs for hours, and at about 10^16 digits GMP aborts the
# whole process ("overflow in mpz type"), so nothing could even report the failure.
MAX_MAGNITUDE = 10_000


class _TooLarge(InputError):
    """A number beyond :data:`MAX_MAGNITUDE` digits before the point."""


@dataclass(frozen=True)
class Identification:
    """A confirmed closed form of a number.

    Attributes
    ----------
    constant : str or None
        Catalog name of the constant in the relation (names joined by ``,`` for several), None
        for a rational or quadratic-irrational value.
    kind : str
        ``rational``, ``quadratic``, ``mobius``, ``polynomial`` (degree 2 in one constant),
        ``pair`` (Möbius-like in two constants) or ``product`` (Möbius in a product of powers of
        constants, named like ``lemniscate^2*pi^-1``).
    basis : tuple of str
        The monomials the relation is over, L standing for the value.
    relation : tuple of int
        Integer coefficients of the basis summing to zero.
    closed_form : str
        The value as a sympy-parsable formula (``str(expr)``).
    expr : sympy.Expr
        The same, in sympy's constants where sympy has them (catalog symbols otherwise).
    digits_verified : float
        Digits to which the relation was confirmed (inf for an exact rational).
    roi : float
        Return on investment at screening.
    depth : int or None
        For a PCF, the depth of the convergent used for confirmation.
    """

    constant: str | None
    kind: str
    basis: tuple[str, ...]
    relation: tuple[int, ...]
    expr: sympy.Expr
    digits_verified: float
    roi: float
    depth: int | None = None

    @property
    def closed_form(self) -> str:
        """The value as a sympy-parsable formula."""
        return str(self.expr)


def _scaled(value: mpmath.mpf, digits: int) -> int:
    """round(value * 10**digits) as a Python int, refused (``_TooLarge``) past :data:`MAX_MAGNITUDE`."""
    if mpmath.isfinite(value) and value != 0 and mpmath.mag(value) > MAX_MAGNITUDE / math.log10(2):
        size = mpmath.mag(value) * math.log10(2)
        shown = f"{int(size):,}" if size < 1e15 else f"{size:.3g}"
        raise _TooLarge(f"a number of about 10^{shown} refused: LLL takes numbers of at most {MAX_MAGNITUDE:,} "
                        "digits before the point")
    with mpmath.workdps(digits + 20):
        return int(mpmath.nint(value * mpmath.mpf(10) ** digits))


@lru_cache(maxsize=8192)
def _scaled_constant(const, digits: int) -> int:
    return _scaled(const.value(digits + 10), digits)


def _lll(ints: Sequence[int]) -> tuple[list[int], int]:
    """The first LLL-reduced row of the relation lattice: coefficients and scaled residual."""
    k = len(ints)
    rows = [[1 if i == j else 0 for j in range(k)] + [ints[i]] for i in range(k)]
    reduced = flint.fmpz_mat(rows).lll()
    return [int(reduced[0, j]) for j in range(k)], int(reduced[0, k])


def _screen_roi(ints: Sequence[int], relation: Sequence[int], residual: int, digits: int) -> float:
    """Digits of agreement (at most ``digits``) per digit spent on the coefficients."""
    scale = max(abs(c * v) for c, v in zip(relation, ints) if c)
    if scale == 0:
        return 0.0
    agreement = math.log10(scale) - math.log10(max(abs(residual), 1))
    return min(agreement, digits) / max(_spent(relation), 1e-9)


def find_relation(values: Sequence[mpmath.mpf], digits: int) -> list[int] | None:
    """An integer relation among ``values`` by LLL on their first ``digits`` digits.

    Returns the first vector of the LLL-reduced lattice (the best candidate; whether it is a
    relation is for the caller to judge), or None when that vector is zero.
    """
    relation, _ = _lll([_scaled(v, digits) for v in values])
    return relation if any(relation) else None


def _agreement(values: Sequence[mpmath.mpf], relation: Sequence[int]) -> float:
    """Digits to which sum(c_i v_i) vanishes, relative to the size of its terms."""
    terms = [c * v for c, v in zip(relation, values) if c]
    scale = max(abs(t) for t in terms)
    residual = abs(mpmath.fsum(terms))
    if residual == 0:
        return math.inf
    return float(-mpmath.log10(residual / scale))


def _spent(relation: Sequence[int]) -> float:
    return sum(math.log10(1 + abs(c)) for c in relation)


@dataclass(frozen=True)
class _Basis:
    """Monomials in constants; the relation is over [monomials..., monomials... times L]."""

    constants: tuple[catalog.Constant, ...]
    exponents: tuple[tuple[int, ...], ...]
    kind: str

    def values(self, dps: int, value: mpmath.mpf) -> list[mpmath.mpf]:
        xs = [c.value(dps) for c in self.constants]
        monos = [mpmath.fprod(x**e for x, e in zip(xs, exps)) for exps in self.exponents]
        return monos + [m * value for m in monos]

    def scaled(self, digits: int, value_int: int) -> list[int]:
        """The basis values as integers scaled by 10**digits, from the scaled value."""
        unit = 10**digits
        xs = [_scaled_constant(c, digits) for c in self.constants]
        monos = []
        for exps in self.exponents:
            m = unit
            for x, e in zip(xs, exps):
                for _ in range(e):
                    m = m * x // unit
            monos.append(m)
        return monos + [m * value_int // unit for m in monos]

    def names(self) -> tuple[str, ...]:
        monos = []
        for exps in self.exponents:
            parts = [c.name if e == 1 else f"{c.name}^{e}" for c, e in zip(self.constants, exps) if e]
            monos.append("*".join(parts) or "1")
        return tuple(monos) + tuple("L" if m == "1" else f"{m}*L" for m in monos)

    def closed_form(self, relation: Sequence[int]) -> sympy.Expr:
        xs = [c.sympy() for c in self.constants]
        monos = [sympy.Mul(*[x**e for x, e in zip(xs, exps)]) for exps in self.exponents]
        k = len(monos)
        top, bottom = [-c for c in relation[:k]], list(relation[k:])
        # Show L = top/bottom with the highest-degree denominator term positive.
        if next(c for c in reversed(bottom) if c) < 0:
            top, bottom = [-c for c in top], [-c for c in bottom]
        num = sympy.Add(*[c * m for c, m in zip(top, monos)])
        den = sympy.Add(*[c * m for c, m in zip(bottom, monos)])
        return num / den


def _monomials(count: int, degree: int) -> tuple[tuple[int, ...], ...]:
    return tuple(
        exps
        for total in range(degree + 1)
        for exps in itertools.product(range(total + 1), repeat=count)
        if sum(exps) == total
    )


HASH_BOUND = 10  # |c| of the Möbius transforms a hashed stage looks up
HASH_FROM = 300  # constants in a stage from which hashing beats one LLL each (measured, bench_identify)
_HASH_RTOL = 1e-11


class _HashedMobius:
    """Möbius relations in one of many constants, found by hashing instead of one LLL per constant.

    A relation c₀ + c₁x + c₂L + c₃xL = 0 says x = (c₂L + c₀)/(−c₃L − c₁): a Möbius transform of
    L.  Every transform with |cᵢ| <= :data:`HASH_BOUND` (about 10⁵ of them) is computed in
    float64 at once and looked up in the sorted values of the constants; only the constants hit
    get an LLL screen.  The cost is that of the transforms plus a binary search each, so it
    hardly grows with the number of constants (a user catalog of thousands, 1,190 products),
    where one LLL per constant would grow linearly.  Relations with larger coefficients in these
    constants are out of its reach (the core catalog is screened by LLL, without that limit).
    """

    def __init__(self, consts, bound: int = HASH_BOUND):
        self.consts = list(consts)
        values = np.array([float(c.value(20)) for c in self.consts])
        order = np.argsort(values, kind="stable")
        self.values, self.index = values[order], order
        r = np.arange(-bound, bound + 1, dtype=np.float64)
        num0, num1 = np.meshgrid(r, r, indexing="ij")
        self.num = np.stack([num0.ravel(), num1.ravel()])  # c0 + c2 L: (c0, c2)
        den = self.num[:, (self.num[1] > 0) | ((self.num[1] == 0) & (self.num[0] > 0))]
        self.den = den  # -(c1 + c3 L) up to sign: one of ±(c1, c3)

    def bases(self, L: float) -> list[_Basis]:
        num = self.num[0] + self.num[1] * L
        den = self.den[0] + self.den[1] * L
        den = den[den != 0]
        t = (num[:, None] / den[None, :]).ravel()
        t = t[np.isfinite(t)]
        pos = np.clip(np.searchsorted(self.values, t), 1, len(self.values) - 1)
        hit = set()
        for side in (pos - 1, pos):
            close = np.abs(self.values[side] - t) <= _HASH_RTOL * np.maximum(np.abs(t), 1e-300)
            hit.update(self.index[side[close]].tolist())
        return _mobius(self.consts[i] for i in sorted(hit))


@lru_cache(maxsize=16)
def _hashed(consts: tuple) -> _HashedMobius:
    return _HashedMobius(consts)


def _mobius(consts) -> list[_Basis]:
    return [_Basis((c,), _monomials(1, 1), "product" if isinstance(c, catalog.Product) else "mobius")
            for c in consts]


def _polynomial(consts, degree: int) -> list[_Basis]:
    return [_Basis((c,), _monomials(1, degree), "polynomial") for c in consts]


def _pairs(consts) -> list[_Basis]:
    return [_Basis((c1, c2), ((0, 0), (1, 0), (0, 1)), "pair") for c1, c2 in itertools.combinations(consts, 2)]


def _normalised(relation: list[int]) -> tuple[int, ...]:
    g = math.gcd(*relation)
    rel = [c // g for c in relation]
    lead = next(c for c in rel if c)
    return tuple(-c for c in rel) if lead < 0 else tuple(rel)


ValueSource = Callable[[int], mpmath.mpf]


def _source(value, precision: int | None) -> tuple[ValueSource, int]:
    """A function giving the value at a precision, and the digits it is known to."""
    if callable(value):
        if precision is None:
            raise ValueError("a callable value needs precision= (the digits it can deliver)")
        return value, int(precision)
    if isinstance(value, str):
        text = value.strip()
        try:
            with mpmath.workdps(len(text) + 10):
                exact = mpmath.mpf(text)
        except (ValueError, TypeError):
            raise ValueError(f"cannot read a number from {value!r}") from None
        digits = sum(ch.isdigit() for ch in text.split("e")[0].split("E")[0].lstrip("+-0."))
        known = int(precision) if precision is not None else max(digits, 1)
    elif isinstance(value, (mpmath.mpf, int, float)):
        # mpf() would round a given mpf to the current precision, which may be far below the value's.
        exact = value if isinstance(value, mpmath.mpf) else mpmath.mpf(value)
        known = int(precision) if precision is not None else mpmath.mp.dps
    else:
        raise ValueError(f"cannot identify a value of type {type(value).__name__}: {value!r}")
    if not mpmath.isfinite(exact):
        raise ValueError(f"cannot identify a non-finite value {value!r}")
    return (lambda dps: +exact), known


def _rational_expr(relation) -> sympy.Expr:
    c0, c1 = relation
    return sympy.Rational(-c0, c1)


def identify(
    value,
    constants: Sequence[str] | None = None,
    digits: int | None = None,
    precision: int | None = None,
    degree: int = 1,
    pairs: bool = False,
    escalate: bool = True,
    budget_seconds: float = DEFAULT_BUDGET,
) -> Identification | None:
    """Find and confirm a closed form of ``value``.

    Parameters
    ----------
    value : mpmath.mpf, str, or callable
        The number.  A string is known to as many digits as it has; an mpf to ``precision``
        digits (default: the current mpmath precision); a callable ``f(dps)`` returns the value
        at any precision up to ``precision``.
    constants : sequence of str, optional
        Catalog names to try (default: the core catalog, then the rest of it).
    digits : int, optional
        Digits used for screening.  Default: half of what the value is known to when that is at
        least 60 digits (confirmation then needs the other half), else a third (at least 8), the
        relation then having to hold on all the digits known.  Given explicitly, the value must be
        known to twice as many.
    precision : int, optional
        Digits the value is known to (see ``value``); at least :data:`MIN_KNOWN`.
    degree : int
        1 for Möbius relations; 2 also tries L = P(x)/Q(x) with P, Q of degree 2.
    pairs : bool
        Try two constants at once even when ``escalate`` is False.
    escalate : bool
        Go on to two constants at once and to products of constants when simpler relations fail.
    budget_seconds : float
        Time after which the escalation gives up (rational, Möbius in the core catalog and
        quadratic relations are always tried).

    Returns
    -------
    Identification or None
        None when no relation is confirmed.
    """
    source, known = _source(value, precision)
    if digits is None:
        if known < MIN_KNOWN:
            raise ValueError(f"need a value known to at least {MIN_KNOWN} digits, it is known to {known}")
        digits = _screen_digits(known)
    elif digits < 15:
        raise ValueError(f"need at least 15 screening digits, got {digits} (the value is known to {known})")
    elif known < 2 * digits:
        raise ValueError(
            f"confirming {digits} screening digits needs the value to {2 * digits} digits; it is known to {known}"
        )
    if degree not in (1, 2):
        raise ValueError(f"degree must be 1 or 2, got {degree!r}")
    stages = _stages(constants, degree, pairs or escalate, escalate)
    return _identify(source, known, digits, stages, budget_seconds, depth=None)


def _screen_digits(known: int) -> int:
    """Screening digits for a value known to ``known`` digits: a half, or a third when few."""
    return known // 2 if known >= 60 else max(_MIN_SCREEN, known // 3)


def _stages(constants, degree: int, pairs: bool, products: bool) -> list:
    """The escalation: a list of stage names and bases ("rational"/"quadratic" stand alone)."""
    key = None if constants is None else tuple(constants)
    return _cached_stages(key, degree, pairs, products, len(catalog.extended()))


@lru_cache(maxsize=64)
def _cached_stages(constants, degree: int, pairs: bool, products: bool, wider_count: int) -> list:
    """:func:`_stages`, built once per request (``wider_count`` changes when a user catalog loads)."""
    if constants is None:
        mobius, wider = _mobius(catalog.core()), catalog.extended()
        pair_consts = catalog.resolve(catalog.PAIR_CONSTANTS)
        product_consts = catalog.resolve(catalog.PRODUCT_CONSTANTS)
    else:
        consts = catalog.resolve(constants)
        mobius, wider = _mobius(consts), []
        pair_consts = product_consts = consts
    stages = ["rational", mobius, "quadratic"]
    if wider:
        stages.append(_hashed(tuple(wider)) if len(wider) >= HASH_FROM else _mobius(wider))
    if degree >= 2:
        stages.append(_polynomial(catalog.resolve(constants) if constants else catalog.core(), degree))
    if pairs:
        stages.append(_pairs(pair_consts))
    if products:
        prods = catalog.products(product_consts)
        stages.append(_hashed(tuple(prods)) if len(prods) >= HASH_FROM else _mobius(prods))
    return stages


def _algebraic(source, L, digits, confirm, depth, powers):
    """A confirmed relation among [1, L, ..., L^powers] (rational or quadratic value), or None."""
    unit, Li = 10**digits, _scaled(L, digits)
    ints = [unit]
    for _ in range(powers):
        ints.append(ints[-1] * Li // unit)
    rel, residual = _lll(ints)
    if not rel[-1]:
        return None
    roi = _screen_roi(ints, rel, residual, digits)
    if roi < MIN_ROI:
        return None
    verified = confirm(lambda dps: [source(dps) ** p for p in range(powers + 1)], rel)
    if verified is None:
        return None
    rel = _normalised(rel)
    if powers == 1:
        expr = _rational_expr(rel)
    else:
        roots = sympy.solve(sum(c * _L**i for i, c in enumerate(rel)), _L)
        with mpmath.workdps(30):
            expr = min(roots, key=lambda r: abs(mpmath.mpf(str(sympy.N(r, 40))) - L))
    kind, basis = ("rational", ("1", "L")) if powers == 1 else ("quadratic", ("1", "L", "L^2"))
    return Identification(None, kind, basis, rel, expr, verified, roi, depth)


def _screen(bases, digits: int, Li: int, deadline: float) -> list:
    """Candidates (roi, basis, relation) of one stage, best return first."""
    # Candidates are confirmed best return on investment first, so of two related constants (phi
    # and sqrt5, cbrt2 and cbrt4) the simpler relation wins; a relation with an overwhelming
    # return is confirmed at once, as nothing related can beat it by much.
    candidates = []
    for basis in bases:
        if time.perf_counter() > deadline:
            break
        try:
            ints = basis.scaled(digits, Li)
        except _TooLarge:
            continue  # a (user catalog) constant too large for LLL cannot be in a relation it screens
        rel, residual = _lll(ints)
        k = len(rel) // 2
        if not any(rel[k:]) or not any(rel[1:k]) and not any(rel[k + 1:]):
            continue  # L absent, or only a rational relation
        if abs(sum(c * v for c, v in zip(rel[k:], ints[:k]))) < 10 ** (digits // 2):
            continue  # the denominator vanishes: a relation among the constants alone (√2² = 2)
        roi = _screen_roi(ints, rel, residual, digits)
        if roi >= MIN_ROI:
            candidates.append((roi, basis, rel))
            if roi >= DECISIVE_ROI:
                break
    candidates.sort(key=lambda c: -c[0])
    return candidates


def _identify(source, known, digits, stages, budget_seconds, depth):
    """Run the escalation ``stages`` on a value known to ``known`` digits, screening on ``digits``."""
    deadline = time.perf_counter() + budget_seconds
    with mpmath.workdps(digits + _SCREEN_MARGIN + 10):
        L = source(digits + _SCREEN_MARGIN)
    # Screening on half the digits leaves the other half to confirm; screening on fewer (a value
    # known to few digits) demands agreement on all but the last three of those known.
    need = 2 * digits - 1 if known >= 2 * digits else max(2 * digits - 1, known - 3)
    deep_dps = min(known, max(2 * digits + 20, need + 3))

    def confirm(values_at, relation):
        with mpmath.workdps(deep_dps + 10):
            got = _agreement(values_at(deep_dps), relation)
        got = min(got, known)
        return got if got >= need else None

    try:
        Li = _scaled(L, digits)
    except _TooLarge as err:
        raise InputError(f"cannot identify the value: {err}") from None
    for number, stage in enumerate(stages):
        # Rational, Möbius in the core catalog and quadratic always run; later stages within the budget.
        if number > _ALWAYS and time.perf_counter() > deadline:
            return None
        if isinstance(stage, str):
            found = _algebraic(source, L, digits, confirm, depth, powers=1 if stage == "rational" else 2)
            if found is not None:
                return found
            continue
        if isinstance(stage, _HashedMobius):
            with mpmath.workdps(30):
                stage = stage.bases(float(L))
        for roi, basis, rel in _screen(stage, digits, Li, math.inf if number <= _ALWAYS else deadline):
            verified = confirm(lambda dps, b=basis: b.values(dps, source(dps)), rel)
            if verified is None:
                continue
            rel = _normalised(rel)
            return Identification(
                ",".join(c.name for c in basis.constants),
                basis.kind,
                basis.names(),
                rel,
                basis.closed_form(rel),
                verified,
                roi,
                depth,
            )
    return None


EVALUATION_MEMORY = 2 * 2**30  # bytes of address space for evaluating an expression
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_EVALUATE = """
import sys
import mpmath
from discovery.errors import InputError
text, dps, catalog_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    if catalog_file:
        from discovery.constants import load_catalog
        load_catalog(catalog_file)
    from discovery.constants import parse
    v = parse(text).value(dps)
except InputError as err:
    print(err, file=sys.stderr)
    sys.exit(2)
sign, man, exp, _ = v._mpf_
print(hex(-man if sign else man), exp)
"""


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (EVALUATION_MEMORY, EVALUATION_MEMORY))


def evaluate_isolated(text: str, dps: int, seconds: float, catalog_file: str | None = None) -> mpmath.mpf:
    """The value of a constant expression to ``dps`` digits, computed in a child process.

    mpmath's special functions have no cost bound one could check beforehand: their time depends
    on the arguments and steeply on the precision (``clsin(2.5, 1)`` takes seconds at 130 digits
    and minutes at 1,000; ``besselk(1, 1)`` 1.5 s at 1,000 digits, 11 s at 2,000), and GMP aborts
    the whole process on an integer of about 10^16 digits.  A child with a time and a memory
    limit turns every such case into one refusal.

    Parameters
    ----------
    text : str
        The expression, for :func:`discovery.constants.parse`.
    dps : int
        Digits wanted.
    seconds : float
        Time limit of the evaluation.
    catalog_file : str, optional
        A user catalog (TOML) the expression may use the names of.

    Returns
    -------
    mpmath.mpf
        The value, exact to the child's working precision (``dps + 10`` digits).

    Raises
    ------
    InputError
        When the expression is refused, is not a finite real number, or its evaluation exceeds
        ``seconds`` or :data:`EVALUATION_MEMORY`, or fails.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-c", _EVALUATE, text, str(int(dps)), catalog_file or ""]
    shown = text if len(text) <= 60 else text[:57] + "..."
    try:
        # The text is one argv item of our own script, read by the whitelisting parser, never run.
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds, env=env,  # noqa: S603
                              preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        raise InputError(f"evaluating {shown!r} to {dps:,} digits took more than {seconds:g} s: refused "
                         "(fewer digits or a larger --budget may do)") from None
    lines = done.stderr.strip().splitlines()
    if done.returncode == 2 and lines:
        raise InputError(lines[-1])
    if done.returncode != 0:
        why = f"signal {-done.returncode}" if done.returncode < 0 else (lines[-1] if lines else f"status "
                                                                        f"{done.returncode}")
        if "MemoryError" in done.stderr:
            why = f"more than {EVALUATION_MEMORY / 2**30:g} GiB of memory"
        raise InputError(f"evaluating {shown!r} to {dps:,} digits failed: {why}")
    man, exp = done.stdout.split()
    with mpmath.workdps(dps + 10):
        return mpmath.mpf((int(man, 16), int(exp)))


def _fits_float_kernels(pcf: PCF) -> bool:
    """Whether the float kernels can take the PCF (coefficients within int64, values within float64)."""
    return all(abs(c) < 2**53 for c in pcf.a + pcf.b)


def depth_for_digits(pcf: PCF, digits: float, max_depth: int = 50_000) -> int | None:
    """A depth whose exact convergent has ``digits`` correct digits, or None within max_depth.

    The float log-domain traces give the distance between consecutive convergents on a geometric
    grid of depths in one cheap pass; the first grid depth that looks deep enough is then checked
    exactly, doubling while it falls short.  When the traces show that ``max_depth`` is far too
    shallow (a fraction converging like a power of n), None comes at once.  A PCF whose
    coefficients do not fit the float kernels is searched by exact doubling alone.
    """
    if not _fits_float_kernels(pcf):
        depth = 64
    else:
        grid = np.unique(np.geomspace(16, max_depth, 48).astype(np.int64))
        A, B = pcf.as_arrays()
        tr = traces(A, B, grid)
        with np.errstate(invalid="ignore"):
            size = np.where(np.isfinite(tr.log_p - tr.log_q), tr.log_p - tr.log_q, 0.0)
            est = (size - tr.log_diff[0]) / math.log(10)
        deep = np.nonzero(est[0] >= digits + 2)[0]
        if not deep.size and np.isfinite(est[0, -1]) and est[0, -1] < digits / 2:
            return None
        depth = int(grid[deep[0]]) if deep.size else max_depth
    while True:
        got = pcf.limit(depth, dps=20).digits
        if got >= digits:
            return depth
        if depth >= max_depth or (depth >= 1024 and got < digits / 4):
            return None
        depth = min(max_depth, 2 * depth)


def pcf_value(pcf: PCF, digits: float, max_depth: int = 50_000, deadline: float = math.inf,
              progress: bool = False):
    """The limit of a PCF to ``digits`` digits if it can be had, else as many as can be.

    Exact convergents at a depth chosen from the PCF's convergence rate first; for a fraction
    that converges too slowly for that, Richardson extrapolation of exact convergents
    (:func:`discovery.pcf.exact.accelerated_limit`) at depths growing fourfold from 1,000 up to
    ``max(max_depth, 200,000)`` while time (``deadline``, a ``time.perf_counter`` value) remains.
    With no time left at all, a fraction too slow for plain convergents gets no digits.

    Returns
    -------
    LimitEstimate
        Its ``digits`` are the ones it can stand behind (possibly fewer than asked).
    """
    from discovery.pcf.exact import accelerated_limit

    depth = depth_for_digits(pcf, digits, max_depth)
    if depth is not None:
        return pcf.limit(depth, dps=int(digits) + 10)
    if time.perf_counter() >= deadline:
        return LimitEstimate(mpmath.mpf("nan"), 0.0, 0)
    best = pcf.limit(min(max_depth, 1000))
    n = 1000
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        est = accelerated_limit(pcf.a, pcf.b, n, progress=progress)
        if est.digits > best.digits:
            best = est
        if best.digits >= digits or n >= max(max_depth, 200_000):
            break
        # A fourfold depth costs about five times as long: stop if it would overrun.
        if time.perf_counter() + 5 * (time.perf_counter() - started) > deadline:
            break
        n *= 4
    return best


def identify_pcf(
    pcf: PCF,
    constants: Sequence[str] | None = None,
    digits: int = 50,
    degree: int = 1,
    pairs: bool = False,
    max_depth: int = 50_000,
    escalate: bool = True,
    budget_seconds: float = DEFAULT_BUDGET,
    progress: bool = False,
) -> Identification | None:
    """Identify the limit of a PCF, confirmed with exact convergents.

    The limit is computed exactly (``p_n/q_n`` with gmpy2) at a depth chosen from the PCF's own
    convergence rate so that it has ``2 * digits`` correct digits, and then screened on ``digits``
    of them and confirmed on all.  A fraction converging too slowly for that is extrapolated
    (:func:`pcf_value`) and identified on the digits it reaches, if at least :data:`MIN_KNOWN`:
    screened on a third, confirmed on all; ``digits_verified`` then tells.  A finite fraction is an
    exact rational.  Coefficients may be integers of any size; a common scaling (a = c·a′,
    b = c²·b′, see :meth:`discovery.pcf.PCF.canonical`) is removed first and the result scaled back,
    so 10¹⁰⁰⁰·(2n+1), 10²⁰⁰⁰·n² is identified as 4·10¹⁰⁰⁰/π like 2n+1, n².

    Parameters
    ----------
    pcf : PCF
    constants, degree, pairs, escalate
        As for :func:`identify`.
    digits : int
        Screening digits when the fraction delivers twice as many.
    max_depth : int
        Deepest plain convergent tried; extrapolation may go deeper.
    budget_seconds : float
        Time for evaluating and identifying together.
    progress : bool
        A tqdm bar for long exact walks.

    Returns
    -------
    Identification or None
        None when the PCF does not converge to enough digits, or nothing is confirmed.
    """
    if not isinstance(pcf, PCF):
        raise ValueError(f"identify_pcf takes a PCF, got {pcf!r}")
    scale = pcf.canonical_factor()
    if scale != 1:
        # a -> c·a, b -> c²·b multiplies the limit by c: identify the smaller fraction, scale back.
        found = identify_pcf(pcf.canonical(), constants, digits, degree, pairs, max_depth, escalate, budget_seconds,
                             progress)
        return None if found is None else _rescaled(found, scale)
    from discovery.pcf.exact import exact_limit, first_zero

    started = time.perf_counter()
    stop = first_zero(pcf.b, max_depth)
    if stop is not None:
        q = exact_limit(pcf.a, pcf.b, max_depth)
        if q is None:
            return None
        expr = sympy.Rational(int(q.numerator), int(q.denominator))
        rel = (-int(q.numerator), int(q.denominator))
        return Identification(None, "rational", ("1", "L"), rel, expr, math.inf, math.inf, stop - 1)
    target = 2 * digits + 20
    est = pcf_value(pcf, target, max_depth, started + budget_seconds / 2, progress)
    known = int(min(est.digits, target + 10))
    if known < MIN_KNOWN:
        return None
    screen = digits if known >= 2 * digits else _screen_digits(known)
    value = est.value

    def source(dps):
        return +value

    remaining = max(0.0, budget_seconds - (time.perf_counter() - started))
    stages = _stages(constants, degree, pairs or escalate, escalate)
    return _identify(source, known, screen, stages, remaining, est.depth)


def _rescaled(found: Identification, scale: int) -> Identification:
    """The identification of ``scale`` times the value ``found`` identifies."""
    # A term with L^k gets scale^(top - k) so the relation holds for scale·L (top: the highest k).
    if found.kind in ("rational", "quadratic"):
        powers = list(range(len(found.relation)))
    else:
        half = len(found.relation) // 2
        powers = [0] * half + [1] * half
    top = max(powers)
    relation = _normalised([c * scale ** (top - k) for c, k in zip(found.relation, powers)])
    return Identification(found.constant, found.kind, found.basis, relation, sympy.Integer(scale) * found.expr,
                          found.digits_verified, found.roi, found.depth)


class RepresentativeIdentifier:
    """Escalated identification of a campaign's cluster representatives, under a campaign-level cap.

    Each representative gets :func:`identify_pcf` with escalation and ``budget_seconds``; once the
    campaign has spent ``escalation_seconds`` on them, the rest get the plain screen (rational and
    Möbius in the core catalog, no extrapolation), so a campaign with many unidentified clusters
    is not slowed down by much.

    Parameters
    ----------
    config : dict
        A campaign's ``[identify]`` table: ``constants``, ``digits``, ``budget_seconds``,
        ``escalation_seconds`` (and optionally ``catalog``, a TOML catalog file to load).
    max_depth : int
        Deepest plain convergent.

    Attributes
    ----------
    spent_ : float
        Seconds spent on escalated identifications so far.
    """

    def __init__(self, config: dict, max_depth: int = 5000):
        self.config = config
        self.max_depth = max_depth
        self.spent_ = 0.0
        if config.get("catalog"):
            catalog.load_catalog(config["catalog"])

    def __call__(self, pcf: PCF) -> Identification | None:
        """The confirmed identification of one representative, or None."""
        cfg = self.config
        left = cfg.get("escalation_seconds", ESCALATION_SECONDS) - self.spent_
        if left <= 0:
            return identify_pcf(pcf, cfg["constants"], cfg["digits"], max_depth=self.max_depth, escalate=False,
                                budget_seconds=0.0)
        started = time.perf_counter()
        try:
            return identify_pcf(pcf, cfg["constants"], cfg["digits"], max_depth=self.max_depth,
                                budget_seconds=min(cfg.get("budget_seconds", REPRESENTATIVE_BUDGET), left))
        finally:
            self.spent_ += time.perf_counter() - started


def confirm_matches(
    A: np.ndarray,
    B: np.ndarray,
    rows: np.ndarray,
    entries: np.ndarray,
    table,
    digits: int = 30,
    confirm_digits: float | None = None,
) -> dict[int, Identification]:
    """Identify and confirm the PCFs whose float limits matched a Möbius table.

    The one loop from table hits to confirmed identifications, used by campaigns and by
    :func:`mitm_sweep`: each matched row is identified against the constants its hits name, and
    kept when confirmation reaches ``confirm_digits`` (rational and quadratic limits included).

    Parameters
    ----------
    A, B : ndarray of int
        The PCFs (rows), as for :func:`discovery.pcf.evaluate`.
    rows, entries : ndarray of int
        Hits from :func:`discovery.pcf.mitm.match`: (row of A/B, table entry) pairs.
    table : discovery.pcf.mitm.MobiusTable
    digits : int
        Screening digits.
    confirm_digits : float, optional
        Digits a kept identification must be verified to (default: twice ``digits``).

    Returns
    -------
    dict
        Row index -> :class:`Identification`, for the confirmed rows.
    """
    need = 2 * digits if confirm_digits is None else confirm_digits
    found = {}
    for row in np.unique(rows):
        if not A[row].any() or not B[row].any():
            continue
        names = sorted({table.names[table.constant[e]] for e in entries[rows == row]})
        pcf = PCF([int(c) for c in A[row]], [int(c) for c in B[row]])
        hit = identify_pcf(pcf, constants=names, digits=digits, escalate=False, budget_seconds=0.0)
        if hit is not None and hit.digits_verified >= need:
            found[int(row)] = hit
    return found


def mitm_sweep(A: np.ndarray, B: np.ndarray, table, depth: int = 1000, rtol: float = 1e-9, digits: int = 30):
    """Evaluate a batch of PCFs, match their limits in a Möbius table, confirm the matches.

    Parameters
    ----------
    A, B : ndarray of int
        The PCFs, as for :func:`discovery.pcf.evaluate`.
    table : discovery.pcf.mitm.MobiusTable
    depth : int
        Depth of the float evaluation.
    rtol : float
        Matching tolerance.
    digits : int
        Screening digits of the confirmation (it confirms at twice as many).

    Returns
    -------
    hits : dict
        Row index -> confirmed :class:`Identification`, in row order.
    stats : dict
        ``evaluated``, ``converged``, ``matched`` (rows with a table hit) and ``confirmed``.
    """
    from discovery.pcf.kernels import Status, evaluate
    from discovery.pcf.mitm import match

    ev = evaluate(A, B, depth, rtol=1e-12)
    limits = np.where(ev.status == Status.CONVERGED, ev.limit, np.nan)
    rows, entries = match(limits, table, rtol)
    hits = dict(sorted(confirm_matches(A, B, rows, entries, table, digits).items()))
    stats = {
        "evaluated": int(len(A)),
        "converged": int(np.isfinite(limits).sum()),
        "matched": int(len(np.unique(rows))),
        "confirmed": len(hits),
    }
    return hits, stats
