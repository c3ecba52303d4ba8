"""Export: the records of :meth:`~discovery.store.reads.Reader.query` as JSON or CSV.

:func:`json_record` makes a record strict JSON (non-finite floats become null) and
:func:`write_csv` writes records as CSV; ``discovery query --format json|csv`` prints with them,
and :meth:`Exporter.export_json` and :meth:`Exporter.export_csv` write a query's records to a file.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from discovery.store.reads import Reader


class Exporter(Reader):
    """The exports of :class:`~discovery.store.FormulaStore` (built on :meth:`Reader.query`)."""

    def export_json(self, path: str | Path, **filters) -> int:
        """Write the records of :meth:`query` as a JSON list (see :func:`json_record`).

        Parameters
        ----------
        path : str or Path
        **filters
            The filters of :meth:`query`.

        Returns
        -------
        int
            The number of records written.
        """
        records = self.query(**filters)
        Path(path).write_text(json.dumps([json_record(r) for r in records], indent=1, allow_nan=False))
        return len(records)

    def export_csv(self, path: str | Path, **filters) -> int:
        """Write the records of :meth:`query` as CSV (see :func:`write_csv`).

        Parameters
        ----------
        path : str or Path
        **filters
            The filters of :meth:`query`.

        Returns
        -------
        int
            The number of records written.
        """
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
    """Write records as CSV to an open text file.

    Parameters
    ----------
    records : list of dict
        Records of any kinds: the header holds every key, in the order met (a PCF's fields first
        when a PCF comes first); a record leaves the fields of other kinds empty.
    fh : file
        An open text file (opened with ``newline=""``).

    Notes
    -----
    Lists are written as JSON text; nothing is written for no records.
    """
    if not records:
        return
    fields = list(dict.fromkeys(k for r in records for k in r))
    writer = csv.DictWriter(fh, fieldnames=fields)
    writer.writeheader()
    for r in records:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
