"""The fast exact walk of a CMF trajectory and its parts, each against a slow exact reference: the
multipoint Horner kernel (numba, 32-bit limbs, exact division by a fixed divisor), fixed
divisors, Winograd products and product trees, rising factorials, and whole walks against the
plain left-to-right product of the step matrices."""

import math
from fractions import Fraction

import mpmath
import pytest
from flint import fmpz_mat, fmpz_poly
from gmpy2 import mpz
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.cmf import Walk, known_cmf
from discovery.cmf.multipoint import MAX_POINT, Multipoint, fixed_divisor
from discovery.cmf.products import linear_product, matmul, scalar_tree, tree
from discovery.errors import InputError


def _values(p: fmpz_poly, k: int) -> int:
    """p(k) by Python integers, highest degree first: obviously exact."""
    v = 0
    for c in reversed([int(c) for c in p.coeffs()]):
        v = v * k + c
    return v


def _binomial_gcd(p: fmpz_poly) -> int:
    """gcd of the forward differences of p at 0 (p's coefficients in the binomial basis)."""
    values = [_values(p, k) for k in range(max(p.degree(), 0) + 1)]
    g = 0
    while values:
        g = math.gcd(g, values[0])
        values = [b - a for a, b in zip(values, values[1:])]
    return g


coefficient = st.integers(-2**300, 2**300) | st.integers(-50, 50)
polynomial = st.lists(coefficient, max_size=9).map(fmpz_poly)


@st.composite
def divisible(draw):
    """A polynomial times products of consecutive linear factors and a constant: a large fixed
    divisor, as the products of a walk's steps have."""
    p = draw(polynomial)
    for _ in range(draw(st.integers(0, 3))):
        b, m = draw(st.integers(-6, 6)), draw(st.integers(1, 14))
        for j in range(m):
            p *= fmpz_poly([b + j, 1])
    return p * draw(st.sampled_from([1, -1, 2, 6, 2**40, 6**30, -7]))


@settings(max_examples=150, deadline=None)
@given(polys=st.lists(divisible(), min_size=1, max_size=4), largest=st.sampled_from([0, 1, 7, 1000, 2**20, MAX_POINT]),
       data=st.data())
