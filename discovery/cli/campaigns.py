"""The ``campaign`` commands and ``run``: campaigns run, resumed and summarised."""

from __future__ import annotations

import json
import math
import sys

from discovery.campaign.result import novelty_line
from discovery.cli.database import require_db
from discovery.pcf import PCF

QUICKSTART = "quickstart.toml"


def campaign_run(args) -> int:
    from discovery.campaign import run_campaign

    finished = finished_campaigns(args.db)
    try:
        result = run_campaign(args.config, args.db, max_units=args.max_units, progress=not args.quiet,
                              scheduler=args.scheduler)
    except KeyboardInterrupt:
        print("\nstopped; everything committed is kept; rerun the same command to resume", file=sys.stderr)
        return 130
    print_summary(result, args.db, finished)
    return 0


def finished_campaigns(db) -> set[str]:
    """The names of the campaigns a database holds finished (none when there is no database yet)."""
    from pathlib import Path

    from discovery.store import FormulaStore

    if not Path(db).exists():
        return set()
    with FormulaStore(db) as store:
        return {row["name"] for row in store.campaigns() if row["finished"] is not None}


def print_summary(result, db, finished_before: set[str]) -> None:
    """The summary of a run: what :func:`~discovery.campaign.summary_lines` says ("already complete"
    for a campaign finished before the run), then its families and new formulas, and for an evolve
    campaign its best candidates by each of its objectives."""
    from discovery.campaign import summary_lines

    lines = summary_lines(result, already_complete=result.name in finished_before)
    files = [line for line in lines if line.startswith(("  plot: ", "  report: "))]
    for line in lines[:len(lines) - len(files)]:
        print(line)
    if result.kind == "pcf" and result.complete:
        _findings(result, db)
    for line in files:
        print(line)


def _findings(result, db) -> None:
    """Families, new formulas and an evolve campaign's best candidates, as summary lines."""
    from discovery.store import FormulaStore

    with FormulaStore(db) as store:
        families = store.families(campaign=result.name)
        row = store.campaign(result.name)
        config = json.loads(row["config"]) if row is not None else {}
        search = config.get("search") or {}
        print(f"  families {len(families)}" + (f" (discovery families --db {db} --stored)" if families else ""))
        new = result.novelty.get("new", 0)
        if result.identified:
            print(f"  new formulas {new}" + (f" (discovery query --db {db} --novelty new)" if new else
                                          ": every identified formula is known, a family member or classical"))
        if search.get("strategy") == "evolve":
            records = store.query(kind="pcf", campaign=result.name)
            identify = config.get("identify") or {}
            for line in best_candidate_lines(search.get("objectives") or [], records, identify):
                print(line)


# The objectives a stored PCF's metrics give back (the others need the search's own state).
_SHOWN_OBJECTIVES = ("delta", "factorial_reduction", "target", "size")


def best_candidate_lines(objectives, records: list[dict], identify: dict, top: int = 3) -> list[str]:
    """The ``top`` stored PCFs of an evolve campaign by each of its objectives, as summary lines."""
    import numpy as np

    from discovery.campaign.evolve import objective_matrix
    from discovery.campaign.pcf import mobius_table_of
    from discovery.cli.tables import polynomial_text
    from discovery.pcf import to_arrays

    names = [n for n in objectives if n in _SHOWN_OBJECTIVES]
    records = [r for r in records if all(abs(c) < 2**62 for c in (*r["a"], *r["b"]))]
    if not names or not records:
        return []
    A, B = to_arrays([PCF(r["a"], r["b"]) for r in records])
    table = None
    if "target" in names:
        constants = identify.get("constants")
        table = mobius_table_of(tuple(constants) if isinstance(constants, list) else None,
                                int(identify.get("mobius_bound", 5)))
    rows = [{"row": i, "metrics": {"delta": r["delta"], "naive_delta": r["naive_delta"], "limit_value": r["limit"]}}
            for i, r in enumerate(records) if r["delta"] is not None]
    F = objective_matrix(names, A, B, rows, table)
    shown = {"delta": ("delta", -1.0), "factorial_reduction": ("factorial reduction", -1.0),
             "target": ("log10 distance to a Möbius transform of the constants", 1.0), "size": ("size", 1.0)}
    left = [n for n in objectives if n not in _SHOWN_OBJECTIVES]
    lines = ["  best candidates by the campaign's objectives"
             + (f" (not shown: {', '.join(left)})" if left else "") + ":"]
    for j, name in enumerate(names):
        label, sign = shown[name]
        lines.append(f"    {label}:")
        for i in np.argsort(F[:, j], kind="stable")[:top]:
            r = records[i]
            what = r["closed_form"] or "not identified"
            lines.append(f"      {sign * F[i, j]:>9.4f}  a(n) = {polynomial_text(r['a'])}, "
                         f"b(n) = {polynomial_text(r['b'])}  ({what})")
    return lines


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

    from discovery.campaign import run_campaign
    from discovery.cli.tables import polynomial_text
    from discovery.pcf.known import DATA_DIR
    from discovery.store import FormulaStore

    config = Path(args.config) if args.config else DATA_DIR / "campaigns" / QUICKSTART
    finished = finished_campaigns(args.db)
    try:
        result = run_campaign(config, args.db, progress=not args.quiet)
    except KeyboardInterrupt:
        print("\nstopped; rerun to resume", file=sys.stderr)
        return 130
    print_summary(result, args.db, finished)
    with FormulaStore(args.db) as store:
        records = store.query(campaign=result.name, identified=True)
    by_constant: dict = {}
    for r in records:
        by_constant.setdefault(r["constant"] or "rational or quadratic", []).append(r)
    print(f"\nformulas found ({len(records)}), by constant:")
    for constant, rows in sorted(by_constant.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        print(f"\n{constant} ({len(rows)}):")
        width_a = max(len(polynomial_text(r["a"])) for r in rows)
        width_b = max(len(polynomial_text(r["b"])) for r in rows)
        for r in rows:
            digits = r["digits_verified"]
            shown = "exact" if digits is not None and math.isinf(digits) else f"{digits:.0f} digits"
            print(f"  a(n) = {polynomial_text(r['a']):<{width_a}}  b(n) = {polynomial_text(r['b']):<{width_b}}  "
                  f"limit = {r['closed_form']}  ({shown}, {r['novelty'] or 'not labelled'})")
    print(f"\nquery them again with: discovery query --db {args.db} --format table|json|csv")
    return 0
