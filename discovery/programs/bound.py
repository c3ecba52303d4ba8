"""Proven upper bounds on a program's error, by Taylor models in arb ball arithmetic.

:func:`discovery.programs.verify.max_error` scans the error densely and refines its peaks: an
estimate of the maximum, which can miss a narrow peak.  :func:`error_bound` proves a bound.  On a
subinterval with midpoint m and radius r the error is

    e(m + t) = sum_{k<N} e_k t^k + e^(N)(xi) / N! t^N,   |t| <= r,  xi in [m - r, m + r],

with e_0 .. e_{N-1} computed by power-series arithmetic (python-flint ``arb_series``) at the exact
point m, and the Lagrange remainder's coefficient enclosed by the same series evaluated on the
ball [m ± r].  Every step rounds outwards, so |e_0| + sum |e_k| r^k + |rem| r^N bounds |e| on the
subinterval.  Subintervals are refined (branch and bound, largest bound first) until the largest
bound is within ``tolerance`` of the largest error proved at a point.

A program that divides by zero inside the interval and is finite again through IEEE infinities
(c/0 = inf, d/inf = 0) defeats ball arithmetic at that point; when it has no square root and
divides by zero only at rational points, it is bounded through its exact reduced fraction and its
exact values there instead (:mod:`discovery.programs.rational`).

Like ``max_error`` this measures the program in exact arithmetic (the formula, not float
rounding), with the program's constants taken exactly as the doubles they are.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass

import flint
from flint import arb, arb_series

from discovery.errors import InputError
from discovery.programs.graph import Program
from discovery.programs.ops import apply
from discovery.programs.rational import divisor_zeros, ieee_value, polynomial_series, rational_form
from discovery.programs.series import as_series, series_function
from discovery.programs.targets import Target

# A bound below this is far beneath anything float64 can resolve: no point refining further.
_NEGLIGIBLE = 2.0**-120
# Subintervals narrower than this share of the interval are not split (a pole stays a pole).
_FINEST = 2.0**-40


@dataclass(frozen=True)
class Bound:
    """A proven bound on a program's maximum error.

    Attributes
    ----------
    bound : float
        Upper bound on the maximum error over the whole interval (``math.inf`` when none could be
        proved: a pole, a square root of a negative value, a division by zero at an irrational
        point or inside a square root, or a cap hit before a pole was cut out).
    lower : float
        The largest error proved at a point, so the true maximum lies in [lower, bound].
    subintervals : int
        Subintervals evaluated.
    seconds : float
        Wall time taken.
    capped : bool
        Whether the cap on subintervals stopped the refinement before ``bound`` came within the
        tolerance of ``lower`` (the bound is still proven, only looser).
    """

    bound: float
    lower: float
    subintervals: int
    seconds: float
    capped: bool


def error_bound(
    program: Program,
    target: Target,
    tolerance: float = 1e-2,
    order: int = 16,
    max_subintervals: int = 4000,
    prec: int = 200,
) -> Bound:
    """A rigorous upper bound on the program's maximum error over the target's interval.

    The error is relative or absolute as ``target.relative`` says, and the program is taken in
    exact arithmetic, as :func:`discovery.programs.verify.max_error` measures it.

    Parameters
    ----------
    program : Program
    target : Target
        Its expression may use arithmetic, powers, the constants pi, e, EulerGamma, Catalan and
        GoldenRatio, and exp, exp2, log (one or two arguments), ln, log2, log10, log1p, expm1,
        sqrt, cbrt, root, sin, cos, tan, cot, sec, csc, asin, acos, atan, sinh, cosh, tanh,
        asinh, acosh, atanh, erf, erfc, gamma and loggamma.
    tolerance : float
        Refinement stops once the bound is at most (1 + tolerance) times the largest error proved
        at a point.
    order : int
        Taylor order N of the models (higher: fewer, costlier subintervals).
    max_subintervals : int
        Cap on the subintervals evaluated; when it is hit the bound reached so far is returned.
    prec : int
        Working precision in bits; 200 leaves ample room for the cancellation in P(x) - f(x).

    Returns
    -------
    Bound

    Raises
    ------
    InputError
        For a target using a function or constant that cannot be enclosed (``abs``, ``zeta``, a
        catalog constant).
    ValueError
        For non-positive ``tolerance``, ``order`` or ``max_subintervals``.
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be positive, got {tolerance!r}")
    if order < 1 or max_subintervals < 1:
        raise ValueError(f"order and max_subintervals must be at least 1, got {order} and {max_subintervals}")
    start = time.perf_counter()
    prog = program.simplified()
    f = series_function(target.expr)
    search = _Search(f, target.relative, target.interval, tolerance, order, max_subintervals)
    old_prec, old_cap = flint.ctx.prec, flint.ctx.cap
    flint.ctx.prec = prec
    try:
        bound, lower, capped = search.run(lambda x: _program_series(prog, x))
        if bound == math.inf and not capped:
            bound, lower, capped = _through_divisions_by_zero(prog, search) or (bound, lower, capped)
    finally:
        flint.ctx.prec, flint.ctx.cap = old_prec, old_cap
    return Bound(bound, lower, search.evaluated, time.perf_counter() - start, capped)


def enclosable(target: Target) -> bool:
    """Whether :func:`error_bound` can enclose the target's expression (every function and
    constant in it has a power-series enclosure)."""
    try:
        series_function(target.expr)
    except InputError:
        return False
    return True


