import math

import numpy as np
import pytest
from hypothesis import assume, given

import naive
from discovery import PCF, to_arrays
from discovery.pcf.dynamics import CLASSES, FIELDS, log_gcds, metrics
from strategies import polynomials

# (a, b): FR delta, gamma', eta', log|l+/l-| (None: degrees unbalanced), gamma, eta
TABLE = {
    ("2n+1", "n^2"): (-0.203, 2.20, 0.0, 1.763, -1.78, 0.00),
    ("3n+1", "-2n^2+3n"): (-0.640, 1.98, 0.0, 0.693, -0.71, 0.00),
    ("2", "1"): (1.00, 0.88, 0.0, 1.763, -1.78, 0.00),
    # log|λ+/λ-| at n = 10^9 of x^2 - (n + 3)x + n: λ+ ≈ n + 2, λ- ≈ 1, so ≈ log(10^9) = 20.723.
    ("n+3", "-n"): (0.003, -0.94, 0.99, 20.723, 1.03, -1.00),
}


@pytest.mark.parametrize("ab", TABLE, ids=lambda ab: f"{ab[0]};{ab[1]}")
def test_reference_table(ab):
    m = metrics(PCF(*ab))
    delta, gamma_p, eta_p, ratio, gamma, eta = TABLE[ab]
    assert m["delta"] == pytest.approx(delta, abs=0.005)
    assert m["gamma_prime"] == pytest.approx(gamma_p, abs=0.02)
    assert m["eta_prime"] == pytest.approx(eta_p, abs=0.02)
    assert m["eigen_log_ratio"] == pytest.approx(ratio, abs=0.02)
    assert m["gamma"] == pytest.approx(gamma, abs=0.02)
    assert m["eta"] == pytest.approx(eta, abs=0.02)
    assert set(m) == set(FIELDS)


def test_classes_of_famous_fractions():
    pcfs = [PCF("2n+1", "n^2"), PCF("n+3", "-n"), PCF("2n+1", "n^2-3n"), PCF(1, -2), PCF("2n+1", "n^4")]
    m = metrics(pcfs)
    assert m["convergence_class"].tolist() == ["exponential", "factorial", "terminating", "divergent", "slow"]
    assert set(m["convergence_class"]) <= set(CLASSES)
    assert np.isnan(m["delta"][2]) and np.isnan(m["delta"][3])
    assert m["complex_eigen"][3] and m["eigen_log_ratio"][3] == 0.0


@given(polynomials(), polynomials())
def test_metrics_match_exact_reference(a, b):
    depth, sample, fit = 300, 150, (6, 40, 75, 150)
    m = metrics(PCF(a, b), depth=depth, sample=sample, fit_points=fit)
    assume(m["convergence_class"] in ("exponential", "factorial", "slow"))
    ref = naive.dynamics_reference(a, b, depth, sample, fit)
    assume(all(math.isfinite(v) for v in ref.values() if isinstance(v, float)))
    for key, expected in ref.items():
        got = m[key]
        if isinstance(expected, bool):
            assert got == expected, key
        else:
            assert got == pytest.approx(expected, rel=1e-6, abs=1e-6), key


def test_batch_and_arrays_agree_with_single():
    pcfs = [PCF("2n+1", "n^2"), PCF("n+3", "-n"), PCF(2, 1)]
    batch = metrics(pcfs)
    arrays = metrics(to_arrays(pcfs))
    for i, p in enumerate(pcfs):
        one = metrics(p)
        for key in FIELDS:
            assert batch[key][i] == arrays[key][i]
            if isinstance(one[key], float) and math.isnan(one[key]):
                assert math.isnan(batch[key][i])
            else:
                assert batch[key][i] == one[key]


def test_parallel_gcds_match_serial():
    rng = np.random.default_rng(3)
    rows = [
        (tuple(int(x) for x in rng.integers(1, 6, 3)), tuple(int(x) for x in rng.integers(1, 6, 3)))
        for _ in range(2500)
    ]
    serial = log_gcds(rows, [5, 20], workers=1)
    parallel = log_gcds(rows, [5, 20], workers=2)
    assert np.array_equal(serial, parallel)
    p, q = naive.convergents(rows[0][0], rows[0][1], 20)[20]
    assert serial[0, 1] == pytest.approx(math.log(math.gcd(p, q)))


def test_bad_arguments():
    with pytest.raises(ValueError, match="sample"):
        metrics(PCF(2, 1), depth=100, sample=100)
    with pytest.raises(ValueError, match="fit_points"):
        metrics(PCF(2, 1), depth=100, sample=50, fit_points=(6, 200, 50))
    with pytest.raises(ValueError, match="'x'"):
        metrics(["x"])


def test_exact_traces_agree_with_the_float_kernels_where_both_work():
    from discovery.pcf.dynamics import _exact_traces
    from discovery.pcf.kernels import error_traces

    pcf = PCF("2n+1", "n^2")
    A, B = pcf.as_arrays()
    points = [6, 125, 250, 500, 1000]
    tr = error_traces(A, B, 2000, points)
    limit, log_q, log_error = _exact_traces(pcf.a, pcf.b, 2000, points, 1e-6)
    assert limit == pytest.approx(tr.limit[0], rel=1e-12)
    np.testing.assert_allclose(log_q, tr.log_q[0], rtol=1e-9)
    np.testing.assert_allclose(log_error, tr.log_error[0], rtol=1e-6)


def test_a_high_degree_fraction_whose_floats_overflow_is_measured_not_called_divergent():
    m = metrics(PCF("n^50+1", "n^2"))
    assert m["convergence_class"] == "factorial"
    assert m["limit"] == pytest.approx(1.5, abs=1e-12)
    assert math.isfinite(m["delta"]) and math.isfinite(m["eigen_log_ratio"])
    # log|λ₊/λ₋| = 2 log a(n) - log b(n) at n = 10⁹, to leading order
    assert m["eigen_log_ratio"] == pytest.approx(2 * 50 * math.log(1e9) - 2 * math.log(1e9), rel=1e-9)
