"""Programs run in IEEE binary32 exactly as their exported C with ``float`` runs, and ULP errors.

Every value is a float32: constants are rounded to float32 once, each operation rounds its
result once to nearest (even), and ``fma`` rounds a*b + c once, as C's ``fmaf`` does.  numba
has no fused float32 multiply-add, so :func:`_fma32` builds one: for float32 operands a*b is
exact in float64, and a*b + c is rounded to float64 *to odd* (the float64 sum, made odd toward
the exact value when inexact), which rounds to float32 exactly as the exact sum would, since
float64 carries more than 24 + 2 bits.

The ULP distance of two float32 values is the difference of their bit patterns mapped to
integers ordered like the floats (``-0`` and ``+0`` both map to 0), so it counts the float32
values between them, across zero too.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numba
import numpy as np

from discovery.programs.kernels import Packed, pack
from discovery.programs.ops import ADD, DIV, FMA, MUL, MUL2, SQRT, SUB

# The ULP distance given to a NaN or infinite result: larger than any distance between finite
# float32 values (under 2^32), so it always counts as a failure.
ULP_HUGE = 1 << 40
_BLOCK = 1024  # points run together, one instruction at a time (the working set stays in cache)
_GROUP = 8  # blocks per parallel task: one scratch table allocated per task
# The most the tie-break of population_ulp_scores adds: under one half, so a score rounds to its
# ULP distance.
_TIE_BREAK = 0.45


def ordered(x: np.ndarray) -> np.ndarray:
    """float32 values (or their int32 bit patterns) as int64 integers ordered like the floats."""
    b = np.asarray(x)
    b = (b.view(np.int32) if b.dtype == np.float32 else b.astype(np.int32)).astype(np.int64)
    return np.where(b < 0, -(b & 0x7FFFFFFF), b)


def from_ordered(o: np.ndarray) -> np.ndarray:
    """The float32 values of ordered integers (inverse of :func:`ordered`; 0 gives +0)."""
    o = np.asarray(o, dtype=np.int64)
    bits = np.where(o < 0, (-o) | 0x80000000, o)
    return bits.astype(np.uint32).view(np.float32)


def ulp_distance(a, b) -> np.ndarray:
    """Number of float32 steps between float32 values a and b (ULP_HUGE where either is NaN or
    infinite)."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    d = np.abs(ordered(a) - ordered(b))
    return np.where(np.isfinite(a) & np.isfinite(b), d, ULP_HUGE)


def round_to_float32(value) -> np.float32:
    """An exact real (Fraction, int, or an mpmath number carrying enough bits) correctly rounded to
    float32, to nearest with ties to even.

    Rounding to float64 first and then to float32 can round twice the wrong way when the float64
    lands exactly halfway between two float32 values; then the exact value decides.
    """
    exact = value if isinstance(value, Fraction) else _fraction(value)
    try:
        f64 = float(exact)  # correctly rounded (int / int true division)
    except OverflowError:
        return np.float32(math.copysign(math.inf, exact))
    with np.errstate(over="ignore"):
        r = np.float32(f64)
    if not np.isfinite(r) or Fraction(f64) == exact:
        return r
    other = np.nextafter(r, np.float32(math.inf) if f64 > float(r) else np.float32(-math.inf))
    if np.isfinite(other) and Fraction(float(r)) + Fraction(float(other)) == 2 * Fraction(f64):
        # f64 is a midpoint: the exact value, off it, picks the side.
        return other if (exact > Fraction(f64)) == (other > r) else r
    return r


def _fraction(value) -> Fraction:
    """An mpmath number (or int / float / Fraction) as an exact Fraction."""
    if isinstance(value, (int, float, Fraction, np.floating)):
        return Fraction(float(value) if isinstance(value, np.floating) else value)
    man, exp = value.man_exp  # mpmath mpf: man * 2**exp exactly
    return Fraction(int(man)) * Fraction(2) ** int(exp)


@numba.njit(cache=True)
def _fma32(a, b, c):
    # a*b is exact in float64 (24 + 24 bits); s + e == p + c exactly (TwoSum).
    p = np.float64(a) * np.float64(b)
    cc = np.float64(c)
    s = p + cc
    if not math.isfinite(s):
        return np.float32(s)
    bb = s - p
    e = (p - (s - bb)) + (cc - bb)
    if e != 0.0:
        m, _ = math.frexp(s)
        if np.int64(m * 9007199254740992.0) & 1 == 0:  # 2^53: the last significand bit is even
            s = np.nextafter(s, math.inf if e > 0.0 else -math.inf)
    return np.float32(s)