def test_multipoint_equals_exact_values(polys, largest, data):
    points = data.draw(st.lists(st.integers(0, largest), max_size=8))
    divisors = [fixed_divisor([p]) or 1 for p in polys]
    got = Multipoint(polys, largest, divisors)(points)
    assert got == [[_values(p, k) // d for p, d in zip(polys, divisors)] for k in points]
    assert Multipoint(polys, largest)(points) == [[_values(p, k) for p in polys] for k in points]


@settings(max_examples=100, deadline=None)
@given(polys=st.lists(divisible(), min_size=1, max_size=3), largest=st.integers(0, 300), data=st.data())
def test_multipoint_with_tight_bounds_equals_exact_values(polys, largest, data):
    # The exact largest |p(k)| as the bound: the arithmetic runs modulo a power of 2 just above it,
    # far below the coefficients where they cancel.
    polys = [p * fmpz_poly([-data.draw(st.integers(0, largest)), 1]) for p in polys]
    bounds = [max(abs(_values(p, k)) for k in range(largest + 1)) for p in polys]
    divisors = [fixed_divisor([p]) or 1 for p in polys]
    points = data.draw(st.lists(st.integers(0, largest), max_size=8))
    got = Multipoint(polys, largest, divisors, bounds)(points)
    assert got == [[_values(p, k) // d for p, d in zip(polys, divisors)] for k in points]


def test_multipoint_refuses_points_out_of_range():
    with pytest.raises(ValueError, match="point 11"):
        Multipoint([fmpz_poly([1, 2])], 10)([3, 11])
    with pytest.raises(ValueError, match="largest point"):
        Multipoint([fmpz_poly([1])], MAX_POINT + 1)
    with pytest.raises(ValueError, match="positive divisor"):
        Multipoint([fmpz_poly([1])], 10, [0])


@settings(max_examples=100, deadline=None)
@given(polys=st.lists(divisible(), min_size=1, max_size=3))
def test_fixed_divisor_is_the_binomial_content(polys):
    d = fixed_divisor(polys)
    assert d == math.gcd(*(_binomial_gcd(p) for p in polys))
    assert all(_values(p, k) % d == 0 for p in polys for k in range(-20, 40) if d)


def test_fixed_divisor_examples():
    assert fixed_divisor([fmpz_poly([0, 1, 1])]) == 2  # k(k + 1)
    assert fixed_divisor([fmpz_poly([0, -1, 0, 1])]) == 6  # (k - 1) k (k + 1)
    assert fixed_divisor([fmpz_poly([])]) == 0


def _classical(a, b, r):
    return tuple(sum(a[i * r + m] * b[m * r + c] for m in range(r)) for i in range(r) for c in range(r))


@pytest.mark.parametrize("bits", [10, 3500, 20000])
def test_winograd_products_equal_the_classical_ones(bits):
    rng = __import__("random").Random(bits)
    for _ in range(5):
        a, b = (tuple(mpz(rng.getrandbits(bits) - rng.getrandbits(bits)) for _ in range(4)) for _ in range(2))
        assert matmul(a, b, 2) == _classical(a, b, 2)
    a = tuple(mpz(rng.getrandbits(bits) - rng.getrandbits(bits)) for _ in range(9))
    b = tuple(mpz(rng.getrandbits(bits) - rng.getrandbits(bits)) for _ in range(9))
    assert matmul(a, b, 3) == _classical(a, b, 3)


@given(st.lists(st.tuples(*[st.integers(-10**6, 10**6)] * 4), min_size=1, max_size=20))
def test_product_tree_is_the_left_to_right_product(mats):
    leaves = [tuple(map(mpz, m)) for m in mats]
    left = leaves[0]
    for m in leaves[1:]:
        left = _classical(left, m, 2)
    assert tree(leaves, 2) == left
    assert scalar_tree([m[0] for m in leaves]) == math.prod(m[0] for m in mats)


@given(b=st.integers(-300, 300), first=st.integers(0, 300), depth=st.integers(0, 300))
def test_linear_product_is_the_product_of_the_values(b, first, depth):
    assert linear_product(b, first, depth) == math.prod(k + b for k in range(first, first + depth))


def _sequential(steps, depth: int, first: int) -> tuple:
    """M(first) ... M(first + depth - 1) one step at a time in flint (the obvious product)."""
    r = steps.rank
    mat, den = fmpz_mat(r, r, [int(i == j) for i in range(r) for j in range(r)]), 1
    for k in range(first, first + depth):
        m, d = steps.at(k)
        mat, den = mat * m, den * d
    return mat, den


TRAJECTORIES = [("zeta3", 2), ("e", 2), ("pi", 2), ("ln2", 2), ("zeta2", 2), ("catalan", 2), ("hyp1f1", 2),
                ("hyp2f1_minus1", 3), ("hyp2f1_derived", 3), ("hyp3f2_minus1", 5)]


@settings(max_examples=40, deadline=None)
@given(case=st.sampled_from(TRAJECTORIES), data=st.data())
def test_fast_walk_equals_the_sequential_product(case, data):
    name, dim = case
    cmf = known_cmf(name)
    direction = data.draw(st.tuples(*[st.integers(-1, 2)] * dim).filter(any), label="direction")
    start = data.draw(st.tuples(*[st.integers(1, 5)] * dim), label="start")
    depth = data.draw(st.integers(0, 140) | st.sampled_from([32, 64, 95]), label="depth")
    first = data.draw(st.integers(0, 40), label="first")
    try:
        steps = cmf.compiled(direction, start, cached=False)
        reference = _sequential(steps, depth, first)
    except InputError:
        return  # a step undefined along the trajectory or on this run: refused by both
    short = steps.walk(depth, first)  # step by step: the blocks are not built for a short walk
    assert "_plan" not in steps.__dict__ or depth == 0
    assert steps._plan.size == 32  # built now: every walk takes the blocks, whatever its depth
    walk = steps.walk(depth, first)
    assert (walk.matrix, walk.denominator) == (short.matrix, short.denominator) == reference
    p, q = (int(reference[0][i, cmf.rank - 1]) for i in (0, 1))
    if q and walk.scale:
        # correctly rounded: within half an ulp of the exact ratio
        exact = Fraction(p, q)
        with mpmath.workdps(40):
            sign, man, exp, _ = walk.value(40)._mpf_
            value = (-1) ** sign * Fraction(int(man)) * Fraction(2) ** int(exp)
            assert abs(value - exact) <= abs(exact) * Fraction(1, 2 ** mpmath.mp.prec)


def test_walk_at_depth_1000_equals_the_sequential_product():
    for name, direction, start in (("zeta3", (1, 1), (1, 1)), ("ln2", (2, 1), (1, 2)), ("pi", (1, 1), (1, 1))):
        steps = known_cmf(name).compiled(direction, start)
        walk = steps.walk(1000)
        assert (walk.matrix, walk.denominator) == _sequential(steps, 1000, 0)


def test_walk_value_is_correctly_rounded_whatever_the_scale():
    core = [mpz(1), mpz(2) * 7**300, mpz(1), mpz(3) * 7**300]
    plain = Walk([1, 2, 1, 3])
    scaled = Walk(core, 5, ((mpz(7), 300),))
    with mpmath.workdps(30):
        assert plain.value(30) == scaled.value(30) == mpmath.mpf(2) / 3
    assert scaled.scale == 7**300
    assert scaled.matrix == fmpz_mat(2, 2, [int(v) * 7**300 for v in core])
    assert int(scaled.denominator) == 5
    assert scaled == Walk.from_matrix(scaled.matrix, 5) and scaled != plain
    with pytest.raises(ZeroDivisionError):
        Walk([1, 2, 1, 3], 1, ((mpz(0), 2),)).value(10)


def test_walks_at_several_depths_equal_single_walks():
    steps = known_cmf("zeta3").compiled((1, 1), (1, 1))
    walks = steps.walks([0, 5, 40, 100])
    for depth, walk in zip([0, 5, 40, 100], walks):
        single = steps.walk(depth)
        assert (walk.matrix, walk.denominator) == (single.matrix, single.denominator)
