"""PCF evolution: genomes stay in their ranges, a fixed seed and generation budget reproduce the
stored formulas, kill -9 and rerun ends as an uninterrupted run, and learned triage (rank, drop)
keeps what the untriaged run finds."""

import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery.campaign import load_config, run_campaign
from discovery.campaign.config import ConfigError
from discovery.campaign.evolve import ChildMaker
from discovery.campaign.executors import LocalExecutor
from discovery.evolution import Parents
from discovery.errors import InputError
from discovery.pcf.formula import PCF
from discovery.pcf.genome import GenomeSpace
from discovery.campaign.config import run_folder
from discovery.triage import ScorerFile, bin_edges, binned, features, labels, save_scorer, train
from campaigns import write_campaign
from tests.test_campaign_kill import snapshot

def _evolve_tables(name="ev", generations=4, triage="off", strategy="evolve",
                   objectives=("delta", "factorial_reduction", "target", "size")) -> dict:
    return {
        "campaign": {"name": name, "kind": "pcf", "seed": 5},
        "space": {"a": [[-4, 4], [-4, 4]], "b": [[-4, 4], [-4, 4], [-4, 4]]},
        "search": {"strategy": strategy, "depth": 300, "metrics_depth": 400, "sample": 200, "population": 16,
                   "generations": generations, "objectives": list(objectives), "triage": triage},
        "identify": {"constants": ["pi", "e", "ln2"], "digits": 20, "confirm_digits": 40, "representatives": 1},
        "execution": {"workers": 1},
    }


def _evolve_config(folder, name="ev", generations=4, triage="off"):
    return write_campaign(folder / f"{name}.toml", **_evolve_tables(name, generations, triage))


# --- genomes --------------------------------------------------------------------------------------
_range = st.tuples(st.integers(-20, 20), st.integers(0, 12), st.integers(1, 4)).map(
    lambda t: (t[0], t[0] + t[1] * t[2], t[2]))
_spaces = st.tuples(st.lists(_range, min_size=1, max_size=4), st.lists(_range, min_size=1, max_size=4))


def _space_or_none(ranges):
    try:
        return GenomeSpace(*ranges)
    except InputError:
        return None  # every a(n) or every b(n) of the ranges is zero


def _on_grid(space, genome):
    a, b = space.coefficients(genome)
    return all(lo <= v <= hi and (v - lo) % step == 0
               for v, (lo, hi, step) in zip(a + b, space.a_ranges + space.b_ranges))


@given(_spaces, st.integers(0, 2**32 - 1))
def test_operators_never_leave_the_ranges_or_steps(ranges, seed):
    space = _space_or_none(ranges)
    if space is None:
        return
    rng = np.random.default_rng(seed)
    parents = [space.random(rng) for _ in range(3)]
    for _ in range(20):
        children = [space.mutate(parents[0], rng), space.crossover(parents[1], parents[2], rng)]
        for child in children:
            assert space.valid(child) and _on_grid(space, child)
            a, b = space.coefficients(child)
            assert space.genome(a, b) == child
            assert space.key(child) == (PCF(a, b).canonical().a, PCF(a, b).canonical().b)
        parents = [children[0], children[1], parents[0]]


def test_unit_steps_reach_every_point_of_the_grid():
    space = GenomeSpace([(-1, 1)], [(0, 2, 2), (-1, 1)])
    rng = np.random.default_rng(0)
    g = space.random(rng)
    seen = {g}
    for _ in range(3000):
        g = space.mutate(g, rng)
        seen.add(g)
    every = {(i, j, k) for i in range(3) for j in range(2) for k in range(3)}
    assert seen == {p for p in every if space.valid(p)}


def test_the_apery_template_holds_for_every_child():
    # a(n) = (2n+1)(x n(n+1) + y) has coefficients (2x, 3x, x + 2y, y): stepped ranges hold the
    # first two in their multiples, whatever the operators do.
    space = GenomeSpace([(2, 40, 2), (3, 60, 3), (1, 30), (1, 8)], [(-4, -1)] + [(0, 0)] * 6)
    rng = np.random.default_rng(1)
    pop = [space.random(rng) for _ in range(10)]
    for _ in range(500):
        child = space.crossover(pop[0], pop[1], rng) if rng.random() < 0.5 else space.mutate(pop[0], rng)
        a, b = space.coefficients(child)
        assert a[0] % 2 == 0 and a[1] % 3 == 0 and 2 <= a[0] <= 40 and 3 <= a[1] <= 60 and b[1:] == [0] * 6
        pop = [child] + pop[:-1]
    apery = space.genome([34, 51, 27, 5], [-1] + [0] * 6)
    assert space.coefficients(apery) == ([34, 51, 27, 5], [-1] + [0] * 6)
    with pytest.raises(InputError, match=r"coefficient a\[0\] = 35 is outside its range \[2, 40\] step 2"):
        space.genome([35, 51, 27, 5], [-1] + [0] * 6)


