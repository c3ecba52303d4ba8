"""Query a formula database from a script: python scripts/query_db.py DB [--constant pi] [--json out.json]

Shows the Python API (FormulaStore.query / export_json / export_csv).
"""

from __future__ import annotations

import argparse

from discovery.store import FormulaStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--constant")
    parser.add_argument("--min-digits", type=float)
    parser.add_argument("--json", help="also export the records to this JSON file")
    parser.add_argument("--csv", help="also export the records to this CSV file")
    args = parser.parse_args()
    filters = {"constant": args.constant, "min_digits": args.min_digits, "identified": True}
    with FormulaStore(args.db) as store:
        for r in store.query(**filters):
            print(f"{r['constant'] or '-':<14} a={r['a']} b={r['b']}  ->  {r['closed_form']}  "
                  f"({r['digits_verified']} digits)")
        if args.json:
            print(f"{store.export_json(args.json, **filters)} records written to {args.json}")
        if args.csv:
            print(f"{store.export_csv(args.csv, **filters)} records written to {args.csv}")


if __name__ == "__main__":
    main()
