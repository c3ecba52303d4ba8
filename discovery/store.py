"""The discovered-formula database: one SQLite file in WAL mode, no server.

Tables: ``campaigns``; ``work_units`` (which units of a campaign are done); ``formulas`` (kind
``pcf`` or ``program``, the genome as JSON, a unique canonical key so a formula is stored once);
``metrics`` (convergence dynamics of a PCF); ``identifications`` (constant, relation, closed
form, digits verified, depth); ``clusters`` and ``cluster_members``; ``meta`` (schema version).
A work unit's results and its done mark are written in one transaction, so a killed campaign
loses at most the unit in flight and never stores half of one.
"""

from __future__ import annotations

import csv
import json
import math
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Sequence

SCHEMA_VERSION = 2

# Each entry brings the schema from version i to i + 1; a new database runs them all.
MIGRATIONS: list[str] = [
    # 0 -> 1: campaigns, PCF formulas, metrics, identifications, clusters.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        config TEXT NOT NULL,
        config_hash TEXT NOT NULL,
        total_units INTEGER NOT NULL,
        created REAL NOT NULL,
        finished REAL
    );
    CREATE TABLE work_units (
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        unit INTEGER NOT NULL,
        candidates INTEGER NOT NULL,
        converged INTEGER NOT NULL,
        done REAL NOT NULL,
        PRIMARY KEY (campaign_id, unit)
    );
    CREATE TABLE formulas (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('pcf', 'program')),
        canonical_key TEXT NOT NULL UNIQUE,
        genome TEXT NOT NULL,
        campaign_id INTEGER REFERENCES campaigns(id),
        unit INTEGER,
        created REAL NOT NULL
    );
    CREATE INDEX formulas_campaign ON formulas(campaign_id);
    CREATE TABLE metrics (
        formula_id INTEGER PRIMARY KEY REFERENCES formulas(id),
        limit_value REAL, naive_delta REAL, delta REAL, gamma_prime REAL, eta_prime REAL,
        eigen_log_ratio REAL, complex_eigen INTEGER, predicted_delta REAL,
        beta REAL, gamma REAL, eta REAL, convergence_class TEXT, depth INTEGER
    );
    CREATE INDEX metrics_delta ON metrics(delta);
    CREATE TABLE identifications (
        formula_id INTEGER PRIMARY KEY REFERENCES formulas(id),
        constant TEXT, kind TEXT NOT NULL, basis TEXT NOT NULL, relation TEXT NOT NULL,
        closed_form TEXT NOT NULL, digits_verified REAL NOT NULL, depth INTEGER, found REAL NOT NULL
    );
    CREATE INDEX identifications_constant ON identifications(constant);
    CREATE INDEX identifications_digits ON identifications(digits_verified);
    CREATE TABLE clusters (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        label INTEGER NOT NULL,
        plane TEXT NOT NULL,
        size INTEGER NOT NULL,
        centroid TEXT NOT NULL,
        spread TEXT NOT NULL,
        constants TEXT NOT NULL,
        UNIQUE (campaign_id, label)
    );
    CREATE TABLE cluster_members (
        cluster_id INTEGER NOT NULL REFERENCES clusters(id),
        formula_id INTEGER NOT NULL REFERENCES formulas(id),
        PRIMARY KEY (cluster_id, formula_id)
    );
    CREATE INDEX cluster_members_formula ON cluster_members(formula_id);
    """,
    # 1 -> 2: programs (target function, interval, operation count, certified error).
    """
    ALTER TABLE formulas ADD COLUMN target TEXT;
    ALTER TABLE formulas ADD COLUMN interval TEXT;
    ALTER TABLE formulas ADD COLUMN ops INTEGER;
    ALTER TABLE formulas ADD COLUMN max_error REAL;
    ALTER TABLE formulas ADD COLUMN expression TEXT;
    CREATE INDEX formulas_program ON formulas(kind, target, ops);
    """,
]

METRIC_COLUMNS = (
    "limit_value", "naive_delta", "delta", "gamma_prime", "eta_prime", "eigen_log_ratio",
    "complex_eigen", "predicted_delta", "beta", "gamma", "eta", "convergence_class", "depth",
)


def _num(x):
    """A float for SQLite: NaN and inf become NULL."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def pcf_key(a: Sequence[int], b: Sequence[int]) -> str:
    """The canonical key of a PCF row (see :meth:`discovery.pcf.PCF.canonical`)."""
    from discovery.pcf.formula import PCF

    canon = PCF(list(a), list(b)).canonical()
    return "pcf:" + json.dumps([list(canon.a), list(canon.b)], separators=(",", ":"))


