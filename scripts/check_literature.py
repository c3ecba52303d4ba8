"""Check every formula of the literature files against its closed form, without the engine.

Each fraction's plain exact convergents (integer recurrence, no extrapolation, no identification)
are compared with the closed form evaluated by mpmath: a fast fraction must agree to 60 digits at
depth 2,000; a slow one must agree better at each of three depths doubling from 1,000 (from the
depths its ``check`` names, for a fraction whose error falls like 1/n: 8,000, 16,000, 32,000), its
error falling like a power of n, and to at least 3 digits at the first (or to 60 digits already).
An entry made from a parametric family must be the family's fraction and closed form at its ``k``;
each family is checked at every ``k`` of its range.  Without --write the digits measured must
reach those stated in the ``check`` fields; with --write they are stored there.

The files: data/literature_pcfs.json (the identification benchmark), data/literature_database.json
(the rest of the literature database and the families) and data/special_function_pcfs.json (kept
apart); --file checks other files of the same format instead (a user's, merged with the database).

Usage: python scripts/check_literature.py [--write] [--file PATH ...] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import mpmath

from discovery.constants import parse
from discovery.errors import InputError
from discovery.pcf.exact import walk
from discovery.pcf.known import family_instance, validate_literature

DATA = Path(__file__).resolve().parent.parent / "data"
FILES = [DATA / "literature_pcfs.json", DATA / "literature_database.json", DATA / "special_function_pcfs.json"]
SLOW_DEPTHS = ([1000, 2000, 4000], [8000, 16000, 32000])
TOLERANCE = 0.1  # digits: what a stated figure may exceed the measured one by
SATURATED = 75.0  # digits: the 80-digit reference in 90-digit arithmetic resolves no more than this


def depths_of(entry: dict) -> list[int]:
    """The depths a fraction is checked at: 2,000 when fast, else the stated ones (one of SLOW_DEPTHS)."""
    if entry["convergence"] == "fast":
        return [2000]
    stated = entry.get("check", {}).get("depths")
    return stated if stated in SLOW_DEPTHS else SLOW_DEPTHS[0]


def convergent_digits(a: list[int], b: list[int], closed_form: str, depths: list[int]) -> list[float]:
    """Digits of agreement of the plain convergents with the closed form at each depth."""
    with mpmath.workdps(90):
        value = parse(closed_form).value(80)
        found = walk(a, b, depths)
        digits = []
        for d in depths:
            p, q = found[d][:2]
            if q == 0:
                digits.append(0.0)
                continue
            err = abs(mpmath.mpf(int(p)) / int(q) - value) / abs(value)
            digits.append(80.0 if err == 0 else round(float(-mpmath.log10(err)), 1))
    return digits


def passes(convergence: str, digits: list[float]) -> bool:
    if convergence == "fast":
        return digits[0] >= 60
    return digits[0] >= 60 or (digits[0] >= 3 and all(b > a + 0.25 for a, b in zip(digits, digits[1:])))


def as_stated(stated: list[float] | None, digits: list[float]) -> bool:
    return stated is None or (len(stated) == len(digits)
                              and all(m >= min(s, SATURATED) - TOLERANCE for s, m in zip(stated, digits)))


def same_value(x: str, y: str) -> bool:
    with mpmath.workdps(80):
        u, v = parse(x).value(70), parse(y).value(70)
        return abs(u - v) <= mpmath.mpf(10) ** -60 * max(1, abs(u))


def check(docs: dict, paths: list, write: bool, quiet: bool) -> int:
    """Validate the documents ({path: parsed JSON}) as one database and check the formulas and families
    of those at ``paths`` numerically; the count of failures."""
    formulas = [e for doc in docs.values() for e in doc.get("formulas", [])]
    families = [f for doc in docs.values() for f in doc.get("families", [])]
    try:
        validate_literature(formulas, families)
    except InputError as exc:
        print(f"BAD {exc}")
        return 1
    bad = 0
    measured: dict[tuple, list[float]] = {}
    for path in paths:
        doc = docs[path]
        for entry in doc.get("formulas", []):
            depths = depths_of(entry)
            digits = convergent_digits(entry["a"], entry["b"], entry["closed_form"], depths)
            measured[(tuple(entry["a"]), tuple(entry["b"]))] = entry["convergence"], digits
            ok = passes(entry["convergence"], digits)
            stated = entry.get("check", {}).get("digits")
            if not write and not as_stated(stated, digits):
                ok = False
                print(f"    {entry['id']}: stated {stated}, measured {digits}")
            if "family" in entry:
                family = next(f for f in families if f["id"] == entry["family"])
                if not same_value(family_instance(family, entry["k"])[2], entry["closed_form"]):
                    ok = False
                    print(f"    {entry['id']}: closed form differs from family {family['id']} at k = {entry['k']}")
            bad += not ok
            if not ok or not quiet:
                print(f"{'ok ' if ok else 'BAD'} {entry['id']:<26} {entry['closed_form'][:60]:<60} "
                      f"digits at {depths}: {digits}")
            if write:
                entry["check"] = {"depths": depths, "digits": digits}
        for family in doc.get("families", []):
            first, last = family["k_range"]
            stated = family.get("check", {}).get("digits")
            worst, row = True, []
            for k in range(first, last + 1):
                a, b, closed = family_instance(family, k)
                key = (tuple(a), tuple(b))
                if key not in measured:  # a parameter value not listed as an entry
                    digits = convergent_digits(a, b, closed, depths_of({"convergence": family["convergence"]}))
                    if family["convergence"] == "slow" and not passes("slow", digits):
                        digits = convergent_digits(a, b, closed, SLOW_DEPTHS[1])
                    measured[key] = family["convergence"], digits
                convergence, digits = measured[key]
                worst &= passes(convergence, digits)
                row.append(digits[-1])
            if not write and stated is not None and not as_stated(stated, row):
                worst = False
                print(f"    {family['id']}: stated {stated}, measured {row}")
            bad += not worst
            if not worst or not quiet:
                print(f"{'ok ' if worst else 'BAD'} {family['id']:<26} k = {first}..{last}: {family['closed_form']}; "
                      f"digits {row}")
            if write:
                family["check"] = {"k": list(range(first, last + 1)), "digits": row}
        if write:
            Path(path).write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the measured digits in the data files")
    parser.add_argument("--file", action="append", type=Path,
                        help="check this file (the database's families known) instead of the shipped ones")
    parser.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    args = parser.parse_args()
    t0 = time.perf_counter()
    # a user's file is validated merged with the shipped database (its families, its ids and fractions)
    paths = args.file or FILES
    docs = {p: json.loads(p.read_text(encoding="utf-8")) for p in (FILES[:2] if args.file else [])}
    docs.update({p: json.loads(Path(p).read_text(encoding="utf-8")) for p in paths})
    if not args.file:
        # the special-function set is kept apart: it is validated alone, not with the database
        special = {FILES[2]: docs.pop(FILES[2])}
    bad = check(docs, [p for p in paths if p in docs], args.write and not args.file, args.quiet)
    if not args.file:
        bad += check(special, [FILES[2]], args.write, args.quiet)
        docs.update(special)
    own = {p: docs[p] for p in paths}
    entries = sum(len(d.get("formulas", [])) for d in own.values())
    families = sum(len(d.get("families", [])) for d in own.values())
    instances = sum(f["k_range"][1] - f["k_range"][0] + 1 for d in own.values() for f in d.get("families", []))
    print(f"{entries} formulas and {families} families ({instances} parameter values) in {len(own)} files: "
          f"{bad} failures, {time.perf_counter() - t0:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
