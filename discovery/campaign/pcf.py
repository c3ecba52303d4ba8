"""One work unit of a PCF campaign: evaluate → filter → metrics → match → identify.

A unit is computed from the configuration and its index alone, so it runs the same in this
process, in a local worker pool or on a Dask worker, and only the index travels.
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache

import numpy as np

from discovery.campaign.config import PcfConfig, load_campaign_catalog
from discovery.identify import confirm_matches
from discovery.pcf.dynamics import FIELDS, metrics
from discovery.pcf.kernels import Status, evaluate
from discovery.pcf.mitm import match, mobius_table
from discovery.pcf.space import Space
from discovery.records import IdentificationRecord, PcfRecord, UnitResult, identification_record
from discovery.triage import features

__all__ = ["UnitRunner", "batch_result", "campaign_space", "fit_points", "identification_record", "process_batch",
           "run_pcf_unit", "unit_result"]


def campaign_space(config: PcfConfig):
    """The campaign's lazy :class:`~discovery.pcf.space.Space` (``max_candidates`` cuts its raw grid)."""
    return _space(json.dumps(config.as_dict()["space"], sort_keys=True), config.search["max_candidates"])


@lru_cache(maxsize=8)
def _space(space_json: str, limit: int | None):
    return Space.from_config(json.loads(space_json), limit)


@lru_cache(maxsize=4)
def mobius_table_of(constants: tuple[str, ...] | None, bound: int):
    """The Möbius table of constants (None: the core catalog) up to a coefficient bound, built
    once per process."""
    return mobius_table(list(constants) if constants else None, bound)


