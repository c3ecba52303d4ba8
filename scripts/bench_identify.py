"""Identification speed and false-positive rates, against mpmath.pslq in the same process.

Prints:
- Möbius identifications per second against the whole catalog at 50 screening digits
  (confirmed at 100), for discovery.identify and for mpmath.pslq doing the same job (each catalog
  constant in turn, [1, x, L, xL], then the same confirmation);
- single-constant LLL screens per second on one core;
- false positives: random reals of 20, 30 and 50 digits with the default escalation
  (identifications must be 0) and random PCF limits (every identification re-verified
  independently at 300 digits; failures must be 0), and random slowly converging PCFs identified
  on the digits they reach (each re-checked against a four times deeper extrapolation);
- published formulas (data/literature_pcfs.json): identified with default options, time each;
- screening cost against the number of constants: one LLL per constant against the hashed screen;
- the meet-in-the-middle sweep rate over the NeurIPS 2024 space (a, b of degree <= 2,
  coefficients in [-5, 5]), with the number of confirmed hits per constant.

Usage: python scripts/bench_identify.py [--values 200] [--reals 10000] [--pcfs 1000] [--slow-pcfs 200]
                                       [--sweep 1000000]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy

from discovery import PCF
from discovery import constants as catalog
from discovery.identify import identify, identify_pcf, mitm_sweep
from discovery.identify.bases import Basis, HashedMobius, mobius_bases
from discovery.identify.escalation import screen_stage
from discovery.identify.lattice import agreement, lll, scaled, screen_roi, spent
from discovery.pcf.exact import accelerated_limit
from discovery.pcf.known import literature_pcfs
from discovery.pcf.mitm import mobius_table
from discovery.pcf.space import enumerate_box, sample_box


def mobius_values(count: int, rng: random.Random, dps: int = 130) -> list[tuple[str, str]]:
    """Random (c0 + c1 x)/(c2 + c3 x) of random catalog constants, as 120-digit strings."""
    consts = list(catalog.CATALOG.values())
    out = []
    while len(out) < count:
        c = rng.choice(consts)
        c0, c1, c2, c3 = (rng.randint(-9, 9) for _ in range(4))
        if c0 * c3 - c1 * c2 == 0 or (c1 == 0 and c3 == 0):
            continue
        with mpmath.workdps(dps):
            x = c.value(dps)
            out.append((c.name, mpmath.nstr((c0 + c1 * x) / (c2 + c3 * x), 120)))
    return out


def closed_form_value(expr: sympy.Expr, dps: int) -> mpmath.mpf:
    """A closed form's value, catalog symbols (gauss, gompertz, ...) evaluated by the catalog."""
    subs = {sym: sympy.Float(str(catalog.get(str(sym)).value(dps + 10)), dps + 10) for sym in expr.free_symbols}
    return mpmath.mpf(str(sympy.N(expr.subs(subs), dps + 5)))


def holds(expr: sympy.Expr, text: str, dps: int = 100) -> bool:
    """Whether a closed form equals the value to ``dps`` digits."""
    with mpmath.workdps(dps + 20):
        value = mpmath.mpf(text)
        return abs(closed_form_value(expr, dps) - value) <= mpmath.mpf(10) ** -dps * max(1, abs(value))


def pslq_holds(result, text: str, dps: int = 100) -> bool:
    name, rel = result
    with mpmath.workdps(dps + 20):
        x, L = catalog.get(name).value(dps + 20), mpmath.mpf(text)
        return abs(rel[0] + rel[1] * x + rel[2] * L + rel[3] * x * L) <= mpmath.mpf(10) ** -(dps - 5)


def pslq_identify(text: str, digits: int = 50):
    """The same job with mpmath.pslq: every constant in turn, ROI gate, confirmation at 2x."""
    for c in catalog.CATALOG.values():
        with mpmath.workdps(digits):
            L = mpmath.mpf(text)
            x = c.value(digits)
            vals = [mpmath.mpf(1), x, L, x * L]
            rel = mpmath.pslq(vals, maxcoeff=10**8, maxsteps=20_000)
        if rel is None or not (rel[2] or rel[3]):
            continue
        if min(agreement(vals, rel), digits) / max(spent(rel), 1e-9) < 2:
            continue
        with mpmath.workdps(2 * digits + 10):
            x, L = c.value(2 * digits + 10), mpmath.mpf(text)
            deep = [mpmath.mpf(1), x, L, x * L]
            if agreement(deep, rel) >= 2 * digits - 1:
                return c.name, rel
    return None


