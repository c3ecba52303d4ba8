"""Full convergence-dynamics metric set per second, against a plain exact-integer implementation.

Measures :func:`discovery.pcf.dynamics.metrics` (reference depth 2000, sample 1000) over random
converging PCFs of degree <= 2 with coefficients in [-5, 5], on one core and on all cores, and a
plain gmpy2 implementation of the same metrics (exact convergents, exact errors, gcd) on a subset,
in the same process.

Usage: python scripts/bench_dynamics.py [--count 20000] [--baseline-count 100]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import gmpy2
import numba
from gmpy2 import mpz
import numpy as np

from discovery import Status, evaluate
from discovery.pcf.dynamics import FIT_POINTS, eigenvalues, metrics
from discovery.pcf.exact import polyval
from discovery.pcf.space import sample_box


def _log(x) -> float:
    return float(gmpy2.log(abs(x)))


def plain_walk(a, b, depths):
    """Convergents at the given depths by the plain recurrence on gmpy2 integers."""
    wanted = set(depths)
    p1, p, q1, q = mpz(1), mpz(polyval(a, 0)), mpz(0), mpz(1)
    found = {}
    for k in range(1, max(depths) + 1):
        ak, bk = mpz(polyval(a, k)), mpz(polyval(b, k))
        p1, p = p, ak * p + bk * p1
        q1, q = q, ak * q + bk * q1
        if k in wanted:
            found[k] = (p, q)
    return found


def exact_metrics(a, b, depth=2000, sample=1000, fit_points=FIT_POINTS):
    """The same metrics from exact gmpy2 convergents at every depth, one PCF at a time."""
    points = sorted(set(fit_points) | {sample})
    found = plain_walk(a, b, [*points, depth])
    pN, qN = found[depth][:2]
    log_q, log_qr, log_err = {}, {}, {}
    for n in points:
        p, q = found[n][:2]
        log_q[n] = _log(q)
        log_qr[n] = _log(q // gmpy2.gcd(p, q))
        log_err[n] = _log(pN * q - p * qN) - _log(qN) - _log(q)
    nf = np.array(fit_points, dtype=float)

    def fit(cols, y):
        return np.linalg.lstsq(np.column_stack(cols), y, rcond=None)[0]

    yq = np.array([log_qr[n] for n in fit_points])
    ye = np.array([log_err[n] for n in fit_points])
    g, e, _ = fit([nf, nf * np.log(nf), np.ones_like(nf)], yq)
    if abs(e) < 0.05:
        g, e = fit([nf, np.ones_like(nf)], yq)[0], 0.0
    beta, gamma, eta = fit([np.log(nf), nf, nf * np.log(nf)], ye)
    if abs(eta) < 0.05:
        (beta, gamma), eta = fit([np.log(nf), nf], ye), 0.0
    ratio, cplx = eigenvalues(np.array([a]), np.array([b]))
    return {
        "delta": -log_err[sample] / log_qr[sample] - 1,
        "naive_delta": -log_err[sample] / log_q[sample] - 1,
        "gamma_prime": g, "eta_prime": e, "beta": beta, "gamma": gamma, "eta": eta,
        "predicted_delta": abs(ratio[0]) / (g + e * math.log(1e9)) - 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--baseline-count", type=int, default=100)
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    A, B = sample_box(3 * args.count, seed=11)
    ok = evaluate(A, B, 2000, rtol=1e-6).status == Status.CONVERGED
    A, B = A[ok][: args.count], B[ok][: args.count]
    metrics((A[:64], B[:64]))  # compile outside the timings

    numba.set_num_threads(1)
    t0 = time.perf_counter()
    metrics((A, B), workers=1)
    single = len(A) / (time.perf_counter() - t0)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    t0 = time.perf_counter()
    fast = metrics((A, B), workers=cores)
    multi = len(A) / (time.perf_counter() - t0)

    m = args.baseline_count
    rows = [(tuple(int(c) for c in A[i]), tuple(int(c) for c in B[i])) for i in range(m)]
    t0 = time.perf_counter()
    slow = [exact_metrics(a, b) for a, b in rows]
    baseline = m / (time.perf_counter() - t0)
    worst = max(
        abs(slow[i][k] - fast[k][i]) for i in range(m) for k in slow[i] if math.isfinite(slow[i][k])
    )

    print(f"{len(A):,} random converging PCFs, degree <= 2, coefficients in [-5, 5]; depth 2000, sample 1000")
    print(f"{'measure':<46}{'PCFs/s':>12}{'ratio':>10}")
    print(f"{'plain gmpy2 exact metrics (baseline, 1 core)':<46}{baseline:>12,.0f}{1.0:>10.1f}")
    print(f"{'discovery metrics, 1 core':<46}{single:>12,.0f}{single / baseline:>10.1f}")
    print(f"{f'discovery metrics, {cores} cores':<46}{multi:>12,.0f}{multi / baseline:>10.1f}")
    print(f"largest difference from the exact baseline over {m} PCFs: {worst:.2e}")
    print(f"1,543,000 converging PCFs (the NeurIPS 2024 space) at this rate: {1_543_000 / multi / 3600:.2f} h")


if __name__ == "__main__":
    main()
