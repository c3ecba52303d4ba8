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
    from discovery.campaign.programs import search_front
    from discovery.programs.baselines import baselines, best_baseline
    from discovery.programs.verify import float32_ulp_error

    target = target_arg(args)
    result, records = search_front(target, args.max_ops, ops=args.ops.split(","), population=args.population,
                                   seed=args.seed, classical=not args.no_classical_seeds,
                                   finite_only=args.finite_only, minutes=args.minutes, checkpoint=args.checkpoint,
                                   label=f"evolving {target.name}", progress=not args.quiet)
    table = baselines(target, args.max_ops)
    rows = []
    for record in records:
        base = best_baseline(table, record.ops)
        rows.append({**record.to_json(), "formula": Program.from_json(record.genome).formula(),
                     "baseline": base.label if base else None, "baseline_error": base.max_error if base else None})
    print(f"{result.generations} generations, {result.evaluations:,} programs evaluated in {result.seconds:.0f} s")
    print(f"{'ops':>4} {'max error':>11} {'proven':>11} {'best classical (same ops)':>34} {'ratio':>8}  program")
    print(f"{'':>4} {'(scanned)':>11} {'bound':>11} {'(scanned)':>34}")
    for r in rows:
        ratio = r["baseline_error"] / r["max_error"] if r["baseline_error"] and r["max_error"] > 0 else float("nan")
        base_error = r["baseline_error"] or float("nan")
        bound = shown_bound(r["bound"], ".3e")
        print(f"{r['ops']:>4} {r['max_error']:>11.3e} {bound:>11} {(r['baseline'] or '-'):>22} "
              f"{base_error:>11.3e} {ratio:>8.2f}  {r['formula']}{INFINITIES if r['infinities'] else ''}")
    if any(r["infinities"] for r in rows):
        print(f"{INFINITIES.strip()}: finite only through IEEE infinities (c/0 = inf, then d/inf = 0)")
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
    if args.db:
        from discovery.store import FormulaStore

        with FormulaStore(args.db) as store:
            ids = store.write_programs(None, target.name, target.interval, rows)
        print(f"stored {len(ids)} programs in {args.db}")
    return 0
