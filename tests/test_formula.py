from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import naive
from discovery import PCF
from discovery.pcf import from_arrays, to_arrays
from discovery.pcf.exact import exact_limit
from strategies import polynomials


def test_construction_from_lists_and_strings_agree():
    p = PCF([2, 1], [1, 0, 0])
    assert p == PCF("2n+1", "n^2") == PCF("2*n + 1", "n**2")
    assert p.a == (2, 1) and p.b == (1, 0, 0)
    assert p.degrees == (1, 2)
    assert PCF("2n+3", "n*(n+2)").b == (1, 2, 0)
    assert PCF(2, 1).a == (2,)
    assert PCF([0, 0, 3], [1]).a == (3,)


def test_sympy_latex_and_repr():
    p = PCF("2n+1", "n^2")
    n = sympy.Symbol("n")
    assert p.sympy() == (2 * n + 1, n**2)
    assert "cfrac" in p.latex() and "n^{2}" in p.latex()
    assert repr(p) == "PCF(a=2*n + 1, b=n**2)"


@pytest.mark.parametrize(
    "a, b, fragment",
    [
        ([1.5, 2], [1], "1.5"),
        ([], [1], "zero (or empty)"),
        ([0, 0], [1], "zero (or empty)"),
        ("2n+1", "0", "zero (or empty)"),
        ("2.5n", "n", "2.5"),
        ("n/2", "1", "1/2"),
        ("n^2 + x", "1", "'x'"),
        ("sin(n)", "1", "sin(n)"),
        ("1/n", "1", "1/n"),
        ("2n+", "1", "2n+"),
        (True, 1, "True"),
        (None, 1, "None"),
    ],
)
def test_bad_input_names_the_value(a, b, fragment):
    with pytest.raises(ValueError, match=None) as err:
        PCF(a, b)
    assert fragment in str(err.value)


@given(polynomials(3, 20), polynomials(3, 20))
def test_string_round_trip(a, b):
    p = PCF(a, b)
    sa, sb = p.sympy()
    assert PCF(str(sa), str(sb)) == p
    assert PCF(sa, sb) == p


