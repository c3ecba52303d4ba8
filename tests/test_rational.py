"""Programs without square roots as exact fractions, and their exact IEEE values."""

import mpmath
import numpy as np
from flint import fmpq
from hypothesis import assume, given
from hypothesis import strategies as st

from discovery.programs.graph import OPS, Program, random_program
from discovery.programs.rational import divisor_zeros, ieee_value, rational_form
from discovery.programs.verify import mp_value

RATIONAL_OPS = tuple(op for op in OPS if op != "sqrt")


def test_continued_fraction_divides_by_zero_only_at_one_half():
    # 1 + 1 / (x - 1/2 + 2 / (x - 1/2))
    prog = Program((1.0, 0.5, 2.0), (("sub", (0, 2, 0)), ("div", (3, 4, 0)), ("add", (4, 5, 0)),
                                     ("div", (1, 6, 0)), ("add", (1, 7, 0))))
    P, Q, divisors = rational_form(prog)
    assert divisor_zeros(divisors, 0.0, 1.0) == ([fmpq(1, 2)], False)
    assert ieee_value(prog, fmpq(1, 2)) == 1  # 2/0 = inf, x - 1/2 + inf = inf, 1/inf = 0
    assert P(fmpq(1, 2)) / Q(fmpq(1, 2)) == 1


def test_square_roots_and_zero_divisors_have_no_fraction():
    assert rational_form(Program((), (("sqrt", (0, 0, 0)),))) is None
    assert rational_form(Program((), (("sub", (0, 0, 0)), ("div", (0, 1, 0))))) is None


def test_irrational_zero_in_the_interval_is_reported():
    prog = Program((0.5,), (("mul", (0, 0, 0)), ("sub", (2, 1, 0)), ("div", (0, 3, 0))))  # x / (x^2 - 1/2)
    _, _, divisors = rational_form(prog)
    assert divisor_zeros(divisors, 0.0, 1.0) == ([], True)
    assert divisor_zeros(divisors, 0.0, 0.5) == ([], False)
    # Asked for the rational zeros only (the search's selection), it skips the complex roots.
    assert divisor_zeros(divisors, 0.0, 1.0, irrational=False) == ([], False)


def test_rational_zeros_alone_are_those_of_the_full_answer():
    prog = Program((1.0, 0.5, 2.0), (("sub", (0, 2, 0)), ("div", (3, 4, 0)), ("add", (4, 5, 0)),
                                     ("div", (1, 6, 0)), ("add", (1, 7, 0))))
    _, _, divisors = rational_form(prog)
    assert divisor_zeros(divisors, 0.0, 1.0, irrational=False)[0] == divisor_zeros(divisors, 0.0, 1.0)[0]


@given(st.integers(0, 10**6), st.integers(1, 8), st.integers(0, 3), st.sampled_from([0.25, 0.5, 1.0, 1.5]))
def test_fraction_and_exact_value_match_mpmath(seed, n, k, x):
    prog = random_program(np.random.default_rng(seed), n, k, RATIONAL_OPS)
    form = rational_form(prog)
    assume(form is not None)
    P, Q, _ = form
    exact = ieee_value(prog, fmpq(*x.as_integer_ratio()))
    with mpmath.workdps(60):
        want = mp_value(prog.simplified(), mpmath.mpf(x))
        assume(mpmath.isfinite(want) and exact is not None)
        assert abs(mpmath.mpf(int(exact.p)) / int(exact.q) - want) <= 1e-40 * (1 + abs(want))
        q = Q(fmpq(*x.as_integer_ratio()))
        if q != 0:
            value = P(fmpq(*x.as_integer_ratio())) / q
            assert abs(mpmath.mpf(int(value.p)) / int(value.q) - want) <= 1e-40 * (1 + abs(want))
