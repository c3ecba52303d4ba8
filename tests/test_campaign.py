import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy

from discovery.campaign import ConfigError, load_config, run_campaign, unit_count
from discovery.errors import StoreError
from discovery.store import FormulaStore
from campaigns import campaign_toml, write_campaign

CONSTANTS = ["pi", "e", "ln2", "phi", "sqrt2", "gompertz", "tan1", "e2"]


def _config(tmp_path, name="c.toml", degree_b=2, bound=2, metrics_depth=1500, sample=700,
            unit_size=200, workers=1):
    return write_campaign(
        tmp_path / name,
        campaign={"name": "small", "kind": "pcf", "seed": 1},
        space={"degree_a": 1, "degree_b": degree_b, "bound": bound},
        search={"strategy": "enumerate", "depth": 600, "metrics_depth": metrics_depth, "sample": sample,
                "unit_size": unit_size},
        identify={"constants": CONSTANTS, "digits": 20, "confirm_digits": 40, "representatives": 1},
        execution={"workers": workers},
    )


def _results(db):
    with FormulaStore(db) as store:
        return sorted(
            (tuple(r["a"]), tuple(r["b"]), r["constant"], r["closed_form"],
             None if r["digits_verified"] is None else round(r["digits_verified"], 6), r["cluster"],
             None if r["delta"] is None else round(r["delta"], 9))
            for r in store.query()
        )


def test_small_campaign_finds_known_formulas(tmp_path):
    db = tmp_path / "d.db"
    result = run_campaign(_config(tmp_path, bound=3, unit_size=1000, workers=2), db, progress=False)
    assert result.complete and result.clusters > 0 and len(result.plots) == 2
    with FormulaStore(db) as store:
        pi = store.query(constant="pi")
        forms = {(tuple(r["a"]), tuple(r["b"])): r["closed_form"] for r in pi}
        assert sympy.simplify(sympy.sympify(forms[(2, 1), (1, 0, 0)]) - 4 / sympy.pi) == 0
        assert all(r["digits_verified"] >= 40 for r in pi)
        e = store.query(constant="e")
        assert e and all(sympy.E in sympy.sympify(r["closed_form"]).atoms() for r in e)
        assert store.query(constant="ln2")
        assert store.status(result.campaign_id)["finished"]
    # Running it again changes nothing.
    before = _results(db)
    again = run_campaign(_config(tmp_path, bound=3, unit_size=1000, workers=2), db, progress=False, plots=False)
    assert again.complete and _results(db) == before


def test_killed_campaign_resumes_to_the_same_results(tmp_path):
    cfg = _config(tmp_path, metrics_depth=4000, sample=2000, unit_size=40)
    total = unit_count(load_config(cfg))
    reference = tmp_path / "reference.db"
    run_campaign(cfg, reference, progress=False, plots=False)

    db = tmp_path / "killed.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "discovery", "campaign", "run", str(cfg), "--db", str(db), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    done = 0
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with FormulaStore(db) as store:
                    done = store.conn.execute("SELECT COUNT(*) FROM work_units").fetchone()[0]
            except (StoreError, sqlite3.Error):  # the writer has not created the tables yet
                done = 0
        if done >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 3 <= done < total, "the campaign must be killed mid-run"
    result = run_campaign(cfg, db, progress=False, plots=False)
    assert result.complete
    assert _results(db) == _results(reference)


def test_query_from_another_process_while_writing(tmp_path):
    import json

    cfg = _config(tmp_path, metrics_depth=3000, sample=1500, unit_size=40)
    db = tmp_path / "busy.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "discovery", "campaign", "run", str(cfg), "--db", str(db), "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    seen = set()
    try:
        while proc.poll() is None:
            if db.exists():
                # Once the file exists every read must succeed: WAL readers never wait for the writer.
                out = subprocess.run(
                    [sys.executable, "-m", "discovery", "query", "--db", str(db), "--format", "json"],
                    capture_output=True, text=True,
                )
                assert out.returncode == 0, out.stderr
                seen.add(len(json.loads(out.stdout)))
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    assert len(seen) >= 2  # the reader saw the table grow


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[campaign]\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n", "[campaign] name is missing"),
        ("[campaign]\nname='x'\nkind='pcf'\n[spcae]\n", "unknown table [spcae] (did you mean [space]?)"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbund=2\n",
         "unknown key 'bund' in [space] (did you mean 'bound'?)"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound='5'\n",
         "[space] bound must be a positive integer, got '5'"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=0\n",
         "[space] bound must be a positive integer, got 0"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\nbound=2\n", "[space] degree_b missing"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\na=[[1,0]]\nb=[[1,1]]\n", "range [1, 0] is empty"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\na=[[1,2]]\nb=[[1,1]]\nbound=3\n", "both a box"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n[search]\nstrategy='magic'\n",
         "[search] strategy must be one of 'enumerate', 'mitm'"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n[search]\nsample=3000\n",
         "sample (3000) must be below metrics_depth (2000)"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n[identify]\ndigits=30\nconfirm_digits=40\n",
         "confirm_digits (40) must be at least twice digits (30)"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n[identify]\nconstants=['pie']\n",
         "unknown constant 'pie'"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n[execution]\nworkers=0\n",
         "[execution] workers must be a positive integer, got 0"),
        ("[campaign]\nname='x'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n[execution]\nscheduler='tcp:x'\n",
         "[execution] scheduler: scheduler 'tcp:x': expected a Dask address"),
        ("[campaign]\nname='x'\nkind='potato'\n", "[campaign] kind must be one of 'pcf', 'program'"),
        ("[campaign\nname='x'\n", "not valid TOML"),
    ],
)
def test_malformed_configs_are_named(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="no such campaign file"):
        load_config(tmp_path / "nope.toml")


