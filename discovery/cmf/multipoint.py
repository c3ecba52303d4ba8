"""Exact values of integer polynomials at many points, in one numba kernel on 32-bit limbs.

A walk evaluates its blocked step polynomials (degree ~50, coefficients of a few hundred bits)
at every block's first step.  FLINT's Horner scheme does one call per polynomial and point and
pays for its integer type at every step; here all points of a polynomial go through Horner's
scheme together, limb by limb, the points innermost (a loop the compiler vectorises), and the
values come back as gmpy2 integers through its binary format (one C call each).

Arithmetic is modulo 2^(32 w): a value h is held as w little-endian 32-bit limbs of its two's
complement, which is exact while |h| < 2^(32 w - 1).  One Horner step h -> h k + c multiplies a
limb (< 2^32) by a point k < 2^31 and adds a limb and a carry below 2^32: the sum stays under
2^64, so unsigned 64-bit arithmetic holds it.  The width w grows step by step with a bound of
the partial values (known from the coefficients and the largest point), so the early steps
touch few limbs.
"""

from __future__ import annotations

import copy
from typing import Sequence

import gmpy2
import numba
import numpy as np
from flint import fmpz_poly

_LIMB = 32
# Points are below 2^31 (limb times point, plus a limb and a carry, fits 64 bits); walks stop at
# depth 10^6 from a first step of at most 10^6, far below.
MAX_POINT = (1 << 31) - 1
_from_binary = gmpy2.from_binary


@numba.njit(cache=True)
def _horner(coeffs, widths, divide, shifts, inverses, quotient_widths, points, out):
    """Values of polynomials at points, each divided exactly by a constant, as gmpy2 binary records.

    ``coeffs[e, d]`` holds coefficient d (highest degree first) of polynomial e as the limbs of its
    two's complement, ``widths[e, d]`` the limbs its partial value needs after step d (non-
    decreasing); ``points`` are integers 0 <= k < 2^31.  Where ``divide[e]``, every value of
    polynomial e is divisible by 2^shifts[e] * o, o odd, and is divided by it: shifted right, then multiplied by
    ``inverses[e]`` = o^-1 modulo 2^(32 quotient_widths[e]) (exact division by Hensel lifting:
    the quotient is exact, so its residue is the quotient).  ``out[l, e]`` receives the quotient
    for point l as gmpy2's binary format: byte 1, a sign byte (0 zero, 1 positive, 2 negative),
    then the magnitude's little-endian limbs, zero-padded.
    """
    n_polys, n_coeffs, width = coeffs.shape
    n_points = points.size
    out_width = (out.shape[2] - 2) // 4
    mask = np.uint64(0xFFFFFFFF)
    top_bit = np.uint64(31)
    shift = np.uint64(32)
    ks = points.astype(np.uint32)
    # 32-bit limbs and points held as such, so that their products are 32 x 32 -> 64-bit
    # multiplications (one vector instruction), not 64-bit ones
    v = np.empty((width, n_points), dtype=np.uint32)
    q = np.empty((width, n_points), dtype=np.uint32)
    carry = np.empty(n_points, dtype=np.uint64)
    for e in range(n_polys):
        w = widths[e, 0]
        for j in range(w):
            c = coeffs[e, 0, j]
            for i in range(n_points):
                v[j, i] = c
        for d in range(1, n_coeffs):
            nw = widths[e, d]
            for j in range(w, nw):  # sign extension to the wider modulus
                for i in range(n_points):
                    v[j, i] = np.uint32(0xFFFFFFFF) if (v[w - 1, i] >> np.uint32(31)) else np.uint32(0)
            w = nw
            for i in range(n_points):
                carry[i] = 0
            for j in range(w):
                c = np.uint64(coeffs[e, d, j])
                for i in range(n_points):
                    t = np.uint64(v[j, i]) * np.uint64(ks[i]) + c + carry[i]
                    v[j, i] = np.uint32(t & mask)
                    carry[i] = t >> shift
        wq = quotient_widths[e]
        if divide[e]:
            # v >> shifts[e] (arithmetic), then times the inverse, both modulo 2^(32 wq)
            skip, bits = shifts[e] // 32, np.uint64(shifts[e] % 32)
            for i in range(n_points):
                fill = mask if (np.uint64(v[w - 1, i]) >> top_bit) else np.uint64(0)
                for j in range(wq):
                    lo = np.uint64(v[j + skip, i]) if j + skip < w else fill
                    hi = np.uint64(v[j + skip + 1, i]) if j + skip + 1 < w else fill
                    q[j, i] = np.uint32(((lo >> bits) | (hi << (shift - bits))) & mask if bits else lo)
            for j in range(wq):
                for i in range(n_points):
                    v[j, i] = np.uint32(0)
            for a in range(wq):
                for i in range(n_points):
                    carry[i] = 0
                for b in range(wq - a):
                    m = np.uint64(inverses[e, b])
                    for i in range(n_points):
                        t = np.uint64(v[a + b, i]) + np.uint64(q[a, i]) * m + carry[i]
                        v[a + b, i] = np.uint32(t & mask)
                        carry[i] = t >> shift
            w = wq
        for i in range(n_points):
            negative = (np.uint64(v[w - 1, i]) >> top_bit) != 0
            nonzero = False
            borrow = np.uint64(1)  # magnitude of a negative value: complement plus one
            for j in range(out_width):
                limb = np.uint64(v[j, i]) if j < w else np.uint64(0)
                if negative and j < w:
                    t = (limb ^ mask) + borrow
                    limb = t & mask
                    borrow = t >> shift
                nonzero = nonzero or limb != 0
                base = 2 + 4 * j
                out[i, e, base] = limb & np.uint64(0xFF)
                out[i, e, base + 1] = (limb >> np.uint64(8)) & np.uint64(0xFF)
                out[i, e, base + 2] = (limb >> np.uint64(16)) & np.uint64(0xFF)
                out[i, e, base + 3] = (limb >> np.uint64(24)) & np.uint64(0xFF)
            out[i, e, 0] = 1
            out[i, e, 1] = 0 if not nonzero else (2 if negative else 1)


