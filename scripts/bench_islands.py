"""Islands against one population, in the same wall time on this machine's two cores.

Runs the program campaign of ``--target`` twice for ``--minutes`` each: one population (numba's
kernels on both cores) and two islands on a 2-worker local pool (one core each, migrating every
``--migrate-every`` generations), both with the same seed family, and prints their stored Pareto
fronts side by side with the ratio of scanned maximum errors at every operation count.

Usage: python scripts/bench_islands.py [--minutes 3] [--target exp2] [--interval 0 1] [--max-ops 10]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from pathlib import Path

from discovery.campaign import run_campaign

TOLERANCE = 0.01

CONFIG = """
[campaign]
name = "{name}"
kind = "program"
seed = 7

[target]
name = "{target}"
interval = [{lo}, {hi}]
max_ops = {max_ops}

[search]
minutes = {minutes}
population = 100

[execution]
workers = 2
islands = {islands}
migrate_every = {migrate_every}
"""


def front(db: Path) -> dict[int, float]:
    with sqlite3.connect(db) as conn:
        return dict(conn.execute("SELECT ops, max_error FROM formulas WHERE kind = 'program'"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--target", default="exp2")
    parser.add_argument("--interval", type=float, nargs=2, default=(0.0, 1.0))
    parser.add_argument("--max-ops", type=int, default=10)
    parser.add_argument("--migrate-every", type=int, default=5)
    args = parser.parse_args()
    fronts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, islands in (("one population, 2 cores", 1), ("2 islands, 2 workers", 2)):
            path = Path(tmp) / f"i{islands}.toml"
            path.write_text(CONFIG.format(name=f"islands-{islands}", target=args.target, lo=args.interval[0],
                                          hi=args.interval[1], max_ops=args.max_ops, minutes=args.minutes,
                                          islands=islands, migrate_every=args.migrate_every))
            result = run_campaign(path, Path(tmp) / f"i{islands}.db", progress=False)
            fronts[label] = front(Path(tmp) / f"i{islands}.db")
            print(f"{label}: {result.candidates:,} programs evaluated in {result.wall_time:.0f} s", flush=True)
    one, two = fronts.values()
    print(f"{args.target} on [{args.interval[0]}, {args.interval[1]}], scanned max error of the stored fronts")
    print(f"{'ops':>4} {'one population':>15} {'2 islands':>12} {'islands better by':>18}")
    at_least_as_good = True
    for ops in range(1, args.max_ops + 1):
        # A front without a program of some cost is as good there as its best program of fewer ops.
        best_one = min((e for c, e in one.items() if c <= ops), default=float("inf"))
        best_two = min((e for c, e in two.items() if c <= ops), default=float("inf"))
        # Scanned errors of the same structure differ in their fourth digit from run to run.
        at_least_as_good &= best_two <= best_one * (1 + TOLERANCE)
        print(f"{ops:>4} {best_one:>15.5e} {best_two:>12.5e} {best_one / best_two:>17.4f}x")
    print(f"islands at least as good at every operation count (within {TOLERANCE:.0%}): "
          f"{'yes' if at_least_as_good else 'no'}")


if __name__ == "__main__":
    main()
