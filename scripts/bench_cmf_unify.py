"""The share of published zeta(3) PCFs that unification places on a trajectory of the zeta3 field,
and how: the shipped literature (data/literature_database.json, literature_pcfs.json,
known_pcfs.json), every fraction whose closed form involves zeta(3) alone (or psi''(k), the
family of its partial sums), one per equivalence class.

    PYTHONPATH=. python scripts/bench_cmf_unify.py [--max-step 2] [--max-start 2] [--denominators 1,2]
                                                   [--max-trajectories 2000]
"""

import argparse
import json
import time

from discovery.cmf import known_cmf
from discovery.cmf.unify import TrajectoryIndex, place
from discovery.pcf.equivalence import equivalence_key
from discovery.pcf.formula import PCF
from discovery.pcf.known import data_file

OTHER = ("zeta(2)", "zeta(4)", "zeta(5)", "pi", "log", "catalan")


def zeta3_formulas() -> list[dict]:
    """Published zeta(3) fractions, one per equivalence class, in file order."""
    out, seen = [], set()
    for name in ("known_pcfs.json", "literature_pcfs.json", "literature_database.json"):
        doc = json.loads(data_file(name).read_text(encoding="utf-8"))
        items = doc if isinstance(doc, list) else next(v for v in doc.values() if isinstance(v, list))
        for item in items:
            form = str(item.get("closed_form", ""))
            if not ("zeta(3)" in form or "polygamma(2" in form) or any(o in form for o in OTHER):
                continue
            pcf = PCF(item["a"], item["b"])
            key = equivalence_key(pcf)
            if key not in seen:
                seen.add(key)
                out.append({"id": item["id"], "pcf": pcf, "closed_form": form})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-step", type=int, default=2)
    parser.add_argument("--max-start", type=int, default=2)
    parser.add_argument("--denominators", default="1,2")
    parser.add_argument("--max-trajectories", type=int, default=2000)
    args = parser.parse_args()
    began = time.perf_counter()
    index = TrajectoryIndex([known_cmf("zeta3")], args.max_step, args.max_start,
                            [int(q) for q in args.denominators.split(",")], args.max_trajectories)
    built = time.perf_counter() - began
    formulas = zeta3_formulas()
    placed = 0
    for f in formulas:
        t = time.perf_counter()
        p = place(f["pcf"], index)
        seconds = time.perf_counter() - t
        a, b = f["pcf"].sympy()
        where = "not placed" if p is None else f"{p.trajectory.label()} [{p.how}] map {p.mobius}"
        placed += p is not None
        print(f"{f['id']:<22} a={str(a):<28} b={str(b):<10} {f['closed_form']:<24} {where}  ({seconds:.2f} s)")
    print(f"placed {placed} of {len(formulas)} published zeta(3) classes on {index.trajectories_} trajectories of "
          f"zeta3 (index {built:.1f} s, total {time.perf_counter() - began:.1f} s)"
          + (" (box cut at --max-trajectories)" if index.truncated_ else ""))


if __name__ == "__main__":
    main()
