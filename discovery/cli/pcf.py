"""The ``pcf`` and ``identify`` commands: one PCF evaluated, measured or identified; boxes surveyed
and clustered."""

from __future__ import annotations

import json
import math
import sys

import mpmath

from discovery.cli.arguments import DECIMAL, INT64_MAX, polynomial_arg, print_record
from discovery.identify.escalation import MIN_KNOWN, known_digits
from discovery.identify.low_precision import screen
from discovery.pcf import PCF, Status, evaluate
from discovery.pcf.exact import check_walk, exact_limit

# Seconds an expression given to identify may take to evaluate, on top of --budget.
_EVALUATION_SECONDS = 10.0


def pcf_eval(args) -> int:
    pcf = PCF(polynomial_arg(args.a), polynomial_arg(args.b))
    check_walk(pcf.a, pcf.b, args.depth)
    if all(abs(c) <= INT64_MAX for c in pcf.a + pcf.b):
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
    print_record(record, args.format)
    return 0


def pcf_metrics(args) -> int:
    from discovery.pcf.dynamics import metrics

    pcf = PCF(polynomial_arg(args.a), polynomial_arg(args.b))
    record = {"a": str(pcf.sympy()[0]), "b": str(pcf.sympy()[1])}
    for key, value in metrics(pcf, depth=args.depth, sample=args.sample).items():
        record[key] = None if isinstance(value, float) and math.isnan(value) else value
    print_record(record, args.format)
    return 0


def pcf_survey(args) -> int:
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


def pcf_cluster(args) -> int:
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


def pcf_closed_form(args) -> int:
    from discovery.pcf.closed_form import closed_form

    pcf = PCF(polynomial_arg(args.a), polynomial_arg(args.b))
    found = closed_form(pcf, digits=args.digits)
    a, b = pcf.sympy()
    if found is None:
        record = {"a": str(a), "b": str(b), "closed_form": None,
                  "why": "no limit, a degree above (1, 2), or not confirmed by the exact convergents"}
    else:
        digits = found.digits_confirmed
        record = {"a": str(a), "b": str(b), "closed_form": found.text, "kind": found.kind,
                  "hypergeometric": str(found.hypergeometric),
                  "parameters": {k: str(v) for k, v in found.parameters.items()},
                  "digits_confirmed": None if math.isinf(digits) else round(digits, 1),
                  "exact_rational": math.isinf(digits), "reason": found.reason}
    print_record(record, args.format)
    return 0 if found is not None else 1


def identify(args) -> int:
    import time

    from discovery.constants import load_catalog, parse
    from discovery.identify import evaluate_isolated, identify, identify_pcf

    if args.catalog:
        load_catalog(args.catalog)
    options = {"escalate": not args.no_escalate, "budget_seconds": args.budget}
    trace: list = []
    started = time.perf_counter()
    screened = None  # (digits given, screening digits) of a low-precision screen
    if args.b is not None:
        pcf = PCF(polynomial_arg(args.value), polynomial_arg(args.b))
        found = identify_pcf(pcf, args.constants, args.digits or 50, args.degree, args.pairs,
                             progress=not args.quiet, trace=trace, **options)
        subject = repr(pcf)
    else:
        text = args.value.strip()
        if DECIMAL.match(text) and known_digits(text) < MIN_KNOWN:
            screened = (known_digits(text), _screen_digits(text, args.digits))
            found = screen(text, screened[1], args.constants, trace=trace)
        elif DECIMAL.match(text):
            found = identify(text, args.constants, args.digits, degree=args.degree, pairs=args.pairs, trace=trace,
                             **options)
        else:
            parse(text)  # a syntax error is refused here, without starting a child process
            digits = args.digits or 50
            precision = 2 * digits + 20
            value = evaluate_isolated(text, precision, _EVALUATION_SECONDS + args.budget, args.catalog)
            found = identify(value, args.constants, digits, precision=precision,
                             degree=args.degree, pairs=args.pairs, trace=trace, **options)
        subject = text
    record = {"input": subject, "identified": found is not None and screened is None}
    if screened is not None:
        record["candidate"] = found is not None
        record["screen"] = _screen_note(*screened)
    if found is not None:
        record.update({
            "closed_form": found.closed_form,
            "constant": found.constant,
            "kind": found.kind,
            "relation": list(found.relation),
            "basis": list(found.basis),
            "digits_verified" if screened is None else "holds_on_digits":
                None if math.isinf(found.digits_verified) else round(found.digits_verified, 1),
            "depth": found.depth,
        })
    else:
        record["tried"] = trace
        record["seconds"] = round(time.perf_counter() - started, 2)
        record["try_next"] = _next_steps(args, trace, screened)
    if args.format == "json" or found is not None:
        print_record(record, args.format)
    else:
        _print_account(record, None if screened else args.budget)
    return 0 if found is not None else 1


