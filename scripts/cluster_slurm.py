"""Run a campaign on a SLURM (or PBS) cluster with dask-jobqueue.

The batch system starts Dask workers as jobs; this script, on a login node, starts their scheduler,
asks for the workers, and drives the campaign: it sends work units (their indices) to the workers
and alone writes the database, so the database stays on the login node's disk.  Stop it at any
moment and run it again: the campaign resumes after its last stored unit.

Requires ``pip install 'discovery[dask]' dask-jobqueue`` on the login node, and ``discovery``
installed on the compute nodes (the workers import it).

Usage::

    python scripts/cluster_slurm.py data/campaigns/paper-2024.toml --db paper.db \\
        --jobs 8 --cores 32 --memory 64GB --walltime 04:00:00 [--queue normal] [--pbs]
"""

from __future__ import annotations

import argparse

from discovery.campaign import run_campaign, summary_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="campaign TOML file")
    parser.add_argument("--db", required=True, help="SQLite database (on the machine running this script)")
    parser.add_argument("--jobs", type=int, default=4, help="batch jobs to start")
    parser.add_argument("--cores", type=int, default=32, help="cores per job: one Dask worker process each")
    parser.add_argument("--memory", default="64GB", help="memory per job")
    parser.add_argument("--walltime", default="04:00:00")
    parser.add_argument("--queue", help="partition (SLURM) or queue (PBS)")
    parser.add_argument("--pbs", action="store_true", help="PBS instead of SLURM")
    args = parser.parse_args()

    from dask_jobqueue import PBSCluster, SLURMCluster

    cluster_class = PBSCluster if args.pbs else SLURMCluster
    # One single-threaded worker process per core: the units are numba kernels that release the
    # GIL only inside, and the campaign runs one numba thread per worker.
    cluster = cluster_class(
        cores=args.cores, processes=args.cores, memory=args.memory, walltime=args.walltime, queue=args.queue,
        job_script_prologue=["export NUMBA_NUM_THREADS=1"],
    )
    cluster.scale(jobs=args.jobs)
    print(f"scheduler {cluster.scheduler_address}; dashboard {cluster.dashboard_link}")
    try:
        result = run_campaign(args.config, args.db, scheduler=cluster.scheduler_address)
    finally:
        cluster.close()
    for line in summary_lines(result):
        print(line)


if __name__ == "__main__":
    main()
