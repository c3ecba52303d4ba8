"""Certification of programs: high-precision maximum error and float32 ULP error.

:func:`max_error` evaluates the program in exact-precision mpmath arithmetic (so it measures the
formula, not float rounding) on a dense grid, then refines every local maximum of the error by
golden-section search, and returns the largest value found.  :func:`float32_ulp_error` runs the
program in float32 on every float32 of the interval and compares with the correctly rounded
target.
"""

from __future__ import annotations

import math

import mpmath
import numba
import numpy as np

from discovery.programs.graph import Program
from discovery.programs.kernels import _ADD, _DIV, _FMA, _MUL, _MUL2, _SQRT, _SUB, pack
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


@numba.njit(cache=True, error_model="numpy")
def _run32(ops, args, consts, out, X, result):
    K = consts.size
    vals = np.empty(1 + K + ops.size, dtype=np.float32)
    for i in range(X.size):
        vals[0] = X[i]
        for k in range(K):
            vals[1 + k] = np.float32(consts[k])
        for t in range(ops.size):
            op = ops[t]
            if op < 0:
                continue
            a = vals[args[t, 0]]
            b = vals[args[t, 1]]
            if op == _ADD:
                v = a + b
            elif op == _SUB:
                v = a - b
            elif op == _MUL:
                v = a * b
            elif op == _DIV:
                v = a / b
            elif op == _SQRT:
                v = np.sqrt(a)
            elif op == _FMA:
                v = a * b + vals[args[t, 2]]
            elif op == _MUL2:
                v = np.float32(2.0) * a
            else:
                v = np.float32(0.5) * a
            vals[1 + K + t] = v
        result[i] = vals[out]


def _ordered(bits: np.ndarray) -> np.ndarray:
    """float32 bit patterns mapped to integers ordered like the floats (ULP distances)."""
    b = bits.astype(np.int64)
    return np.where(b < 0, -(b & 0x7FFFFFFF), b)


def float32_ulp_error(program: Program, target: Target, chunk: int = 1 << 22, limit: int | None = None) -> dict:
    """Maximum ULP error of the program run in float32 over every float32 of the interval.

    The reference is the target in float64 (numpy) rounded to float32; targets without a numpy
    form are evaluated with mpmath on a sample instead.  ``limit`` caps the number of floats
    checked (evenly strided) for a quick look.

    Returns
    -------
    dict
        ``max_ulp``, ``worst_x``, ``checked`` (number of floats), ``exhaustive`` (bool).
    """
    lo, hi = (np.float32(v) for v in target.interval)
    packed = pack([program.simplified()])
    ref_fn = target.numpy()
    segments = []
    if lo < 0:
        segments.append((np.float32(max(-hi, 0) if hi < 0 else 0), -lo, -1))
    if hi >= 0:
        segments.append((max(lo, np.float32(0)), hi, 1))
    total = sum(int(np.float32(b).view(np.int32)) - int(np.float32(a).view(np.int32)) + 1 for a, b, _ in segments)
    stride = 1 if limit is None or total <= limit else math.ceil(total / limit)
    if ref_fn is None and stride == 1:
        stride = max(1, math.ceil(total / 200_000))
    worst, worst_x, checked = 0, float("nan"), 0
    out = np.empty(chunk, dtype=np.float32)
    for a, b, sign in segments:
        start, stop = int(np.float32(a).view(np.int32)), int(np.float32(b).view(np.int32))
        for s in range(start, stop + 1, chunk * stride):
            bits = np.arange(s, min(stop + 1, s + chunk * stride), stride, dtype=np.int64).astype(np.int32)
            X = bits.view(np.float32) * np.float32(sign)
            res = out[: X.size]
            _run32(packed.ops[0], packed.args[0], packed.consts[0], packed.out[0], X, res)
            if ref_fn is not None:
                ref = ref_fn(X.astype(np.float64)).astype(np.float32)
            else:
                with mpmath.workdps(30):
                    ref = np.array([float(target.mp(mpmath.mpf(float(x)))) for x in X]).astype(np.float32)
            ulps = np.abs(_ordered(res.view(np.int32)) - _ordered(ref.view(np.int32)))
            ulps = np.where(np.isfinite(res), ulps, np.iinfo(np.int64).max)
            k = int(np.argmax(ulps))
            if ulps[k] > worst:
                worst, worst_x = int(ulps[k]), float(X[k])
            checked += X.size
    return {"max_ulp": worst, "worst_x": worst_x, "checked": checked, "exhaustive": stride == 1}
