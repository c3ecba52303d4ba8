"""Exact equivalence of PCFs: keys, Möbius relations, contractions.

Speed: ``python scripts/bench_equivalence.py`` prints keys per second on random degree-(2, 2) PCFs.
"""

import math
from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import assume, given, strategies as st

from discovery.pcf import exact
from discovery.errors import InputError
from discovery.pcf.equivalence import connection, contraction, equivalence_key, equivalent, relation
from discovery.pcf.formula import PCF
from discovery.pcf.known import known_pcfs, literature_pcfs
from strategies import polynomials

n = sympy.Symbol("n")


# --- reference transforms and a naive equivalence check ---------------------------------------
def _poly(coeffs) -> sympy.Poly:
    return sympy.Poly(list(coeffs), n)


def _coeffs(poly: sympy.Poly) -> list[int]:
    return [int(c) for c in poly.all_coeffs()]


def moved(pcf: PCF, k: int) -> PCF:
    """PCF(a(n + k), b(n + k)) for any integer k: a tail for k > 0, a head put in front for k < 0."""
    return PCF(_coeffs(_poly(pcf.a).shift(k)), _coeffs(_poly(pcf.b).shift(k)))


def inflated(pcf: PCF, c) -> PCF:
    """a -> c(n) a, b -> c(n-1) c(n) b (c constant: a scaling, c = -1: a sign flip)."""
    cp = _poly(c)
    return PCF(_coeffs(cp * _poly(pcf.a)), _coeffs(cp.shift(-1) * cp * _poly(pcf.b)))


def naive_shift(p: PCF, q: PCF, span: int = 12):
    """Some s in [-span, span] with e_q(n) = e_p(n + s), by cross-multiplying the polynomials."""
    ap, bp, aq, bq = _poly(p.a), _poly(p.b), _poly(q.a), _poly(q.b)
    for s in range(-span, span + 1):
        lhs = bq * ap.shift(s - 1) * ap.shift(s)
        rhs = bp.shift(s) * aq.shift(-1) * aq
        if (lhs - rhs).is_zero:
            return s
    return None


def terminates(pcf: PCF) -> bool:
    return exact.first_zero(pcf.b, 10**6) is not None


def chordal(u, v) -> mpmath.mpf:
    """Chordal distance of two points (x : y) of the projective line: an infinite limit is a limit too."""
    (x1, y1), (x2, y2) = ((mpmath.mpf(int(x)), mpmath.mpf(int(y))) for x, y in (u, v))
    return abs(x1 * y2 - x2 * y1) / (mpmath.hypot(x1, y1) * mpmath.hypot(x2, y2))


def confirm(rel, p: PCF, q: PCF, depth: int = 300, digits: int = 30) -> None:
    """L_q = (alpha + beta L_p)/(gamma + delta L_p) to ``digits`` digits, from exact convergents.

    The convergents at ``depth`` and ``2 depth`` must agree to more than ``digits`` digits before the
    deeper ones stand for the limits; distances are chordal (relative for large values, absolute
    near 0, and defined at infinity).
    """
    tol = mpmath.mpf(10) ** -digits
    with mpmath.workdps(2 * digits + 20):
        limits = []
        for pcf in (p, q):
            shallow, deep = pcf.convergents([depth, 2 * depth])
            assert chordal(shallow, deep) <= tol / 10**5
            limits.append(deep)
        (x, y), target = limits
        image = (rel.beta * x + rel.alpha * y, rel.delta * x + rel.gamma * y)
        assert chordal(image, target) <= tol


# --- strategies ---------------------------------------------------------------------------------
transforms = st.lists(
    st.one_of(
        st.tuples(st.just("move"), st.integers(-6, 6)),
        st.tuples(st.just("inflate"), polynomials(max_degree=2, bound=4)),
        st.tuples(st.just("scale"), st.sampled_from([-3, -2, -1, 2, 5])),
    ),
    min_size=1,
    max_size=4,
)


def transformed(pcf: PCF, steps) -> PCF:
    for kind, arg in steps:
        if kind == "move":
            pcf = moved(pcf, arg)
        elif kind == "inflate":
            pcf = inflated(pcf, arg)
        else:
            pcf = inflated(pcf, [arg])
    return pcf


any_pcfs = st.builds(PCF, polynomials(2, 5), polynomials(2, 5))
# e(n) -> 0 like 1/n or faster: the fraction converges to 30 digits well within depth 300.
fast_pcfs = st.builds(
    PCF,
    st.one_of(
        st.tuples(st.integers(1, 4), st.integers(1, 5)),
        st.tuples(st.integers(1, 3), st.integers(0, 4), st.integers(1, 5)),
    ),
    polynomials(1, 5),
)


# --- the key ------------------------------------------------------------------------------------
@given(any_pcfs, transforms)
def test_key_is_invariant_under_transforms(pcf, steps):
    other = transformed(pcf, steps)
    assert equivalence_key(other) == equivalence_key(pcf)
    assert equivalent(pcf, other)


