"""Exact equivalence of PCFs: equivalence transforms, inflation and deflation, tails and heads.

**The invariant.**  Write a PCF as a(0) (1 + K_{n>=1} e(n)/1) with

    e(n) = b(n) / (a(n-1) a(n)),

a rational function of n.  An equivalence transform a(n) -> c(n) a(n), b(n) -> c(n-1) c(n) b(n)
(c(n) any non-vanishing sequence: a constant for a scaling or a sign flip, a polynomial for an
inflation, its inverse for a deflation) leaves e unchanged, and taking the tail from level k
(``PCF.shift(k)``) or putting terms in front of the fraction by extending the polynomials to
lower n replaces e(n) by e(n + k).

**The definition.**  Two PCFs P and Q are *the same formula* when some tail of Q is an equivalence
transform of some tail of P: there are levels j, k >= 0 and non-zero numbers c(n) with
a_Q(n) = c(n) a_P(n + s), b_Q(n) = c(n-1) c(n) b_P(n + s) for n > j, s = k - j.  Taking the
ratio, this holds exactly when e_Q(n) = e_P(n + s) for all large n, and two rational functions that
agree at infinitely many integers are equal: *P and Q are the same formula exactly when e_Q(n) and
e_P(n + s) are the same rational function for an integer s*.  The criterion is complete for the
transforms above, whatever c(n) is (it need not be rational in n: the PCFs force it to be), and
whatever finite head either fraction has.  A non-constant rational function is not periodic, so s
is then unique; a constant e (PCF(1, 1), PCF(2, 1), any fraction with constant a and b up to an
inflation) relates the fractions at every s.

**The key** (:func:`equivalence_key`) writes e(n + t) in lowest terms as lambda N(n)/D(n), with N and D
integer polynomials of content 1 and positive leading coefficient and lambda a non-zero rational.
The shift t is chosen canonically: with P = N (or D when N is constant) of degree d >= 1 and
leading coefficients c_d n^d + c_(d-1) n^(d-1) + ..., replacing n by n + 1 adds d to
c_(d-1)/c_d, and t is the one integer that puts c_(d-1)/c_d in [0, d).  Hence every tail, head,
inflation, deflation, scaling and sign flip of a PCF has the same key, and two PCFs have the same
key exactly when they are the same formula in the sense above.

**What it does not identify.**  The key is a property of the formal fraction, not of its value:
different formulas for one constant or for Möbius-related constants (PCF(2n+1, n^2) = 4/pi and
PCF(6, (2n-1)^2) = pi + 3, say) get different keys, and so do fractions related only by a
transform outside the list above: a contraction (the even or odd part of a fraction), a Bauer-Muir
transform, a reflection n -> -n, a change of variable n -> 2n.
A fraction that terminates (b(k) = 0 at some k >= 1, the value is rational) shares its key with its
infinite tail beyond the last such k, although no invertible Möbius map then links their values;
:func:`relation` returns None there.  A divergent fraction gets a key like any other.  b = 0 and
a = 0 are no PCFs (the constructor refuses them), so e is never 0 or undefined.
"""

from __future__ import annotations

from dataclasses import dataclass

from flint import fmpq, fmpz_poly

from discovery.pcf import exact
from discovery.pcf.formula import PCF

_N_MINUS_1 = fmpz_poly([-1, 1])


def _poly(coeffs) -> fmpz_poly:
    """flint polynomial from coefficients highest degree first (flint stores lowest first)."""
    return fmpz_poly(list(reversed(coeffs)))


