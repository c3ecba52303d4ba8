"""Programs evaluated per minute by ``discovery programs evolve``: this checkout against an earlier
revision of the project, on the same targets, budgets and seeds, runs interleaved.

Each revision runs from its own git worktree (made in a temporary folder with ``git worktree add
--detach``, removed at the end) as a separate ``python -m discovery programs evolve`` process;
programs evaluated are read from the command's closing line and divided by the process's wall
time, so the rate is that of the whole command (seeding and verification included).  A short run
of each revision first compiles its numba kernels into its own cache, outside the timings.  The
runs alternate (before, after, before, after, ...), so that load from other processes falls on
both alike.

The default baseline is the revision before the throughput work of issue 23 (15dfb55: fits
remembered per structure, 8 starts for the front's neighbours).

    python scripts/bench_program_throughput.py [--minutes 3] [--rounds 1] [--baseline 15dfb55~1]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GIT = shutil.which("git") or "git"
# name -> (target, interval)
TARGETS = {"log2": ("log2", ("1", "2")), "exp2": ("exp2", ("0", "1"))}
_EVALUATED = re.compile(r"(\d[\d,]*) generations?, (\d[\d,]*) programs evaluated")


def evolve(tree: Path, target: str, interval: tuple[str, str], minutes: float, seed: int) -> tuple[int, int, float]:
    """(generations, programs evaluated, wall seconds) of one ``programs evolve`` run of a tree."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NUMBA_CACHE_DIR": str(tree / ".numba-cache")}
    cmd = [sys.executable, "-m", "discovery", "programs", "evolve", "--target", target, "--interval", *interval,
           "--max-ops", "10", "--minutes", str(minutes), "--seed", str(seed), "--quiet"]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, check=False)  # noqa: S603 - ours
    wall = time.perf_counter() - start
    found = _EVALUATED.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{tree}: programs evolve failed ({done.returncode}):\n{done.stdout[-2000:]}\n"
                         f"{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), int(found.group(2).replace(",", "")), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="budget of each run")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each revision per target")
    parser.add_argument("--baseline", default="15dfb55~1", help="git revision to compare with")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=list(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not 0.1 <= args.minutes <= 120 or not 1 <= args.rounds <= 10:
        parser.error("--minutes is 0.1 to 120 and --rounds 1 to 10")
    with tempfile.TemporaryDirectory() as tmp:
        before = Path(tmp) / "before"
        made = subprocess.run([GIT, "-C", str(ROOT), "worktree", "add", "--detach", str(before), args.baseline],  # noqa: S603
                              capture_output=True, text=True, check=False)
        if made.returncode != 0:
            raise SystemExit(f"cannot check out {args.baseline!r}: {made.stderr.strip()}")
        try:
            trees = {"before": before, "after": ROOT}
            for tree in trees.values():  # numba compiles into each tree's cache here, untimed
                evolve(tree, "exp2", ("0", "1"), 0.1, args.seed)
            print(f"programs evolve --max-ops 10 --minutes {args.minutes:g}: before = {args.baseline}, "
                  f"after = this checkout; programs evaluated per minute of the whole command")
            print(f"{'target':8}{'round':>6}{'before/min':>12}{'after/min':>11}{'after/before':>14}"
                  f"{'generations before, after':>28}{'wall s before, after':>23}")
            for name in args.targets:
                target, interval = TARGETS[name]
                rates = {"before": [], "after": []}
                for r in range(args.rounds):
                    gens, walls = {}, {}
                    for label, tree in trees.items():
                        gens[label], evaluated, walls[label] = evolve(tree, target, interval, args.minutes,
                                                                      args.seed + r)
                        rates[label].append(evaluated / (walls[label] / 60))
                    print(f"{name:8}{r + 1:>6}{rates['before'][-1]:>12,.0f}{rates['after'][-1]:>11,.0f}"
                          f"{rates['after'][-1] / rates['before'][-1]:>13.2f}x{gens['before']:>17,}, "
                          f"{gens['after']:<10,}{walls['before']:>13.0f}, {walls['after']:.0f}", flush=True)
        finally:
            subprocess.run([GIT, "-C", str(ROOT), "worktree", "remove", "--force", str(before)],  # noqa: S603
                           capture_output=True, check=False)


if __name__ == "__main__":
    main()
