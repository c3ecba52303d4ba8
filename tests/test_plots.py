"""Figures are drawn without touching matplotlib's global state."""

import subprocess
import sys

import numpy as np

from discovery.pcf import PCF
from discovery.plots import cluster_scatter, delta_curves


def test_importing_the_plots_keeps_the_backend_a_notebook_chose():
    code = ("import matplotlib; matplotlib.use('svg'); import discovery.plots, discovery.campaign; "
            "print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "svg"


def test_figures_are_written_as_png(tmp_path):
    rng = np.random.default_rng(0)
    table = {"delta": rng.normal(size=50), "gamma_prime": rng.normal(size=50),
             "anchor": np.array(["pi"] + [""] * 49), "name": np.array(["4/pi"] + [""] * 49)}
    labels = rng.integers(-1, 3, 50)
    for path in (cluster_scatter(table, labels, tmp_path / "c.png"),
                 delta_curves([PCF("2n+1", "n^2")], tmp_path / "d.png", depth=200)):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_scatter_counts_the_campaigns_clusters_and_colours_the_top_constants_distinctly(tmp_path):
    from matplotlib.colors import to_hex
    from PIL import Image

    from discovery.plots import OTHER, PALETTE, scatter_colours, scatter_title

    rng = np.random.default_rng(1)
    n_own, n_anchor = 300, 12
    labels = np.concatenate([rng.integers(-1, 12, n_own), np.full(n_anchor, 12)])  # cluster 12: anchors only
    table = {"delta": rng.normal(size=n_own + n_anchor), "gamma_prime": rng.normal(size=n_own + n_anchor),
             "anchor": np.array([""] * n_own + ["pi"] * n_anchor), "name": np.array([""] * n_own + ["4/pi"] * n_anchor)}
    constants = {label: [f"c{label}"] for label in range(10)}  # ten constants, more than the palette
    path = cluster_scatter(table, labels, tmp_path / "c.png", constants=constants)
    own = len(set(labels[:n_own]) - {-1})
    # The title (also in the PNG metadata) counts the clusters with a campaign member, as the database does.
    assert Image.open(path).info["Title"] == scatter_title(n_own, own)
    # Colours: the constants of the most clusters, each colour once, grey for the rest.
    colours = scatter_colours({f"c{i}": 10 - i for i in range(10)})
    assert list(colours) == [f"c{i}" for i in range(len(PALETTE))]
    assert len(set(colours.values())) == len(colours) == len(PALETTE) and OTHER not in colours.values()
    assert all(to_hex(c) == c.lower() for c in PALETTE)
