"""The discovered-formula database: one SQLite file in WAL mode, no server.

:class:`FormulaStore` is the one entry point; it is composed of the parts, each by job:

- :mod:`discovery.store.db`: the connection, WAL, schema and migrations (:data:`SCHEMA_VERSION`,
  :data:`MIGRATIONS`), transactions and the errors they raise (the tables and the fault contract
  are described there);
- :mod:`discovery.store.writes`: the campaign lifecycle and the writes of every kind of record
  (units, formulas, metrics, identifications, programs, clusters, families), :func:`pcf_key`;
- :mod:`discovery.store.reads`: the evolve and closing stages' reads and the user-facing
  :meth:`~FormulaStore.query` (the keys of its records are listed there);
- :mod:`discovery.store.export`: JSON and CSV output (:func:`json_record`, :func:`write_csv`).
"""

from __future__ import annotations

# Not used here: the tests patch ``discovery.store.os.access`` (the os module's own function) to
# report a file or folder as read-only, as it would be for another user.
import os  # noqa: F401

from discovery.store.db import METRIC_COLUMNS, MIGRATIONS, SCHEMA_VERSION
from discovery.store.export import Exporter, json_record, write_csv
from discovery.store.writes import Writer, pcf_key

__all__ = ["FormulaStore", "METRIC_COLUMNS", "MIGRATIONS", "SCHEMA_VERSION", "json_record", "pcf_key", "write_csv"]


class FormulaStore(Writer, Exporter):
    """The formula database at ``path`` (created and migrated as needed).

    One connection serves the parts it is made of: :class:`~discovery.store.writes.Writer` (campaign
    lifecycle and writes) and :class:`~discovery.store.export.Exporter` (exports) with its base
    :class:`~discovery.store.reads.Reader` (reads and :meth:`query`), all built on
    :class:`~discovery.store.db.Database` (opening, guards, transactions).

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