def literature_table() -> tuple[list, int]:
    """Identify every published formula with default options: rows and the count of wrong ones."""
    rows, wrong = [], 0
    for entry in literature_pcfs():
        pcf = PCF(entry["a"], entry["b"])
        t0 = time.perf_counter()
        found = identify_pcf(pcf)
        took = time.perf_counter() - t0
        if found is None:
            verdict = "missed"
        else:
            with mpmath.workdps(120):
                expected = closed_form_value(sympy.sympify(entry["closed_form"], locals=catalog.SYMPY_LOCALS), 100)
                got = closed_form_value(found.expr, 100)
                right = abs(got - expected) <= mpmath.mpf(10) ** -95 * max(1, abs(expected))
            verdict = "right" if right else "WRONG"
            wrong += not right
        rows.append((entry, verdict, found, took))
    return rows, wrong


def random_reals(count: int, digits: int, rng: random.Random) -> tuple[int, float]:
    """False identifications among random reals of ``digits`` digits (default escalation), and the rate."""
    t0 = time.perf_counter()
    false = 0
    for _ in range(count):
        # A non-zero two-digit integer part, so the value has exactly ``digits`` significant digits.
        fraction = "".join(rng.choice("0123456789") for _ in range(digits - 2))
        text = f"{rng.choice('-+')}{rng.randint(10, 99)}.{fraction}"
        false += identify(text) is not None
    return false, count / (time.perf_counter() - t0)


def slow_random_pcfs(count: int, rng: random.Random) -> tuple[Counter, int, int]:
    """Fractions a = 2n^3 + 3n^2 + c1 n + c0, b = -n^6 with random c1, c0 in [-9, 9]: they
    converge like a power of n (often not an integer power), mostly to 15-60 digits after
    extrapolation.  Identified with defaults; each identification is re-checked against an
    extrapolation four times deeper."""
    found, wrong, low = Counter(), 0, 0
    for _ in range(count):
        a = [2, 3, rng.randint(-9, 9), rng.randint(-9, 9)]
        pcf = PCF(a, [-1, 0, 0, 0, 0, 0, 0])
        hit = identify_pcf(pcf, budget_seconds=2.0)
        if hit is None:
            continue
        found[hit.kind] += 1
        low += hit.digits_verified < 100
        deep = accelerated_limit(pcf.a, pcf.b, 4 * max(hit.depth, 1000))
        check = min(deep.digits, 200) - 5
        if check <= hit.digits_verified:
            continue
        with mpmath.workdps(int(check) + 20):
            closed = closed_form_value(hit.expr, int(check) + 10)
            wrong += abs(deep.value - closed) > mpmath.mpf(10) ** -check * max(1, abs(closed))
    return found, wrong, low


@dataclass(frozen=True)
class Synthetic:
    """A made-up constant for timing (a float plus pi/10^20, so it has all its digits)."""

    name: str
    v: float

    def value(self, dps: int) -> mpmath.mpf:
        with mpmath.workdps(dps + 10):
            return mpmath.mpf(self.v) + mpmath.pi / 10**20


def random_pcfs_low_digits(count: int, digits: int = 8) -> tuple[Counter, int, int]:
    """Random PCFs (degree <= 2, |c| <= 5) identified from their limits to 25 digits only (screened on
    8, confirmed on the rest), each identification re-verified at 300 digits."""
    A, B = sample_box(count, seed=123)
    found, wrong, checked = Counter(), 0, 0
    for a, b in zip(A, B):
        pcf = PCF(a.tolist(), b.tolist())
        est = pcf.limit(3000, dps=40)
        if est.digits < 25 or est.value == 0:
            continue
        checked += 1
        hit = identify(mpmath.nstr(est.value, 25, strip_zeros=False), budget_seconds=1.0)
        if hit is None:
            continue
        found[hit.kind] += 1
        deep = pcf.limit(20_000, dps=320)
        if deep.digits < 300:
            continue
        with mpmath.workdps(320):
            closed = closed_form_value(hit.expr, 310)
            wrong += abs(deep.value - closed) > mpmath.mpf(10) ** -290 * max(1, abs(closed))
    return found, wrong, checked


