"""The discovered-formula database: one SQLite file in WAL mode, no server.

Tables: ``campaigns``; ``work_units`` (which units of a campaign are done); ``formulas`` (kind
``pcf`` or ``program``, the genome as JSON, a unique canonical key so a formula is stored once,
the campaign that found it first); ``campaign_formulas`` (every campaign that met a formula, so
campaigns sharing a database are each complete); ``families`` and ``family_members`` (infinite
families of PCFs, see :mod:`discovery.families`; members outside a campaign's box are formulas of
no campaign);
``metrics`` (convergence dynamics of a PCF); ``identifications`` (constant, relation, closed
form, digits verified, depth); ``clusters`` and ``cluster_members``; ``meta`` (schema version).
A work unit's results and its done mark are written in one transaction, so a killed campaign
loses at most the unit in flight and never stores half of one.

Faults give a :class:`~discovery.errors.StoreError` naming the file and leave it as it was: a
file that is not a formula database or comes from a newer schema is refused before anything is
written to it; a write that fails (a full disk, another process holding the write lock longer
than the timeout, a read-only file) is rolled back whole.  A file that exists but cannot be
written (or whose folder cannot: SQLite's WAL keeps ``-wal`` and ``-shm`` files beside the
database) is opened read-only: queries work, writes raise StoreError.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from discovery.errors import InputError, StoreError

SCHEMA_VERSION = 5

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
    # 1 -> 2: programs (target function, interval, operation count, scanned maximum error).
    """
    ALTER TABLE formulas ADD COLUMN target TEXT;
    ALTER TABLE formulas ADD COLUMN interval TEXT;
    ALTER TABLE formulas ADD COLUMN ops INTEGER;
    ALTER TABLE formulas ADD COLUMN max_error REAL;
    ALTER TABLE formulas ADD COLUMN expression TEXT;
    CREATE INDEX formulas_program ON formulas(kind, target, ops);
    """,
    # 2 -> 3: campaign membership is many-to-many (formulas.campaign_id stays as the first
    # finder); work units count their exact metric computations and what triage dropped.
    """
    CREATE TABLE campaign_formulas (
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
        formula_id INTEGER NOT NULL REFERENCES formulas(id),
        unit INTEGER,
        PRIMARY KEY (campaign_id, formula_id)
    );
    CREATE INDEX campaign_formulas_formula ON campaign_formulas(formula_id);
    ALTER TABLE work_units ADD COLUMN measured INTEGER;
    ALTER TABLE work_units ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0;
    INSERT INTO campaign_formulas(campaign_id, formula_id, unit)
        SELECT campaign_id, id, unit FROM formulas WHERE campaign_id IS NOT NULL;
    """,
    # 3 -> 4: infinite families (discovery.families): the line, its closed form in k, its members.
    """
    CREATE TABLE families (
        id INTEGER PRIMARY KEY,
        campaign_id INTEGER REFERENCES campaigns(id),
        constants TEXT NOT NULL,
        base TEXT NOT NULL,
        direction TEXT NOT NULL,
        closed_form_k TEXT,
        closed_form_verified INTEGER NOT NULL,
        fit TEXT NOT NULL,
        created REAL NOT NULL
    );
    CREATE INDEX families_campaign ON families(campaign_id);
    CREATE TABLE family_members (
        family_id INTEGER NOT NULL REFERENCES families(id),
        k INTEGER NOT NULL,
        formula_id INTEGER NOT NULL REFERENCES formulas(id),
        a TEXT NOT NULL,
        b TEXT NOT NULL,
        in_box INTEGER NOT NULL,
        constant TEXT,
        relation TEXT NOT NULL,
        closed_form TEXT NOT NULL,
        digits_verified REAL NOT NULL,
        PRIMARY KEY (family_id, k)
    );
    CREATE INDEX family_members_formula ON family_members(formula_id);
    CREATE TABLE family_runs (
        campaign_id INTEGER REFERENCES campaigns(id),
        seconds REAL NOT NULL,
        done REAL NOT NULL
    );
    """,
    # 4 -> 5: a program's proven error bound beside its scanned maximum (NULL: not computed;
    # inf: none proved), whether its finite result passes through IEEE infinities, and for the
    # ulp32 error mode its exhaustive float32 error in ULPs.
    """
    ALTER TABLE formulas ADD COLUMN bound REAL;
    ALTER TABLE formulas ADD COLUMN infinities INTEGER;
    ALTER TABLE formulas ADD COLUMN max_ulp INTEGER;
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