def fit_points(sample: int) -> tuple[int, ...]:
    """The metrics' fit depths for a sample depth: the paper's (6, 125, 250, 500, 1000) scaled."""
    return tuple(sorted({min(6, sample // 2), sample // 8, sample // 4, sample // 2, sample} - {0, 1}))


def run_pcf_unit(config: PcfConfig, unit: int, model=None) -> dict:
    """The pipeline for one work unit (runs in a worker; deterministic for a config, unit and model).

    Returns
    -------
    dict
        ``unit`` and what :func:`process_batch` returns (:class:`~discovery.records.UnitResult` as JSON).
    """
    return unit_result(config, unit, model).to_json()


def unit_result(config: PcfConfig, unit: int, model=None) -> UnitResult:
    """:func:`run_pcf_unit` as a :class:`~discovery.records.UnitResult`."""
    A, B = campaign_space(config).unit(unit, config.search["unit_size"])
    return dataclasses.replace(batch_result(A, B, config, model), unit=unit)


# How much deeper the fractions that have not converged at the search depth are evaluated: in the
# NeurIPS 2024 space (depth 1,000) 338 of the 46,242 converge by depth 4,000.
_SECOND_LOOK = 4


def _explored(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """A fixed ~5 % of PCFs, measured whatever triage says: unbiased labels to check its recall
    on, and members enough for the clusters of what it drops."""
    mix = np.zeros(len(A), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in np.hstack([A, B]).T:
            mix = (mix ^ col.astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    return (mix >> np.uint64(40)) % np.uint64(20) == 0


def process_batch(A: np.ndarray, B: np.ndarray, config: PcfConfig, model=None) -> dict:
    """Evaluate → filter → identify → exact metrics, for a batch of PCFs (rows of A and B).

    The one pipeline of enumeration and evolution.  Every converging PCF's float limit is looked
    up in the Möbius table of the ``[identify]`` constants and each hit is identified and
    confirmed with exact convergents.  The exact metrics follow for every converging PCF, or with
    ``[search] triage = "drop"`` and a :class:`~discovery.triage.TriageModel`, for those it scores
    at or above its threshold, the identified ones and a fixed ~5 % sample (``"rank"`` measures
    all of them, best scored first).  The ``mitm`` strategy measures nothing and keeps only the
    identified PCFs.

    Returns
    -------
    dict
        ``candidates``, ``converged``, ``measured`` (exact metric computations), ``dropped`` (by
        triage) and ``pcfs``: records ready for :meth:`discovery.store.FormulaStore.write_unit`,
        each with ``row``, its index in A and B (:class:`~discovery.records.UnitResult` as JSON).
    """
    return batch_result(A, B, config, model).to_json()


def batch_result(A: np.ndarray, B: np.ndarray, config: PcfConfig, model=None) -> UnitResult:
    """:func:`process_batch` as a :class:`~discovery.records.UnitResult` (no unit)."""
    search, ident = config.search, config.identify
    ev = evaluate(A, B, search["depth"], rtol=1e-12)
    # Slow convergers (alternating errors that shrink by little a step, or sub-geometric rates)
    # miss the tolerance at the search depth; a deeper look at these few keeps their formulas.
    slow = np.nonzero(ev.status == Status.NOT_CONVERGED)[0]
    if slow.size:
        deeper = evaluate(A[slow], B[slow], _SECOND_LOOK * search["depth"], rtol=1e-12)
        ev.limit[slow], ev.status[slow] = deeper.limit, deeper.status
    alive = np.nonzero(ev.status == Status.CONVERGED)[0]
    if not alive.size:
        return UnitResult(int(len(A)), 0)
    load_campaign_catalog(config)  # a worker process may not have loaded the user's constants yet
    constants = tuple(ident["constants"]) if ident["constants"] else None
    table = mobius_table_of(constants, ident["mobius_bound"])
    rows, entries = match(ev.limit[alive], table)
    hits = confirm_matches(A[alive], B[alive], rows, entries, table, ident["digits"], ident["confirm_digits"])
    found = {r: IdentificationRecord.of(hit) for r, hit in hits.items()}
    measure = _to_measure(A[alive], B[alive], found, search, model)
    exact = search["strategy"] != "mitm"
    if not exact or not measure.size:
        m = {k: np.full(measure.size, np.nan) for k in FIELDS}
        m["limit"] = ev.limit[alive[measure]]
        m["convergence_class"] = np.full(measure.size, "")
    else:
        rows_m = alive[measure]
        m = metrics((A[rows_m], B[rows_m]), depth=search["metrics_depth"], sample=search["sample"],
                    fit_points=fit_points(search["sample"]), workers=1)
    pcfs = []
    columns = {k: np.asarray(m[k]).tolist() for k in FIELDS}  # Python values, one conversion per field
    for j, r in enumerate(measure):
        i = alive[r]
        metric_row = {k: columns[k][j] for k in FIELDS}
        metric_row["limit_value"] = metric_row.pop("limit")
        metric_row["complex_eigen"] = int(bool(metric_row["complex_eigen"])) if exact else None
        metric_row["convergence_class"] = metric_row["convergence_class"] or None
        metric_row["depth"] = search["metrics_depth"] if exact else search["depth"]
        pcfs.append(PcfRecord(int(i), A[i].tolist(), B[i].tolist(), metric_row, found.get(int(r))))
    dropped = int(alive.size - measure.size) if exact else 0
    return UnitResult(int(len(A)), int(alive.size), int(measure.size) if exact else 0, dropped,
                      tuple(pcfs))


def _to_measure(A: np.ndarray, B: np.ndarray, found: dict, search: dict, model) -> np.ndarray:
    """Rows (of the converging A, B) whose exact metrics are computed, in that order: the
    identified ones alone for ``mitm``; with a triage model, those it keeps (``drop``) best
    scored first; else all."""
    if search["strategy"] == "mitm":
        return np.array(sorted(found), dtype=np.int64)
    measure = np.arange(len(A))
    if model is None or search.get("triage", "off") == "off":
        return measure
    score = model.score(features(A, B, search["metrics_depth"]))
    if search["triage"] == "drop":
        keep = (score >= model.threshold) | _explored(A, B)
        keep[list(found)] = True
        measure = measure[keep]
    return measure[np.argsort(-score[measure], kind="stable")]


class UnitRunner:
    """Picklable bound call of :func:`run_pcf_unit` for process pools and Dask (the result as
    JSON: plain data travels back; :meth:`UnitResult.from_row <discovery.records.UnitResult.from_row>`
    reads it)."""

    def __init__(self, config: PcfConfig, model=None):
        self.config = config
        self.model = model

    def __call__(self, unit: int) -> dict:
        return run_pcf_unit(self.config, unit, self.model)
