"""Variable projection: exact solves of linear constants and of rational blocks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.programs.baselines import minimax_continued_fraction, minimax_polynomial, taylor
from discovery.programs.graph import Program, random_program
from discovery.programs.kernels import evaluate
from discovery.programs.projection import (
    _fraction, linear_constants, project, rational_degrees, rational_start, solve_linear,
)
from discovery.programs.targets import make_target
from discovery.programs.tuning import tune_minimax
from discovery.programs.verify import max_error


@pytest.fixture(scope="module")
def exp2():
    return make_target("exp2", (0.0, 1.0))


def _squared(p: Program) -> Program:
    """p with one more squaring at the output."""
    base = 1 + len(p.consts)
    return Program(p.consts, p.instructions + (("mul", (p.output, p.output, 0)),), base + len(p.instructions))


def test_structure_reaches_its_optimum_from_poor_constants(exp2):
    # The (3, 3) fraction of 2^(x/2), squared once, then given a second squaring: the structure
    # of the (3, 3) fraction of 2^(x/4) squared twice, with constants fitted to the wrong root.
    poor = _squared(minimax_continued_fraction(exp2, 3, 1))
    optimum = max_error(minimax_continued_fraction(exp2, 3, 2), exp2)
    (plain, plain_err), = tune_minimax([poor], exp2, outer=60, grid="training")
    (tuned, err), = project([poor], exp2, outer=60)
    assert max_error(tuned, exp2) <= 1e-13
    assert max_error(tuned, exp2) <= 1.1 * optimum
    assert plain_err > 1e3 * err  # the generic optimizer alone stalls far from it
    (again, err2), = project([poor], exp2, outer=60)
    assert err2 == err and again.consts == tuned.consts


def test_a_rational_fit_from_huge_constants_skips_the_starts_that_overflow(exp2):
    # Random starts scale the constants by up to e^±5: from 1e308 some overflow to infinity,
    # which ended a 15-minute exp2 search ("constant -inf is not finite").
    cf = minimax_continued_fraction(exp2, 3, 1)
    huge = cf.with_consts([1e308 if i % 2 else -1e308 for i in range(len(cf.consts))])
    for thorough in (False, True):
        fitted, = rational_start([huge], exp2, thorough=thorough)
        assert fitted is None or np.all(np.isfinite(fitted.consts))


def test_exact_linear_solve_agrees_with_the_generic_optimizer_and_remez():
    target = make_target("exp", (-1.0, 1.0))
    start = taylor(target, 4)
    assert linear_constants(start) == list(range(len(start.consts)))
    X, T = target.training
    solved = solve_linear(start, target, X, T)
    (generic, _), = tune_minimax([start], target, outer=60, grid="training")
    remez = max_error(minimax_polynomial(target, 4), target)
    e_solved, e_generic = max_error(solved, target), max_error(generic, target)
    assert e_solved == pytest.approx(remez, rel=0.02)
    assert e_generic == pytest.approx(e_solved, rel=0.1)


def test_linear_constant_groups():
    # c0*x + c1: both; c0*c1*x: one of the two; c0/x: none; c0/(x + c1): c0 only.
    assert linear_constants(Program((2.0, 3.0), (("mul", (1, 0, 0)), ("add", (3, 2, 0))))) == [0, 1]
    assert linear_constants(Program((2.0, 3.0), (("mul", (1, 2, 0)), ("mul", (3, 0, 0))))) == [0]
    assert linear_constants(Program((2.0,), (("div", (0, 1, 0)),))) == []
    assert linear_constants(Program((2.0, 3.0), (("add", (0, 2, 0)), ("div", (1, 3, 0))))) == [0]


def test_rational_degrees(exp2):
    assert rational_degrees(minimax_continued_fraction(exp2, 3, 0)) == (3, 3)
    assert rational_degrees(minimax_polynomial(exp2, 5)) == (5, 0)
    assert rational_degrees(Program((1.0,), (("sqrt", (0, 0, 0)),))) is None


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 7))
def test_fraction_of_a_program_matches_its_values_and_derivatives(seed, n_ops):
    rng = np.random.default_rng(seed)
    p = random_program(rng, n_ops, 3).simplified()
    consts = np.array(p.consts)
    X = np.linspace(0.1, 0.9, 7)
    with np.errstate(all="ignore"):
        y = evaluate(p, X)
        N, D = _fraction(p, consts, X)
    ok = np.isfinite(y) & (np.abs(D[0]) > 1e-9 * np.max(np.abs(D[0]))) & (np.abs(y) < 1e6)
    assert np.allclose(N[0][ok] / D[0][ok], y[ok], rtol=1e-9, atol=1e-12)
    # Forward-mode derivatives of N in each constant, against central differences.
    for k in range(len(consts)):
        h = 1e-6 * max(1.0, abs(consts[k]))
        up, down = consts.copy(), consts.copy()
        up[k] += h
        down[k] -= h
        with np.errstate(all="ignore"):
            Nu, Nd = _fraction(p, up, X)[0][0], _fraction(p, down, X)[0][0]
        assert np.allclose((Nu - Nd) / (2 * h), N[1 + k], rtol=1e-4, atol=1e-6 * (1 + np.max(np.abs(N[0]))))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 9), st.integers(1, 4),
       st.sampled_from([("add", "sub", "mul", "div"), ("add", "mul", "fma", "mul2", "half", "div"), ("add", "sqrt")]))
def test_fraction_kernel_equals_the_dual_number_reference(seed, n_ops, n_consts, ops):
    """N and D with their derivatives, from the kernel and from one numpy operation at a time
    (tests/naive.py): equal, and None for a program with a square root in both."""
    from naive import dual_fraction

    from discovery.programs.projection import _fraction

    rng = np.random.default_rng(seed)
    program = random_program(rng, n_ops, n_consts, ops)
    consts = np.array(program.consts)
    Z = 1.5 + 0.5 * np.exp(2j * np.pi * (np.arange(16) + 0.5) / 16)
    with np.errstate(all="ignore"):
        fast, slow = _fraction(program, consts, Z), dual_fraction(program, consts, Z)
    if slow is None:
        assert fast is None
        return
    for f, s in zip(fast, slow):
        np.testing.assert_allclose(f, s, rtol=1e-12, atol=1e-12 * np.abs(s).max(), equal_nan=True)