def screening_cost(sizes=(32, 100, 1000, 10_000)) -> list[tuple[int, float, float]]:
    """Milliseconds to screen one value against n constants: one LLL each against the hashed screen."""
    rng = np.random.default_rng(3)
    with mpmath.workdps(60):
        L = mpmath.mpf(1) / 3 + mpmath.sqrt(mpmath.mpf(7)) / 1000
    out = []
    for n in sizes:
        pool = [Synthetic(f"synthetic{i}", float(v)) for i, v in enumerate(rng.uniform(0.1, 10, n))]
        bases = mobius_bases(pool)
        t0 = time.perf_counter()
        screen_stage(bases, 30, scaled(L, 30), float("inf"))
        each_ms = (time.perf_counter() - t0) * 1e3
        hashed = HashedMobius(pool)
        t0 = time.perf_counter()
        for _ in range(5):
            screen_stage(hashed.bases(float(L)), 30, scaled(L, 30), float("inf"))
        out.append((n, each_ms, (time.perf_counter() - t0) / 5 * 1e3))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200)
    parser.add_argument("--pslq-values", type=int, default=20)
    parser.add_argument("--reals", type=int, default=10_000)
    parser.add_argument("--pcfs", type=int, default=1000)
    parser.add_argument("--slow-pcfs", type=int, default=200)
    parser.add_argument("--sweep", type=int, default=1_000_000)
    args = parser.parse_args()
    rng = random.Random(7)

    values = mobius_values(args.values, rng)
    t0 = time.perf_counter()
    ours = [identify(v, digits=50) for _, v in values]
    ours_rate = len(values) / (time.perf_counter() - t0)
    # Right means the closed form equals the value to 100 digits (a related constant, sqrt5 for
    # phi or zeta2 for pi2, is as right as the one the value was built from).
    correct = sum(1 for (_, v), r in zip(values, ours) if r is not None and holds(r.expr, v))
    t0 = time.perf_counter()
    theirs = [pslq_identify(v) for _, v in values[: args.pslq_values]]
    pslq_rate = args.pslq_values / (time.perf_counter() - t0)
    pslq_correct = sum(1 for (_, v), r in zip(values, theirs) if r is not None and pslq_holds(r, v))

    with mpmath.workdps(60):
        x = catalog.get("zeta3").value(60)
        L = (3 + x) / (2 - 5 * x)
    basis = Basis((catalog.get("zeta3"),), ((0,), (1,)), "mobius")
    n_screens = 5000
    t0 = time.perf_counter()
    for _ in range(n_screens):
        ints = basis.scaled(50, scaled(L, 50))
        rel, residual = lll(ints)
        screen_roi(ints, rel, residual, 50)
    screen_rate = n_screens / (time.perf_counter() - t0)

    literature, literature_wrong = literature_table()
    false_reals = {d: random_reals(args.reals, d, rng) for d in (20, 30, 50)}
    slow_found, slow_wrong, slow_low = slow_random_pcfs(args.slow_pcfs, rng)
    costs = screening_cost()

    low_found, low_wrong, low_count = random_pcfs_low_digits(args.pcfs)
    A, B = sample_box(args.pcfs, seed=99)
    identified, failures = Counter(), 0
    t0 = time.perf_counter()
    for a, b in zip(A, B):
        pcf = PCF(a.tolist(), b.tolist())
        found = identify_pcf(pcf, digits=30, max_depth=5000)
        if found is None:
            continue
        identified[found.kind] += 1
        deep = pcf.limit(max(4 * found.depth, 400), dps=320)
        if deep.digits < 300:
            continue
        with mpmath.workdps(320):
            closed = closed_form_value(found.expr, 310)
            failures += abs(deep.value - closed) > mpmath.mpf(10) ** -290 * max(1, abs(closed))
    pcf_time = time.perf_counter() - t0

    A, B = enumerate_box(2, 2, 5)
    A, B = A[: args.sweep], B[: args.sweep]
    table = mobius_table(bound=5)
    t0 = time.perf_counter()
    hits, stats = mitm_sweep(A, B, table)
    sweep_time = time.perf_counter() - t0

    print("Möbius identification against the whole catalog "
          f"({len(catalog.CATALOG)} constants), 50 screening digits, confirmed at 100:")
    print(f"  {'method':<34}{'per second':>12}{'ratio':>8}{'correct':>12}")
    print(f"  {'mpmath.pslq, constant by constant':<34}{pslq_rate:>12.2f}{1.0:>8.1f}"
          f"{f'{pslq_correct}/{args.pslq_values}':>12}")
    print(f"  {'discovery.identify (LLL, flint)':<34}{ours_rate:>12.2f}{ours_rate / pslq_rate:>8.1f}"
          f"{f'{correct}/{len(values)}':>12}")
    print(f"single-constant screens (LLL + ROI gate), one core: {screen_rate:,.0f}/s")
    for d, (false, rate) in false_reals.items():
        print(f"false positives, random {d}-digit reals (default escalation): {false} of {args.reals} ({rate:,.0f}/s)")
    print(f"random slow PCFs (a = 2n^3 + 3n^2 + c1 n + c0, b = -n^6): {sum(slow_found.values())} of {args.slow_pcfs} "
          f"identified "
          f"({dict(slow_found)}; {slow_low} on fewer than 100 digits); wrong against a 4x deeper extrapolation: "
          f"{slow_wrong}")
    print("screening one value against n constants (ms): one LLL each | hashed (the wider catalog, products, user "
          "catalogs from 300 constants on)")
    for n, each_ms, hashed_ms in costs:
        print(f"  {n:>7,} constants: {each_ms:9.1f} | {hashed_ms:7.1f}")
    right = sum(v == "right" for _, v, _, _ in literature)
    slow = [r for r in literature if r[0]["convergence"] == "slow"]
    print(f"published formulas (data/literature_pcfs.json), default options: {right} of {len(literature)} identified "
          f"({100 * right / len(literature):.0f} %), wrong {literature_wrong}, max time "
          f"{max(t for *_, t in literature):.2f} s; slowly converging {sum(v == 'right' for _, v, _, _ in slow)} "
          f"of {len(slow)}")
    print(f"  {'id':<22}{'deg':>7}  {'conv':<5}{'verdict':<8}{'digits':>7}{'time s':>8}  closed form")
    for entry, verdict, found, took in literature:
        digits = "" if found is None else f"{found.digits_verified:.0f}"
        form = entry["closed_form"] if found is None else found.closed_form
        print(f"  {entry['id']:<22}{str(tuple(entry['degree'])):>7}  {entry['convergence']:<5}{verdict:<8}{digits:>7}"
              f"{took:>8.2f}  {form}")
    print(f"random PCFs (degree <= 2, |c| <= 5) from 25 digits of their limits: {sum(low_found.values())} of "
          f"{low_count} identified ({dict(low_found)}); wrong at 300 digits: {low_wrong}")
    print(f"random PCFs (degree <= 2, |c| <= 5): {sum(identified.values())} of {args.pcfs} identified "
          f"({dict(identified)}); wrong at 300 digits: {failures} ({pcf_time:.1f} s)")
    print(f"MITM sweep over {stats['evaluated']:,} PCFs of the NeurIPS 2024 space, table of {len(table.values):,} "
          f"transforms: {stats['evaluated'] / sweep_time:,.0f} PCFs/s ({sweep_time:.1f} s); "
          f"converged {stats['converged']:,}, matched {stats['matched']:,}, confirmed {stats['confirmed']:,}")
    per_constant = Counter(h.constant or "rational/quadratic" for h in hits.values())
    print("  confirmed per constant:", dict(per_constant.most_common()))


if __name__ == "__main__":
    main()
