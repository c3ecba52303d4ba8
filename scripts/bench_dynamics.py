"""Full convergence-dynamics metric set per second, against a plain exact-integer implementation
and against the engine's previous exact stage.

Measures :func:`discovery.pcf.dynamics.metrics` (reference depth 2000, sample 1000) over random
converging PCFs of degree <= 2 with coefficients in [-5, 5], on one core and on all cores, and a
plain gmpy2 implementation of the same metrics (exact convergents, exact errors, gcd) on a subset,
in the same process.  "before" is the same ``metrics`` with its exact stage (the gcds of the
convergents) and its least-squares fits as they were until the batch walk
(:func:`discovery.pcf.exact.walks`): one binary-splitting walk per PCF in gmpy2 and one lstsq
with a right-hand side per PCF, kept below as frozen reference code; the two runs alternate in
slices so that load from other processes on the machine falls on both alike.

Usage: python scripts/bench_dynamics.py [--count 20000] [--baseline-count 100] [--before-count 3000]
"""

from __future__ import annotations

import argparse
import math
import os
import time
from unittest import mock

import gmpy2
import numba
from gmpy2 import mpz
import numpy as np

from discovery import Status, evaluate
from discovery.pcf import dynamics
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


# --- the exact stage before the batch walk (frozen copy; the bench's "before") -------------------

def _before_values(coeffs, start, stop):
    bound = sum(abs(c) for c in coeffs) * max(1, abs(stop)) ** (len(coeffs) - 1)
    if bound < 2**62:
        ks = np.arange(start, stop, dtype=np.int64)
        vals = np.zeros_like(ks)
        for c in coeffs:
            vals = vals * ks + c
        return [mpz(int(v)) for v in vals]
    return [mpz(polyval(coeffs, k)) for k in range(start, stop)]


def _before_product(av, bv, lo, hi):
    if hi - lo <= 48:
        x, y, z, w = mpz(1), mpz(0), mpz(0), mpz(1)
        for k in range(lo, hi):
            a, b = av[k], bv[k]
            x, y = x * a + y * b, x
            z, w = z * a + w * b, z
        return x, y, z, w
    mid = (lo + hi) // 2
    x1, y1, z1, w1 = _before_product(av, bv, lo, mid)
    x2, y2, z2, w2 = _before_product(av, bv, mid, hi)
    return x1 * x2 + y1 * z2, x1 * y2 + y1 * w2, z1 * x2 + w1 * z2, z1 * y2 + w1 * w2


def _before_walk(a, b, depths):
    wanted = sorted(set(depths))
    top = wanted[-1]
    av = [mpz(0)] + _before_values(a, 1, top + 1)
    bv = [mpz(0)] + _before_values(b, 1, top + 1)
    p, p_prev, q, q_prev = mpz(polyval(a, 0)), mpz(1), mpz(1), mpz(0)
    found, done = {}, 0
    for d in wanted:
        if d > done:
            x, y, z, w = _before_product(av, bv, done + 1, d + 1)
            p, p_prev = p * x + p_prev * z, p * y + p_prev * w
            q, q_prev = q * x + q_prev * z, q * y + q_prev * w
            done = d
        found[d] = (p, q, p_prev, q_prev)
    return found


def before_log_gcds(rows, depths, workers=None):
    """log gcd(p_n, q_n) as dynamics computed it before: one gmpy2 walk per PCF."""
    out = np.full((len(rows), len(depths)), np.nan)
    for i, (a, b) in enumerate(rows):
        found = _before_walk(a, b, depths)
        for j, d in enumerate(depths):
            p, q = found[d][:2]
            if q:
                out[i, j] = float(gmpy2.log(abs(gmpy2.gcd(p, q))))
    return out


def before_fit(x_columns, Y):
    """The least-squares fits as dynamics computed them before: one lstsq for all complete rows."""
    X = np.column_stack(x_columns)
    coef = np.full((Y.shape[0], X.shape[1]), np.nan)
    ok = np.isfinite(Y).all(axis=1)
    if ok.any():
        coef[ok] = np.linalg.lstsq(X, Y[ok].T, rcond=None)[0].T
    for i in np.nonzero(~ok)[0]:
        keep = np.isfinite(Y[i])
        if keep.sum() >= X.shape[1]:
            coef[i] = np.linalg.lstsq(X[keep], Y[i, keep], rcond=None)[0]
    return coef


def before_and_after(A, B, slices=6):
    """One-core rates (PCFs/s) of metrics with the frozen exact stage and with today's, alternating
    slices of the same PCFs; and the largest difference between their values."""
    t_before = t_after = 0.0
    worst = 0.0
    for part in np.array_split(np.arange(len(A)), slices):
        t0 = time.perf_counter()
        with mock.patch.object(dynamics, "log_gcds", before_log_gcds), mock.patch.object(dynamics, "_fit", before_fit):
            old = metrics((A[part], B[part]), workers=1)
        t_before += time.perf_counter() - t0
        t0 = time.perf_counter()
        new = metrics((A[part], B[part]), workers=1)
        t_after += time.perf_counter() - t0
        for key, v in new.items():
            if v.dtype.kind == "f":
                both = np.isfinite(v) & np.isfinite(old[key])
                assert (np.isfinite(v) == np.isfinite(old[key])).all(), key
                worst = max(worst, float(np.max(np.abs(v[both] - old[key][both]), initial=0.0)))
            else:
                assert (v == old[key]).all(), key
    return len(A) / t_before, len(A) / t_after, worst


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
    parser.add_argument("--before-count", type=int, default=3000)
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    A, B = sample_box(3 * args.count, seed=11)
    ok = evaluate(A, B, 2000, rtol=1e-6).status == Status.CONVERGED
    A, B = A[ok][: args.count], B[ok][: args.count]
    metrics((A[:64], B[:64]))  # compile outside the timings

    numba.set_num_threads(1)
    k = min(args.before_count, len(A))
    before, after, change = before_and_after(A[:k], B[:k])
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
    print(f"{'  the same before the batch walk, 1 core':<46}{before:>12,.0f}{before / baseline:>10.1f}")
    print(f"{f'discovery metrics, {cores} cores':<46}{multi:>12,.0f}{multi / baseline:>10.1f}")
    print(f"largest difference from the exact baseline over {m} PCFs: {worst:.2e}")
    print(f"metrics, 1 core, today / before the batch walk (alternating slices of {k:,} PCFs): "
          f"{after / before:.2f}x ({after:,.0f} vs {before:,.0f} PCFs/s); values differ by at most {change:.1e}")
    print(f"1,543,000 converging PCFs (the NeurIPS 2024 space) at this rate: {1_543_000 / multi / 3600:.2f} h")


if __name__ == "__main__":
    main()
