"""Exact integer convergents of PCFs (gmpy2), their gcd and exact rational limits.

These are the slow, certain counterparts of the float kernels: used to verify candidates that
survive the float filter and to compute the reduced denominators the dynamics metrics need.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import gmpy2
import mpmath
import numpy as np

from gmpy2 import mpz

_INT64_SAFE = 2**62


class LimitEstimate(NamedTuple):
    """A convergent used as an approximation of a PCF's limit.

    Attributes
    ----------
    value : mpmath.mpf
        p_depth / q_depth (or the exact value of a finite fraction), NaN when q is zero.
    digits : float
        Estimated number of correct significant digits, from the distance between the last two
        convergents; ``inf`` for a finite fraction, 0 when nothing can be said.
    depth : int
        The depth of the convergent.
    """

    value: mpmath.mpf
    digits: float
    depth: int


def polyval(coeffs: Sequence[int], x: int) -> int:
    """Exact value of a polynomial given highest degree first."""
    v = 0
    for c in coeffs:
        v = v * x + c
    return v


def _values(coeffs: Sequence[int], start: int, stop: int) -> list:
    """Exact values of a polynomial at start..stop-1 as gmpy2 integers."""
    deg = len(coeffs) - 1
    bound = sum(abs(c) for c in coeffs) * max(1, abs(stop)) ** deg
    if bound < _INT64_SAFE:
        ks = np.arange(start, stop, dtype=np.int64)
        vals = np.zeros_like(ks)
        for c in coeffs:
            vals = vals * ks + c
        return [mpz(int(v)) for v in vals]
    return [mpz(polyval(coeffs, k)) for k in range(start, stop)]


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


def _product(av: list, bv: list, lo: int, hi: int) -> tuple:
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
        return x, y, z, w
    mid = (lo + hi) // 2
    x1, y1, z1, w1 = _product(av, bv, lo, mid)
    x2, y2, z2, w2 = _product(av, bv, mid, hi)
    return x1 * x2 + y1 * z2, x1 * y2 + y1 * w2, z1 * x2 + w1 * z2, z1 * y2 + w1 * w2


def walk(a: Sequence[int], b: Sequence[int], depths: Sequence[int]) -> dict:
    """Convergents at several depths from one pass over the recurrence's matrix product.

    Parameters
    ----------
    a, b : sequence of int
        Coefficients, highest degree first.
    depths : sequence of int
        Non-negative depths, in any order.

    Returns
    -------
    dict
        ``{depth: (p, q, p_prev, q_prev)}`` with gmpy2 integers; at depth 0 the previous pair is
        (1, 0).
    """
    wanted = sorted(set(_check_depths(depths)))
    top = wanted[-1]
    av = [mpz(0)] + _values(a, 1, top + 1)
    bv = [mpz(0)] + _values(b, 1, top + 1)
    # [[p_n, p_(n-1)], [q_n, q_(n-1)]] = [[p_m, p_(m-1)], [q_m, q_(m-1)]] M_(m+1) ... M_n
    p, p_prev, q, q_prev = mpz(polyval(a, 0)), mpz(1), mpz(1), mpz(0)
    found = {}
    done = 0
    for d in wanted:
        if d > done:
            x, y, z, w = _product(av, bv, done + 1, d + 1)
            p, p_prev = p * x + p_prev * z, p * y + p_prev * w
            q, q_prev = q * x + q_prev * z, q * y + q_prev * w
            done = d
        found[d] = (p, q, p_prev, q_prev)
    return found


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


def limit_estimate(a: Sequence[int], b: Sequence[int], depth: int, dps: int | None = None):
    """See :meth:`discovery.pcf.formula.PCF.limit`."""
    if isinstance(depth, bool) or int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    depth = int(depth)
    p, q, p_prev, q_prev, finite = _value_convergent(a, b, depth)
    if q == 0:
        return LimitEstimate(mpmath.mpf("nan"), 0.0, depth)
    if finite:
        digits = math.inf
    elif q_prev == 0:
        digits = 0.0
    else:
        det = p * q_prev - p_prev * q
        # |p/q - p'/q'| = |det| / |q q'|; significant digits are relative to |p/q|.
        log_diff = _log10_abs(det) - _log10_abs(q) - _log10_abs(q_prev)
        log_value = _log10_abs(p) - _log10_abs(q)
        digits = max(0.0, (log_value if p else 0.0) - log_diff)
    if dps is None:
        dps = 50 if math.isinf(digits) else max(20, int(digits) + 10)
    with mpmath.workdps(dps):
        value = mpmath.mpf(int(p)) / int(q)
    return LimitEstimate(value, digits, depth)
