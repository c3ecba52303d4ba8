"""The ``programs`` commands: classical baselines and the evolution of programs for a target."""

from __future__ import annotations

import json
import math

from discovery.cli.tables import INFINITIES, shown_bound
from discovery.programs.graph import Program


def target_arg(args):
    from discovery.programs.targets import make_target

    return make_target(args.target, tuple(args.interval), error=args.error)


def programs_baselines(args) -> int:
    from discovery.programs.baselines import baselines

    target = target_arg(args)
    if target.error == "ulp32":
        return float32_baselines(target, args)
    table = baselines(target, args.max_ops)
    if args.format == "json":
        print(json.dumps([{"method": b.method, "degrees": list(b.degrees), "ops": b.ops, "max_error": b.max_error,
                           "bound": b.bound if b.bound is not None and math.isfinite(b.bound) else None,
                           "expression": b.program.expression()} for b in table], indent=2))
        return 0
    kind = "relative" if target.relative else "absolute"
    lo, hi = target.interval
    print(f"classical approximations of {target.name} on [{lo}, {hi}], max {kind} error: scanned maximum and "
          "proven bound")
    print(f"{'ops':>4}  {'method':<28}{'max error (scanned)':>20}{'proven bound':>14}")
    for b in table:
        print(f"{b.ops:>4}  {b.label:<28}{b.max_error:>20.3e}{shown_bound(b.bound, '.3e'):>14}")
    return 0


def float32_baselines(target, args) -> int:
    from discovery.programs.baselines import float32_polynomial_baselines

    table = float32_polynomial_baselines(target, args.max_ops)
    if args.format == "json":
        print(json.dumps([{"method": "minimax-polynomial-fma", "degrees": [ops], "ops": ops, **check,
                           "expression": prog.expression()} for ops, prog, check in table], indent=2))
        return 0
    lo, hi = target.interval
    print(f"minimax polynomials of {target.name} on [{lo}, {hi}] by fused Horner in float32, every float32")
    print(f"{'ops':>4}  {'max ulp':>8}  {'ulp of exact':>12}")
    for ops, _, check in table:
        print(f"{ops:>4}  {check['max_ulp']:>8}  {check['max_ulp_exact']:>12.3f}")
    return 0


def programs_evolve(args) -> int:
    import time

    from discovery.campaign.programs import search_front
    from discovery.programs.baselines import baselines, best_baseline
    from discovery.programs.verify import float32_ulp_error, reaches_infinity

    started = time.time()  # the budget is the whole command's
    target = target_arg(args)
    table: list = []

    def classical():
        # Finite-only unless --allow-inf: classical programs are held to the same rule.
        table.extend(b for b in baselines(target, args.max_ops)
                     if args.allow_inf or not reaches_infinity(b.program, target))

    result, records = search_front(target, args.max_ops, ops=args.ops.split(","), population=args.population,
                                   seed=args.seed, classical=not args.no_classical_seeds, allow_inf=args.allow_inf,
                                   minutes=args.minutes, checkpoint=args.checkpoint, label=f"evolving {target.name}",
                                   progress=not args.quiet, started=started,
                                   before=("classical baselines", classical))
    rows = []
    for record in records:
        base = best_baseline(table, record.ops)
        rows.append({**record.to_json(), "baseline": base.label if base else None,
                     "baseline_error": base.max_error if base else None})
    print(f"{result.generations} generations, {result.evaluations:,} programs evaluated; "
          f"{time.time() - started:.0f} s in all")
    print_front(rows, target)
    if result.float32:
        print("float32 (fma fused), every float32 of the interval:")
        for cost, check in sorted(result.float32.items()):
            print(f"{cost:>4} ops: max {check['max_ulp']} ulp ({check['max_ulp_exact']:.3f} ulp of the exact value)")
    elif rows:
        best = min(rows, key=lambda r: r["max_error"])
        limit = None if args.float32_exhaustive else 1 << 22
        check = float32_ulp_error(Program.from_json(best["genome"]), target, limit=limit)
        scope = "every float32" if check["exhaustive"] else f"{check['checked']:,} float32 values"
        print(f"float32 check of the most accurate program over {scope}: max {check['max_ulp']} ulp")
    lo, hi = target.interval
    if args.db:
        from discovery.store import FormulaStore

        with FormulaStore(args.db) as store:
            ids = store.write_programs(None, target.name, target.interval, rows)
        print(f"stored {len(ids)} programs in {args.db}; export one as code with")
        print(f"  discovery programs export --db {args.db} --target {target.name} --interval {lo!r} {hi!r} "
              f"--ops N --lang c|python|numpy|numba|sympy|latex" + (" --allow-inf" if args.allow_inf else ""))
    elif rows:
        print("to export these programs as code, run again with --db PATH, then: discovery programs export "
              "--db PATH --target ... --ops N --lang c")
    return 0