def _primitive(p: fmpz_poly) -> tuple[fmpz_poly, int]:
    """(P, u) with p = u P, P of content 1 and positive leading coefficient."""
    u = int(p.content())
    if p.leading_coefficient() < 0:
        u = -u
    return fmpz_poly([c // u for c in p.coeffs()]), u


def _class(pcf: PCF) -> tuple[fmpq, fmpz_poly, fmpz_poly, int]:
    """(lambda, N, D, t) with e(n + t) = lambda N(n)/D(n) normalised as in the module docstring."""
    a = _poly(pcf.a)
    num = _poly(pcf.b)
    den = a(_N_MINUS_1) * a
    g = num.gcd(den)
    if not g.is_one():
        num, den = num // g, den // g
    num, u = _primitive(num)
    den, v = _primitive(den)
    lam = fmpq(u, v)
    ref = num if num.degree() >= 1 else den
    d = ref.degree()
    if d < 1:
        return lam, num, den, 0
    c_d, c_d1 = int(ref.coeffs()[d]), int(ref.coeffs()[d - 1])
    # e(n + t) has c_(d-1)/c_d + d t as its ratio; -floor(c_(d-1)/(d c_d)) brings it into [0, d).
    t = -(c_d1 // (d * c_d))
    if t:
        shift = fmpz_poly([t, 1])
        num, den = num(shift), den(shift)
    return lam, num, den, t


def _text(p: fmpz_poly) -> str:
    return ",".join(str(c) for c in reversed(p.coeffs()))


def equivalence_key(pcf: PCF) -> str:
    """A canonical text key of the PCF's class under equivalence transforms, tails and heads.

    Parameters
    ----------
    pcf : PCF
        The fraction.

    Returns
    -------
    str
        ``"lambda*[N]/[D]"``: e(n + t) = b(n + t)/(a(n + t - 1) a(n + t)) = lambda N(n)/D(n) in
        lowest terms, N and D as integer coefficients highest degree first with content 1 and a
        positive leading coefficient, lambda a rational, t the canonical shift (see the module
        docstring).  Two PCFs have the same key exactly when they are the same formula up to
        equivalence transforms (scalings, sign flips, inflations, deflations), tails and heads.

    Examples
    --------
    >>> equivalence_key(PCF("2n+1", "n^2"))  # 4/pi
    '1*[1,0,0]/[4,0,-1]'
    >>> equivalence_key(PCF("n+1", "n(n+1)")) == equivalence_key(PCF(1, 1))  # golden ratio
    True
    """
    lam, num, den, _ = _class(pcf)
    return f"{lam}*[{_text(num)}]/[{_text(den)}]"


def equivalent(p: PCF, q: PCF) -> bool:
    """Whether two PCFs are the same formula (equal :func:`equivalence_key`)."""
    return equivalence_key(p) == equivalence_key(q)


@dataclass(frozen=True)
class Relation:
    """The exact Möbius map L_q = (alpha + beta L_p)/(gamma + delta L_p) between two limits.

    Attributes
    ----------
    alpha, beta, gamma, delta : int
        Coprime integers, beta gamma - alpha delta != 0, the first non-zero of gamma, delta
        positive.
    shift : int
        Level n of q corresponds to level n + shift of p: e_q(n) = e_p(n + shift).
    """

    alpha: int
    beta: int
    gamma: int
    delta: int
    shift: int

    def apply(self, x):
        """(alpha + beta x)/(gamma + delta x) for an mpmath, gmpy2, Fraction or sympy number x."""
        return (self.alpha + self.beta * x) / (self.gamma + self.delta * x)


def _integer_roots(coeffs) -> list[int]:
    return [int(r) for r, _ in _poly(coeffs).roots()]


def _head(pcf: PCF, level: int) -> tuple[int, int, int, int]:
    """H with value = H(tail from ``level``): [[p_(N-1), b(N) p_(N-2)], [q_(N-1), b(N) q_(N-2)]]."""
    p1, q1, p2, q2 = exact.walk(pcf.a, pcf.b, [level - 1])[level - 1]
    bn = pcf.b_at(level)
    return int(p1), int(bn * p2), int(q1), int(bn * q2)


def relation(p: PCF, q: PCF, check: int = 4) -> Relation | None:
    """The exact Möbius map between the limits of two PCFs that are the same formula.

    Both fractions are cut at levels N (of p) and m = N - shift (of q) beyond every integer root of
    their polynomials; there the tails are equivalence transforms of each other,
    T_q = c T_p with c = a_q(m)/a_p(N), and L = H(T) for each fraction's head matrix H, so
    L_q = H_q diag(c, 1) H_p^-1 (L_p).  The identity holds for every convergent beyond the cut:
    p_q(m + k)/q_q(m + k) is the map applied to p_p(N + k)/q_p(N + k), exactly.

    Parameters
    ----------
    p, q : PCF
        The fractions.
    check : int
        How many pairs of exact convergents beyond the cut are checked against the map.

    Returns
    -------
    Relation or None
        None when the PCFs are not the same formula, or when either terminates (b(k) = 0 for some
        k >= 1: its value is rational and no invertible map links it to the other).

    Raises
    ------
    ArithmeticError
        If the map fails on an exact convergent (a bug, not a property of the input).

    Examples
    --------
    >>> r = relation(PCF(1, 1), PCF("n+2", "(n+1)(n+2)"))  # phi and 2 phi
    >>> (r.alpha, r.beta, r.gamma, r.delta)
    (0, 2, 1, 0)
    """
    lam_p, num_p, den_p, t_p = _class(p)
    lam_q, num_q, den_q, t_q = _class(q)
    if (lam_p, num_p, den_p) != (lam_q, num_q, den_q):
        return None
    if any(r >= 1 for r in _integer_roots(p.b) + _integer_roots(q.b)):
        return None
    shift = t_p - t_q
    # The cut must pass every integer root of the four polynomials so that each c(n) is defined
    # and non-zero along the tails.
    roots = _integer_roots(q.a) + _integer_roots(q.b)
    roots += [r - shift for r in _integer_roots(p.a) + _integer_roots(p.b)]
    m = max([1, 1 - shift] + [r + 1 for r in roots])
    level = m + shift
    h00, h01, h10, h11 = _head(q, m)
    u, v = q.a_at(m), p.a_at(level)
    # H_q diag(u, v) adj(H_p), adj(H_p) = [[k11, -k01], [-k10, k00]].
    k00, k01, k10, k11 = _head(p, level)
    r00, r01, r10, r11 = h00 * u, h01 * v, h10 * u, h11 * v
    m00, m01 = r00 * k11 - r01 * k10, -r00 * k01 + r01 * k00
    m10, m11 = r10 * k11 - r11 * k10, -r10 * k01 + r11 * k00
    alpha, beta, gamma, delta = _normalized(m01, m00, m11, m10)
    rel = Relation(alpha, beta, gamma, delta, shift)
    _check(rel, p, q, level, m, check)
    return rel


def _normalized(alpha: int, beta: int, gamma: int, delta: int) -> tuple[int, int, int, int]:
    g = abs(fmpz_poly([alpha, beta, gamma, delta]).content())
    sign = -1 if (gamma or delta) < 0 else 1
    return tuple(sign * int(x) // int(g) for x in (alpha, beta, gamma, delta))


def _check(rel: Relation, p: PCF, q: PCF, level: int, m: int, count: int) -> None:
    if count <= 0:
        return
    xs = exact.convergents(p.a, p.b, range(level, level + count))
    ys = exact.convergents(q.a, q.b, range(m, m + count))
    for (x, xd), (y, yd) in zip(xs, ys):
        # Projectively: (alpha xd + beta x) yd == (gamma xd + delta x) y, also for infinite ones.
        if (rel.alpha * xd + rel.beta * x) * yd != (rel.gamma * xd + rel.delta * x) * y:
            raise ArithmeticError(f"relation {rel} fails on the convergents of {p} and {q}")
