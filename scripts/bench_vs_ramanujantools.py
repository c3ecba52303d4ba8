"""This engine against ramanujantools (the Ramanujan Machine group's library) on the same work, in
the same run, one core each.

- **exact convergents**: p_N, q_N at depth N = 1,000 of the same random converging PCFs (degree
  <= 2, coefficients in [-5, 5], a fixed seed): :func:`discovery.pcf.exact.walks` on the batch
  against ``ramanujantools.pcf.PCF.limit(N)`` one PCF at a time.  The integers must be equal.
- **δ at depth N**: the full metric set of :func:`discovery.pcf.dynamics.metrics` (reference depth
  2N, sample N, which includes the reduced-denominator δ) against ``PCF.delta(N)`` (reduced
  p_N/q_N against the limit at depth 2N).  The values must agree to ``--tolerance`` (1e-9).
- **CMF trajectory walks** at depth N: :meth:`discovery.cmf.field.StepPolynomials.walk` against
  ``ramanujantools.cmf`` ``CMF.limit``, on a few trajectories of known CMFs, limits agreeing to 50
  digits.

ramanujantools takes sympy expressions, built before any clock starts (sympy's cache is emptied
before each measure); its rates are printed twice: for ``PCF(a, b)`` and the call (what a script
that meets a new PCF runs) and for the call alone.  This engine's time counts everything from
coefficient arrays to values.  The two sides alternate
in slices of the PCFs, so that load from other processes falls on both alike.  Numba runs on one
thread.

    PYTHONPATH=. python scripts/bench_vs_ramanujantools.py [--count 1000] [--seed 2024] [--depth 1000]
"""

from __future__ import annotations

import argparse
import math
import time

import mpmath
import numba
import numpy as np
import sympy
from sympy.core.cache import clear_cache

from discovery import Status, evaluate
from discovery.campaign.pcf import fit_points
from discovery.cmf import known_cmf
from discovery.pcf import exact
from discovery.pcf.dynamics import FIT_POINTS, metrics
from discovery.pcf.space import sample_box

CMF_CASES = [("zeta3", (1, 1), (1, 1)), ("e", (1, 1), (1, 1)), ("pi", (1, 1), (1, 1)), ("ln2", (2, 1), (1, 2))]