class _Search:
    """Branch and bound over subintervals, largest bound first, for one error function."""

    def __init__(self, f, relative: bool, interval, tolerance: float, order: int, max_subintervals: int):
        self.f, self.relative = f, relative
        self.lo, self.hi = interval
        self.tolerance, self.order, self.cap = tolerance, order, max_subintervals
        self.evaluated = 0

    def run(self, program) -> tuple[float, float, bool]:
        """(bound, lower, capped) for the program given as a function of an arb_series in x."""
        counter = itertools.count()
        a, b = arb(self.lo), arb(self.hi)
        bound, lower = self.model(program, a, b)
        heap = [(-bound, next(counter), a, b)]
        finest = (self.hi - self.lo) * _FINEST
        while True:
            neg_bound, _, a, b = heap[0]
            worst = -neg_bound
            if worst <= (1 + self.tolerance) * lower or worst <= _NEGLIGIBLE:
                return worst, lower, False
            if float(b - a) < finest:
                return worst, lower, False  # unsplittable: its bound (often inf, at a pole) is the answer
            if self.evaluated >= self.cap:
                return worst, lower, True
            heapq.heappop(heap)
            mid = (a + b) / 2  # exact: dyadic endpoints, far fewer bits than prec
            for u, v in ((a, mid), (mid, b)):
                bound, low = self.model(program, u, v)
                lower = max(lower, low)
                heapq.heappush(heap, (-bound, next(counter), u, v))

    def model(self, program, a: arb, b: arb) -> tuple[float, float]:
        """(upper bound of |e| on [a, b], |e| at the midpoint proved from below)."""
        self.evaluated += 1
        order = self.order
        m = (a + b) / 2
        r = (b - a) / 2
        at_mid = self.error_series(program, m, order)
        if at_mid is None:
            # A value not finite at m itself (c/0): in IEEE semantics a later d/inf may make the
            # output finite again, so nothing is proved there, neither way.
            return math.inf, 0.0
        low = _down(at_mid[0].abs_lower())
        on_ball = self.error_series(program, m.union(a).union(b), order + 1)
        if on_ball is None:
            return math.inf, low
        total = abs(at_mid[0])
        power = arb(1)
        for k in range(1, order):
            power *= r
            total += abs(at_mid[k]) * power
        total += abs(on_ball[order]) * power * r
        return _up(total), low

    def error_series(self, program, x0: arb, length: int) -> list[arb] | None:
        """Taylor coefficients of the error at x0 (a point or a ball), or None if not finite."""
        flint.ctx.cap = length
        x = arb_series([x0, 1], prec=length)
        try:
            p = as_series(program(x))
            t = as_series(self.f(x))
            e = (p - t) / t if self.relative else p - t
        except (ValueError, ZeroDivisionError):  # a series divided by one whose value may be 0
            return None
        coeffs = e.coeffs()
        if not all(c.is_finite() for c in coeffs):
            return None
        return coeffs + [arb(0)] * (length - len(coeffs))  # coeffs() drops trailing zeros


def _through_divisions_by_zero(prog: Program, search: _Search) -> tuple[float, float, bool] | None:
    """(bound, lower, capped) of a program without square roots that divides by zero only at
    rational points (see :mod:`discovery.programs.rational`), or None for any other."""
    form = rational_form(prog)
    if form is None:
        return None
    P, Q, divisors = form
    points, irrational = divisor_zeros(divisors, search.lo, search.hi)
    if irrational:
        return None
    # Off the points the program is P/Q; at them, its IEEE value is exact.
    bound, lower, capped = search.run(lambda x: polynomial_series(P, x) / as_series(polynomial_series(Q, x)))
    for x in points:
        value = ieee_value(prog, x)
        if value is None:
            return math.inf, math.inf, False
        flint.ctx.cap = 1
        t = search.f(arb_series([arb(x)], prec=1))[0]  # [0], not coeffs()[0]: a zero series has no coefficients
        e = abs(arb(value) - t)
        e = e / abs(t) if search.relative else e
        if not e.is_finite():
            return None
        bound, lower = max(bound, _up(e)), max(lower, _down(e.abs_lower()))
    return bound, lower, capped


def _up(v: arb) -> float:
    """A float at least the largest value of the ball."""
    return math.nextafter(float(v.upper()), math.inf)


def _down(v: arb) -> float:
    """A float at most the smallest value of a ball of non-negative numbers, and not negative."""
    return max(0.0, math.nextafter(float(v.lower()), -math.inf))


def _program_series(prog: Program, x: arb_series):
    values = [x] + [arb(c) for c in prog.consts]  # a double is exactly an arb
    for op, (i, j, k) in prog.instructions:
        # Refused even when the dividend is 0, which arb would let through: 0/0 is NaN.
        if op == "div" and _value(values[j]).contains(0):
            raise ZeroDivisionError("a divisor may be zero")
        values.append(apply(op, values[i], values[j], values[k], lambda v: v.sqrt()))
    return values[prog.output]


def _value(v) -> arb:
    """The value (constant term) of a series or a ball."""
    if isinstance(v, arb_series):
        coeffs = v.coeffs()  # empty for the zero series
        return coeffs[0] if coeffs else arb(0)
    return v
