"""Check every formula of data/literature_pcfs.json against its closed form, without the engine.

Each fraction's plain exact convergents (integer recurrence, no extrapolation, no identification)
are compared with the closed form evaluated by mpmath: a fast fraction must agree to 60 digits at
depth 2,000; a slow one must agree better at each of the depths 1,000, 2,000 and 4,000 (its error
falling like a power of n) and to at least 3 digits at depth 1,000.  With --write the measured
digits are stored back in each entry's ``check`` field.

Usage: python scripts/check_literature.py [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import mpmath

from discovery.constants import parse
from discovery.pcf.exact import walk

DATA = Path(__file__).resolve().parent.parent / "data" / "literature_pcfs.json"


def convergent_digits(entry: dict) -> tuple[list[int], list[float]]:
    """Depths and digits of agreement of the plain convergents with the closed form."""
    depths = [1000, 2000, 4000] if entry["convergence"] == "slow" else [2000]
    with mpmath.workdps(90):
        value = parse(entry["closed_form"]).value(80)
        found = walk(entry["a"], entry["b"], depths)
        digits = []
        for d in depths:
            p, q = found[d][:2]
            err = abs(mpmath.mpf(int(p)) / int(q) - value) / abs(value)
            digits.append(80.0 if err == 0 else round(float(-mpmath.log10(err)), 1))
    return depths, digits


def passes(entry: dict, digits: list[float]) -> bool:
    if entry["convergence"] == "fast":
        return digits[0] >= 60
    return digits[0] >= 3 and all(b > a + 0.25 for a, b in zip(digits, digits[1:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the measured digits in the data file")
    args = parser.parse_args()
    doc = json.loads(DATA.read_text(encoding="utf-8"))
    bad = 0
    for entry in doc["formulas"]:
        depths, digits = convergent_digits(entry)
        ok = passes(entry, digits)
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {entry['id']:<22} {entry['closed_form']:<45} digits at {depths}: {digits}")
        if args.write:
            entry["check"] = {"depths": depths, "digits": digits}
    if args.write:
        DATA.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(doc['formulas']) - bad} of {len(doc['formulas'])} formulas check")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
