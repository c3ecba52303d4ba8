import numpy as np
import pytest

from discovery.cluster import DynamicsClusterer, anchor_table, concat_tables, load_table, save_table
from discovery.pcf.dynamics import metrics
from discovery.pcf.space import enumerate_box


@pytest.fixture(scope="module")
def table():
    # A few thousand PCFs: every a of degree <= 1 and b of degree <= 2 with coefficients in
    # [-3, 3], every constant PCF up to 6, and the known formulas with their first tails.
    parts = []
    for box in ((1, 2, 3), (0, 0, 6)):
        A, B = enumerate_box(*box)
        t = metrics((A, B))
        t.update(A=A, B=B)
        parts.append(t)
    return concat_tables(*parts, anchor_table(shifts=7))


def _label(table, labels, name):
    return labels[list(table["name"]).index(name)]


def test_anchors_of_one_constant_cluster_together(table):
    labels = DynamicsClusterer().fit_predict(table)
    pi = _label(table, labels, "pi-1")
    assert pi != -1 and _label(table, labels, "pi-2") == pi
    e = {_label(table, labels, f"e-{k}") for k in range(1, 6)}
    assert len(e) == 1 and -1 not in e


def test_same_eigenvalues_different_delta_are_separated(table):
    names = list(table["name"])
    i, j = names.index("pi-1"), names.index("sqrt2-1")
    # 4/pi and 1 + sqrt 2 share log|l+/l-| and the convergence rate, but not delta.
    assert table["eigen_log_ratio"][i] == pytest.approx(table["eigen_log_ratio"][j], abs=1e-6)
    assert table["gamma"][i] == pytest.approx(table["gamma"][j], abs=0.01)
    assert abs(table["delta"][i] - table["delta"][j]) > 1
    labels = DynamicsClusterer().fit_predict(table)
    assert -1 not in (labels[i], labels[j]) and labels[i] != labels[j]


def test_reports_and_determinism(table):
    first = DynamicsClusterer(random_state=3).fit(table)
    second = DynamicsClusterer(random_state=3).fit(table)
    assert np.array_equal(first.labels_, second.labels_)
    sizes = [r.size for r in first.reports_]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(sizes) == (first.labels_ != -1).sum()
    pi = next(r for r in first.reports_ if "pi-1" in [a for a, _ in r.anchors])
    assert pi.constants == ["pi"]
    assert pi.centroid["delta"] == pytest.approx(-0.2, abs=0.01)
    assert len(pi.representatives) == 3 and pi.as_dict()["label"] == pi.label


def test_conflicting_anchors_are_split_in_the_next_plane():
    # Two tight groups with the same (delta, eta') but different gamma', anchored to
    # different constants: the first plane merges them, the second separates them.
    # A third, unanchored group far away gives the first plane something to tell apart.
    m = 90
    i = np.arange(m)
    table = {k: np.zeros(m) for k in ("delta", "eta_prime", "gamma_prime", "eta", "gamma")}
    table["delta"] = np.where(i < 60, 0.5, -0.5) + 0.001 * (i % 6)
    table["eta_prime"] = 0.001 * (i // 6 % 5)
    table["gamma_prime"] = np.where(i < 30, 1.0, 2.0) + 0.001 * (i % 5)
    table["anchor"] = np.array(["x"] + [""] * 29 + ["y"] + [""] * 59)
    c = DynamicsClusterer(planes=[("delta", "eta_prime"), ("delta", "gamma_prime")]).fit(
        {**table, "A": np.ones((m, 1), int), "B": np.ones((m, 1), int),
         "eigen_log_ratio": np.zeros(m)}
    )
    assert c.labels_[0] != c.labels_[30]
    assert set(c.plane_[[0, 30]]) == {1}


def test_table_round_trip_and_errors(tmp_path, table):
    path = tmp_path / "t.npz"
    save_table(path, table)
    loaded = load_table(path)
    assert np.array_equal(loaded["A"], table["A"]) and list(loaded["name"]) == list(table["name"])
    np.savez(tmp_path / "bad.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="missing columns"):
        load_table(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="'nope'"):
        DynamicsClusterer(planes=[("delta", "nope")]).fit(table)


def test_plots_are_written(tmp_path, table):
    from discovery import PCF
    from discovery.plots import cluster_scatter, delta_curves

    labels = DynamicsClusterer().fit_predict(table)
    scatter = cluster_scatter(table, labels, tmp_path / "scatter.png")
    curves = delta_curves([PCF("2n+1", "n^2"), PCF(2, 1)], tmp_path / "delta.png", depth=400)
    for path in (scatter, curves):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
