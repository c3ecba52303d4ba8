from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery.evolution import (
    NSGA2, Parents, Ready, breed_children, child_rng, crowding_distance, non_dominated_fronts,
)
from discovery.programs.baselines import (
    baselines, best_baseline, minimax_continued_fraction, minimax_polynomial, minimax_rational,
)
from discovery.programs.mutations import mutate
from discovery.programs.ops import ARITY
from discovery.programs.search import ProgramSearch
from discovery.programs.tuning import tune_constants, tune_minimax
from discovery.programs.targets import make_target
from discovery.programs.verify import max_error
from discovery.programs.graph import horner


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=30))
def test_fronts_match_brute_force(points):
    F = np.array(points, dtype=float)
    fronts = non_dominated_fronts(F)
    assert sorted(np.concatenate(fronts).tolist()) == list(range(len(F)))
    remaining = set(range(len(F)))
    for front in fronts:
        first = {i for i in remaining
                 if not any((F[j] <= F[i]).all() and (F[j] < F[i]).any() for j in remaining)}
        assert set(front.tolist()) == first
        remaining -= first


def test_crowding_distance_ends_are_infinite():
    F = np.array([[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0]])
    d = crowding_distance(F)
    assert np.isinf(d[0]) and np.isinf(d[3]) and np.all(np.isfinite(d[1:3]))


def _toy(checkpoint=None, seed=3):
    def evaluate(genomes):
        x = np.array(genomes)
        return np.column_stack([x**2, (x - 2) ** 2])

    return NSGA2(evaluate, lambda g, rng: float(g + rng.normal(0, 0.3)), lambda g: round(g, 12),
                 population_size=20, seed=seed, checkpoint=checkpoint, checkpoint_every=1)


def _bred_toy(piece: int, checkpoint=None, known=None, evaluated=None, pool=None):
    """The toy search with children bred in pieces of ``piece`` numbers, as workers would (in
    ``pool``'s threads when given)."""

    def mutate(g, rng):
        return float(g + rng.normal(0, 0.3))

    def key(g):
        return round(g, 1)  # coarse: many children repeat a key, so the engine asks again

    def breed(parents, generation, first, count):
        out = []
        for lo in range(first, first + count, piece):
            out += breed_children(parents, 3, generation, lo, min(piece, first + count - lo), mutate, key,
                                  crossover=lambda a, b, rng: (a + b) / 2, crossover_rate=0.3)
        return out

    def evaluate(genomes):
        if evaluated is not None:
            evaluated.append(list(genomes))
        x = np.array(genomes)
        return np.column_stack([x**2, (x - 2) ** 2])

    def later(fn):
        # Computed in a thread, as worker processes would, and handed out when asked for.
        return lambda *args: pool.submit(fn, *args) if pool is not None else Ready(fn(*args))

    pipeline = SimpleNamespace(breed=later(breed), evaluate=later(lambda genomes, generation: evaluate(genomes)))
    return NSGA2(evaluate, mutate, key, population_size=20, seed=3, checkpoint=checkpoint, checkpoint_every=1,
                 pipeline=pipeline, known=known)


def test_bred_children_do_not_depend_on_how_the_numbers_are_split(tmp_path):
    initial = [-5.0 + i for i in range(12)]
    runs = [_bred_toy(piece).run(initial, generations=15) for piece in (1, 7, 10_000)]
    with ThreadPoolExecutor(2) as pool:
        runs.append(_bred_toy(3, pool=pool).run(initial, generations=15))
    for other in runs[1:]:
        assert other.population == runs[0].population and other.evaluations == runs[0].evaluations
    x = np.array(runs[0].population)
    assert np.all((x > -0.3) & (x < 2.3))  # and it still converges
    # Resumed from a checkpoint, it continues the same search.
    _bred_toy(5, tmp_path / "ck.json").run(initial, generations=6)
    assert _bred_toy(3, tmp_path / "ck.json").run(initial, generations=9).population == runs[0].population