def test_a_space_without_a_pcf_is_refused():
    with pytest.raises(InputError, match="hold no PCF"):
        GenomeSpace([(0, 0)], [(1, 2)])
    with pytest.raises(InputError, match=r"b: empty coefficient range \[3, 1\]"):
        GenomeSpace([(0, 1)], [(3, 1)])


# --- campaigns ------------------------------------------------------------------------------------
def test_evolve_keys_belong_to_evolve(tmp_path):
    path = write_campaign(tmp_path / "bad.toml", **_evolve_tables("x", 2, strategy="enumerate"))
    with pytest.raises(ConfigError, match="objectives belongs to strategy = 'evolve', not 'enumerate'"):
        load_config(path)
    write_campaign(path, **_evolve_tables("x", 2, objectives=("delta", "factorial_reduction", "target", "sizes")))
    with pytest.raises(ConfigError, match="unknown objective 'sizes' \\(did you mean 'size'\\?\\)"):
        load_config(path)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evolve")
    cfg = _evolve_config(folder)
    db = folder / "reference.db"
    result = run_campaign(cfg, db, progress=False, plots=False)
    assert result.complete and result.formulas > 20
    return {"config": cfg, "db": db, "snapshot": snapshot(db)}


def test_a_fixed_seed_and_generation_budget_reproduce_the_stored_formulas(reference, tmp_path):
    db = tmp_path / "again.db"
    run_campaign(reference["config"], db, progress=False, plots=False)
    assert snapshot(db) == reference["snapshot"]
    # Five units: the initial population and four generations, each stored once.
    assert [u[1] for u in reference["snapshot"]["units"]] == [0, 1, 2, 3, 4]


