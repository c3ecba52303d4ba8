"""Checks of programs: scanned maximum error, float32 ULP error, reliance on IEEE infinities.

:func:`max_error` evaluates the program in exact-precision mpmath arithmetic (so it measures the
formula, not float rounding) on a dense grid, then refines every local maximum of the error by
golden-section search, and returns the largest value found: an estimate of the maximum from
below, not a bound (a proven bound is :func:`discovery.programs.bound.error_bound`).
:func:`float32_ulp_errors` runs programs in float32 (:mod:`discovery.programs.float32`) on every
float32 of the interval and compares with the correctly rounded target.  :func:`reaches_infinity`
finds programs whose finite result passes through an infinite or NaN intermediate value (c/x at
x = 0, then d/inf = 0).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import mpmath
import numba
import numpy as np

from discovery.programs.float32 import doubtful_roundings, float32_range, float32_span, round_to_float32, ulp_scan
from discovery.programs.graph import Program
from discovery.programs.kernels import Packed, scalar_op, pack
from discovery.programs.ops import OPERATIONS, apply
from discovery.programs.targets import Target
from discovery.programs.bound import enclosable, error_bound
from discovery.programs.rational import divisor_zeros, rational_form

_GOLDEN = (math.sqrt(5) - 1) / 2


def mp_value(program: Program, x):
    """The program's value at x in mpmath arithmetic (constants taken exactly as stored)."""
    values = [x] + [mpmath.mpf(c) for c in program.consts]
    for op, (a, b, c) in program.instructions:
        va, vb, vc = values[a], values[b], values[c]
        if op == "div" and vb == 0:
            # IEEE semantics, as the float kernels and exported code compute: c/0 is an infinity
            # (a later d/inf is 0 again), 0/0 is not a number.
            values.append(mpmath.sign(va) * mpmath.inf if va != 0 else mpmath.nan)
        elif op == "sqrt" and va < 0:
            values.append(mpmath.nan)
        else:
            values.append(apply(op, va, vb, vc, mpmath.sqrt))
    return values[program.output]


def _error(program: Program, target: Target, x) -> mpmath.mpf:
    t = target.mp(x)
    e = abs(mp_value(program, x) - t)
    if target.relative:
        e = e / abs(t)
    return e if mpmath.isfinite(e) else mpmath.inf


def max_error(program: Program, target: Target, points: int = 4000, dps: int = 30) -> float:
    """The program's maximum error on the target's interval, scanned at high precision.

    A dense scan refined at every peak: it estimates the maximum (from below) and can miss a
    peak narrower than the grid; :func:`discovery.programs.bound.error_bound` proves a bound.

    Parameters
    ----------
    points : int
        Dense grid size (Chebyshev-spaced, plus the end points) before refinement.
    dps : int
        mpmath working precision.
    """
    prog = program.simplified()
    lo, hi = target.interval
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(lo) + (mpmath.mpf(hi) - lo) * (1 - mpmath.cos(mpmath.pi * k / (points - 1))) / 2
              for k in range(points)]
        errs = [_error(prog, target, x) for x in xs]
        if any(not mpmath.isfinite(e) for e in errs):
            return math.inf
        worst = max(errs)
        for i in range(points):
            left = errs[i - 1] if i > 0 else mpmath.mpf(-1)
            right = errs[i + 1] if i + 1 < points else mpmath.mpf(-1)
            if errs[i] >= left and errs[i] >= right:
                a = xs[max(i - 1, 0)]
                b = xs[min(i + 1, points - 1)]
                worst = max(worst, _golden_max(lambda x: _error(prog, target, x), a, b))
        return float(worst)


def _golden_max(f, a, b, iterations: int = 40):
    """Largest value of a unimodal f on [a, b] found by golden-section search."""
    best = max(f(a), f(b))
    c = b - _GOLDEN * (b - a)
    d = a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iterations):
        if fc > fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = f(d)
    return max(best, fc, fd)


