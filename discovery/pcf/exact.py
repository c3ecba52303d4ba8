"""Exact integer convergents of PCFs (gmpy2), their gcd and exact rational limits.

These are the slow, certain counterparts of the float kernels: used to verify candidates that
survive the float filter and to compute the reduced denominators the dynamics metrics need.
Convergents come from a binary-splitting product of the recurrence's matrices; for a batch
(:func:`walks`, and :func:`walk` when the values fit) its small products, the leaves, are
multiplied out in a numba kernel on 32-bit limbs and only the large ones are gmpy2 products.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import gmpy2
import mpmath
import numba
import numpy as np

from gmpy2 import mpz

from discovery.errors import InputError

_INT64_SAFE = 2**62


class LimitEstimate(NamedTuple):
    """A convergent (or an extrapolation of convergents) used as an approximation of a PCF's limit.

    Attributes
    ----------
    value : mpmath.mpf
        p_depth / q_depth (or the exact value of a finite fraction), NaN when q is zero; for
        ``method="richardson"`` the extrapolated value.
    digits : float
        Estimated number of correct significant digits; ``inf`` for a finite fraction, 0 when
        nothing can be said.  For a convergent it is the distance between the last two convergents
        times the tail those distances predict (geometric or power-law decay, measured between
        depth/2 and depth), so a slowly converging fraction is not credited with the digits of its
        last step alone; for an extrapolation it is the agreement of two independent extrapolations.
    depth : int
        The depth of the deepest convergent used.
    method : str
        ``convergent`` or ``richardson``.
    """

    value: mpmath.mpf
    digits: float
    depth: int
    method: str = "convergent"


def polyval(coeffs: Sequence[int], x: int) -> int:
    """Exact value of a polynomial given highest degree first."""
    v = 0
    for c in coeffs:
        v = v * x + c
    return v


def _values(coeffs: Sequence[int], start: int, stop: int) -> list:
    """Exact values of a polynomial at start..stop-1 (Python integers where int64 holds them: gmpy2
    multiplies by those at no extra cost, and converting each would)."""
    deg = len(coeffs) - 1
    bound = sum(abs(c) for c in coeffs) * max(1, abs(stop)) ** deg
    if bound < _INT64_SAFE:
        ks = np.arange(start, stop, dtype=np.int64)
        vals = np.zeros_like(ks)
        for c in coeffs:
            vals = vals * ks + c
        return vals.tolist()
    return [mpz(polyval(coeffs, k)) for k in range(start, stop)]


# Digits of the convergents an exact walk may reach.  Measured on PCF(2n+1, n²): depth 10⁶ (p_N of
# 5.6 million digits) takes 8 s and 0.42 GB, depth 2·10⁶ 16 s and 0.65 GB; depth 10⁷ took 2.35 GB
# and over a minute.
MAX_CONVERGENT_DIGITS = 15_000_000


def convergent_digits(a: Sequence[int], b: Sequence[int], depth: int) -> float:
    """An upper estimate of the decimal digits of p_depth and q_depth, from the coefficients alone.

    |p_k| <= |a(k)| |p_(k-1)| + |b(k)| |p_(k-2)| grows at most by the larger root of
    x² = |a(k)| x + |b(k)|, below |a(k)| + |b(k)|^(1/2), at each step; with the absolute values of
    the coefficients both polynomials are largest at k = depth.
    """
    top_a = polyval([abs(c) for c in a], depth)
    top_b = polyval([abs(c) for c in b], depth)
    return depth * math.log10(top_a + math.isqrt(top_b) + 2)


def check_walk(a: Sequence[int], b: Sequence[int], depth: int) -> None:
    """Refuse (one line) an exact walk whose convergents would pass :data:`MAX_CONVERGENT_DIGITS`."""
    digits = convergent_digits(a, b, depth)
    if digits > MAX_CONVERGENT_DIGITS:
        raise InputError(f"depth {depth:,} refused: the exact convergents would have about {digits:,.0f} digits "
                         f"(at most {MAX_CONVERGENT_DIGITS:,}, about 20 s and 1 GB)")


def _check_depths(depths: Sequence[int]) -> list[int]:
    out = []
    for d in depths:
        if isinstance(d, bool) or int(d) != d or d < 0:
            raise ValueError(f"depth must be a non-negative integer, got {d!r}")
        out.append(int(d))
    if not out:
        raise ValueError("no depths given")
    return out


def first_zero(b: Sequence[int], depth: int) -> int | None:
    """The first k in 1..depth with b(k) = 0 (the fraction is then finite), else None."""
    # An integer root k >= 1 of b(n) = n^m b'(n) with b'(0) != 0 divides b'(0).
    coeffs = list(b)
    while coeffs and coeffs[-1] == 0:
        coeffs.pop()
    if not coeffs:
        return 1 if depth >= 1 else None
    c0 = abs(coeffs[-1])
    for k in range(1, min(depth, c0) + 1):
        if c0 % k == 0 and polyval(coeffs, k) == 0:
            return k
    return None


_LEAF = 48  # steps multiplied one by one before the product tree takes over


def _product(av: list, bv: list, lo: int, hi: int, tick=None) -> tuple:
    """M_lo M_(lo+1) ... M_(hi-1) with M_k = [[a(k), 1], [b(k), 0]], as (m00, m01, m10, m11).

    Binary splitting: the large multiplications happen between numbers of similar size, where
    GMP's fast algorithms pay off, instead of one huge number times a small one at every step.
    """
    if hi - lo <= _LEAF:
        x, y, z, w = mpz(1), mpz(0), mpz(0), mpz(1)
        for k in range(lo, hi):
            a, b = av[k], bv[k]
            x, y = x * a + y * b, x
            z, w = z * a + w * b, z
        if tick is not None:
            tick(hi - lo)
        return x, y, z, w
    mid = (lo + hi) // 2
    x1, y1, z1, w1 = _product(av, bv, lo, mid, tick)
    x2, y2, z2, w2 = _product(av, bv, mid, hi, tick)
    return x1 * x2 + y1 * z2, x1 * y2 + y1 * w2, z1 * x2 + w1 * z2, z1 * y2 + w1 * w2


_PROGRESS_DEPTH = 20_000  # below this depth a walk takes well under a second: no bar
_PROGRESS_DELAY = 3.0  # seconds before the bar appears (tqdm's delay)


def walk(a: Sequence[int], b: Sequence[int], depths: Sequence[int], progress: bool = False) -> dict:
    """Convergents at several depths from one pass over the recurrence's matrix product.

    The product is computed by binary splitting, the fast path for deep convergents (depths of
    10⁵–10⁶ take seconds, not hours).

    Parameters
    ----------
    a, b : sequence of int
        Coefficients, highest degree first (Python integers of any size).
    depths : sequence of int
        Non-negative depths, in any order.
    progress : bool
        Show a tqdm bar (on stderr) when the walk is deep and still running after a few seconds.

    Returns
    -------
    dict
        ``{depth: (p, q, p_prev, q_prev)}`` with gmpy2 integers; at depth 0 the previous pair is
        (1, 0).
    """
    wanted = sorted(set(_check_depths(depths)))
    top = wanted[-1]
    # Up to one leaf the plain gmpy2 loop is as fast as the kernel's set-up.
    if _BATCH_LEAF < top and not (progress and top >= _PROGRESS_DEPTH) and _batchable(a, b, top):
        width = max(len(a), len(b))
        A = np.array([[0] * (width - len(a)) + [int(c) for c in a]], dtype=np.int64)
        B = np.array([[0] * (width - len(b)) + [int(c) for c in b]], dtype=np.int64)
        return walks(A, B, wanted)[0]
    return _walk_gmpy(a, b, wanted, progress)


def _walk_gmpy(a: Sequence[int], b: Sequence[int], wanted: list[int], progress: bool = False) -> dict:
    """:func:`walk` in gmpy2 alone (any coefficients; a progress bar when deep)."""
    top = wanted[-1]
    av = [mpz(0)] + _values(a, 1, top + 1)
    bv = [mpz(0)] + _values(b, 1, top + 1)
    # [[p_n, p_(n-1)], [q_n, q_(n-1)]] = [[p_m, p_(m-1)], [q_m, q_(m-1)]] M_(m+1) ... M_n
    p, p_prev, q, q_prev = mpz(polyval(a, 0)), mpz(1), mpz(1), mpz(0)
    found = {}
    done = 0
    bar = None
    if progress and top >= _PROGRESS_DEPTH:
        from tqdm import tqdm

        bar = tqdm(total=top, unit="step", desc="exact convergents", delay=_PROGRESS_DELAY, leave=False)
    try:
        for d in wanted:
            if d > done:
                x, y, z, w = _product(av, bv, done + 1, d + 1, None if bar is None else bar.update)
                p, p_prev = p * x + p_prev * z, p * y + p_prev * w
                q, q_prev = q * x + q_prev * z, q * y + q_prev * w
                done = d
            found[d] = (p, q, p_prev, q_prev)
    finally:
        if bar is not None:
            bar.close()
    return found


# Steps per leaf of the batch walk: long enough that few leaves cross into Python, short enough
# that the leaf's schoolbook recurrence (quadratic in its length) stays cheap.  64 to 128 ran
# alike at depth 1000 (depth 32 and 192 about 10 % slower).
_BATCH_LEAF = 96
_LIMB = 32  # bits per limb of the leaf kernel
_MASK = 0xFFFFFFFF
# |a(k)| + |b(k)| below this takes the leaf kernel: a limb (< 2³²) times each, summed with the
# carry, stays inside int64.
_LIMB_VALUE_BOUND = 2**30
_from_bytes = mpz.from_bytes
_ROWS_PER_CHUNK = 256


@numba.njit(cache=True)
def _is_sign_fill(v, n):
    """Whether limb n-1 of v only extends the sign of limb n-2 (the value fits in n-1 limbs)."""
    return v[n - 1] == (_MASK if v[n - 2] >> (_LIMB - 1) else 0)


@numba.njit(cache=True)
def _horner(coeffs, k):
    v = 0
    for c in coeffs:
        v = v * k + c
    return v


@numba.njit(cache=True)
def _leaf_products(A, B, starts, stops, out):
    """The products M_start ... M_(stop-1) of each leaf for each row, as two's-complement limbs.

    Rows of ``A``, ``B`` are coefficients with |a(k)| + |b(k)| < 2³⁰ over the leaves (the
    caller checks); ``out[i, l]`` receives the four entries (m00, m01, m10, m11) of leaf l of
    row i, each ``out.shape[3]`` little-endian 32-bit limbs (the caller makes them wide enough).

    The rows (x, y), (z, w) of the running product step to (x a + y b, x), (z a + w b, z), in
    one pass over the limbs with signed carries: |limb·a + limb·b + carry| < 2⁶³, and the floor
    shift of the carry keeps the low limbs exact modulo 2^(32n) whatever the signs.  The top
    limb n-1 is kept a pure sign extension, so every entry fits in n-1 limbs; one step grows
    it by less than 2³⁰, so the next result fits in n limbs and the arithmetic modulo 2^(32n)
    is exact.
    """
    width = out.shape[3]
    bufs = np.zeros((6, width), dtype=np.int64)
    for i in range(A.shape[0]):
        for leaf in range(starts.size):
            x, y, z, w, sx, sz = bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], bufs[5]
            for v in (x, y, z, w):
                v[0] = 0
                v[1] = 0
            x[0] = 1
            w[0] = 1
            n = 2
            for k in range(starts[leaf], stops[leaf]):
                a, b = _horner(A[i], k), _horner(B[i], k)
                carry_x = 0
                carry_z = 0
                for j in range(n):
                    tx = x[j] * a + y[j] * b + carry_x
                    tz = z[j] * a + w[j] * b + carry_z
                    sx[j] = tx & _MASK
                    sz[j] = tz & _MASK
                    carry_x = tx >> _LIMB
                    carry_z = tz >> _LIMB
                x, y, sx = sx, x, y
                z, w, sz = sz, z, w
                if n < width and not (_is_sign_fill(x, n) and _is_sign_fill(z, n)):
                    for v in (x, y, z, w):
                        v[n] = _MASK if v[n - 1] >> (_LIMB - 1) else 0
                    n += 1
            for r, v in enumerate((x, y, z, w)):
                fill = _MASK if v[n - 1] >> (_LIMB - 1) else 0
                for j in range(width):
                    out[i, leaf, r, j] = v[j] if j < n else fill


def _combine(nodes: list) -> tuple:
    """The product of a list of matrices (m00, m01, m10, m11), by pairwise halving (binary splitting)."""
    while len(nodes) > 1:
        paired = []
        for j in range(0, len(nodes) - 1, 2):
            (x1, y1, z1, w1), (x2, y2, z2, w2) = nodes[j], nodes[j + 1]
            paired.append((x1 * x2 + y1 * z2, x1 * y2 + y1 * w2, z1 * x2 + w1 * z2, z1 * y2 + w1 * w2))
        if len(nodes) % 2:
            paired.append(nodes[-1])
        nodes = paired
    return nodes[0]


def _first_column(nodes: list) -> tuple:
    """The first column (m00, m10) of the product of a list of matrices: the right half of every
    split needs only its own first column."""
    if len(nodes) == 1:
        return nodes[0][0], nodes[0][2]
    mid = len(nodes) // 2
    x, y, z, w = _combine(nodes[:mid])
    cx, cz = _first_column(nodes[mid:])
    return x * cx + y * cz, z * cx + w * cz


def _batchable(a: Sequence[int], b: Sequence[int], top: int) -> bool:
    """Whether the leaf kernel of :func:`walks` takes this PCF to depth ``top``."""
    g = sum(abs(int(c)) * max(top, 1) ** e for C in (a, b) for e, c in enumerate(reversed(C)))
    return g < _LIMB_VALUE_BOUND


def walks(A, B, depths: Sequence[int], previous: bool = True) -> list[dict]:
    """:func:`walk` for every row of coefficient arrays, with the small products in one kernel.

    The leaves of the binary splitting (runs of 96 steps, whose products are numbers of a few
    thousand bits) are multiplied out in a numba kernel on 32-bit limbs for the whole batch;
    only the few large products above them are gmpy2 multiplications.  Rows whose values
    a(k), b(k) reach 2³¹ take :func:`walk`.

    Parameters
    ----------
    A, B : ndarray of int
        One PCF per row, coefficients highest degree first, zero-padded on the left.
    depths : sequence of int
        Non-negative depths, in any order.
    previous : bool
        Also return (p_(n-1), q_(n-1)); without them the deepest step multiplies out only the
        first column of its product, about a third less work.

    Returns
    -------
    list of dict
        Per row, ``{depth: (p, q, p_prev, q_prev)}`` with gmpy2 integers, as :func:`walk`, or
        ``{depth: (p, q)}`` with ``previous=False``.
    """
    A = np.asarray(A, dtype=np.int64)
    B = np.asarray(B, dtype=np.int64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != B.shape[0] or 0 in (A.shape[1], B.shape[1]):
        raise ValueError(f"A and B must be 2-D with one row per PCF and a coefficient column at least, "
                         f"got shapes {A.shape} and {B.shape}")
    wanted = sorted(set(_check_depths(depths)))
    top = wanted[-1]
    # |a(k)| + |b(k)| <= g(top) for k <= top, with g the sum of both polynomials' absolute values
    g = np.zeros(A.shape[0])
    for C in (A, B):
        g += (np.abs(C.astype(np.float64)) * float(max(top, 1)) ** np.arange(C.shape[1] - 1, -1, -1)).sum(axis=1)
    small = g < _LIMB_VALUE_BOUND
    result: list = [None] * A.shape[0]
    for i in np.nonzero(~small)[0]:
        found = _walk_gmpy([int(c) for c in A[i]], [int(c) for c in B[i]], wanted)
        result[i] = found if previous else {d: v[:2] for d, v in found.items()}
    rows = np.nonzero(small)[0]
    if not rows.size:
        return result
    # Leaves: runs of at most _BATCH_LEAF steps that never straddle a wanted depth.
    cuts = sorted(set(range(0, top, _BATCH_LEAF)) | set(wanted))
    starts = np.array(cuts[:-1], dtype=np.int64) + 1
    stops = np.array(cuts[1:], dtype=np.int64) + 1
    bits = float(np.max(stops - starts, initial=0)) * math.log2(max(float(g[rows].max()), 1.0))
    width = int(bits + 2.0) // _LIMB + 2  # and a spare limb: see _leaf_products
    # the leaves between one wanted depth and the next
    spans, leaf = [], 0
    for d in wanted:
        first = leaf
        while leaf < starts.size and stops[leaf] <= d + 1:
            leaf += 1
        spans.append((d, first, leaf))
    # A chunk of rows at a time keeps the limbs and their integers to a few megabytes.
    for lo in range(0, rows.size, _ROWS_PER_CHUNK):
        chunk = rows[lo:lo + _ROWS_PER_CHUNK]
        for i, found in zip(chunk, _walk_chunk(A[chunk], B[chunk], starts, stops, width, spans, previous)):
            result[i] = found
    return result


def _walk_chunk(A, B, starts, stops, width: int, spans: list, previous: bool) -> list[dict]:
    """:func:`walks` of rows that all take the leaf kernel."""
    ints = []
    if starts.size:
        out = np.empty((A.shape[0], starts.size, 4, width), dtype="<u4")
        _leaf_products(A, B, starts, stops, out)
        size = 4 * width
        raw = out.tobytes()
        ints = [_from_bytes(raw[o:o + size], "little", signed=True) for o in range(0, len(raw), size)]
    last = len(spans) - 1
    per_row = 4 * starts.size
    result = []
    for r, a0 in enumerate(A[:, -1].tolist()):
        base = r * per_row
        p, p_prev, q, q_prev = mpz(a0), mpz(1), mpz(1), mpz(0)
        found = {}
        for s, (d, first, stop) in enumerate(spans):
            if stop > first:
                nodes = [tuple(ints[base + 4 * j:base + 4 * j + 4]) for j in range(first, stop)]
                if s == last and not previous:
                    x, z = _first_column(nodes)
                    p, q = p * x + p_prev * z, q * x + q_prev * z
                else:
                    x, y, z, w = _combine(nodes)
                    p, p_prev = p * x + p_prev * z, p * y + p_prev * w
                    q, q_prev = q * x + q_prev * z, q * y + q_prev * w
            found[d] = (p, q, p_prev, q_prev) if previous else (p, q)
        result.append(found)
    return result


def convergents(a: Sequence[int], b: Sequence[int], depths: Sequence[int]) -> list[tuple]:
    """Exact ``(p_n, q_n)`` at each requested depth, in the order given.

    These are the plain recurrence values: for a finite fraction (b(k) = 0) they keep growing by
    a common factor, so their ratio stays the fraction's value.
    """
    found = walk(a, b, depths)
    return [found[int(d)][:2] for d in depths]


def reduced(p: int, q: int) -> tuple[int, int, int]:
    """``(p/g, q/g, g)`` with g = gcd(p, q) (g > 0; 0 only when p = q = 0)."""
    g = gmpy2.gcd(p, q)
    if g == 0:
        return p, q, 0
    return p // g, q // g, g


def exact_limit(a: Sequence[int], b: Sequence[int], depth: int):
    """The convergent at ``depth`` as an exact rational, or the value of a finite fraction.

    Returns
    -------
    gmpy2.mpq or None
        ``p_depth / q_depth`` in lowest terms, or ``p_{k-1}/q_{k-1}`` if b(k) = 0 for some
        1 <= k <= depth; None where that denominator is zero.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth!r}")
    p, q = _value_convergent(a, b, depth)[:2]
    if q == 0:
        return None
    return gmpy2.mpq(p, q)