class Multipoint:
    """Integer polynomials prepared for exact evaluation at points 0 <= k <= ``largest``.

    Parameters
    ----------
    polys : sequence of flint.fmpz_poly
        The polynomials, evaluated together.
    largest : int
        The largest point any call will pass (it sizes the limbs), at most :data:`MAX_POINT`.
    divisors : sequence of int, optional
        A positive integer per polynomial that divides its value at every integer (a fixed
        divisor, see :func:`fixed_divisor`): the values are returned divided by it.  Not checked.
    bounds : sequence of int or None, optional
        A bound of |p(k)| over 0 <= k <= ``largest`` per polynomial (None: the one its
        coefficients give, sum |c_i| largest^i, often far above the values where they cancel).
        The arithmetic is modulo a power of 2 just above the bound over the divisor.  Not checked.

    Examples
    --------
    >>> Multipoint([fmpz_poly([1, 0, -3]), fmpz_poly([5])], 10)([0, 2, 10])
    [[mpz(1), mpz(5)], [mpz(-11), mpz(5)], [mpz(-299), mpz(5)]]
    >>> Multipoint([fmpz_poly([0, 3, 3])], 10, divisors=[6])([1, 2, 10])  # 3k(k + 1) / 6
    [[mpz(1)], [mpz(3)], [mpz(55)]]
    """

    def __init__(self, polys: Sequence[fmpz_poly], largest: int, divisors: Sequence[int] | None = None,
                 bounds: Sequence[int | None] | None = None):
        if not 0 <= largest <= MAX_POINT:
            raise ValueError(f"points must lie in 0..{MAX_POINT}, got a largest point of {largest}")
        bounds = [None] * len(polys) if bounds is None else list(bounds)
        if len(bounds) != len(polys):
            raise ValueError(f"one bound (or None) per polynomial, got {bounds}")
        self.largest = int(largest)
        self.count = len(polys)
        self.degree = max((p.degree() for p in polys), default=-1)
        coeffs = [[int(c) for c in reversed(p.coeffs())] or [0] for p in polys]
        n_coeffs = max(len(c) for c in coeffs)
        self._ints = [[0] * (n_coeffs - len(c)) + c for c in coeffs]
        self._horner_widths = np.ones((len(coeffs), n_coeffs), dtype=np.int64)
        self._bounds = []
        for e, cs in enumerate(self._ints):
            partial, bits = 0, []
            for c in cs:
                partial = partial * self.largest + abs(c)
                bits.append(partial.bit_length())
            # The partial value, the coefficient itself and the sign bit fit: while they do, a
            # wider modulus takes the value by sign extension.
            self._horner_widths[e] = np.maximum.accumulate((np.array(bits, dtype=np.int64) + _LIMB) // _LIMB)
            self._bounds.append(partial if bounds[e] is None else min(partial, int(bounds[e])))
        self._coeffs = None
        self._set_divisors([1] * len(polys) if divisors is None else divisors)

    def divided(self, divisors: Sequence[int]) -> "Multipoint":
        """The same polynomials and points with their values divided by ``divisors`` (as the
        ``divisors`` argument; the coefficients' limbs are shared where wide enough)."""
        out = copy.copy(self)
        out._set_divisors(divisors)
        return out

    def _set_divisors(self, divisors: Sequence[int]) -> None:
        divisors = [int(d) for d in divisors]
        if len(divisors) != self.count or min(divisors, default=1) < 1:
            raise ValueError(f"one positive divisor per polynomial, got {divisors}")
        shifts = np.array([(d & -d).bit_length() - 1 for d in divisors], dtype=np.int64)
        quotient_widths = np.array([(b // d).bit_length() // _LIMB + 1 for b, d in zip(self._bounds, divisors)],
                                   dtype=np.int64)
        # Only a value's residue modulo 2^(shift + 32 quotient width) is needed: past that width
        # the modulus stops growing (and never extends a value it does not hold).
        caps = -(-(shifts + _LIMB * quotient_widths) // _LIMB)
        self._widths = np.minimum(self._horner_widths, caps[:, None])
        self.width = int(self._widths.max())
        if self._coeffs is None or self._coeffs.shape[2] < self.width:
            self._coeffs = _limb_array(self._ints, self.width)
        self._divide = np.array([d != 1 for d in divisors], dtype=np.bool_)
        self._shifts = shifts
        self._inverses = _limb_array([[pow(d >> int(s), -1, 1 << (_LIMB * int(w)))]
                                      for d, s, w in zip(divisors, shifts, quotient_widths)],
                                     self._coeffs.shape[2])[:, 0, :]
        self._quotient_widths = quotient_widths
        self._record = 2 + 4 * int(quotient_widths.max())

    def fixed_divisor(self, count: int | None = None) -> int:
        """:func:`fixed_divisor` of the first ``count`` polynomials (all by default), from their
        values at 0..degree (which must not pass ``largest``); of the values as divided."""
        count = self.count if count is None else count
        if self.degree < 0 or count == 0:
            return 0
        if self.degree > self.largest:
            raise ValueError(f"a fixed divisor needs the points 0..{self.degree}, past {self.largest}")
        values = self.flat(np.arange(self.degree + 1, dtype=np.int64))
        return int(gmpy2.gcd(*(v for i, v in enumerate(values) if i % self.count < count)))

    def __call__(self, points: Sequence[int]) -> list[list]:
        """The values (gmpy2 ``mpz``) of every polynomial at every point: one list per point."""
        ks = np.asarray(points, dtype=np.int64)
        if ks.size and (ks.min() < 0 or ks.max() > self.largest):
            bad = int(ks.min()) if ks.min() < 0 else int(ks.max())
            raise ValueError(f"point {bad} is outside 0..{self.largest}")
        flat = self.flat(ks)
        m = self.count
        return [flat[i * m:(i + 1) * m] for i in range(ks.size)]

    def flat(self, points: np.ndarray) -> list:
        """The values point by point, each point's polynomials in order, as one flat list (the
        walk's fast path: ``points`` is an int64 array already checked by the caller)."""
        out = np.empty((points.size, self.count, self._record), dtype=np.uint8)
        _horner(self._coeffs, self._widths, self._divide, self._shifts, self._inverses, self._quotient_widths,
                points, out)
        raw = out.tobytes()
        size = self._record
        return list(map(_from_binary, [raw[o:o + size] for o in range(0, len(raw), size)]))


def _limb_array(rows: list[list[int]], width: int) -> np.ndarray:
    """Integers modulo 2^(32 width) (two's complement) as ``width`` little-endian 32-bit limbs, in an
    array of shape (len(rows), len(row), width)."""
    size, top = 4 * width, _LIMB * width
    raw = b"".join(c.to_bytes(size, "little", signed=True) if c.bit_length() < top else
                   (c % (1 << top)).to_bytes(size, "little") for row in rows for c in row)
    return np.frombuffer(raw, dtype="<u4").reshape(len(rows), -1, width).astype(np.uint32)


def fixed_divisor(polys: Sequence[fmpz_poly]) -> int:
    """The largest integer dividing p(k) for every integer k and every p in ``polys`` (0 if all
    are zero).  It is the gcd of p(0), ..., p(deg p): the values at 0..deg and the coefficients
    a_i of p in the binomial basis, p(k) = sum a_i C(k, i), are integer combinations of each other
    (a_i is the i-th forward difference at 0).  A product of steps has a large one: on the zeta3
    diagonal, 232 bits of each block of 32 steps, a product of primes up to 32."""
    if not polys:
        return 0
    return Multipoint(polys, max(max(p.degree() for p in polys), 0)).fixed_divisor()
