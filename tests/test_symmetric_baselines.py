"""Classical approximations in x² for even and odd targets (x·R(x²) for tanh and erf)."""

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery.errors import InputError
from discovery.expressions import parse, substitute
from discovery.programs.baselines import baselines, of_square, parity, symmetric_builds
from discovery.programs.graph import Program, random_program
from discovery.programs.targets import make_target
from discovery.programs.verify import max_error, mp_value


def test_substitute_replaces_the_variable_and_no_name_containing_it():
    assert substitute("exp(x)*x + max2", "x", "sqrt(x)") == "exp((sqrt(x)))*(sqrt(x)) + max2"
    value = parse(substitute("exp(x) - x", "x", "x**2"), ("x",)).mpmath()(x=mpmath.mpf(3))
    assert value == mpmath.exp(9) - 9


def test_substitute_names_a_character_it_refuses():
    with pytest.raises(InputError, match="'@'"):
        substitute("x @ 2", "x", "y")


@pytest.mark.parametrize("name, interval, expected", [
    ("tanh", (0.0, 1.0), -1), ("erf", (0.0, 1.0), -1), ("cos", (0.0, 1.0), 1),
    ("exp", (-1.0, 1.0), 0), ("ln", (1.0, 2.0), 0),  # log(-x) is not real: neither
])
def test_parity(name, interval, expected):
    assert parity(make_target(name, interval, relative=False if name == "ln" else None)) == expected


@given(st.integers(0, 10_000), st.sampled_from([1, -1]))
def test_of_square_is_the_program_of_x_squared(seed, sign):
    prog = random_program(np.random.default_rng(seed), 3, 2, ("add", "sub", "mul", "div"))
    composed = of_square(prog, sign)
    assert composed.cost == prog.simplified().cost + (1 if sign > 0 else 2)
    with mpmath.workdps(40):
        for x in (mpmath.mpf("0.3"), mpmath.mpf("-1.7")):
            inner = mp_value(prog, x * x)
            expected = inner if sign > 0 else x * inner
            got = mp_value(composed, x)
            if mpmath.isfinite(expected):
                assert abs(got - expected) <= mpmath.mpf(10) ** -30 * max(1, abs(expected))


def test_odd_continued_fraction_beats_the_plain_forms_for_tanh():
    tanh = make_target("tanh", (0.0, 1.0))
    built = {method: prog for method, _, prog in symmetric_builds(tanh, 5)}
    cf = built["odd minimax-cf"]
    assert cf.cost == 5
    # tanh ≈ x·(a + b/(x² + c)): the odd (3, 2) rational in five operations.
    assert max_error(cf, tanh) < 2e-5
    plain = [b for b in baselines(tanh, 5) if not b.method.startswith("odd")]
    assert min(b.max_error for b in plain) > 1e-3
    assert symmetric_builds(make_target("exp", (0.0, 1.0)), 5) == ()


def test_an_even_target_has_no_factor_x():
    cos = make_target("cos", (0.0, 1.0))
    poly = {m: p for m, _, p in symmetric_builds(cos, 3)}["even minimax-polynomial"]
    assert poly.cost == 3 and max_error(poly, cos) < 1e-2
    assert isinstance(poly, Program)
