"""Exact limits of low-degree PCFs as ratios of hypergeometric functions.

Every PCF with deg a <= 1 and deg b <= 2 is, after an equivalence transformation, the three-term
recurrence of a hypergeometric family in one of its parameters.  By Pincherle's theorem its tail
K_{n>N}(b(n)/a(n)) equals -f_N/f_{N-1}, where f is the minimal solution of
y_n = a(n) y_{n-1} + b(n) y_{n-2}; the value is then the Möbius image
(p_N + r p_{N-1}) / (q_N + r q_{N-1}) of that tail r under the exact convergents.  The families
(each checked against its contiguous relation, DLMF 15.5.18, 13.3.2, 13.3.7 and §12.8):

=============================  =======================================  ======================
shape (a = αn+β, b = γn²+δn+ε)  minimal solution G_k (k = 0, 1, ...)      kind
=============================  =======================================  ======================
b(k) = 0, k >= 1               none: the fraction stops                 rational
α = 0, γ = δ = 0               periodic: root of x² = βx + ε            algebraic
α ≠ 0, γ = δ = 0               0F1(; c+k; z)  (Bessel I/J ratio)        0F1
α ≠ 0, γ = 0                   1F1(a; c+k; z)  (Kummer)                 1F1
α ≠ 0, α² + 4γ > 0             2F1(a, b; c+k; z), Re z < 1/2  (Gauss)   2F1
α ≠ 0, α² + 4γ = 0             U(a+k, b, z), z > 0  (Tricomi)           U
α = 0, γ = 0, δ > 0            D_{-(s+k)}(x), x > 0  (parabolic cyl.)   U
α = 0, γ > 0                   2F1(a, b; c+k; 1/2)                      2F1
=============================  =======================================  ======================

The remaining shapes (α² + 4γ < 0; α = 0 with γ < 0, or γ = 0 and δ < 0) have characteristic
roots of equal modulus and no minimal solution: no limit, no closed form.  A normalisation
h_n with f_n = h_n G_n turns the family's recurrence into the PCF's; only h_N/h_{N-1} enters the
value, and N is the first index past every zero of a(n), b(n) and the family's coefficients.

Nothing is reported unverified: the closed form is evaluated with mpmath and compared with the
PCF's exact convergents (:meth:`PCF.limit`, or Richardson extrapolation for slowly converging
fractions); a disagreement, or too few digits to tell, gives None.
"""

from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import mpmath
import sympy

from discovery.pcf import exact
from discovery.pcf.formula import PCF

__all__ = ["ClosedForm", "closed_form", "classical_reason", "SIMPLIFY_SECONDS"]

# Wall-clock cap on symbolic simplification of one closed form.  hyperexpand takes 10-150 ms on
# typical parameters, 2-3 s on some 1F1 with integer parameters (1F1(5;7;-3)) and on 2F1 at 1/2.
SIMPLIFY_SECONDS = 1.0

_n = sympy.Symbol("n")
_MAX_DEPTH = 1 << 15  # deepest exact walk used to confirm a closed form (well under a second)
_MARGIN = 3.0  # digits the convergent estimate may be optimistic by before we call it a clash


