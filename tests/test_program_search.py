"""Program search: the operation set, niches, restarts and exact programs."""

import numpy as np
import pytest

from discovery.programs.ops import uses_only
from discovery.programs.baselines import classical_programs
from discovery.programs.graph import horner
from discovery.programs.search import ProgramSearch
from discovery.programs.targets import make_target
from discovery.programs.tuning import log_errors


@pytest.fixture(scope="module")
def exp2():
    return make_target("exp2", (0.0, 1.0))


def test_the_operation_set_holds_for_seeds_children_and_front(exp2):
    search = ProgramSearch(exp2, max_ops=5, ops=["add", "mul"], population_size=12, seed=3)
    seeds = search.seeds(12)
    assert seeds and all(uses_only(p, ["add", "mul"]) for p in seeds)
    result = search.run(generations=2)
    assert result.best and all(uses_only(p, ["add", "mul"]) for p, _ in result.best.values())
    assert all(uses_only(p, ["add", "mul"]) for p in search.engine.state.population)


def test_fused_multiply_add_seeds_when_allowed(exp2):
    with_fma = classical_programs(exp2, 6, ["add", "mul", "fma"])
    fused = [p for p in with_fma if any(op == "fma" for op, _ in p.instructions)]
    assert {p.cost for p in fused} >= {1, 2, 3, 4, 5, 6}  # degree d by d fused Horner steps
    assert all(uses_only(p, ["add", "mul", "fma"]) for p in with_fma)
    assert not any(op == "fma" for p in classical_programs(exp2, 6) for op, _ in p.instructions)


def test_niches_cap_programs_per_operation_count(exp2):
    search = ProgramSearch(exp2, max_ops=8, population_size=24, seed=5, niche_cap=2)
    search.run(generations=1)
    engine = search.engine
    assert engine.niche(horner([1.0, 2.0, 3.0])) == 4 and engine.niche_cap == 2
    # Ten programs of one operation count, better on every objective than anything in the
    # population: their niche takes two places, and the other eight wait until every other
    # count has had its two.
    before = [p.cost for p in engine.state.population]
    flood = [horner([1.0, 1.0 + i / 16]) for i in range(10)]
    cost = flood[0].cost
    F = np.full((10, engine.state.objectives.shape[1]), -50.0)
    engine.join(flood, F)
    capped = 2 + sum(min(2, before.count(c)) for c in set(before) - {cost})
    taken = sum(p in flood for p in engine.state.population)
    assert taken == 2 + min(8, max(0, len(before) - capped)) < 10


def test_restarts_bring_fresh_programs_when_nothing_improves(exp2):
    search = ProgramSearch(exp2, max_ops=4, population_size=12, seed=1, restart_after=1)
    arrivals = []
    immigrate = None

    def recording(genomes):
        before = search.engine.state.evaluations
        taken = immigrate(genomes)
        arrivals.append((taken, search.engine.state.evaluations - before))
        return taken

    search.run(generations=1)
    restarts = search.engine.state.extra.get("restarts", 0)
    immigrate, search.engine.immigrate = search.engine.immigrate, recording
    search.run(generations=8)
    # Each restart evaluated fresh random programs and offered them to the population.
    assert arrivals and all(taken >= 1 and evaluated == taken for taken, evaluated in arrivals)
    assert search.engine.state.extra["restarts"] == restarts + len(arrivals)


def test_an_exact_program_is_the_best_not_a_failure():
    assert log_errors(np.array([0.0, 1e-3, np.inf]))[0] < log_errors(np.array([1e-3]))[0]
    target = make_target("2*x + 1", (1.0, 2.0))
    result = ProgramSearch(target, max_ops=3, population_size=12, seed=0).run(generations=3)
    assert min(err for _, err in result.best.values()) < 1e-15