def test_bred_children_skip_known_keys_in_number_order():
    pop = [0.0, 1.0, 2.0, 3.0]
    parents = Parents(pop, np.zeros(4, dtype=int), np.zeros(4), frozenset({0.0, 1.0, 2.0, 3.0}))
    bred = breed_children(parents, 3, 2, 0, 50, lambda g, rng: float(g + rng.integers(-3, 4)), lambda g: g)
    # Child i comes from its own stream: the same child whatever else is bred with it.
    assert bred[17] == breed_children(parents, 3, 2, 17, 1, lambda g, rng: float(g + rng.integers(-3, 4)),
                                      lambda g: g)[0]
    known, evaluated = {0.5, 1.0, 1.5}, []
    _bred_toy(4, known=known.__contains__, evaluated=evaluated).run([-5.0 + i for i in range(12)], generations=8)
    # Each generation: children of distinct keys (20 until the population crowds the keys of
    # [0, 2]), none known.
    assert evaluated[1] and len(evaluated[1]) == 20
    for batch in evaluated[1:]:
        assert len({round(g, 1) for g in batch} - known) == len(batch)
    # A generation is bred while the one before is evaluated, and repeats none of its children.
    for before, batch in zip(evaluated[1:], evaluated[2:]):
        assert not {round(g, 1) for g in before} & {round(g, 1) for g in batch}
    with pytest.raises(ValueError, match=r"\(-1, 0, 0\)"):
        child_rng(-1, 0, 0)


def test_toy_problem_converges_to_the_pareto_set():
    state = _toy().run([-5.0 + i for i in range(12)], generations=40)
    x = np.array(state.population)
    assert np.all((x > -0.2) & (x < 2.2))


def test_checkpoint_resume_equals_uninterrupted(tmp_path):
    initial = [-5.0 + i for i in range(12)]
    straight = _toy().run(initial, generations=10)
    path = tmp_path / "ck.pkl"
    _toy(path).run(initial, generations=4)
    resumed = _toy(path).run(initial, generations=6)
    assert resumed.generation == 10
    assert resumed.population == straight.population


def test_baselines_reproduce_the_reference_figures():
    t = make_target("exp2", (0, 1))
    poly5 = minimax_polynomial(t, 5)
    rat23 = minimax_rational(t, 2, 3)
    rat44 = minimax_rational(t, 4, 4)
    assert (poly5.cost, rat23.cost, rat44.cost) == (10, 10, 16)
    assert max_error(poly5, t) == pytest.approx(7.5e-8, rel=0.02)
    assert max_error(rat23, t) == pytest.approx(7.5e-9, rel=0.02)
    assert max_error(rat44, t) == pytest.approx(1.1e-14, rel=0.02)
    cf = minimax_continued_fraction(t, 3, 1)  # the (3, 3) rational of 2^(x/2) as a fraction, squared
    assert cf.cost == 10
    assert max_error(cf, t) == pytest.approx(1.5e-12, rel=0.04)


def test_continued_fraction_is_the_minimax_rational():
    from discovery.programs.baselines import root_target
    from discovery.programs.kernels import evaluate

    t = make_target("exp", (0, 0.5))
    X = np.linspace(0, 0.5, 41)
    for n in (1, 2, 3):
        cf = minimax_continued_fraction(t, n)
        assert cf.cost == 3 * n
        assert np.allclose(evaluate(cf, X), evaluate(minimax_rational(t, n, n), X), rtol=1e-13)
    squared = minimax_continued_fraction(t, 2, 2)
    root = minimax_continued_fraction(root_target(t, 2), 2)
    assert np.allclose(evaluate(squared, X), evaluate(root, X) ** 4, rtol=1e-14)
    with pytest.raises(ValueError, match="positive"):
        minimax_continued_fraction(make_target("sin", (-1, 1), relative=False), 2, 1)


def test_baseline_table_and_best():
    t = make_target("exp", (0, 0.5))
    table = baselines(t, max_ops=6)
    assert {b.method for b in table} == {"taylor", "minimax-polynomial", "pade", "minimax-rational", "minimax-cf"}
    assert all(b.ops <= 6 for b in table)
    best = best_baseline(table, 4)
    assert best.ops <= 4 and all(best.max_error <= b.max_error for b in table if b.ops <= 4)
    taylor2 = next(b for b in table if b.method == "taylor" and b.degrees == (2,))
    minimax2 = next(b for b in table if b.method == "minimax-polynomial" and b.degrees == (2,))
    assert minimax2.max_error < taylor2.max_error


def test_mutations_keep_programs_valid():
    rng = np.random.default_rng(1)
    p = horner([0.5, 1.0, 1.0])
    for _ in range(300):
        p = mutate(p, rng)
        assert p.simplified() == p
        # A straight-line program: each operation reads x, constants or earlier results only.
        base = 1 + len(p.consts)
        for t, (op, args) in enumerate(p.instructions):
            assert op in ARITY and all(0 <= v < base + t for v in args[:ARITY[op]])
        assert 0 <= p.output < p.n_values and 0 <= p.cost <= len(p.instructions)


