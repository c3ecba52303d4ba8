"""Coboundaries (gauge transformations) between the recurrences of two PCFs, found by linear
algebra and checked exactly.

**The relation.**  Write a PCF's recurrence p_n = a(n) p_(n-1) + b(n) p_(n-2) with the companion
matrix C(n) = [[0, b(n)], [1, a(n)]], so that Phi(N) = [[p_(N-1), p_N], [q_(N-1), q_N]] satisfies
Phi(N) = Phi(N - 1) C(N).  Two PCFs P1, P2 are *gauge equivalent* (their recurrences are
coboundary-related) when a polynomial matrix U(n), not singular for every n, and a rational
lambda(n) satisfy

    C1(n) U(n + 1) = lambda(n) U(n) C2(n)        for every n.

Then Phi1(N) U(N + 1) = K Phi2(N) (prod of lambda) with the constant matrix
K = Phi1(m) U(m + 1) Phi2(m)^-1 for any m where the factors are defined: every solution of one
recurrence is a fixed rational combination u(n) x_n + v(n) x_(n-1) of solutions of the other.
The second columns give the limits: L1 = (K00 L2 + K01) / (K10 L2 + K11), a Möbius map (the ratio
of the second column of Phi1(N) U(N + 1) is a weighted mean of two consecutive convergents of P1).
Equivalence transforms are the diagonal gauges; a gauge also relates fractions of different
degrees, e.g. Bauer-Muir transforms, which :func:`discovery.pcf.equivalence.equivalence_key` keeps
apart.

**The search.**  With lambda fixed the identity is linear in the coefficients of U: entries of
degree at most D give 4 (D + 1) unknowns, and the identity, a polynomial of known degree, is
imposed at more integers than its degree (so it holds identically).  lambda is taken from the
leading terms: lambda(n) = kappa n^delta with delta = deg a1 - deg a2 and kappa the ratio of the
leading coefficients of a (or the square root of that of b), the only scalar that matches the
growth of the two recurrences when U is polynomial; shifts n -> n + s of either fraction are tried
as tails.  The solution found is checked symbolically (flint polynomials) and K on exact
convergents at several more levels: nothing numerical is trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import sympy
from flint import fmpq, fmpq_poly, fmpz_mat

from discovery.cmf.steps import n
from discovery.errors import InputError
from discovery.pcf import exact
from discovery.pcf.formula import PCF

MAX_GAUGE_DEGREE = 12
_CHECK = 4


@dataclass(frozen=True)
class Gauge:
    """A coboundary C1(n) U(n + 1) = lambda(n) U(n) C2(n) between two PCFs, with the Möbius map
    between their limits.

    Attributes
    ----------
    u : tuple of tuple of tuple of Fraction
        U(n) as a 2 x 2 matrix of polynomials, coefficients highest degree first.
    kappa : Fraction
        lambda(n) = kappa * n**delta.
    delta : int
    matrix : tuple of int
        (k00, k01, k10, k11): L1 = (k00 L2 + k01) / (k10 L2 + k11), coprime integers.
    """

    u: tuple
    kappa: Fraction
    delta: int
    matrix: tuple[int, int, int, int]

    def text(self) -> str:
        """U(n) and lambda(n) as one line of text in n."""
        def poly(cs) -> str:
            return str(sum((sympy.Rational(c.numerator, c.denominator) * n ** (len(cs) - 1 - k)
                            for k, c in enumerate(cs)), sympy.Integer(0)))

        rows = "; ".join(", ".join(poly(e) for e in row) for row in self.u)
        lam = f"{self.kappa}" + (f"*n^{self.delta}" if self.delta else "")
        return f"U(n) = [{rows}], lambda(n) = {lam}"


def _poly(coeffs) -> fmpq_poly:
    return fmpq_poly([int(c) for c in reversed(coeffs)])


def _kappas(p1: PCF, p2: PCF) -> list[Fraction]:
    """Scalars kappa for lambda = kappa n^delta that match the leading terms of the recurrences."""
    out = []
    if p1.a[0] and p2.a[0] and any(p1.a) and any(p2.a):
        out.append(Fraction(p1.a[0], p2.a[0]))
    ratio = Fraction(p1.b[0], p2.b[0])
    if ratio > 0:
        num, den = math.isqrt(ratio.numerator), math.isqrt(ratio.denominator)
        if num * num == ratio.numerator and den * den == ratio.denominator:
            out += [Fraction(num, den), Fraction(-num, den)]
    return list(dict.fromkeys(k for k in out if k))


def _degree(p: PCF) -> int:
    return len(p.a) - 1 if any(p.a) else -1


def solve(p1: PCF, p2: PCF, max_degree: int = 6) -> Gauge | None:
    """A gauge from P2's recurrence to P1's, with U of degree at most ``max_degree``.

    Parameters
    ----------
    p1, p2 : PCF
        The fractions (tails are not tried here: see :func:`find`).
    max_degree : int
        Largest degree of an entry of U, 0 to :data:`MAX_GAUGE_DEGREE`.

    Returns
    -------
    Gauge or None
        None when no such U exists for the scalars tried, when either fraction terminates
        (b(k) = 0 for some k >= 1), or when the limits' map would be singular.

    Raises
    ------
    discovery.errors.InputError
        For a degree outside 0 to :data:`MAX_GAUGE_DEGREE`.
    ArithmeticError
        If a gauge that solves the identity fails on exact convergents (a bug).

    Examples
    --------
    >>> g = solve(PCF(1, 1), PCF("n+1", "n(n+1)"))  # an equivalence transform is a gauge too
    >>> g is not None
    True
    """
    if isinstance(max_degree, bool) or not isinstance(max_degree, int) or not 0 <= max_degree <= MAX_GAUGE_DEGREE:
        raise InputError(f"the gauge degree is an integer from 0 to {MAX_GAUGE_DEGREE}, got {max_degree!r}")
    if _terminates(p1) or _terminates(p2):
        return None
    delta = max(_degree(p1), 0) - max(_degree(p2), 0)
    for kappa in _kappas(p1, p2):
        # The solutions of lower degree are in the space of the largest: one solve.
        u = _solve_linear(p1, p2, kappa, delta, max_degree)
        if u is not None:
            matrix = _mobius(p1, p2, u)
            if matrix is not None:
                coeffs = tuple(tuple(tuple(Fraction(int(c.p), int(c.q)) for c in reversed(e.coeffs()))
                                     or (Fraction(0),) for e in row) for row in u)
                return Gauge(coeffs, kappa, delta, matrix)
    return None


def _terminates(p: PCF) -> bool:
    return any(r >= 1 for r, _ in _poly(p.b).numer().roots())


def _lambda(kappa: Fraction, delta: int) -> tuple[fmpq_poly, fmpq_poly]:
    """lambda = num / den as polynomials."""
    power = fmpq_poly([0] * abs(delta) + [1])
    num, den = fmpq_poly([fmpq(kappa.numerator, kappa.denominator)]), fmpq_poly([1])
    return (num * power, den) if delta >= 0 else (num, den * power)


def _identity(p1, p2, lam, u) -> list[list[fmpq_poly]]:
    """lambda_den C1(n) U(n + 1) - lambda_num U(n) C2(n), entry by entry."""
    a1, b1, a2, b2 = _poly(p1.a), _poly(p1.b), _poly(p2.a), _poly(p2.b)
    num, den = lam
    shift = fmpq_poly([1, 1])
    (u00, u01), (u10, u11) = u
    s00, s01, s10, s11 = u00(shift), u01(shift), u10(shift), u11(shift)
    left = [[b1 * s10, b1 * s11], [s00 + a1 * s10, s01 + a1 * s11]]
    right = [[u01, u00 * b2 + u01 * a2], [u11, u10 * b2 + u11 * a2]]
    return [[den * left[i][j] - num * right[i][j] for j in range(2)] for i in range(2)]


def _solve_linear(p1, p2, kappa, delta, degree) -> list[list[fmpq_poly]] | None:
    """U with entries of degree at most ``degree`` solving the identity, or None."""
    lam = _lambda(kappa, delta)
    unknowns = 4 * (degree + 1)
    # Each unknown's column: the identity with U the unit polynomial n^k in one entry.
    columns = []
    for entry in range(4):
        for k in range(degree + 1):
            u = [[fmpq_poly([]), fmpq_poly([])], [fmpq_poly([]), fmpq_poly([])]]
            u[entry // 2][entry % 2] = fmpq_poly([0] * k + [1])
            columns.append(_identity(p1, p2, lam, u))
    top = max(e.degree() for col in columns for row in col for e in row)
    rows = []
    for i in range(2):
        for j in range(2):
            for k in range(top + 1):
                rows.append([col[i][j].coeffs()[k] if k < len(col[i][j].coeffs()) else 0 for col in columns])
    scale = math.lcm(*(int(fmpq(v).q) for row in rows for v in row)) if rows else 1
    matrix = fmpz_mat([[int(fmpq(v) * scale) for v in row] for row in rows])
    null, nullity = matrix.nullspace()
    if nullity == 0:
        return None
    vectors = [[int(null[r, c]) for r in range(unknowns)] for c in range(nullity)]
    # Any non-singular member of the solution space will do; a sum of the basis is one unless
    # the basis vectors cancel in the determinant, so each is tried first.
    for vec in vectors + [[sum(v[r] for v in vectors) for r in range(unknowns)]]:
        u = [[fmpq_poly(vec[(2 * i + j) * (degree + 1):(2 * i + j + 1) * (degree + 1)])
              for j in range(2)] for i in range(2)]
        if u[0][0] * u[1][1] - u[0][1] * u[1][0] != 0 and all(e == 0 for row in _identity(p1, p2, lam, u)
                                                                for e in row):
            return u
    return None


def _phi(p: PCF, level: int) -> list[list[int]]:
    """[[p_(N-1), p_N], [q_(N-1), q_N]] at N = level."""
    pn, qn, pm, qm = exact.walk(p.a, p.b, [level])[level]
    return [[int(pm), int(pn)], [int(qm), int(qn)]]


def _mul(x, y):
    return [[sum(x[i][k] * y[k][j] for k in range(2)) for j in range(2)] for i in range(2)]


def _at(u, n: int) -> list[list[Fraction]]:
    return [[Fraction(int(e(n).p), int(e(n).q)) for e in row] for row in u]


def _mobius(p1: PCF, p2: PCF, u) -> tuple[int, int, int, int] | None:
    """K = Phi1(m) U(m + 1) adj(Phi2(m)) at a level m past every root, checked exactly at
    :data:`_CHECK` more levels: Phi1(N) U(N + 1) is proportional to K Phi2(N)."""
    det_u = u[0][0] * u[1][1] - u[0][1] * u[1][0]
    roots = [int(r) for p in (det_u.numer(), _poly(p1.a).numer(), _poly(p2.a).numer()) if p != 0
             for r, _ in p.roots()]
    m = max([2] + [r + 1 for r in roots])
    phi2 = _phi(p2, m)
    adj2 = [[phi2[1][1], -phi2[0][1]], [-phi2[1][0], phi2[0][0]]]
    k = _mul(_mul(_phi(p1, m), _at(u, m + 1)), adj2)
    den = math.lcm(*(v.denominator for row in k for v in row))
    flat = [int(v * den) for row in k for v in row]
    g = math.gcd(*flat)
    if g == 0 or flat[0] * flat[3] - flat[1] * flat[2] == 0:
        return None
    k00, k01, k10, k11 = (v // g for v in flat)
    for level in range(m + 1, m + 1 + _CHECK):
        left = _mul(_phi(p1, level), _at(u, level + 1))
        right = _mul([[k00, k01], [k10, k11]], _phi(p2, level))
        cells = [(left[i][j], right[i][j]) for i in range(2) for j in range(2)]
        if any(x * y2 != x2 * y for x, y in cells for x2, y2 in cells):
            raise ArithmeticError(f"a gauge between {p1} and {p2} fails on exact convergents")
    return k00, k01, k10, k11


def find(p1: PCF, p2: PCF, max_degree: int = 6, max_shift: int = 2) -> tuple[Gauge, int, int] | None:
    """A gauge between tails of P1 and P2: (gauge between P1.shift(s1) and P2.shift(s2), s1, s2),
    one of the shifts zero, trying smaller shifts first; None when there is none in the range."""
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or not 0 <= max_shift <= 10:
        raise InputError(f"the gauge shift is an integer from 0 to 10, got {max_shift!r}")
    for s in range(max_shift + 1):
        for s1, s2 in ((s, 0), (0, s)) if s else ((0, 0),):
            g = solve(p1.shift(s1) if s1 else p1, p2.shift(s2) if s2 else p2, max_degree)
            if g is not None:
                return g, s1, s2
    return None
