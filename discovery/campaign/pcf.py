"""One work unit of a PCF campaign: evaluate → filter → metrics → match → identify.

A unit is computed from the configuration and its index alone, so it runs the same in this
process, in a local worker pool or on a Dask worker, and only the index travels.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from discovery.campaign.config import CampaignConfig, load_campaign_catalog

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


def fit_points(sample: int) -> tuple[int, ...]:
    """The metrics' fit depths for a sample depth: the paper's (6, 125, 250, 500, 1000) scaled."""
    return tuple(sorted({min(6, sample // 2), sample // 8, sample // 4, sample // 2, sample} - {0, 1}))


def _stored_constant(name: str | None) -> str | None:
    """The stored name of a constant or a product of constants (``myk^2*pi``): each factor by
    its key."""
    from discovery.constants import CATALOG

    if not name:
        return name
    factors = []
    for factor in name.split("*"):
        base, caret, power = factor.partition("^")
        entry = CATALOG.get(base)
        factors.append((entry.key if entry is not None else base) + caret + power)
    return "*".join(factors)


def identification_record(found) -> dict:
    """What the store keeps of an identification; a user's constant is stored by its key (name and
    value digest), so campaigns giving one name different values never mix."""
    return {
        "constant": _stored_constant(found.constant),
        "kind": found.kind,
        "basis": list(found.basis),
        "relation": list(found.relation),
        "closed_form": found.closed_form,
        "digits_verified": found.digits_verified,
        "depth": found.depth,
    }


def run_pcf_unit(config: CampaignConfig, unit: int, model=None) -> dict:
    """The pipeline for one work unit (runs in a worker; deterministic for a config, unit and model).

    Returns
    -------
    dict
        ``unit`` and what :func:`process_batch` returns.
    """
    A, B = campaign_space(config).unit(unit, config.search["unit_size"])
    return {"unit": unit, **process_batch(A, B, config, model)}


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


def process_batch(A: np.ndarray, B: np.ndarray, config: CampaignConfig, model=None) -> dict:
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
        each with ``row``, its index in A and B.
    """
    from discovery.identify import confirm_matches
    from discovery.pcf.dynamics import FIELDS, metrics
    from discovery.pcf.kernels import Status, evaluate
    from discovery.pcf.mitm import match

    search, ident = config.search, config.identify
    ev = evaluate(A, B, search["depth"], rtol=1e-12)
    # Slow convergers (alternating errors that shrink by little a step, or sub-geometric rates)
    # miss the tolerance at the search depth; a deeper look at these few keeps their formulas.
    slow = np.nonzero(ev.status == Status.NOT_CONVERGED)[0]
    if slow.size:
        deeper = evaluate(A[slow], B[slow], _SECOND_LOOK * search["depth"], rtol=1e-12)
        ev.limit[slow], ev.status[slow] = deeper.limit, deeper.status
    alive = np.nonzero(ev.status == Status.CONVERGED)[0]
    out = {"candidates": int(len(A)), "converged": int(alive.size), "measured": 0, "dropped": 0, "pcfs": []}
    if not alive.size:
        return out
    load_campaign_catalog(config)  # a worker process may not have loaded the user's constants yet
    constants = tuple(ident["constants"]) if ident["constants"] else None
    table = _table(constants, ident["mobius_bound"])
    rows, entries = match(ev.limit[alive], table)
    hits = confirm_matches(A[alive], B[alive], rows, entries, table, ident["digits"], ident["confirm_digits"])
    found = {r: identification_record(hit) for r, hit in hits.items()}
    if search["strategy"] == "mitm":
        measure = np.array(sorted(found), dtype=np.int64)
    else:
        measure = np.arange(alive.size)
        mode = search.get("triage", "off")
        if model is not None and mode != "off":
            from discovery.triage import features

            score = model.score(features(A[alive], B[alive], search["metrics_depth"]))
            if mode == "drop":
                keep = (score >= model.threshold) | _explored(A[alive], B[alive])
                keep[list(found)] = True
                measure = measure[keep]
                out["dropped"] = int(alive.size - measure.size)
            measure = measure[np.argsort(-score[measure], kind="stable")]
    if search["strategy"] == "mitm" or not measure.size:
        m = {k: np.full(measure.size, np.nan) for k in FIELDS}
        m["limit"] = ev.limit[alive[measure]]
        m["convergence_class"] = np.full(measure.size, "")
    else:
        rows_m = alive[measure]
        m = metrics((A[rows_m], B[rows_m]), depth=search["metrics_depth"], sample=search["sample"],
                    fit_points=fit_points(search["sample"]), workers=1)
        out["measured"] = int(measure.size)
    exact = search["strategy"] != "mitm"
    for j, r in enumerate(measure):
        i = alive[r]
        metric_row = {k: (m[k][j].item() if hasattr(m[k][j], "item") else m[k][j]) for k in FIELDS}
        metric_row["limit_value"] = metric_row.pop("limit")
        metric_row["complex_eigen"] = int(bool(metric_row["complex_eigen"])) if exact else None
        metric_row["convergence_class"] = metric_row["convergence_class"] or None
        metric_row["depth"] = search["metrics_depth"] if exact else search["depth"]
        out["pcfs"].append({
            "row": int(i), "a": A[i].tolist(), "b": B[i].tolist(), "metrics": metric_row,
            "identification": found.get(int(r)),
        })
    return out


class UnitRunner:
    """Picklable bound call of :func:`run_pcf_unit` for process pools and Dask."""

    def __init__(self, config: CampaignConfig, model=None):
        self.config = config
        self.model = model

    def __call__(self, unit: int) -> dict:
        return run_pcf_unit(self.config, unit, self.model)
