"""The infinite-family figures of a campaign: python scripts/families_report.py --db DB [--campaign NAME] [--detect]

Prints, for the families stored by the last detection (``--detect`` runs it first, as
``discovery families`` does):

- every candidate line (>= 3 identified formulas of one constant on an integer line of
  coefficient vectors) and whether it became a family;
- per family: constants, a(n) and b(n) in k, members in the box, confirmed members outside it
  below and above the box, the fewest digits any member was confirmed to, and whether the closed
  form in k held on every member not used to find it;
- the checks of issue 11's target: each candidate a family, each family with >= 10 confirmed
  members outside the box, and the NeurIPS 2024 pi / ln 2 family b(n) = -n(2n + k),
  a(n) = 3n + k + 2 with a verified closed form.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from discovery.families import _vector, family_polynomials, find_lines, run_families
from discovery.pcf import PCF
from discovery.store import FormulaStore

PAPER = ({"a": [3, 2], "b": [-2, 0, 0]}, {"a": [0, 1], "b": [0, -1, 0]})


def _candidates(store, campaign):
    records = [r for r in store.query(kind="pcf", campaign=campaign, identified=True)
               if r["constant"] and "," not in r["constant"]]
    canon = [(r["constant"], PCF(r["a"], r["b"]).canonical()) for r in records]
    if not canon:
        return records, [], (0, 0)
    degrees = (max(p.degrees[0] for _, p in canon), max(p.degrees[1] for _, p in canon))
    points: dict = {}
    for c, p in canon:
        points.setdefault(c, []).append(_vector(p.a, p.b, degrees))
    return records, find_lines(points), degrees


def _split(vector, degrees):
    da = degrees[0] + 1
    return {"a": list(vector[:da]), "b": list(vector[da:])}


def _strip(side):
    """Coefficients without leading zeros (a family stores its padded line)."""
    out = {}
    for key, cs in side.items():
        cs = list(cs)
        while len(cs) > 1 and cs[0] == 0:
            cs.pop(0)
        out[key] = cs
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--campaign")
    parser.add_argument("--detect", action="store_true", help="run family detection first")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    with FormulaStore(args.db) as store:
        if args.detect:
            run_families(store, args.campaign, progress=True)
        row = store.campaign(args.campaign) if args.campaign else None
        run = store.family_run(None if row is None else row["id"])
        families = store.families(campaign=args.campaign)
        records, lines, degrees = _candidates(store, args.campaign)
    if run is None:
        print("no family detection has run for this scope; rerun with --detect", file=sys.stderr)
        return 1
    keyed = {(json.dumps(_strip(f["base"])), json.dumps(_strip(f["direction"]))): f for f in families}
    figures = {"identified": len(records), "detection_seconds": run["seconds"], "candidates": [], "families": []}
    print(f"{len(records)} identified PCFs; {len(lines)} candidate lines; {len(families)} families "
          f"(detection took {run['seconds']:.1f} s)")
    print("\ncandidate lines (>= 3 identified formulas of one constant on a line):")
    for ln in lines:
        base, direction = _strip(_split(ln.base, degrees)), _strip(_split(ln.direction, degrees))
        fam = keyed.get((json.dumps(base), json.dumps(direction)))
        a, b = family_polynomials(_split(ln.base, degrees), _split(ln.direction, degrees))
        seeds = ", ".join(f"{c} at k={ks}" for c, ks in sorted(ln.seeds.items()))
        print(f"  a(n) = {a}, b(n) = {b}: {seeds} -> "
              + (f"family #{fam['id']}" if fam else "not a family (no confirmed members outside the box)"))
        figures["candidates"].append({"a": str(a), "b": str(b), "seeds": ln.seeds,
                                      "family": fam["id"] if fam else None})
    print("\nfamilies:")
    for f in families:
        a, b = family_polynomials(f["base"], f["direction"])
        box = [m["k"] for m in f["members"] if m["in_box"]]
        lo, hi = (min(box), max(box)) if box else (math.inf, -math.inf)
        below = sum(1 for m in f["members"] if not m["in_box"] and m["k"] < lo)
        above = sum(1 for m in f["members"] if not m["in_box"] and m["k"] > hi)
        new = sum(1 for m in f["members"] if not m["in_box"])
        digits = min(m["digits_verified"] for m in f["members"])
        classes = [c for c in f["fit"].get("classes", []) if c]
        checked = sum(len(c["held_out_k"]) for c in classes)
        fitted = sum(len(c["fit_k"]) for c in classes)
        state = ("verified" if f["closed_form_verified"] else "NOT verified") if f["closed_form_k"] else "none found"
        print(f"  #{f['id']} ({', '.join(f['constants'])}) a(n) = {a}, b(n) = {b}: {len(box)} in the box, "
              f"{new} new ({below} below, {above} above), every member confirmed to >= {digits:.0f} digits; "
              f"closed form in k {state}" + (f" (fitted on {fitted}, checked on {checked})" if classes else ""))
        if f["closed_form_k"]:
            print(f"      L(k) = {f['closed_form_k']}")
        figures["families"].append({
            "id": f["id"], "constants": f["constants"], "a": str(a), "b": str(b), "in_box": len(box), "new": new,
            "new_below": below, "new_above": above, "min_digits": digits, "closed_form_k": f["closed_form_k"],
            "closed_form_verified": f["closed_form_verified"], "fitted_on": fitted, "checked_on": checked,
        })
    detected = sum(1 for c in figures["candidates"] if c["family"] is not None)
    extended = sum(1 for f in figures["families"] if f["new"] >= 10)
    paper = [f for f in families if (_strip(f["base"]), _strip(f["direction"])) == tuple(map(_strip, PAPER))]
    print("\ntarget:")
    print(f"  candidate lines that are families: {detected} / {len(lines)}")
    print(f"  families with >= 10 confirmed members outside the box: {extended} / {len(families)}")
    if paper:
        p = next(f for f in figures["families"] if f["id"] == paper[0]["id"])
        print(f"  pi / ln 2 family b(n) = -n(2n + k), a(n) = 3n + k + 2: family #{p['id']}, {p['in_box']} in the box, "
              f"{p['new']} new; closed form in k {'verified' if p['closed_form_verified'] else 'NOT verified'} on "
              f"{p['checked_on']} members not used to find it")
    else:
        print("  pi / ln 2 family b(n) = -n(2n + k), a(n) = 3n + k + 2: NOT found")
    figures["target"] = {"candidates": len(lines), "detected": detected, "extended_10": extended,
                         "paper_family": paper[0]["id"] if paper else None}
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(figures, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
