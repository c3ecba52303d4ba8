"""Campaigns on a Dask cluster (a LocalCluster of worker processes): the same database as the
local executor, no unit lost or stored twice when a worker dies, and resume after the driver is
killed."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

from discovery.campaign import load_config, run_campaign, unit_count  # noqa: E402
from discovery.campaign.executors import DaskExecutor  # noqa: E402
from test_campaign_kill import small_config, snapshot  # noqa: E402


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The config and the snapshot of an uninterrupted run on the local executor."""
    folder = tmp_path_factory.mktemp("dask")
    cfg = small_config(folder, unit_size=40)
    db = folder / "local.db"
    assert run_campaign(cfg, db, progress=False, plots=False).complete
    return cfg, snapshot(db)


def _units_done(db) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM work_units").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_local_cluster_stores_what_the_local_executor_stores(reference, tmp_path):
    cfg, expected = reference
    db = tmp_path / "dask.db"
    result = run_campaign(cfg, db, progress=False, plots=False, scheduler="local:2")
    assert result.complete
    assert snapshot(db) == expected


def test_a_killed_worker_loses_no_unit_and_duplicates_none(reference, tmp_path):
    cfg, expected = reference
    db = tmp_path / "dask.db"
    total = unit_count(load_config(cfg))
    executor = DaskExecutor("local:2")
    pids = list(executor.client.run(os.getpid).values())
    killed = []

    def kill_a_worker():
        deadline = time.time() + 120
        while _units_done(db) < 2 and time.time() < deadline:
            time.sleep(0.05)
        os.kill(pids[0], signal.SIGKILL)
        killed.append(_units_done(db))

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    try:
        result = run_campaign(cfg, db, executor=executor, progress=False, plots=False)
    finally:
        killer.join()
        executor.close()
    assert killed and killed[0] < total, "the worker was killed after the campaign's units were done"
    assert result.complete
    assert snapshot(db) == expected


def test_driver_killed_then_rerun_with_the_scheduler_equals_an_uninterrupted_run(reference, tmp_path):
    cfg, expected = reference
    db = tmp_path / "dask.db"
    total = unit_count(load_config(cfg))
    command = [sys.executable, "-m", "discovery", "campaign", "run", str(cfg), "--db", str(db),
               "--scheduler", "local:2", "--quiet"]
    # A session of its own, so kill -9 takes the driver and its local workers down together,
    # as a crashed machine would.
    driver = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 180
        while _units_done(db) < 2 and driver.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert driver.poll() is None, "the campaign ended before it could be killed"
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
    assert 2 <= _units_done(db) < total
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(db) == expected


def test_scheduler_errors_are_one_line(tmp_path):
    from discovery.campaign.executors import SchedulerError
    from discovery.errors import InputError

    with pytest.raises(InputError, match="expected a Dask address"):
        DaskExecutor("localhost")
    # Not refused input but a failure to run (exit status 1): SchedulerError is no InputError.
    with pytest.raises(SchedulerError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout=2)


def test_an_evolve_campaign_on_the_cluster_equals_one_in_process(tmp_path):
    # Children bred and screened on the Dask workers, the surrogate trained there (a submitted
    # call, not a unit): the same database as one process.
    from test_evolve_pcf import _evolve_config

    cfg = _evolve_config(tmp_path, generations=6, triage="rank")
    run_campaign(cfg, tmp_path / "local.db", progress=False, plots=False)
    assert run_campaign(cfg, tmp_path / "dask.db", progress=False, plots=False, scheduler="local:2").complete
    assert snapshot(tmp_path / "dask.db") == snapshot(tmp_path / "local.db")
