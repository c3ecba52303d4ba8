"""Issue 25, round two: campaign files, catalogs and the run folder refuse hostile input in one line,
before any work, and user constants never give a wrong answer.

Whatever could hang or fill memory (a device or a FIFO as a file, a run that might start) runs as a
subprocess with a timeout and an address-space limit, so a regression fails here instead of
hanging the suite.
"""

import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from discovery import constants
from discovery.campaign import ConfigError, load_config
from discovery.campaign.config import run_folder
from discovery.campaign.executors import max_workers, parse_scheduler
from discovery.errors import InputError, StoreError
from discovery.constants import parse
from discovery.store import FormulaStore

ROOT = Path(__file__).resolve().parents[1]
MEMORY = 3 << 30

SMALL = """[campaign]
name = "{name}"
kind = "pcf"
{campaign}
[space]
degree_a = 1
degree_b = 1
bound = {bound}
[search]
{search}
[identify]
{identify}
[execution]
workers = 1
"""


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _cli(*args, cwd, timeout=120):
    """``python -m discovery ARGS`` under a memory limit and a timeout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "discovery", *map(str, args)], cwd=cwd, env=env, timeout=timeout,
                          capture_output=True, text=True, preexec_fn=_limit_memory)


def _one_error(result, status=2):
    lines = [line for line in result.stderr.splitlines() if line.startswith("discovery: error: ")]
    assert result.returncode == status, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def _campaign(tmp_path, name="c", bound=2, campaign="", search="", identify="", file="c.toml"):
    path = tmp_path / file
    path.write_text(SMALL.format(name=name, bound=bound, campaign=campaign, search=search, identify=identify))
    return path


# --- 2. a campaign name is one safe path component, and the run folder is built in one place ---------
@pytest.mark.parametrize("name", ["../../x", "/abs/x", "a/b", "..", ".hidden", "x\\0y", "x" * 5000, "", "a b"])
def test_unsafe_campaign_names_are_refused_on_load(tmp_path, name):
    path = tmp_path / "c.toml"
    path.write_text(SMALL.format(name="NAME", bound=2, campaign="", search="", identify="")
                    .replace('"NAME"', json.dumps(name)))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and "[campaign] name" in message and "\n" not in message
    assert len(message) < 400  # a 5,000-character name is shortened, not echoed


def test_run_folder_stays_inside_the_runs_folder(tmp_path):
    assert run_folder(tmp_path / "p.db", "ok-1.2_x") == tmp_path / "p_runs" / "ok-1.2_x"
    (tmp_path / "p_runs").mkdir()
    (tmp_path / "p_runs" / "evil").symlink_to(tmp_path.parent)
    with pytest.raises(ConfigError, match="leads out of"):
        run_folder(tmp_path / "p.db", "evil")
    with pytest.raises(ConfigError, match="names the run folder"):
        run_folder(tmp_path / "p.db", "../x")


def test_the_run_folder_path_is_built_in_one_place():
    builders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "discovery").rglob("*.py")
                if '_runs"' in p.read_text(encoding="utf-8")]
    assert builders == ["discovery/campaign/config.py"]


# --- 4. unbounded settings ----------------------------------------------------------------------------
@pytest.mark.parametrize("table, setting, fragment", [
    ("identify", "mobius_bound = 1000000", "mobius_bound is 1,000,000; at most 15"),
    ("identify", "mobius_bound = 12", "Möbius table of about"),
    ("search", "unit_size = 1000000000", "unit_size is 1,000,000,000; at most 200,000"),
    ("search", "metrics_depth = 100000000", "metrics_depth is 100,000,000; at most 1,000,000"),
    ("search", "unit_size = 200000\ndepth = 20000", "float steps per unit"),
    ("search", "sample = 1000000\nmetrics_depth = 1000000", "sample is 1,000,000; at most 20,000"),
    ("identify", "digits = 100000", "digits is 100,000; at most 5,000"),
    ("identify", "representatives = 1000000", "at most 100"),
    ("identify", "budget_seconds = 1e300", "at most 3600"),
    ("search", "triage = 'drop'", "triage_warmup"),
])
def test_numeric_settings_have_upper_bounds(tmp_path, table, setting, fragment):
    path = _campaign(tmp_path, bound=1_000_000 if "triage" in setting else 2, **{table: setting})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_local_workers_are_bounded_by_the_cores(tmp_path):
    with pytest.raises(InputError, match=f"from 1 to {max_workers()} worker processes"):
        parse_scheduler("local:1000")
    assert parse_scheduler(f"local:{max_workers()}")[1] == max_workers()
    path = _campaign(tmp_path)
    path.write_text(path.read_text().replace("workers = 1", "workers = 1000"))
    with pytest.raises(ConfigError, match="workers is 1,000; at most"):
        load_config(path)


@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "huge"])
def test_campaign_and_catalog_files_must_be_small_regular_files(tmp_path, kind):
    bad = {"device": Path("/dev/zero"), "fifo": tmp_path / "fifo", "folder": tmp_path / "dir",
           "huge": tmp_path / "huge.toml"}[kind]
    if kind == "fifo":
        os.mkfifo(bad)
    elif kind == "folder":
        bad.mkdir()
    elif kind == "huge":
        bad.write_text("# padding\n" * 200_000)
    campaign = _cli("campaign", "run", bad, "--db", tmp_path / "x.db", "--quiet", cwd=tmp_path, timeout=60)
    assert str(bad) in _one_error(campaign)
    catalog = _campaign(tmp_path, identify=f"catalog = {json.dumps(str(bad))}")
    via_campaign = _cli("campaign", "run", catalog, "--db", tmp_path / "x.db", "--quiet", cwd=tmp_path, timeout=60)
    assert "[identify] catalog" in _one_error(via_campaign)
    direct = _cli("identify", "1.5", "--catalog", bad, cwd=tmp_path, timeout=60)
    assert str(bad) in _one_error(direct)
    assert not (tmp_path / "x.db").exists()


# --- 5. user catalogs ---------------------------------------------------------------------------------
def _catalog(folder, value, sympy_form=None, name="myk"):
    path = folder / "cat.toml"
    extra = f"sympy = {json.dumps(sympy_form)}\n" if sympy_form else ""
    path.write_text(f'[[constant]]\nname = "{name}"\nvalue = {json.dumps(value)}\n{extra}')
    return path


def test_a_sympy_form_must_be_the_value(tmp_path):
    with pytest.raises(InputError, match="sympy 'pi' is 3.14159265358979, not the value 1.4142135623731"):
        constants.load_catalog(_catalog(tmp_path, "sqrt(2)", "pi"))


@pytest.mark.parametrize("name", ["I", "E", "S", "N", "pi", "oo", "gamma", "zoo", "exp", "lambda"])
def test_names_sympy_reads_otherwise_are_reserved(tmp_path, name):
    with pytest.raises(InputError, match=f"name '{name}' is reserved"):
        constants.load_catalog(_catalog(tmp_path, "sqrt(3)", name=name))


def _digest(config):
    code = "import sys; from discovery.campaign import load_config; print(load_config(sys.argv[1]).digest())"
    out = subprocess.run([sys.executable, "-c", code, str(config)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory, check=True)
    return out.stdout.strip()


def test_the_config_digest_holds_the_catalog_content_not_its_path(tmp_path):
    first, moved = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    moved.mkdir()
    _catalog(first, "exp(1)")
    _catalog(moved, "exp(1)")
    config = 'catalog = "cat.toml"\nconstants = ["myk"]'
    digest = _digest(_campaign(first, identify=config))
    assert _digest(_campaign(moved, identify=config)) == digest  # the same catalog elsewhere
    _catalog(first, "sqrt(3)")
    assert _digest(_campaign(first, identify=config)) != digest  # an edited catalog


def test_two_catalogs_defining_one_name_never_mix(tmp_path):
    """Campaign e gives myk = e, campaign r3 myk = √3, in one database: r3 meets the formulas of e
    (the same PCFs) but reports them as e's myk, never as its own, its families re-identify them
    with e's value, and ``query --constant myk`` asks which one."""
    db = tmp_path / "shared.db"
    keys = {}
    for name, value in (("e", "exp(1)"), ("r3", "sqrt(3)")):
        folder = tmp_path / name
        folder.mkdir()
        _catalog(folder, value)
        config = _campaign(folder, name=name, identify='catalog = "cat.toml"\nconstants = ["myk"]\nmobius_bound = 2')
        run = _cli("campaign", "run", config, "--db", db, "--quiet", cwd=folder, timeout=300)
        assert run.returncode == 0, run.stderr
        keys[name] = f"myk@{constants._value_digest(parse(value))}"
    with FormulaStore(db) as store:
        seen = store.query(campaign="r3", identified=True)
        of_e = [r for r in seen if "E" in r["closed_form"]]
        assert of_e and all(r["constant"].startswith(keys["e"]) for r in of_e)
        assert all("sqrt(3)" in r["closed_form"] for r in seen if r["constant"] == keys["r3"])
        assert any(keys["e"] in f["constants"] for f in store.families(campaign="r3"))
    ambiguous = _cli("query", "--db", db, "--constant", "myk", cwd=tmp_path)
    assert "2 different values" in _one_error(ambiguous)
    chosen = _cli("query", "--db", db, "--constant", keys["e"], "--format", "json", cwd=tmp_path)
    assert chosen.returncode == 0 and {r["constant"] for r in json.loads(chosen.stdout)} == {keys["e"]}


