"""The ``discovery`` command line."""

from __future__ import annotations

import argparse
import json
import math
import re
import sqlite3
import sys
import time
import traceback
import warnings
from pathlib import Path

import mpmath

from discovery.errors import DiscoveryError
from discovery.pcf import PCF, Status, evaluate
from discovery.pcf.exact import MAX_CONVERGENT_DIGITS, check_walk, exact_limit

# argparse takes "-n*(2n-3)" for an option; a leading space makes it a positional argument.
_NEGATIVE_POLYNOMIAL = re.compile(r"^-[\dn(\[]")
_COEFF_LIST = re.compile(r"^\s*\[?\s*-?\d+(\s*,\s*-?\d+)*\s*\]?\s*$")
_PACKAGE_DIR = str(Path(__file__).resolve().parent)
_INT64_MAX = 2**63 - 1
_DECIMAL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _polynomial_arg(text: str):
    """A polynomial from the command line: ``"2n+1"``, ``"n^2"`` or coefficients ``"[2,1]"``."""
    text = text.strip()
    if _COEFF_LIST.match(text) and ("," in text or "[" in text):
        return [int(t) for t in text.strip().strip("[]").split(",")]
    return text


def _number_in(kind: type, lo, hi):
    """An argparse type: an ``int`` or a finite ``float`` in [lo, hi], refused naming the value."""
    name = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text.strip()}")
        if not lo <= value <= hi:
            shown = f"[{lo:,}, {hi:,}]" if kind is int else f"[{lo:g}, {hi:g}]"
            raise argparse.ArgumentTypeError(f"{text.strip()} is out of range {shown}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _int_in(lo: int, hi: int):
    return _number_in(int, lo, hi)


def _float_in(lo: float, hi: float):
    return _number_in(float, lo, hi)


def _scheduler_arg(text: str) -> str:
    from discovery.campaign.executors import parse_scheduler

    try:
        return parse_scheduler(text)[0]
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


_positive_int = _int_in(1, 10**9)
_seed = _int_in(0, 2**63 - 1)
_depth = _int_in(1, 10**7)
_finite = _float_in(-math.inf, math.inf)


def _pcf_eval(args) -> int:
    pcf = PCF(_polynomial_arg(args.a), _polynomial_arg(args.b))
    check_walk(pcf.a, pcf.b, args.depth)
    if all(abs(c) <= _INT64_MAX for c in pcf.a + pcf.b):
        A, B = pcf.as_arrays()
        status = Status(int(evaluate(A, B, args.depth).status[0]))
    else:
        status = Status.INEXACT  # the float kernels take int64; the exact limit below takes any size
    est = pcf.limit(args.depth)
    if math.isinf(est.digits):
        text = str(exact_limit(pcf.a, pcf.b, args.depth))
    elif est.digits < 1:
        text = "nan" if mpmath.isnan(est.value) else mpmath.nstr(est.value, 3) + " (no correct digit)"
    else:
        shown = min(int(est.digits), args.max_digits)
        with mpmath.workdps(shown + 5):
            text = mpmath.nstr(est.value, shown)
    record = {
        "a": str(pcf.sympy()[0]),
        "b": str(pcf.sympy()[1]),
        "depth": args.depth,
        "limit": text,
        "digits": None if math.isinf(est.digits) else round(est.digits, 1),
        "exact_rational": math.isinf(est.digits),
        "status": status.name.lower(),
    }
    _print_record(record, args.format)
    return 0


def _print_record(record: dict, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(record, indent=2))
    else:
        width = max(len(k) for k in record)
        for key, value in record.items():
            print(f"{key:<{width}}  {value}")


def _pcf_metrics(args) -> int:
    from discovery.pcf.dynamics import metrics

    pcf = PCF(_polynomial_arg(args.a), _polynomial_arg(args.b))
    record = {"a": str(pcf.sympy()[0]), "b": str(pcf.sympy()[1])}
    for key, value in metrics(pcf, depth=args.depth, sample=args.sample).items():
        record[key] = None if isinstance(value, float) and math.isnan(value) else value
    _print_record(record, args.format)
    return 0


def _pcf_survey(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from discovery.cluster import anchor_table, concat_tables, save_table
    from discovery.pcf.dynamics import metrics
    from discovery.pcf.space import enumerate_box, sample_box

    if args.count:
        A, B = sample_box(args.count, args.degree_a, args.degree_b, args.bound, args.seed)
    else:
        A, B = enumerate_box(args.degree_a, args.degree_b, args.bound)
    parts = []
    chunk = 20_000
    with tqdm(total=len(A), desc="metrics", unit="PCF", disable=args.quiet) as bar:
        for start in range(0, len(A), chunk):
            part = metrics((A[start:start + chunk], B[start:start + chunk]), args.depth, args.sample)
            part.update(A=A[start:start + chunk], B=B[start:start + chunk])
            parts.append(part)
            bar.update(len(part["A"]))
    if args.anchors >= 0:
        parts.append(anchor_table(args.depth, args.sample, shifts=args.anchors))
    table = concat_tables(*parts)
    save_table(args.out, table)
    converged = int(np.isfinite(table["delta"]).sum())
    print(f"{len(table['A'])} PCFs ({converged} with finite metrics) written to {args.out}")
    return 0


def _pcf_cluster(args) -> int:
    from pathlib import Path

    from discovery.cluster import DynamicsClusterer, load_table

    table = load_table(args.table)
    clusterer = DynamicsClusterer(
        min_cluster_size=args.min_cluster_size, random_state=args.seed
    ).fit(table)
    reports = clusterer.reports_[: args.top]
    if args.format == "json":
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        noise = int((clusterer.labels_ == -1).sum())
        print(f"{len(clusterer.reports_)} clusters over {len(clusterer.labels_)} PCFs "
              f"({noise} noise or no finite metrics)")
        print(f"{'id':>4} {'size':>6} {'plane':<18} {'delta':>15} {'gamma_prime':>15} {'eta_prime':>8}  "
              "constants / representative")
        for r in reports:
            c, sp = r.centroid, r.spread
            plane = "(" + ", ".join(r.plane) + ")"
            print(
                f"{r.label:>4} {r.size:>6} {plane:<18} {c['delta']:>8.4f}±{sp['delta']:<6.4f}"
                f"{c['gamma_prime']:>8.3f}±{sp['gamma_prime']:<6.3f} {c['eta_prime']:>8.3f}  "
                f"{','.join(r.constants) or '-'}  {r.representatives[0]!r}"
            )
    if args.plots:
        from discovery.plots import cluster_scatter

        out = Path(args.plots)
        out.mkdir(parents=True, exist_ok=True)
        for plane in (("delta", "gamma_prime"), ("delta", "eta_prime")):
            path = cluster_scatter(table, clusterer.labels_, out / f"clusters_{plane[0]}_{plane[1]}.png", plane)
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _identify(args) -> int:
    from discovery.constants import load_catalog
    from discovery.constants import parse
    from discovery.identify import evaluate_isolated, identify, identify_pcf

    if args.catalog:
        load_catalog(args.catalog)
    options = {"escalate": not args.no_escalate, "budget_seconds": args.budget}
    if args.b is not None:
        pcf = PCF(_polynomial_arg(args.value), _polynomial_arg(args.b))
        found = identify_pcf(pcf, args.constants, args.digits or 50, args.degree, args.pairs,
                             progress=not args.quiet, **options)
        subject = repr(pcf)
    else:
        text = args.value.strip()
        if _DECIMAL.match(text):
            found = identify(text, args.constants, args.digits, degree=args.degree, pairs=args.pairs, **options)
        else:
            parse(text)  # a syntax error is refused here, without starting a child process
            digits = args.digits or 50
            precision = 2 * digits + 20
            value = evaluate_isolated(text, precision, _EVALUATION_SECONDS + args.budget, args.catalog)
            found = identify(value, args.constants, digits, precision=precision,
                             degree=args.degree, pairs=args.pairs, **options)
        subject = text
    if found is None:
        record = {"input": subject, "identified": False}
    else:
        record = {
            "input": subject,
            "identified": True,
            "closed_form": found.closed_form,
            "constant": found.constant,
            "kind": found.kind,
            "relation": list(found.relation),
            "basis": list(found.basis),
            "digits_verified": None if math.isinf(found.digits_verified) else round(found.digits_verified, 1),
            "depth": found.depth,
        }
    _print_record(record, args.format)
    return 0 if found is not None else 1


QUICKSTART = "quickstart.toml"
# Seconds an expression given to identify may take to evaluate, on top of --budget.
_EVALUATION_SECONDS = 10.0


def _target_arg(args):
    from discovery.programs.targets import make_target

    return make_target(args.target, tuple(args.interval), error=args.error)


def _programs_baselines(args) -> int:
    from discovery.programs.baselines import baselines

    target = _target_arg(args)
    if target.error == "ulp32":
        return _float32_baselines(target, args)
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
        print(f"{b.ops:>4}  {b.label:<28}{b.max_error:>20.3e}{_shown_bound(b.bound, '.3e'):>14}")
    return 0


def _float32_baselines(target, args) -> int:
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


def _programs_evolve(args) -> int:
    from tqdm import tqdm

    from discovery.programs.baselines import baselines, best_baseline
    from discovery.programs.search import ProgramSearch
    from discovery.programs.verify import float32_ulp_error, program_record

    target = _target_arg(args)
    ops = tuple(args.ops.split(","))
    search = ProgramSearch(target, args.max_ops, ops=ops, population_size=args.population, seed=args.seed,
                           checkpoint=args.checkpoint, finite_only=args.finite_only)
    seconds = args.minutes * 60
    bar = tqdm(total=int(seconds), unit="s", desc=f"evolving {target.name}", disable=args.quiet,
               bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} s {postfix}")
    start = time.time()

    def progress(state):
        bar.n = min(int(time.time() - start), int(seconds))
        best = min((f[0] for c, (_, f) in state.archive.items() if c <= args.max_ops), default=float("nan"))
        bar.set_postfix(generation=state.generation, evaluations=state.evaluations, best_log10_error=f"{best:.2f}")

    initial = search.seeds(args.population, classical=not args.no_classical_seeds)
    result = search.run(initial, seconds=seconds, progress=progress)
    bar.close()
    table = baselines(target, args.max_ops)
    rows = []
    for cost, (prog, _) in sorted(result.best.items()):
        base = best_baseline(table, cost)
        rows.append({**program_record(prog, target, cost, (result.float32 or {}).get(cost)), "formula": prog.formula(),
                     "baseline": base.label if base else None, "baseline_error": base.max_error if base else None})
    print(f"{result.generations} generations, {result.evaluations:,} programs evaluated in {result.seconds:.0f} s")
    print(f"{'ops':>4} {'max error':>11} {'proven':>11} {'best classical (same ops)':>34} {'ratio':>8}  program")
    print(f"{'':>4} {'(scanned)':>11} {'bound':>11} {'(scanned)':>34}")
    for r in rows:
        ratio = r["baseline_error"] / r["max_error"] if r["baseline_error"] and r["max_error"] > 0 else float("nan")
        base_error = r["baseline_error"] or float("nan")
        bound = _shown_bound(r["bound"], ".3e")
        print(f"{r['ops']:>4} {r['max_error']:>11.3e} {bound:>11} {(r['baseline'] or '-'):>22} "
              f"{base_error:>11.3e} {ratio:>8.2f}  {r['formula']}{_INFINITIES if r['infinities'] else ''}")
    if any(r["infinities"] for r in rows):
        print(f"{_INFINITIES.strip()}: finite only through IEEE infinities (c/0 = inf, then d/inf = 0)")
    if result.float32:
        print("float32 (fma fused), every float32 of the interval:")
        for cost, check in sorted(result.float32.items()):
            print(f"{cost:>4} ops: max {check['max_ulp']} ulp ({check['max_ulp_exact']:.3f} ulp of the exact value)")
    elif rows:
        best = min(rows, key=lambda r: r["max_error"])
        from discovery.programs.graph import Program

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


def _campaign_run(args) -> int:
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


def _campaign_status(args) -> int:
    from discovery.store import FormulaStore

    _require_db(args.db)
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
    return 0


def _require_db(path) -> None:
    from pathlib import Path

    if not Path(path).exists():
        raise ValueError(f"no database at {path}")


def _print_records(records: list[dict], fmt: str) -> None:
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
                      f"proven bound {_shown_bound(r['bound'])}{ulp}{_INFINITIES if r['infinities'] else ''}  "
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


# Marks a program whose result is finite only through IEEE infinities.
_INFINITIES = "  [IEEE inf]"


def _shown_bound(bound, spec: str = ".3g") -> str:
    """A proven bound as a table shows it: '-' when not computed, 'none' when none was proved."""
    if bound is None:
        return "-"
    return format(bound, spec) if math.isfinite(bound) else "none"


def _query(args) -> int:
    from discovery.store import FormulaStore

    _require_db(args.db)
    with FormulaStore(args.db) as store:
        records = store.query(
            kind=args.kind, constant=args.constant, cluster=args.cluster, min_digits=args.min_digits,
            delta=tuple(args.delta) if args.delta else None, target=args.target, campaign=args.campaign,
            identified=True if args.identified else None, limit=args.limit, family=args.family,
        )
    _print_records(records, args.format)
    return 0


def _families(args) -> int:
    from discovery.families import class_expr, class_where, family_polynomials, run_families
    from discovery.store import FormulaStore, json_record

    _require_db(args.db)
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


def _report(args) -> int:
    from discovery.campaign.closing import write_report

    _require_db(args.db)
    path = write_report(args.db, args.out, campaign=args.campaign)
    print(f"report: {path}")
    return 0


def _run_default(args) -> int:
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
            print(f"  a(n) = {str(a):<14} b(n) = {str(b):<22} limit = {r['closed_form']:<30} ({shown})")
    print(f"\nquery them again with: discovery query --db {args.db} --format table|json|csv")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``discovery`` command."""
    parser = _ArgumentParser(
        prog="discovery",
        description="Discover formulas: polynomial continued fractions and short programs. "
        "Add --debug anywhere to see the traceback of an error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    pcf = commands.add_parser("pcf", help="work with polynomial continued fractions")
    pcf_commands = pcf.add_subparsers(dest="pcf_command", required=True, metavar="COMMAND")
    ev = pcf_commands.add_parser(
        "eval",
        help="evaluate one PCF to its correct digits",
        description="Evaluate a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)) exactly at a depth.",
    )
    ev.add_argument("a", help='a(n): "2n+1", "n^2+1" or coefficients "[2,1]" (highest degree first)')
    ev.add_argument("b", help='b(n), in the same forms as a(n)')
    ev.add_argument("--depth", type=_depth, default=1000,
                    help=f"convergent depth (default 1000), at most 10,000,000 and refused where the exact "
                    f"convergents would pass {MAX_CONVERGENT_DIGITS:,} digits (about 20 s and 1 GB)")
    ev.add_argument(
        "--max-digits", type=_int_in(1, 10**6), default=100,
        help="print at most this many digits (at most 1,000,000: printing costs quadratic time)"
    )
    ev.add_argument("--format", choices=("table", "json"), default="table")
    ev.set_defaults(handler=_pcf_eval)

    me = pcf_commands.add_parser(
        "metrics",
        help="convergence-dynamics metrics of one PCF",
        description="delta (irrationality measure), growth of the reduced denominator, "
        "convergence rate and eigenvalue ratio of one PCF.",
    )
    me.add_argument("a", help='a(n), as for "pcf eval"')
    me.add_argument("b", help="b(n)")
    me.add_argument("--depth", type=_int_in(2, 10**6), default=2000,
                    help="reference depth (default 2000; at most 1,000,000: a float pass of about 3 s)")
    me.add_argument("--sample", type=_int_in(1, 10**6), default=1000,
                    help=f"depth at which delta is measured (default 1000, below --depth); refused where its exact "
                    f"convergents would pass {MAX_CONVERGENT_DIGITS:,} digits")
    me.add_argument("--format", choices=("table", "json"), default="table")
    me.set_defaults(handler=_pcf_metrics)

    su = pcf_commands.add_parser(
        "survey",
        help="metrics of every PCF in a coefficient box (or a random sample) into a .npz table",
    )
    su.add_argument("--degree-a", type=_int_in(0, 10), default=2, help="at most 10")
    su.add_argument("--degree-b", type=_int_in(0, 20), default=2, help="at most 20")
    su.add_argument("--bound", type=_positive_int, default=5,
                    help="coefficients in [-bound, bound], at most 10^9 (a box too large to hold is refused)")
    su.add_argument("--count", type=_int_in(1, 10**6),
                    help="a random sample of this size instead of the whole box (at most 1,000,000: measured 68 s "
                    "per 50,000 on two cores, so about 25 minutes)")
    su.add_argument("--seed", type=_seed, default=0)
    su.add_argument("--anchors", type=_int_in(-1, 100), default=7,
                    help="add the known formulas with this many tails each (-1: none; at most 100)")
    su.add_argument("--depth", type=_int_in(2, 10**6), default=2000, help="as for 'pcf metrics' (at most 1,000,000)")
    su.add_argument("--sample", type=_int_in(1, 10**6), default=1000, help="as for 'pcf metrics'")
    su.add_argument("--out", required=True, help="the .npz file to write")
    su.add_argument("--quiet", action="store_true", help="no progress bar")
    su.set_defaults(handler=_pcf_survey)

    cl = pcf_commands.add_parser("cluster", help="cluster a metric table and report the clusters")
    cl.add_argument("table", help="a .npz table written by 'discovery pcf survey'")
    cl.add_argument("--min-cluster-size", type=_positive_int, default=5, help="at most 10^9 (costs nothing)")
    cl.add_argument("--seed", type=_seed, default=0, help="0 to 2^63-1")
    cl.add_argument("--top", type=_positive_int, default=30,
                    help="report the largest clusters only (at most 10^9; costs nothing)")
    cl.add_argument("--plots", help="folder for the scatter plots (PNG)")
    cl.add_argument("--format", choices=("table", "json"), default="table")
    cl.set_defaults(handler=_pcf_cluster)

    idf = commands.add_parser(
        "identify",
        help="find and confirm a closed form of a number or of a PCF's limit",
        description="Screens integer relations with LLL, escalating within a time budget: rational, Möbius in "
        "one catalog constant, quadratic, two constants at once, products of constants. Each candidate is "
        "confirmed on digits it was not screened on (twice the screening digits; for a slowly converging PCF, "
        "extrapolated, all the digits it reaches). Exit status 1 when nothing is confirmed.",
    )
    idf.add_argument("value", help="digits (1.2732395447...), a constant expression (4/pi), or a(n) of a PCF")
    idf.add_argument("b", nargs="?", help="b(n): given, the two arguments are a PCF")
    idf.add_argument("--constants", nargs="+", help="catalog names to try (default: all)")
    idf.add_argument("--digits", type=_int_in(5, 5000),
                     help="screening digits (default: half the given digits, 50 for a PCF), 5 to 5000: LLL and the "
                     "confirmation run at twice as many")
    idf.add_argument("--degree", type=int, choices=(1, 2), default=1)
    idf.add_argument("--pairs", action="store_true", help="try two constants at once even with --no-escalate")
    idf.add_argument("--no-escalate", action="store_true",
                     help="stop after rational, Möbius in one constant and quadratic relations")
    idf.add_argument("--budget", type=_float_in(0.0, 86_400.0), default=5.0, metavar="SECONDS",
                     help="seconds for the escalation (and the extrapolation of a slow PCF), at most 86400; "
                     "default 5. An expression gets 10 s more to evaluate, in a child process of at most 2 GiB")
    idf.add_argument("--catalog", help="a TOML file of more constants ([[constant]] name, value, ...)")
    idf.add_argument("--quiet", action="store_true", help="no progress bar for deep exact convergents")
    idf.add_argument("--format", choices=("table", "json"), default="table")
    idf.set_defaults(handler=_identify)

    camp = commands.add_parser("campaign", help="run search campaigns from TOML files")
    camp_commands = camp.add_subparsers(dest="campaign_command", required=True, metavar="COMMAND")
    cr = camp_commands.add_parser(
        "run",
        help="run or resume a campaign",
        description="Run a campaign into a database. Stop it at any moment (Ctrl-C, or kill it); "
        "the same command resumes it without losing or duplicating results.",
    )
    cr.add_argument("config", help="campaign TOML file (examples: data/campaigns/ in the repository)")
    cr.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    cr.add_argument("--max-units", type=_positive_int, help="stop after this many new work units")
    cr.add_argument("--scheduler", type=_scheduler_arg,
                    help="run the units on Dask: tcp://host:8786, or local:N for N worker processes here "
                    "(overrides [execution] scheduler; needs the dask extra)")
    cr.add_argument("--quiet", action="store_true", help="no progress bars")
    cr.set_defaults(handler=_campaign_run)
    cs = camp_commands.add_parser("status", help="progress and findings of the campaigns in a database")
    cs.add_argument("--db", required=True)
    cs.set_defaults(handler=_campaign_status)

    q = commands.add_parser("query", help="list stored formulas")
    q.add_argument("--db", required=True)
    q.add_argument("--kind", choices=("pcf", "program"))
    q.add_argument("--constant", help="catalog name, e.g. pi, e, ln2, zeta3")
    q.add_argument("--target", help="target function of programs")
    q.add_argument("--min-digits", type=_float_in(0, 1e9), help="minimum digits verified (0 to 10^9)")
    q.add_argument("--cluster", type=_int_in(-1, 2**62), help="cluster label (-1 to 2^62)")
    q.add_argument("--delta", type=_finite, nargs=2, metavar=("LO", "HI"), help="FR delta range (two finite numbers)")
    q.add_argument("--campaign", help="campaign name")
    q.add_argument("--identified", action="store_true", help="only identified formulas")
    q.add_argument("--limit", type=_positive_int, help="at most this many formulas (at most 10^9)")
    q.add_argument("--family", type=_positive_int, help="only the members of this family (id, at most 10^9)")
    q.add_argument("--format", choices=("table", "json", "csv"), default="table")
    q.set_defaults(handler=_query)

    fam = commands.add_parser(
        "families", help="detect infinite families of PCFs, extend them beyond the box, print them",
        description="Finds identified PCFs of one constant on an integer line g(k) = base + k*direction, "
        "confirms members outside the searched box, fits the limit as a formula in k and stores it all.",
    )
    fam.add_argument("--db", required=True)
    fam.add_argument("--campaign", help="campaign name (default: every identified PCF in the database)")
    fam.add_argument("--stored", action="store_true", help="print the stored families without detecting again")
    fam.add_argument("--extend", type=_int_in(1, 1000), default=10,
                     help="members outside the box to confirm in each direction (default 10, at most 1000: each "
                     "is one identification)")
    fam.add_argument("--format", choices=("table", "json"), default="table")
    fam.add_argument("--quiet", action="store_true", help="no progress bar")
    fam.set_defaults(handler=_families)

    rep = commands.add_parser("report", help="write an offline HTML report of a campaign")
    rep.add_argument("--db", required=True)
    rep.add_argument("--campaign", help="campaign name (default: the latest)")
    rep.add_argument("--out", required=True, help="folder to write index.html into")
    rep.set_defaults(handler=_report)

    progs = commands.add_parser("programs", help="evolve short programs that approximate functions")
    prog_commands = progs.add_subparsers(dest="programs_command", required=True, metavar="COMMAND")
    for name, handler, text in (
        ("baselines", _programs_baselines,
         "classical approximations (Taylor, Padé, minimax): scanned maximum errors and proven bounds"),
        ("evolve", _programs_evolve, "NSGA-II over (max error, operations) with CMA-ES constant tuning"),
    ):
        sp = prog_commands.add_parser(name, help=text, description=text)
        sp.add_argument("--target", required=True,
                        help="exp, exp2, ln, log2, erf, sin, cos, tanh, sqrt, or an mpmath expression in x")
        sp.add_argument("--interval", type=_finite, nargs=2, required=True, metavar=("LO", "HI"),
                        help="two finite numbers")
        sp.add_argument("--error", choices=("auto", "relative", "absolute", "ulp32"), default="auto",
                        help="ulp32: run programs in float32 (fma fused) and judge them in ULPs")
        sp.add_argument("--max-ops", type=_int_in(1, 64), default=10 if name == "evolve" else 16,
                        help="operations at most (1 to 64)")
        if name == "baselines":
            sp.add_argument("--format", choices=("table", "json"), default="table")
        else:
            sp.add_argument("--minutes", type=_float_in(0, 10**6), default=30.0,
                            help="time budget (default 30, at most 10^6; the search stops on time)")
            sp.add_argument("--population", type=_int_in(4, 10**5), default=100,
                            help="programs per generation (4 to 100,000: each holds its values on the sample grid)")
            sp.add_argument("--seed", type=_seed, default=0, help="0 to 2^63-1")
            sp.add_argument("--ops", default="add,sub,mul,div", help="operations, e.g. add,sub,mul,div,sqrt,fma")
            sp.add_argument("--no-classical-seeds", action="store_true", help="start from random programs only")
            sp.add_argument("--finite-only", action="store_true",
                            help="refuse programs that are finite only through IEEE infinities (c/0 = inf, d/inf = 0)")
            sp.add_argument("--checkpoint", help="checkpoint file (resumes if it exists)")
            sp.add_argument("--float32-exhaustive", action="store_true", help="check every float32 of the interval")
            sp.add_argument("--db", help="store the Pareto front in this database")
            sp.add_argument("--quiet", action="store_true")
        sp.set_defaults(handler=handler)

    run = commands.add_parser(
        "run",
        help="run the quickstart campaign into ./discoveries.db and print what it found",
        description="With no arguments: runs data/campaigns/quickstart.toml (a couple of minutes).",
    )
    run.add_argument("config", nargs="?", help="another campaign file")
    run.add_argument("--db", default="discoveries.db")
    run.add_argument("--quiet", action="store_true")
    run.set_defaults(handler=_run_default)
    return parser


class _UsageError(Exception):
    """A command line that argparse refuses."""


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a refused command line raises (one line from main) instead of printing the
    usage block and exiting, so in-process callers and tests see every error the same way."""

    def error(self, message):
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, (_UsageError, DiscoveryError, ValueError, OSError)) and text:
        return text
    if isinstance(err, sqlite3.Error):
        return f"database error: {text}"
    return f"internal error: {type(err).__name__}: {text} (rerun with --debug for the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Every error ends in one line on stderr starting ``discovery: error:``: status 2 for a command
    line or input that is refused, 1 for a failure while running (a database, a file, a bug).
    ``--debug`` anywhere on the command line prints the traceback as well.
    """
    # Coefficients of any size are promised, and Python refuses to print an integer of more than
    # 4,300 digits; the sizes that reach printing are bounded by the parser and the options.
    sys.set_int_max_str_digits(0)
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    argv = [t for t in argv if t != "--debug"]
    argv = [" " + t if _NEGATIVE_POLYNOMIAL.match(t) else t for t in argv]
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as err:
        print(f"discovery: error: {_one_line(err)}", file=sys.stderr)
        return 2
    caught: list = []
    try:
        try:
            with warnings.catch_warnings(record=True) as recorded:
                warnings.simplefilter("always", DeprecationWarning)
                try:
                    return args.handler(args)
                finally:
                    caught = list(recorded)
        finally:
            # Shown only here, once the recording context is closed: inside it showwarning appends to
            # the very list being replayed, and the replay never ends.
            _show_warnings(caught)
    except KeyboardInterrupt:
        print("discovery: interrupted; everything committed is kept", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the command line's last resort: one line, never a traceback
        if debug:
            traceback.print_exc()
        print(f"discovery: error: {_one_line(err)}", file=sys.stderr)
        return 2 if isinstance(err, ValueError) else 1


def _show_warnings(caught: list) -> None:
    """Print our deprecation notes once each, and every other warning as Python would have shown it."""
    ours = [w for w in caught if issubclass(w.category, DeprecationWarning) and w.filename.startswith(_PACKAGE_DIR)]
    for note in sorted({str(w.message) for w in ours}):
        print(f"discovery: warning: {note}", file=sys.stderr)
    shown = set()
    for w in caught:
        key = (str(w.message), w.category, w.filename, w.lineno)
        if not issubclass(w.category, DeprecationWarning) and key not in shown:
            shown.add(key)
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