def _bound(x):
    """A proven bound for SQLite: kept infinite (no bound proved), unlike a NaN."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        raise ValueError("a proven bound cannot be NaN")
    return x


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
        The SQLite file; a missing file is created with the current schema.
    timeout : float
        Seconds to wait for another process's write lock before giving up with a StoreError.
    readonly : bool, optional
        Open for queries only.  By default a file is opened read-only exactly when it exists
        but it or its folder is not writable; writes then raise StoreError.
    max_pages : int, optional
        Cap the database at this many pages (``PRAGMA max_page_count``): a write past it fails
        as on a full disk.  For quotas and for testing the full-disk path.

    Raises
    ------
    StoreError
        If the path is a folder, the file is not a formula database, comes from a newer
        version, is older and cannot be upgraded (read-only), cannot be created, or is locked
        longer than ``timeout`` while being upgraded.  The file is left as it was.

    Examples
    --------
    >>> store = FormulaStore("discoveries.db")                # doctest: +SKIP
    >>> store.query(constant="pi", min_digits=50)             # doctest: +SKIP
    """

    def __init__(self, path: str | Path, timeout: float = 60.0, *, readonly: bool | None = None,
                 max_pages: int | None = None):
        self.path = Path(path)
        self.timeout = float(timeout)
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a database file; give a file path such as "
                             f"{self.path / 'discoveries.db'}")
        self.readonly, self._readonly_why, target = self._open_mode(readonly)
        with self._guard("opening it"):
            self.conn = sqlite3.connect(target, uri=self.readonly, timeout=self.timeout, isolation_level=None)
        try:
            self._open(max_pages)
        except BaseException:
            self.conn.close()
            raise

    def _open_mode(self, readonly: bool | None) -> tuple[bool, str, str]:
        """(read-only?, why, what to connect to)."""
        exists = self.path.exists()
        folder_writable = os.access(self.path.parent, os.W_OK | os.X_OK)
        if readonly is None:
            readonly = exists and not (os.access(self.path, os.W_OK) and folder_writable)
        if not readonly:
            return False, "", str(self.path)
        if not exists:
            raise StoreError(f"no database at {self.path}; check the path (a read-only open does not create one)")
        if not os.access(self.path, os.W_OK):
            why = "the file is not writable"
        elif not folder_writable:
            why = "its folder is not writable"
        else:
            why = "opened read-only"
        uri = self.path.resolve().as_uri() + "?mode=ro"
        if not folder_writable and not Path(f"{self.path}-wal").exists():
            # A read-only WAL reader must create the -shm file, which this folder refuses; with no
            # -wal file nothing is pending, so reading the file alone as immutable is exact.
            uri += "&immutable=1"
        return True, why, uri

    def _open(self, max_pages: int | None) -> None:
        self.conn.row_factory = sqlite3.Row
        # Validate before any pragma or migration that writes: a file that is not ours must stay
        # byte for byte as it was.
        with self._guard("reading it"):
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "meta" not in tables:
                raise StoreError(f"{self.path} is an SQLite database but not a formula database (tables "
                                 f"{', '.join(sorted(tables))}); give the path of a formula database or a new file")
            version = self.schema_version()
            if max_pages is not None:
                self.conn.execute(f"PRAGMA max_page_count={int(max_pages)}")
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was created by a newer version of discovery (schema {version}, this "
                             f"version reads up to {SCHEMA_VERSION}); upgrade discovery to open it")
        if self.readonly:
            if version < SCHEMA_VERSION:
                raise StoreError(f"{self.path} has schema {version} and needs an upgrade to schema {SCHEMA_VERSION}, "
                                 f"but it is read-only ({self._readonly_why}); open it once with write access")
            return
        with self._guard("setting it up"):
            self.conn.execute("PRAGMA foreign_keys=ON")
            self._use_wal()
            self.conn.execute("PRAGMA synchronous=NORMAL")
        if version < SCHEMA_VERSION:
            self._migrate()

    def _use_wal(self) -> None:
        """Switch the file to write-ahead logging unless it is already.  A switch needs the file
        to itself and SQLite reports a busy file at once, without its busy timeout; two processes
        creating one database meet that, so a busy file is retried until the timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                if self.conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    self.conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as err:
                code = getattr(err, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF
                if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- errors and transactions ---------------------------------------------------------------
    def _error(self, err: sqlite3.Error, action: str) -> StoreError:
        """A one-line StoreError for an SQLite error met while doing ``action``."""
        code = getattr(err, "sqlite_errorcode", None)
        primary = None if code is None else code & 0xFF
        if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            return StoreError(f"{self.path} is locked by another process for more than {self.timeout:g} s "
                              f"({action}); retry when it is done, or give a longer timeout")
        if primary == sqlite3.SQLITE_FULL:
            return StoreError(f"{self.path}: database or disk is full ({action}); nothing of it was stored; "
                              "free some space and rerun to continue")
        if primary == sqlite3.SQLITE_READONLY:
            return self._readonly_error(action)
        if primary == sqlite3.SQLITE_NOTADB:
            return StoreError(f"{self.path} is not an SQLite database; give the path of a formula database "
                              "or a new file")
        if primary == sqlite3.SQLITE_CORRUPT:
            return StoreError(f"{self.path} is corrupt ({err}); restore it from a copy")
        if primary == sqlite3.SQLITE_CANTOPEN:
            return StoreError(f"cannot open or create {self.path} ({err}); check that its folder exists and "
                              "is writable")
        if primary == sqlite3.SQLITE_IOERR:
            return StoreError(f"{self.path}: disk I/O error ({action}: {err}); check the disk and retry")
        return StoreError(f"{self.path}: {action} failed ({err})")

    def _readonly_error(self, action: str) -> StoreError:
        why = self._readonly_why or "the file or its folder is not writable"
        return StoreError(f"{self.path} is read-only ({why}); queries work, but {action} needs write access "
                          "to the file and its folder")

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """SQLite errors inside become StoreError."""
        try:
            yield
        except sqlite3.Error as err:
            raise self._error(err, action) from err

    @contextmanager
    def _transaction(self, action: str) -> Iterator[None]:
        """One write transaction: all of it is stored or none; SQLite errors become StoreError."""
        if self.readonly:
            raise self._readonly_error(action)
        with self._guard(action):
            # IMMEDIATE takes the write lock up front (waiting up to the timeout), so a
            # transaction never has to upgrade a read lock, which SQLite refuses without waiting.
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
                self.conn.execute("COMMIT")
            except BaseException:
                # After some errors (a full disk, for one) SQLite has rolled back already.
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise

    def schema_version(self) -> int:
        """The schema version of the file (0 for an empty file)."""
        with self._guard("reading it"):
            exists = self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'"
            ).fetchone()
            if not exists:
                return 0
            row = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            return 0
        text = str(row[0]).strip()
        if not (text.isascii() and text.isdigit()):
            raise StoreError(f"{self.path}: its stored schema version {str(row[0])[:40]!r} is not a version number; "
                             "the file is damaged or not a formula database")
        return int(text)

    def _migrate(self) -> None:
        with self._transaction(f"upgrading it to schema {SCHEMA_VERSION}"):
            # Another process may have upgraded it since this one looked.
            version = self.schema_version()
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
                self.conn.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(step + 1),)
                )

    # --- campaigns ---------------------------------------------------------------------------
    def campaign(self, name: str) -> sqlite3.Row | None:
        """The campaign row of that name, or None."""
        with self._guard("reading it"):
            return self.conn.execute("SELECT * FROM campaigns WHERE name=?", (name,)).fetchone()

    def campaigns(self) -> list[sqlite3.Row]:
        """All campaigns, oldest first."""
        with self._guard("reading it"):
            return self.conn.execute("SELECT * FROM campaigns ORDER BY id").fetchall()

    def start_campaign(self, name: str, kind: str, config: dict, config_hash: str, total_units: int) -> int:
        """Register a campaign, or return the id of the same campaign to resume it.

        Raises
        ------
        InputError
            If a campaign of that name exists with a different configuration.
        StoreError
            If the database cannot be written.
        """
        # Looked up and registered in one transaction, so two processes starting the same
        # campaign at once share one row.
        with self._transaction(f"registering campaign {name!r}"):
            row = self.campaign(name)
            if row is None:
                cur = self.conn.execute(
                    "INSERT INTO campaigns(name, kind, config, config_hash, total_units, created) VALUES (?,?,?,?,?,?)",
                    # A space of more units than an SQLite integer holds is kept as a float: it only
                    # sizes progress, and its first units start at once like any other's.
                    (name, kind, json.dumps(config, sort_keys=True), config_hash,
                     total_units if total_units < 2**63 else float(total_units), time.time()),
                )
                return int(cur.lastrowid)
        if row["config_hash"] != config_hash:
            raise InputError(
                f"campaign {name!r} already exists in {self.path} with a different configuration; "
                "rename the campaign or use another database"
            )
        return int(row["id"])

    def user_constants(self) -> list[dict]:
        """The user constants campaigns stored with their configurations (see
        :func:`discovery.constants.stored_definition`), each once."""
        out = {}
        for row in self.campaigns():
            try:
                definitions = json.loads(row["config"]).get("catalog_definitions") or []
            except (ValueError, AttributeError):
                continue
            for d in definitions if isinstance(definitions, list) else []:
                if isinstance(d, dict) and isinstance(d.get("key"), str):
                    out.setdefault(d["key"], d)
        return list(out.values())

    def done_units(self, campaign_id: int) -> set[int]:
        """Units of a campaign already committed."""
        with self._guard("reading it"):
            rows = self.conn.execute("SELECT unit FROM work_units WHERE campaign_id=?", (campaign_id,))
            return {int(r[0]) for r in rows}

    def finish_campaign(self, campaign_id: int, clusters: list[dict] | None = None,
                        identifications: Iterable[tuple[int, dict]] = ()) -> None:
        """Store a campaign's closing results and mark it finished, all in one transaction.

        Parameters
        ----------
        campaign_id : int
        clusters : list of dict, optional
            Replace the campaign's clusters (as :meth:`write_clusters`); None keeps them.
        identifications : iterable of (formula id, dict)
            Identifications of stored formulas (cluster representatives); a formula keeps an
            identification it already has.

        Notes
        -----
        A process stopped before this returns has stored none of it, so rerunning the closing
        stage of a campaign ends with the same database as an uninterrupted run.
        """
        with self._transaction(f"finishing campaign {campaign_id}"):
            if clusters is not None:
                self._replace_clusters(campaign_id, clusters)
            now = time.time()
            for formula_id, ident in identifications:
                self._insert_identification(formula_id, ident, now)
            self.conn.execute("UPDATE campaigns SET finished=? WHERE id=?", (now, campaign_id))

    def status(self, campaign_id: int) -> dict:
        """Progress and counts of a campaign."""
        with self._guard("reading it"):
            return self._status(campaign_id)

    def _status(self, campaign_id: int) -> dict:
        c = self.conn.execute("SELECT * FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
        units = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(candidates),0), COALESCE(SUM(converged),0), "
            "COALESCE(SUM(COALESCE(measured, converged)),0), COALESCE(SUM(dropped),0) FROM work_units "
            "WHERE campaign_id=?",
            (campaign_id,),
        ).fetchone()
        formulas = self.conn.execute("SELECT COUNT(*) FROM campaign_formulas WHERE campaign_id=?",
                                     (campaign_id,)).fetchone()[0]
        per_constant = self.conn.execute(
            "SELECT i.constant, COUNT(*) FROM identifications i "
            "JOIN campaign_formulas cf ON cf.formula_id=i.formula_id "
            "WHERE cf.campaign_id=? GROUP BY i.constant ORDER BY COUNT(*) DESC",
            (campaign_id,),
        ).fetchall()
        clusters = self.conn.execute("SELECT COUNT(*) FROM clusters WHERE campaign_id=?", (campaign_id,)).fetchone()[0]
        return {
            "name": c["name"],
            "kind": c["kind"],
            "description": self._description(c["config"]),
            "units_done": units[0],
            "units_total": int(c["total_units"]),
            "candidates": units[1],
            "converged": units[2],
            "measured": units[3],
            "dropped": units[4],
            "formulas": formulas,
            "clusters": clusters,
            "identified": {(r[0] or "rational/quadratic"): r[1] for r in per_constant},
            "finished": c["finished"] is not None,
        }

    @staticmethod
    def _description(config: str) -> str:
        """The description a campaign was started with ("" for one stored before they were kept)."""
        try:
            campaign = json.loads(config).get("campaign") or {}
        except (ValueError, AttributeError):
            return ""
        return (campaign.get("description") or "") if isinstance(campaign, dict) else ""

    # --- writing -----------------------------------------------------------------------------
    def write_unit(
        self,
        campaign_id: int,
        unit: int,
        candidates: int,
        converged: int,
        pcfs: Iterable[dict],
        measured: int | None = None,
        dropped: int = 0,
    ) -> None:
        """Store one work unit's PCFs (with metrics and identifications) and its done mark, atomically.

        Each item of ``pcfs`` has ``a``, ``b`` (coefficient lists), ``metrics`` (dict of
        :data:`METRIC_COLUMNS`) and optionally ``identification`` (dict with ``constant, kind,
        basis, relation, closed_form, digits_verified, depth``).  ``measured`` counts the unit's
        exact metric computations (default: ``converged``), ``dropped`` what triage skipped.  A PCF
        whose canonical key is already stored (by any campaign) is not stored again, but is recorded as met by this
        campaign too; its identification is added if it had none.  A unit already done (by a
        concurrent run of the same campaign) is left as it is.

        Raises
        ------
        StoreError
            If the database cannot be written (full, locked longer than the timeout, read-only);
            nothing of the unit is stored.
        """
        now = time.time()
        with self._transaction(f"storing work unit {unit}"):
            if self.conn.execute("SELECT 1 FROM work_units WHERE campaign_id=? AND unit=?",
                                 (campaign_id, unit)).fetchone():
                return
            for item in pcfs:
                fid = self._insert_formula(
                    "pcf", pcf_key(item["a"], item["b"]),
                    {"a": list(map(int, item["a"])), "b": list(map(int, item["b"]))},
                    campaign_id, unit, now,
                )
                m = item["metrics"]
                self.conn.execute(
                    # Column names are this module's constants and values are bound: no injection.
                    f"INSERT OR IGNORE INTO metrics(formula_id, {', '.join(METRIC_COLUMNS)}) "  # noqa: S608
                    f"VALUES (?, {', '.join('?' * len(METRIC_COLUMNS))})",
                    (fid, *[m.get(k) if k in ("convergence_class", "complex_eigen", "depth") else _num(m.get(k))
                            for k in METRIC_COLUMNS]),
                )
                if item.get("identification"):
                    self._insert_identification(fid, item["identification"], now)
            self.conn.execute(
                "INSERT INTO work_units(campaign_id, unit, candidates, converged, done, measured, dropped) "
                "VALUES (?,?,?,?,?,?,?)",
                (campaign_id, unit, candidates, converged, now, converged if measured is None else measured,
                 dropped),
            )

    def _insert_formula(self, kind, key, genome, campaign_id, unit, now, **program) -> int:
        self.conn.execute(
            "INSERT OR IGNORE INTO formulas(kind, canonical_key, genome, campaign_id, unit, created, "
            "target, interval, ops, max_error, expression, bound, infinities, max_ulp) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (kind, key, json.dumps(genome), campaign_id, unit, now,
             program.get("target"), json.dumps(program["interval"]) if "interval" in program else None,
             program.get("ops"), _num(program.get("max_error")), program.get("expression"),
             _bound(program.get("bound")),
             None if program.get("infinities") is None else int(bool(program["infinities"])),
             None if program.get("max_ulp") is None else int(program["max_ulp"])),
        )
        fid = int(self.conn.execute("SELECT id FROM formulas WHERE canonical_key=?", (key,)).fetchone()[0])
        if campaign_id is not None:
            self.conn.execute("INSERT OR IGNORE INTO campaign_formulas(campaign_id, formula_id, unit) VALUES (?,?,?)",
                              (campaign_id, fid, unit))
        return fid

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
        ``ops``, ``max_error`` (the scanned maximum, :func:`discovery.programs.verify.max_error`)
        and ``expression`` (sympy-parsable in x), and optionally ``bound`` (proven,
        :func:`discovery.programs.bound.error_bound`; inf when none was proved) and
        ``infinities`` (:func:`discovery.programs.verify.reaches_infinity`) and ``max_ulp`` (the
        exhaustive float32 ULP error, ulp32 error mode).

        The same program for the same target and interval is stored once.  With ``unit``, the
        campaign's work unit is marked done in the same transaction.  Returns the ids.
        """
        now = time.time()
        ids = []
        with self._transaction("storing programs"):
            for prog in programs:
                key = "program:" + json.dumps([target, list(map(float, interval)), prog["genome"]], sort_keys=True,
                                              separators=(",", ":"))
                ids.append(self._insert_formula(
                    "program", key, prog["genome"], campaign_id, None, now, target=target,
                    interval=list(map(float, interval)), ops=int(prog["ops"]), max_error=prog["max_error"],
                    expression=prog["expression"], bound=prog.get("bound"), infinities=prog.get("infinities"),
                    max_ulp=prog.get("max_ulp"),
                ))
            if unit is not None:
                self.conn.execute(
                    "INSERT OR IGNORE INTO work_units(campaign_id, unit, candidates, converged, done) "
                    "VALUES (?,?,?,?,?)",
                    (campaign_id, unit, candidates, len(ids), now),
                )
        return ids

    def add_identification(self, formula_id: int, ident: dict) -> None:
        """Store an identification of an already stored formula (kept if one exists)."""
        with self._transaction("storing an identification"):
            self._insert_identification(formula_id, ident, time.time())

    def write_clusters(self, campaign_id: int, clusters: list[dict]) -> None:
        """Replace a campaign's clusters; each dict has ``label, plane, size, centroid, spread,
        constants, members`` (formula ids)."""
        with self._transaction("storing clusters"):
            self._replace_clusters(campaign_id, clusters)

    def _replace_clusters(self, campaign_id: int, clusters: list[dict]) -> None:
        old = [r[0] for r in self.conn.execute("SELECT id FROM clusters WHERE campaign_id=?", (campaign_id,))]
        for cid in old:
            self.conn.execute("DELETE FROM cluster_members WHERE cluster_id=?", (cid,))
        self.conn.execute("DELETE FROM clusters WHERE campaign_id=?", (campaign_id,))
        for c in clusters:
            cur = self.conn.execute(
                "INSERT INTO clusters(campaign_id, label, plane, size, centroid, spread, constants) "
                "VALUES (?,?,?,?,?,?,?)",
                (campaign_id, c["label"], json.dumps(list(c["plane"])), c["size"], json.dumps(c["centroid"]),
                 json.dumps(c["spread"]), json.dumps(c["constants"])),
            )
            self.conn.executemany(
                "INSERT INTO cluster_members(cluster_id, formula_id) VALUES (?,?)",
                [(cur.lastrowid, int(f)) for f in c["members"]],
            )

    def write_families(self, campaign_id: int | None, families: list[dict], seconds: float = 0.0) -> list[int]:
        """Replace the families of a campaign (None: of the whole database) in one transaction,
        and record the run (``seconds`` it took; see :meth:`family_run`).

        Each dict is a :func:`discovery.families.family_record`: ``constants, base, direction,
        closed_form_k, closed_form_verified, fit, members``; each member has ``k, a, b, in_box,
        formula_id`` (None outside the box), ``identification`` (of a, b), ``canonical`` and
        ``canonical_identification`` (of the canonical form, stored with a new formula).
        Members outside the box are stored as formulas of no campaign.  A family whose line
        (base, direction) was stored before for the same campaign keeps its id.  Returns the
        family ids.
        """
        now = time.time()
        ids = []
        with self._transaction("storing families"):
            # A family keeps its id when detection finds its line again (users keep links to it);
            # a new line takes an id above every family stored, the ones replaced here included.
            old = {(r["base"], r["direction"]): r["id"] for r in self.conn.execute(
                "SELECT id, base, direction FROM families WHERE campaign_id IS ?", (campaign_id,))}
            fresh = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM families").fetchone()[0]
            for fam in old.values():
                self.conn.execute("DELETE FROM family_members WHERE family_id=?", (fam,))
            self.conn.execute("DELETE FROM families WHERE campaign_id IS ?", (campaign_id,))
            self.conn.execute("DELETE FROM family_runs WHERE campaign_id IS ?", (campaign_id,))
            self.conn.execute("INSERT INTO family_runs(campaign_id, seconds, done) VALUES (?,?,?)",
                              (campaign_id, float(seconds), now))
            for f in families:
                line = (json.dumps(f["base"]), json.dumps(f["direction"]))
                fam = old.get(line)
                if fam is None:
                    fam, fresh = fresh, fresh + 1
                self.conn.execute(
                    "INSERT INTO families(id, campaign_id, constants, base, direction, closed_form_k, "
                    "closed_form_verified, fit, created) VALUES (?,?,?,?,?,?,?,?,?)",
                    (fam, campaign_id, json.dumps(f["constants"]), *line,
                     f["closed_form_k"], int(bool(f["closed_form_verified"])), json.dumps(f["fit"]), now),
                )
                ids.append(int(fam))
                for m in f["members"]:
                    fid = m["formula_id"]
                    if fid is None:
                        canon = m["canonical"]
                        fid = self._insert_formula("pcf", pcf_key(canon["a"], canon["b"]), canon, None, None, now)
                    if m.get("canonical_identification"):
                        self._insert_identification(fid, m["canonical_identification"], now)
                    ident = m["identification"]
                    digits = ident["digits_verified"]
                    self.conn.execute(
                        "INSERT INTO family_members(family_id, k, formula_id, a, b, in_box, constant, relation, "
                        "closed_form, digits_verified) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (ids[-1], int(m["k"]), fid, json.dumps(list(m["a"])), json.dumps(list(m["b"])),
                         int(bool(m["in_box"])), ident["constant"], json.dumps([int(c) for c in ident["relation"]]),
                         ident["closed_form"], float(digits) if math.isfinite(digits) else 1e9),
                    )
        return ids

    # --- reading -----------------------------------------------------------------------------
    def constant_key(self, name: str) -> str:
        """What identifications store for a constant: its key (:attr:`discovery.constants.Constant.key`).

        A name of the catalog (aliases accepted) gives its key; any other name may be a user's
        constant stored here by a campaign, as ``name`` or ``name@digest``; a name stored with
        several values (two catalogs defining it differently) must be given with its digest.

        Raises
        ------
        InputError
            For a name neither in the catalog nor stored, or stored with several values.
        """
        from discovery.constants import get

        try:
            return get(name).key
        except ValueError as unknown:
            prefix = f"{name}@"
            with self._guard("reading it"):
                stored = [r[0] for r in self.conn.execute(
                    "SELECT DISTINCT constant FROM identifications WHERE constant=? OR (substr(constant, 1, ?)=? "
                    "AND instr(constant, '*')=0 AND instr(constant, '^')=0) ORDER BY constant",
                    (str(name), len(prefix), prefix))]
            if len(stored) == 1:
                return stored[0]
            if stored:
                raise InputError(f"constant {name!r} is stored in {self.path} with {len(stored)} different values "
                                 f"({', '.join(stored)}); give one of these") from None
            raise unknown

    def metric_table(self, campaign_id: int) -> tuple[list[int], list[dict]]:
        """Formula ids and metric rows (with genomes) of a campaign's PCFs with metrics."""
        with self._guard("reading it"):
            rows = self.conn.execute(
                f"SELECT f.id, f.genome, {', '.join('m.' + k for k in METRIC_COLUMNS)} FROM formulas f "  # noqa: S608
                "JOIN metrics m ON m.formula_id=f.id JOIN campaign_formulas cf ON cf.formula_id=f.id "
                "WHERE cf.campaign_id=? AND f.kind='pcf' ORDER BY f.id",
                (campaign_id,),
            ).fetchall()
        return [r["id"] for r in rows], [dict(r) for r in rows]

    def labelled(self, campaign_id: int, all_stored: bool = False,
                 units: tuple[int | None, int | None] = (None, None)) -> list[dict]:
        """A campaign's measured PCFs with what triage learns from: ``genome`` (JSON), ``unit``
        (where the campaign met it), ``delta``, ``naive_delta``, ``convergence_class`` and
        ``identified``; with ``all_stored``, also those it stored without exact metrics; with
        ``units = (lo, hi)``, only those met in units lo < unit <= hi (None: unbounded)."""
        lo, hi = units
        with self._guard("reading it"):
            rows = self.conn.execute(
                "SELECT f.genome, cf.unit, m.delta, m.naive_delta, m.convergence_class, "
                "i.formula_id IS NOT NULL AS identified FROM campaign_formulas cf "
                "JOIN formulas f ON f.id=cf.formula_id JOIN metrics m ON m.formula_id=f.id "
                "LEFT JOIN identifications i ON i.formula_id=f.id "
                "WHERE cf.campaign_id=? AND f.kind='pcf' AND (? OR m.gamma_prime IS NOT NULL) "
                "AND (? IS NULL OR cf.unit > ?) AND (? IS NULL OR cf.unit <= ?) ORDER BY f.id",
                (campaign_id, all_stored, lo, lo, hi, hi),
            ).fetchall()
        return [dict(r) for r in rows]

    def cluster_centroids(self, exclude: int | None = None) -> list[tuple[float, float, float]]:
        """(δ, γ′, η′) centroids of every stored cluster (except a campaign's own)."""
        with self._guard("reading it"):
            rows = self.conn.execute("SELECT centroid FROM clusters WHERE campaign_id IS NOT ? ORDER BY id",
                                     (exclude,)).fetchall()
        out = []
        for (text,) in rows:
            c = json.loads(text)
            point = (c.get("delta"), c.get("gamma_prime"), c.get("eta_prime"))
            if all(isinstance(v, (int, float)) for v in point):
                out.append(tuple(float(v) for v in point))
        return out

    def formula_id(self, key: str, campaign_id: int | None = None) -> int | None:
        """Id of the formula with this canonical key (met by the campaign, when one is given)."""
        with self._guard("reading it"):
            if campaign_id is None:
                row = self.conn.execute("SELECT id FROM formulas WHERE canonical_key=?", (key,)).fetchone()
            else:
                row = self.conn.execute(
                    "SELECT f.id FROM formulas f JOIN campaign_formulas cf ON cf.formula_id=f.id "
                    "WHERE f.canonical_key=? AND cf.campaign_id=?", (key, campaign_id)).fetchone()
        return None if row is None else int(row[0])

    def family_run(self, campaign_id: int | None) -> dict | None:
        """``seconds`` and ``done`` (time) of the last family detection of a campaign (None: of
        the whole database), or None if it never ran."""
        with self._guard("reading it"):
            row = self.conn.execute("SELECT seconds, done FROM family_runs WHERE campaign_id IS ?",
                                    (campaign_id,)).fetchone()
        return None if row is None else dict(row)

    def families(self, campaign: str | None = None, family: int | None = None) -> list[dict]:
        """Stored families, largest first, as plain records.

        Parameters
        ----------
        campaign : str, optional
            Only the families detected for this campaign (default: all).
        family : int, optional
            Only this family.

        Returns
        -------
        list of dict
            ``id, campaign, constants, base, direction`` (each ``{"a", "b"}``, highest degree
            first), ``members`` (``k, a, b, in_box, constant, closed_form, relation,
            digits_verified, formula_id``, by k), ``closed_form_k``, ``closed_form_verified`` and
            ``fit``.
        """
        where, args = [], []
        if campaign is not None:
            where.append("k.name=?")
            args.append(campaign)
        if family is not None:
            where.append("fa.id=?")
            args.append(int(family))
        # Fixed clauses with bound values: the text holds no user input.
        sql = ("SELECT fa.*, k.name AS campaign FROM families fa LEFT JOIN campaigns k ON k.id=fa.campaign_id"  # noqa: S608
               + (" WHERE " + " AND ".join(where) if where else ""))
        with self._guard("reading it"):
            rows = self.conn.execute(sql, args).fetchall()
            out = []
            for r in rows:
                members = [{
                    "k": m["k"], "a": json.loads(m["a"]), "b": json.loads(m["b"]), "in_box": bool(m["in_box"]),
                    "constant": m["constant"], "closed_form": m["closed_form"],
                    "relation": json.loads(m["relation"]),
                    "digits_verified": math.inf if m["digits_verified"] >= 1e9 else m["digits_verified"],
                    "formula_id": m["formula_id"],
                } for m in self.conn.execute("SELECT * FROM family_members WHERE family_id=? ORDER BY k", (r["id"],))]
                out.append({
                    "id": r["id"], "campaign": r["campaign"], "constants": json.loads(r["constants"]),
                    "base": json.loads(r["base"]), "direction": json.loads(r["direction"]), "members": members,
                    "closed_form_k": r["closed_form_k"], "closed_form_verified": bool(r["closed_form_verified"]),
                    "fit": json.loads(r["fit"]),
                })
        out.sort(key=lambda f: (-len(f["members"]), f["id"]))
        return out

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
        family: int | None = None,
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
        family : int, optional
            Only the members of this family (see :meth:`families`).

        Returns
        -------
        list of dict
            PCFs: ``id, kind, a, b, limit, constant, closed_form, relation, digits_verified,
            delta, cluster, campaign, family`` (the first family it belongs to — of the campaign,
            with a campaign filter — or None) and the other metrics; programs: ``id, kind, target,
            interval, ops, max_error`` (scanned), ``bound`` (proven; None when not computed, inf when
            none was proved), ``infinities`` (bool, or None when not checked), ``expression,
            campaign``.
        """
        where, args = [], []
        if kind is not None:
            if kind not in ("pcf", "program"):
                raise InputError(f"kind must be 'pcf' or 'program', got {kind!r}")
            where.append("f.kind=?")
            args.append(kind)
        if constant is not None:
            where.append("i.constant=?")
            args.append(self.constant_key(constant))
        if cluster is not None:
            where.append("c.label=?")
            args.append(int(cluster))
        if min_digits is not None:
            where.append("i.digits_verified>=?")
            args.append(float(min_digits))
        if delta is not None:
            lo, hi = delta
            if lo > hi:
                raise InputError(f"delta range is empty: {lo} > {hi}")
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
        if family is not None:
            where.append("f.id IN (SELECT formula_id FROM family_members WHERE family_id=?)")
            args.append(int(family))
        # Every filter is a fixed clause with its value bound, so the text holds no user input.
        sql = (
            "SELECT f.id, f.kind, f.genome, f.target, f.interval, f.ops, f.max_error, f.bound, "  # noqa: S608
            "f.infinities, f.max_ulp, f.expression, "
            f"k.name AS campaign, {', '.join('m.' + c for c in METRIC_COLUMNS)}, "
            "i.constant, i.kind AS identification_kind, i.relation, i.closed_form, i.digits_verified, "
            "i.depth AS verified_depth, c.label AS cluster, "
            # With a campaign filter, the family is one detected for that campaign.
            "(SELECT MIN(fm.family_id) FROM family_members fm JOIN families fa ON fa.id=fm.family_id "
            "WHERE fm.formula_id=f.id" + (" AND fa.campaign_id=k.id" if campaign is not None else "") + ") AS family "
            # A campaign filter reports the formula as that campaign met it (its cluster there);
            # without one, as the campaign that found it first.
            + ("FROM formulas f JOIN campaign_formulas cf ON cf.formula_id=f.id "
               "JOIN campaigns k ON k.id=cf.campaign_id "
               if campaign is not None else "FROM formulas f LEFT JOIN campaigns k ON k.id=f.campaign_id ")
            + "LEFT JOIN metrics m ON m.formula_id=f.id LEFT JOIN identifications i ON i.formula_id=f.id "
            "LEFT JOIN clusters c ON c.campaign_id=k.id "
            "AND c.id IN (SELECT cluster_id FROM cluster_members WHERE formula_id=f.id)"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY i.digits_verified IS NULL, i.constant, f.target, f.ops, f.id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._guard("reading it"):
            return [self._record(r) for r in self.conn.execute(sql, args)]

    @staticmethod
    def _record(r: sqlite3.Row) -> dict:
        genome = json.loads(r["genome"])
        if r["kind"] == "program":
            return {
                "id": r["id"], "kind": "program", "target": r["target"],
                "interval": json.loads(r["interval"]) if r["interval"] else None,
                "ops": r["ops"], "max_error": r["max_error"], "bound": r["bound"],
                "infinities": None if r["infinities"] is None else bool(r["infinities"]),
                "max_ulp": r["max_ulp"], "expression": r["expression"], "genome": genome, "campaign": r["campaign"],
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
            "family": r["family"],
            "naive_delta": r["naive_delta"],
            "gamma_prime": r["gamma_prime"],
            "eta_prime": r["eta_prime"],
            "eigen_log_ratio": r["eigen_log_ratio"],
            "gamma": r["gamma"],
            "eta": r["eta"],
            "convergence_class": r["convergence_class"],
        }

    def export_json(self, path: str | Path, **filters) -> int:
        """Write the records of :meth:`query` as a JSON list (see :func:`json_record`); returns
        the count."""
        records = self.query(**filters)
        Path(path).write_text(json.dumps([json_record(r) for r in records], indent=1, allow_nan=False))
        return len(records)

    def export_csv(self, path: str | Path, **filters) -> int:
        """Write the records of :meth:`query` as CSV; returns the count."""
        records = self.query(**filters)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            write_csv(records, fh)
        return len(records)


def json_record(record: dict) -> dict:
    """A record of :meth:`FormulaStore.query` as strict JSON accepts it.

    Non-finite floats, such as the infinite ``digits_verified`` of an exact rational, become
    None (JSON null) at any depth; ``json.dumps`` would otherwise write ``Infinity``, which is
    not JSON.

    Examples
    --------
    >>> json_record({"digits_verified": math.inf, "relation": [1, -2]})
    {'digits_verified': None, 'relation': [1, -2]}
    """
    return {k: _json_value(v) for k, v in record.items()}


def _json_value(v):
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return json_record(v)
    return v


def write_csv(records: list[dict], fh) -> None:
    """Records as CSV (lists as JSON text) to an open text file."""
    if not records:
        return
    fields = list(records[0])
    writer = csv.DictWriter(fh, fieldnames=fields)
    writer.writeheader()
    for r in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