def test_a_longer_budget_continues_the_same_search(reference, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    short = _evolve_config(folder, generations=2)
    db = folder / "reference.db"
    run_campaign(short, db, progress=False, plots=False)
    stored = snapshot(db)
    two = {f[0] for f in stored["formulas"]}
    assert two < {f[0] for f in reference["snapshot"]["formulas"]}


CHILD = r"""
import os, signal, sys

from discovery.campaign import run_campaign
from discovery.store import FormulaStore

stage, config, db = sys.argv[1:4]
calls = {"insert": 0, "unit": 0}


def die(*_):
    os.kill(os.getpid(), signal.SIGKILL)


original_insert, original_unit = FormulaStore._insert_formula, FormulaStore.write_unit


def insert(*args, **kwargs):
    calls["insert"] += 1
    if stage == "inside" and calls["insert"] == 40:
        die()
    return original_insert(*args, **kwargs)


def unit(*args, **kwargs):
    original_unit(*args, **kwargs)
    calls["unit"] += 1
    if stage == "committed" and calls["unit"] == 3:
        die()  # a generation stored, its checkpoint not yet written


FormulaStore._insert_formula, FormulaStore.write_unit = insert, unit
run_campaign(config, db, progress=False, plots=False)
"""


@pytest.mark.parametrize("stage", ["inside", "committed"])
def test_kill_and_rerun_equals_an_uninterrupted_run(stage, reference, tmp_path):
    cfg = tmp_path / "ev.toml"
    shutil.copy(reference["config"], cfg)
    db = tmp_path / "reference.db"
    _kill_then_rerun(stage, cfg, db)
    assert snapshot(db) == reference["snapshot"]


def test_a_surrogate_screened_search_resumes_to_the_same_result(tmp_path):
    # The screen's model is retrained from the stored units, so a resumed run screens alike.
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    cfg = _evolve_config(first, generations=6, triage="rank")
    shutil.copy(cfg, second / cfg.name)
    run_campaign(cfg, first / "reference.db", progress=False, plots=False)
    _kill_then_rerun("committed", second / cfg.name, second / "reference.db")
    assert snapshot(second / "reference.db") == snapshot(first / "reference.db")


def test_the_result_does_not_depend_on_the_number_of_workers(tmp_path):
    # Children, their keys, triage features and scores are made on the workers, each child from
    # its own random stream, and the surrogate trains on a worker: one worker or two, the same.
    cfg = _evolve_config(tmp_path, generations=7, triage="rank")
    run_campaign(cfg, tmp_path / "one.db", progress=False, plots=False)
    pool = LocalExecutor(2)
    try:
        run_campaign(cfg, tmp_path / "two.db", executor=pool, progress=False, plots=False)
    finally:
        pool.close()
    assert snapshot(tmp_path / "two.db") == snapshot(tmp_path / "one.db")
    # The pool's workers read the surrogate from files in the run folder, gone at the end.
    assert not (run_folder(tmp_path / "two.db", "ev") / "surrogates").exists()


def test_children_bred_in_pieces_carry_the_scores_of_the_model(tmp_path):
    space = GenomeSpace([(-4, 4), (-4, 4)], [(-4, 4), (-4, 4), (-4, 4)])
    rng = np.random.default_rng(0)
    genomes = [space.random(rng) for _ in range(400)]
    X = features(*space.arrays(genomes), 300)
    model = train(X, X[:, -4] > np.nanmedian(X[:, -4]), recall=0.95, seed=0)
    assert model.model is not None
    parents = Parents(genomes[:30], np.arange(30) % 3, np.linspace(0, 1, 30), frozenset(map(space.key, genomes[:30])))
    maker = ChildMaker(space, 5, depth=300, model=model)
    whole = maker((parents, 4, 0, 60))
    pieces = [maker((parents, 4, lo, 20)) for lo in (0, 20, 40)]
    assert [c for p in pieces for c in p["bred"]] == whole["bred"]
    # Features and scores for each child new within its piece, as computed directly.
    for part in [whole, *pieces]:
        kids = [part["bred"][j][0] for j in part["rows"]]
        assert len({space.key(k) for k in kids}) == len(kids) and not parents.keys & {space.key(k) for k in kids}
        direct = features(*space.arrays(kids), 300)
        np.testing.assert_array_equal(part["features"], direct)
        np.testing.assert_array_equal(part["scores"], model.score(direct))
    # A task of a pool on this machine carries the model's file instead: the same scores.
    filed = save_scorer(model, tmp_path / "surrogate.npz")
    assert isinstance(filed, ScorerFile) and filed.path.endswith("surrogate.npz")
    np.testing.assert_array_equal(ChildMaker(space, 5, depth=300, model=filed)((parents, 4, 0, 60))["scores"],
                                  whole["scores"])
    no_trees = train(X, np.zeros(len(X), dtype=bool), recall=0.95, seed=0)
    with pytest.raises(InputError, match="without trees"):
        save_scorer(no_trees, tmp_path / "none.npz")


def _kill_then_rerun(stage, cfg, db):
    child = subprocess.run([sys.executable, "-c", CHILD, stage, str(cfg), str(db)], capture_output=True, text=True,
                           timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert not snapshot(db)["campaigns"][0][-1]
    result = run_campaign(cfg, db, progress=False, plots=False)
    assert result.complete


def test_two_campaigns_in_one_database_each_see_what_they_met(reference, tmp_path):
    db = tmp_path / "shared.db"
    shutil.copy(reference["db"], db)
    other = _evolve_config(tmp_path, name="other", generations=2)
    result = run_campaign(other, db, progress=False, plots=False)
    from discovery.store import FormulaStore

    with FormulaStore(db) as store:
        mine = {tuple(r["a"]) + tuple(r["b"]) for r in store.query(campaign="other")}
        first = {tuple(r["a"]) + tuple(r["b"]) for r in store.query(campaign="ev")}
    assert len(mine) == result.formulas > 0 and len(first) == len(reference["snapshot"]["formulas"])
    assert mine & first  # the same seed meets formulas the first campaign stored: both list them


# --- triage ---------------------------------------------------------------------------------------
def test_the_threshold_keeps_the_stated_recall_on_held_back_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 4))
    y = X[:, 0] + 0.3 * rng.normal(size=6000) > 1.8
    model = train(X, y, recall=0.95, seed=0)
    assert model.recall >= 0.95 and model.kept < 0.2
    fresh = rng.normal(size=(20000, 4))
    truth = fresh[:, 0] + 0.3 * rng.normal(size=20000) > 1.8
    assert (model.keep(fresh) & truth).sum() / truth.sum() > 0.9
    # Nothing to learn from a single class: nothing is dropped.
    assert train(X, np.zeros(len(X), dtype=bool)).keep(fresh).all()