def print_front(rows: list[dict], target) -> None:
    """The front as a table: one row per operation count, errors aligned, the best classical
    program of at most as many operations beside it."""
    kind = "relative" if target.relative else "absolute"
    lo, hi = target.interval
    print(f"{target.name} on [{lo}, {hi}], max {kind} error")
    print(f"{'ops':>4}  {'scanned':>10}  {'proven bound':>12}  {'best classical':<30}{'its error':>10}  {'gain':>8}")
    for r in rows:
        base_error = r.get("baseline_error")
        gain = f"{base_error / r['max_error']:8.2f}" if base_error and r["max_error"] > 0 else f"{'-':>8}"
        base = f"{base_error:>10.3e}" if base_error else f"{'-':>10}"
        print(f"{r['ops']:>4}  {r['max_error']:>10.3e}  {shown_bound(r['bound'], '.3e'):>12}  "
              f"{(r.get('baseline') or '-'):<30}{base}  {gain}{INFINITIES if r['infinities'] else ''}")
    if any(r["infinities"] for r in rows):
        print(f"{INFINITIES.strip()}: finite only through IEEE infinities (c/0 = inf, then d/inf = 0); exported "
              "with an explicit limit branch")


def programs_export(args) -> int:
    """Write a stored program as code: by id, or the most accurate of at most ``--ops`` operations
    for ``--target`` (and ``--interval``)."""
    from pathlib import Path

    from discovery.cli.database import require_db
    from discovery.programs.export import Provenance, export, pole_limits
    from discovery.programs.targets import make_target
    from discovery.programs.verify import infinity_points
    from discovery.store import FormulaStore

    require_db(args.db)
    if (args.id is None) == (args.target is None):
        raise ValueError("give a program id, or --target with --ops (not both)")
    if args.target is not None and args.ops is None:
        raise ValueError("--target needs --ops N (the best program of at most N operations is exported)")
    with FormulaStore(args.db) as store:
        records = store.query(kind="program", target=args.target)
    if args.id is not None:
        chosen = [r for r in records if r["id"] == args.id]
        if not chosen:
            raise ValueError(f"no program with id {args.id} in {args.db}")
    else:
        # Programs finite only through infinities are not candidates unless allowed.
        chosen = [r for r in records if r["ops"] <= args.ops and (args.allow_inf or not r["infinities"])
                  and (args.interval is None or list(r["interval"]) == [float(v) for v in args.interval])]
        if not chosen:
            where = "" if args.interval is None else f" on [{args.interval[0]}, {args.interval[1]}]"
            raise ValueError(f"no program for {args.target}{where} of at most {args.ops} operations in {args.db}")
    record = min(chosen, key=lambda r: (r["max_error"], r["ops"]))
    program = Program.from_json(record["genome"])
    target = make_target(record["target"], tuple(record["interval"]))
    poles = pole_limits(program, infinity_points(program, target))
    if (poles or record["infinities"]) and not args.allow_inf:
        where = ", ".join(repr(x) for x, _ in poles) or "some point"
        raise ValueError(f"program {record['id']} is finite only through IEEE infinities (an intermediate value is "
                         f"infinite at x = {where}); pass --allow-inf to export it with an explicit limit branch there")
    provenance = Provenance(record["target"], tuple(record["interval"]), target.relative, record["bound"],
                            record["max_error"], record.get("max_ulp"))
    source = export(program, args.lang, name=args.name, provenance=provenance, poles=poles, ctype=args.c_type)
    if args.out:
        Path(args.out).write_text(source, encoding="utf-8")
        print(f"wrote program {record['id']} ({record['ops']} operations) as {args.lang} to {args.out}")
    else:
        print(source, end="")
    return 0
