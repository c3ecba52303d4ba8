"""Program search quality: evolved fronts against the best classical approximations.

For each target -- AutoNumerics-Zero's: exp2 on [0, 1] relative, exp on [-1, 1] relative, log2 and
ln on [1, 2] absolute, erf on [0, 1], erfc on [0, 1], Airy Ai(-x) on [0.5, 1.5] (through J(±1/3),
which the expression whitelist has) and the Bessel I_{1/2} on [1, 2], all relative unless stated;
and tanh on [0, 1] -- this runs two program campaigns of ``--minutes`` each, with and without
classical seeds (two islands, one per core), into one database, and prints per operation count
the best classical error (Taylor, Padé, minimax polynomial/rational/continued fraction) and the
evolved seeded and unseeded errors, all measured by ``verify.max_error`` (mpmath, dense scan and
refinement) with the proven interval-arithmetic bound beside the evolved ones.  Everything is
finite-only: the searches refuse programs finite only through IEEE infinities (the default) and
classical programs that are (continued fractions dividing by x - c at a double c) are left out.  For exp2 it
also evolves in float32 (``error = "ulp32"``, with fma) and compares the exhaustive float32 ULP
error against the fused-Horner minimax polynomials.  Then it checks the issue's targets.

The database keeps the fronts: ``discovery query --db DB --kind program --target exp2``.

Usage: python scripts/bench_program_quality.py [--minutes 60] [--targets exp2 exp ...] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import tempfile
import time
from pathlib import Path

from discovery.campaign import run_campaign
from discovery.programs.baselines import baselines, best_baseline
from discovery.programs.targets import make_target
from discovery.programs.verify import reaches_infinity

_AIRY = "sqrt(x)/3*(besselj(1/3, 2/3*x**1.5) + besselj(-1/3, 2/3*x**1.5))"  # Ai(-x), x > 0
# name -> (expression, interval, error)
TARGETS = {
    "exp2": ("exp2", (0.0, 1.0), "relative"),
    "exp": ("exp", (-1.0, 1.0), "relative"),
    "log2": ("log2", (1.0, 2.0), "absolute"),
    "ln": ("ln", (1.0, 2.0), "absolute"),
    "erf": ("erf", (0.0, 1.0), "auto"),
    "erfc": ("erfc", (0.0, 1.0), "relative"),
    "airy": (_AIRY, (0.5, 1.5), "relative"),
    "besseli-half": ("besseli(1/2, x)", (1.0, 2.0), "relative"),
    "tanh": ("tanh", (0.0, 1.0), "auto"),
}
MAX_OPS = 10
ANZ_EXP2_10_OPS = 3.6e-15  # AutoNumerics-Zero's 10-operation 2^x on [0, 1]
CLASSICAL_ULP32_OPS = 6  # fused Horner of the degree-6 minimax polynomial: the smallest classical form under 1 ULP

CONFIG = """
[campaign]
name = "{name}"
kind = "program"
seed = {seed}

[target]
name = "{target}"
interval = [{lo}, {hi}]
error = "{error}"
max_ops = {max_ops}
ops = {ops}

[search]
minutes = {minutes}
population = 100
classical_seeds = {seeded}

[execution]
workers = 2
islands = 2
migrate_every = 5
"""


def stored_front(db: Path, campaign: str) -> dict[int, dict]:
    """ops -> stored row (max error, bound, ...) of a campaign's front."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT f.* FROM formulas f JOIN campaign_formulas cf ON cf.formula_id = f.id "
            "JOIN campaigns c ON c.id = cf.campaign_id WHERE c.name = ? AND f.kind = 'program'", (campaign,)).fetchall()
    return {int(r["ops"]): dict(r) for r in rows}


def best_at(front: dict[int, dict], ops: int, key: str = "max_error") -> float:
    """The lowest error of a front's programs of at most ``ops`` operations."""
    values = [r[key] for c, r in front.items() if c <= ops and r.get(key) is not None]
    return min(values, default=math.inf)


def evolve(db: Path, folder: Path, name: str, target: str, interval, error: str, ops: list, minutes: float,
           seeded: bool, seed: int) -> dict[int, dict]:
    path = folder / f"{name}.toml"
    path.write_text(CONFIG.format(name=name, seed=seed, target=target, lo=interval[0],
                                  hi=interval[1], error=error,
                                  max_ops=MAX_OPS, ops=json.dumps(ops), minutes=minutes,
                                  seeded="true" if seeded else "false"))
    began = time.time()
    result = run_campaign(path, db, progress=False)
    print(f"  {name}: {result.candidates:,} programs evaluated in {time.time() - began:.0f} s", flush=True)
    return stored_front(db, name)


