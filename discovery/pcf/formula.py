"""The polynomial continued fraction (PCF) value type.

A PCF with polynomials ``a`` and ``b`` stands for

    a(0) + b(1) / (a(1) + b(2) / (a(2) + ...))

with convergents p_n / q_n given by p_n = a(n) p_{n-1} + b(n) p_{n-2} (likewise q_n) from
p_{-1} = 1, p_0 = a(0), q_{-1} = 0, q_0 = 1.  Coefficients are stored highest degree first, as in
``numpy.polyval``.  If b(k) = 0 for some k >= 1 the fraction is finite and its value is the
rational p_{k-1} / q_{k-1}; every evaluator in the package follows that rule.
"""

from __future__ import annotations

import math
import numbers
from functools import cached_property
from typing import Sequence

import numpy as np
import sympy

from discovery.errors import InputError
from discovery.constants import to_sympy
from discovery.expressions import shown
from discovery.pcf import exact
from discovery.pcf.exact import LimitEstimate

n = sympy.Symbol("n")


def _coefficients(spec, name: str) -> tuple[int, ...]:
    """Normalise one polynomial given as ints, a string or a sympy expression."""
    if isinstance(spec, bool):
        raise InputError(f"{name}: {shown(spec)} is not a polynomial")
    if isinstance(spec, numbers.Integral):
        coeffs = [int(spec)]
    elif isinstance(spec, (str, sympy.Expr)):
        coeffs = _parse_polynomial(spec, name)
    elif isinstance(spec, (Sequence, np.ndarray)):
        coeffs = []
        for c in spec:
            if isinstance(c, bool) or not isinstance(c, (numbers.Integral, sympy.Integer)):
                raise InputError(
                    f"{name}: coefficient {shown(c)} in {shown(list(spec))} is not an integer"
                )
            coeffs.append(int(c))
    else:
        raise InputError(f"{name}: cannot read a polynomial from {shown(spec)}")
    while coeffs and coeffs[0] == 0:
        coeffs.pop(0)
    if not coeffs:
        raise InputError(f"{name}: {shown(spec)} is the zero (or empty) polynomial")
    return tuple(coeffs)


def _parse_polynomial(spec, name: str) -> list[int]:
    if isinstance(spec, str):
        try:
            expr = to_sympy(spec, ("n",))
        except InputError as err:
            raise InputError(f"{name}: {err}") from None
    else:
        expr = spec
    if not isinstance(expr, sympy.Expr):
        raise InputError(f"{name}: {shown(spec)} is not a polynomial in n")
    extra = expr.free_symbols - {n}
    if extra:
        raise InputError(
            f"{name}: {shown(spec)} uses {sorted(map(str, extra))}; only the variable n is allowed"
        )
    try:
        poly = sympy.Poly(expr, n)
    except sympy.PolynomialError:
        raise InputError(f"{name}: {shown(spec)} is not a polynomial in n") from None
    coeffs = poly.all_coeffs()
    for c in coeffs:
        if not c.is_integer:
            raise InputError(f"{name}: coefficient {shown(c)} of {shown(spec)} is not an integer")
    return [int(c) for c in coeffs]


def _content(coeffs: tuple[int, ...]) -> int:
    return math.gcd(*coeffs)


_TRIAL_PRIMES = tuple(sympy.primerange(2, 2**14))


