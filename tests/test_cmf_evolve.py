"""CMF campaigns with ``mode = "evolve"``: trajectory genomes stay in the box, the search finds
δ > 0 zeta(3) formulas it was not given, kill and rerun ends as an uninterrupted run, and the
local process pool and a Dask cluster store what one process stores."""

import json
import shutil

import numpy as np
import pytest

from discovery.campaign import ConfigError, load_config, run_campaign
from discovery.campaign.cmf_evolve import TrajectorySpace, pcf_size
from discovery.campaign.executors import LocalExecutor
from discovery.checkpoints import decode_plain
from discovery.cmf import known_cmf, trajectory_pcf
from discovery.pcf.equivalence import equivalence_key
from discovery.pcf.formula import PCF
from discovery.store import FormulaStore
from campaigns import write_campaign
from test_campaign_kill import snapshot
from test_evolve_pcf import _kill_then_rerun

APERY = PCF([34, 51, 27, 5], [-1, 0, 0, 0, 0, 0, 0])


def _tables(search=None, space=None, name="cmf-ev"):
    return {
        "campaign": {"name": name, "kind": "pcf", "seed": 4},
        "space": {"cmf": "zeta3", "max_step": 1, "max_start": 3, **(space or {})},
        "search": {"strategy": "cmf", "mode": "evolve", "depth": 400, "metrics_depth": 800, "sample": 300,
                   "population": 5, "generations": 2, "objectives": ["delta", "novelty"], **(search or {})},
        # 40 digits: the limits from starts off the diagonal are Möbius images of zeta(3) with
        # coefficients of up to six digits, found by LLL, not the table.
        "identify": {"constants": ["zeta3"], "digits": 40, "confirm_digits": 80, "mobius_bound": 4,
                     "representatives": 0},
        "execution": {"workers": 1},
    }


def _config(path, **kw):
    return write_campaign(path, **_tables(**kw))


# --- genomes --------------------------------------------------------------------------------------
def test_operators_stay_in_the_box_and_keys_follow_lines():
    space = TrajectorySpace(2, 2, 4)
    rng = np.random.default_rng(0)
    genomes = [space.random(rng) for _ in range(5)]
    for _ in range(300):
        child = space.mutate(genomes[-1], rng) if rng.random() < 0.6 else \
            space.crossover(genomes[-1], genomes[-2], rng)
        assert space.valid(child), child
        genomes.append(child)
    assert len({g for g in genomes}) > 40  # the operators move
    # s and s + t lie on one line: one key, the line's first point in the box.
    assert space.key(((1, 1), (3, 4))) == space.key(((1, 1), (1, 2))) == ((1, 1), (1, 2))
    assert space.key(((1, -1), (2, 1))) == ((1, -1), (1, 2))
    assert space.key(((0, 1), (2, 3))) == ((0, 1), (2, 1))
    assert not space.valid(((2, 2), (1, 1))) and not space.valid(((0, 0), (1, 1)))
    assert not space.valid(((1, 0), (0, 1))) and not space.valid(((3, 1), (1, 1)))


def test_mutation_finds_the_last_untried_lines():
    space = TrajectorySpace(2, 1, 3)
    lines = sorted({space.key((t, s)) for t in [(1, 0), (0, 1), (1, 1), (1, -1), (-1, 0), (0, -1), (-1, -1), (-1, 1)]
                    for s in [(x, y) for x in range(1, 4) for y in range(1, 4)]})
    left = set(lines[5:8])  # every other line of the box is tried
    rng = np.random.default_rng(1)
    for _ in range(5):
        assert space.key(space.mutate(((1, 1), (1, 1)), rng, lambda k: k not in left)) in left


def test_tails_along_a_line_are_one_formula():
    # What the key relies on: the trajectory from s + t is a tail of the one from s.
    cmf = known_cmf("zeta3")
    first = trajectory_pcf(cmf, (1, 1), (1, 2)).pcf
    later = trajectory_pcf(cmf, (1, 1), (2, 3)).pcf
    assert equivalence_key(first) == equivalence_key(later)


def test_size_counts_digits():
    assert pcf_size([34, 51, 27, 5], [-1]) == pytest.approx(np.log10([35, 52, 28, 6, 2]).sum())


# --- configuration --------------------------------------------------------------------------------
@pytest.mark.parametrize("search, message", [
    ({"mode": "evolves"}, r"\[search\] mode must be one of 'enumerate', 'evolve', got 'evolves'"),
    ({"objectives": ["delta", "target"]}, r"'target' does not apply to strategy = 'cmf'"),
    ({"objectives": ["delta", "novelti"]}, r"unknown objective 'novelti' \(did you mean 'novelty'\?\)"),
    ({"offspring": 4}, r"\[search\] offspring sets surrogate screening"),
    ({"population": 3}, r"population must be at least 4, got 3"),
    ({"triage": "rank"}, r"\[search\] triage cuts a coefficient grid"),
    ({"mode": "enumerate"}, r"\[search\] objectives belongs to strategy = 'evolve' or to strategy = 'cmf' "
                            r"with mode = 'evolve'"),
])
def test_bad_settings_are_refused_naming_the_key(tmp_path, search, message):
    with pytest.raises(ConfigError, match=message):
        load_config(_config(tmp_path / "c.toml", search=search))


