"""Proven error bounds: never below the scanned maximum, tight on classical approximations."""

import math
from functools import lru_cache

import mpmath
import numpy as np
import pytest
from flint import fmpq
from hypothesis import given
from hypothesis import strategies as st

from discovery.programs import baselines as B
from discovery.programs.bound import enclosable, error_bound
from discovery.programs.graph import OPS, Program, random_program
from discovery.programs.rational import ieee_value
from discovery.programs.targets import make_target
from discovery.programs.verify import _error, max_error


@lru_cache(maxsize=None)
def target(name, lo, hi, relative=None):
    return make_target(name, (lo, hi), relative)


CLASSICAL = [
    (("exp2", 0.0, 1.0), lambda t: B.minimax_polynomial(t, 6)),
    (("exp2", 0.0, 1.0), lambda t: B.minimax_polynomial(t, 10)),
    (("exp2", 0.0, 1.0), lambda t: B.minimax_rational(t, 3, 2)),
    (("log2", 1.0, 2.0, False), lambda t: B.minimax_polynomial(t, 6)),
    (("log2", 1.0, 2.0, False), lambda t: B.minimax_rational(t, 5, 5)),
    (("log2", 1.0, 2.0, False), lambda t: B.minimax_continued_fraction(t, 3)),
    (("erf", 0.0, 1.0), lambda t: B.minimax_rational(t, 3, 2)),
    (("erf", 0.0, 1.0), lambda t: B.minimax_continued_fraction(t, 3)),
    (("tanh", 0.0, 1.0), lambda t: B.minimax_rational(t, 2, 3)),
    (("exp", 0.0, 0.25), lambda t: B.minimax_rational(t, 3, 2)),
]


@pytest.mark.parametrize("spec, build", CLASSICAL)
def test_bound_is_above_and_close_to_the_scanned_maximum(spec, build):
    t = target(*spec)
    prog = build(t)
    scanned = max_error(prog, t)
    b = error_bound(prog, t)
    assert not b.capped
    assert b.lower <= scanned * (1 + 1e-9) <= b.bound * (1 + 1e-9)
    assert scanned <= b.bound <= 1.02 * scanned
    assert b.seconds < 5


def test_ten_operations_near_double_precision_in_seconds():
    t = target("log2", 1.0, 2.0, False)
    prog = B.minimax_rational(t, 5, 5)
    b = error_bound(prog, t, tolerance=1e-3)
    scanned = max_error(prog, t)
    assert scanned < 1e-13
    assert scanned <= b.bound <= 1.002 * scanned


def test_pole_inside_the_interval_has_no_finite_bound():
    # 1 / (x - 0.3) on [0, 1]
    prog = Program((1.0, 0.3), (("sub", (0, 2, 0)), ("div", (1, 3, 0))))
    b = error_bound(prog, target("exp", 0.0, 1.0))
    assert b.bound == math.inf and not b.capped


def test_square_root_of_negative_values_has_no_finite_bound():
    prog = Program((0.5,), (("sub", (0, 1, 0)), ("sqrt", (2, 0, 0))))  # sqrt(x - 0.5)
    assert error_bound(prog, target("exp", 0.0, 1.0)).bound == math.inf


def test_cap_returns_the_honest_bound_reached():
    t = target("exp2", 0.0, 1.0)
    prog = B.minimax_polynomial(t, 6)
    b = error_bound(prog, t, max_subintervals=5)
    assert b.capped and b.subintervals <= 6
    assert b.bound >= max_error(prog, t)


def test_exact_program_converges_to_a_negligible_bound():
    prog = Program((), (("mul", (0, 0, 0)),))
    b = error_bound(prog, make_target("x^2 + 0", (0.5, 2.0)))
    assert b.bound < 1e-30 and not b.capped


def test_target_with_an_unbounded_function_is_refused():
    with pytest.raises(ValueError, match="abs"):
        error_bound(Program((), ()), make_target("abs(x) + 1", (0.0, 1.0)))


@pytest.mark.parametrize("expr", [
    "exp(x)", "2**x", "log(x)", "log(x, 2)", "erf(x)", "sin(x)", "cos(x)", "tanh(x)", "sqrt(x)",
    "x^3 - 2/x + pi", "(2**x)**(1/4)", "cosh(x) + atan(x)", "exp2(x) + log2(x) + log10(x) + ln(x)",
    "log1p(x) * expm1(x) / sinh(x)", "asin(x/3) + acos(x/3) + atanh(x/3) + acosh(x + 1) + asinh(x)",
    "erfc(x) + gamma(x) + loggamma(x + 1)", "cbrt(x) + root(x, 5)", "tan(x/2) + cot(x) + sec(x/2) + csc(x)",
    "e*x + EulerGamma + Catalan - GoldenRatio",
])
def test_target_functions_are_enclosed_correctly(expr):
    # The program "x" against each expression: the bound of |x - f| (or |x - f| / |f|) must hold
    # the scanned maximum and come close to it.
    t = make_target(expr, (1.0, 2.0))
    prog = Program((), ())
    scanned = max_error(prog, t, points=400)
    b = error_bound(prog, t)
    assert scanned <= b.bound <= 1.02 * scanned


TARGETS = [("exp2", 0.0, 1.0), ("erf", -1.0, 1.0), ("tanh", 0.5, 1.5), ("log2", 1.0, 2.0, False)]


