"""The formula database under faults: each gives a one-line StoreError and leaves the file as it was."""

import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import time

import pytest

import discovery.store
from discovery.campaign import load_config, run_campaign, unit_count
from discovery.cli import main
from discovery.errors import StoreError
from discovery.store import MIGRATIONS, SCHEMA_VERSION, FormulaStore, json_record
from test_campaign_kill import small_config, snapshot


def _item(a, b, ident=None):
    return {"a": a, "b": b, "metrics": {"limit_value": 1.0, "delta": 0.1, "convergence_class": "exponential",
                                        "complex_eigen": 0, "depth": 2000}, "identification": ident}


EXACT = {"constant": None, "kind": "rational", "basis": ["1", "L"], "relation": [3, -1], "closed_form": "3",
         "digits_verified": math.inf, "depth": 3}


def _items(count, start=0):
    return [_item([i, 1], [1, i % 7, 0]) for i in range(start + 1, start + 1 + count)]


def _database(path, units=1):
    """A formula database with ``units`` done units of a campaign 'c'; returns its campaign id."""
    with FormulaStore(path) as store:
        cid = store.start_campaign("c", "pcf", {}, "h", total_units=units + 1)
        for u in range(units):
            store.write_unit(cid, u, 10, 10, _items(10, 10 * u))
    return cid


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def _dump(path):
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _strict_json(text):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


# --- files that are not formula databases ---------------------------------------------------------
def _other_sqlite(path):
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("kind, fragment", [
    ("text", "is not an SQLite database"),
    ("sqlite header, garbage after", "is not an SQLite database"),
    ("another program's database", "not a formula database (tables notes)"),
])
def test_a_file_that_is_not_a_formula_database_is_refused_and_left_as_is(tmp_path, capsys, kind, fragment):
    path = tmp_path / "notes.db"
    if kind == "text":
        path.write_text("shopping list: milk, eggs\n" * 50)
    elif kind == "sqlite header, garbage after":
        path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    else:
        _other_sqlite(path)
    before, files = path.read_bytes(), _files(tmp_path)
    with pytest.raises(StoreError, match=re.escape(fragment)) as err:
        FormulaStore(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    for argv in (["query", "--db", str(path), "--format", "json"], ["campaign", "status", "--db", str(path)]):
        assert main(argv) != 0
        out = capsys.readouterr()
        assert out.out == "" and out.err.startswith("discovery: error: ") and fragment in out.err
        assert out.err.count("\n") == 1 and "Traceback" not in out.err
    assert path.read_bytes() == before and _files(tmp_path) == files


def test_a_folder_or_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match="is a folder, not a database file"):
        FormulaStore(tmp_path)
    with pytest.raises(StoreError, match="cannot open or create .*check that its folder exists"):
        FormulaStore(tmp_path / "missing" / "f.db")


