"""Throughput of :func:`discovery.pcf.equivalence.equivalence_key` and :func:`relation`.

Random PCFs of degree (2, 2) with coefficients in [-5, 5] (leading coefficients non-zero); prints
keys per second, relations per second on equivalent pairs (a PCF and a doubled tail of it) and
how many distinct keys the sample holds.

Usage: python scripts/bench_equivalence.py [--count 20000] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from discovery.pcf.equivalence import equivalence_key, relation
from discovery.pcf.formula import PCF


def random_pcfs(count: int, rng: np.random.Generator) -> list[PCF]:
    coeffs = rng.integers(-5, 6, size=(count, 6))
    coeffs[:, 0] = rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5], size=count)
    coeffs[:, 3] = rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5], size=count)
    return [PCF(list(map(int, row[:3])), list(map(int, row[3:]))) for row in coeffs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pcfs = random_pcfs(args.count, np.random.default_rng(args.seed))

    start = time.perf_counter()
    keys = [equivalence_key(p) for p in pcfs]
    elapsed = time.perf_counter() - start
    print(f"equivalence_key: {len(pcfs) / elapsed:,.0f} keys/s ({elapsed / len(pcfs) * 1e6:.1f} µs each), "
          f"{len(set(keys)):,} distinct keys in {len(pcfs):,} PCFs, longest {max(map(len, keys))} characters")

    pairs = [(p, PCF([c * 2 for c in t.a], [c * 4 for c in t.b])) for p in pcfs[:2000] for t in [p.shift(3)]]
    start = time.perf_counter()
    found = sum(relation(p, q) is not None for p, q in pairs)
    elapsed = time.perf_counter() - start
    print(f"relation: {len(pairs) / elapsed:,.0f} pairs/s ({found:,} of {len(pairs):,} related; "
          f"the rest terminate)")


if __name__ == "__main__":
    main()