@dataclass(frozen=True, eq=False)
class ClosedForm:
    """A verified exact limit of a PCF.

    Attributes
    ----------
    expression : sympy.Expr
        The limit, simplified where that could be done within the time cap (elementary
        functions, ``besseli``, ``erfc``, ...); otherwise equal to :attr:`hypergeometric`.
    text : str
        ``str(expression)``; parses back with ``sympy.sympify``.
    kind : str
        The family the limit was derived from: ``"2F1"``, ``"1F1"``, ``"0F1"``, ``"U"`` (Tricomi
        U, written as a ₂F₀), ``"algebraic"`` (periodic fraction) or ``"rational"`` (finite
        fraction).
    parameters : dict
        Exact parameters of the family (sympy numbers, possibly algebraic or complex) and
        ``shift`` N, the index of the tail that the hypergeometric ratio gives.
    hypergeometric : sympy.Expr
        The unsimplified limit: a Möbius image of a ratio of contiguous hypergeometric functions.
    digits_confirmed : float
        Significant digits on which the closed form agrees with the PCF's exact convergents,
        never more than the convergents themselves support; ``inf`` for a finite fraction (an
        exact rational identity).
    reason : str
        One sentence naming the classical continued fraction the limit follows from.
    """

    expression: sympy.Expr
    text: str
    kind: str
    parameters: dict
    hypergeometric: sympy.Expr
    digits_confirmed: float
    reason: str
    _evaluator: Callable = field(repr=False)

    def evaluate(self, dps: int = 50):
        """The limit as an mpmath number with ``dps`` significant digits.

        Evaluates the hypergeometric form (not the simplified one) from its exact parameters, so
        any precision is available; the result is real (imaginary rounding noise dropped).
        """
        with mpmath.workdps(dps):
            return +self._evaluator(dps)


# --- the families ----------------------------------------------------------------------------------


@dataclass
class _Family:
    """One hypergeometric family whose contiguous relation is the PCF's recurrence up to scaling.

    ``a_over_b(m)`` is A_m/B_m for the family's own recurrence G_m = A_m G_{m-1} + B_m G_{m-2};
    ``tail_forms`` are expressions in n that must not vanish at any n > N, ``pole_forms`` must not
    be a non-positive integer at any n >= N - 1 (lower parameters of G_n).
    """

    kind: str
    params: dict
    symbolic: Callable  # k -> sympy G_k
    numeric: Callable  # (k, params as mpmath) -> mpmath G_k
    a_over_b: Callable  # m -> sympy A_m / B_m
    tail_forms: list
    pole_forms: list
    reason: str


def _tricomi(a, b, z):
    """Tricomi U(a, b, z) as sympy text can carry it: z^-a 2F0(a, a-b+1;; -1/z)."""
    return z ** (-a) * sympy.hyper([a, a - b + 1], [], -1 / z)


def _families(a: tuple, b: tuple) -> list[_Family]:
    """Candidate families for PCF(a, b), most likely first (more than one only when a sign of a
    square root decides which solution is minimal)."""
    al, be = (0, a[0]) if len(a) == 1 else a
    ga, de, ep = (0,) * (3 - len(b)) + tuple(b)
    al, be, ga, de, ep = map(sympy.Integer, (al, be, ga, de, ep))
    if ga != 0:
        disc = sympy.sqrt(de**2 - 4 * ga * ep)
        r1, r2 = (-de + disc) / (2 * ga), (-de - disc) / (2 * ga)
        if al != 0:
            d = al**2 + 4 * ga
            if d > 0:
                z = sympy.radsimp((1 - abs(al) / sympy.sqrt(d)) / 2)
                c0 = sympy.expand(2 + (1 + de / ga) * z + be / al * (1 - 2 * z))
                return [_gauss(c0 - 2 + r1, c0 - 2 + r2, c0, z)]
            if d == 0:
                z = 2 * be / al - 1 - de / ga
                if z <= 0:
                    return []
                return [_tricomi_a(2 - r1, 1 - r1 + r2, z)]
            return []
        if ga < 0:
            return []
        out = []
        for sign in (1, -1):
            c0 = sympy.expand((5 + de / ga + sign * be / sympy.sqrt(ga)) / 2)
            out.append(_gauss(c0 - 2 + r1, c0 - 2 + r2, c0, sympy.Rational(1, 2)))
        return out
    if al != 0:
        if de != 0:
            z = -de / al**2
            c0 = 2 + be / al - z
            return [_kummer(c0 - 2 - ep / de, c0, z)]
        return [_bessel(2 + be / al, ep / al**2)]
    if de > 0:
        return [_weber(2 + ep / de, be**2 / (2 * de), sympy.sqrt(be**2 / de))]
    return []