def test_a_newer_schema_is_refused_and_left_as_is(tmp_path):
    path = tmp_path / "new.db"
    _database(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    before, files = path.read_bytes(), _files(tmp_path)
    with pytest.raises(StoreError, match=rf"created by a newer version of discovery \(schema {SCHEMA_VERSION + 1}, "
                                         rf"this version reads up to {SCHEMA_VERSION}\); upgrade discovery"):
        FormulaStore(path)
    assert path.read_bytes() == before and _files(tmp_path) == files


# --- read-only files and folders ------------------------------------------------------------------
def _assert_read_only(store, path, before):
    assert store.readonly
    assert len(store.query()) == 10 and store.status(1)["units_done"] == 1
    writes = [
        lambda: store.write_unit(1, 1, 1, 1, [_item([5, 1], [1, 0, 0])]),
        lambda: store.start_campaign("d", "pcf", {}, "h", total_units=1),
        lambda: store.finish_campaign(1),
        lambda: store.add_identification(1, EXACT),
    ]
    for write in writes:
        with pytest.raises(StoreError, match=f"{path} is read-only .*queries work, but .* needs write access"):
            write()
    assert _dump(path) == before


def test_read_only_open_serves_queries_and_refuses_writes(tmp_path):
    path = tmp_path / "f.db"
    _database(path)
    before = _dump(path)
    with FormulaStore(path, readonly=True) as store:
        _assert_read_only(store, path, before)
    with pytest.raises(StoreError, match="no database at .*missing.db"):
        FormulaStore(tmp_path / "missing.db", readonly=True)


@pytest.mark.parametrize("unwritable, why", [("file", "the file is not writable"),
                                              ("folder", "its folder is not writable")])
def test_a_read_only_file_or_folder_is_opened_read_only(tmp_path, monkeypatch, unwritable, why):
    # Tests run as root in CI, where chmod does not stop writes: report the file or folder as
    # read-only the way os.access would for another user.
    path = tmp_path / "f.db"
    _database(path)
    before, data, files = _dump(path), path.read_bytes(), _files(tmp_path)
    denied = str(path if unwritable == "file" else tmp_path)
    real_access = os.access
    monkeypatch.setattr(discovery.store.os, "access",
                        lambda p, mode: False if str(p) == denied and mode & os.W_OK else real_access(p, mode))
    with FormulaStore(path) as store:
        _assert_read_only(store, path, before)
        assert why in str(pytest.raises(StoreError, store.finish_campaign, 1).value)
        if unwritable == "folder":
            # WAL would need -wal and -shm files in the folder: the reader must not create any.
            assert _files(tmp_path) == files
    assert path.read_bytes() == data


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only files anyway")
def test_read_only_file_and_folder_with_permissions(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "f.db"
    _database(path)
    before = _dump(path)
    try:
        path.chmod(0o444)
        with FormulaStore(path) as store:
            _assert_read_only(store, path, before)
        folder.chmod(0o555)
        with FormulaStore(path) as store:
            _assert_read_only(store, path, before)
    finally:
        folder.chmod(0o755)
        path.chmod(0o644)


def test_an_old_schema_cannot_be_upgraded_read_only(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError,
                       match=f"has schema 1 and needs an upgrade to schema {SCHEMA_VERSION}, but it is read-only"):
        FormulaStore(path, readonly=True)


# --- locked by another writer ---------------------------------------------------------------------
@pytest.mark.parametrize("lock", ["IMMEDIATE", "EXCLUSIVE"])
def test_a_write_lock_held_longer_than_the_timeout(tmp_path, lock):
    path = tmp_path / "f.db"
    cid = _database(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute(f"BEGIN {lock}")
    other.execute("INSERT INTO meta VALUES ('other', 'writer')")
    try:
        with FormulaStore(path, timeout=0.2) as store:
            assert len(store.query()) == 10  # readers are not blocked (WAL)
            start = time.monotonic()
            with pytest.raises(StoreError, match=rf"{path} is locked by another process for more than 0.2 s "
                                                 r"\(storing work unit 1\); retry when it is done"):
                store.write_unit(cid, 1, 5, 5, _items(5, 100))
            assert time.monotonic() - start >= 0.2
            other.execute("ROLLBACK")
            assert len(store.query()) == 10 and store.done_units(cid) == {0}
            store.write_unit(cid, 1, 5, 5, _items(5, 100))
            assert len(store.query()) == 15
    finally:
        other.close()


def test_an_upgrade_waits_for_the_lock_then_gives_up_leaving_the_file(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match=r"locked by another process for more than 0.1 s \(upgrading it"):
            FormulaStore(path, timeout=0.1)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert sqlite3.connect(path).execute("SELECT value FROM meta").fetchone() == ("1",)


# --- a full disk ----------------------------------------------------------------------------------
def test_a_full_disk_rolls_the_write_back(tmp_path):
    path = tmp_path / "f.db"
    cid = _database(path)
    with FormulaStore(path) as store:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    before = _dump(path)
    with FormulaStore(path, max_pages=pages) as store:
        with pytest.raises(StoreError, match=rf"{path}: database or disk is full \(storing work unit 1\); nothing "
                                             r"of it was stored; free some space and rerun"):
            store.write_unit(cid, 1, 300, 300, _items(300, 100))
        assert len(store.query()) == 10 and store.done_units(cid) == {0}
        with pytest.raises(StoreError, match="database or disk is full"):
            store.write_programs(None, "exp", (0, 1), [{"genome": {"x": "y" * 20000}, "ops": 1, "max_error": 1e-3,
                                                        "expression": "1 + x"}])
    assert _dump(path) == before
    with FormulaStore(path) as store:  # room again
        store.write_unit(cid, 1, 300, 300, _items(300, 100))
        assert store.done_units(cid) == {0, 1}


def _capped(monkeypatch, pages):
    """Make every FormulaStore the campaign opens stop at ``pages`` pages, as a full disk would."""

    class Capped(FormulaStore):
        def __init__(self, path, **kwargs):
            super().__init__(path, max_pages=pages, **kwargs)

    monkeypatch.setattr(discovery.store, "FormulaStore", Capped)


def test_a_campaign_on_a_full_disk_stops_after_its_last_unit_and_resumes(tmp_path, monkeypatch, capsys):
    cfg = small_config(tmp_path, unit_size=120)
    total = unit_count(load_config(cfg))
    reference = tmp_path / "reference.db"
    run_campaign(cfg, reference, progress=False, plots=False)
    two_units = tmp_path / "two.db"
    run_campaign(cfg, two_units, max_units=2, progress=False, plots=False)
    with FormulaStore(two_units) as store:
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]

    db = tmp_path / "full.db"
    with monkeypatch.context() as patch:
        _capped(patch, pages)
        assert main(["campaign", "run", str(cfg), "--db", str(db), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"discovery: error: {db}: database or disk is full (storing work unit ")
    assert err.count("\n") == 1 and "Traceback" not in err
    stopped = snapshot(db)
    done = {u[1] for u in stopped["units"]}
    assert 2 <= len(done) < total and done == set(range(len(done)))
    assert {f[3] for f in stopped["formulas"]} <= done  # no formula of a unit not marked done
    assert not stopped["campaigns"][0][-1] and not stopped["clusters"]

    result = run_campaign(cfg, db, progress=False, plots=False)  # room again
    assert result.complete
    assert snapshot(db) == snapshot(reference)


# --- two campaigns at once ------------------------------------------------------------------------
def test_two_campaigns_writing_one_database_at_once(tmp_path):
    # Overlapping spaces: b of degree <= 1 with coefficients in [-2, 2] is in both.
    first = small_config(tmp_path, name="first", degree_b=2, bound=2, unit_size=30)
    second = small_config(tmp_path, name="second", degree_b=1, bound=3, unit_size=30)
    db = tmp_path / "shared.db"
    procs = [subprocess.Popen([sys.executable, "-m", "discovery", "campaign", "run", str(cfg), "--db", str(db),
                               "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for cfg in (first, second)]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "complete" in out and "locked" not in err

    sequential = tmp_path / "sequential.db"
    for cfg in (first, second):
        run_campaign(cfg, sequential, progress=False, plots=False)
    shared, alone = snapshot(db), snapshot(sequential)
    assert [c[:5] + (True,) for c in alone["campaigns"]] == shared["campaigns"]
    assert shared["units"] == alone["units"]
    keys = [f[0] for f in shared["formulas"]]
    assert len(keys) == len(set(keys)) and set(keys) == {f[0] for f in alone["formulas"]}
    assert shared["metrics"] == alone["metrics"]
    with FormulaStore(db) as store:
        assert all(store.status(c["id"])["clusters"] > 0 for c in store.campaigns())


# --- valid JSON -----------------------------------------------------------------------------------
def test_json_output_is_strict_json(tmp_path, capsys):
    path = tmp_path / "f.db"
    with FormulaStore(path) as store:
        cid = store.start_campaign("c", "pcf", {}, "h", total_units=1)
        store.write_unit(cid, 0, 2, 2, [_item([3, 2], [-2, -3, 0], ident=EXACT), _item([2, 1], [1, 0, 0])])
        assert store.query(identified=True)[0]["digits_verified"] == math.inf
        assert store.export_json(tmp_path / "out.json") == 2
    records = _strict_json((tmp_path / "out.json").read_text())
    exact = next(r for r in records if r["closed_form"] == "3")
    assert exact["digits_verified"] is None and exact["relation"] == [3, -1]
    assert main(["query", "--db", str(path), "--format", "json"]) == 0
    # The query adds readable polynomials and gives an identified row the exact value of its closed form.
    queried = _strict_json(capsys.readouterr().out)
    assert [(q["a_text"], q["b_text"]) for q in queried] == [("3n + 2", "-2n^2 - 3n"), ("2n + 1", "n^2")]
    assert queried[0]["limit"] == 3
    assert [{k: v for k, v in q.items() if k not in ("a_text", "b_text", "limit")} for q in queried] == \
        [{k: v for k, v in r.items() if k != "limit"} for r in records]


def test_json_record_replaces_every_non_finite_float():
    record = {"a": math.inf, "b": [1.5, -math.inf, [math.nan]], "c": {"d": math.nan}, "e": "inf", "f": 2}
    safe = json_record(record)
    assert safe == {"a": None, "b": [1.5, None, [None]], "c": {"d": None}, "e": "inf", "f": 2}
    assert _strict_json(json.dumps(safe, allow_nan=False)) == safe
