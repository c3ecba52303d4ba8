"""A trajectory of a CMF as a recurrence, and a rank-2 trajectory as a PCF with the exact Möbius
map between the two limits.

**Derivation.**  Let W_N = M(0) ... M(N - 1) be the walk of a trajectory of rank r and v the first
unit vector e_0.  For any fixed row
vector w the numbers x_N = w W_N v satisfy x_(N+j) = w W_N u_j(N) with
u_j(N) = M(N) M(N + 1) ... M(N + j - 1) v.  The r + 1 vectors u_0, ..., u_r of dimension r are
dependent: u_r = sum_j c_j(N) u_j with rational functions c_j found by solving the r x r system
(generically regular), so every row of W_N v satisfies the same recurrence

    x_(N+r) = c_(r-1)(N) x_(N+r-1) + ... + c_0(N) x_N.

For r = 2 that is a PCF recurrence at level k = N - 2: p_k = a(k) p_(k-1) + b(k) p_(k-2) with
a(k) = c_1(k), b(k) = c_0(k).  An equivalence transform a -> g a, b -> g(k-1) g(k) b
with g = lcm of the denominators of a and b makes both polynomials (it scales every solution by the
same product of g, so ratios are unchanged), and deflations (dividing by a factor f of a with
f(k - 1) f(k) dividing b) make them small.  Equivalence transforms preserve the space of
solutions up to that common scaling, so the walk's ratio P_N / Q_N is a fixed Möbius image of the
PCF's convergent p_(N-2) / q_(N-2) beyond the levels where something vanishes; the map is solved
from three levels and checked exactly at four more.

**The coboundary.**  For r = 2 this is the gauge U(n) = [e_0, M(n) e_0]: U(n)^-1 M(n) U(n + 1) is
the companion matrix [[0, c_0(n)], [1, c_1(n)]], and W_N e_0 = U(0) C(0) ... C(N - 1) e_0, so the
first column of the walk is the PCF's convergent column exactly.  The walk's value (the last
column, the ramanujantools convention) tends to the same limit whenever the walk converges to a
rank-one direction, which is what convergence of a trajectory means; the map is exact between the
first column's ratio and the PCF's convergents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import sympy
from flint import fmpq_poly, fmpz_poly

from discovery.cmf.field import CMF
from discovery.cmf.steps import StepPolynomials, n
from discovery.errors import InputError
from discovery.pcf.equivalence import Mobius
from discovery.pcf.formula import PCF

_FIT_LEVELS = 3
_CHECK_LEVELS = 4


@dataclass(frozen=True)
class TrajectoryPCF:
    """A rank-2 trajectory as a PCF.

    Attributes
    ----------
    pcf : PCF
        Polynomial a(n), b(n), deflated and in canonical form.
    mobius : Mobius or None
        The map from the PCF's limit to the walk's limit (exact between the convergents and the
        ratio of the walk's first column beyond ``cut``); None when the PCF terminates
        (b(k) = 0 at some k >= 1: its convergents span no two-dimensional space) or a step of the
        walk is singular (the walk then forgets all but one direction and no invertible map exists).
    cut : int
        The depth from which walk values and convergents correspond exactly.
    """

    pcf: PCF
    mobius: Mobius | None
    cut: int


def recurrence(cmf: CMF, direction: Sequence[int], start: Sequence) -> list[sympy.Expr]:
    """The recurrence satisfied by every row of the walk's first column along a trajectory.

    Returns
    -------
    list of sympy.Expr
        Rational functions c_0(n), ..., c_(r-1)(n) in lowest terms with
        x_(N+r) = sum_j c_j(N) x_(N+j).

    Raises
    ------
    discovery.errors.InputError
        When the vectors u_j are dependent for every n (the first unit vector lies in an invariant
        subspace of the trajectory), so no recurrence of order r follows this way.
    """
    m = cmf.step_matrix(direction, start)
    r = m.rows
    u = [sympy.eye(r)[:, 0]]
    prod = sympy.eye(r)
    for j in range(r):
        prod = (prod * m.subs(n, n + j)).applyfunc(sympy.cancel)
        u.append(prod[:, 0])
    system = sympy.Matrix.hstack(*u[:r])
    if sympy.cancel(system.det()) == 0:
        raise InputError(f"trajectory {tuple(direction)} from {tuple(start)} of {cmf.name or 'the CMF'}: "
                         f"the first unit vector is invariant, no order-{r} recurrence")
    return [sympy.cancel(c) for c in system.LUsolve(u[r])]


def recurrence_polynomials(cmf: CMF, direction: Sequence[int], start: Sequence) -> list[list[int]]:
    """:func:`recurrence` over a common denominator: integer polynomials P_0, ..., P_r (highest
    degree first, content 1) with sum_j P_j(N) x_(N+j) = 0."""
    cs = recurrence(cmf, direction, start)
    terms = [*(-c for c in cs), sympy.Integer(1)]
    den = sympy.Integer(1)
    for t in terms:
        den = sympy.lcm(den, sympy.fraction(sympy.together(t))[1])
    polys = [sympy.Poly(sympy.cancel(t * den), n, domain="QQ") for t in terms]
    scale = math.lcm(*(int(sympy.Rational(c).q) for p in polys for c in p.all_coeffs()))
    ints = [[int(c * scale) for c in p.all_coeffs()] for p in polys]
    g = math.gcd(*(c for p in ints for c in p))
    return [[c // g for c in p] for p in ints]


_N_MINUS_1 = fmpz_poly([-1, 1])


def _deflate(a: fmpz_poly, b: fmpz_poly) -> tuple[fmpz_poly, fmpz_poly]:
    """Divide out every factor f of a with f(k - 1) f(k) dividing b (a deflation: the inverse of an
    equivalence transform by f, so the limit is unchanged)."""
    _, factors = a.factor()
    for f, _ in factors:
        if f.degree() < 1:
            continue
        pair = f * f(_N_MINUS_1)
        while True:
            qa, ra = divmod(a, f)
            qb, rb = divmod(b, pair)
            if ra != 0 or rb != 0:
                break
            a, b = qa, qb
    return a, b


def _coeffs(p: fmpz_poly) -> list[int]:
    return [int(c) for c in reversed(p.coeffs())]


def _integer_roots(p: fmpz_poly) -> list[int]:
    return [] if p == 0 else [int(r) for r, _ in p.roots()]


def trajectory_pcf(cmf: CMF, direction: Sequence[int], start: Sequence) -> TrajectoryPCF:
    """The PCF equivalent to a rank-2 trajectory, with the exact map between their limits.

    Parameters
    ----------
    cmf : CMF
        A field of rank 2.
    direction, start
        The trajectory, as for :meth:`CMF.step_matrix`.

    Returns
    -------
    TrajectoryPCF

    Raises
    ------
    discovery.errors.InputError
        For a field of rank other than 2, or a trajectory with no PCF (see :func:`recurrence`).
    ArithmeticError
        If the fitted map fails on an exact walk (a bug, not a property of the input).

    Examples
    --------
    >>> from discovery.cmf.known import known_cmf
    >>> trajectory_pcf(known_cmf("zeta3"), (1, 1), (0, 0)).pcf  # Apéry's fraction for 6/zeta(3)
    PCF(a=34*n**3 + 51*n**2 + 27*n + 5, b=-n**6)
    """
    if cmf.rank != 2:
        raise InputError(f"{cmf.name or 'the CMF'} has rank {cmf.rank}; a PCF comes from a rank-2 field "
                         f"(use recurrence for higher ranks)")
    steps = cmf.compiled(direction, start)
    a_poly, b_poly = _companion(steps, cmf, direction, start)
    if b_poly == 0:
        raise InputError(f"trajectory {tuple(direction)} of {cmf.name or 'the CMF'} gives b = 0: no PCF")
    a_poly, b_poly = _deflate(a_poly, b_poly)
    pcf = PCF(_coeffs(a_poly) if a_poly != 0 else [0], _coeffs(b_poly)).canonical()
    cut = _cut(steps, pcf)
    (m00, m01), (m10, m11) = steps.numerators
    singular = any(r >= 0 for r in _integer_roots(m00 * m11 - m01 * m10))
    if singular or any(r >= 1 for r in _integer_roots(fmpz_poly(list(reversed(pcf.b))))):
        return TrajectoryPCF(pcf, None, cut)
    return TrajectoryPCF(pcf, _fit(steps, pcf, cut), cut)


def _reduced(num: fmpq_poly, den: fmpq_poly) -> tuple[fmpq_poly, fmpq_poly]:
    g = num.gcd(den)
    return (num // g, den // g) if g.degree() > 0 else (num, den)


def _companion(steps: StepPolynomials, cmf: CMF, direction, start) -> tuple[fmpz_poly, fmpz_poly]:
    """a(n) = c_1(n), b(n) = c_0(n) of :func:`recurrence` for rank 2, cleared of denominators,
    in flint (the same fraction as the general sympy solve, in milliseconds).

    With M = N/D, u_1 = M(n) e_0 and u_2 = M(n) M(n + 1) e_0, the system u_2 = c_0 e_0 + c_1 u_1
    gives c_1 = (N(n) N(n+1))[1, 0] / (D(n+1) N_10(n)) and c_0 = u_2[0] - c_1 u_1[0].  The gauge
    g = lcm of the denominators of a and b makes a -> g a, b -> g(n-1) g(n) b polynomials (an
    equivalence transform: ratios of solutions are unchanged), and one integer scale L (a -> L a,
    b -> L^2 b) makes their coefficients integers."""
    (n00, n01), (n10, n11) = (tuple(fmpq_poly(p.coeffs()) for p in row) for row in steps.numerators)
    den = fmpq_poly(steps.denominator.coeffs())
    if n10 == 0:
        raise InputError(f"trajectory {tuple(direction)} from {tuple(start)} of {cmf.name or 'the CMF'}: "
                         f"the first unit vector is invariant, no order-2 recurrence")
    shift = fmpq_poly([1, 1])
    nn00 = n00 * n00(shift) + n01 * n10(shift)
    nn10 = n10 * n00(shift) + n11 * n10(shift)
    den_next = den(shift)
    a_num, a_den = _reduced(nn10, den_next * n10)
    b_num, b_den = _reduced(nn00 * a_den - a_num * n00 * den_next, den * den_next * a_den)
    gauge = a_den * b_den // a_den.gcd(b_den)
    la = a_num * (gauge // a_den)
    lb = b_num * (gauge(fmpq_poly([-1, 1])) * gauge // b_den)
    scale = math.lcm(int(la.denom()), int(lb.denom()))
    # One L for both: a -> L a and b -> L^2 b is an equivalence transform by a constant.
    return (fmpz_poly([int(c * scale) for c in la.coeffs()]),
            fmpz_poly([int(c * scale * scale) for c in lb.coeffs()]))


def _cut(steps: StepPolynomials, pcf: PCF) -> int:
    """A depth past every integer where a step is undefined or singular, the recurrence's system is
    singular, or a(k), b(k) vanish: beyond it the walk and the PCF's convergents correspond."""
    (m00, m01), (m10, m11) = steps.numerators
    polys = [steps.denominator, m10, m00 * m11 - m01 * m10,
             fmpz_poly(list(reversed(pcf.a))), fmpz_poly(list(reversed(pcf.b)))]
    roots = [r for p in polys for r in _integer_roots(p)]
    return max([2] + [r + 3 for r in roots])


def _fit(steps: StepPolynomials, pcf: PCF, cut: int) -> Mobius:
    levels = list(range(cut, cut + _FIT_LEVELS + _CHECK_LEVELS))
    walks = steps.walks(levels)
    pairs = [(int(w.matrix[0, 0]), int(w.matrix[1, 0])) for w in walks]
    convergents = pcf.convergents([k - 2 for k in levels])
    # (k00 p + k01 q) Q - (k10 p + k11 q) P = 0 at each fitted level: the ratio P/Q of the walk's
    # first column is the image of the convergent p/q.
    rows = [[p * Q, q * Q, -p * P, -q * P] for (P, Q), (p, q) in zip(pairs[:_FIT_LEVELS], convergents)]
    null = sympy.Matrix(rows).nullspace()
    if len(null) != 1:
        raise ArithmeticError(f"no unique Möbius map between the walk and {pcf!r}")
    vec = null[0] * sympy.lcm([sympy.Rational(v).q for v in null[0]])
    k00, k01, k10, k11 = (int(v) for v in vec)
    g = math.gcd(k00, k01, k10, k11)
    if (k11 or k10) < 0:
        g = -g
    k00, k01, k10, k11 = k00 // g, k01 // g, k10 // g, k11 // g
    if k00 * k11 - k01 * k10 == 0:
        raise ArithmeticError(f"the walk's values do not determine an invertible map to {pcf!r}")
    for (P, Q), (p, q) in zip(pairs, convergents):
        if (k00 * p + k01 * q) * Q != (k10 * p + k11 * q) * P:
            raise ArithmeticError(f"the map between the walk and {pcf!r} fails on an exact convergent")
    return Mobius(alpha=k01, beta=k00, gamma=k11, delta=k10)