def _gauss(A, B, c0, z) -> _Family:
    def c(m):
        return c0 + m - 1

    return _Family(
        "2F1", {"a": A, "b": B, "c": c0, "z": z},
        lambda k: sympy.hyper([A, B], [c0 + k], z),
        lambda k, p: mpmath.hyp2f1(p["a"], p["b"], p["c"] + k, p["z"]),
        lambda m: (c(m) - 1 - (2 * c(m) - A - B - 1) * z) / ((c(m) - 1) * (z - 1)),
        [c(_n) - 1 - (2 * c(_n) - A - B - 1) * z], [c0 + _n],
        "Gauss's continued fraction for ratios of contiguous 2F1(a,b;c;z) (shift in c)",
    )


def _kummer(A, c0, z) -> _Family:
    def c(m):
        return c0 + m - 1

    return _Family(
        "1F1", {"a": A, "c": c0, "z": z},
        lambda k: sympy.hyper([A], [c0 + k], z),
        lambda k, p: mpmath.hyp1f1(p["a"], p["c"] + k, p["z"]),
        lambda m: (1 - c(m) - z) / (c(m) - 1),
        [1 - c(_n) - z], [c0 + _n],
        "Kummer's continued fraction for ratios of contiguous 1F1(a;c;z) (shift in c)",
    )


def _bessel(c0, z) -> _Family:
    return _Family(
        "0F1", {"c": c0, "z": z},
        lambda k: sympy.hyper([], [c0 + k], z),
        lambda k, p: mpmath.hyp0f1(p["c"] + k, p["z"]),
        lambda m: sympy.Integer(-1),
        [], [c0 + _n],
        "the continued fraction for ratios of contiguous 0F1(;c;z), i.e. of Bessel functions "
        "I_(c-1)(2√z)/I_(c-2)(2√z)",
    )


def _tricomi_a(a0, bu, z) -> _Family:
    def a(m):
        return a0 + m - 1

    return _Family(
        "U", {"a": a0, "b": bu, "z": z},
        lambda k: _tricomi(a0 + k, bu, z),
        lambda k, p: mpmath.hyperu(p["a"] + k, p["b"], p["z"]),
        lambda m: bu - 2 * a(m) - z,
        [bu - 2 * a(_n) - z], [],
        "the continued fraction for ratios of Tricomi U(a+k,b;z) = z^-(a+k) 2F0(a+k,a+k-b+1;;-1/z) "
        "(shift in a)",
    )


def _weber(s, w, x) -> _Family:
    # D_{-m}(x) = 2^{-m/2} e^{-x²/4} U(m/2, 1/2, x²/2); the common exponential is dropped.
    return _Family(
        "U", {"s": s, "x": x, "b": sympy.Rational(1, 2), "z": w},
        lambda k: 2 ** (-(s + k) / 2) * _tricomi((s + k) / 2, sympy.Rational(1, 2), w),
        lambda k, p: mpmath.mpf(2) ** (-(p["s"] + k) / 2) * mpmath.hyperu((p["s"] + k) / 2, 0.5, p["z"]),
        lambda m: -x,
        [s + _n - 1], [],
        "Laplace's continued fraction for ratios of parabolic cylinder functions "
        "D_-(s+k)(x) ∝ 2^-((s+k)/2) U((s+k)/2, 1/2, x²/2)",
    )


# --- numbers -----------------------------------------------------------------------------------------


def _to_mp(x, dps: int):
    """An exact sympy number as an mpmath number at ``dps`` digits (complex when it is)."""
    v = sympy.N(x, dps + 10)
    re, im = v.as_real_imag()
    with mpmath.workdps(dps + 10):
        if im == 0:
            return mpmath.mpf(sympy.Float(re, dps + 10)._mpf_)
        return mpmath.mpc(sympy.Float(re, dps + 10)._mpf_, sympy.Float(im, dps + 10)._mpf_)