def test_finite_only_refuses_programs_finite_through_infinities(exp2):
    from discovery.programs.graph import Program
    from discovery.programs.tuning import WORST_LOG_ERROR

    # c0 + c1/(x + c2/x): at x = 0, c2/0 = inf, x + inf = inf, c1/inf = 0 - finite via infinity.
    through_inf = Program((1.0, 0.7, 0.01), (("div", (3, 0, 0)), ("add", (0, 4, 0)), ("div", (2, 5, 0)),
                                              ("add", (1, 6, 0))))
    plain = Program((1.0, 0.7), (("mul", (2, 0, 0)), ("add", (1, 3, 0))))
    strict = ProgramSearch(exp2, max_ops=6, population_size=8, finite_only=True)
    lax = ProgramSearch(exp2, max_ops=6, population_size=8)
    for search in (strict, lax):
        search.engine.start([plain])
    F_strict = strict.evaluate([through_inf, plain])
    F_lax = lax.evaluate([through_inf, plain])
    assert F_strict[0, 0] == WORST_LOG_ERROR and F_strict[1, 0] < WORST_LOG_ERROR
    assert F_lax[0, 0] < WORST_LOG_ERROR


def test_a_group_of_failing_programs_is_judged_without_the_infinity_check(exp2):
    """Every program of a group failing (NaN at every point) leaves no program for the check of
    finiteness through infinities, which must then check none (a 10-minute ulp32 search ended on
    'no programs to pack' when all of a Horner step's starts failed)."""
    from discovery.programs.graph import Program
    from discovery.programs.tuning import WORST_LOG_ERROR
    from discovery.programs.verify import finiteness

    nan = Program((0.0,), (("div", (1, 1, 0)), ("add", (0, 2, 0))))  # x + 0/0
    search = ProgramSearch(exp2, max_ops=4, population_size=8, finite_only=True)
    assert np.all(search.evaluate([nan, nan])[:, 0] == WORST_LOG_ERROR)
    assert finiteness([], exp2).shape == (0,)


def test_a_result_not_finite_somewhere_is_refused_with_or_without_infinities():
    """inf/inf = NaN at x = 0, the middle of [-1, 1], where no training point lies: refused by a
    search that allows infinities too, and kept out of its front."""
    from discovery.programs.graph import Program
    from discovery.programs.tuning import WORST_LOG_ERROR

    target = make_target("exp", (-1.0, 1.0))
    nan_at_0 = Program((6.125, 12.25), (("div", (2, 0, 0)), ("add", (0, 3, 0)), ("add", (4, 1, 0)),
                                        ("sub", (4, 1, 0)), ("div", (5, 6, 0))))
    plain = Program((1.0, 1.2), (("mul", (2, 0, 0)), ("add", (1, 3, 0))))
    for finite_only in (True, False):
        search = ProgramSearch(target, max_ops=5, population_size=8, finite_only=finite_only, seed=0)
        search.engine.start([plain])
        F = search.evaluate([nan_at_0, plain])
        assert F[0, 0] == WORST_LOG_ERROR and F[1, 0] < WORST_LOG_ERROR
        assert search._admissible([nan_at_0, plain]).tolist() == [False, True]


def test_allow_inf_in_a_campaign_file(tmp_path):
    from discovery.campaign.config import load_config
    from discovery.campaign.config import ConfigError

    text = ('[campaign]\nname = "f"\nkind = "program"\nseed = 0\n[target]\nname = "exp2"\ninterval = [0, 1]\n'
            'allow_inf = {}\n')
    path = tmp_path / "c.toml"
    path.write_text(text.format("true"))
    assert load_config(path).target["allow_inf"] is True
    path.write_text(text.format('"yes"'))
    with pytest.raises(ConfigError, match="allow_inf"):
        load_config(path)


def test_front_exploration_reaches_the_next_continued_fraction_and_squaring(exp2):
    from discovery.programs.baselines import minimax_continued_fraction
    from discovery.programs.verify import max_error

    search = ProgramSearch(exp2, max_ops=6, population_size=8, seed=0)
    state = search.engine.start([minimax_continued_fraction(exp2, 1, 0)])  # the (1, 1) fraction, 3 ops
    search._explore_front(state)
    archive = state.archive
    # One Möbius step on x + b gives the (2, 2) fraction's structure, solved to its optimum; range
    # reduction (x/2 taken into the constants, one squaring: 4 ops) the (1, 1) fraction of
    # 2^(x/2) squared.
    assert 10.0 ** archive[6][1][0] <= 1.1 * max_error(minimax_continued_fraction(exp2, 2, 0), exp2)
    assert 10.0 ** archive[4][1][0] <= 1.1 * max_error(minimax_continued_fraction(exp2, 1, 1), exp2)
    assert state.extra["explored"]  # checkpointed: a resumed search does not explore it again