def test_query_accepts_a_user_constant_stored_in_the_database(tmp_path):
    db = tmp_path / "q.db"
    with FormulaStore(db) as store:
        cid = store.start_campaign("c", "pcf", {}, "h", 1)
        store.write_unit(cid, 0, 1, 1, [{"a": [1, 0], "b": [1, 0], "metrics": {}, "identification": {
            "constant": "myk@0123456789", "kind": "mobius", "basis": ["1", "myk"], "relation": [1, 0, 0, 1],
            "closed_form": "myk", "digits_verified": 40.0, "depth": 10}}])
    result = _cli("query", "--db", db, "--constant", "myk", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [r["constant"] for r in json.loads(result.stdout)] == ["myk@0123456789"]
    unknown = _cli("query", "--db", db, "--constant", "nosuch", cwd=tmp_path)
    assert "unknown constant 'nosuch'" in _one_error(unknown)


# --- 6. internal errors -------------------------------------------------------------------------------
def test_a_huge_space_starts_at_once(tmp_path):
    config = _campaign(tmp_path, name="huge", bound=1_000_000)
    started = time.monotonic()
    run = _cli("campaign", "run", config, "--db", tmp_path / "h.db", "--max-units", 1, "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started < 60
    status = _cli("campaign", "status", "--db", tmp_path / "h.db", cwd=tmp_path)
    assert "units 1/400000800000" in status.stdout


@pytest.mark.parametrize("what", ["campaign", "catalog"])
@pytest.mark.parametrize("depth", [20, 3000])
def test_deep_nesting_is_refused_in_one_line(tmp_path, what, depth):
    nested = "[" * depth + "]" * depth
    if what == "campaign":
        path = _campaign(tmp_path, search=f"objectives = {nested}")
    else:
        path = tmp_path / "cat.toml"
        path.write_text(f'[[constant]]\nname = "deep"\nvalue = "1"\naliases = {nested}\n')
        path = _campaign(tmp_path, identify='catalog = "cat.toml"')
    with pytest.raises(ConfigError, match="nested deeper than 8 levels") as err:
        load_config(path)
    assert "\n" not in str(err.value)


# --- 9. failures name the file, and an unreachable scheduler fails fast -------------------------------
def test_an_unreachable_scheduler_fails_fast_with_status_1_and_no_campaign(tmp_path):
    config = _campaign(tmp_path)
    started = time.monotonic()
    run = _cli("campaign", "run", config, "--db", tmp_path / "s.db", "--scheduler", "tcp://127.0.0.1:1", "--quiet",
               cwd=tmp_path)
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in _one_error(run, status=1)
    assert time.monotonic() - started < 20
    if (tmp_path / "s.db").exists():
        with FormulaStore(tmp_path / "s.db") as store:
            assert store.campaigns() == []


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(SMALL.format(name="c", bound=2, campaign="description = 'caf\xe9'", search="", identify="")
                     .encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 text") as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_a_bad_stored_schema_version_names_the_file(tmp_path):
    db = tmp_path / "v.db"
    FormulaStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='five' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="stored schema version 'five' is not a version number") as err:
        FormulaStore(db)
    assert str(db) in str(err.value)


# --- 8. the description ---------------------------------------------------------------------------------
def test_the_description_is_stored_and_shown(tmp_path):
    config = _campaign(tmp_path, name="described", campaign='description = "degree one, a quick look"')
    run = _cli("campaign", "run", config, "--db", tmp_path / "d.db", "--max-units", 1, "--quiet", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    with FormulaStore(tmp_path / "d.db") as store:
        assert store.status(store.campaign("described")["id"])["description"] == "degree one, a quick look"
    status = _cli("campaign", "status", "--db", tmp_path / "d.db", cwd=tmp_path)
    assert "degree one, a quick look" in status.stdout
    assert load_config(config).digest() == load_config(_campaign(tmp_path, name="described")).digest()
