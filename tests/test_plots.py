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