def test_tuning_improves_a_detuned_program():
    t = make_target("exp", (0, 0.5))
    good = minimax_polynomial(t, 2)
    bad = good.with_consts([c * 1.1 for c in good.consts])
    tuned, err = tune_constants(bad, t, max_evals=2000)
    assert err < 1.5 * max_error(good, t)


def test_program_search_smoke():
    from discovery.programs.baselines import classical_programs

    # Seeded with the classical programs of at most 3 operations (their best, the (1, 1)
    # continued fraction, is 3.3e-4), a search allowed 4 must find something better by itself:
    # the squared continued fraction reaches 8.1e-5.
    t = make_target("exp", (0, 0.5))
    search = ProgramSearch(t, max_ops=4, population_size=30, seed=2, tune_every=2, child_rounds=10)
    initial = classical_programs(t, 3)
    initial += search.seeds(30, classical=False)[:30 - len(initial)]
    start = search.evaluate(list(initial))  # the search's own tuning, without any evolution
    assert 10 ** start[:, 0].min() > 3e-4
    result = search.run(initial=initial, generations=6)
    assert sorted(result.best) == sorted(result.validation) == [0, 1, 2, 3, 4]
    errors = [result.validation[c] for c in sorted(result.best)]
    assert errors == sorted(errors, reverse=True)  # a Pareto front: more ops, less error
    cost, (prog, err) = max(result.best.items())
    assert prog.cost == cost and err < 1e-4
    assert max_error(prog, t) == pytest.approx(err, rel=1e-3)
    assert max_error(prog, t) == pytest.approx(result.validation[cost], rel=1e-3)
    # No operation: the best constant, whose relative minimax error is tanh(1/4).
    assert result.validation[0] == pytest.approx(np.tanh(0.25), rel=1e-6)


def test_minimax_tuning_reaches_the_minimax_error_of_a_rational():
    t = make_target("exp2", (0, 1))
    best = minimax_rational(t, 2, 3)
    start = best.with_consts([c * (1 + 1e-2 * (-1) ** k) for k, c in enumerate(best.consts)])
    (tuned, err), = tune_minimax([start], t, outer=40, grid="training")
    assert err < 1.02 * max_error(best, t)
    assert max_error(tuned, t) == pytest.approx(err, rel=0.05)


def test_minimax_tuning_of_a_shared_rational_beats_the_classical_one():
    # 2^x ~ c4 (P + uQ)/(P - uQ), u = x - c0, s = u^2, P = s + c1, Q = c2 s + c3: ten operations.
    from discovery.programs.graph import Program

    t = make_target("exp2", (0, 1))
    instr = [("sub", (0, 1)), ("mul", (6, 6)), ("add", (7, 2)), ("mul", (3, 7)), ("add", (9, 4)),
             ("mul", (6, 10)), ("add", (8, 11)), ("sub", (8, 11)), ("div", (12, 13)), ("mul", (14, 5))]
    rough = Program((0.5, 10.0, 0.1, 3.0, 1.414), tuple(instr))
    assert rough.cost == 10
    (tuned, err), = tune_minimax([rough], t)
    assert err < 2e-10 < max_error(minimax_rational(t, 2, 3), t) / 30
    assert max_error(tuned, t) == pytest.approx(err, rel=0.1)


def test_cayley_motif():
    from discovery.programs.graph import Program
    from discovery.programs.kernels import evaluate
    from discovery.programs.mutations import insert_cayley

    rng = np.random.default_rng(5)
    base = horner([0.3, 1.0])
    X = np.linspace(0.1, 0.9, 5)
    checked = 0
    for _ in range(50):
        child = insert_cayley(base, rng)
        assert len(child.instructions) == len(base.instructions) + 3
        last = len(child.consts) + len(child.instructions)
        op, (a, b, _) = child.instructions[-1]
        if child.output != last or op != "div":
            continue
        s_ = child.instructions[a - len(child.consts) - 1]
        A = evaluate(Program(child.consts, child.instructions, s_[1][0]), X)
        B = evaluate(Program(child.consts, child.instructions, s_[1][1]), X)
        if np.all(A != B):
            assert np.allclose(evaluate(child, X), (A + B) / (A - B), rtol=1e-14)
            checked += 1
    assert checked > 3