@given(st.integers(0, 10**6), st.integers(1, 6), st.integers(0, 3), st.sampled_from(TARGETS),
       st.lists(st.floats(0, 1), min_size=1, max_size=4))
def test_bound_covers_the_error_at_random_points(seed, n_ops, n_consts, spec, where):
    t = target(*spec)
    prog = random_program(np.random.default_rng(seed), n_ops, n_consts, OPS)
    b = error_bound(prog, t, max_subintervals=60)
    lo, hi = t.interval
    with mpmath.workdps(40):
        for u in where:
            e = _error(prog.simplified(), t, mpmath.mpf(lo) + (hi - lo) * mpmath.mpf(u))
            assert e <= b.bound


def test_continued_fraction_through_a_division_by_zero_is_bounded():
    # The offsets of 2^x's continued fractions repeat x - 1/2: at x = 1/2 the program divides by
    # zero and is finite again through r/inf = 0.  Its bound comes from its reduced fraction P/Q
    # and its exact IEEE value at 1/2.
    t = target("exp2", 0.0, 1.0)
    prog = B.minimax_continued_fraction(t, 3, 2).deduplicated()
    assert prog.cost <= 10
    scanned = max_error(prog, t)
    b = error_bound(prog, t)
    assert scanned < 1e-13
    assert scanned <= b.bound <= 1.02 * scanned and not b.capped


def test_value_through_an_infinity_at_an_end_point_counts():
    # 2 / (3 / x) is 2x/3 except at x = 0, where IEEE arithmetic gives 2 / inf = 0: an error of
    # exactly 1 against exp(0) = 1, larger than anywhere else on [0, 1].
    prog = Program((2.0, 3.0), (("div", (2, 0, 0)), ("div", (1, 3, 0))))
    b = error_bound(prog, target("exp", 0.0, 1.0))
    assert 1.0 <= b.bound <= 1.0 + 1e-12


def test_not_a_number_at_a_division_by_zero_has_no_finite_bound():
    prog = Program((), (("div", (0, 0, 0)),))  # x / x: 1, but 0/0 at x = 0
    assert error_bound(prog, target("exp", 0.0, 1.0)).bound == math.inf


def test_division_by_zero_at_an_irrational_point_has_no_finite_bound():
    # 1 / (1 / (x*x - 1/2)) divides by zero at sqrt(1/2), where no exact value is computed.
    prog = Program((0.5, 1.0), (("mul", (0, 0, 0)), ("sub", (3, 1, 0)), ("div", (2, 4, 0)), ("div", (2, 5, 0))))
    assert error_bound(prog, target("exp", 0.0, 1.0)).bound == math.inf


def test_baselines_carry_their_bound():
    t = target("log2", 1.0, 2.0, False)
    for b in B.baselines(t, 4):
        assert b.max_error <= b.bound <= 1.02 * b.max_error
    assert enclosable(t) and not enclosable(make_target("abs(x) + 1", (1.0, 2.0)))


def _continued_fraction(c0, parts):
    """c0 + r1/(x + b1 + r2/(x + b2 + ...)) for parts [(r1, b1), (r2, b2), ...]."""
    consts = [c0] + [v for part in parts for v in part]
    instrs: list = []

    def emit(op, a, b):
        instrs.append((op, (a, b, 0)))
        return len(consts) + len(instrs)

    tail = None
    for i in range(len(parts) - 1, -1, -1):
        r, b = 2 + 2 * i, 3 + 2 * i
        v = emit("add", 0, b)
        if tail is not None:
            v = emit("add", v, tail)
        tail = emit("div", r, v)
    emit("add", 1, tail)
    return Program(tuple(consts), tuple(instrs))


DYADIC = st.sampled_from([-1.0, -0.5, -0.25, 0.0, 0.5, 1.0, 2.0])


@given(DYADIC, st.lists(st.tuples(DYADIC, DYADIC), min_size=1, max_size=3))
def test_bound_covers_divisions_by_zero_at_rational_points(c0, parts):
    # Offsets like -0.5 make the innermost divisor x - 0.5 vanish at a probe point, exactly.
    t = target("exp2", 0.0, 1.0)
    prog = _continued_fraction(c0, parts)
    b = error_bound(prog, t, max_subintervals=200)
    with mpmath.workdps(40):
        for x in (0, 0.25, 0.5, 0.75, 1):
            value = ieee_value(prog, fmpq(*float(x).as_integer_ratio()))
            if value is None:
                assert b.bound == math.inf
                continue
            f = mpmath.mpf(2) ** x
            assert abs(mpmath.mpf(int(value.p)) / int(value.q) - f) / f <= b.bound


def test_a_division_by_zero_where_the_target_vanishes_is_bounded():
    # c0 + r/(x + a/x + b) on erf [0, 1]: at x = 0, a/0 = inf, r/inf = 0, and erf(0) = 0 exactly.
    target = make_target("erf", (0.0, 1.0))
    program = Program((0.01, 1.7, 2.9, 3.1), (("div", (3, 0, 0)), ("add", (0, 5, 0)), ("add", (6, 4, 0)),
                                              ("div", (2, 7, 0)), ("add", (1, 8, 0))))
    scanned = max_error(program, target)
    result = error_bound(program, target)
    assert scanned <= result.bound <= 1.05 * scanned