def test_front_exploration_centres_x_and_regroups_sums(exp2):
    from discovery.programs.baselines import minimax_continued_fraction
    from discovery.programs.graph import Program
    from discovery.programs.verify import max_error

    # c0 + r1/(x + b + r2/x), 5 ops: x + r/x is the uncentred symmetric step the unseeded search
    # finds.  Moving the x of r2/x to the centre and stepping there gives the centred (3, 3)
    # fraction (8 ops), which no change of all uses of x reaches.
    found = Program((1.0, 17.715, -8.838, 25.553), (("div", (4, 0, 0)), ("add", (0, 3, 0)), ("add", (6, 5, 0)),
                                                     ("div", (2, 7, 0)), ("add", (1, 8, 0))))
    search = ProgramSearch(exp2, max_ops=8, population_size=8, seed=0)
    state = search.engine.start([found])
    search._explore_front(state)
    assert 10.0 ** state.archive[8][1][0] <= 1.01 * max_error(minimax_continued_fraction(exp2, 3, 0), exp2)
    # Grouping x + r/x first and stepping there: c0 + r1/(w + b + R/w), 7 ops, 5.6e-10 at its
    # optimum, where the best classical 7-op program (the (2, 2) fraction of 2^(x/2) squared)
    # reaches 2.7e-8.
    assert 10.0 ** state.archive[7][1][0] < 7e-10


def test_small_errors_are_ranked_in_double_double(exp2):
    from discovery.programs.baselines import minimax_continued_fraction
    from discovery.programs.kernels import population_errors
    from discovery.programs.precise import precise_errors

    # The (4, 4) fraction of 2^(x/2), squared: 1.2e-16, which float64 rounding makes ~4e-16.
    programs = [minimax_continued_fraction(exp2, 4, 1).deduplicated()]
    F = ProgramSearch(exp2, max_ops=11, population_size=8, seed=0).evaluate(programs)
    assert F[0, 0] == log_errors(precise_errors(programs, exp2))[0]
    assert F[0, 0] < np.log10(population_errors(programs, *exp2.training, True)[0]) - 0.3


class _Clock:
    """A fake time.time: it moves only when the test says (work costs nothing here)."""

    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_the_time_budget_covers_the_closing_tuning(exp2, monkeypatch):
    import discovery.programs.search as search_module

    clock = _Clock()
    monkeypatch.setattr(search_module.time, "time", clock)
    search = ProgramSearch(exp2, max_ops=4, population_size=8, seed=1, tune_every=1)

    def ten_seconds_a_generation(state):
        clock.now += 10.0

    # 10 s per generation and a 35 s budget: the generation that reaches 35 s is the last.
    result = search.run(seconds=35.0, progress=ten_seconds_a_generation)
    assert result.generations == 4
    # A budget already spent runs no generation at all, and still returns the judged front.
    again = ProgramSearch(exp2, max_ops=4, population_size=8, seed=1)
    assert again.run(seconds=0.0).generations == 0 and again.run(seconds=0.0).best


def test_search_front_keeps_a_generation_budget_across_resumes(exp2, tmp_path):
    from discovery.campaign.programs import search_front

    path = tmp_path / "c.json"
    kwargs = dict(ops=("add", "sub", "mul", "div"), population=8, seed=2, progress=False, checkpoint=path)
    result, rows = search_front(exp2, 3, generations=2, **kwargs)
    assert result.generations == 2 and rows and all(not r.infinities for r in rows)
    result, _ = search_front(exp2, 3, generations=3, **kwargs)
    assert result.generations == 3  # one more, not three more
