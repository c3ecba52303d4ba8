"""The triage model of a campaign, trained on what the campaign stored: the enumeration's model
after its warm-up units, and the evolution's surrogate, retrained every few generations.

A function of the stored units alone, so a resumed run trains the same model again.
"""

from __future__ import annotations

import json
import math

import numpy as np

from discovery.campaign.config import PcfConfig
from discovery.triage import TriageModel, features, labels, train


def metric_value(v) -> float:
    """A stored metric as a float (NaN for a missing one)."""
    return math.nan if v is None else float(v)


def train_from_store(store, cid: int, config: PcfConfig, units=None, min_unit: int | None = None,
                     max_unit: int | None = None) -> TriageModel:
    """A :class:`~discovery.triage.TriageModel` trained on a campaign's stored, measured PCFs.

    Parameters
    ----------
    units : collection of int, optional
        Only the PCFs the campaign met in these units.
    min_unit, max_unit : int, optional
        Only the PCFs met in units from ``min_unit`` (exclusive) up to ``max_unit``.
    """
    A, B, y = training_rows(store, cid, units, min_unit, max_unit)
    return train(features(A, B, config.search["metrics_depth"]), y, config.search["triage_recall"], seed=config.seed)


def training_rows(store, cid: int, units=None, min_unit: int | None = None,
                  max_unit: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :func:`train_from_store` learns from: coefficient rows (A, B) of the campaign's
    stored, measured PCFs (in genome order, padded to one width) and their
    :func:`~discovery.triage.labels` y; the same parameters."""
    rows = store.labelled(cid, units=(min_unit, max_unit))
    if units is not None:
        rows = [r for r in rows if r["unit"] in units]
    rows.sort(key=lambda r: r["genome"])
    genomes = [json.loads(r["genome"]) for r in rows]
    na = max((len(g["a"]) for g in genomes), default=1)
    nb = max((len(g["b"]) for g in genomes), default=1)
    A = np.array([[0] * (na - len(g["a"])) + g["a"] for g in genomes], dtype=np.int64).reshape(len(rows), na)
    B = np.array([[0] * (nb - len(g["b"])) + g["b"] for g in genomes], dtype=np.int64).reshape(len(rows), nb)
    y = labels([metric_value(r["delta"]) for r in rows], [metric_value(r["naive_delta"]) for r in rows],
               [r["convergence_class"] for r in rows], [r["identified"] for r in rows])
    return A, B, y