def test_insert_on_all_uses_changes_the_variable():
    from discovery.programs.kernels import evaluate
    from discovery.programs.mutations import insert_on_all_uses

    base = horner([0.3, -1.2, 1.0])  # 0.3 x^2 - 1.2 x + 1
    X = np.linspace(0.1, 0.9, 7)
    seen = 0
    rng = np.random.default_rng(3)
    for _ in range(200):
        child = insert_on_all_uses(base, rng, ("add", "sub", "mul", "div"))
        assert len(child.instructions) == len(base.instructions) + 1
        op, (v, w, _) = child.instructions[0]
        x_unused = all(0 not in args[:2] for _, args in child.instructions[1:])
        if op == "sub" and v == 0 and 1 <= w <= len(base.consts) and x_unused:
            # every use of x now reads x - c: the polynomial shifted by c
            c = base.consts[w - 1]
            assert np.allclose(evaluate(child, X), evaluate(base, X - c), rtol=1e-14)
            seen += 1
    assert seen


def test_the_loop_evolves_pcf_genomes_too():
    from genomes import evaluate_pcf_genomes as evaluate, mutate_pcf_genome as mutate_pcf

    rng = np.random.default_rng(0)
    initial = [tuple(int(v) for v in rng.integers(-5, 6, 5)) for _ in range(16)]
    initial = [g for g in initial if any(g[2:]) and any(g[:2])]
    engine = NSGA2(evaluate, mutate_pcf, lambda g: g, population_size=16, seed=1)
    state = engine.run(initial, generations=8)
    start_best = evaluate(initial)[:, 0].min()
    assert state.objectives[:, 0].min() < start_best - 0.5  # delta rose (0.18 -> 1.00 with these seeds)
    assert np.array_equal(evaluate(state.population), state.objectives)  # stored objectives are true
    assert all(-5 <= c <= 5 for g in state.population for c in g)


def test_squaring_the_output_is_tuned_from_the_square_root():
    # The (2, 1) rational of 2^x squared: its inner value is refitted to 2^(x/2) before the whole
    # program is tuned, which lands well below the unsquared rational.
    from discovery.programs.graph import Program

    t = make_target("exp2", (0, 1))
    base = minimax_rational(t, 2, 1)
    n = 1 + len(base.consts) + len(base.instructions)
    squared = Program(base.consts, base.instructions + (("mul", (base.output, base.output, 0)),), n)
    (tuned, err), = tune_minimax([squared], t)
    assert err < max_error(base, t) / 5
    assert max_error(tuned, t) == pytest.approx(err, rel=0.05)


def test_baselines_merge_repeated_offsets():
    t = make_target("exp2", (0, 1))
    table = baselines(t, max_ops=10)
    cf = [b for b in table if b.method == "minimax-cf" and b.degrees == (3, 3, 2)]
    assert cf and cf[0].ops == 10 and cf[0].max_error < 3e-14
    # The (4, 4) fraction shares x - 1/2 between three levels: 12 operations as written, 10 merged.
    deep = [b for b in table if b.method == "minimax-cf" and b.degrees == (4, 4, 0)]
    assert deep and deep[0].ops == 10 and deep[0].max_error < 1.2e-14
    assert best_baseline(table, 10) is deep[0]


def test_niches_keep_one_structure_from_taking_the_population():
    # Genomes (structure, variant): every variant of structure 0 is better than anything else.
    def evaluate(genomes):
        return np.array([[float(s), float(v)] for s, v in genomes])

    engine = NSGA2(evaluate, lambda g, rng: g, key=lambda g: g, population_size=6, niche=lambda g: g[0], niche_cap=2)
    initial = [(0, v) for v in range(10)] + [(s, 0) for s in range(1, 6)]
    state = engine.start(initial)
    structures = [g[0] for g in state.population]
    assert structures.count(0) == 2 and len(set(structures)) == 5
    # With too few niches, the waiting genomes fill the population.
    engine = NSGA2(evaluate, lambda g, rng: g, key=lambda g: g, population_size=6, niche=lambda g: g[0], niche_cap=2)
    state = engine.start([(0, v) for v in range(10)])
    assert len(state.population) == 6


def test_a_known_genome_is_not_proposed_again():
    rng_moves = iter(range(10_000))

    def mutate(g, rng):
        return next(rng_moves) % 50

    seen = set()
    engine = NSGA2(lambda gs: np.array([[float(g)] for g in gs]), mutate, key=lambda g: g, population_size=4,
                   known=seen.__contains__)
    engine.start([100, 101, 102, 103])
    seen.update(range(0, 50, 2))
    for _ in range(3):
        before = engine.state.evaluations
        engine.step()
        assert engine.state.evaluations > before
    assert all(g % 2 == 1 or g >= 100 for g in engine.state.population)
