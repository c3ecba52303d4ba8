import json
import math
import sqlite3

import pytest

from discovery.errors import StoreError
from discovery.store import MIGRATIONS, SCHEMA_VERSION, FormulaStore, pcf_key


def _item(a, b, delta=0.1, ident=None):
    return {"a": a, "b": b, "metrics": {"limit_value": 1.0, "delta": delta, "convergence_class": "exponential",
                                        "complex_eigen": 0, "depth": 2000}, "identification": ident}


PI = {"constant": "pi", "kind": "mobius", "basis": ["1", "pi", "L", "pi*L"], "relation": [4, 0, 0, -1],
      "closed_form": "4/pi", "digits_verified": 120.0, "depth": 172}


def test_write_query_and_dedup(tmp_path):
    with FormulaStore(tmp_path / "f.db") as store:
        cid = store.start_campaign("c", "pcf", {"x": 1}, "h", total_units=2)
        store.write_unit(cid, 0, 10, 2, [_item([2, 1], [1, 0, 0], -0.2, PI), _item([1, 3], [-1, 0], 0.003)])
        # The same PCF scaled by -1 (same canonical form) is not stored twice.
        store.write_unit(cid, 1, 10, 1, [_item([-2, -1], [1, 0, 0], -0.2)])
        assert store.done_units(cid) == {0, 1}
        records = store.query()
        assert len(records) == 2
        pi = store.query(constant="π")
        assert len(pi) == 1 and pi[0]["closed_form"] == "4/pi" and pi[0]["a"] == [2, 1]
        assert set(pi[0]) >= {"id", "kind", "a", "b", "limit", "constant", "closed_form", "relation",
                              "digits_verified", "delta", "cluster"}
        assert store.query(min_digits=121) == []
        assert [r["a"] for r in store.query(delta=(0, 1))] == [[1, 3]]
        assert len(store.query(identified=False)) == 1
        store.write_clusters(cid, [{"label": 0, "plane": ("delta", "eta_prime"), "size": 1, "centroid": {},
                                    "spread": {}, "constants": ["pi"], "members": [pi[0]["id"]]}])
        assert [r["cluster"] for r in store.query(cluster=0)] == [0]
        assert store.status(cid)["identified"] == {"pi": 1}
        assert store.export_json(tmp_path / "out.json", constant="pi") == 1
        assert json.loads((tmp_path / "out.json").read_text())[0]["closed_form"] == "4/pi"
        assert store.export_csv(tmp_path / "out.csv") == 2
        assert (tmp_path / "out.csv").read_text().splitlines()[0].startswith("id,kind,a,b")
        with pytest.raises(ValueError, match="'nope'"):
            store.query(kind="nope")
        with pytest.raises(ValueError, match="empty"):
            store.query(delta=(1, 0))
        with pytest.raises(ValueError, match="different configuration"):
            store.start_campaign("c", "pcf", {"x": 2}, "other", total_units=2)


def test_a_failed_unit_writes_nothing(tmp_path):
    with FormulaStore(tmp_path / "f.db") as store:
        cid = store.start_campaign("c", "pcf", {}, "h", total_units=1)
        bad = [_item([2, 1], [1, 0, 0]), {"a": [1], "b": [1]}]  # second record lacks metrics
        with pytest.raises(KeyError):
            store.write_unit(cid, 0, 2, 2, bad)
        assert store.query() == [] and store.done_units(cid) == set()


def test_old_schema_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO formulas(kind, canonical_key, genome, created) VALUES ('pcf', ?, ?, 0)",
                 (pcf_key([2, 1], [1, 0, 0]), json.dumps({"a": [2, 1], "b": [1, 0, 0]})))
    conn.commit()
    conn.close()
    with FormulaStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
        columns = {r[1] for r in store.conn.execute("PRAGMA table_info(formulas)")}
        assert {"target", "interval", "ops", "max_error", "expression"} <= columns
        assert [r["a"] for r in store.query()] == [[2, 1]]


