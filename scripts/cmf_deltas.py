"""Exact FR delta of every trajectory class of a field in a box: which trajectories hold delta > 0
formulas (one line per equivalence class of the trajectory PCFs, best first).

delta = -log|L - p_n/q_n| / log(q_n / gcd(p_n, q_n)) - 1 with exact convergents at n and L the
convergent at the reference depth (both exact integers, the difference taken at enough digits).

    PYTHONPATH=. python scripts/cmf_deltas.py zeta3 [--max-step 1] [--max-start 6] [--denominators 1]
                                                     [--n 100] [--reference 250]
"""

import argparse
import math

import mpmath

from discovery.cmf import known_cmf, trajectory_pcf
from discovery.cmf.unify import box
from discovery.errors import InputError
from discovery.pcf.equivalence import equivalence_key


def exact_delta(pcf, n: int, reference: int) -> float | None:
    """FR delta at depth n against the exact convergent at ``reference``; None when undefined."""
    (pn, qn), (pr, qr) = pcf.convergents([n, reference])
    if qn == 0 or qr == 0:
        return None
    g = math.gcd(pn, qn)
    reduced = abs(qn) // g
    # The error is about q_n^-(1 + delta) with delta < 3 here: digits enough for that many.
    with mpmath.workdps(int(4 * math.log10(abs(qn) + 2)) + 50):
        err = abs(mpmath.mpf(pr) / qr - mpmath.mpf(pn) / qn)
        if err == 0 or reduced <= 1:
            return None
        return float(-mpmath.log(err) / mpmath.log(reduced) - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--max-step", type=int, default=1)
    parser.add_argument("--max-start", type=int, default=6)
    parser.add_argument("--denominators", default="1")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--reference", type=int, default=250)
    args = parser.parse_args()
    if not 10 <= args.n < args.reference <= 5000:
        parser.error("need 10 <= --n < --reference <= 5000")
    cmf = known_cmf(args.name)
    # Class -> (delta, trajectory, degrees); a member that terminates (b(k) = 0: its convergents
    # freeze) measures nothing, so a later member of its class is measured instead.
    classes: dict[str, tuple | None] = {}
    for t, s in box(cmf, args.max_step, args.max_start, [int(q) for q in args.denominators.split(",")]):
        try:
            pcf = trajectory_pcf(cmf, t, s).pcf
        except (InputError, ZeroDivisionError):
            continue
        key = equivalence_key(pcf)
        if classes.get(key) is not None:
            continue
        delta = exact_delta(pcf, args.n, args.reference)
        classes[key] = None if delta is None else (delta, t, s, len(pcf.a) - 1, len(pcf.b) - 1)
    rows = [r for r in classes.values() if r is not None]
    rows.sort(key=lambda r: -r[0])
    for delta, t, s, da, db in rows:
        print(f"{delta:+.3f}  ({','.join(map(str, t))}) from ({','.join(map(str, s))})  degrees ({da}, {db})")
    print(f"{sum(r[0] > 0 for r in rows)} classes with delta > 0 among {len(rows)} measured "
          f"({len(classes)} classes) at n = {args.n}")


if __name__ == "__main__":
    main()
