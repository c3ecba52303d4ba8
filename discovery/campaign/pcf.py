"""One work unit of a PCF campaign: evaluate → filter → metrics → match → identify.

A unit is computed from the configuration and its index alone, so it runs the same in this
process, in a local worker pool or on a Dask worker, and only the index travels.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from discovery.campaign.config import CampaignConfig

def campaign_space(config: CampaignConfig):
    """The campaign's lazy :class:`~discovery.pcf.space.Space` (``max_candidates`` cuts its raw grid)."""
    return _space(json.dumps(config.as_dict()["space"], sort_keys=True), config.search["max_candidates"])


@lru_cache(maxsize=8)
def _space(space_json: str, limit: int | None):
    from discovery.pcf.space import Space

    return Space.from_config(json.loads(space_json), limit)


def unit_count(config: CampaignConfig) -> int:
    """Number of work units of the campaign (one for a program search)."""
    if config.kind == "program":
        return 1
    return campaign_space(config).units(config.search["unit_size"])


@lru_cache(maxsize=4)
def _table(constants: tuple[str, ...] | None, bound: int):
    from discovery.pcf.mitm import mobius_table

    return mobius_table(list(constants) if constants else None, bound)


def identification_record(found) -> dict:
    return {
        "constant": found.constant,
        "kind": found.kind,
        "basis": list(found.basis),
        "relation": list(found.relation),
        "closed_form": found.closed_form,
        "digits_verified": found.digits_verified,
        "depth": found.depth,
    }


def run_pcf_unit(config: CampaignConfig, unit: int) -> dict:
    """The pipeline for one work unit (runs in a worker; deterministic for a config and unit).

    Returns
    -------
    dict
        ``unit``, ``candidates``, ``converged`` and ``pcfs``: records ready for
        :meth:`discovery.store.FormulaStore.write_unit`.
    """
    from discovery.identify import confirm_matches
    from discovery.pcf.dynamics import FIELDS, metrics
    from discovery.pcf.kernels import Status, evaluate
    from discovery.pcf.mitm import match

    A, B = campaign_space(config).unit(unit, config.search["unit_size"])
    search, ident = config.search, config.identify
    ev = evaluate(A, B, search["depth"], rtol=1e-12)
    alive = np.nonzero(ev.status == Status.CONVERGED)[0]
    records = []
    if alive.size:
        if search["strategy"] == "enumerate":
            m = metrics((A[alive], B[alive]), depth=search["metrics_depth"], sample=search["sample"], workers=1)
        else:
            m = {k: np.full(alive.size, np.nan) for k in FIELDS}
            m["limit"] = ev.limit[alive]
            m["convergence_class"] = np.full(alive.size, "")
        if ident.get("catalog"):  # a worker process may not have loaded the user's constants yet
            from discovery.constants import load_catalog

            load_catalog(ident["catalog"])
        constants = tuple(ident["constants"]) if ident["constants"] else None
        table = _table(constants, ident["mobius_bound"])
        rows, entries = match(ev.limit[alive], table)
        hits = confirm_matches(A[alive], B[alive], rows, entries, table, ident["digits"], ident["confirm_digits"])
        found = {r: identification_record(hit) for r, hit in hits.items()}
        for j, i in enumerate(alive):
            if search["strategy"] == "mitm" and j not in found:
                continue
            metric_row = {k: (m[k][j].item() if hasattr(m[k][j], "item") else m[k][j]) for k in FIELDS}
            metric_row["limit_value"] = metric_row.pop("limit")
            metric_row["complex_eigen"] = (int(bool(metric_row["complex_eigen"])) if search["strategy"] == "enumerate"
                                           else None)
            metric_row["convergence_class"] = metric_row["convergence_class"] or None
            metric_row["depth"] = search["metrics_depth"] if search["strategy"] == "enumerate" else search["depth"]
            records.append({
                "a": A[i].tolist(), "b": B[i].tolist(), "metrics": metric_row,
                "identification": found.get(j),
            })
    return {"unit": unit, "candidates": int(len(A)), "converged": int(alive.size), "pcfs": records}


class UnitRunner:
    """Picklable bound call of :func:`run_pcf_unit` for process pools and Dask."""

    def __init__(self, config: CampaignConfig):
        self.config = config

    def __call__(self, unit: int) -> dict:
        return run_pcf_unit(self.config, unit)