def fmt(v: float) -> str:
    return f"{v:.3e}" if math.isfinite(v) else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="minutes per search (two per target)")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=list(TARGETS))
    parser.add_argument("--db", type=Path, help="database for the fronts (default: a temporary one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-ulp32", action="store_true", help="skip the float32 search for exp2")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "quality.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        beats = {}
        checks = []
        for name in args.targets:
            expr, interval, error = TARGETS[name]
            target = make_target(expr, interval, {"auto": None, "relative": True, "absolute": False}[error])
            mode = "relative" if target.relative else "absolute"
            print(f"{name} ({expr}) on [{interval[0]:g}, {interval[1]:g}], {mode} error", flush=True)
            began = time.time()
            # Finite-only: classical programs finite only through IEEE infinities do not count.
            classical = [b for b in baselines(target, MAX_OPS) if not reaches_infinity(b.program, target)]
            print(f"  finite classical baselines: {len(classical)} in {time.time() - began:.0f} s", flush=True)
            basic = ["add", "sub", "mul", "div"]
            error = "relative" if target.relative else "absolute"
            seeded = evolve(db, Path(tmp), f"quality-{name}-seeded", expr, interval, error, basic, args.minutes,
                            True, args.seed)
            unseeded = evolve(db, Path(tmp), f"quality-{name}-unseeded", expr, interval, error, basic, args.minutes,
                              False, args.seed)
            print(f"  {'ops':>3} {'classical':>10} {'seeded':>10} {'(bound)':>10} {'unseeded':>10} {'(bound)':>10}"
                  "  best classical form")
            ratios, unseeded_ok = [], True
            for ops in range(1, MAX_OPS + 1):
                b = best_baseline(classical, ops)
                c = b.max_error if b else math.inf
                s, u = best_at(seeded, ops), best_at(unseeded, ops)
                print(f"  {ops:>3} {fmt(c):>10} {fmt(s):>10} {fmt(best_at(seeded, ops, 'bound')):>10} "
                      f"{fmt(u):>10} {fmt(best_at(unseeded, ops, 'bound')):>10}  {b.label if b else ''}")
                ratios.append(c / min(s, u) if math.isfinite(c) else 0.0)  # no classical form this small
                # Scanned errors of one structure differ in their third digit between tunings.
                unseeded_ok &= u <= c * 1.01
            beats[name] = max(ratios)
            print(f"  evolved beats classical by {max(ratios):.2f}x at best (ops {1 + ratios.index(max(ratios))})")
            if name == "exp2":
                ten = min(best_at(seeded, MAX_OPS), best_at(unseeded, MAX_OPS))
                unseeded_ten = best_at(unseeded, MAX_OPS)
                checks.append((f"2^x at 10 operations <= {ANZ_EXP2_10_OPS:g} finite-only: {ten:.3e} (seeded "
                               f"{best_at(seeded, MAX_OPS):.3e}, unseeded {unseeded_ten:.3e})",
                               ten <= ANZ_EXP2_10_OPS))
                checks.append(("unseeded at least matches classical at every count <= 10 for 2^x", unseeded_ok))
        wins = [n for n, r in beats.items() if r >= 2]
        checks.append((f"evolved >= 2x better than classical at some count <= 10 on {len(wins)} of {len(beats)} "
                       f"targets ({', '.join(wins) or 'none'})", len(wins) >= 3))
        if "exp2" in args.targets and not args.no_ulp32:
            checks.append(ulp32(db, Path(tmp), args.minutes, args.seed))
        print("checks:")
        for text, ok in checks:
            print(f"  [{'x' if ok else ' '}] {text}")
        print(f"fronts stored in {db}" if args.db else "")


def ulp32(db: Path, folder: Path, minutes: float, seed: int) -> tuple[str, bool]:
    """exp2 in float32: evolved front (exhaustive ULP) against fused-Horner minimax polynomials."""
    from discovery.programs.baselines import float32_polynomial_baselines

    target = make_target("exp2", (0.0, 1.0), error="ulp32")
    print("exp2 on [0, 1] in float32 (ULP error, every float32 checked)", flush=True)
    began = time.time()
    classical = {ops: check["max_ulp"] for ops, _, check in float32_polynomial_baselines(target, 7)}
    print(f"  fused-Horner minimax polynomials of degree 1..7 checked in {time.time() - began:.0f} s", flush=True)
    front = evolve(db, folder, "quality-exp2-ulp32", "exp2", (0.0, 1.0), "ulp32",
                   ["add", "sub", "mul", "div", "fma"], minutes, False, seed)
    print(f"  {'ops':>3} {'classical fma polynomial':>25} {'evolved (unseeded)':>19}")
    for ops in range(1, MAX_OPS + 1):
        fewer = [ulp for degree_ops, ulp in classical.items() if degree_ops <= ops]
        print(f"  {ops:>3} {min(fewer, default=math.inf):>25} {best_at(front, ops, 'max_ulp'):>19}")
    under = [c for c, r in front.items() if r.get("max_ulp") is not None and r["max_ulp"] <= 1]
    fewest = min(under, default=None)
    text = (f"float32 2^x <= 1 ULP with {fewest} operations (classical: {CLASSICAL_ULP32_OPS} fma)" if fewest
            else "float32 2^x: no evolved program <= 1 ULP")
    return text, fewest is not None and fewest < CLASSICAL_ULP32_OPS


if __name__ == "__main__":
    main()
