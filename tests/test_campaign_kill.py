"""kill -9 at every stage of a PCF campaign, then rerun: the database ends as an uninterrupted run's.

Each kill runs the campaign in a child process that patches the function of the stage it
targets to SIGKILL its own process there, so the kill lands in that stage every time (no timing).
To keep the file fast, the children start from copies of a database with some units already
done, which is itself a resume from a clean stop.
"""

import shutil
import signal
import sqlite3
import subprocess
import sys

import pytest

from discovery.campaign import load_config, run_campaign, unit_count
from discovery.store import pcf_key

from campaigns import write_campaign

def small_config(folder, name="small", degree_b=2, bound=2, unit_size=80):
    """A campaign file of a small PCF space (a few seconds on one core)."""
    return write_campaign(
        folder / f"{name}.toml",
        campaign={"name": name, "kind": "pcf", "seed": 1},
        space={"degree_a": 1, "degree_b": degree_b, "bound": bound},
        search={"strategy": "enumerate", "depth": 600, "metrics_depth": 1500, "sample": 700, "unit_size": unit_size},
        # mobius_bound 1 is too small for 4/pi, which a cluster representative's identification then
        # finds: the closing stage stores an identification with a constant.
        identify={"constants": ["pi", "e", "ln2", "phi", "sqrt2", "gompertz", "tan1", "e2"], "digits": 20,
                  "confirm_digits": 40, "representatives": 2, "mobius_bound": 1},
        execution={"workers": 1},
    )


def snapshot(db) -> dict:
    """Everything a campaign stores except row ids and timestamps, keyed by canonical keys."""
    conn = sqlite3.connect(db)
    try:
        def rows(sql):
            return sorted(tuple(r) for r in conn.execute(sql))

        return {
            "campaigns": rows("SELECT name, kind, config, config_hash, total_units, finished IS NOT NULL "
                              "FROM campaigns"),
            "units": rows("SELECT k.name, u.unit, u.candidates, u.converged FROM work_units u "
                          "JOIN campaigns k ON k.id=u.campaign_id"),
            "formulas": rows("SELECT f.canonical_key, f.kind, f.genome, f.unit, f.target, f.interval, f.ops, "
                             "f.max_error, f.expression, k.name FROM formulas f "
                             "LEFT JOIN campaigns k ON k.id=f.campaign_id"),
            "metrics": rows("SELECT f.canonical_key, m.limit_value, m.naive_delta, m.delta, m.gamma_prime, "
                            "m.eta_prime, m.eigen_log_ratio, m.complex_eigen, m.predicted_delta, m.beta, m.gamma, "
                            "m.eta, m.convergence_class, m.depth FROM metrics m JOIN formulas f ON f.id=m.formula_id"),
            "identifications": rows("SELECT f.canonical_key, i.constant, i.kind, i.basis, i.relation, "
                                    "i.closed_form, i.digits_verified, i.depth FROM identifications i "
                                    "JOIN formulas f ON f.id=i.formula_id"),
            "clusters": rows("SELECT k.name, c.label, c.plane, c.size, c.centroid, c.spread, c.constants, "
                             "(SELECT group_concat(canonical_key, ' ') FROM (SELECT f.canonical_key FROM "
                             "cluster_members cm JOIN formulas f ON f.id=cm.formula_id WHERE cm.cluster_id=c.id "
                             "ORDER BY f.canonical_key)) FROM clusters c JOIN campaigns k ON k.id=c.campaign_id"),
        }
    finally:
        conn.close()


# The child: patch one stage's function to kill this process there, then run the campaign.
CHILD = r"""
import os, signal, sys

import discovery.cluster, discovery.identify, discovery.plots
from discovery.campaign import run_campaign
from discovery.store import FormulaStore

stage, config, db = sys.argv[1:4]
state = {"formulas": 0, "clustered": False}


def die(*_):
    os.kill(os.getpid(), signal.SIGKILL)


def patch(owner, name, before=None, after=None):
    original = getattr(owner, name)

    def patched(*args, **kwargs):
        if before:
            before()
        result = original(*args, **kwargs)
        if after:
            after(result)
        return result

    setattr(owner, name, patched)


def fifth_formula():
    state["formulas"] += 1
    if state["formulas"] == 5:
        die()


def clustered(_):
    state["clustered"] = True


def representative_identified(hit):
    if state["clustered"] and hit is not None:
        die()


if stage == "unit":  # inside a unit's transaction, some of its formulas inserted
    patch(FormulaStore, "_insert_formula", before=fifth_formula)
elif stage == "clustering":  # clusters computed, nothing of them stored
    patch(discovery.cluster.DynamicsClusterer, "fit", after=die)
elif stage == "representatives":  # a representative just identified
    patch(discovery.cluster.DynamicsClusterer, "fit", after=clustered)
    patch(discovery.identify, "identify_pcf", after=representative_identified)
elif stage == "plots":  # one of the two plots written
    patch(discovery.plots, "cluster_scatter", after=die)
elif stage == "closing":  # inside the transaction of clusters, identifications and finished mark
    patch(FormulaStore, "_replace_clusters", after=die)
elif stage == "finished":  # right after that transaction commits
    patch(FormulaStore, "finish_campaign", after=die)
run_campaign(config, db, progress=False, plots=True)
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The config, an uninterrupted run's snapshot, and databases stopped cleanly partway."""
    folder = tmp_path_factory.mktemp("kill")
    cfg = small_config(folder)
    total = unit_count(load_config(cfg))
    assert total >= 6
    reference = folder / "reference.db"
    result = run_campaign(cfg, reference, progress=False, plots=False)
    assert result.complete and result.clusters > 1
    # With mobius_bound = 1 only a cluster representative's identification finds 4/pi.
    four_over_pi = [i for i in snapshot(reference)["identifications"] if i[0] == pcf_key([2, 1], [1, 0, 0])]
    assert [i[5] for i in four_over_pi] == ["4/pi"]
    half = folder / "half.db"
    run_campaign(cfg, half, max_units=total // 2, progress=False, plots=False)
    nearly = folder / "nearly.db"
    shutil.copy(half, nearly)
    run_campaign(cfg, nearly, max_units=total - 1 - total // 2, progress=False, plots=False)
    return {"config": cfg, "reference": snapshot(reference), "half": half, "nearly": nearly, "total": total}


def _kill_at(stage, start, runs, tmp_path):
    db = tmp_path / "killed.db"
    shutil.copy(start, db)
    child = subprocess.run([sys.executable, "-c", CHILD, stage, str(runs["config"]), str(db)],
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, f"the child was not killed at {stage!r}: {child.stderr}"
    return db


@pytest.mark.parametrize("stage", ["unit", "clustering", "representatives", "plots", "closing", "finished"])
def test_kill_at_every_stage_then_rerun_ends_as_an_uninterrupted_run(stage, runs, tmp_path):
    start = runs["half"] if stage == "unit" else runs["nearly"]
    before = snapshot(start)
    db = _kill_at(stage, start, runs, tmp_path)
    after = snapshot(db)
    finished = stage == "finished"
    assert after["campaigns"][0][-1] == finished
    if stage == "unit":
        # The unit in flight left nothing: no done mark, no formula.
        assert after == before
    else:
        assert len(after["units"]) == runs["total"]
        # Before the closing transaction commits, nothing of the closing stage is stored.
        assert (after["clusters"] == runs["reference"]["clusters"]) if finished else not after["clusters"]
    result = run_campaign(runs["config"], db, progress=False, plots=False)
    assert result.complete
    assert snapshot(db) == runs["reference"]
