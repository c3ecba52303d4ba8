"""Programs whose finite result passes through IEEE infinities are found and marked, and programs
whose result is not finite somewhere are found wherever a divisor vanishes."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from discovery.programs.graph import OPS, Program, random_program
from discovery.programs.ops import apply
from discovery.programs.targets import make_target
from discovery.programs.verify import (
    FINITE, NOT_FINITE, THROUGH_INFINITY, finiteness, population_finiteness, population_reaches_infinity,
    reaches_infinity,
)

EXP = make_target("exp", (0.0, 1.0))
# 2 / (3 / x): 3/0 is inf at x = 0, and 2/inf = 0 is finite again.
THROUGH = Program((2.0, 3.0), (("div", (2, 0, 0)), ("div", (1, 3, 0))))
# 2 / (x + 3): finite everywhere on [0, 1].
PLAIN = Program((2.0, 3.0), (("add", (0, 2, 0)), ("div", (1, 3, 0))))
# The infinity is dead: the output 2 * x never reads 3 / x.
DEAD = Program((2.0, 3.0), (("div", (2, 0, 0)), ("mul", (1, 0, 0))))


def _reference(program: Program, X) -> int:
    """Plain numpy float64, one point and one instruction at a time: NOT_FINITE if the result is
    infinite or NaN at a point, else THROUGH_INFINITY if a live value is at a point, else FINITE."""
    live = program.live()
    base = 1 + len(program.consts)
    code = FINITE
    for x in X:
        vals = [np.float64(x)] + [np.float64(c) for c in program.consts]
        through = False
        with np.errstate(all="ignore"):
            for t, (op, (a, b, c)) in enumerate(program.instructions):
                vals.append(np.float64(apply(op, vals[a], vals[b], vals[c], np.sqrt)))
                through |= bool(live[base + t] and not np.isfinite(vals[-1]))
        if not np.isfinite(vals[program.output]):
            return NOT_FINITE
        if through:
            code = THROUGH_INFINITY
    return code


def test_reciprocal_of_an_infinity_is_marked():
    assert reaches_infinity(THROUGH, EXP)
    assert not reaches_infinity(PLAIN, EXP)
    assert not reaches_infinity(DEAD, EXP)


def test_a_pole_at_the_midpoint_is_marked():
    # 1 / (1 / (x - 0.5)): as the continued fractions of 2^x compute it.
    prog = Program((1.0, 0.5), (("sub", (0, 2, 0)), ("div", (1, 3, 0)), ("div", (1, 4, 0))))
    assert reaches_infinity(prog, EXP)


def test_an_infinite_output_is_not_finite():
    # 1 / x is infinite at 0: plainly wrong there, and refused whether infinities are allowed or not.
    prog = Program((1.0,), (("div", (1, 0, 0)),))
    assert finiteness([prog], EXP).tolist() == [NOT_FINITE]
    assert reaches_infinity(prog, EXP)


def test_a_nan_at_the_middle_of_a_symmetric_interval_is_not_finite():
    # (x + a + c/x) / (x - a + c/x) is inf/inf = NaN at x = 0, the middle of [-1, 1], which no
    # Chebyshev grid holds: a 15-minute exp search stored such programs with a scanned error of
    # 7e-14 and no proven bound.
    prog = Program((6.125, 12.25), (("div", (2, 0, 0)), ("add", (0, 3, 0)), ("add", (4, 1, 0)),
                                    ("sub", (4, 1, 0)), ("div", (5, 6, 0))))
    exp = make_target("exp", (-1.0, 1.0))
    assert population_finiteness([prog, prog], np.array([0.5, -0.25])).tolist() == [FINITE, FINITE]
    assert population_finiteness([prog], np.array([0.5, 0.0])).tolist() == [NOT_FINITE]
    assert finiteness([prog], exp).tolist() == [NOT_FINITE]


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
    want = [_reference(p, X) for p in progs]
    assert population_finiteness(progs, np.array(X)).tolist() == want
    assert population_reaches_infinity(progs, np.array(X)).tolist() == [w != FINITE for w in want]


def test_a_pole_off_the_grid_is_marked_at_the_divisor_zero():
    # 1 / (1 / (x - 0.3)): 0.3 is no point of the uniform grid, but a double where x - 0.3 is 0.
    prog = Program((1.0, 0.3), (("sub", (0, 2, 0)), ("div", (1, 3, 0)), ("div", (1, 4, 0))))
    assert not population_reaches_infinity([prog], np.linspace(0.0, 1.0, 10_000))[0]
    assert reaches_infinity(prog, EXP)


def test_the_record_of_a_program_not_finite_somewhere_has_no_finite_error():
    from discovery.programs.verify import program_record

    prog = Program((6.125, 12.25), (("div", (2, 0, 0)), ("add", (0, 3, 0)), ("add", (4, 1, 0)),
                                    ("sub", (4, 1, 0)), ("div", (5, 6, 0))))
    record = program_record(prog, make_target("exp", (-1.0, 1.0)), 5)
    assert record["max_error"] == np.inf and record["infinities"]
    assert not np.isfinite(record["bound"] if record["bound"] is not None else np.inf)


def test_a_divisor_zero_at_a_rounded_constant_offset_is_found():
    # 1 / (y + 1 / y) with y = x - (0.1 + 0.2): the run divides by zero at the double
    # fl(0.1 + 0.2) = 0.30000000000000004, where the exact sum 0.3000...00166 is no double.
    prog = Program((0.1, 0.2, 1.0), (("add", (1, 2, 0)), ("sub", (0, 4, 0)), ("div", (3, 5, 0)),
                                     ("add", (5, 6, 0)), ("div", (3, 7, 0))))
    assert population_finiteness([prog], np.array([0.1 + 0.2]))[0] == THROUGH_INFINITY
    assert finiteness([prog], EXP)[0] == THROUGH_INFINITY
    assert finiteness([prog], EXP, settle=False)[0] == THROUGH_INFINITY
    assert reaches_infinity(prog, EXP)


def test_a_program_the_search_kept_is_judged_as_its_folded_form():
    # A 4-operation erf program from a 15-minute finite-only search: its offset c2 / (c3 + c1)
    # is -9.86e-5 at run time; it was admitted in the loop and refused once folded at the end.
    prog = Program.from_json({
        "consts": [3.319475498522676, 2.938385111989689, 0.0053888890283149025, -57.5885246371112],
        "instructions": [["add", [4, 2]], ["div", [3, 5]], ["add", [0, 6]], ["div", [2, 7]],
                         ["add", [7, 8]], ["div", [1, 9]]], "output": 10})
    erf = make_target("erf", (0.0, 1.0), relative=False)
    codes = [finiteness([p], erf, settle=s)[0] for p in (prog, prog.folded()) for s in (True, False)]
    assert codes == [THROUGH_INFINITY] * 4