def _screen_digits(text: str, digits: int | None) -> int:
    """The screening digits of a decimal given to fewer than MIN_KNOWN digits, or the refusal that says
    what to do instead."""
    from discovery.errors import InputError
    from discovery.identify.low_precision import MIN_SCREEN_KNOWN, screen_range

    known = known_digits(text)
    lo, hi = screen_range(known)
    if digits is None or digits >= MIN_KNOWN:
        screen_hint = (f", or screen it with --digits {hi} (a screen, not a confirmation: "
                       f"{_screen_risk(known, hi)})" if known >= MIN_SCREEN_KNOWN else "")
        raise InputError(f"{text} has {known} significant digits; identify confirms every relation on digits it did "
                         f"not screen and needs at least {MIN_KNOWN}. Paste {MIN_KNOWN} or more digits, or give the "
                         f"number as an expression (e.g. 'pi^2/6', '1/agm(1, sqrt(2))'){screen_hint}")
    return digits


def _screen_note(known: int, digits: int) -> str:
    """What a low-precision screen is, in words."""
    return f"screened on {digits} of {known} digits, not confirmed: {_screen_risk(known, digits)}"


def _screen_risk(known: int, digits: int) -> str:
    """The measured false-positive rate of a low-precision screen, in words."""
    from discovery.identify.low_precision import false_positive_rate

    rate = false_positive_rate(known, digits)
    if rate is None:
        return "its false-positive rate was not measured there"
    claims, trials = rate
    bound = f"below {3 / trials:.2%} at 95% confidence" if claims == 0 else f"{claims / trials:.2%}"
    return (f"on {trials:,} random {known}-digit reals this screen claimed a relation for {claims:,} ({bound}; "
            "scripts/bench_low_precision.py)")


def _next_steps(args, trace: list, screened) -> list[str]:
    """What to try when nothing was found, given what was tried."""
    steps = []
    evaluation = next((t for t in trace if t["stage"] == "evaluation"), None)
    if evaluation is not None and evaluation["digits"] < MIN_KNOWN:
        return [f"the fraction reached only {evaluation['digits']} correct digits at depth {evaluation['depth']}: "
                "it converges too slowly or not at all (see 'discovery pcf eval')"]
    if screened is not None:
        steps.append(f"paste {MIN_KNOWN} or more digits: a full identification tries many more relations")
    skipped = [t["stage"] for t in trace if t.get("skipped") or t.get("cut")]
    if skipped:
        steps.append(f"--budget {max(60, int(args.budget * 10))}: the budget of {args.budget:g} s cut "
                     f"{len(skipped)} stage(s) ({'; '.join(skipped)})")
    if args.degree == 1 and screened is None:
        steps.append("--degree 2: ratios of quadratics in one constant")
    if args.no_escalate and screened is None:
        steps.append("drop --no-escalate: two constants at once and products of constants")
    if args.constants:
        steps.append("drop --constants: the whole catalog ('discovery constants' lists it)")
    if not args.catalog:
        steps.append("--catalog FILE: constants of your own ([[constant]] name, value)")
    return steps


def _print_account(record: dict, budget: float | None) -> None:
    """What identify tried and what to try next, for people (``budget``: of the escalation, None for a
    low-precision screen, which has none)."""
    print(f"input       {record['input']}")
    print(f"identified  nothing{' (' + record['screen'] + ')' if 'screen' in record else ''}")
    print(f"tried       in {record['seconds']:.2f} s{'' if budget is None else f' (escalation budget {budget:g} s)'}:")
    width = max((len(t["stage"]) for t in record["tried"]), default=0)
    for t in record["tried"]:
        if t["stage"] == "evaluation":
            print(f"              limit of the fraction: {t['digits']} correct digits at depth {t['depth']}")
        elif t.get("skipped"):
            print(f"              {t['stage']:<{width}}  not tried: the {t['skipped']} ran out")
        else:
            cut = ", cut short by the budget" if t.get("cut") else ""
            print(f"              {t['stage']:<{width}}  {t['seconds']:.3f} s{cut}")
    for i, step in enumerate(record["try_next"]):
        print(f"{'try next' if i == 0 else '':<10}  {step}")