def reference32(target: Target, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correctly rounded float32 target values at float32 points, and float64 values.

    With a numpy form the float64 values come from numpy (within a float64 ULP or two of exact);
    rounded to float32 they are correct unless they lie within a few float64 ULPs of a float32
    midpoint (or below the float32 normal range), where mpmath decides.  Without one, mpmath
    computes every value.
    """
    fn = target.numpy()
    if fn is None:
        with mpmath.workdps(40):
            exact = [target.mp(mpmath.mpf(float(x))) for x in X]
            ref = np.array([round_to_float32(v) for v in exact], dtype=np.float32)
            return ref, np.array([float(v) for v in exact])
    with np.errstate(all="ignore"):
        t64 = fn(X.astype(np.float64))
    with np.errstate(over="ignore"):
        ref = t64.astype(np.float32)
    doubt = doubtful_roundings(t64)
    if doubt.size:
        with mpmath.workdps(40):
            for i in doubt:
                v = target.mp(mpmath.mpf(float(X[i])))
                ref[i], t64[i] = round_to_float32(v), float(v)
    return ref, t64


def float32_ulp_errors(programs, target: Target, chunk: int = 1 << 22, limit: int | None = None) -> list[dict]:
    """Maximum ULP error of programs run in float32 (as their C with ``float``, fma fused) over
    every float32 of the interval, against the correctly rounded target.

    Targets without a numpy form are evaluated with mpmath on about 200,000 evenly strided floats
    instead; ``limit`` caps the number of floats checked (evenly strided) for a quick look.

    Returns
    -------
    list of dict
        Per program: ``max_ulp`` (float32 steps from the correctly rounded value; beyond 2^32 for
        NaN or infinite results), ``max_ulp_exact`` (the largest |result - exact| in ULPs of the
        exact value, from float64 values of the target; 0.5 is correct rounding), ``worst_x`` (a
        point of the largest ``max_ulp``; None when that is 0), ``at_max`` (how many floats are
        ``max_ulp`` off), ``checked`` (number of floats)
        and ``exhaustive`` (bool).
    """
    packed = pack([p.simplified() for p in programs])
    consts32 = packed.consts.astype(np.float32)
    a, b = float32_span(target.interval)
    total = b - a + 1
    stride = 1 if limit is None or total <= limit else math.ceil(total / limit)
    if target.numpy() is None and stride == 1:
        stride = max(1, math.ceil(total / 200_000))
    P = len(packed.ops)
    worst = np.zeros(P, dtype=np.int64)
    worst_x = np.full(P, math.nan)
    worst_exact = np.zeros(P)
    at_max = np.zeros(P, dtype=np.int64)
    checked = 0
    for s in range(a, b + 1, chunk * stride):
        X = float32_range(s, min(b + 1, s + chunk * stride), stride)
        ref, exact = reference32(target, X)
        w, where, we, count = ulp_scan(packed, consts32, X, ref, exact)
        better = w > worst
        at_max = np.where(better, count, np.where(w == worst, at_max + count, at_max))
        worst_x[better] = X[where[better]]
        worst[better] = w[better]
        worst_exact = np.maximum(worst_exact, we)
        checked += X.size
    return [{"max_ulp": int(worst[i]), "max_ulp_exact": float(worst_exact[i]),
             "worst_x": float(worst_x[i]) if worst[i] else None, "at_max": int(at_max[i]),
             "checked": checked, "exhaustive": stride == 1} for i in range(P)]


def float32_ulp_error(program: Program, target: Target, chunk: int = 1 << 22, limit: int | None = None) -> dict:
    """:func:`float32_ulp_errors` of one program."""
    return float32_ulp_errors([program], target, chunk, limit)[0]


_ARITY_BY_CODE = np.array([op.arity for op in OPERATIONS], dtype=np.int8)


# What a program computes at a set of points (:func:`population_finiteness`).
FINITE, THROUGH_INFINITY, NOT_FINITE = 0, 1, 2


@numba.njit(cache=True, error_model="numpy")
def _finiteness(ops, args, consts, out, arity, X):
    K = consts.size
    base = 1 + K
    live = np.zeros(base + ops.size, dtype=np.bool_)
    live[out] = True
    for t in range(ops.size - 1, -1, -1):
        if ops[t] >= 0 and live[base + t]:
            for j in range(arity[ops[t]]):
                live[args[t, j]] = True
    vals = np.empty(base + ops.size)
    for k in range(K):
        vals[1 + k] = consts[k]
    code = 0
    for i in range(X.size):
        vals[0] = X[i]
        through = False
        for t in range(ops.size):
            if ops[t] < 0:
                continue
            v = scalar_op(ops[t], vals[args[t, 0]], vals[args[t, 1]], vals[args[t, 2]])
            vals[base + t] = v
            through |= live[base + t] and not np.isfinite(v)
        if not np.isfinite(vals[out]):
            return 2
        if through:
            code = 1
    return code


@numba.njit(cache=True, parallel=True)
def _population_finiteness(ops, args, consts, out, arity, X, result):
    for p in numba.prange(ops.shape[0]):
        result[p] = _finiteness(ops[p], args[p], consts[p], out[p], arity, X)


def population_finiteness(programs, X: np.ndarray) -> np.ndarray:
    """What each program computes at the points X: :data:`FINITE` (finite values throughout),
    :data:`THROUGH_INFINITY` (a finite result reached through an infinite or NaN value at some
    point) or :data:`NOT_FINITE` (an infinite or NaN result at some point).

    Run in float64 with IEEE semantics, as the search kernels and exported code compute: c/0 is
    an infinity and a later d/inf is 0 again, so such a program looks accurate on a grid yet
    breaks under ``-ffast-math`` and in any arithmetic without infinities (an intermediate value
    has a pole there).  Only live values count (those the output depends on).  A result that is
    not finite at one point is a failure however the program does elsewhere: inf/inf at the
    middle of [-1, 1] is a NaN no training grid of Chebyshev nodes holds.

    Parameters
    ----------
    programs : sequence of Program or Packed
    X : ndarray of float64
        The points.

    Returns
    -------
    ndarray of int8
        One code per program.
    """
    packed = programs if isinstance(programs, Packed) else pack(programs)
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 1:
        raise ValueError(f"X must be a 1-D array of points, got shape {X.shape}")
    result = np.zeros(len(packed.ops), dtype=np.int8)
    _population_finiteness(packed.ops, packed.args, packed.consts, packed.out, _ARITY_BY_CODE, X, result)
    return result


def population_reaches_infinity(programs, X: np.ndarray) -> np.ndarray:
    """Which programs are not :data:`FINITE` at the points X (:func:`population_finiteness`):
    finite only through an infinite or NaN value, or not finite at some point at all.

    Returns
    -------
    ndarray of bool
        One flag per program.
    """
    return population_finiteness(programs, X) != FINITE


def infinity_probe(target: Target) -> np.ndarray:
    """The points :func:`reaches_infinity` checks: the 10,000-point uniform validation grid (which
    holds the end points) and the midpoint, where symmetric offsets such as x - 1/2 vanish."""
    return _probe(target).copy()


def reaches_infinity(program: Program, target: Target) -> bool:
    """Whether the program is not :data:`FINITE` on the target's interval (at
    :func:`infinity_points`): its finite result passes through an infinite or NaN intermediate
    value somewhere, or its result is not finite somewhere; see :func:`population_finiteness`."""
    return bool(finiteness([program], target)[0] != FINITE)


def finiteness(programs, target: Target, settle: bool = True) -> np.ndarray:
    """:func:`population_finiteness` of many programs on the target's interval, at
    :func:`infinity_points` (the same points for the search's selection and the final check, so
    the search is steered by the rule it ends with).

    Without ``settle`` a program already :data:`THROUGH_INFINITY` on the grid is not looked at
    again at its divisors' zeros (where it could still prove :data:`NOT_FINITE`): for callers
    that refuse both alike, the exact zeros are the costly part.

    Returns
    -------
    ndarray of int8
        One code per program: :data:`FINITE`, :data:`THROUGH_INFINITY` or :data:`NOT_FINITE`.
    """
    programs = [p.simplified() for p in programs]
    if not programs:
        return np.zeros(0, dtype=np.int8)
    codes = population_finiteness(programs, _probe(target))
    for i, prog in enumerate(programs):
        if (codes[i] == FINITE or (settle and codes[i] == THROUGH_INFINITY)) and any(
                op == "div" for op, _ in prog.instructions):
            zeros = _double_divisor_zeros(as_run(prog), target)
            if zeros.size:
                codes[i] = max(codes[i], population_finiteness([prog], zeros)[0])
    return codes


def _probe(target: Target) -> np.ndarray:
    return _probe_of(tuple(target.interval))


@lru_cache(maxsize=16)
def _probe_of(interval: tuple[float, float]) -> np.ndarray:
    lo, hi = interval
    probe = np.unique(np.append(np.linspace(lo, hi, 10_000), 0.5 * (lo + hi)))
    probe.setflags(write=False)
    return probe


def as_run(program: Program) -> Program:
    """The program with its constant subexpressions computed into constants, rounded as a run
    rounds them (:meth:`~discovery.programs.graph.Program.folded`); the program itself where
    one of them is not finite.

    Exact analysis must look at this form: ``x - (c0 + c1)`` divides by zero at the double
    fl(c0 + c1), not at the exact sum, which is in general no double and no point a run meets.
    """
    try:
        return program.folded()
    except ValueError:
        return program


def _double_divisor_zeros(program: Program, target: Target) -> np.ndarray:
    """The zeros in the interval of the program's divisors that are doubles (none with a sqrt)."""
    form = rational_form(program)
    if form is None:
        return np.empty(0)
    zeros, _ = divisor_zeros(form[2], *target.interval, irrational=False)
    return np.array([float(z) for z in zeros if Fraction(float(z)) == Fraction(int(z.p), int(z.q))])


