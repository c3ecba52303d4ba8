"""Structure fits of the front exploration (the search's hot spot): before and after, one process.

The front exploration fits every structural neighbour of the front to the target's minimax
rational (:func:`discovery.programs.projection.rational_start`, 16 Gauss-Newton starts each).  This
times those fits for the neighbours of classical programs of exp2 on [0, 1] and log2 on [1, 2],
alternating the earlier dual-number product (``np.vstack``, no memory of fits) with the current one
(products into one array, fits remembered per structure, exploring the same front twice as the
search does when neighbours of several front programs coincide), and prints the ratio.

Usage: python scripts/bench_program_fits.py [--neighbours 24] [--repeats 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from discovery.programs import projection
from discovery.programs.baselines import classical_programs
from discovery.programs.moves import front_neighbours
from discovery.programs.targets import make_target


def _old_mul(self, other):
    if not isinstance(other, projection._Dual):
        return projection._Dual(self.rows * other)
    a, b = self.rows, other.rows
    return projection._Dual(np.vstack([a[:1] * b[:1], a[1:] * b[:1] + a[:1] * b[1:]]))


def neighbours(target, count: int) -> list:
    centre = 0.5 * sum(target.interval)
    out = []
    for prog in classical_programs(target, 8):
        out += [c.deduplicated() for c in front_neighbours(prog, ("add", "sub", "mul", "div"), centre)]
    rng = np.random.default_rng(0)
    return [out[i] for i in rng.choice(len(out), size=min(count, len(out)), replace=False)]


def timed(programs, target, old: bool, passes: int) -> float:
    new_mul = projection._Dual.__mul__
    projection._FITS.clear()
    began = time.perf_counter()
    try:
        if old:
            projection._Dual.__mul__ = _old_mul
            projection._FITS_MAX = 0  # nothing remembered
        # The search meets these structures again (other front programs, later generations).
        for _ in range(passes):
            projection.rational_start(programs, target, thorough=True)
    finally:
        projection._Dual.__mul__ = new_mul
        projection._FITS_MAX = 4096
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neighbours", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    for name, interval in (("exp2", (0.0, 1.0)), ("log2", (1.0, 2.0))):
        target = make_target(name, interval)
        progs = neighbours(target, args.neighbours)
        for passes in (1, 2):
            before = min(timed(progs, target, True, passes) for _ in range(args.repeats))
            after = min(timed(progs, target, False, passes) for _ in range(args.repeats))
            fits = passes * len(progs)
            print(f"{name}: {len(progs)} neighbours fitted {passes}x: before {before:.1f} s, after {after:.1f} s, "
                  f"{before / after:.2f}x ({60 * fits / before:.0f} -> {60 * fits / after:.0f} fits per minute)",
                  flush=True)


if __name__ == "__main__":
    main()
