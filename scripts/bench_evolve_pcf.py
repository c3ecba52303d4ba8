"""Evolution against random enumeration, the same time budget each, over the ζ(3) space.

The space is ``data/campaigns/zeta3-evolve.toml``'s: a(n) cubic with coefficients in [−60, 60],
b(n) = c·n⁶ with c in [−8, 8] (about 3.6 billion fractions).  Both runs use the same pipeline
(:func:`discovery.campaign.pcf.process_batch`: float filter, Möbius-table identification with
exact confirmation, exact metrics) and store into the same database, as campaigns
``bench-evolve`` and ``bench-random``; the random run draws fresh genomes uniformly from the space
(never repeating a canonical PCF) in batches of the evolution's population.  Neither is given a
seed formula or the template a(n) = (2n+1)(x n(n+1) + y).

Prints for each: evaluations, converging, formulas with δ > 0, identified formulas per constant,
and the time to the first verified ζ(3) formula.  Afterwards
``discovery query --db PATH --constant zeta3`` lists what they found.

Usage: python scripts/bench_evolve_pcf.py --minutes M --db PATH [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np

from discovery.campaign import load_config, run_campaign
from discovery.campaign.pcf import process_batch
from discovery.pcf.genome import GenomeSpace
from discovery.store import FormulaStore


def _config(folder: Path, name: str, minutes: float, seed: int) -> Path:
    doc = (files("discovery.data") / "campaigns" / "zeta3-evolve.toml").read_text()
    doc = doc.replace('name = "zeta3-evolve"', f'name = "{name}"').replace("seed = 3", f"seed = {seed}")
    lines = [f"minutes = {minutes}" if line.startswith("minutes =") else line for line in doc.splitlines()]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _random_run(config_path: Path, db: Path, minutes: float, seed: int) -> None:
    """Uniformly random distinct PCFs of the space through the same pipeline, one unit per batch."""
    config = load_config(config_path)
    space = GenomeSpace.from_config(config.space)
    rng = np.random.default_rng(seed)
    met = set()
    deadline = time.time() + minutes * 60
    with FormulaStore(db) as store:
        cid = store.start_campaign(config.name, "pcf", config.as_dict(), config.digest(), 0)
        unit = 0
        while time.time() < deadline:
            batch = []
            while len(batch) < config.search["population"]:
                g = space.random(rng)
                if space.key(g) not in met:
                    met.add(space.key(g))
                    batch.append(g)
            A, B = space.arrays(batch)
            out = process_batch(A, B, config)
            store.write_unit(cid, unit, out["candidates"], out["converged"], out["pcfs"], out["measured"],
                             out["dropped"])
            unit += 1
        store.finish_campaign(cid)


def _report(db: Path, name: str) -> dict:
    conn = sqlite3.connect(db)
    cid, created = conn.execute("SELECT id, created FROM campaigns WHERE name=?", (name,)).fetchone()
    units = conn.execute("SELECT COALESCE(SUM(candidates),0), COALESCE(SUM(converged),0) FROM work_units "
                         "WHERE campaign_id=?", (cid,)).fetchone()
    positive = conn.execute("SELECT COUNT(*) FROM campaign_formulas cf JOIN metrics m ON m.formula_id=cf.formula_id "
                            "WHERE cf.campaign_id=? AND m.delta > 0", (cid,)).fetchone()[0]
    per_constant = dict(conn.execute(
        "SELECT COALESCE(i.constant, 'rational/quadratic'), COUNT(*) FROM campaign_formulas cf "
        "JOIN identifications i ON i.formula_id=cf.formula_id WHERE cf.campaign_id=? GROUP BY i.constant",
        (cid,)).fetchall())
    # The unit that first stored a zeta(3) formula, and when it was committed.
    first = conn.execute(
        "SELECT MIN(u.done) FROM campaign_formulas cf JOIN identifications i ON i.formula_id=cf.formula_id "
        "JOIN work_units u ON u.campaign_id=cf.campaign_id AND u.unit=cf.unit "
        "WHERE cf.campaign_id=? AND i.constant='zeta3'", (cid,)).fetchone()[0]
    formulas = [json.loads(g) for (g,) in conn.execute(
        "SELECT f.genome FROM campaign_formulas cf JOIN formulas f ON f.id=cf.formula_id "
        "JOIN identifications i ON i.formula_id=f.id WHERE cf.campaign_id=? AND i.constant='zeta3'", (cid,))]
    conn.close()
    return {"evaluations": units[0], "converging": units[1], "delta>0": positive, "identified": per_constant,
            "first zeta3 s": None if first is None else first - created, "zeta3 formulas": formulas}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, required=True, help="budget of each run")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        evolve = _config(Path(tmp), "bench-evolve", args.minutes, args.seed)
        run_campaign(evolve, args.db, progress=True, plots=False)
        _random_run(_config(Path(tmp), "bench-random", args.minutes, args.seed), args.db, args.minutes, args.seed)
    for name in ("bench-evolve", "bench-random"):
        r = _report(args.db, name)
        first = "not found" if r["first zeta3 s"] is None else f"{r['first zeta3 s']:.0f} s"
        identified = ", ".join(f"{k} {v}" for k, v in sorted(r["identified"].items())) or "none"
        print(f"{name}: evaluations {r['evaluations']:,}, converging {r['converging']:,}, delta > 0 "
              f"{r['delta>0']:,}; identified: {identified}; first verified zeta(3) formula: {first}")
        for g in r["zeta3 formulas"]:
            print(f"    a = {g['a']}  b = {g['b']}")


if __name__ == "__main__":
    main()