def test_shipped_campaign_files_load():
    root = Path(__file__).resolve().parents[1] / "data" / "campaigns"
    names = {p.stem for p in root.glob("*.toml")}
    assert {"quickstart", "paper-2024", "zeta3-apery"} <= names
    for path in root.glob("*.toml"):
        config = load_config(path)
        # As its strategy registers them: an evolve campaign on a time budget has no set number (0).
        evolving = config.search.get("strategy") == "evolve" or config.search.get("mode") == "evolve"
        timed = evolving and config.kind == "pcf" and not config.search["generations"]
        assert unit_count(config) >= (0 if timed else 1)
    paper = load_config(root / "paper-2024.toml")
    assert (paper.space["degree_a"], paper.space["degree_b"], paper.space["bound"]) == (2, 2, 5)


PROGRAM = campaign_toml(
    campaign={"name": "exp-short", "kind": "program", "seed": 1},
    target={"name": "exp", "interval": [0, 0.5], "max_ops": 4},
    search={"generations": 3, "population": 20},
    execution={"workers": 1},
)


def test_program_campaign_stores_its_pareto_front(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text(PROGRAM)
    db = tmp_path / "p.db"
    result = run_campaign(cfg, db, progress=False)
    assert result.complete and result.kind == "program" and result.formulas >= 3
    assert (tmp_path / "p_runs" / "exp-short" / "evolution.json").exists()
    with FormulaStore(db) as store:
        records = store.query(kind="program", target="exp")
    assert {"id", "kind", "target", "interval", "ops", "max_error", "bound", "infinities",
            "expression"} <= set(records[0])
    # The proven bound is never below the scanned maximum, and close to it on this smooth target.
    assert all(r["max_error"] <= r["bound"] <= 1.05 * r["max_error"] for r in records if r["max_error"])
    assert all(r["infinities"] is False for r in records)
    errors = [r["max_error"] for r in sorted(records, key=lambda r: r["ops"])]
    # A Pareto front on the training grid; scanned errors may differ in the last digits.
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in zip(errors, errors[1:]))
    assert errors[-1] < 0.01
    x = sympy.Symbol("x")
    for r in records:
        value = float(sympy.sympify(r["expression"]).subs(x, 0.25))
        assert abs(value - 2.718281828459045**0.25) <= 1.0001 * r["max_error"] * 2.718281828459045**0.25
    again = run_campaign(cfg, db, progress=False)
    assert again.formulas == result.formulas


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[campaign]\nname='p'\nkind='program'\n[target]\ninterval=[0,1]\n", "[target] name is missing"),
        ("[campaign]\nname='p'\nkind='program'\n[target]\nname='exp'\ninterval=[1,0]\n", "interval [1, 0] is empty"),
        ("[campaign]\nname='p'\nkind='program'\n[target]\nname='exp'\ninterval=[0,1]\nops=['pow']\n",
         "unknown operation 'pow'"),
        ("[campaign]\nname='p'\nkind='program'\n[target]\nname='exp(y)'\ninterval=[0,1]\n", "unknown name 'y'"),
        ("[campaign]\nname='p'\nkind='program'\n[target]\nname='exp'\ninterval=[0,1]\n[search]\nminutes=0\n",
         "[search] minutes must be a positive number"),
        ("[campaign]\nname='p'\nkind='program'\n[space]\nbound=2\n", "[space] belongs to kind = 'pcf'"),
        ("[campaign]\nname='p'\nkind='pcf'\n[target]\nname='exp'\n", "[target] belongs to kind = 'program'"),
    ],
)
def test_malformed_program_configs(tmp_path, text, fragment):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


# --- structure: one strategy table, records round-trip (imports: test_layers.py) --------------------
def test_every_strategy_a_config_accepts_is_registered():
    from discovery.campaign.config import PCF_STRATEGIES
    from discovery.campaign.runner import STRATEGIES
    from discovery.campaign.strategy import Strategy

    assert set(STRATEGIES) == {("pcf", s) for s in PCF_STRATEGIES} | {("program", "evolve")}
    assert all(isinstance(s, Strategy) for s in STRATEGIES.values())


def test_records_round_trip_through_their_json():
    from discovery.records import (FamilyMemberRecord, FamilyRecord, IdentificationRecord, PcfRecord,
                                   ProgramRecord, UnitResult)

    ident = IdentificationRecord("pi", "mobius", ("1", "pi", "L", "pi*L"), (4, 0, 0, -1), "4/pi", 60.0, 120)
    pcf = PcfRecord(3, [2, 1], [1, 0, 0], {"delta": -0.2}, ident)
    unit = UnitResult(10, 4, 4, 0, (pcf,), unit=7)
    assert UnitResult.from_row(unit.to_json()) == unit
    assert list(unit.to_json()) == ["unit", "candidates", "converged", "measured", "dropped", "pcfs"]
    assert list(pcf.to_json()) == ["row", "a", "b", "metrics", "identification"]
    member = FamilyMemberRecord(1, [3, 3], [-2, -3, 0], True, 5, ident, {"a": [3, 3], "b": [-2, -3, 0]}, None)
    family = FamilyRecord(["pi"], {"a": [3, 2], "b": [-2, 0, 0]}, {"a": [0, 1], "b": [0, -1, 0]}, None, False, {},
                          (member,))
    assert FamilyRecord.from_row(family.to_json()) == family
    for row in ({"genome": {}, "ops": 3, "max_error": 1e-3, "bound": None, "infinities": False, "expression": "x"},
                {"genome": {}, "ops": 3, "max_error": 1e-3, "bound": 1.0, "infinities": False, "expression": "x",
                 "max_ulp": None}):
        assert ProgramRecord.from_row(row).to_json() == row
