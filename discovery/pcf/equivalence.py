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

import math
from dataclasses import dataclass

from flint import fmpq, fmpz_poly

from discovery.errors import InputError
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
class Mobius:
    """An exact Möbius map x -> (alpha + beta x)/(gamma + delta x) between two limits.

    Attributes
    ----------
    alpha, beta, gamma, delta : int
    """

    alpha: int
    beta: int
    gamma: int
    delta: int

    def apply(self, x):
        """(alpha + beta x)/(gamma + delta x) for an mpmath, gmpy2, Fraction or sympy number x."""
        return (self.alpha + self.beta * x) / (self.gamma + self.delta * x)


@dataclass(frozen=True)
class Relation(Mobius):
    """The exact Möbius map L_q = (alpha + beta L_p)/(gamma + delta L_p) between two limits.

    Attributes
    ----------
    alpha, beta, gamma, delta : int
        Coprime integers, beta gamma - alpha delta != 0, the first non-zero of gamma, delta
        positive.
    shift : int
        Level n of q corresponds to level n + shift of p: e_q(n) = e_p(n + shift); 0 when e is
        constant (every shift relates the fractions then).

    Notes
    -----
    Infinitely many Möbius maps send one number to another; this is the one the fractions carry:
    it sends every convergent of p beyond a cut to the convergent of q at the corresponding level,
    exactly, so it holds whatever the limits are (and whether or not they are finite).
    """

    shift: int


_Matrix = tuple[int, int, int, int]
"""[[m00, m01], [m10, m11]] row by row: the Möbius map x -> (m00 x + m01)/(m10 x + m11)."""


def _diagonal(u: int, v: int) -> _Matrix:
    return u, 0, 0, v


def _compose(x: _Matrix, y: _Matrix) -> _Matrix:
    """The product x y: the map x after the map y."""
    return (x[0] * y[0] + x[1] * y[2], x[0] * y[1] + x[1] * y[3],
            x[2] * y[0] + x[3] * y[2], x[2] * y[1] + x[3] * y[3])


def _adjugate(x: _Matrix) -> _Matrix:
    """det(x) x^-1: the inverse map, in integers."""
    return x[3], -x[1], -x[2], x[0]


def _normalized(x: _Matrix) -> tuple[int, int, int, int]:
    """(alpha, beta, gamma, delta) of the map, coprime, the first non-zero of gamma, delta positive."""
    alpha, beta, gamma, delta = (int(v) for v in (x[1], x[0], x[3], x[2]))
    g = math.gcd(alpha, beta, gamma, delta)
    if (gamma or delta) < 0:
        g = -g
    return alpha // g, beta // g, gamma // g, delta // g


def _integer_roots(coeffs) -> list[int]:
    return [int(r) for r, _ in _poly(coeffs).roots()]


def _head(pcf: PCF, level: int) -> _Matrix:
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
    c = _diagonal(q.a_at(m), p.a_at(level))
    mobius = _compose(_compose(_head(q, m), c), _adjugate(_head(p, level)))
    rel = Relation(*_normalized(mobius), shift)
    _check(rel, (p, range(level, level + check)), (q, range(m, m + check)))
    return rel


def _check(rel, source: tuple[PCF, range], target: tuple[PCF, range]) -> None:
    """The map sends the source's convergents at the given depths to the target's, exactly."""
    xs = exact.convergents(source[0].a, source[0].b, source[1])
    ys = exact.convergents(target[0].a, target[0].b, target[1])
    for (x, xd), (y, yd) in zip(xs, ys):
        # Projectively: (alpha xd + beta x) yd == (gamma xd + delta x) y, also for infinite ones.
        if (rel.alpha * xd + rel.beta * x) * yd != (rel.gamma * xd + rel.delta * x) * y:
            raise ArithmeticError(f"{rel} fails on the convergents of {source[0]} and {target[0]}")


# --- contractions ---------------------------------------------------------------------------------
def _at(p: fmpz_poly, k: int) -> fmpz_poly:
    """p(2n - k)."""
    return p(fmpz_poly([-k, 2]))


def _coeffs(p: fmpz_poly) -> list[int]:
    return [int(c) for c in reversed(p.coeffs())]


def contraction(pcf: PCF, odd: bool = False) -> PCF:
    """The even (or odd) part of a PCF as a PCF: same formula as the fraction of its even convergents.

    Eliminating p_(2n-1) and p_(2n-3) from three steps of the recurrence gives, for n >= 2,

        a(2n-2) p_(2n) = A'(n) p_(2n-2) - a(2n) b(2n-1) b(2n-2) p_(2n-4),
        A'(n) = a(2n-2) (a(2n-1) a(2n) + b(2n)) + a(2n) b(2n-1),

    and the equivalence transform that clears the factor a(2n-2) turns it into the PCF
    A(n) = A'(n), B(n) = -a(2n) a(2n-4) b(2n-1) b(2n-2) (Lorentzen and Waadeland's even part).  Its
    first terms differ from those of the even part (which are no polynomials in n), so the two are
    the same formula in the sense of :func:`equivalence_key` and their limits are related by a
    Möbius map (see :func:`connection`).  The odd part is the even part of the tail from level 1.

    Parameters
    ----------
    pcf : PCF
        The fraction.
    odd : bool
        The odd part (convergents p_(2n+1)/q_(2n+1)) instead of the even one.

    Returns
    -------
    PCF
        PCF(A, B) as above, of degrees up to (3 deg a, 2 deg a + 2 deg b) with a, b the fraction's.

    Raises
    ------
    InputError
        When A vanishes identically: every partial denominator of the even part is 0 (as for
        PCF(2, -2), whose convergents cycle with period 4), so it is no PCF.

    Examples
    --------
    >>> contraction(PCF(1, 1))  # phi + 1 = 3 - 1/(3 - 1/(3 - ...))
    PCF(a=3, b=-1)
    """
    src = pcf.shift(1) if odd else pcf
    a, b = _poly(src.a), _poly(src.b)
    big_a = _at(a, 2) * (_at(a, 1) * _at(a, 0) + _at(b, 0)) + _at(a, 0) * _at(b, 1)
    if big_a.is_zero():
        raise InputError(f"the {'odd' if odd else 'even'} part of {pcf} has every partial denominator 0")
    big_b = -(_at(a, 0) * _at(a, 4) * _at(b, 1) * _at(b, 2))
    return PCF(_coeffs(big_a), _coeffs(big_b))


