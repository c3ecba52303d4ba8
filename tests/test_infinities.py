"""Programs whose finite result passes through IEEE infinities are found and marked."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from discovery.programs.graph import OPS, Program, random_program
from discovery.programs.ops import apply
from discovery.programs.targets import make_target
from discovery.programs.verify import population_reaches_infinity, reaches_infinity

EXP = make_target("exp", (0.0, 1.0))
# 2 / (3 / x): 3/0 is inf at x = 0, and 2/inf = 0 is finite again.
THROUGH = Program((2.0, 3.0), (("div", (2, 0, 0)), ("div", (1, 3, 0))))
# 2 / (x + 3): finite everywhere on [0, 1].
PLAIN = Program((2.0, 3.0), (("add", (0, 2, 0)), ("div", (1, 3, 0))))
# The infinity is dead: the output 2 * x never reads 3 / x.
DEAD = Program((2.0, 3.0), (("div", (2, 0, 0)), ("mul", (1, 0, 0))))


def _reference(program: Program, X) -> bool:
    """Plain numpy float64, one point and one instruction at a time."""
    live = program.live()
    base = 1 + len(program.consts)
    for x in X:
        vals = [np.float64(x)] + [np.float64(c) for c in program.consts]
        through = False
        with np.errstate(all="ignore"):
            for t, (op, (a, b, c)) in enumerate(program.instructions):
                vals.append(np.float64(apply(op, vals[a], vals[b], vals[c], np.sqrt)))
                through |= bool(live[base + t] and not np.isfinite(vals[-1]))
        if through and np.isfinite(vals[program.output]):
            return True
    return False


def test_reciprocal_of_an_infinity_is_marked():
    assert reaches_infinity(THROUGH, EXP)
    assert not reaches_infinity(PLAIN, EXP)
    assert not reaches_infinity(DEAD, EXP)


def test_a_pole_at_the_midpoint_is_marked():
    # 1 / (1 / (x - 0.5)): as the continued fractions of 2^x compute it.
    prog = Program((1.0, 0.5), (("sub", (0, 2, 0)), ("div", (1, 3, 0)), ("div", (1, 4, 0))))
    assert reaches_infinity(prog, EXP)


def test_infinite_output_is_not_marked():
    # 1 / x is infinite at 0: plainly wrong there, not finite through an infinity.
    assert not reaches_infinity(Program((1.0,), (("div", (1, 0, 0)),)), EXP)


def test_population_flags_each_program():
    X = np.linspace(0.0, 1.0, 11)
    got = population_reaches_infinity([PLAIN, THROUGH, DEAD, THROUGH.simplified()], X)
    assert got.tolist() == [False, True, False, True]


def test_c_source_carries_the_marker_when_asked():
    assert "IEEE infinities" in THROUGH.c_source(infinities=True)
    assert "IEEE infinities" not in THROUGH.c_source()


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 8), st.integers(0, 3)), min_size=1, max_size=6),
       st.lists(st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300]), min_size=1, max_size=6))
def test_kernel_matches_the_reference(specs, X):
    progs = [random_program(np.random.default_rng(seed), n, k, OPS) for seed, n, k in specs]
    got = population_reaches_infinity(progs, np.array(X))
    assert got.tolist() == [_reference(p, X) for p in progs]


def test_a_pole_off_the_grid_is_marked_at_the_divisor_zero():
    # 1 / (1 / (x - 0.3)): 0.3 is no point of the uniform grid, but a double where x - 0.3 is 0.
    prog = Program((1.0, 0.3), (("sub", (0, 2, 0)), ("div", (1, 3, 0)), ("div", (1, 4, 0))))
    assert not population_reaches_infinity([prog], np.linspace(0.0, 1.0, 10_000))[0]
    assert reaches_infinity(prog, EXP)
