"""Scaling of PCF campaigns across executors, and the driver's memory on a space too big to hold.

Part 1 runs the same work units of ``data/campaigns/paper-2024.toml`` with the local process
pool on 1 and on 2 workers and with a Dask ``LocalCluster`` of 2 single-threaded workers, and
prints units per second with ratios against the 1-worker pool, plus the bytes that travel per unit
each way.  The units are the first ``--units`` that hold PCFs: the raw grid of a symmetric box
starts with a(n)'s leading coefficient 0 and the next one negative, where no PCF is canonical, so
its first units are empty.

Part 2 runs a degree-3, bound-6 campaign (8.2e8 raw coefficient vectors) for 5 units and prints
the driver's peak memory and the time until its first unit was stored.

Usage: python scripts/bench_scaling.py [--units 10] [--skip-big]
"""

from __future__ import annotations

import argparse
import contextlib
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numba

from discovery.campaign import campaign_space, load_config
from discovery.campaign.executors import DaskExecutor, LocalExecutor
from discovery.campaign.pcf import UnitRunner
from discovery.errors import StoreError
from discovery.store import FormulaStore

BIG = """
[campaign]
name = "degree3-bound6"
kind = "pcf"
[space]
degree_a = 3
degree_b = 3
bound = 6
[search]
unit_size = 2000
[execution]
workers = 2
"""

# The driver of part 2 runs in a child process, so its peak memory is its own.
DRIVER = """
import resource, sys, time
from discovery.campaign import run_campaign
start = time.time()
result = run_campaign(sys.argv[1], sys.argv[2], max_units=5, progress=False, plots=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.time() - start)
"""


def _one_core(executor):
    """The 1-worker executor runs units in this process: one numba thread, like a pool worker, so
    the baseline uses one core."""
    numba.set_num_threads(1)
    return executor


def first_units(config, count: int) -> list[int]:
    space, size = campaign_space(config), config.search["unit_size"]
    out = []
    for unit in range(space.units(size)):
        if len(space.unit(unit, size)[0]):
            out.append(unit)
            if len(out) == count:
                break
    return out


def run(executor, config, units, db) -> tuple[float, int]:
    """Seconds to compute and store the units; bytes of the largest result."""
    runner = UnitRunner(config)
    largest = 0
    with FormulaStore(db) as store:
        cid = store.start_campaign(config.name, config.kind, config.as_dict(), config.digest(), len(units))
        start = time.perf_counter()
        for result in executor.map_unordered(runner, units):
            store.write_unit(cid, result["unit"], result["candidates"], result["converged"], result["pcfs"])
            largest = max(largest, len(pickle.dumps(result)))
        return time.perf_counter() - start, largest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()

    config = load_config(files("discovery.data") / "campaigns" / "paper-2024.toml")
    units = first_units(config, args.units)
    print(f"paper-2024: units {units[0]}..{units[-1]} ({len(units)} units of {config.search['unit_size']:,} "
          "raw coefficient vectors)")
    # Compile every kernel once in this process and in no pool, so no timing pays for it.
    UnitRunner(config)(units[0])
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, workers, make in (("local, 1 worker", 1, lambda: _one_core(LocalExecutor(1))),
                                     ("local, 2 workers", 2, lambda: LocalExecutor(2)),
                                     ("Dask LocalCluster, 2 workers", 2, lambda: DaskExecutor("local:2"))):
            executor = make()
            try:
                # Warm every worker (imports, numba caches, the Möbius table) outside the timing:
                # one unit each, sent together.
                list(executor.map_unordered(UnitRunner(config), units[:workers]))
                seconds, largest = run(executor, config, units, Path(tmp) / f"{len(rates)}.db")
            finally:
                executor.close()
                numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
            rates[label] = len(units) / seconds
            print(f"  {label:<30} {rates[label]:6.3f} units/s ({seconds:6.1f} s)", flush=True)
    base = rates["local, 1 worker"]
    local2, dask2 = rates["local, 2 workers"], rates["Dask LocalCluster, 2 workers"]
    print(f"  2 workers / 1 worker (local): {local2 / base:.2f}x (target >= 1.8)")
    print(f"  Dask 2 workers / local 2 workers: {dask2 / local2:.2f}x (target >= 0.9)")
    task = len(pickle.dumps(units[0]))
    runner = len(pickle.dumps(UnitRunner(config)))
    print(f"  bytes per unit, driver -> worker: {runner + task:,} on both executors (the unit function with "
          f"the validated configuration, {runner:,}, and the unit index, {task})")
    print(f"  bytes per unit, worker -> driver: at most {largest:,} (the unit's stored records)")

    if args.skip_big:
        return
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "big.toml"
        cfg.write_text(BIG)
        db = Path(tmp) / "big.db"
        start = time.time()
        child = subprocess.Popen([sys.executable, "-c", DRIVER, str(cfg), str(db)],  # noqa: S603 - our script
                                 stdout=subprocess.PIPE, text=True)
        first = None
        while child.poll() is None:
            if first is None and db.exists():
                with contextlib.suppress(StoreError), FormulaStore(db, readonly=True) as store:  # still being created
                    rows = store.campaigns()
                    if rows and store.done_units(rows[0]["id"]):
                        first = time.time() - start
            time.sleep(0.05)
        peak_kib, seconds = child.stdout.read().split()
        space = campaign_space(load_config(cfg))
        print(f"degree 3, bound 6 ({space.size:.3g} raw coefficient vectors, {space.units(2000):,} units): "
              f"5 units in {float(seconds):.1f} s, first unit stored after {first:.1f} s, driver peak memory "
              f"{int(peak_kib) / 1024:.0f} MiB (target <= 1024 MiB); this process: "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
