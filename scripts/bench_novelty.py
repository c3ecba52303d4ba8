"""Novelty of a campaign database: the count per label and every formula labelled new.

Labels every identified PCF of the campaign (or of the database) again, as the closing stage does
(discovery.campaign.closing.label_novelty), times it, and prints the counts per label, then each
new formula with its limit, δ, family and what was checked.

Usage: python scripts/bench_novelty.py --db PATH [--campaign NAME]
"""

from __future__ import annotations

import argparse
import time

from discovery.campaign.closing import label_novelty
from discovery.novelty import NOVELTY_LABELS
from discovery.pcf import PCF
from discovery.store import FormulaStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--campaign")
    args = parser.parse_args()
    with FormulaStore(args.db) as store:
        start = time.perf_counter()
        counts = label_novelty(store, args.campaign)
        seconds = time.perf_counter() - start
        new = store.query(kind="pcf", campaign=args.campaign, novelty="new")
    total = sum(counts.values())
    print(f"{total} identified PCFs labelled in {seconds:.1f} s")
    print(f"{'label':<10} {'count':>6} {'share':>7}")
    for label in NOVELTY_LABELS:
        print(f"{label:<10} {counts[label]:>6} {counts[label] / max(total, 1):>7.1%}")
    for r in new:
        a, b = PCF(r["a"], r["b"]).sympy()
        delta = "-" if r["delta"] is None else f"{r['delta']:.4f}"
        print(f"\n#{r['id']} a(n) = {a}, b(n) = {b} -> {r['closed_form']} ({r['constant']}; delta {delta}; "
              f"family {r['family'] if r['family'] is not None else '-'})\n  checked: {r['novelty_reason']}")


if __name__ == "__main__":
    main()