def _value_convergent(a, b, depth):
    """``(p, q, p_prev, q_prev, finite)`` of the convergent that stands for the value at depth."""
    k = first_zero(b, depth)
    if k is not None:
        return (*walk(a, b, [k - 1])[k - 1], True)
    return (*walk(a, b, [depth])[depth], False)


def _log10_abs(x) -> float:
    """log10 |x| of a (possibly huge) integer, -inf for zero."""
    if x == 0:
        return -math.inf
    return float(mpmath.log10(abs(mpmath.mpf(int(x)))))


def _log10_step(p, q, p_prev, q_prev) -> float:
    """log10 |p/q - p'/q'| relative to |p/q| (-inf when the two agree exactly)."""
    det = p * q_prev - p_prev * q
    return _log10_abs(det) - _log10_abs(q_prev) - (_log10_abs(p) if p else _log10_abs(q))


def _tail_log10(step_half: float, step: float, gap: int) -> float:
    """log10 of (error of the last convergent / its last step), from the steps at depth/2 and depth.

    With the per-step decay rate r of the steps measured between the two depths, the remaining
    steps sum to about step / (1 - e^-r): a factor near 1 for geometric convergence, near
    depth / (power + 1) for steps falling like a power of the depth.  +inf when the steps do not
    decay at all (nothing can then be said).
    """
    if math.isinf(step) and step < 0:
        return 0.0
    rate = (step_half - step) * math.log(10) / gap
    if rate <= 0:
        return math.inf
    geometric = -math.log10(-math.expm1(-rate))
    # Steps falling like depth^-(s+1) leave a tail of about depth/s steps.
    depth = 2 * gap
    power = (step_half - step) / math.log10(depth / gap) - 1
    if power <= 0:
        return math.inf
    return max(geometric, math.log10(depth / power))