class FormulaStore:
    """The formula database at ``path`` (created and migrated as needed).

    Parameters
    ----------
    path : str or Path
        The SQLite file.
    timeout : float
        Seconds to wait for another process's write lock.

    Examples
    --------
    >>> store = FormulaStore("discoveries.db")                # doctest: +SKIP
    >>> store.query(constant="pi", min_digits=50)             # doctest: +SKIP
    """

    def __init__(self, path: str | Path, timeout: float = 60.0):
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"{self.path} is a folder, not a database file")
        self.conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def schema_version(self) -> int:
        """The schema version of the file (0 for an empty file)."""
        exists = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if not exists:
            return 0
        row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            version = self.schema_version()
            if version > SCHEMA_VERSION:
                raise ValueError(
                    f"{self.path} has schema version {version}, newer than this program's {SCHEMA_VERSION}"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(step + 1),)
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # --- campaigns ---------------------------------------------------------------------------
    def campaign(self, name: str) -> sqlite3.Row | None:
        """The campaign row of that name, or None."""
        return self.conn.execute("SELECT * FROM campaigns WHERE name=?", (name,)).fetchone()

    def campaigns(self) -> list[sqlite3.Row]:
        """All campaigns, oldest first."""
        return self.conn.execute("SELECT * FROM campaigns ORDER BY id").fetchall()

    def start_campaign(self, name: str, kind: str, config: dict, config_hash: str, total_units: int) -> int:
        """Register a campaign, or return the id of the same campaign to resume it.

        Raises
        ------
        ValueError
            If a campaign of that name exists with a different configuration.
        """
        row = self.campaign(name)
        if row is not None:
            if row["config_hash"] != config_hash:
                raise ValueError(
                    f"campaign {name!r} already exists in {self.path} with a different configuration; "
                    "rename the campaign or use another database"
                )
            return int(row["id"])
        cur = self.conn.execute(
            "INSERT INTO campaigns(name, kind, config, config_hash, total_units, created) VALUES (?,?,?,?,?,?)",
            (name, kind, json.dumps(config, sort_keys=True), config_hash, total_units, time.time()),
        )
        return int(cur.lastrowid)

    def done_units(self, campaign_id: int) -> set[int]:
        """Units of a campaign already committed."""
        rows = self.conn.execute("SELECT unit FROM work_units WHERE campaign_id=?", (campaign_id,))
        return {int(r[0]) for r in rows}

    def finish_campaign(self, campaign_id: int) -> None:
        """Mark a campaign finished (all units and the clustering stored)."""
        self.conn.execute("UPDATE campaigns SET finished=? WHERE id=?", (time.time(), campaign_id))

    def status(self, campaign_id: int) -> dict:
        """Progress and counts of a campaign."""
        c = self.conn.execute("SELECT * FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
        units = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(candidates),0), COALESCE(SUM(converged),0) FROM work_units WHERE campaign_id=?",
            (campaign_id,),
        ).fetchone()
        formulas = self.conn.execute("SELECT COUNT(*) FROM formulas WHERE campaign_id=?", (campaign_id,)).fetchone()[0]
        per_constant = self.conn.execute(
            "SELECT i.constant, COUNT(*) FROM identifications i JOIN formulas f ON f.id=i.formula_id "
            "WHERE f.campaign_id=? GROUP BY i.constant ORDER BY COUNT(*) DESC",
            (campaign_id,),
        ).fetchall()
        clusters = self.conn.execute("SELECT COUNT(*) FROM clusters WHERE campaign_id=?", (campaign_id,)).fetchone()[0]
        return {
            "name": c["name"],
            "kind": c["kind"],
            "units_done": units[0],
            "units_total": c["total_units"],
            "candidates": units[1],
            "converged": units[2],
            "formulas": formulas,
            "clusters": clusters,
            "identified": {(r[0] or "rational/quadratic"): r[1] for r in per_constant},
            "finished": c["finished"] is not None,
        }

    # --- writing -----------------------------------------------------------------------------
    def write_unit(
        self,
        campaign_id: int,
        unit: int,
        candidates: int,
        converged: int,
        pcfs: Iterable[dict],
    ) -> None:
        """Store one work unit's PCFs (with metrics and identifications) and its done mark, atomically.

        Each item of ``pcfs`` has ``a``, ``b`` (coefficient lists), ``metrics`` (dict of
        :data:`METRIC_COLUMNS`) and optionally ``identification`` (dict with ``constant, kind,
        basis, relation, closed_form, digits_verified, depth``).  A PCF whose canonical key is
        already stored (by any campaign) is not stored again; its identification is added if it
        had none.
        """
        now = time.time()
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for item in pcfs:
                fid = self._insert_formula(
                    "pcf", pcf_key(item["a"], item["b"]),
                    {"a": list(map(int, item["a"])), "b": list(map(int, item["b"]))},
                    campaign_id, unit, now,
                )
                m = item["metrics"]
                self.conn.execute(
                    f"INSERT OR IGNORE INTO metrics(formula_id, {', '.join(METRIC_COLUMNS)}) "
                    f"VALUES (?, {', '.join('?' * len(METRIC_COLUMNS))})",
                    (fid, *[m.get(k) if k in ("convergence_class", "complex_eigen", "depth") else _num(m.get(k))
                            for k in METRIC_COLUMNS]),
                )
                if item.get("identification"):
                    self._insert_identification(fid, item["identification"], now)
            self.conn.execute(
                "INSERT INTO work_units(campaign_id, unit, candidates, converged, done) VALUES (?,?,?,?,?)",
                (campaign_id, unit, candidates, converged, now),
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _insert_formula(self, kind, key, genome, campaign_id, unit, now, **program) -> int:
        self.conn.execute(
            "INSERT OR IGNORE INTO formulas(kind, canonical_key, genome, campaign_id, unit, created, "
            "target, interval, ops, max_error, expression) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (kind, key, json.dumps(genome), campaign_id, unit, now,
             program.get("target"), json.dumps(program["interval"]) if "interval" in program else None,
             program.get("ops"), _num(program.get("max_error")), program.get("expression")),
        )
        return int(self.conn.execute("SELECT id FROM formulas WHERE canonical_key=?", (key,)).fetchone()[0])

    def _insert_identification(self, formula_id: int, ident: dict, now: float) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO identifications(formula_id, constant, kind, basis, relation, closed_form, "
            "digits_verified, depth, found) VALUES (?,?,?,?,?,?,?,?,?)",
            (formula_id, ident.get("constant"), ident["kind"], json.dumps(list(ident["basis"])),
             json.dumps([int(c) for c in ident["relation"]]), ident["closed_form"],
             float(ident["digits_verified"]) if math.isfinite(ident["digits_verified"]) else 1e9,
             ident.get("depth"), now),
        )

    def write_programs(
        self, campaign_id: int | None, target: str, interval: Sequence[float], programs: Iterable[dict],
        unit: int | None = None, candidates: int = 0,
    ) -> list[int]:
        """Store evolved programs for a target; each dict has ``genome`` (Program.to_json()),
        ``ops``, ``max_error`` (certified) and ``expression`` (sympy-parsable in x).

        The same program for the same target and interval is stored once.  With ``unit``, the
        campaign's work unit is marked done in the same transaction.  Returns the ids.
        """
        now = time.time()
        ids = []
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for prog in programs:
                key = "program:" + json.dumps([target, list(map(float, interval)), prog["genome"]], sort_keys=True,
                                              separators=(",", ":"))
                ids.append(self._insert_formula(
                    "program", key, prog["genome"], campaign_id, None, now, target=target,
                    interval=list(map(float, interval)), ops=int(prog["ops"]), max_error=prog["max_error"],
                    expression=prog["expression"],
                ))
            if unit is not None:
                self.conn.execute(
                    "INSERT INTO work_units(campaign_id, unit, candidates, converged, done) VALUES (?,?,?,?,?)",
                    (campaign_id, unit, candidates, len(ids), now),
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return ids

    def add_identification(self, formula_id: int, ident: dict) -> None:
        """Store an identification of an already stored formula (kept if one exists)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self._insert_identification(formula_id, ident, time.time())
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def write_clusters(self, campaign_id: int, clusters: list[dict]) -> None:
        """Replace a campaign's clusters; each dict has ``label, plane, size, centroid, spread,
        constants, members`` (formula ids)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            old = [r[0] for r in self.conn.execute("SELECT id FROM clusters WHERE campaign_id=?", (campaign_id,))]
            for cid in old:
                self.conn.execute("DELETE FROM cluster_members WHERE cluster_id=?", (cid,))
            self.conn.execute("DELETE FROM clusters WHERE campaign_id=?", (campaign_id,))
            for c in clusters:
                cur = self.conn.execute(
                    "INSERT INTO clusters(campaign_id, label, plane, size, centroid, spread, constants) VALUES (?,?,?,?,?,?,?)",
                    (campaign_id, c["label"], json.dumps(list(c["plane"])), c["size"], json.dumps(c["centroid"]),
                     json.dumps(c["spread"]), json.dumps(c["constants"])),
                )
                self.conn.executemany(
                    "INSERT INTO cluster_members(cluster_id, formula_id) VALUES (?,?)",
                    [(cur.lastrowid, int(f)) for f in c["members"]],
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # --- reading -----------------------------------------------------------------------------
    def metric_table(self, campaign_id: int) -> tuple[list[int], list[dict]]:
        """Formula ids and metric rows (with genomes) of a campaign's PCFs with metrics."""
        rows = self.conn.execute(
            f"SELECT f.id, f.genome, {', '.join('m.' + k for k in METRIC_COLUMNS)} FROM formulas f "
            "JOIN metrics m ON m.formula_id=f.id WHERE f.campaign_id=? AND f.kind='pcf' ORDER BY f.id",
            (campaign_id,),
        ).fetchall()
        return [r["id"] for r in rows], [dict(r) for r in rows]

    def query(
        self,
        kind: str | None = None,
        constant: str | None = None,
        cluster: int | None = None,
        min_digits: float | None = None,
        delta: tuple[float, float] | None = None,
        target: str | None = None,
        campaign: str | None = None,
        identified: bool | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Stored formulas as plain records, filtered.

        Parameters
        ----------
        kind : {'pcf', 'program'}, optional
        constant : str, optional
            Catalog name (aliases accepted) of the identified constant.
        cluster : int, optional
            Cluster label (within its campaign) the formula belongs to.
        min_digits : float, optional
            Minimum digits verified.
        delta : (float, float), optional
            Range of FR δ.
        target : str, optional
            Target function of a program.
        campaign : str, optional
            Campaign name.
        identified : bool, optional
            Only identified (True) or unidentified (False) formulas.
        limit : int, optional

        Returns
        -------
        list of dict
            PCFs: ``id, kind, a, b, limit, constant, closed_form, relation, digits_verified,
            delta, cluster, campaign`` and the other metrics; programs: ``id, kind, target,
            interval, ops, max_error, expression, campaign``.
        """
        where, args = [], []
        if kind is not None:
            if kind not in ("pcf", "program"):
                raise ValueError(f"kind must be 'pcf' or 'program', got {kind!r}")
            where.append("f.kind=?")
            args.append(kind)
        if constant is not None:
            from discovery.constants import get

            where.append("i.constant=?")
            args.append(get(constant).name)
        if cluster is not None:
            where.append("c.label=?")
            args.append(int(cluster))
        if min_digits is not None:
            where.append("i.digits_verified>=?")
            args.append(float(min_digits))
        if delta is not None:
            lo, hi = delta
            if lo > hi:
                raise ValueError(f"delta range is empty: {lo} > {hi}")
            where.append("m.delta BETWEEN ? AND ?")
            args.extend([float(lo), float(hi)])
        if target is not None:
            where.append("f.target=?")
            args.append(target)
        if campaign is not None:
            where.append("k.name=?")
            args.append(campaign)
        if identified is not None:
            where.append("i.formula_id IS NOT NULL" if identified else "i.formula_id IS NULL")
        sql = (
            "SELECT f.id, f.kind, f.genome, f.target, f.interval, f.ops, f.max_error, f.expression, "
            f"k.name AS campaign, {', '.join('m.' + c for c in METRIC_COLUMNS)}, "
            "i.constant, i.kind AS identification_kind, i.relation, i.closed_form, i.digits_verified, "
            "i.depth AS verified_depth, c.label AS cluster "
            "FROM formulas f LEFT JOIN campaigns k ON k.id=f.campaign_id "
            "LEFT JOIN metrics m ON m.formula_id=f.id LEFT JOIN identifications i ON i.formula_id=f.id "
            "LEFT JOIN cluster_members cm ON cm.formula_id=f.id "
            "LEFT JOIN clusters c ON c.id=cm.cluster_id AND c.campaign_id=f.campaign_id"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.digits_verified IS NULL, i.constant, f.target, f.ops, f.id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [self._record(r) for r in self.conn.execute(sql, args)]

    @staticmethod
    def _record(r: sqlite3.Row) -> dict:
        genome = json.loads(r["genome"])
        if r["kind"] == "program":
            return {
                "id": r["id"], "kind": "program", "target": r["target"],
                "interval": json.loads(r["interval"]) if r["interval"] else None,
                "ops": r["ops"], "max_error": r["max_error"], "expression": r["expression"],
                "campaign": r["campaign"],
            }
        digits = r["digits_verified"]
        return {
            "id": r["id"],
            "kind": "pcf",
            "a": genome["a"],
            "b": genome["b"],
            "limit": r["limit_value"],
            "constant": r["constant"],
            "closed_form": r["closed_form"],
            "relation": json.loads(r["relation"]) if r["relation"] else None,
            "digits_verified": (math.inf if digits is not None and digits >= 1e9 else digits),
            "verified_depth": r["verified_depth"],
            "delta": r["delta"],
            "cluster": r["cluster"],
            "campaign": r["campaign"],
            "naive_delta": r["naive_delta"],
            "gamma_prime": r["gamma_prime"],
            "eta_prime": r["eta_prime"],
            "eigen_log_ratio": r["eigen_log_ratio"],
            "gamma": r["gamma"],
            "eta": r["eta"],
            "convergence_class": r["convergence_class"],
        }

    def export_json(self, path: str | Path, **filters) -> int:
        """Write the records of :meth:`query` as a JSON list; returns the count."""
        records = self.query(**filters)
        Path(path).write_text(json.dumps(records, indent=1, default=_json_default))
        return len(records)

    def export_csv(self, path: str | Path, **filters) -> int:
        """Write the records of :meth:`query` as CSV; returns the count."""
        records = self.query(**filters)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            write_csv(records, fh)
        return len(records)


def _json_default(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    raise TypeError(f"cannot write {type(x).__name__} as JSON")


def write_csv(records: list[dict], fh) -> None:
    """Records as CSV (lists as JSON text) to an open text file."""
    if not records:
        return
    fields = list(records[0])
    writer = csv.DictWriter(fh, fieldnames=fields)
    writer.writeheader()
    for r in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
