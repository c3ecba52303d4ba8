"""Clustering PCFs by their convergence dynamics.

The procedure follows "Unsupervised Discovery of Formulas for Mathematical Constants" (NeurIPS
2024): HDBSCAN on two-dimensional planes of raw metric values, tried in order
(δ, η′) → (δ, γ′) → (δ, η) → (δ, γ).  To keep a million points within memory and minutes, each
plane is down-sampled to one point per ``cell`` × ``cell`` square, HDBSCAN runs on those, and every
point takes the label of its nearest sampled neighbour within ``radius`` (else it is noise).  A
cluster whose anchors (known formulas) name different constants is clustered again, alone, in the
next plane.

A metric table is a dict of equal-length arrays: ``A`` and ``B`` (coefficient rows as for
:func:`discovery.pcf.evaluate`), every field of :data:`discovery.pcf.dynamics.FIELDS`, and
optionally ``anchor`` (the constant's catalog name for known formulas, ``""`` otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.cluster import HDBSCAN
from sklearn.neighbors import NearestNeighbors

from discovery.pcf.dynamics import FIELDS, FIT_POINTS, metrics
from discovery.pcf.formula import from_arrays, to_arrays
from discovery.pcf.known import known_pcfs

PLANES = (("delta", "eta_prime"), ("delta", "gamma_prime"), ("delta", "eta"), ("delta", "gamma"))
REPORT_METRICS = ("delta", "gamma_prime", "eta_prime", "eigen_log_ratio", "gamma", "eta")
NOISE = -1


def anchor_table(depth: int = 2000, sample: int = 1000, shifts: int = 0, fit_points=None) -> dict:
    """A metric table of the known formulas in ``data/known_pcfs.json``, labelled by constant.

    Parameters
    ----------
    shifts : int
        Also include each formula's tails ``pcf.shift(k)`` for k = 1..shifts: their limits are
        Möbius transforms of the same constant and their dynamics are the formula's, so they give
        each anchor a small neighbourhood of certain members.
    fit_points : sequence of int, optional
        Depths of the metrics' fits (default :data:`discovery.pcf.dynamics.FIT_POINTS`).
    """
    pcfs, constants, names, seen = [], [], [], set()
    for known in known_pcfs():
        for k in range(shifts + 1):
            pcf = known.pcf.shift(k)
            if pcf in seen:
                continue
            seen.add(pcf)
            pcfs.append(pcf)
            constants.append(known.constant)
            names.append(known.id if k == 0 else f"{known.id}+{k}")
    A, B = to_arrays(pcfs)
    table = metrics((A, B), depth=depth, sample=sample, fit_points=FIT_POINTS if fit_points is None else fit_points)
    table.update(A=A, B=B, anchor=np.array(constants), name=np.array(names))
    return table


def concat_tables(*tables: dict) -> dict:
    """Stack metric tables row-wise (coefficient arrays are re-padded to a common width)."""
    width_a = max(t["A"].shape[1] for t in tables)
    width_b = max(t["B"].shape[1] for t in tables)

    def pad(M, width):
        return np.pad(M, ((0, 0), (width - M.shape[1], 0)))

    out = {
        "A": np.vstack([pad(t["A"], width_a) for t in tables]),
        "B": np.vstack([pad(t["B"], width_b) for t in tables]),
    }
    for key in (*FIELDS, "anchor", "name"):
        parts = []
        for t in tables:
            if key in t:
                parts.append(np.asarray(t[key]))
            else:
                parts.append(np.full(len(t["A"]), "", dtype="<U32"))
        out[key] = np.concatenate(parts)
    return out


def save_table(path: str | Path, table: dict) -> None:
    """Write a metric table to ``.npz``."""
    np.savez_compressed(path, **{k: np.asarray(v) for k, v in table.items()})


def load_table(path: str | Path) -> dict:
    """Read a metric table written by :func:`save_table`, checking its columns."""
    with np.load(path, allow_pickle=False) as data:
        table = {k: data[k] for k in data.files}
    missing = [k for k in ("A", "B", *FIELDS) if k not in table]
    if missing:
        raise ValueError(f"{path}: not a metric table, missing columns {missing}")
    return table


def _grid_sample(X: np.ndarray, cell: float, rng: np.random.Generator) -> np.ndarray:
    """Indices of one randomly chosen point per occupied grid cell."""
    keys = np.floor(X / cell).astype(np.int64)
    order = rng.permutation(len(X))
    _, first = np.unique(keys[order], axis=0, return_index=True)
    return np.sort(order[first])


@dataclass
class ClusterReport:
    """Summary of one cluster.

    Attributes
    ----------
    label : int
    size : int
    plane : tuple of str
        The metric plane in which the cluster was finally formed.
    centroid, spread : dict
        Mean and standard deviation of the report metrics over the members.
    anchors : list of (name, constant)
        Known formulas among the members.
    constants : list of str
        Distinct constants of those anchors (more than one: the planes could not separate them).
    representatives : list of PCF
        A few members nearest the centroid.
    """

    label: int
    size: int
    plane: tuple[str, str]
    centroid: dict
    spread: dict
    anchors: list = field(default_factory=list)
    constants: list = field(default_factory=list)
    representatives: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "label": self.label,
            "size": self.size,
            "plane": list(self.plane),
            "centroid": self.centroid,
            "spread": self.spread,
            "anchors": [list(a) for a in self.anchors],
            "constants": self.constants,
            "representatives": [repr(p) for p in self.representatives],
        }


class DynamicsClusterer:
    """Hierarchical HDBSCAN over metric planes, with anchor-driven re-splitting.

    Parameters
    ----------
    planes : sequence of (str, str)
        Metric planes in the order they are tried.
    min_cluster_size : int
        HDBSCAN's ``min_cluster_size`` (on the down-sampled points).
    min_samples : int or None
        HDBSCAN's ``min_samples``.  Down-sampled families of PCFs are thin streaks along δ of a
        few cells; 3 keeps them as clusters and holds the known formulas of one constant together
        whatever the random_state, where HDBSCAN's default (``min_cluster_size``) splits them.
    cell : float
        Side of the down-sampling grid.
    radius : float
        How far a point may be from its nearest sampled neighbour to take its label.
    random_state : int
        Seed for choosing each cell's representative; results are deterministic given it.

    Attributes
    ----------
    labels_ : ndarray of int
        Cluster per row, ``-1`` for noise and for rows without finite metrics.
    plane_ : ndarray of int
        Index of the plane that gave each row its label (-1 for noise).
    reports_ : list of ClusterReport
        One per cluster, largest first.
    """

    def __init__(
        self,
        planes: Sequence[tuple[str, str]] = PLANES,
        min_cluster_size: int = 5,
        cell: float = 1e-3,
        radius: float = 1e-2,
        min_samples: int | None = 3,
        random_state: int = 0,
    ):
        self.planes = planes
        self.min_cluster_size = min_cluster_size
        self.cell = cell
        self.radius = radius
        self.min_samples = min_samples
        self.random_state = random_state

    def _check(self, table: dict) -> None:
        for plane in self.planes:
            for name in plane:
                if name not in table:
                    raise ValueError(f"unknown metric {name!r} in planes; the table has {sorted(table)}")
        if self.min_cluster_size < 2:
            raise ValueError(f"min_cluster_size must be >= 2, got {self.min_cluster_size}")
        if not (self.cell > 0 and self.radius > 0):
            raise ValueError(f"cell and radius must be positive, got {self.cell}, {self.radius}")

    def _cluster_plane(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        sampled = _grid_sample(X, self.cell, rng)
        if len(sampled) < self.min_cluster_size:
            return np.full(len(X), NOISE)
        sample_labels = HDBSCAN(
            min_cluster_size=self.min_cluster_size, min_samples=self.min_samples, copy=True
        ).fit(X[sampled]).labels_
        nn = NearestNeighbors(n_neighbors=1).fit(X[sampled])
        dist, idx = nn.kneighbors(X)
        labels = sample_labels[idx[:, 0]]
        labels[dist[:, 0] > self.radius] = NOISE
        return labels

    def fit(self, table: dict) -> "DynamicsClusterer":
        """Cluster the rows of a metric table."""
        self._check(table)
        rng = np.random.default_rng(self.random_state)
        m = len(table["delta"])
        anchors = np.asarray(table.get("anchor", np.full(m, "")))
        labels = np.full(m, NOISE)
        planes = np.full(m, NOISE)
        next_label = 0
        # Work items (rows, plane index).  A cluster whose anchors disagree is clustered again in
        # the next plane; its members that form no sub-cluster there keep the parent's label.
        pending = [(np.arange(m), 0)]
        while pending:
            rows, level = pending.pop(0)
            x, y = self.planes[level]
            X = np.column_stack([table[x][rows], table[y][rows]]).astype(np.float64)
            finite = np.isfinite(X).all(axis=1)
            rows, X = rows[finite], X[finite]
            if len(rows) == 0:
                continue
            found = self._cluster_plane(X, rng)
            for lab in np.unique(found[found != NOISE]):
                members = rows[found == lab]
                labels[members] = next_label
                planes[members] = level
                next_label += 1
                constants = {c for c in anchors[members] if c}
                if len(constants) > 1 and level + 1 < len(self.planes):
                    pending.append((members, level + 1))
        # Number clusters by decreasing size, ties by first member, for stable reports.
        used = [lab for lab in np.unique(labels) if lab != NOISE]
        order = sorted(used, key=lambda lab: (-(labels == lab).sum(), np.argmax(labels == lab)))
        remap = {old: new for new, old in enumerate(order)}
        self.labels_ = np.array([remap.get(lab, NOISE) for lab in labels], dtype=np.int64)
        self.plane_ = planes
        self.reports_ = self._reports(table, anchors)
        return self

    def fit_predict(self, table: dict) -> np.ndarray:
        """Cluster and return ``labels_``."""
        return self.fit(table).labels_

    def _reports(self, table: dict, anchors: np.ndarray) -> list[ClusterReport]:
        names = np.asarray(table.get("name", np.full(len(anchors), "")))
        reports = []
        for lab in np.unique(self.labels_[self.labels_ != NOISE]):
            members = np.nonzero(self.labels_ == lab)[0]
            values = np.column_stack([table[k][members] for k in REPORT_METRICS]).astype(float)
            centroid = np.nanmean(values, axis=0)
            spread = np.nanstd(values, axis=0)
            scale = np.where(spread > 0, spread, 1.0)
            closeness = np.nansum(((values - centroid) / scale) ** 2, axis=1)
            nearest = members[np.argsort(closeness, kind="stable")[:3]]
            anchored = [(str(names[i]), str(anchors[i])) for i in members if anchors[i]]
            reports.append(
                ClusterReport(
                    label=int(lab),
                    size=len(members),
                    plane=tuple(self.planes[self.plane_[members[0]]]),
                    centroid={k: float(v) for k, v in zip(REPORT_METRICS, centroid)},
                    spread={k: float(v) for k, v in zip(REPORT_METRICS, spread)},
                    anchors=anchored,
                    constants=sorted({c for _, c in anchored}),
                    representatives=from_arrays(table["A"][nearest], table["B"][nearest]),
                )
            )
        return reports