def infinity_points(program: Program, target: Target) -> np.ndarray:
    """Where to look for divisions by zero: :func:`infinity_probe`'s points and, for a program
    without square roots, the zeros of its divisors that are doubles (an offset x - c divides by
    exactly zero at x = c, which a grid hits only by chance)."""
    return np.union1d(_probe(target), _double_divisor_zeros(as_run(program), target))


def program_record(program: Program, target: Target, ops: int, float32: dict | None = None) -> dict:
    """What the store keeps of a program (see :meth:`discovery.store.FormulaStore.write_programs`):
    genome, ``ops``, the scanned ``max_error`` (inf where the result is not finite somewhere,
    :func:`finiteness`), the proven ``bound`` (None when the target has a
    function that cannot be enclosed), ``infinities``, the expression and, under the ``ulp32``
    error mode, ``max_ulp`` from the exhaustive float32 check (``float32``, one of
    :func:`float32_ulp_errors`' reports; run here when not given)."""
    bound = error_bound(program, target).bound if enclosable(target) else None
    code = finiteness([program], target)[0]
    # A result infinite or NaN at a point the scan misses (the middle of [-1, 1]) is no error
    # the scan can measure: the program is wrong there.
    scanned = math.inf if code == NOT_FINITE else max_error(program, target)
    record = {"genome": program.to_json(), "ops": ops, "max_error": scanned, "bound": bound,
              "infinities": bool(code != FINITE), "expression": program.expression()}
    if target.error == "ulp32":
        report = float32 if float32 is not None else float32_ulp_errors([program], target)[0]
        record["max_ulp"] = report["max_ulp"] if report["exhaustive"] else None
    return record