def _square_part(h: int) -> int:
    """The largest d with d² dividing h > 0, for scaling a PCF: d | content(a), d² | content(b)
    exactly when d² divides gcd(content(a)², content(b)).

    Primes below 2¹⁴ by trial division, then the rest of h when it is a perfect square (a uniform
    scaling c·a, c²·b leaves c² there).  That is exact unless the rest has a square factor yet is
    no square (P²Q for primes P, Q above 2¹⁴): finding that would mean factoring h.  No search
    over d, which took for ever on contents of hundreds of digits.
    """
    d = 1
    for p in _TRIAL_PRIMES:
        if p * p > h:
            break
        k = 0
        while h % p == 0:
            h //= p
            k += 1
        d *= p ** (k // 2)
    root = math.isqrt(h)
    return d * root if root * root == h else d


class PCF:
    """A polynomial continued fraction a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)).

    Parameters
    ----------
    a, b : sequence of int, int, str or sympy expression
        The polynomials, as integer coefficients highest degree first (``[2, 1]`` is 2n + 1), as
        a string in the variable n (``"2n+1"``, ``"n^2"``, ``"n*(n+2)"``) or as a sympy
        expression in the symbol ``n``.

    Raises
    ------
    ValueError
        For a non-integer coefficient, an empty or zero polynomial, or text that is not a
        polynomial in n; the message names the bad value.

    Examples
    --------
    >>> PCF("2n+1", "n^2").a, PCF("2n+1", "n^2").b
    ((2, 1), (1, 0, 0))
    >>> import mpmath
    >>> mpmath.nstr(PCF([2, 1], [1, 0, 0]).limit(200).value, 15)  # 4/pi
    '1.27323954473516'
    """

    def __init__(self, a, b):
        self.a = _coefficients(a, "a(n)")
        self.b = _coefficients(b, "b(n)")

    # --- structure -------------------------------------------------------------------------
    def __eq__(self, other):
        if not isinstance(other, PCF):
            return NotImplemented
        return self.a == other.a and self.b == other.b

    def __hash__(self):
        return hash((self.a, self.b))

    def __repr__(self):
        a, b = self.sympy()
        return f"PCF(a={a}, b={b})"

    @property
    def degrees(self) -> tuple[int, int]:
        """Degrees of a(n) and b(n)."""
        return len(self.a) - 1, len(self.b) - 1

    def sympy(self) -> tuple[sympy.Expr, sympy.Expr]:
        """a(n) and b(n) as sympy expressions in the symbol ``n``."""
        return sympy.Poly(self.a, n).as_expr(), sympy.Poly(self.b, n).as_expr()

    def latex(self) -> str:
        """LaTeX of the fraction's first terms and its general term."""
        a, b = self.sympy()
        terms = [sympy.latex(sympy.Integer(v)) for v in (self.a_at(0), self.a_at(1), self.a_at(2))]
        bs = [sympy.latex(sympy.Integer(v)) for v in (self.b_at(1), self.b_at(2), self.b_at(3))]
        return (
            f"{terms[0]} + \\cfrac{{{bs[0]}}}{{{terms[1]} + \\cfrac{{{bs[1]}}}{{{terms[2]} + "
            f"\\cfrac{{{bs[2]}}}{{\\ddots + \\cfrac{{{sympy.latex(b)}}}{{{sympy.latex(a)} + \\ddots}}}}}}}}"
        )

    def a_at(self, k: int) -> int:
        """a(k) as an exact integer."""
        return exact.polyval(self.a, k)

    def b_at(self, k: int) -> int:
        """b(k) as an exact integer."""
        return exact.polyval(self.b, k)

    # --- canonical form --------------------------------------------------------------------
    @cached_property
    def _canonical(self) -> tuple["PCF", int]:
        scale = _square_part(math.gcd(_content(self.a) ** 2, _content(self.b)))
        if self.a[0] < 0:
            scale = -scale
        if scale == 1:
            return self, 1
        canon = PCF([c // scale for c in self.a], [c // (scale * scale) for c in self.b])
        return canon, scale

    def canonical(self) -> "PCF":
        """The representative of this PCF's class under trivial transformations.

        Two PCFs share a canonical form exactly when one is obtained from the other by
        a(n) -> c a(n), b(n) -> c^2 b(n) for a non-zero rational c.  This covers the sign flip
        (c = -1: a -> -a negates the limit), uniform scaling (c an integer: the limit is
        multiplied by c) and a common factor (c = 1/d where d divides every coefficient of a and
        d^2 every coefficient of b).  The representative has the smallest such coefficients and
        a positive leading coefficient of a(n).  See :meth:`canonical_factor` for the relation of
        the limits.
        """
        return self._canonical[0]

    def canonical_factor(self) -> int:
        """The integer c with a = c * canonical.a and b = c**2 * canonical.b.

        The limit of this PCF is c times the limit of :meth:`canonical`.
        """
        return self._canonical[1]

    def shift(self, k: int) -> "PCF":
        """The tail fraction a(k) + b(k+1)/(a(k+1) + ...), i.e. PCF(a(n+k), b(n+k)).

        Its limit T relates to this one's by the Möbius map
        L = (p_{k-1} T + b(k) p_{k-2}) / (q_{k-1} T + b(k) q_{k-2}), so both are formulas for the
        same constant and share their convergence dynamics.
        """
        if isinstance(k, bool) or int(k) != k or k < 0:
            raise InputError(f"shift must be a non-negative integer, got {k!r}")
        return PCF(
            [int(c) for c in sympy.Poly(self.a, n).shift(int(k)).all_coeffs()],
            [int(c) for c in sympy.Poly(self.b, n).shift(int(k)).all_coeffs()],
        )

    # --- exact evaluation ------------------------------------------------------------------
    def convergent(self, depth: int) -> tuple[int, int]:
        """Exact convergent ``(p_depth, q_depth)`` as Python ints (the plain recurrence)."""
        return self.convergents([depth])[0]

    def convergents(self, depths: Sequence[int]) -> list[tuple[int, int]]:
        """Exact convergents at several depths, computed in one walk of the recurrence."""
        return [(int(p), int(q)) for p, q in exact.convergents(self.a, self.b, depths)]

    def limit(self, depth: int = 1000, dps: int | None = None) -> LimitEstimate:
        """The convergent at ``depth`` as an mpmath number with its estimated correct digits.

        Parameters
        ----------
        depth : int
            Depth of the convergent (>= 1).
        dps : int, optional
            Decimal precision of the returned value; by default enough for the estimated
            correct digits plus a margin.

        Returns
        -------
        LimitEstimate
            ``value``, ``digits`` and ``depth``.  A finite fraction (b(k) = 0 for some
            1 <= k <= depth) gives its exact rational value with ``digits = inf``.
        """
        return exact.limit_estimate(self.a, self.b, depth, dps)

    def as_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """One-row ``A``, ``B`` int64 arrays for the batch kernels."""
        return to_arrays([self])


def to_arrays(pcfs: Sequence[PCF]) -> tuple[np.ndarray, np.ndarray]:
    """Stack PCFs into zero-padded int64 coefficient arrays, one PCF per row.

    Raises
    ------
    ValueError
        If a coefficient does not fit in int64 (the float kernels take int64 input).
    """
    pcfs = list(pcfs)
    if not pcfs:
        raise InputError("to_arrays: no PCFs given")
    da = max(len(p.a) for p in pcfs)
    db = max(len(p.b) for p in pcfs)
    A = np.zeros((len(pcfs), da), dtype=np.int64)
    B = np.zeros((len(pcfs), db), dtype=np.int64)
    limit = np.iinfo(np.int64).max
    for i, p in enumerate(pcfs):
        for c in p.a + p.b:
            if abs(c) > limit:
                raise InputError(f"coefficient {shown(c)} of {shown(p)} does not fit in int64")
        A[i, da - len(p.a):] = p.a
        B[i, db - len(p.b):] = p.b
    return A, B


def from_arrays(A: np.ndarray, B: np.ndarray) -> list[PCF]:
    """The inverse of :func:`to_arrays`: one PCF per row."""
    return [PCF(list(map(int, ra)), list(map(int, rb))) for ra, rb in zip(A, B)]