def _real(v, dps: int):
    """The real part of v, or None when v is not real to within rounding."""
    if isinstance(v, mpmath.mpc):
        if abs(v.imag) > abs(v) * mpmath.mpf(10) ** (-dps // 2) + mpmath.mpf(10) ** (-dps):
            return None
        v = v.real
    return v if mpmath.isfinite(v) else None


def _integer_roots(forms: list, dps: int = 30) -> list[int]:
    """Integers n at which one of the forms (linear in n) vanishes: n is bad for the shift."""
    out = []
    for f in forms:
        poly = sympy.Poly(sympy.expand(f), _n)
        if poly.degree() < 1:
            continue
        u, v = poly.all_coeffs()
        root = _to_mp(-v / u, dps)
        if isinstance(root, mpmath.mpc) and abs(root.imag) > 1e-20:
            continue
        root = mpmath.re(root)
        k = int(mpmath.nint(root))
        if abs(root - k) < 1e-20:  # a near-integer counts as one: a larger shift costs nothing
            out.append(k)
    return out


def _shift(a: tuple, b: tuple, fam: _Family) -> int:
    """The least N >= 0 past every zero of a(n), b(n) and the family's coefficients."""
    bad = [-1]
    for coeffs in (a, b):
        bad += [int(k) for k in sympy.Poly(coeffs, _n).ground_roots()]
    bad += _integer_roots(fam.tail_forms)
    N = max(bad) if bad else 0
    for k in _integer_roots(fam.pole_forms):
        # c0 + n is a non-positive integer for every n <= k, so G_{N-1} needs N - 1 > k.
        N = max(N, k + 2)
    return max(N, 0)


def _convergents_at(pcf: PCF, N: int) -> tuple[int, int, int, int]:
    """(p_N, q_N, p_{N-1}, q_{N-1}) with p_{-1} = 1, q_{-1} = 0."""
    return tuple(int(x) for x in exact.walk(pcf.a, pcf.b, [N])[N])


# --- the derivation ------------------------------------------------------------------------------


@dataclass
class _Derivation:
    kind: str
    params: dict
    exact: sympy.Expr
    evaluator: Callable
    reason: str


def _derive_family(pcf: PCF, fam: _Family, probe_dps: int = 30) -> _Derivation | None:
    """The limit from one family, or None when the shift leaves a zero denominator."""
    N0 = _shift(pcf.a, pcf.b, fam)
    for N in (N0, N0 + 1, N0 + 2):
        p, q, p1, q1 = _convergents_at(pcf, N)
        rho = sympy.Rational(pcf.b_at(N + 1), pcf.a_at(N + 1)) * fam.a_over_b(N + 1)
        if rho == 0 or rho.has(sympy.zoo, sympy.nan):
            continue
        evaluator = _evaluator(fam, N, rho, (p, q, p1, q1))
        try:
            probe = evaluator(probe_dps)
        except (ZeroDivisionError, ValueError, mpmath.libmp.NoConvergence):
            continue
        if probe is None:
            continue
        r = -rho * fam.symbolic(N) / fam.symbolic(N - 1)
        expr = (p + r * p1) / (q + r * q1) if (p1, q1) != (1, 0) else p + r
        params = dict(fam.params, shift=sympy.Integer(N))
        shown = ", ".join(f"{k}={v}" for k, v in fam.params.items())
        reason = f"its limit follows from {fam.reason} with {shown}"
        if N:
            reason += f", applied to its tail from n={N + 1}"
        return _Derivation(fam.kind, params, expr, evaluator, reason)
    return None


def _evaluator(fam: _Family, N: int, rho, convergents: tuple) -> Callable:
    p, q, p1, q1 = convergents

    def evaluate(dps: int):
        with mpmath.workdps(dps + 15):
            mp = {k: _to_mp(v, dps + 15) for k, v in fam.params.items()}
            g0, g1 = fam.numeric(N, mp), fam.numeric(N - 1, mp)
            r = -_to_mp(rho, dps + 15) * g0 / g1
            value = (p + r * p1) / (q + r * q1)
            return _real(value, dps + 10)

    return evaluate


def _periodic(pcf: PCF) -> _Derivation | None:
    beta, eps = pcf.a[0], pcf.b[0]
    d = beta * beta + 4 * eps
    if d < 0:
        return None
    # The convergents follow the root of x² = βx + ε of larger modulus.
    expr = (beta + (1 if beta > 0 else -1) * sympy.sqrt(d)) / 2
    evaluator = _numeric_of(expr)
    return _Derivation("algebraic", {"a": sympy.Integer(beta), "b": sympy.Integer(eps)}, expr, evaluator,
                       f"it is periodic: its limit is the dominant root of x² = {beta}x + {eps}")


def _numeric_of(expr) -> Callable:
    def evaluate(dps: int):
        return _real(_to_mp(expr, dps), dps)

    return evaluate


def _finite(pcf: PCF, k: int) -> _Derivation | None:
    p, q = (int(x) for x in exact.walk(pcf.a, pcf.b, [k - 1])[k - 1][:2])
    if q == 0:
        return None
    expr = sympy.Rational(p, q)
    return _Derivation("rational", {"stop": sympy.Integer(k)}, expr, _numeric_of(expr),
                       f"it is finite: b({k}) = 0 stops it after {k - 1} terms")


@lru_cache(maxsize=4096)
def _derivations(a: tuple, b: tuple) -> tuple:
    pcf = PCF(a, b)
    if len(a) > 2 or len(b) > 3:
        return ()
    k = exact.first_zero(b, max(2, max(map(abs, b))) + 1)
    if k is not None:
        d = _finite(pcf, k)
        return (d,) if d else ()
    if len(a) == 1 and len(b) == 1:
        d = _periodic(pcf)
        return (d,) if d else ()
    out = []
    for fam in _families(a, b):
        d = _derive_family(pcf, fam)
        if d is not None:
            out.append(d)
    return tuple(out)


# --- confirmation --------------------------------------------------------------------------------


def _references(pcf: PCF, digits: int, min_digits: int):
    """Estimates of the limit from exact convergents, deeper each time, until ``digits`` are
    supported or the depth cap is reached (Richardson extrapolation joins in for slow ones).

    Stops early when the digits gained by the last doubling of the depth, kept up to the cap,
    would not reach ``min_digits``: a power-law convergence that no affordable depth confirms.
    """
    depth = 128
    previous = None
    while True:
        est = pcf.limit(depth, dps=digits + 20)
        yield est
        if est.digits >= digits + _MARGIN or depth >= _MAX_DEPTH:
            break
        if previous is not None and depth >= 2048:
            doublings = math.log2(_MAX_DEPTH / depth)
            if est.digits + 2 * max(est.digits - previous, 0.0) * doublings < min_digits:
                break
        previous = est.digits
        if depth >= 1024:
            acc = exact.accelerated_limit(pcf.a, pcf.b, depth)
            if acc.method == "richardson":
                yield acc
                if acc.digits >= digits + _MARGIN:
                    break
        depth *= 2


def _agreement(x, y) -> float:
    diff = abs(x - y)
    if diff == 0:
        return math.inf
    scale = max(abs(x), abs(y))
    if scale == 0:
        return math.inf
    return float(-mpmath.log10(diff / scale))


def _confirm(pcf: PCF, der: _Derivation, digits: int, min_digits: int) -> float | None:
    """Digits on which the derivation agrees with the convergents; None on a disagreement."""
    if der.kind == "rational":
        return math.inf
    best = 0.0
    for est in _references(pcf, digits, min_digits):
        if not mpmath.isfinite(est.value) or est.digits < 1:
            continue
        with mpmath.workdps(int(min(est.digits, digits)) + 20):
            value = der.evaluator(int(min(est.digits, digits)) + 20)
            if value is None:
                return None
            agree = _agreement(value, est.value)
        supported = min(est.digits, float(digits))
        if agree < supported - _MARGIN:
            return None  # the convergents know better than the closed form: reject it
        best = max(best, min(agree, supported))
        if best >= digits:
            break
    return best


# --- simplification ------------------------------------------------------------------------------


class _Timeout(Exception):
    pass


@contextmanager
def _time_cap(seconds: float):
    """Raise _Timeout in the block after ``seconds`` (a no-op off the main thread, where signals
    cannot be used; callers there get the unsimplified form only if simplification is slow)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return

    def _raise(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@lru_cache(maxsize=4096)
def _simplified(expr: sympy.Expr, seconds: float) -> sympy.Expr:
    """``hyperexpand`` then :func:`_tidy`, within the time cap; the input when that fails.

    Only rational parameters are tried: with algebraic or complex ones hyperexpand finds nothing
    elementary yet can spend half a minute (measured: 31 s on 2F0(2±i;;-1)).  A result that
    needs ``I``, ``exp_polar`` or ``Abs`` for a real number is no simplification and is dropped.
    """
    hypers = expr.atoms(sympy.hyper)
    if not hypers or not all(p.is_Rational for h in hypers for p in (*h.ap, *h.bq)):
        return expr
    try:
        with _time_cap(seconds):
            # hyperexpand knows U only as a Meijer G function, not as the divergent 2F0.
            out = expr.replace(_is_2f0, _meijer_of_2f0).replace(_is_integer_1f1, _kummer_elementary)
            if out.has(sympy.hyper, sympy.meijerg):
                out = sympy.hyperexpand(out)
            if out.has(sympy.hyper, sympy.meijerg):
                return expr
            out = _tidy(out)
            if out.has(sympy.I, sympy.exp_polar, sympy.Abs):
                return expr
            return out
    except _Timeout:
        return expr
    except Exception:  # noqa: BLE001 - sympy raises many kinds on exotic parameters; keep the exact form
        return expr


def _is_2f0(e) -> bool:
    return isinstance(e, sympy.hyper) and len(e.ap) == 2 and len(e.bq) == 0


def _meijer_of_2f0(e):
    """2F0(a, a-b+1;; -1/z) = z^a U(a, b, z), U(a,b,z) = G^{2,1}_{1,2}(z | 1-a; 0, 1-b) / (Γ(a)Γ(a-b+1)).

    The 2F0 series diverges; sympy and mpmath both read it as this U (DLMF §13.2, §13.6).
    """
    a, a2 = e.ap
    z = -1 / e.argument
    b = a - a2 + 1
    g = sympy.meijerg([[1 - a], []], [[0, 1 - b], []], z)
    return z**a * g / (sympy.gamma(a) * sympy.gamma(a2))


def _is_integer_1f1(e) -> bool:
    return (isinstance(e, sympy.hyper) and len(e.ap) == 1 and len(e.bq) == 1 and e.ap[0].is_Integer
            and e.bq[0].is_Integer and e.bq[0] >= 1 and e.argument.is_Rational and e.argument != 0)


def _kummer_elementary(e):
    """1F1(a; c; z) for integers a and c >= 1 as exp and polynomials (hyperexpand takes seconds).

    a <= 0: the terminating series.  a >= c: Kummer's transformation e^z 1F1(c-a; c; -z), which
    terminates.  1 <= a < c: the Euler integral Γ(c)/(Γ(a)Γ(c-a)) ∫_0^1 e^{zt} t^(a-1) (1-t)^(c-a-1) dt
    with ∫_0^1 t^k e^{zt} dt = (e^z - k ∫_0^1 t^(k-1) e^{zt} dt) / z.
    """
    a, c, z = int(e.ap[0]), int(e.bq[0]), e.argument
    if a <= 0:
        return _terminating(a, c, z)
    if a >= c:
        return sympy.exp(z) * _terminating(c - a, c, -z)
    moments = [(sympy.exp(z) - 1) / z]
    for k in range(1, c - 1):
        moments.append((sympy.exp(z) - k * moments[-1]) / z)
    m = c - a - 1
    integral = sum((-1) ** j * sympy.binomial(m, j) * moments[a - 1 + j] for j in range(m + 1))
    return sympy.expand(sympy.factorial(c - 1) / (sympy.factorial(a - 1) * sympy.factorial(m)) * integral)


def _terminating(a: int, c: int, z) -> sympy.Expr:
    """1F1(a; c; z) for an integer a <= 0: a polynomial of degree -a."""
    term, total = sympy.Integer(1), sympy.Integer(1)
    for k in range(-a):
        term = term * (a + k) * z / ((c + k) * (k + 1))
        total += term
    return total


_HYPERBOLIC = (sympy.sinh, sympy.cosh, sympy.tanh, sympy.coth)
_INVERSE_HYPERBOLIC = (sympy.asinh, sympy.acosh, sympy.atanh, sympy.acoth)


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """A rational function of the transcendental atoms whose coefficients are canonical radicals.

    Own rules, cheaper and stronger here than ``sympy.simplify``: exponential integrals E_k become
    E_1 (the form hyperexpand gives for U(a, b, z) with integer a, b), inverse hyperbolic functions of
    algebraic numbers become logarithms (asinh(√2/4) = log(2)/2), hyperbolic functions of
    logarithms become powers, and every algebraic coefficient of degree <= 2 is rewritten from
    its minimal polynomial, which removes nested radicals such as √(2-√2)·√(2+√2) = √2.
    """
    e = expr.replace(_is_high_expint, _lower_expint)
    if e.has(*_INVERSE_HYPERBOLIC):
        e = sympy.expand_log(e.rewrite(sympy.log), force=True)
    if any(f.args[0].has(sympy.log) for f in e.atoms(*_HYPERBOLIC)):
        e = sympy.powsimp(e.rewrite(sympy.exp))
    e = sympy.cancel(sympy.together(e))
    if e.is_Rational:  # a terminating series: hyperexpand already gave the number
        return e
    num, den = sympy.fraction(e)
    try:
        found = sympy.parallel_poly_from_expr([num, den])[1]["gens"]
    except sympy.polys.polyerrors.PolificationFailed:  # no generator at all: a plain algebraic number
        return _algebraic(sympy.radsimp(e))
    gens = [g for g in found if g.is_algebraic is not True]
    if not gens:
        return _algebraic(sympy.radsimp(num / den))
    pn, pd = sympy.Poly(num, *gens), sympy.Poly(den, *gens)
    lead = pd.coeffs()[0]

    terms = [[(_algebraic(c / lead), sympy.Mul(*(g**k for g, k in zip(gens, m)))) for m, c in poly.terms()]
             for poly in (pn, pd)]
    # Integer coefficients where they are rational: 81/(131 - 8 exp(3)), not 81/(8 (131/8 - exp(3))).
    scale = sympy.ilcm(1, *(c.q for part in terms for c, _ in part if c.is_Rational))
    # The overall sign that leaves fewer minus signs: 2/(4 - pi), not -2/(-4 + pi).
    negative = sum(1 if c.could_extract_minus_sign() else -1 for part in terms for c, _ in part)
    sign = -1 if negative > 0 else 1
    top, bottom = (sum((sign * scale * c * g for c, g in part), sympy.Integer(0)) for part in terms)
    return top / bottom


def _is_high_expint(e) -> bool:
    return isinstance(e, sympy.expint) and e.args[0].is_Integer and e.args[0] >= 2


def _lower_expint(e):
    """E_k(z) = (e^-z - z E_(k-1)(z)) / (k - 1) down to E_1, so that terms in E_1 can cancel."""
    k, z = int(e.args[0]), e.args[1]
    out = sympy.expint(1, z)
    for j in range(2, k + 1):
        out = (sympy.exp(-z) - z * out) / (j - 1)
    return out


_x = sympy.Symbol("x")


def _algebraic(c: sympy.Expr) -> sympy.Expr:
    """An algebraic number in its simplest radical form when its degree is at most 2."""
    if c.is_Rational:
        return c
    try:
        poly = sympy.minimal_polynomial(c, _x, polys=True)
    except (NotImplementedError, ValueError):
        return sympy.radsimp(c)
    if poly.degree() == 1:
        return sympy.Rational(-poly.coeffs()[-1], poly.coeffs()[0]) if len(poly.coeffs()) == 2 else sympy.Integer(0)
    if poly.degree() == 2:
        roots = sympy.roots(poly, _x, multiple=True)
        target = complex(sympy.N(c, 30))
        return min(roots, key=lambda r: abs(complex(sympy.N(r, 30)) - target))
    return sympy.radsimp(c)


def _choose_expression(der: _Derivation, digits: int, seconds: float) -> sympy.Expr:
    """The simplified limit when it agrees numerically with the exact form, else the exact form."""
    simple = _simplified(der.exact, seconds)
    if simple is der.exact:
        return der.exact
    dps = max(30, digits)
    try:
        with mpmath.workdps(dps + 10):
            value = _real(_to_mp(simple, dps), dps)
            target = der.evaluator(dps)
            if value is None or target is None or _agreement(value, target) < dps - 5:
                return der.exact
    except Exception:  # noqa: BLE001 - an expression mpmath cannot evaluate is not used
        return der.exact
    return simple


# --- public API ---------------------------------------------------------------------------------


def closed_form(pcf: PCF, digits: int = 50, *, min_digits: int = 15, simplify: bool = True,
                simplify_seconds: float = SIMPLIFY_SECONDS) -> ClosedForm | None:
    """The exact limit of a PCF with deg a <= 1 and deg b <= 2, verified against its convergents.

    Parameters
    ----------
    pcf : PCF
        The fraction.  Higher degrees give None.
    digits : int
        Digits to confirm: exact convergents are taken deep enough for this many (up to depth
        2**15, with Richardson extrapolation for slowly converging fractions).
    min_digits : int
        Fewer confirmed digits than this (a fraction converging too slowly to tell) give None.
    simplify : bool
        Try ``sympy.hyperexpand`` (Bessel, erf, elementary functions, ...) on the hypergeometric
        form; a simplified form is kept only when it agrees with the exact one to ``digits``.
    simplify_seconds : float
        Wall-clock cap on the simplification (main thread only).

    Returns
    -------
    ClosedForm or None
        None when the fraction has no limit (divergent or oscillating), when its shape is not
        covered, or when the convergents do not confirm the closed form to ``min_digits``.

    Examples
    --------
    >>> cf = closed_form(PCF("2n+1", "n^2"))
    >>> cf.kind, cf.text
    ('2F1', '4/pi')
    """
    for der in _derivations(pcf.a, pcf.b):
        got = _confirm(pcf, der, digits, min_digits)
        if got is None or got < min_digits:
            continue
        expr = _choose_expression(der, digits, simplify_seconds) if simplify else der.exact
        return ClosedForm(expr, str(expr), der.kind, der.params, der.exact, got, der.reason, der.evaluator)
    return None


def classical_reason(pcf: PCF, digits: int = 30) -> str | None:
    """Which classical continued fraction gives this PCF's limit, as one sentence, or None.

    The sentence names the family and its exact parameters, e.g. "its limit follows from Gauss's
    continued fraction for ratios of contiguous 2F1(a,b;c;z) (shift in c) with a=1/2, b=1/2,
    c=5/2, z=...".  It is only given when the closed form is confirmed to ``digits`` digits by the
    exact convergents (see :func:`closed_form`); no simplification is attempted.
    """
    got = closed_form(pcf, digits, min_digits=digits, simplify=False)
    return None if got is None else got.reason
