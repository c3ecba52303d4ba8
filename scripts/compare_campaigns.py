"""Compare the results of one campaign run twice (say, before and after a change to the engine).

Prints whether the cluster partitions are the same up to relabelling (formulas matched by their
canonical key) and whether the identifications (formula, constant, closed form) are the same.
Used for the closing check of a speed change:

    python scripts/compare_campaigns.py before.db after.db
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections import defaultdict


def _load(path: str) -> tuple[dict, dict, int]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    members = dict(db.execute(
        "SELECT f.canonical_key, c.campaign_id || ':' || c.label FROM cluster_members m "
        "JOIN formulas f ON f.id = m.formula_id JOIN clusters c ON c.id = m.cluster_id"))
    identified = dict(db.execute(
        "SELECT f.canonical_key, coalesce(i.constant, 'rational') || ' ' || i.closed_form "
        "FROM identifications i JOIN formulas f ON f.id = i.formula_id"))
    clusters = db.execute("SELECT count(*) FROM clusters").fetchone()[0]
    return members, identified, clusters


def _images(pairs) -> int:
    """How many labels of one side meet more than one label of the other."""
    images = defaultdict(set)
    for mine, theirs in pairs:
        images[mine].add(theirs)
    return sum(len(v) > 1 for v in images.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="database of the first run")
    parser.add_argument("after", help="database of the second run")
    args = parser.parse_args()
    (ma, ia, ca), (mb, ib, cb) = _load(args.before), _load(args.after)
    common = set(ma) & set(mb)
    pairs = [(ma[k], mb[k]) for k in common]
    split, merged = _images(pairs), _images((b, a) for a, b in pairs)
    print(f"clusters: {ca:,} and {cb:,}; clustered formulas {len(ma):,} and {len(mb):,}, {len(common):,} in both")
    print(f"clusters of the first run split in the second: {split}; merged: {merged}")
    same = sum(ia.get(k) == v for k, v in ib.items())
    print(f"identifications: {len(ia):,} and {len(ib):,}, {same:,} the same (formula, constant, closed form)")
    equal = split == merged == 0 and len(common) == len(ma) == len(mb) and same == len(ia) == len(ib)
    print("the same results up to relabelling" if equal else "the results differ")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
