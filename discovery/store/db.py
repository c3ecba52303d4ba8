"""The database file itself: connection, WAL, schema and migrations, transactions and errors.

Tables: ``campaigns``; ``work_units`` (which units of a campaign are done); ``formulas`` (kind
``pcf`` or ``program``, the genome as JSON, a unique canonical key so a formula is stored once,
the campaign that found it first); ``campaign_formulas`` (every campaign that met a formula, so
campaigns sharing a database are each complete); ``families`` and ``family_members`` (infinite
families of PCFs, see :mod:`discovery.families`; members outside a campaign's box are formulas of
no campaign);
``metrics`` (convergence dynamics of a PCF); ``identifications`` (constant, relation, closed
form, digits verified, depth); ``clusters`` and ``cluster_members``; ``cmf_placements`` (the CMF
trajectory a PCF derives from, see :mod:`discovery.cmf.unify`); ``meta`` (schema version).

:class:`Database` opens the file and is the base of the other parts of
:class:`~discovery.store.FormulaStore`: every read runs inside :meth:`Database._guard` and every
write inside :meth:`Database._transaction`, over the one connection ``conn``.

Faults give a :class:`~discovery.errors.StoreError` naming the file and leave it as it was: a
file that is not a formula database or comes from a newer schema is refused before anything is
written to it; a write that fails (a full disk, another process holding the write lock longer
than the timeout, a read-only file) is rolled back whole.  A file that exists but cannot be
written (or whose folder cannot: SQLite's WAL keeps ``-wal`` and ``-shm`` files beside the
database) is opened read-only: queries work, writes raise StoreError.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from discovery.errors import StoreError

SCHEMA_VERSION = 7

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
    # 5 -> 6: a PCF's equivalence class (discovery.pcf.equivalence: equal for the same formula up to
    # equivalence transforms and tails; filled in for older rows when a campaign's novelty is
    # labelled) and an identified PCF's novelty label with its reason (discovery.novelty).
    """
    ALTER TABLE formulas ADD COLUMN equivalence_key TEXT;
    CREATE INDEX formulas_equivalence ON formulas(equivalence_key);
    ALTER TABLE identifications ADD COLUMN novelty TEXT;
    ALTER TABLE identifications ADD COLUMN novelty_reason TEXT;
    """,
    # 6 -> 7: where a PCF sits on a conservative matrix field (discovery cmf unify): the field, the
    # trajectory (direction, start as JSON), how it is linked (equivalent, even/odd part, gauge),
    # the exact Möbius map from the walk's value (or the trajectory PCF's limit) to the formula's.
    """
    CREATE TABLE cmf_placements (
        formula_id INTEGER PRIMARY KEY REFERENCES formulas(id),
        cmf TEXT NOT NULL,
        direction TEXT NOT NULL,
        start TEXT NOT NULL,
        how TEXT NOT NULL,
        mobius TEXT NOT NULL,
        of_walk INTEGER NOT NULL,
        detail TEXT NOT NULL,
        found REAL NOT NULL
    );
    CREATE INDEX cmf_placements_cmf ON cmf_placements(cmf);
    """,
]

# The columns of ``metrics`` after ``formula_id``, in table order: writes and reads name them from here.
METRIC_COLUMNS = (
    "limit_value", "naive_delta", "delta", "gamma_prime", "eta_prime", "eigen_log_ratio",
    "complex_eigen", "predicted_delta", "beta", "gamma", "eta", "convergence_class", "depth",
)


class Database:
    """The connection to a formula database, its set-up and its guards (see :class:`FormulaStore
    <discovery.store.FormulaStore>` for the parameters)."""

    def __init__(self, path: str | Path, timeout: float = 60.0, *, readonly: bool | None = None,
                 max_pages: int | None = None):
        self.path = Path(path)
        self.timeout = float(timeout)
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not a database file; give a file path such as "
                             f"{self.path / 'discoveries.db'}")
        self.readonly, self._readonly_why, target = self._open_mode(readonly)
        with self._guard("opening it"):
            # Any one thread at a time: an evolve campaign stores its generations from a writer
            # thread while the next one is bred (discovery.campaign.evolve), never concurrently.
            self.conn = sqlite3.connect(target, uri=self.readonly, timeout=self.timeout, isolation_level=None,
                                        check_same_thread=False)
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
        """The schema version of the file.

        Returns
        -------
        int
            0 for an empty file.

        Raises
        ------
        StoreError
            If the stored version is not a number.
        """
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
