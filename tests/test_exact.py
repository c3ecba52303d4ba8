import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import naive
from discovery.pcf import exact
from strategies import polynomials


@given(polynomials(), polynomials(), st.lists(st.integers(0, 50), min_size=1, max_size=4))
def test_convergents_at_several_depths(a, b, depths):
    ref = naive.convergents(a, b, max(depths))
    got = exact.convergents(a, b, depths)
    assert [(int(p), int(q)) for p, q in got] == [ref[d] for d in depths]


@given(polynomials(3, 10**6), polynomials(3, 10**6), st.integers(1, 30))
def test_large_coefficients_take_the_python_path(a, b, depth):
    # Coefficients this large overflow int64 polynomial values: the exact path must not care.
    ref = naive.convergents(a, b, depth)
    assert [(int(p), int(q)) for p, q in exact.convergents(a, b, [depth])] == [ref[depth]]


@given(polynomials(), polynomials(), st.integers(1, 40))
def test_reduced_and_exact_limit(a, b, depth):
    p, q = naive.convergents(a, b, depth)[depth]
    rp, rq, g = exact.reduced(p, q)
    assert g == math.gcd(p, q)
    if g:
        assert (rp * g, rq * g) == (p, q) and math.gcd(rp, rq) == 1
    ref = naive.value(a, b, depth)
    got = exact.exact_limit(a, b, depth)
    assert (got is None) == (ref is None)
    if ref is not None:
        assert Fraction(int(got.numerator), int(got.denominator)) == ref


def test_gcd_divides_product_of_b():
    # gcd(p_n, q_n) divides b(1)...b(n): the reason reduced denominators are so much smaller.
    a, b = [3, 1], [-2, 3, 0]
    p, q = naive.convergents(a, b, 60)[60]
    prod = math.prod(naive.polyval(b, k) for k in range(1, 61))
    assert prod % math.gcd(p, q) == 0
    assert math.gcd(p, q) > 10**20


def test_first_zero():
    assert exact.first_zero([1, -3, 0], 10) == 3
    assert exact.first_zero([1, -3, 0], 2) is None
    assert exact.first_zero([1, 0, 1], 100) is None


@pytest.mark.parametrize("depths", [[-1], [2.5], [], [True]])
def test_bad_depths(depths):
    with pytest.raises(ValueError, match="depth"):
        exact.convergents([1], [1], depths)


@given(polynomials(3, 30), st.integers(1, 60))
def test_first_zero_matches_scan(b, depth):
    expected = next((k for k in range(1, depth + 1) if naive.polyval(b, k) == 0), None)
    assert exact.first_zero(b, depth) == expected


def _padded(polys, width):
    return np.array([[0] * (width - len(p)) + list(p) for p in polys], dtype=np.int64)


def _check_walks(pairs, depths):
    A = _padded([a for a, _ in pairs], 3)
    B = _padded([b for _, b in pairs], 3)
    got = exact.walks(A, B, depths)
    bare = exact.walks(A, B, depths, previous=False)
    top = max(depths)
    for (a, b), found, found_bare in zip(pairs, got, bare):
        ref = naive.convergents(a, b, top)
        assert sorted(found) == sorted(found_bare) == sorted(set(depths))
        for d in depths:
            p, q, p_prev, q_prev = (int(v) for v in found[d])
            assert (p, q) == ref[d] == tuple(int(v) for v in found_bare[d])
            assert (p_prev, q_prev) == (ref[d - 1] if d else (1, 0))


@given(st.lists(st.tuples(polynomials(), polynomials()), min_size=1, max_size=6),
       st.lists(st.integers(0, 250), min_size=1, max_size=4))
def test_batch_walks_match_recurrence(pairs, depths):
    # The leaf kernel's limb arithmetic against the textbook recurrence, over leaf boundaries
    # (every 96 steps) and depths that cut leaves short.
    _check_walks(pairs, depths)


@given(st.lists(st.tuples(polynomials(2, 10**4), polynomials(2, 10**4)), min_size=1, max_size=4),
       st.sampled_from([[95, 96, 97], [192], [1, 200]]))
def test_batch_walks_with_large_values(pairs, depths):
    # Values near 2³⁰ (the leaf kernel's bound) and beyond (rows that walk one at a time), with
    # both signs: every carry and sign extension of the limb arithmetic is exercised.
    _check_walks(pairs, depths)


def test_batch_walks_at_the_kernel_bound():
    # |a(k)| + |b(k)| just under 2³⁰ takes the kernel, 2³⁰ the one-at-a-time walk, in one batch.
    big = 2**29 - 1
    pairs = [((big,), (-big,)), ((-big,), (big,)), ((big,), (big,)), ((2**29,), (2**29,)), ((1, 0, 0), (-1, 0, 0))]
    _check_walks(pairs, [0, 5, 60])


@pytest.mark.parametrize("shapes", [((2, 3), (3, 3)), ((2, 0), (2, 1)), ((3,), (3,))])
def test_batch_walks_refuse_bad_shapes(shapes):
    with pytest.raises(ValueError, match="shapes"):
        exact.walks(np.zeros(shapes[0], dtype=np.int64), np.zeros(shapes[1], dtype=np.int64), [5])


@given(polynomials(), polynomials(), st.sampled_from([[50], [96, 97], [300], [5, 400]]))
def test_walk_on_either_path(a, b, depths):
    # walk takes the leaf kernel past one leaf (96 steps) and gmpy2 alone below: same integers.
    ref = exact._walk_gmpy(a, b, sorted(set(depths)))
    got = exact.walk(a, b, depths)
    assert {d: tuple(map(int, v)) for d, v in got.items()} == {d: tuple(map(int, v)) for d, v in ref.items()}


def test_batch_walks_across_row_chunks():
    # More rows than one chunk of the batch walk (256), with a row for the one-at-a-time walk
    # in between: every row lands in its own place.
    rng = np.random.default_rng(8)
    pairs = [(tuple(int(c) for c in rng.integers(-5, 6, 3)), tuple(int(c) for c in rng.integers(-5, 6, 3)))
             for _ in range(600)]
    pairs[300] = ((2**40, 1), (1,))
    _check_walks(pairs, [20, 41])