def pcfs(count: int, seed: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random PCFs of degree <= 2, coefficients in [-5, 5], converging at depth 2·depth."""
    A, B = sample_box(8 * count + 100, seed=seed)
    ok = evaluate(A, B, 2 * depth, rtol=1e-6).status == Status.CONVERGED
    A, B = A[ok][:count], B[ok][:count]
    if len(A) < count:
        raise SystemExit(f"only {len(A)} converging PCFs in the sample; ask for fewer")
    return A, B


def as_sympy(row: np.ndarray, n: sympy.Symbol) -> sympy.Expr:
    return sum(int(c) * n**k for k, c in enumerate(reversed(row.tolist())))


def _chunks(count: int) -> list[np.ndarray]:
    """Slices that alternate the two sides, so that load from other processes falls on both alike."""
    return np.array_split(np.arange(count), max(1, min(20, count // 25)))


def _line(label: str, count: int, t_build: float, t_call: float, t_ours: float, agreement: str) -> None:
    rt_build = f"{count / (t_build + t_call):,.1f}" if t_build else ""
    ratio_build = f"{(t_build + t_call) / t_ours:.0f}x" if t_build else ""
    print(f"{label:<34}{rt_build:>11}{count / t_call:>9,.1f}{count / t_ours:>11,.0f}{ratio_build:>11}"
          f"{f'{t_call / t_ours:.0f}x':>9}   {agreement}")


def convergents(A, B, exprs, depth: int) -> None:
    from ramanujantools.pcf import PCF as RamanujanPCF

    clear_cache()
    t_ours = t_build = t_call = 0.0
    equal = 0
    for part in _chunks(len(A)):
        t0 = time.perf_counter()
        ours = exact.walks(A[part], B[part], [depth], previous=False)
        t_ours += time.perf_counter() - t0
        for found, i in zip(ours, part):
            t0 = time.perf_counter()
            theirs = RamanujanPCF(*exprs[i])
            t1 = time.perf_counter()
            lim = theirs.limit(depth)
            t2 = time.perf_counter()
            t_build, t_call = t_build + t1 - t0, t_call + t2 - t1
            p, q = found[depth]
            equal += int(lim.p()) == int(p) and int(lim.q()) == int(q)
    _line("exact convergent p_N, q_N", len(A), t_build, t_call, t_ours, f"{equal}/{len(A)} equal integers")


def deltas(A, B, exprs, depth: int, tolerance: float) -> None:
    from ramanujantools.pcf import PCF as RamanujanPCF

    clear_cache()
    points = FIT_POINTS if depth == 1000 else fit_points(depth)
    t_ours = t_build = t_call = 0.0
    diffs, skipped = [], 0
    for part in _chunks(len(A)):
        t0 = time.perf_counter()
        ours = metrics((A[part], B[part]), depth=2 * depth, sample=depth, fit_points=points, workers=1)["delta"]
        t_ours += time.perf_counter() - t0
        for d, i in zip(ours, part):
            t0 = time.perf_counter()
            theirs = RamanujanPCF(*exprs[i])
            t1 = time.perf_counter()
            delta = float(theirs.delta(depth))
            t2 = time.perf_counter()
            t_build, t_call = t_build + t1 - t0, t_call + t2 - t1
            if math.isfinite(delta) and math.isfinite(d):
                diffs.append(abs(delta - d))
            else:  # q_N = 1 or a limit met exactly: no δ either side can compare
                skipped += int(math.isfinite(delta) != math.isfinite(d))
    worst = max(diffs, default=0.0)
    within = sum(x <= tolerance for x in diffs)
    _line("δ at depth N (ours: all metrics)", len(A), t_build, t_call, t_ours,
          f"{within}/{len(diffs)} within {tolerance:.0e} (largest {worst:.1e}); {skipped} finite on one side only")


def cmf_walks(depth: int, repeat: int) -> None:
    from ramanujantools.cmf import known_cmfs

    x, y = sympy.symbols("x y")
    t_ours = t_rt = 0.0
    agree = 0
    for name, direction, start in CMF_CASES:
        steps = known_cmf(name).compiled(direction, start)
        theirs = getattr(known_cmfs, name if name != "ln2" else "cmf1")()
        if name == "ln2":
            c = sympy.symbols("c:4")
            theirs = theirs.subs({c[0]: 0, c[1]: 1, c[2]: 0, c[3]: 1})
        traj, pos = {x: direction[0], y: direction[1]}, {x: start[0], y: start[1]}
        for _ in range(repeat):
            t0 = time.perf_counter()
            walk = steps.walk(depth)
            t_ours += time.perf_counter() - t0
            t0 = time.perf_counter()
            limit = theirs.limit(traj, depth, pos)
            t_rt += time.perf_counter() - t0
        rational = limit.as_rational()
        with mpmath.workdps(60):
            agree += abs(mpmath.mpf(rational.p) / rational.q - walk.value(60)) < mpmath.mpf(10) ** -50
    count = len(CMF_CASES) * repeat
    _line("CMF trajectory walk", count, 0.0, t_rt, t_ours,
          f"{agree}/{len(CMF_CASES)} limits agree to 50 digits ({', '.join(c[0] for c in CMF_CASES)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--tolerance", type=float, default=1e-9)
    parser.add_argument("--cmf-repeat", type=int, default=3)
    args = parser.parse_args()
    if not 1 <= args.count <= 100_000 or not 20 <= args.depth <= 20_000 or not 0 <= args.cmf_repeat <= 20:
        parser.error("--count is 1 to 100000, --depth 20 to 20000, --cmf-repeat 0 to 20")
    try:
        import ramanujantools.pcf  # noqa: F401
    except ImportError:
        raise SystemExit("ramanujantools is not installed: pip install -e '.[test]'") from None

    numba.set_num_threads(1)
    A, B = pcfs(args.count, args.seed, args.depth)
    exact.walks(A[:2], B[:2], [args.depth])  # compile outside the timings
    metrics((A[:2], B[:2]), depth=2 * args.depth, sample=args.depth,
            fit_points=FIT_POINTS if args.depth == 1000 else fit_points(args.depth), workers=1)
    n = sympy.Symbol("n")
    exprs = [(as_sympy(a, n), as_sympy(b, n)) for a, b in zip(A, B)]

    print(f"{len(A):,} random converging PCFs (degree <= 2, coefficients in [-5, 5], seed {args.seed}), "
          f"N = {args.depth:,}, one core each")
    print(f"{'':<34}{'ramanujantools /s':>20}{'discovery':>11}{'ratio':>20}")
    print(f"{'':<34}{'PCF()+call':>11}{'call':>9}{'/s':>11}{'PCF()+call':>11}{'call':>9}")
    convergents(A, B, exprs, args.depth)
    deltas(A, B, exprs, args.depth, args.tolerance)
    if args.cmf_repeat:
        cmf_walks(args.depth, args.cmf_repeat)


if __name__ == "__main__":
    main()