def _convergent_digits(found: dict, depth: int) -> float:
    """Correct digits of the convergent at ``depth`` from a walk that also holds depth // 2."""
    p, q, p_prev, q_prev = found[depth]
    if q == 0 or q_prev == 0:
        return 0.0
    step = _log10_step(p, q, p_prev, q_prev)
    half = depth // 2
    tail = 0.0
    if half in found and half >= 2 and 0 not in found[half][1::2]:
        tail = _tail_log10(_log10_step(*found[half]), step, depth - half)
    return max(0.0, -(step + tail))


def limit_estimate(a: Sequence[int], b: Sequence[int], depth: int, dps: int | None = None,
                   progress: bool = False):
    """See :meth:`discovery.pcf.formula.PCF.limit`."""
    if isinstance(depth, bool) or int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    depth = int(depth)
    k = first_zero(b, depth)
    if k is not None:
        p, q = walk(a, b, [k - 1])[k - 1][:2]
        digits = math.inf
    else:
        half = depth // 2
        found = walk(a, b, [half, depth] if half >= 2 else [depth], progress)
        p, q = found[depth][:2]
        digits = _convergent_digits(found, depth)
    if q == 0:
        return LimitEstimate(mpmath.mpf("nan"), 0.0, depth)
    if dps is None:
        dps = 50 if math.isinf(digits) else max(20, int(digits) + 10)
    with mpmath.workdps(dps):
        value = mpmath.mpf(int(p)) / int(q)
    return LimitEstimate(value, digits, depth)