@given(any_pcfs, st.integers(-15, 15))
def test_key_of_every_tail_and_head(pcf, k):
    assert equivalence_key(moved(pcf, k)) == equivalence_key(pcf)


small_pcfs = st.builds(PCF, polynomials(2, 2), polynomials(2, 2))


@given(small_pcfs, st.one_of(small_pcfs, st.builds(transformed, small_pcfs, transforms)))
def test_key_agrees_with_naive_check(p, q):
    """Equal keys exactly when e_q(n) = e_p(n + s) for an integer s (cross-multiplied by sympy)."""
    assert (equivalence_key(p) == equivalence_key(q)) == (naive_shift(p, q) is not None)


@given(any_pcfs)
def test_key_is_short_text(pcf):
    key = equivalence_key(pcf)
    assert isinstance(key, str) and len(key) < 120


def test_key_format():
    assert equivalence_key(PCF("2n+1", "n^2")) == "1*[1,0,0]/[4,0,-1]"
    # (2n - 1)^2/36 is moved to (2n + 1)^2/36: 4/4 lies in [0, 2).
    assert equivalence_key(PCF(6, "(2n-1)^2")) == "1/36*[4,4,1]/[1]"
    assert equivalence_key(PCF(-2, 1)) == "1/4*[1]/[1]"


# --- the relation -------------------------------------------------------------------------------
@given(fast_pcfs, transforms)
def test_relation_maps_limits(pcf, steps):
    other = transformed(pcf, steps)
    rel = relation(pcf, other)
    if terminates(pcf) or terminates(other):
        assert rel is None
        return
    assert rel is not None
    assert rel.beta * rel.gamma != rel.alpha * rel.delta
    assert math.gcd(rel.alpha, rel.beta, rel.gamma, rel.delta) == 1
    confirm(rel, pcf, other)
    back = relation(other, pcf)
    assert back.shift == -rel.shift
    confirm(back, other, pcf)


@given(fast_pcfs, st.integers(0, 8))
def test_relation_shift_of_a_tail(pcf, k):
    assume(not terminates(pcf))
    rel = relation(pcf, pcf.shift(k))
    constant = naive_shift(pcf, pcf.shift(1), span=0) == 0  # e(n + 1) = e(n): any shift relates them
    assert rel.shift == (0 if constant else k)
    # The tail's limit T gives L = (p_(k-1) T + b(k) p_(k-2)) / (q_(k-1) T + b(k) q_(k-2)).
    confirm(rel, pcf, pcf.shift(k))


def test_identity():
    rel = relation(PCF("2n+1", "n^2"), PCF("2n+1", "n^2"))
    assert (rel.alpha, rel.beta, rel.gamma, rel.delta, rel.shift) == (0, 1, 1, 0, 0)


phi = (1 + sympy.sqrt(5)) / 2


@pytest.mark.parametrize(
    ("base", "base_value", "other", "value"),
    [
        ((1, 1), phi, ("n+1", "n(n+1)"), phi),
        ((2, 1), 1 + sympy.sqrt(2), ("2(n+1)", "n(n+1)"), 1 + sympy.sqrt(2)),
        ((1, 1), phi, ("n+2", "(n+1)(n+2)"), 2 * phi),
        ((1, 1), phi, ("-(n+2)", "(n+1)(n+2)"), -2 * phi),
        ((1, 1), phi, ("3n^2+1", "(3n^2-6n+4)(3n^2+1)"), phi),
        ((1, 1), phi, ("n+3", "(n+2)(n+3)"), 3 * phi),
    ],
)
def test_issue_examples(base, base_value, other, value):
    """Inflations of the golden-ratio and silver-ratio fractions: same key, limits related exactly."""
    p, q = PCF(*base), PCF(*other)
    assert equivalence_key(p) == equivalence_key(q)
    rel = relation(p, q)
    assert sympy.simplify(rel.apply(base_value) - value) == 0
    with mpmath.workdps(60):
        assert abs(q.limit(300, dps=60).value - sympy.N(value, 60)) < mpmath.mpf(10) ** -40


def test_terminating_fraction_has_a_key_but_no_relation():
    finite = PCF(1, "n-2")  # 1 - 1/(1 + 0/...) = 0
    assert equivalence_key(finite) == equivalence_key(finite.shift(3))
    assert relation(finite, finite.shift(3)) is None
    assert relation(finite, finite) is None


def test_zero_of_a_is_cut_around():
    """a(3) = 0: e is undefined at n = 3 and 4, but the fraction's convergents and the map are not."""
    p = PCF("n-3", "n^2+1")
    q = inflated(moved(p, -2), [1, 7])
    assert equivalence_key(p) == equivalence_key(q)
    rel = relation(p, q)
    assert rel.shift == -2  # e_q(n) = e_p(n - 2)
    confirm(rel, p, q, depth=400)


