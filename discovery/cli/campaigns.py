"""The ``campaign`` commands and ``run``: campaigns run, resumed and summarised."""

from __future__ import annotations

import math
import sys

from discovery.campaign.result import novelty_line
from discovery.cli.database import require_db
from discovery.pcf import PCF

QUICKSTART = "quickstart.toml"


def campaign_run(args) -> int:
    from discovery.campaign import run_campaign, summary_lines

    try:
        result = run_campaign(args.config, args.db, max_units=args.max_units, progress=not args.quiet,
                              scheduler=args.scheduler)
    except KeyboardInterrupt:
        print("\nstopped; everything committed is kept; rerun the same command to resume", file=sys.stderr)
        return 130
    for line in summary_lines(result):
        print(line)
    return 0


def campaign_status(args) -> int:
    from discovery.store import FormulaStore

    require_db(args.db)
    with FormulaStore(args.db) as store:
        rows = store.campaigns()
        if not rows:
            print(f"{args.db}: no campaigns")
        for row in rows:
            st = store.status(row["id"])
            state = "finished" if st["finished"] else "in progress"
            # An evolve campaign's budget may be time, so its number of units is open.
            units = f"{st['units_done']}/{st['units_total']}" if st["units_total"] else f"{st['units_done']}"
            print(f"{st['name']} ({st['kind']}, {state}): units {units}, "
                  f"candidates {st['candidates']:,}, converging {st['converged']:,}, stored {st['formulas']:,}, "
                  f"clusters {st['clusters']}")
            if st["description"]:
                print(f"  {' '.join(st['description'].split())}")
            if st["dropped"]:
                print(f"  triage: exact metrics for {st['measured']:,} of {st['converged']:,} converging PCFs "
                      f"({st['dropped']:,} dropped)")
            if st["identified"]:
                print("  identified: " + ", ".join(f"{k} {v}" for k, v in st["identified"].items()))
            if st["novelty"]:
                print("  novelty: " + novelty_line(st["novelty"]))
    return 0


def run_default(args) -> int:
    from pathlib import Path

    from discovery.campaign import run_campaign, summary_lines
    from discovery.pcf.known import DATA_DIR
    from discovery.store import FormulaStore

    config = Path(args.config) if args.config else DATA_DIR / "campaigns" / QUICKSTART
    try:
        result = run_campaign(config, args.db, progress=not args.quiet)
    except KeyboardInterrupt:
        print("\nstopped; rerun to resume", file=sys.stderr)
        return 130
    for line in summary_lines(result):
        print(line)
    with FormulaStore(args.db) as store:
        records = store.query(campaign=result.name, identified=True)
    by_constant: dict = {}
    for r in records:
        by_constant.setdefault(r["constant"] or "rational or quadratic", []).append(r)
    print(f"\nformulas found ({len(records)}), by constant:")
    for constant, rows in sorted(by_constant.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"\n{constant} ({len(rows)}):")
        for r in rows:
            a, b = PCF(r["a"], r["b"]).sympy()
            digits = r["digits_verified"]
            shown = "exact" if digits is not None and math.isinf(digits) else f"{digits:.0f} digits"
            print(f"  a(n) = {str(a):<14} b(n) = {str(b):<22} limit = {r['closed_form']:<30} ({shown}, "
                  f"{r['novelty'] or 'not labelled'})")
    print(f"\nquery them again with: discovery query --db {args.db} --format table|json|csv")
    return 0
