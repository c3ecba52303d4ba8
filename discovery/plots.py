"""Figures: cluster scatter plots and δ_n curves.

Drawn on ``matplotlib.figure.Figure`` objects, never through pyplot: importing the package leaves
matplotlib's global backend (a notebook's, say) as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from discovery.cluster import NOISE
from discovery.pcf.dynamics import delta_sequence
from discovery.pcf.formula import PCF

_LABELS = {
    "delta": "FR δ",
    "naive_delta": "naive δ",
    "gamma_prime": "γ′ (growth of reduced q)",
    "eta_prime": "η′",
    "gamma": "γ (convergence rate)",
    "eta": "η",
    "eigen_log_ratio": "log|λ₊/λ₋|",
}


def cluster_scatter(
    table: dict, labels: np.ndarray, path: str | Path, plane: tuple[str, str] = ("delta", "gamma_prime")
) -> Path:
    """Scatter of a metric plane coloured by cluster, anchors starred and labelled.

    Only anchors without a shift suffix (``pi-1`` but not ``pi-1+3``) are labelled, to keep the
    figure readable.  Returns the path written.
    """
    x, y = (np.asarray(table[k], dtype=float) for k in plane)
    ok = np.isfinite(x) & np.isfinite(y)
    fig = Figure(figsize=(10, 7), dpi=120)
    ax = fig.subplots()
    noise = ok & (labels == NOISE)
    ax.scatter(x[noise], y[noise], s=3, c="0.8", label="noise", linewidths=0)
    clustered = ok & (labels != NOISE)
    cmap = matplotlib.colormaps["tab20"]
    ax.scatter(x[clustered], y[clustered], s=6, c=cmap(labels[clustered] % 20), linewidths=0)
    anchors = np.asarray(table.get("anchor", np.full(len(x), "")))
    names = np.asarray(table.get("name", np.full(len(x), "")))
    marked = ok & (anchors != "")
    ax.scatter(x[marked], y[marked], s=60, marker="*", facecolors="none", edgecolors="k", linewidths=0.8,
               label="anchors")
    for i in np.nonzero(marked)[0]:
        if "+" not in names[i]:
            ax.annotate(f"{names[i]} ({anchors[i]})", (x[i], y[i]), fontsize=7, xytext=(4, 4),
                        textcoords="offset points")
    ax.set_xlabel(_LABELS.get(plane[0], plane[0]))
    ax.set_ylabel(_LABELS.get(plane[1], plane[1]))
    n_clusters = len(np.unique(labels[labels != NOISE]))
    ax.set_title(f"{ok.sum()} PCFs with finite metrics, {n_clusters} clusters")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def delta_curves(
    pcfs: Sequence[PCF], path: str | Path, depth: int = 2000, ns: Sequence[int] | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """δ_n (reduced denominators) against n for a few PCFs. Returns the path written."""
    ns = list(ns) if ns is not None else sorted(set(np.unique(np.geomspace(2, depth // 2, 60).astype(int))))
    fig = Figure(figsize=(9, 5.5), dpi=120)
    ax = fig.subplots()
    for i, pcf in enumerate(pcfs):
        delta, _ = delta_sequence(pcf, ns, depth)
        name = labels[i] if labels is not None else repr(pcf)
        ax.plot(sorted(set(ns)), delta, marker=".", ms=3, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("depth n")
    ax.set_ylabel("FR δ_n")
    ax.set_title(f"Irrationality measure estimates against L = p_{depth}/q_{depth}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path
