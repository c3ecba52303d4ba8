"""Program evaluations per second: the numba interpreter against numpy, in the same process.

Random 20-operation programs (+, -, ×, ÷, 4 constants) evaluated with their maximum relative
error against 2^x on 1,000 points: the numba population interpreter on one thread and on all
cores, and a numpy baseline that runs one array operation per instruction.

Usage: python scripts/bench_programs.py [--programs 20000] [--baseline-programs 1000]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from discovery.programs.graph import random_program
from discovery.programs.kernels import pack, population_errors

_NUMPY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}


def numpy_max_error(program, X, T, W):
    """One numpy array operation per instruction, then the maximum weighted error."""
    vals = [X] + [np.full_like(X, c) for c in program.consts]
    for op, (a, b, _) in program.instructions:
        vals.append(_NUMPY[op](vals[a], vals[b]))
    err = np.abs(vals[program.output] - T) * W
    return err.max() if np.all(np.isfinite(err)) else np.inf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=20_000)
    parser.add_argument("--baseline-programs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    programs = [random_program(rng, 20, 4) for _ in range(args.programs)]
    X = np.linspace(0, 1, 1000)
    T = np.exp2(X)
    W = 1 / np.abs(T)
    packed = pack(programs)
    population_errors(pack(programs[:10]), X, T)  # compile outside the timings

    def rate(threads):
        numba.set_num_threads(threads)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            population_errors(packed, X, T)
            times.append(time.perf_counter() - t0)
        return args.programs / float(np.median(times))

    cores = numba.config.NUMBA_NUM_THREADS
    single = rate(1)
    multi = rate(cores)
    subset = programs[: args.baseline_programs]
    with np.errstate(all="ignore"):
        t0 = time.perf_counter()
        ref = [numpy_max_error(p, X, T, W) for p in subset]
        baseline = len(subset) / (time.perf_counter() - t0)
    got = population_errors(pack(subset), X, T)
    agree = np.allclose(got, ref, rtol=1e-12, equal_nan=True) or np.array_equal(np.isinf(got), np.isinf(np.array(ref)))
    print(f"{args.programs:,} random programs of 20 operations, 1,000 points, max relative error vs 2^x")
    print(f"{'evaluator':<40}{'programs/s':>14}{'ratio':>8}")
    print(f"{'numpy, one array op per instruction':<40}{baseline:>14,.0f}{1.0:>8.1f}")
    print(f"{'numba interpreter, 1 thread':<40}{single:>14,.0f}{single / baseline:>8.1f}")
    print(f"{f'numba interpreter, {cores} threads':<40}{multi:>14,.0f}{multi / baseline:>8.1f}")
    print(f"errors agree with the numpy baseline: {agree}")


if __name__ == "__main__":
    main()