@numba.njit(cache=True, error_model="numpy")
def _run_block(ops, args, consts32, X, start, n, vals):
    # vals: the value table (1 + K + L, block) of float32, one row per value.
    K = consts32.size
    for i in range(n):
        vals[0, i] = X[start + i]
    for k in range(K):
        for i in range(n):
            vals[1 + k, i] = consts32[k]
    two, half = np.float32(2.0), np.float32(0.5)
    for t in range(ops.size):
        op = ops[t]
        if op < 0:
            continue
        r = vals[1 + K + t]
        a = vals[args[t, 0]]
        b = vals[args[t, 1]]
        if op == ADD:
            for i in range(n):
                r[i] = a[i] + b[i]
        elif op == SUB:
            for i in range(n):
                r[i] = a[i] - b[i]
        elif op == MUL:
            for i in range(n):
                r[i] = a[i] * b[i]
        elif op == DIV:
            for i in range(n):
                r[i] = a[i] / b[i]
        elif op == SQRT:
            for i in range(n):
                r[i] = np.sqrt(a[i])
        elif op == FMA:
            c = vals[args[t, 2]]
            for i in range(n):
                r[i] = _fma32(a[i], b[i], c[i])
        elif op == MUL2:
            for i in range(n):
                r[i] = two * a[i]
        else:
            for i in range(n):
                r[i] = half * a[i]


def float32_spacing(value) -> float:
    """The float32 ULP that measures an error at the real ``value``: the spacing of the float32
    values of its binade, 2^(e - 23) for 2^e <= |value| < 2^(e + 1) (2^-149 among the subnormals),
    except at an exact power of two, where it is the spacing *below* it, 2^(e - 24): an
    approximation falling short of 1 lands among floats twice as dense, each of which counts as
    one ULP of distance, so there the finer spacing is the one an error must be measured in.

    Parameters
    ----------
    value : float, int, Fraction or mpmath number

    Returns
    -------
    float
        A power of two.
    """
    v = abs(_fraction(value))
    if v == 0:
        return 2.0**-149
    e = v.numerator.bit_length() - v.denominator.bit_length()  # 2^e <= v < 2^(e + 1) after the fix below
    if v < Fraction(2) ** e:
        e -= 1
    if v == Fraction(2) ** e:
        e -= 1  # the spacing below a power of two
    return math.ldexp(1.0, max(e - 23, -149))


def float32_spacings(values: np.ndarray) -> np.ndarray:
    """:func:`float32_spacing` of every float64 value (exact for float64 inputs)."""
    v = np.abs(np.asarray(values, dtype=np.float64))
    m, e = np.frexp(v)  # v = m 2^e, 1/2 <= m < 1: the binade is [2^(e-1), 2^e)
    e = np.where(m == 0.5, e - 1, e)  # exact powers of two: the spacing below
    return np.where(v == 0, 2.0**-149, np.ldexp(1.0, np.maximum(e - 24, -149)))


