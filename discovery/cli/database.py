"""Commands that read a database: ``query``, ``families``, ``report``, and the printing of stored
records."""

from __future__ import annotations

import json
import math
import sys

from discovery.cli.tables import aligned, fill_limits, pcf_rows, program_line, readable_record
from discovery.pcf import PCF


def require_db(path) -> None:
    from pathlib import Path

    if not Path(path).exists():
        raise ValueError(f"no database at {path}")


def print_records(records: list[dict], fmt: str) -> None:
    """Print stored formulas as a table (PCFs with a header row, then programs), JSON or CSV."""
    fill_limits(records)
    if fmt == "json":
        from discovery.store import json_record

        print(json.dumps([json_record(readable_record(r)) for r in records], indent=2, allow_nan=False))
        return
    if fmt == "csv":
        from discovery.store import write_csv

        write_csv([readable_record(r) for r in records], sys.stdout)
        return
    if not records:
        print("no formulas match")
        return
    pcfs = [r for r in records if r["kind"] == "pcf"]
    if pcfs:
        for line in aligned(pcf_rows(pcfs), right=(0, 3, 4, 5, 6)):
            print(line.rstrip())
    for r in records:
        if r["kind"] == "program":
            print(program_line(r))


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
            novelty=args.novelty, equivalence_key=key, sort=args.sort,
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
    from discovery.report.formulas import closed_form_text, text
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
                print(f"  L(k) = {text(class_expr(c))}{class_where(c)}")
            print(f"  closed form in k {state} on the members not used to find it")
        else:
            print("  no closed form in k found")
        for m in f["members"]:
            digits = "exact" if math.isinf(m["digits_verified"]) else f"{m['digits_verified']:.0f} digits"
            where = "box" if m["in_box"] else "new"
            print(f"  k={m['k']:<5} {where}  {closed_form_text(m['closed_form']):<40} ({m['constant']}, {digits})")
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
        definition = c.definition or str(c.sympy_form)
        value = mpmath.nstr(c.value(args.digits), args.digits)
        rows.append({"name": c.name, "aliases": list(c.aliases), "value": value,
                     "definition": definition, "sympy": str(c.sympy_form), "description": c.description,
                     "source": f"catalog {args.catalog}" if c.value_digest else "built in"})
    if args.search:
        needle = args.search.casefold()
        rows = [r for r in rows if any(needle in text.casefold() for text in
                                       (r["name"], r["definition"], r["description"], *r["aliases"]))]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no constant matches {args.search!r} (names, aliases, definitions and descriptions are searched)")
        return 0
    matching = f" matching {args.search!r}" if args.search else ""
    print(f"{len(rows)} constants{matching} (a name or any alias is accepted wherever a constant is asked for)")
    name_w = max(len(r["name"]) for r in rows)
    value_w = max(len(r["value"]) for r in rows)
    def_w = min(28, max(len(r["definition"]) for r in rows))
    print(f"{'name':<{name_w}}  {'value':<{value_w}}  {'definition':<{def_w}}  description; aliases; source")
    for r in rows:
        aliases = f"; aliases {', '.join(r['aliases'])}" if r["aliases"] else ""
        print(f"{r['name']:<{name_w}}  {r['value']:<{value_w}}  {r['definition']:<{def_w}}  "
              f"{r['description']}{aliases}; {r['source']}")
    return 0
