"""Searches keep every constant finite: moves from constants near the float range's end that
would overflow are not taken (a 15-minute exp2 search ended on "constant -inf is not finite")."""

import numpy as np
import pytest

from discovery.programs.baselines import minimax_polynomial
from discovery.programs.mutations import perturb_constant
from discovery.programs.precise import polish_precise
from discovery.programs.targets import make_target
from discovery.programs.tuning import tune_many

BIG = float(np.finfo(float).max)


@pytest.fixture(scope="module")
def huge():
    target = make_target("exp2", (0.0, 1.0))
    poly = minimax_polynomial(target, 2)
    return target, poly.with_consts([BIG if i % 2 else -BIG for i in range(len(poly.consts))])


def test_perturbing_a_constant_at_the_range_end_keeps_it_finite(huge):
    _, program = huge
    for seed in range(200):
        moved = perturb_constant(program, np.random.default_rng(seed))
        assert np.all(np.isfinite(moved.consts))


def test_cma_samples_beyond_the_range_are_scored_worst(huge):
    target, program = huge
    (tuned, err), = tune_many([program], target, max_evals=200, seed=1)
    assert np.all(np.isfinite(tuned.consts)) and not err < 0


def test_the_double_double_polish_does_not_step_beyond_the_range(huge):
    target, program = huge
    polished, err = polish_precise(program, target, iterations=3)
    assert np.all(np.isfinite(polished.consts)) and not err < 0