def test_mode_belongs_to_cmf(tmp_path):
    path = write_campaign(tmp_path / "c.toml", campaign={"name": "c", "kind": "pcf"},
                          space={"degree_a": 1, "degree_b": 2, "bound": 2}, search={"mode": "evolve"})
    with pytest.raises(ConfigError, match=r"\[search\] mode belongs to strategy = 'cmf', not 'enumerate'"):
        load_config(path)


def test_defaults_and_the_enumerating_digest(tmp_path):
    config = load_config(_config(tmp_path / "c.toml", search={"objectives": None, "generations": None}))
    assert config.search["objectives"] == ["delta", "novelty"] and config.search["minutes"] == 10.0
    # An enumerating cmf campaign keeps the digest it had before modes existed.
    plain = {"strategy": "cmf", "depth": 400, "unit_size": 4}
    first = load_config(write_campaign(tmp_path / "a.toml", **{**_tables(), "search": plain}))
    second = load_config(write_campaign(tmp_path / "b.toml", **{**_tables(), "search": {**plain, "mode": "enumerate"}}))
    assert first.digest() == second.digest() and "mode" not in first.as_dict()["search"]
    # The evolving search may range over a box too large to enumerate.
    big = load_config(_config(tmp_path / "big.toml", space={"max_step": 10, "max_start": 100}))
    assert big.space["max_start"] == 100


# --- campaigns ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cmf-evolve")
    cfg = _config(folder / "cmf-ev.toml")
    db = folder / "reference.db"
    result = run_campaign(cfg, db, progress=False, plots=False)
    assert result.complete
    return {"config": cfg, "db": db, "snapshot": snapshot(db), "folder": folder}


def test_finds_positive_delta_zeta3_formulas_it_was_not_given(reference):
    snap = reference["snapshot"]
    assert [u[1] for u in snap["units"]] == [0, 1, 2]
    with FormulaStore(reference["db"]) as store:
        rows = store.query()
    found = {r["equivalence_key"] for r in rows if r["constant"] == "zeta3" and r["delta"] > 0.05}
    assert len(found) >= 2  # distinct classes, confirmed to 80 digits
    assert all(r["digits_verified"] >= 80 for r in rows if r["constant"] == "zeta3")
    # Every stored PCF is the PCF of a trajectory the checkpoint names, and converts back to it.
    state = json.loads((reference["folder"] / "reference_runs" / "cmf-ev" / "evolution.json").read_text())
    met = {PCF(t[2], t[3]): t[:2] for t in decode_plain(state["extra"]["trajectories"])}
    cmf = known_cmf("zeta3")
    for r in rows:
        pcf = PCF(r["a"], r["b"])  # stored rows are padded with leading zeros
        assert trajectory_pcf(cmf, *met[pcf]).pcf == pcf


def test_kill_and_rerun_equals_an_uninterrupted_run(reference, tmp_path):
    cfg = tmp_path / "cmf-ev.toml"
    shutil.copy(reference["config"], cfg)
    db = tmp_path / "reference.db"
    _kill_then_rerun("committed", cfg, db)  # killed after generation 2 is stored, before its checkpoint
    assert snapshot(db) == reference["snapshot"]


def test_the_local_pool_stores_what_one_process_stores(reference, tmp_path):
    cfg = tmp_path / "cmf-ev.toml"
    shutil.copy(reference["config"], cfg)
    executor = LocalExecutor(2)
    try:
        result = run_campaign(cfg, tmp_path / "reference.db", executor=executor, progress=False, plots=False)
    finally:
        executor.close()
    assert result.complete
    assert snapshot(tmp_path / "reference.db") == reference["snapshot"]


def test_a_dask_cluster_stores_what_one_process_stores(reference, tmp_path):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    cfg = tmp_path / "cmf-ev.toml"
    shutil.copy(reference["config"], cfg)
    result = run_campaign(cfg, tmp_path / "reference.db", progress=False, plots=False, scheduler="local:2")
    assert result.complete
    assert snapshot(tmp_path / "reference.db") == reference["snapshot"]


def test_max_units_stops_after_that_many_generations_and_resumes(reference, tmp_path):
    # A unit is a generation (the initial population is unit 0): --max-units 1 stores one, leaves
    # the campaign open, and the next run goes on from the checkpoint; the last one spends the
    # budget and closes it, and the database ends as an uninterrupted run's.
    cfg = tmp_path / "cmf-ev.toml"
    shutil.copy(reference["config"], cfg)
    db = tmp_path / "reference.db"
    complete = []
    for units in ([0], [0, 1], [0, 1, 2]):
        complete.append(run_campaign(cfg, db, max_units=1, progress=False, plots=False).complete)
        assert [u[1] for u in snapshot(db)["units"]] == units
    assert complete == [False, False, True]
    assert snapshot(db) == reference["snapshot"]
    assert run_campaign(cfg, db, max_units=1, progress=False, plots=False).complete  # nothing left to do