@given(st.lists(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(float("nan"))), min_size=3, max_size=3),
                min_size=1, max_size=400))
def test_binning_keeps_the_order_of_every_feature_and_its_missing_values(rows):
    X = np.array(rows)
    edges = bin_edges(X)
    B = binned(X, edges)
    assert np.array_equal(np.isnan(B), np.isnan(X))
    for j, cuts in enumerate(edges):
        assert len(cuts) <= 254 and np.all(np.diff(cuts) > 0)
        col, codes = X[:, j], B[:, j]
        ok = ~np.isnan(col)
        assert len(np.unique(codes[ok])) <= 255
        # Monotone: a larger value never gets a smaller code, and codes count the cuts at or below.
        order = np.argsort(col[ok], kind="stable")
        assert np.all(np.diff(codes[ok][order]) >= 0)
        for v, c in zip(col[ok], codes[ok]):
            assert c == np.sum(cuts <= v)
        # Few distinct values keep apart: each becomes its own code.
        if len(np.unique(col[ok])) <= 255:
            assert len(np.unique(codes[ok])) == len(np.unique(col[ok]))


def test_labels():
    got = labels([0.1, 0.1, -0.5, -0.5, -0.5], [-0.2, -0.2, -0.9, -0.5, -0.6],
                 ["exponential", "factorial", "exponential", "exponential", "slow"], [False, False, False, False, True])
    # delta > 0 counts unless the fraction converges factorially; a gcd removing 80 % of q's
    # digits is strong; an identified limit is always interesting.
    assert got.tolist() == [True, False, True, False, True]


def _triage_tables(mode: str) -> dict:
    return {
        "campaign": {"name": "t", "kind": "pcf", "seed": 1},
        "space": {"degree_a": 1, "degree_b": 2, "bound": 4},
        "search": {"depth": 400, "metrics_depth": 500, "sample": 250, "unit_size": 1500, "triage": mode,
                   "triage_warmup": 0.34},
        "identify": {"constants": ["pi", "e", "ln2"], "digits": 20, "confirm_digits": 40, "representatives": 0},
        "execution": {"workers": 1},
    }


@pytest.fixture(scope="module")
def triaged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("triage")
    out = {}
    for mode in ("off", "rank", "drop"):
        cfg = write_campaign(folder / f"{mode}.toml", **_triage_tables(mode))
        db = folder / f"{mode}.db"
        out[mode] = (run_campaign(cfg, db, progress=False, plots=False), snapshot(db))
    return out


def test_rank_stores_exactly_what_off_stores(triaged):
    (_, off), (_, rank) = triaged["off"], triaged["rank"]
    for table in ("formulas", "metrics", "identifications", "clusters"):
        assert rank[table] == off[table]


def test_drop_measures_less_and_keeps_every_identified_formula(triaged):
    (off_result, off), (drop_result, drop) = triaged["off"], triaged["drop"]
    assert drop_result.dropped > 0 and drop_result.measured + drop_result.dropped == off_result.measured
    assert off["identifications"] and set(off["identifications"]) <= set(drop["identifications"])
    assert drop_result.identified == off_result.identified


def test_objectives_from_pipeline_records():
    from discovery.campaign.evolve import PENALTY, objective_matrix
    from discovery.pcf.mitm import mobius_table

    table = mobius_table(["pi"], 4)
    A = np.array([[2, 1], [1, 1]])
    B = np.array([[1, 0, 0], [0, 0, 1]])
    metrics = {"delta": 0.25, "naive_delta": -0.5, "limit_value": 4 / np.pi, "gamma_prime": 1.0, "eta_prime": 0.0,
               "beta": 0.0, "gamma": -np.log(10.0), "eta": 0.0}
    names = ["delta", "factorial_reduction", "convergence", "target", "novelty", "size"]
    F = objective_matrix(names, A, B, [{"row": 0, "metrics": metrics}], table, np.array([[0.25, 1.0, 3.0]]),
                         sample=100)
    # Minimised: -delta; -(1 - (1 - 0.5) / 1.25); -1 digit per term; 4/pi is in the table; distance 3.
    assert F[0].tolist() == pytest.approx([-0.25, -0.6, -1.0, -16.0, -3.0, 4.0])
    # The second PCF produced no record (it did not converge): penalised, except its size.
    assert F[1].tolist() == [PENALTY] * 5 + [3.0]
