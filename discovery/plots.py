"""Figures: cluster scatter plots and δ_n curves.

Drawn on ``matplotlib.figure.Figure`` objects, never through pyplot: importing the package leaves
matplotlib's global backend (a notebook's, say) as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
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


# Okabe & Ito's qualitative palette (distinct under the common colour-vision deficiencies), black
# kept for the anchors; the report's cluster map uses the same colours in the same order.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")  # yellow, faintest, last
OTHER, NOISE_GREY = "#9e9e9e", "#dddddd"


def scatter_title(pcfs: int, clusters: int) -> str:
    """The title of a cluster scatter plot (kept in the PNG's metadata as ``Title`` too)."""
    return f"{pcfs:,} PCFs of the campaign with finite metrics, {clusters:,} clusters"


def _clusters_per_constant(labels: np.ndarray, first: Mapping[int, str]) -> dict[str, int]:
    count: dict[str, int] = {}
    for label in np.unique(labels[labels != NOISE]):
        if int(label) in first:
            count[first[int(label)]] = count.get(first[int(label)], 0) + 1
    return count


def scatter_colours(clusters_per_constant: Mapping[str, int]) -> dict[str, str]:
    """Constant -> colour of :data:`PALETTE` for the constants identified in the most clusters
    (ties by name), as many as the palette has, each colour once; the others are grey."""
    top = sorted(clusters_per_constant, key=lambda c: (-clusters_per_constant[c], c))[:len(PALETTE)]
    return dict(zip(top, PALETTE))


def cluster_scatter(
    table: dict, labels: np.ndarray, path: str | Path, plane: tuple[str, str] = ("delta", "gamma_prime"),
    constants: Mapping[int, Sequence[str]] | None = None, symbols: Mapping[str, str] | None = None,
) -> Path:
    """Scatter of a metric plane coloured by the constant identified in each cluster.

    The rows with an ``anchor`` (known formulas the clusterer was given) are drawn as stars, one
    label per constant, labels that would overlap left out.  The campaign's own rows are coloured
    by their cluster's first constant (``constants``: cluster label -> constants) for the
    constants found in the most clusters, as many as :data:`PALETTE` has; other clusters are
    grey and noise light grey, as the legend says, naming each constant by ``symbols`` (catalog
    name -> how to write it; default the name).  The title counts the campaign's clusters as
    the database stores them (clusters with a campaign member), see :func:`scatter_title`.
    Returns the path written.
    """
    x, y = (np.asarray(table[k], dtype=float) for k in plane)
    labels = np.asarray(labels)
    ok = np.isfinite(x) & np.isfinite(y)
    anchors = np.asarray(table.get("anchor", np.full(len(x), "")))
    names = np.asarray(table.get("name", np.full(len(x), "")))
    own = anchors == ""
    first = {label: cs[0] for label, cs in (constants or {}).items() if cs}
    count = _clusters_per_constant(labels[own], first)
    colour_of = scatter_colours(count)
    top = list(colour_of)

    fig = Figure(figsize=(12, 7.5), dpi=110)
    FigureCanvasAgg(fig)  # a canvas of its own, to measure the labels (no pyplot, no global backend)
    ax = fig.subplots()
    noise = ok & own & (labels == NOISE)
    ax.scatter(x[noise], y[noise], s=4, c=NOISE_GREY, linewidths=0, label=f"noise ({noise.sum():,} PCFs)")
    clustered = ok & own & (labels != NOISE)
    point_constant = np.array([first.get(int(v), "") for v in labels])
    grey = clustered & ~np.isin(point_constant, top)
    n_grey = len(np.unique(labels[grey]))
    ax.scatter(x[grey], y[grey], s=7, c=OTHER, linewidths=0,
               label=f"{n_grey:,} other clusters (grey)")
    for c in top:
        pick = clustered & (point_constant == c)
        plural = "s" if count[c] > 1 else ""
        name = (symbols or {}).get(c, c)
        ax.scatter(x[pick], y[pick], s=9, c=colour_of[c], linewidths=0, label=f"{name} ({count[c]} cluster{plural})")
    marked = ok & ~own
    ax.scatter(x[marked], y[marked], s=70, marker="*", facecolors="none", edgecolors="k", linewidths=0.8,
               label="known formulas (anchors)")
    ax.set_xlabel(_LABELS.get(plane[0], plane[0]), fontsize=14)
    ax.set_ylabel(_LABELS.get(plane[1], plane[1]), fontsize=14)
    n_clusters = len(np.unique(labels[own & (labels != NOISE)]))
    title = scatter_title(int((ok & own).sum()), n_clusters)
    ax.set_title(title, fontsize=15)
    ax.tick_params(labelsize=13)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=12.5, frameon=False, markerscale=1.6,
              title=f"coloured: the {len(top)} constants\nidentified in the most clusters", title_fontsize=12.5,
              alignment="left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    # Labelled once the layout is final, so the overlap test sees where the labels will be drawn.
    _label_anchors(fig, ax, x, y, anchors, names, marked, symbols or {})
    path = Path(path)
    fig.savefig(path, metadata={"Title": title})
    return path


def _label_anchors(fig, ax, x, y, anchors, names, marked, symbols: Mapping[str, str]) -> None:
    """One label per anchor constant (its unshifted formula first), none overlapping another."""
    order = sorted(np.nonzero(marked)[0], key=lambda i: ("+" in names[i], names[i]))
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed, done = [], set()
    for i in order:
        if anchors[i] in done:
            continue
        label = symbols.get(str(anchors[i]), str(anchors[i]))
        note = ax.annotate(label, (x[i], y[i]), fontsize=12, xytext=(11, -4), textcoords="offset points",
                           bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 1.0}, zorder=5)
        box = note.get_window_extent(renderer)
        if box.x1 > frame.x1:  # past the right edge, into the legend: put it on the left of the star
            note.set_position((-11, -4))
            note.set_horizontalalignment("right")
            box = note.get_window_extent(renderer)
        if any(box.overlaps(other) for other in placed) or not frame.contains(box.x0, box.y0):
            note.remove()
            continue
        placed.append(box)
        done.add(anchors[i])


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
