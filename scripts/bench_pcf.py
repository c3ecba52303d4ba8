"""Throughput of the PCF evaluators against plain-Python baselines run in the same process.

Prints, for random PCFs of degree <= 2 with coefficients in [-5, 5] (a, b not identically zero):
- the numba float kernel at depth 1000, one thread and all cores, against a plain-Python float
  loop doing the same recurrence with the same rescaling;
- exact convergents at depth 1000, one PCF at a time (``exact.convergents``) and for the batch
  (``exact.walks``), against a plain Python-int recurrence.

Usage: python scripts/bench_pcf.py [--count 200000] [--depth 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np

from discovery import evaluate
from discovery.pcf import exact


def random_space(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random rows of the NeurIPS 2024 space: degree <= 2, coefficients in [-5, 5], a, b != 0."""
    A = rng.integers(-5, 6, size=(count, 3))
    B = rng.integers(-5, 6, size=(count, 3))
    zero = ~A.any(axis=1) | ~B.any(axis=1)
    while zero.any():
        A[zero] = rng.integers(-5, 6, size=(zero.sum(), 3))
        B[zero] = rng.integers(-5, 6, size=(zero.sum(), 3))
        zero = ~A.any(axis=1) | ~B.any(axis=1)
    return A, B


def python_float_limit(a, b, depth):
    """The float kernel's recurrence, written in plain Python."""
    p1, q1, p, q = 1.0, 0.0, float(a[-1]), 1.0
    for k in range(1, depth + 1):
        ak = (a[0] * k + a[1]) * k + a[2]
        bk = (b[0] * k + b[1]) * k + b[2]
        if bk == 0:
            return p / q if q else float("nan")
        p1, p = p, ak * p + bk * p1
        q1, q = q, ak * q + bk * q1
        if max(abs(p), abs(q)) > 2.0**600:
            p, q, p1, q1 = p * 2.0**-600, q * 2.0**-600, p1 * 2.0**-600, q1 * 2.0**-600
    return p / q if q else float("nan")


def python_int_convergent(a, b, depth):
    """Exact convergents by the textbook recurrence on Python ints."""
    p1, q1, p, q = 1, 0, a[-1], 1
    for k in range(1, depth + 1):
        ak = (a[0] * k + a[1]) * k + a[2]
        bk = (b[0] * k + b[1]) * k + b[2]
        p1, p = p, ak * p + bk * p1
        q1, q = q, ak * q + bk * q1
    return p, q


def rate(fn, count, repeats):
    """Median items per second of ``fn()`` processing ``count`` items."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return count / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-count", type=int, default=300)
    parser.add_argument("--exact-count", type=int, default=1000)
    args = parser.parse_args()
    rng = np.random.default_rng(2024)
    A, B = random_space(args.count, rng)
    cores = numba.config.NUMBA_NUM_THREADS
    evaluate(A[:8], B[:8], 10)  # compile outside the timings

    numba.set_num_threads(1)
    single = rate(lambda: evaluate(A, B, args.depth), args.count, args.repeats)
    numba.set_num_threads(cores)
    multi = rate(lambda: evaluate(A, B, args.depth), args.count, args.repeats)
    rows_a, rows_b = A[: args.baseline_count].tolist(), B[: args.baseline_count].tolist()
    py_float = rate(
        lambda: [python_float_limit(a, b, args.depth) for a, b in zip(rows_a, rows_b)],
        args.baseline_count,
        1,
    )
    status = np.bincount(evaluate(A, B, args.depth).status, minlength=6)

    rows_a, rows_b = A[: args.exact_count].tolist(), B[: args.exact_count].tolist()
    fast_exact = rate(
        lambda: [exact.convergents(a, b, [args.depth]) for a, b in zip(rows_a, rows_b)],
        args.exact_count,
        args.repeats,
    )
    batch_exact = rate(
        lambda: exact.walks(A[: args.exact_count], B[: args.exact_count], [args.depth], previous=False),
        args.exact_count,
        args.repeats,
    )
    py_exact = rate(
        lambda: [python_int_convergent(a, b, args.depth) for a, b in zip(rows_a, rows_b)],
        args.exact_count,
        1,
    )

    print(f"PCFs: {args.count:,} random, degree <= 2, coefficients in [-5, 5], depth {args.depth}")
    print(f"statuses (converged, terminated, q=0, non-finite, oscillating, not converged): {status.tolist()}")
    print(f"{'measure':<42}{'rate':>16}{'ratio':>10}")
    print(f"{'plain-Python float loop (baseline)':<42}{py_float:>14,.0f}/s{1.0:>10.1f}")
    print(f"{'numba float kernel, 1 thread':<42}{single:>14,.0f}/s{single / py_float:>10.1f}")
    print(f"{f'numba float kernel, {cores} threads':<42}{multi:>14,.0f}/s{multi / py_float:>10.1f}")
    print(f"{'  scaling 1 -> ' + str(cores) + ' threads':<42}{'':>16}{multi / single:>10.2f}")
    print(f"{'plain Python-int convergents (baseline)':<42}{py_exact:>14,.0f}/s{1.0:>10.1f}")
    print(f"{'exact convergents one PCF at a time':<42}{fast_exact:>14,.0f}/s{fast_exact / py_exact:>10.1f}")
    print(f"{'exact convergents of the batch (walks)':<42}{batch_exact:>14,.0f}/s{batch_exact / py_exact:>10.1f}")


if __name__ == "__main__":
    main()