@given(polynomials(), polynomials(), st.integers(0, 40))
def test_exact_convergents_match_textbook_recurrence(a, b, depth):
    ref = naive.convergents(a, b, depth)
    p = PCF(a, b)
    assert p.convergent(depth) == ref[depth]
    depths = sorted({0, depth // 2, depth})
    assert p.convergents(depths) == [ref[d] for d in depths]


@given(polynomials(), polynomials(), st.integers(1, 30))
def test_limit_matches_bottom_up_evaluation(a, b, depth):
    ref = naive.value(a, b, depth)
    est = PCF(a, b).limit(depth, dps=40)
    if ref is None:
        assert mpmath.isnan(est.value)
        return
    # Bottom-up evaluation of the fraction as written checks the recurrence independently, where
    # that fraction exists (a zero tail leaves the convergent defined but not the written form).
    if all(naive.polyval(b, k) != 0 for k in range(1, depth + 1)) and naive.tails_defined(a, b, depth):
        assert naive.backward_value(a, b, depth) == ref
    with mpmath.workdps(40):
        exact = mpmath.mpf(ref.numerator) / ref.denominator
        assert abs(est.value - exact) <= mpmath.mpf(10) ** -35 * max(1, abs(est.value))


def test_limit_digits_estimate_is_honest():
    est = PCF("2n+1", "n^2").limit(300)
    with mpmath.workdps(int(est.digits) + 20):
        true_digits = -mpmath.log10(abs(est.value - 4 / mpmath.pi) / (4 / mpmath.pi))
    assert est.digits - 2 <= true_digits
    assert est.digits > 200


def test_finite_fraction_is_exact():
    # b(3) = 0: the value is p_2/q_2 whatever the depth.
    p = PCF("2n+1", "n^2 - 3n")
    est = p.limit(50)
    p2, q2 = p.convergent(2)
    assert est.digits == float("inf")
    assert exact_limit(p.a, p.b, 50) == Fraction(p2, q2)
    with mpmath.workdps(50):
        assert est.value == mpmath.mpf(p2) / q2


@pytest.mark.parametrize("depth", [0, -3, 2.5, True])
def test_limit_rejects_bad_depth(depth):
    with pytest.raises(ValueError, match="depth"):
        PCF(2, 1).limit(depth)


@given(polynomials(2, 4), polynomials(2, 4), st.integers(-6, 6).filter(bool))
def test_canonical_scaling_relates_limits_exactly(a, b, c):
    p = PCF(a, b)
    scaled = PCF([c * x for x in a], [c * c * x for x in b])
    assert scaled.canonical() == p.canonical()
    canon = scaled.canonical()
    factor = scaled.canonical_factor()
    assert scaled.a == tuple(factor * x for x in canon.a)
    assert scaled.b == tuple(factor**2 * x for x in canon.b)
    assert canon.a[0] > 0
    # Every convergent (hence the limit) is multiplied by c exactly.
    for (ps, qs), (pp, qp) in zip(naive.convergents(scaled.a, scaled.b, 12), naive.convergents(p.a, p.b, 12)):
        if qs and qp:
            assert Fraction(ps, qs) == c * Fraction(pp, qp)


def test_canonical_examples():
    assert PCF([-2, -1], [1, 0, 0]).canonical() == PCF([2, 1], [1, 0, 0])
    assert PCF([-2, -1], [1, 0, 0]).canonical_factor() == -1
    assert PCF([4, 2], [8, 0, 4]).canonical() == PCF([2, 1], [2, 0, 1])
    assert PCF([4, 2], [8, 0, 4]).canonical_factor() == 2
    # 2 divides a, but 4 does not divide b: nothing to remove.
    assert PCF([4, 2], [2, 0, 0]).canonical() == PCF([4, 2], [2, 0, 0])
    # Equality and hashing stay structural.
    assert PCF([-2, -1], [1, 0, 0]) != PCF([2, 1], [1, 0, 0])
    assert len({PCF([2, 1], [1, 0, 0]), PCF([-2, -1], [1, 0, 0])}) == 2


def test_arrays_round_trip():
    pcfs = [PCF([2, 1], [1, 0, 0]), PCF([3], [-1]), PCF([1, 0, 0, 1], [5, 1])]
    A, B = to_arrays(pcfs)
    assert A.shape == (3, 4) and B.shape == (3, 3)
    assert A[1].tolist() == [0, 0, 0, 3]
    assert from_arrays(A, B) == pcfs
    with pytest.raises(ValueError, match=str(2**70)):
        to_arrays([PCF([2**70], [1])])


@given(polynomials(), polynomials(), st.integers(1, 6))
def test_shift_is_the_tail_related_by_mobius(a, b, k):
    p = PCF(a, b)
    tail = p.shift(k)
    assert tail.a_at(0) == p.a_at(k) and tail.b_at(1) == p.b_at(k + 1)
    depth = 12
    # L_{k+depth} = (p_{k-1} T + b(k) p_{k-2}) / (q_{k-1} T + b(k) q_{k-2}) with T the tail's
    # convergent at depth: the identity holds exactly for every convergent.
    conv = [(1, 0)] + naive.convergents(a, b, k + depth)  # conv[j + 1] is depth j
    (p1, q1), (p2, q2) = conv[k], conv[k - 1]
    tp, tq = tail.convergent(depth)
    bk = p.b_at(k)
    num, den = p1 * tp + bk * p2 * tq, q1 * tp + bk * q2 * tq
    assert num * conv[k + depth + 1][1] == den * conv[k + depth + 1][0]
    with pytest.raises(ValueError, match="-1"):
        p.shift(-1)