def test_schema_2_membership_is_migrated(tmp_path):
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        conn.executescript(script)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    conn.execute("INSERT INTO campaigns(name, kind, config, config_hash, total_units, created) "
                 "VALUES ('old', 'pcf', '{}', 'h', 1, 0)")
    conn.execute("INSERT INTO formulas(kind, canonical_key, genome, campaign_id, unit, created) "
                 "VALUES ('pcf', ?, ?, 1, 0, 0)",
                 (pcf_key([2, 1], [1, 0, 0]), json.dumps({"a": [2, 1], "b": [1, 0, 0]})))
    conn.commit()
    conn.close()
    with FormulaStore(path) as store:
        assert [r["a"] for r in store.query(campaign="old")] == [[2, 1]]
        assert store.status(1)["formulas"] == 1


def test_overlapping_campaigns_are_each_complete(tmp_path):
    with FormulaStore(tmp_path / "f.db") as store:
        first = store.start_campaign("first", "pcf", {}, "h1", total_units=1)
        second = store.start_campaign("second", "pcf", {}, "h2", total_units=1)
        store.write_unit(first, 0, 2, 2, [_item([2, 1], [1, 0, 0]), _item([3, 1], [1, 0, 0])])
        store.write_unit(second, 0, 2, 2, [_item([3, 1], [1, 0, 0]), _item([4, 1], [1, 0, 0])])
        assert sorted(r["a"] for r in store.query(campaign="first")) == [[2, 1], [3, 1]]
        assert sorted(r["a"] for r in store.query(campaign="second")) == [[3, 1], [4, 1]]
        assert [r["campaign"] for r in store.query(campaign="second")] == ["second", "second"]
        assert store.status(second)["formulas"] == 2
        assert len(store.query()) == 3
        assert len(store.metric_table(second)[0]) == 2


def test_schema_4_programs_get_bound_and_infinities(tmp_path):
    path = tmp_path / "v4.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        conn.executescript(script)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '4')")
    conn.execute("INSERT INTO formulas(kind, canonical_key, genome, created, target, interval, ops, max_error, "
                 "expression) VALUES ('program', 'program:old', '{}', 0, 'exp', '[0.0, 1.0]', 2, 1e-3, '1 + x')")
    conn.commit()
    conn.close()
    with FormulaStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        [old] = store.query(kind="program")
        assert old["max_error"] == 1e-3 and old["bound"] is None and old["infinities"] is None
        genome = {"consts": [1.0], "instructions": [["add", [0, 1]]], "output": 2}
        store.write_programs(None, "exp", (0.0, 1.0), [
            {"genome": genome, "ops": 1, "max_error": 0.5, "bound": 0.51, "infinities": False, "expression": "x + 1"},
            {"genome": {**genome, "consts": [2.0]}, "ops": 1, "max_error": 0.9, "bound": math.inf,
             "infinities": True, "expression": "x + 2"},
        ])
        rows = {r["expression"]: r for r in store.query(kind="program")}
        assert (rows["x + 1"]["bound"], rows["x + 1"]["infinities"]) == (0.51, False)
        assert (rows["x + 2"]["bound"], rows["x + 2"]["infinities"]) == (math.inf, True)


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    FormulaStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema 99"):
        FormulaStore(path)


def test_infinite_digits_round_trip(tmp_path):
    with FormulaStore(tmp_path / "f.db") as store:
        cid = store.start_campaign("c", "pcf", {}, "h", total_units=1)
        exact = dict(PI, constant=None, kind="rational", closed_form="3", digits_verified=math.inf)
        store.write_unit(cid, 0, 1, 1, [_item([3, 2], [-2, -3, 0], ident=exact)])
        assert store.query()[0]["digits_verified"] == math.inf


def test_csv_of_pcfs_and_programs_together_has_every_field():
    import csv
    import io

    from discovery.store import write_csv

    out = io.StringIO()
    write_csv([{"id": 1, "kind": "pcf", "a": [2, 1]}, {"id": 2, "kind": "program", "ops": 10}], out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(rows[0]) == ["id", "kind", "a", "ops"]
    assert rows[0]["a"] == "[2, 1]" and rows[0]["ops"] == "" and rows[1]["ops"] == "10" and rows[1]["a"] == ""
