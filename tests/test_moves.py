"""Structure moves compute exactly what they claim, bit for bit."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.programs.graph import Program, random_program
from discovery.programs.kernels import evaluate
from discovery.programs.moves import compose, crossover, graft, range_reduce, unsquare

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
    assert child.cost == p.cost + 1 + k


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
    base_d = 1 + len(donor.consts)
    d = data.draw(st.integers(base_d, donor.n_values - 1))
    # Replacing the host's output by the donor's value gives the donor's value.
    child = graft(host, donor, host.output, d) if host.output >= 1 + len(host.consts) else None
    if child is not None:
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
    from discovery.programs.search import fraction_step

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
    from discovery.programs.search import fraction_step

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