@numba.njit(cache=True)
def _ulp32(t):
    # The float32 spacing at |t| (of t's binade; the subnormal spacing below 2^-126).
    if t == 0.0:
        return 2.0**-149
    _, e = math.frexp(abs(t))
    return math.ldexp(1.0, max(e - 24, -149))


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _ulp_kernel(ops, args, consts32, out, X, ref_bits, exact, worst, where, count, worst_exact):
    # worst, where, count, worst_exact: (P, number of groups); exact empty: no fractional errors.
    P = ops.shape[0]
    n_rows = 1 + consts32.shape[1] + ops.shape[1]
    span = _BLOCK * _GROUP
    with_exact = exact.size > 0
    for g in numba.prange((X.size + span - 1) // span):
        vals = np.empty((n_rows, _BLOCK), dtype=np.float32)
        for p in range(P):
            w, wi, wc, we = np.int64(0), np.int64(-1), np.int64(0), 0.0
            for start in range(g * span, min(X.size, (g + 1) * span), _BLOCK):
                n = min(_BLOCK, X.size - start)
                _run_block(ops[p], args[p], consts32[p], X, start, n, vals)
                y = vals[out[p]]
                bits = y.view(np.int32)
                for i in range(n):
                    b = np.int64(bits[i])
                    if b & 0x7F800000 == 0x7F800000:  # NaN or infinite
                        d = np.int64(ULP_HUGE)
                        we = math.inf
                    else:
                        r = np.int64(ref_bits[start + i])
                        d = abs((b if b >= 0 else -(b & 0x7FFFFFFF)) - (r if r >= 0 else -(r & 0x7FFFFFFF)))
                        # A correctly rounded result is within 0.5 ULP of the exact value and any
                        # other beyond it: once one is off, the correct ones cannot be the worst.
                        if with_exact and (d > 0 or w == 0):
                            t = exact[start + i]
                            we = max(we, abs(np.float64(y[i]) - t) / _ulp32(t))
                    if d > w:
                        w, wi, wc = d, start + i, np.int64(1)
                    elif d == w:
                        wc += 1
            worst[p, g], where[p, g], count[p, g], worst_exact[p, g] = w, wi, wc, we


def _packed32(programs) -> tuple[Packed, np.ndarray]:
    packed = programs if isinstance(programs, Packed) else pack([p.simplified() for p in programs])
    return packed, packed.consts.astype(np.float32)


def ulp_scan(packed: Packed, consts32: np.ndarray, X32: np.ndarray, ref32: np.ndarray,
             exact: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per program: the max ULP distance to ``ref32`` over ``X32``, the index of a point where it
    occurs (-1 if every point is exact), the max error in ULPs of the exact values ``exact``
    (float64; inf where a result is NaN or infinite; zeros without ``exact``) and the number of
    points at the max ULP distance (how far a program is from dropping to one ULP less).  For
    callers that scan one grid in pieces (:func:`discovery.programs.verify.float32_ulp_errors`)."""
    X32 = np.ascontiguousarray(X32, dtype=np.float32)
    ref32 = np.ascontiguousarray(ref32, dtype=np.float32)
    if X32.shape != ref32.shape or X32.ndim != 1:
        raise ValueError(f"X32 and ref32 must be 1-D arrays of one length, got {X32.shape} and {ref32.shape}")
    exact = np.empty(0) if exact is None else np.ascontiguousarray(exact, dtype=np.float64)
    if exact.size and exact.shape != X32.shape:
        raise ValueError(f"exact values of shape {exact.shape} for {X32.size} points")
    P = len(packed.ops)
    groups = max(1, -(-X32.size // (_BLOCK * _GROUP)))
    worst = np.zeros((P, groups), dtype=np.int64)
    where = np.full((P, groups), -1, dtype=np.int64)
    count = np.zeros((P, groups), dtype=np.int64)
    worst_exact = np.zeros((P, groups))
    if X32.size:
        _ulp_kernel(packed.ops, packed.args, consts32, packed.out, X32, ref32.view(np.int32), exact, worst, where,
                    count, worst_exact)
    g = np.argmax(worst, axis=1)
    rows = np.arange(P)
    top = worst[rows, g]
    at_top = np.where(worst == top[:, None], count, 0).sum(axis=1)
    return top, where[rows, g], np.max(worst_exact, axis=1), at_top


def group_worst(program, X32: np.ndarray, ref32: np.ndarray, above: int) -> np.ndarray:
    """Indices of points of X32 where one program is more than ``above`` ULPs off ``ref32``: the
    worst point of each block of 8,192 that has one (enough to show a tuner where it fails)."""
    packed, consts32 = _packed32([program])
    X32 = np.ascontiguousarray(X32, dtype=np.float32)
    ref32 = np.ascontiguousarray(ref32, dtype=np.float32)
    groups = max(1, -(-X32.size // (_BLOCK * _GROUP)))
    worst = np.zeros((1, groups), dtype=np.int64)
    where = np.full((1, groups), -1, dtype=np.int64)
    count = np.zeros((1, groups), dtype=np.int64)
    if X32.size:
        _ulp_kernel(packed.ops, packed.args, consts32, packed.out, X32, ref32.view(np.int32), np.empty(0), worst,
                    where, count, np.zeros((1, groups)))
    return where[0][worst[0] > above]


def population_ulp_errors(programs, X32: np.ndarray, ref32: np.ndarray) -> np.ndarray:
    """Maximum ULP distance of every program run in float32 over the points X32 from ``ref32``.

    Parameters
    ----------
    programs : sequence of Program, or Packed
        Programs are simplified first (dead instructions cost time, not values).
    X32, ref32 : ndarray of float32
        Points and correctly rounded target values.

    Returns
    -------
    ndarray of int64
        One maximum per program; :data:`ULP_HUGE` where a result is NaN or infinite.
    """
    packed, consts32 = _packed32(programs)
    return ulp_scan(packed, consts32, X32, ref32)[0]


def population_ulp_scores(programs, X32: np.ndarray, ref32: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """1 + the maximum ULP distance of every program run in float32 over the points X32 from
    ``ref32``, plus a tie-break under one half that grows with its max error in ULPs of the
    ``exact`` values: what an ``ulp32`` search ranks by.

    Programs equally many ULPs off the correctly rounded values on a grid differ in how close to
    the next ULP they run: 2^x's degree-5 Horner polynomial and x(Q^2 + e) + 1 are both one ULP
    off on the search's grid, 1.64 and 1.48 ULPs of the exact values once tuned, and only the
    second is one ULP off on every float32.  A result d ULPs from the correctly rounded value is
    within d +- 1/2 ULP of the exact one, so the max error in ULPs of the exact values minus the
    max distance, plus 1/2, lies in [0, 1] (clipped where a binade's end bends it).

    Parameters
    ----------
    programs : sequence of Program, or Packed
        Programs are simplified first.
    X32, ref32 : ndarray of float32
        Points and correctly rounded target values.
    exact : ndarray of float64
        The target's values at X32.

    Returns
    -------
    ndarray of float64
        One score per program; at least 1 + :data:`ULP_HUGE` where a result is NaN or infinite.
    """
    packed, consts32 = _packed32(programs)
    top, _, worst_exact, _ = ulp_scan(packed, consts32, X32, ref32, exact)
    with np.errstate(invalid="ignore"):
        closeness = np.clip(np.nan_to_num(worst_exact - top + 0.5, nan=1.0, posinf=1.0), 0.0, 1.0)
    return 1.0 + top + _TIE_BREAK * closeness


def run32(program, X32: np.ndarray) -> np.ndarray:
    """The float32 values of one program at the float32 points X32 (as its C with float computes)."""
    packed, consts32 = _packed32([program])
    X32 = np.ascontiguousarray(X32, dtype=np.float32)
    vals = np.empty((1 + consts32.shape[1] + packed.ops.shape[1], _BLOCK), dtype=np.float32)
    out = np.empty(X32.size, dtype=np.float32)
    for start in range(0, X32.size, _BLOCK):
        n = min(_BLOCK, X32.size - start)
        _run_block(packed.ops[0], packed.args[0], consts32[0], X32, start, n, vals)
        out[start:start + n] = vals[packed.out[0], :n]
    return out


def float32_span(interval) -> tuple[int, int]:
    """The ordered integers of the first and last float32 inside [lo, hi].

    Raises
    ------
    ValueError
        If no float32 lies in the interval.
    """
    lo, hi = (float(v) for v in interval)
    first, last = np.float32(lo), np.float32(hi)
    if float(first) < lo:
        first = np.nextafter(first, np.float32(math.inf))
    if float(last) > hi:
        last = np.nextafter(last, np.float32(-math.inf))
    a, b = int(ordered(np.array([first]))[0]), int(ordered(np.array([last]))[0])
    if not (np.isfinite(first) and np.isfinite(last)) or a > b:
        raise ValueError(f"no finite float32 lies in [{lo}, {hi}]")
    return a, b


@numba.njit(cache=True, parallel=True)
def _from_ordered_range(start, stride, bits):
    for i in numba.prange(bits.size):
        o = start + i * stride
        bits[i] = o if o >= 0 else np.int32(-o - 2147483648)  # sign bit set: (-o) - 2^31 as int32


def float32_range(start: int, stop: int, stride: int = 1) -> np.ndarray:
    """The float32 values of the ordered integers ``range(start, stop, stride)`` (what
    :func:`from_ordered` gives, without the int64 temporaries of an exhaustive scan)."""
    bits = np.empty(max(0, -(-(stop - start) // stride)), dtype=np.int32)
    _from_ordered_range(start, stride, bits)
    return bits.view(np.float32)


@numba.njit(cache=True, parallel=True)
def _doubtful(t64, bits, margin, flags):
    for i in numba.prange(t64.size):
        low = bits[i] & 0x1FFFFFFF  # the 29 bits rounding to float32 drops
        a = abs(t64[i])
        flags[i] = abs(low - 0x10000000) <= margin or not (1.1754943508222875e-38 <= a < math.inf)


def doubtful_roundings(t64: np.ndarray, margin: int = 4) -> np.ndarray:
    """Indices of float64 values (each within a few float64 ULPs of an exact value) whose rounding
    to float32 may differ from the exact value's: within ``margin`` float64 ULPs of a float32
    midpoint, below the float32 normal range (2^-126), or not finite."""
    flags = np.empty(t64.size, dtype=np.bool_)
    t64 = np.ascontiguousarray(t64, dtype=np.float64)
    _doubtful(t64, t64.view(np.int64), margin, flags)
    return np.flatnonzero(flags)


def strided_float32(interval, count: int) -> np.ndarray:
    """About ``count`` float32 values of the interval evenly strided in float order (every float32
    when there are fewer), so they sample the floats as an exhaustive check weighs them."""
    a, b = float32_span(interval)
    step = max(1, (b - a) // max(1, count - 1))
    o = np.unique(np.append(np.arange(a, b + 1, step, dtype=np.int64), b))
    return from_ordered(o)