def _contracted(pcf: PCF, odd: bool, check: int) -> tuple[PCF, _Matrix] | None:
    """(C, G): a tail C of :func:`contraction` that does not terminate, and G with L_p = G(L_C).

    Level n of C stands for level 2(n + j) (+1 for the odd part) of p.  With the even convergents
    scaled, y_n = p_(2n) W_n, W_n = a(2m-2) ... a(2n-2), they obey C's recurrence from level m on,
    so [[y_n, y_(n-1)], ...] = Phi_m Psi_m^-1 Psi_n with Psi the matrix of C's convergents, and
    G = [[p_(2m), p_(2m-2)], [q_(2m), q_(2m-2)]] diag(a(2m-2), 1) adj(Psi_m).
    """
    if any(r >= 1 for r in _integer_roots(pcf.b)):
        return None
    src = pcf.shift(1) if odd else pcf
    whole = contraction(pcf, odd)
    j = max([0] + _integer_roots(whole.b))
    tail = whole.shift(j) if j else whole
    # Dividing by a(2n-2) needs a(2i) != 0 for every i >= m - 1.
    m = max([j, 1] + [r // 2 + 2 for r in _integer_roots(src.a) if r % 2 == 0])
    found = exact.walk(src.a, src.b, [2 * m])[2 * m]
    p2, q2 = found[:2]
    p1, q1 = exact.walk(src.a, src.b, [2 * m - 2])[2 * m - 2][:2]
    w = src.a_at(2 * m - 2)
    phi = (int(p2) * w, int(p1), int(q2) * w, int(q1))
    x, y, x_prev, y_prev = exact.walk(tail.a, tail.b, [m - j])[m - j]
    g = _compose(phi, _adjugate((int(x), int(x_prev), int(y), int(y_prev))))
    if odd:
        g = _compose(_head(pcf, 1), g)
    start = 2 * m + odd
    _check(Relation(*_normalized(g), 0), (tail, range(m - j, m - j + check)),
           (pcf, range(start, start + 2 * check, 2)))
    return tail, g


@dataclass(frozen=True)
class Connection(Mobius):
    """How two PCFs are the same formula, with the Möbius map L_q = (alpha + beta L_p)/(gamma + delta L_p).

    Attributes
    ----------
    kind : str
        ``"equivalent"`` (see :func:`relation`), ``"even part"`` or ``"odd part"``.
    contracted : str
        For a part, whose: ``"p"`` when q is (equivalent to) the even or odd part of p, ``"q"`` when p
        is that of q; empty for ``"equivalent"``.
    alpha, beta, gamma, delta : int
        The map, normalised as in :class:`Relation`.  For a part, the contracted fraction's limit
        stands for the limit of its even (odd) convergents, which is its limit when it converges.
    """

    kind: str
    contracted: str

    def __str__(self):
        if self.kind == "equivalent":
            return "q is an equivalence transform of a tail or head of p"
        other = "q" if self.contracted == "p" else "p"
        return f"{other} is the same formula as the {self.kind} of {self.contracted}"


def _matrix(rel: Relation) -> _Matrix:
    return rel.beta, rel.alpha, rel.delta, rel.gamma


def connection(p: PCF, q: PCF, check: int = 4) -> Connection | None:
    """Whether q is the same formula as p, as its even or odd part, or p as the part of q.

    Parameters
    ----------
    p, q : PCF
        The fractions.
    check : int
        Exact convergents checked against each map (see :func:`relation`).

    Returns
    -------
    Connection or None
        The first that holds, in the order: equivalent, q a part of p, p a part of q; None when
        none does or when a fraction involved terminates.

    Examples
    --------
    >>> str(connection(PCF(1, 1), PCF(3, -1)))  # phi and phi + 1
    'q is the same formula as the even part of p'
    >>> c = connection(PCF(1, 1), PCF(3, -1))
    >>> (c.alpha, c.beta, c.gamma, c.delta)  # (1 + 2 phi)/phi = phi + 1
    (1, 2, 0, 1)
    """
    rel = relation(p, q, check)
    if rel is not None:
        return Connection(rel.alpha, rel.beta, rel.gamma, rel.delta, "equivalent", "")
    for whole, part, name in ((p, q, "p"), (q, p, "q")):
        for odd in (False, True):
            try:
                shape = contraction(whole, odd)
            except InputError:
                continue
            if equivalence_key(shape) != equivalence_key(part):
                continue
            contracted = _contracted(whole, odd, check)
            link = None if contracted is None else relation(contracted[0], part, check)
            if link is None:
                return None
            # L_whole = G(L_C) and L_part = R(L_C).
            g, r = contracted[1], _matrix(link)
            mobius = _compose(r, _adjugate(g)) if name == "p" else _compose(g, _adjugate(r))
            return Connection(*_normalized(mobius), "odd part" if odd else "even part", name)
    return None
