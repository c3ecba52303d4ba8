"""Measure the low-precision screen of ``discovery identify`` (:mod:`discovery.identify.low_precision`).

For every precision a pasted float can have that the screen takes (13 to 19 significant digits)
and every screening depth it allows, screen ``--trials`` random reals given to that many digits
and count the relations it claims: each is a false positive, since a random real has none.  Then,
at the deepest screen of each precision, screen Möbius transforms (c0 + c1 x)/(c2 + c3 x),
|ci| <= 3, of the core constants given to that many digits and count those it finds (its recall).

    python scripts/bench_low_precision.py --trials 10000 --seed 0

It ends with the table ``discovery.identify.low_precision.FALSE_POSITIVES`` holds (what ``discovery
identify`` quotes when it screens a short float), to paste there.
"""

from __future__ import annotations

import argparse
import random
import time

import mpmath

from discovery import constants as catalog
from discovery.identify.low_precision import MIN_SCREEN_KNOWN, screen, screen_range
from discovery.identify.escalation import MIN_KNOWN


def random_real(rng: random.Random, known: int) -> str:
    """A random real in [0.1, 10) given to ``known`` significant digits."""
    digits = str(rng.randrange(10 ** (known - 1), 10**known))
    return "0." + digits if rng.random() < 0.5 else digits[0] + "." + digits[1:]


def mobius_value(rng: random.Random, known: int) -> str:
    """A Möbius transform of a random core constant, |ci| <= 3, rounded to ``known`` digits."""
    x = rng.choice(catalog.core()).value(known + 10)
    while True:
        c = [rng.randint(-3, 3) for _ in range(4)]
        if c[0] * c[3] - c[1] * c[2] != 0 and c[2] + c[3] * x != 0:
            break
    with mpmath.workdps(known + 10):
        value = (c[0] + c[1] * x) / (c[2] + c[3] * x)
        return mpmath.nstr(value, known, min_fixed=-5, max_fixed=5, strip_zeros=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10000, help="random reals per cell (default 10000)")
    parser.add_argument("--recall-trials", type=int, default=300, help="Möbius values per precision (default 300)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cells = {}
    started = time.perf_counter()
    print(f"{'digits given':>12} {'screened on':>11} {'claims':>8} {'trials':>7}  rate")
    for known in range(MIN_SCREEN_KNOWN, MIN_KNOWN):
        lo, hi = screen_range(known)
        for digits in range(lo, hi + 1):
            claims = sum(screen(random_real(rng, known), digits) is not None for _ in range(args.trials))
            cells[(known, digits)] = (claims, args.trials)
            print(f"{known:>12} {digits:>11} {claims:>8} {args.trials:>7}  {claims / args.trials:.2%}", flush=True)
        found = sum(screen(mobius_value(rng, known), hi) is not None for _ in range(args.recall_trials))
        print(f"{known:>12} {hi:>11}  recall on Möbius values of the core constants: {found}/{args.recall_trials}")
    seconds = time.perf_counter() - started
    print(f"{seconds:.0f} s")
    print("FALSE_POSITIVES = {")
    for key, (claims, trials) in cells.items():
        print(f"    {key}: ({claims}, {trials}),")
    print("}")


if __name__ == "__main__":
    main()
