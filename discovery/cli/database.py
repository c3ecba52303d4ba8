"""Commands that read a database: ``query``, ``families``, ``report``, and the printing of stored
records."""

from __future__ import annotations

import json
import math
import sys

from discovery.pcf import PCF

# Marks a program whose result is finite only through IEEE infinities.
INFINITIES = "  [IEEE inf]"


def require_db(path) -> None:
    from pathlib import Path

    if not Path(path).exists():
        raise ValueError(f"no database at {path}")


def print_records(records: list[dict], fmt: str) -> None:
    if fmt == "json":
        from discovery.store import json_record

        print(json.dumps([json_record(r) for r in records], indent=2, allow_nan=False))
    elif fmt == "csv":
        from discovery.store import write_csv

        write_csv(records, sys.stdout)
    else:
        if not records:
            print("no formulas match")
            return
        for r in records:
            if r["kind"] == "program":
                error = "-" if r["max_error"] is None else f"{r['max_error']:.3g}"
                ulp = "" if r.get("max_ulp") is None else f", float32 {r['max_ulp']} ulp (every float32)"
                print(f"#{r['id']:<6} {r['target']} on {r['interval']}: {r['ops']} ops, max error (scanned) {error}, "
                      f"proven bound {shown_bound(r['bound'])}{ulp}{INFINITIES if r['infinities'] else ''}  "
                      f"{r['expression']}")
                continue
            pcf = PCF(r["a"], r["b"])
            a, b = pcf.sympy()
            digits = r["digits_verified"]
            shown = "-" if digits is None else ("exact" if math.isinf(digits) else f"{digits:.0f}")
            delta = "-" if r["delta"] is None else f"{r['delta']:.4f}"
            cluster = "-" if r["cluster"] is None else r["cluster"]
            print(f"#{r['id']:<6} a={str(a):<16} b={str(b):<22} = {r['closed_form'] or '?':<28} "
                  f"[{r['constant'] or '-'}; {shown} digits; delta {delta}; cluster {cluster}]")


def shown_bound(bound, spec: str = ".3g") -> str:
    """A proven bound as a table shows it: '-' when not computed, 'none' when none was proved."""
    if bound is None:
        return "-"
    return format(bound, spec) if math.isfinite(bound) else "none"


def query(args) -> int:
    from discovery.cli.arguments import polynomial_arg
    from discovery.novelty import shipped_literature
    from discovery.pcf.equivalence import equivalence_key
    from discovery.store import FormulaStore

    require_db(args.db)
    key = None
    if args.equivalent_to:
        key = equivalence_key(PCF(*(polynomial_arg(t) for t in args.equivalent_to)))
    with FormulaStore(args.db) as store:
        if key is not None and not store.readonly:
            store.fill_equivalence_keys()  # rows written before schema 6 have none
        records = store.query(
            kind=args.kind, constant=args.constant, cluster=args.cluster, min_digits=args.min_digits,
            delta=tuple(args.delta) if args.delta else None, target=args.target, campaign=args.campaign,
            identified=True if args.identified else None, limit=args.limit, family=args.family,
            novelty=args.novelty, equivalence_key=key,
        )
    if key is not None and args.format == "table":
        literature = shipped_literature()
        published = literature.formulas.get(key) or literature.families.get(key)
        print(f"equivalence class {key}: published as {published}" if published
              else f"equivalence class {key}: in no published formula of the literature database")
    print_records(records, args.format)
    return 0


def families(args) -> int:
    from discovery.families import class_expr, class_where, family_polynomials, run_families, tail_note
    from discovery.store import FormulaStore, json_record

    require_db(args.db)
    with FormulaStore(args.db) as store:
        if not args.stored:
            run_families(store, args.campaign, extend=args.extend, progress=not args.quiet)
        families = store.families(campaign=args.campaign)
    if args.format == "json":
        out = [json_record({"id": f["id"], "campaign": f["campaign"], "constant": ",".join(f["constants"]),
                            "constants": f["constants"], "base": f["base"], "direction": f["direction"],
                            "members": [{k: m[k] for k in ("k", "a", "b", "in_box", "constant", "closed_form",
                                                           "digits_verified", "formula_id")} for m in f["members"]],
                            "closed_form_k": f["closed_form_k"], "closed_form_verified": f["closed_form_verified"],
                            "fit": f["fit"]}) for f in families]
        print(json.dumps(out, indent=2, allow_nan=False))
        return 0
    if not families:
        print("no families found")
        return 0
    for f in families:
        a, b = family_polynomials(f["base"], f["direction"])
        ks = [m["k"] for m in f["members"]]
        new = sum(not m["in_box"] for m in f["members"])
        print(f"family #{f['id']} ({', '.join(f['constants'])}): a(n) = {a}, b(n) = {b}; {len(ks)} members, "
              f"k from {min(ks)} to {max(ks)}, {len(ks) - new} in the box, {new} new")
        if tail_note(f):
            print(f"  {tail_note(f)}")
        state = "verified" if f["closed_form_verified"] else "NOT verified"
        if f["closed_form_k"]:
            for c in f["fit"]["classes"]:
                print(f"  L(k) = {class_expr(c)}{class_where(c)}")
            print(f"  closed form in k {state} on the members not used to find it")
        else:
            print("  no closed form in k found")
        for m in f["members"]:
            digits = "exact" if math.isinf(m["digits_verified"]) else f"{m['digits_verified']:.0f} digits"
            where = "box" if m["in_box"] else "new"
            print(f"  k={m['k']:<5} {where}  {m['closed_form']:<40} ({m['constant']}, {digits})")
    return 0


def report(args) -> int:
    from discovery.campaign.closing import write_report

    require_db(args.db)
    path = write_report(args.db, args.out, campaign=args.campaign)
    print(f"report: {path}")
    return 0


def constants(args) -> int:
    import mpmath

    from discovery.constants import CATALOG, load_catalog

    if args.catalog:
        load_catalog(args.catalog)
    rows = []
    for c in CATALOG.values():
        rows.append({"name": c.name, "aliases": list(c.aliases), "sympy": str(c.sympy_form),
                     "value": mpmath.nstr(c.value(args.digits), args.digits), "description": c.description})
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{len(rows)} constants (names and aliases are accepted wherever a constant is asked for)")
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        aliases = f" ({', '.join(r['aliases'])})" if r["aliases"] else ""
        print(f"{r['name']:<{width}}  {r['value']:<{args.digits + 4}}  {r['description']}{aliases}")
    return 0