def _steps(a, b, start: tuple, n: int, count: int, stride: int) -> list[tuple[int, int, int]]:
    """``(depth, p, q)`` at depths n, n + stride, ..., from the convergents (p, q, p', q') at n."""
    p, q, p_prev, q_prev = start
    out = [(n, p, q)]
    while len(out) < count:
        for _ in range(stride):
            n += 1
            an, bn = polyval(a, n), polyval(b, n)
            p, p_prev = an * p + bn * p_prev, p
            q, q_prev = an * q + bn * q_prev, q
        out.append((n, p, q))
    return out


def _richardson(points: list[tuple[int, int, int]], dps: int) -> mpmath.mpf:
    """The value at 1/n = 0 of the polynomial in 1/n through the convergents (Neville's scheme)."""
    with mpmath.workdps(dps):
        xs = [mpmath.mpf(1) / n for n, _, _ in points]
        ys = [mpmath.mpf(int(p)) / int(q) for _, p, q in points]
        for k in range(1, len(xs)):
            for i in range(len(xs) - k):
                ys[i] = (xs[i + k] * ys[i] - xs[i] * ys[i + 1]) / (xs[i + k] - xs[i])
        return ys[0]


def accelerated_limit(a: Sequence[int], b: Sequence[int], depth: int, terms: int | None = None,
                      progress: bool = False) -> LimitEstimate:
    """The limit of a slowly converging PCF by Richardson extrapolation of its exact convergents.

    For a fraction whose error falls like a power of n (an asymptotic expansion in 1/n, as for
    Euler-type fractions of ζ(3), ζ(5), Catalan's constant and most degree-(d, 2d) fractions), the
    polynomial in 1/n through ``terms + 1`` convergents at n = N, N + 2, ..., N + 2·terms,
    evaluated at 1/n = 0, cancels the expansion's first ``terms`` orders.  Convergents of one
    parity only are used, so an error that alternates in sign is as smooth as one that does not.

    The digits claimed are those on which this extrapolation agrees with a second, independent one
    from depth N/2 (less accurate, so the estimate errs on the safe side), minus one.  A fraction
    whose error is not a power series in 1/n (a log n, a fractional power) makes the two disagree,
    and few digits are claimed.  When the plain convergent is better, it is returned instead.

    Parameters
    ----------
    a, b : sequence of int
        Coefficients, highest degree first.
    depth : int
        N, the depth of the first convergent used (>= 16).
    terms : int, optional
        Orders cancelled (default N/10, at most 300).
    progress : bool
        A tqdm bar for a long exact walk.

    Returns
    -------
    LimitEstimate
        With ``method="richardson"`` when the extrapolation wins.
    """
    if isinstance(depth, bool) or int(depth) != depth or depth < 16:
        raise ValueError(f"depth must be an integer >= 16, got {depth!r}")
    depth = int(depth)
    if terms is None:
        terms = min(300, depth // 10)
    if isinstance(terms, bool) or int(terms) != terms or not 1 <= terms <= depth // 4:
        raise ValueError(f"terms must be an integer in [1, depth/4], got {terms!r}")
    terms = int(terms)
    if first_zero(b, depth + 2 * terms) is not None:
        return limit_estimate(a, b, depth)
    half = depth // 2
    found = walk(a, b, [half, depth], progress)
    p, q = found[depth][:2]
    if q == 0 or found[half][1] == 0:
        return limit_estimate(a, b, depth)
    plain_digits = _convergent_digits(found, depth)
    with mpmath.workdps(max(20, int(plain_digits) + 10)):
        plain = LimitEstimate(mpmath.mpf(int(p)) / int(q), plain_digits, depth)
    dps = 4 * terms + 60
    deep = _steps(a, b, found[depth], depth, terms + 1, 2)
    shallow = _steps(a, b, found[half], half, terms + 1, 2)
    if any(q == 0 for _, _, q in deep + shallow):
        return plain
    value = _richardson(deep, dps)
    check = _richardson(shallow, dps)
    with mpmath.workdps(dps):
        diff = abs(value - check)
        if value == 0:
            return plain
        digits = math.inf if diff == 0 else float(-mpmath.log10(diff / abs(value))) - 1
    digits = max(0.0, min(digits, dps - 20))
    if digits <= plain.digits:
        return plain
    with mpmath.workdps(int(digits) + 10):
        value = +value
    return LimitEstimate(value, digits, deep[-1][0], "richardson")
