"""Learned triage on the NeurIPS 2024 space: exact metric computations with and without ``drop``.

Runs ``data/campaigns/paper-2024.toml`` twice in this process, with ``[search] triage = "off"`` and
``"drop"`` (everything else equal), each into its own database (``PATH-off.db``, ``PATH-drop.db``:
identifications of formulas are shared in a database, so one campaign's representatives would
count for the other), and prints for each: exact metric computations, wall time, identified
constants, clusters; then the ratio of exact computations, whether the identified constants are
the same, and how many of the untriaged run's clusters holding δ > 0 formulas are found again
(a cluster of the triaged run shares a member with it), split by the convergence class of the
δ > 0 members (triage's label counts δ > 0 only without factorial convergence, where it is the
rule).

Usage: python scripts/bench_triage.py --db PATH [--units N]   (N: only the first N units of each)
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
import tomllib
from importlib.resources import files
from pathlib import Path

from discovery.campaign import run_campaign


def _config(folder: Path, triage: str) -> Path:
    doc = (files("discovery.data") / "campaigns" / "paper-2024.toml").read_text()
    doc = doc.replace('strategy = "enumerate"', f'strategy = "enumerate"\ntriage = "{triage}"')
    tomllib.loads(doc)
    path = folder / f"paper-{triage}.toml"
    path.write_text(doc)
    return path


def _clusters(db: Path) -> tuple[dict, dict]:
    """Cluster id -> member formula keys, and cluster id -> convergence classes of its δ > 0 members."""
    conn = sqlite3.connect(db)
    members, positive = {}, {}
    for cid, key, delta, cls in conn.execute(
            "SELECT cm.cluster_id, f.canonical_key, m.delta, m.convergence_class FROM cluster_members cm "
            "JOIN formulas f ON f.id=cm.formula_id JOIN metrics m ON m.formula_id=f.id"):
        members.setdefault(cid, set()).add(key)
        if delta is not None and delta > 0:
            positive.setdefault(cid, set()).add(cls)
    conn.close()
    return members, positive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path, help="database path prefix")
    parser.add_argument("--units", type=int, default=None, help="only the first N units of each run")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for triage in ("off", "drop"):
            db = args.db.with_name(f"{args.db.stem}-{triage}.db")
            start = time.time()
            result = run_campaign(_config(Path(tmp), triage), db, max_units=args.units, progress=True, plots=False)
            rows[triage] = (result, time.time() - start, db)
    print(f"{'triage':8s} {'converging':>11s} {'exact metrics':>14s} {'dropped':>9s} {'clusters':>9s} "
          f"{'wall s':>8s}  identified constants")
    for triage, (r, wall, _) in rows.items():
        measured = r.measured or r.converged
        constants = sorted(k for k in r.identified)
        print(f"{triage:8s} {r.converged:11,d} {measured:14,d} {r.dropped:9,d} {r.clusters:9d} {wall:8.0f}  "
              f"{', '.join(f'{k} {r.identified[k]}' for k in constants)}")
    off, drop = rows["off"][0], rows["drop"][0]
    print(f"exact metric computations: {(off.measured or off.converged) / max(1, drop.measured):.2f}x fewer with drop")
    print(f"same identified constants: {sorted(off.identified) == sorted(drop.identified)} "
          f"(only without drop: {sorted(set(off.identified) - set(drop.identified))}, "
          f"only with drop: {sorted(set(drop.identified) - set(off.identified))})")
    off_members, off_positive = _clusters(rows["off"][2])
    drop_members, _ = _clusters(rows["drop"][2])
    found_keys = set().union(*drop_members.values()) if drop_members else set()
    for label, keep in (("without factorial convergence", lambda c: c - {"factorial"}),
                        ("factorial convergence only", lambda c: c == {"factorial"})):
        wanted = [cid for cid, classes in off_positive.items() if keep(classes)]
        again = sum(1 for cid in wanted if off_members[cid] & found_keys)
        print(f"clusters of delta > 0 formulas ({label}): {again} of {len(wanted)} found again with drop")


if __name__ == "__main__":
    main()
