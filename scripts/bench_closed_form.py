"""Benchmark of :func:`discovery.pcf.closed_form.closed_form` on random degree-(1, 2) PCFs.

Draws random PCFs a(n) = a1 n + a0, b(n) = b2 n² + b1 n + b0 (a1, b2 non-zero, coefficients
uniform in [-R, R]) until COUNT of them converge, where converging means that the exact
convergents at depth 2000 support at least 50 digits (or the fraction is finite).  Prints the
median time of a closed form per PCF and the share of converging PCFs that get a closed form
confirmed to at least 50 digits.

    PYTHONPATH=. python scripts/bench_closed_form.py [--count 1000] [--range 5] [--seed 0]
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import time

from discovery.pcf.closed_form import closed_form
from discovery.pcf.formula import PCF


def _random_pcf(rng: random.Random, r: int) -> PCF:
    def nonzero():
        return rng.choice([v for v in range(-r, r + 1) if v])

    return PCF([nonzero(), rng.randint(-r, r)], [nonzero(), rng.randint(-r, r), rng.randint(-r, r)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="converging PCFs to test")
    parser.add_argument("--range", type=int, default=5, help="coefficients in [-R, R]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--digits", type=int, default=50)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    seen: set[PCF] = set()
    times, kinds, missing = [], collections.Counter(), []
    drawn = found = 0
    while len(times) < args.count:
        pcf = _random_pcf(rng, args.range)
        drawn += 1
        if pcf in seen:
            continue
        seen.add(pcf)
        if pcf.limit(2000).digits < args.digits:
            continue
        start = time.perf_counter()
        cf = closed_form(pcf, args.digits)
        times.append(time.perf_counter() - start)
        if cf is not None and cf.digits_confirmed >= args.digits:
            found += 1
            kinds[cf.kind] += 1
        else:
            missing.append(pcf)
    print(f"{len(times)} converging PCFs (of {drawn} drawn, coefficients in [-{args.range}, {args.range}], "
          f"seed {args.seed})")
    print(f"median time per closed form: {statistics.median(times) * 1000:.0f} ms "
          f"(mean {statistics.mean(times) * 1000:.0f} ms, max {max(times):.2f} s)")
    print(f"closed form confirmed to >= {args.digits} digits: {found}/{len(times)} = {found / len(times):.1%}")
    print("by kind: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    if missing:
        print("without closed form (first 10): " + "; ".join(repr(p) for p in missing[:10]))


if __name__ == "__main__":
    main()
