"""Certification of programs: high-precision maximum error and float32 ULP error.

:func:`max_error` evaluates the program in exact-precision mpmath arithmetic (so it measures the
formula, not float rounding) on a dense grid, then refines every local maximum of the error by
golden-section search, and returns the largest value found.  :func:`float32_ulp_errors` runs
programs in float32 (:mod:`discovery.programs.float32`) on every float32 of the interval and
compares with the correctly rounded target.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

from discovery.programs.float32 import doubtful_roundings, float32_range, float32_span, round_to_float32, ulp_scan
from discovery.programs.graph import Program
from discovery.programs.kernels import pack
from discovery.programs.ops import apply
from discovery.programs.targets import Target

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
    """The program's maximum error on the target's interval, certified at high precision.

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


def _reference32(target: Target, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        point of the largest ``max_ulp``; None when that is 0), ``checked`` (number of floats)
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
    checked = 0
    for s in range(a, b + 1, chunk * stride):
        X = float32_range(s, min(b + 1, s + chunk * stride), stride)
        ref, exact = _reference32(target, X)
        w, where, we = ulp_scan(packed, consts32, X, ref, exact)
        better = w > worst
        worst_x[better] = X[where[better]]
        worst[better] = w[better]
        worst_exact = np.maximum(worst_exact, we)
        checked += X.size
    return [{"max_ulp": int(worst[i]), "max_ulp_exact": float(worst_exact[i]),
             "worst_x": float(worst_x[i]) if worst[i] else None,
             "checked": checked, "exhaustive": stride == 1} for i in range(P)]


def float32_ulp_error(program: Program, target: Target, chunk: int = 1 << 22, limit: int | None = None) -> dict:
    """:func:`float32_ulp_errors` of one program."""
    return float32_ulp_errors([program], target, chunk, limit)[0]