# --- different formulas ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("p", "q", "same_limit"),
    [
        (PCF("2n+1", "n^2"), PCF("3n+1", "-n(2n-3)"), True),  # 4/pi twice (data/known_pcfs.json)
        (PCF("2n+1", "n^2"), PCF(2, "(2n-1)^2"), False),  # 4/pi and 1 + 4/pi (Brouncker)
        (PCF("2n+1", "n^2"), PCF(6, "(2n-1)^2"), False),  # 4/pi and pi + 3
        (PCF("n+3", "-n"), PCF("4n+2", 1), False),  # e and (e + 1)/(e - 1)
        (PCF(1, 1), PCF(3, -1), False),  # phi and phi + 1 (the even part of the first)
        (PCF("n+1", "n+1"), PCF("n+3", "-n"), False),  # e - 1 and e
    ],
)
def test_different_formulas_have_different_keys(p, q, same_limit):
    assert equivalence_key(p) != equivalence_key(q)
    assert not equivalent(p, q)
    assert relation(p, q) is None
    if same_limit:
        assert abs(p.limit(4000).value - q.limit(4000).value) < 1e-6


def _catalogue():
    records = [(k.id, k.pcf) for k in known_pcfs()]
    return records + [(r["id"], PCF(r["a"], r["b"])) for r in literature_pcfs()]


def test_known_formulas_grouped_by_key():
    """The shipped formulas: members of one class are related exactly, e.g. 1/(e - 1) and 1/(e - 2)."""
    groups = {}
    for name, pcf in _catalogue():
        groups.setdefault(equivalence_key(pcf), []).append((name, pcf))
    related = 0
    for members in groups.values():
        (_, first), *rest = members
        for _, other in rest:
            rel = relation(first, other)
            if first.degrees[1] < 2 * first.degrees[0] or first.degrees == (0, 0):
                confirm(rel, first, other, depth=400, digits=30)
            related += first != other
    assert related >= 2  # e-2 ~ e-3 (PCF(n, n), PCF(n + 1, n)), bessel-1 ~ lehmer-n1


# --- contractions ---------------------------------------------------------------------------------
def nonterminating_tail(pcf: PCF) -> PCF:
    roots = [int(r) for r in sympy.Poly(list(pcf.b), n).ground_roots() if r.is_integer]
    return pcf.shift(max([0] + roots))


def fitted_mobius(xs, ys):
    """The Möbius map with y = (alpha + beta x)/(gamma + delta x) through three points, by linear algebra."""
    rows = [[1, x, -y, -x * y] for x, y in zip(xs[:3], ys[:3])]
    (kernel,) = sympy.Matrix(rows).nullspace()
    return [sympy.Rational(v) for v in kernel]


@given(fast_pcfs, st.booleans())
def test_contraction_is_the_even_or_odd_part(pcf, odd):
    """Naive check: the contraction's convergents map onto every other convergent of the fraction
    by one Möbius map (fitted on three, checked on five more)."""
    assume(not terminates(pcf))
    try:
        part = nonterminating_tail(contraction(pcf, odd))
    except InputError:
        return
    start = 12
    xs = [Fraction(int(x), int(y)) for x, y in part.convergents(range(start, start + 8)) if y != 0]
    for j in range(0, 8):
        depths = [2 * (k + j) + odd for k in range(start, start + 8)]
        ys = [Fraction(int(x), int(y)) if y else None for x, y in pcf.convergents(depths)]
        if len(xs) < 8 or None in ys:
            return
        alpha, beta, gamma, delta = fitted_mobius(xs, ys)
        if all((alpha + beta * x) == y * (gamma + delta * x) for x, y in zip(xs, ys)):
            return
    pytest.fail("no Möbius map takes the contraction's convergents to the even or odd ones")


@given(fast_pcfs, st.booleans(), transforms)
def test_connection_finds_parts(pcf, odd, steps):
    assume(not terminates(pcf))
    try:
        part = transformed(nonterminating_tail(contraction(pcf, odd)), steps)
    except InputError:
        return
    found = connection(pcf, part)
    if terminates(part):
        assert found is None
        return
    assert found.kind in ("even part", "odd part", "equivalent")
    if found.kind != "equivalent":
        assert found.contracted == "p"
    confirm(found, pcf, part, depth=150)
    back = connection(part, pcf)
    assert back.kind == found.kind
    confirm(back, part, pcf, depth=150)


def test_golden_ratio_even_part():
    found = connection(PCF(1, 1), PCF(3, -1))
    assert (found.kind, found.contracted) == ("even part", "p")
    assert sympy.simplify(found.apply(phi) - (phi + 1)) == 0
    assert connection(PCF(3, -1), PCF(1, 1)).contracted == "q"


def test_contraction_without_denominators():
    with pytest.raises(InputError, match="partial denominator"):
        contraction(PCF(2, -2))


def test_unrelated_formulas_have_no_connection():
    assert connection(PCF("2n+1", "n^2"), PCF(2, "(2n-1)^2")) is None  # Euler's and Brouncker's 4/pi
    assert connection(PCF("n+3", "-n"), PCF("4n+2", 1)) is None
