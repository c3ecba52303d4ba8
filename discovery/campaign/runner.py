"""Running a campaign: load its configuration, register it, run its strategy, close it.

Each strategy (:data:`STRATEGIES`) stores a unit's results with its done mark in one transaction,
and the closing stage (:mod:`.closing`) stores its results with the finished mark in another, so
stopping at any moment (even kill -9) and rerunning the same command resumes from the last
committed unit and ends with the same results.
"""

from __future__ import annotations

import time
from pathlib import Path

import discovery.store

from discovery.campaign.closing import close_campaign
from discovery.campaign.cmf import Cmf
from discovery.campaign.config import CampaignConfig, load_config
from discovery.campaign.enumerate import Enumerate, Mitm
from discovery.campaign.evolve import Evolve
from discovery.campaign.executors import Executor, probe_scheduler
from discovery.campaign.programs import Programs
from discovery.campaign.result import CampaignResult
from discovery.campaign.strategy import CampaignRun, Strategy
from discovery.constants import register_stored

# (kind, [search] strategy) -> the strategy that runs it.
STRATEGIES: dict[tuple[str, str], Strategy] = {
    ("pcf", "enumerate"): Enumerate(),
    ("pcf", "mitm"): Mitm(),
    ("pcf", "evolve"): Evolve(),
    ("pcf", "cmf"): Cmf(),
    ("program", "evolve"): Programs(),
}


def unit_count(config: CampaignConfig) -> int:
    """Number of work units of a campaign, as its strategy cuts its search (one for a program
    search)."""
    return STRATEGIES[(config.kind, config.search.get("strategy", "evolve"))].units(config)


def run_campaign(
    config: CampaignConfig | str | Path,
    db: str | Path,
    executor: Executor | None = None,
    max_units: int | None = None,
    progress: bool = True,
    plots: bool = True,
    scheduler: str | None = None,
) -> CampaignResult:
    """Run (or resume) a campaign into the database at ``db``.

    Parameters
    ----------
    config : CampaignConfig or path
    db : path of the SQLite database
    executor : Executor, optional
        Default: a :class:`~discovery.campaign.executors.DaskExecutor` when a scheduler is given
        (here or as ``[execution] scheduler``), else a :class:`LocalExecutor` with the configured
        number of workers.
    max_units : int, optional
        Stop after this many new units (the campaign stays resumable).
    progress : bool
        Show tqdm progress bars.
    plots : bool
        Write the run folder's files beside the database when the campaign completes: cluster
        plots and the HTML report.
    scheduler : str, optional
        ``tcp://host:8786`` or ``local:N``; overrides ``[execution] scheduler`` of the file.

    Raises
    ------
    discovery.errors.StoreError
        If the database cannot be opened or written (a full disk, say); everything committed
        before is kept, and rerunning resumes after the last committed unit.
    """
    start = time.time()
    if not isinstance(config, CampaignConfig):
        config = load_config(config)
    strategy = STRATEGIES[config.kind, config.strategy]
    if executor is None and (scheduler or config.execution.get("scheduler")):
        # Before the campaign is registered: an unreachable scheduler leaves no empty campaign.
        probe_scheduler(scheduler or config.execution["scheduler"])
    # Through the module: a test replaces the store class there (a full disk).
    with discovery.store.FormulaStore(db) as store:
        cid = store.start_campaign(config.name, config.kind, config.stored(), config.digest(),
                                   strategy.units(config))
        read_stored_constants(store)
        run = CampaignRun(config, Path(db), store, cid, progress, max_units, scheduler, executor)
        try:
            complete = strategy.run(run)
        except BaseException:
            # Ctrl-C or a store error (a full disk): units still queued would be computed only to
            # be thrown away; a rerun resumes after the last committed unit.
            run.close_executor(cancel=True)
            raise
        run.close_executor()
        closed = close_campaign(run, strategy, plots) if complete else None
        return CampaignResult.from_status(store.status(cid), cid, time.time() - start, complete,
                                          closed.plots if closed else [], closed.report if closed else None)


def read_stored_constants(store) -> None:
    """Make the user constants of every campaign in the database resolvable here: a formula this
    campaign meets may carry another catalog's constant, which its closing stage (families)
    re-identifies with that constant's own value."""
    register_stored(store.user_constants())
