"""Identification of published fractions of special-function values (data/special_function_pcfs.json).

Runs ``identify_pcf`` with its default options on each fraction (the set is kept apart from the
literature database that novelty is judged against), and prints per fraction whether it was
identified, whether the closed form found agrees with the published one to the digits verified
(a wrong one is a false positive), and the time; then the share identified, the wrong ones and the
slowest.  The targets: at least 90 % identified, none wrong, at most 10 s each.

Usage: python scripts/bench_special_functions.py [--limit N]
"""

from __future__ import annotations

import argparse
import time

import mpmath
import sympy

from discovery.constants import parse
from discovery.errors import InputError
from discovery.identify import identify_pcf
from discovery.pcf import PCF
from discovery.pcf.known import special_function_pcfs


def agrees(found, published: str) -> bool:
    """Whether an identification's value equals the published closed form to its verified digits."""
    digits = min(int(found.digits_verified) if mpmath.isfinite(found.digits_verified) else 100, 100)
    with mpmath.workdps(digits + 10):
        try:
            ours = parse(found.closed_form).value(digits + 10)
        except InputError:
            # A hypergeometric form names functions the text parser does not read (expint, hyper):
            # the identification's own sympy expression then.
            ours = mpmath.mpf(str(sympy.N(found.expr, digits + 10)))
        theirs = parse(published).value(digits + 10)
        return abs(ours - theirs) <= mpmath.mpf(10) ** (5 - digits) * max(1, abs(theirs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N fractions")
    args = parser.parse_args()
    entries = special_function_pcfs()[: args.limit]
    identified = wrong = 0
    times = []
    for e in entries:
        start = time.perf_counter()
        found = identify_pcf(PCF(e["a"], e["b"]))
        seconds = time.perf_counter() - start
        times.append((seconds, e["id"]))
        if found is None:
            verdict = "not identified"
        elif agrees(found, e["closed_form"]):
            identified += 1
            verdict = f"{found.kind:<8} {found.closed_form}"
        else:
            wrong += 1
            verdict = f"WRONG: {found.closed_form} (published {e['closed_form']})"
        print(f"{e['id']:<28} {seconds:6.2f} s  {verdict}")
    n = len(entries)
    print(f"\n{identified}/{n} identified ({identified / max(n, 1):.0%}), {wrong} wrong; "
          f"median {sorted(t for t, _ in times)[n // 2]:.2f} s, slowest {max(times)[0]:.2f} s ({max(times)[1]})")


if __name__ == "__main__":
    main()
