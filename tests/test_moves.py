"""Structure moves compute exactly what they claim, bit for bit."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from discovery.programs.graph import Program, random_program
from discovery.programs.kernels import evaluate
from discovery.programs.moves import compose, crossover, graft, range_reduce, scale_weights, unsquare

X = np.linspace(-1.5, 1.5, 301)
programs = st.builds(
    lambda seed, n: random_program(np.random.default_rng(seed), n, 3),
    st.integers(0, 2**32 - 1), st.integers(1, 6),
)


def _same(a, b) -> bool:
    return np.array_equal(a, b, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(programs, st.integers(1, 3))
def test_range_reduction_is_the_scaled_program_raised_to_a_power(p, k):
    child = range_reduce(p, k)
    with np.errstate(all="ignore"):
        expected = evaluate(p, X * 2.0 ** -k)
        for _ in range(k):
            expected = expected * expected
        assert _same(evaluate(child, X), expected)
    # The scaling costs an operation unless the constants absorb it.
    assert child.cost == p.cost + k + (scale_weights(p) is None)


@settings(max_examples=60, deadline=None)
@given(programs)
def test_unsquare_undoes_a_squaring(p):
    squared = Program(p.consts, p.instructions + (("mul", (p.output, p.output, 0)),))
    with np.errstate(all="ignore"):
        assert _same(evaluate(unsquare(squared), X), evaluate(p, X))


@settings(max_examples=60, deadline=None)
@given(programs, programs)
def test_composition_is_the_outer_program_of_the_inner_value(f, g):
    with np.errstate(all="ignore"):
        assert _same(evaluate(compose(f, g), X), evaluate(f, evaluate(g, X)))
        assert _same(evaluate(compose(f, Program((), ())), X), evaluate(f, X))


@settings(max_examples=60, deadline=None)
@given(programs, st.data())
def test_grafting_a_value_onto_itself_changes_nothing(p, data):
    base = 1 + len(p.consts)
    v = data.draw(st.integers(base, p.n_values - 1))
    with np.errstate(all="ignore"):
        assert _same(evaluate(graft(p, p, v, v), X), evaluate(p, X))


@settings(max_examples=60, deadline=None)
@given(programs, programs, st.data())
def test_graft_puts_the_donor_value_in_place(host, donor, data):
    # Only an instruction's value can be replaced: a host whose output is x or a constant has none.
    assume(host.output >= 1 + len(host.consts))
    base_d = 1 + len(donor.consts)
    d = data.draw(st.integers(base_d, donor.n_values - 1))
    # Replacing the host's output by the donor's value gives the donor's value.
    child = graft(host, donor, host.output, d)
    with np.errstate(all="ignore"):
        assert _same(evaluate(child, X), evaluate(Program(donor.consts, donor.instructions, d), X))


@settings(max_examples=40, deadline=None)
@given(programs, programs, st.integers(0, 2**32 - 1))
def test_crossover_children_are_valid_programs_of_the_parents_operations(a, b, seed):
    child = crossover(a, b, np.random.default_rng(seed))
    ops = {op for op, _ in a.instructions} | {op for op, _ in b.instructions}
    assert {op for op, _ in child.instructions} <= ops
    assert Program.from_json(child.to_json()) == child


@settings(max_examples=60, deadline=None)
@given(programs, st.data(), st.floats(-3, 3))
def test_a_fraction_step_with_zero_numerator_is_the_parent(p, data, b):
    from discovery.programs.moves import fraction_step

    base = 1 + len(p.consts)
    v = data.draw(st.sampled_from([0] + list(range(base, p.n_values))))
    child = fraction_step(p, v, 0.0, b)
    with np.errstate(all="ignore"):
        a, c = evaluate(p, X), evaluate(child, X)
    vals = evaluate(Program(p.consts, p.instructions, v), X) if v else X
    # v + 0/(v + b) is v bit for bit, except where v + b = 0 (0/0).
    defined = ~np.isnan(c) | np.isnan(a)
    assert defined.sum() >= np.sum(vals + b != 0)
    assert _same(a[defined], c[defined])


@settings(max_examples=60, deadline=None)
@given(programs, st.data())
def test_a_symmetric_fraction_step_with_zero_numerator_is_the_parent(p, data):
    from discovery.programs.moves import fraction_step

    base = 1 + len(p.consts)
    v = data.draw(st.sampled_from([0] + list(range(base, p.n_values))))
    child = fraction_step(p, v, 0.0, None)
    assert child.cost == p.cost + 2 or not p.depends_on_x()[v]
    with np.errstate(all="ignore"):
        a, b = evaluate(p, X), evaluate(child, X)
    vals = evaluate(Program(p.consts, p.instructions, v), X) if v else X
    defined = ~np.isnan(b) | np.isnan(a)  # v + 0/v is v except where v = 0 (0/0)
    assert defined.sum() >= np.sum(vals != 0)
    assert _same(a[defined], b[defined])


def _uses(p: Program) -> list:
    from discovery.programs.ops import ARITY

    return [(v, (t, j)) for t, (op, args) in enumerate(p.instructions) for j, v in enumerate(args[: ARITY[op]])
            if v == 0 or v > len(p.consts)]


@settings(max_examples=60, deadline=None)
@given(programs, st.data())
def test_steps_at_one_use_with_zero_constants_are_the_parent(p, data):
    from discovery.programs.moves import fraction_step, shift_step

    uses = _uses(p)
    if not uses:
        return
    v, use = data.draw(st.sampled_from(uses))
    with np.errstate(all="ignore"):
        a = evaluate(p, X)
        assert _same(evaluate(shift_step(p, v, 0.0, use), X), a)
        child = evaluate(fraction_step(p, v, 0.0, None, use), X)
    defined = ~np.isnan(child) | np.isnan(a)  # v + 0/v is v except where v = 0 (0/0)
    assert _same(a[defined], child[defined])


def test_steps_at_one_use_build_the_centred_continued_fraction():
    from discovery.programs.moves import fraction_step, shift_step

    # c0 + r1/(x + b + r2/x): values x=0, c0..r2 = 1..4, results 5..9
    c0, r1, b, r2 = 1.0, 35.0, -17.0, 100.0
    p = Program((c0, r1, b, r2), (("div", (4, 0, 0)), ("add", (0, 3, 0)), ("add", (6, 5, 0)),
                                  ("div", (2, 7, 0)), ("add", (1, 8, 0))))
    with __import__("pytest").raises(ValueError, match="not a use"):
        shift_step(p, 0, -0.5, (2, 0))
    shifted = shift_step(p, 0, -0.5, (0, 1))  # only the x of r2/x moves to the centre
    t = 1 + len(shifted.consts)  # x - 1/2, the first result
    child = fraction_step(shifted, t, 20.0, None, (1, 1))  # the t of r2/t becomes t + 20/t
    x = np.linspace(0.01, 0.99, 98)  # not 1/2, where t = 0
    tx = x - 0.5
    expected = c0 + r1 / (x + b + r2 / (tx + 20.0 / tx))
    assert np.allclose(evaluate(child, x), expected, rtol=1e-13)
    assert child.cost == p.cost + 3


def test_continued_fractions_absorb_the_scaling_of_range_reduction():
    # c0 + r1/(w + b + R/w), w = x + r/x: b and w weigh 1, r and R 2, r1 1, c0 0.
    p = Program((1.0, 62.7, -31.4, 237.4, 90.5), (("div", (5, 0, 0)), ("add", (0, 6, 0)), ("div", (4, 7, 0)),
                                                ("add", (7, 3, 0)), ("add", (9, 8, 0)), ("div", (2, 10, 0)),
                                                ("add", (1, 11, 0))))
    assert scale_weights(p) == [0, 1, 1, 2, 2]
    child = range_reduce(p, 2)
    assert child.cost == p.cost + 2 and child.consts == (1.0, 62.7 * 4, -31.4 * 4, 237.4 * 16, 90.5 * 16)
    # Not invariant: x + x*x mixes weights 1 and 2.
    assert scale_weights(Program((), (("mul", (0, 0, 0)), ("add", (0, 1, 0))))) is None


@settings(max_examples=60, deadline=None)
@given(programs, st.data())
def test_regrouping_a_sum_keeps_its_value(p, data):
    from discovery.programs.moves import regroup, sum_terms

    sums = [t for t in range(len(p.instructions)) if (sum_terms(p, t) or []).__len__() >= 3]
    if not sums:
        return
    t = data.draw(st.sampled_from(sums))
    n = len(sum_terms(p, t))
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.sampled_from([k for k in range(n) if k != i]))
    child = regroup(p, t, i, j)
    with np.errstate(all="ignore"):
        a, c = evaluate(p, X), evaluate(child, X)
    finite = np.isfinite(a) & np.isfinite(c)
    # The same sum in another order: equal up to rounding (relative to the terms' size).
    assert np.allclose(a[finite], c[finite], rtol=1e-9, atol=1e-9 * (1 + np.abs(a[finite]).max(initial=0)))


def test_regrouping_names_the_new_pair():
    from discovery.programs.moves import regroup, sum_terms

    # (x + b) + r/x: values x=0, b=1, r=2; t0 = x + b (3), t1 = r/x (4), t2 = t0 + t1 (5)
    p = Program((-8.8, 25.5), (("add", (0, 1, 0)), ("div", (2, 0, 0)), ("add", (3, 4, 0))))
    assert sum_terms(p, 2) == [(1, 0), (1, 1), (1, 4)]
    child = regroup(p, 2, 0, 2)  # x + r/x first: value 2 + K + t = 6
    x = np.array([0.3, 0.7])
    assert np.array_equal(evaluate(Program(child.consts, child.instructions, 6), x), x + 25.5 / x)
    assert np.allclose(evaluate(child, x), x - 8.8 + 25.5 / x)


@settings(max_examples=60, deadline=None)
@given(programs)
def test_a_horner_step_is_x_times_the_program_plus_a_constant(p):
    from discovery.programs.moves import HORNER_STARTS, horner_steps

    steps = horner_steps(p)
    assert 1 <= len(steps) <= HORNER_STARTS
    assert all(s.instructions == steps[0].instructions and s.cost == p.cost + 1 for s in steps)
    assert [s.consts for s in horner_steps(p)] == [s.consts for s in steps]  # deterministic
    with np.errstate(all="ignore"):
        # The float64 interpreter's fma is x * v + c (float32 runs fuse it).
        assert _same(evaluate(steps[0], X), X * evaluate(p, X) + 1.0)
    # The rescaled starts evaluate the same structure with their own constants.
    for s in steps[1:]:
        assert len(s.consts) == len(p.consts) + 1 and np.all(np.isfinite(s.consts))


def test_front_neighbours_take_a_horner_step_only_with_fma():
    from discovery.programs.moves import front_neighbours

    p = Program((0.5, 1.0), (("fma", (0, 1, 2)),))  # 0.5 x + 1
    fused = front_neighbours(p, ("add", "mul", "fma"), 0.5)
    plain = front_neighbours(p, ("add", "mul"), 0.5)
    last = fused[-1]
    assert len(fused) > len(plain)
    assert any(s.instructions[-1] == ("fma", (0, s.output - 1, len(s.consts))) for s in fused)
    assert not any(s.instructions[-1][0] == "fma" and s.cost == 2 for s in plain)
    assert last.cost == 2
