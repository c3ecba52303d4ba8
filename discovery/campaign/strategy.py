"""The interface every campaign strategy implements, and the run it works in.

A strategy (enumerate, mitm, evolve, programs, ...) searches: it computes work units, stores each
unit's results with its done mark, and says whether the campaign's search is complete.
Everything around it is shared and lives elsewhere: loading the configuration, registering the
campaign and picking the strategy (:mod:`.runner`), the executor (:class:`CampaignRun`), and
the closing stage (:mod:`.closing`), which the strategy steers by two flags only.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from discovery.campaign.config import CampaignConfig, run_folder
from discovery.campaign.executors import DaskExecutor, Executor, make_executor
from discovery.campaign.progress import progress_bar
from discovery.records import UnitResult


@dataclass
class CampaignRun:
    """One run of a campaign, as a strategy sees it.

    Attributes
    ----------
    config : CampaignConfig
        :class:`~discovery.campaign.config.PcfConfig` or
        :class:`~discovery.campaign.config.ProgramConfig`, as the strategy's kind.
    db : Path
    store : discovery.store.FormulaStore
        Open on ``db``; the campaign is registered in it.
    campaign_id : int
    progress : bool
        Show progress bars.
    max_units : int, optional
        Stop after this many new units (the campaign stays resumable).
    scheduler : str, optional
        Overrides ``[execution] scheduler``.
    """

    config: CampaignConfig
    db: Path
    store: object
    campaign_id: int
    progress: bool = True
    max_units: int | None = None
    scheduler: str | None = None
    given_executor: Executor | None = None
    _executor: Executor | None = field(default=None, repr=False)

    @property
    def folder(self) -> Path:
        """The campaign's run folder (created): checkpoints, plots and the report go there."""
        folder = run_folder(self.db, self.config.name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def executor(self) -> Executor:
        """The executor, made when first asked for: the one given to the run, else Dask when a
        scheduler is given (here or as ``[execution] scheduler``), else the local process pool."""
        if self._executor is None:
            self._executor = self.given_executor
        if self._executor is None:
            scheduler = self.scheduler or self.config.execution.get("scheduler")
            self._executor = make_executor(self.config.execution["workers"], scheduler)
            if self.progress and isinstance(self._executor, DaskExecutor):
                print(f"Dask: {self._executor.worker_count()} workers; dashboard {self._executor.dashboard}",
                      file=sys.stderr)
        return self._executor

    def units_cap(self) -> Callable[[], bool]:
        """Whether this run has committed ``max_units`` new units (asked of the store; never
        without a cap), counted from now: an evolving search, whose units are its generations,
        asks after each one and stops there, its checkpoint past the unit (resumable)."""
        if self.max_units is None:
            return lambda: False
        before = len(self.store.done_units(self.campaign_id))
        return lambda: len(self.store.done_units(self.campaign_id)) - before >= self.max_units

    def store_units(self, stages, total: int, done: int) -> None:
        """Run work units on the executor and store each one's results with its done mark as it
        finishes, under one progress bar of ``total`` units of which ``done`` were done before.

        ``stages`` yields ``(call, units)`` pairs: ``call(unit)`` returns a
        :class:`~discovery.records.UnitResult` as JSON (run in a worker); a later stage may depend
        on what earlier ones stored (triage's warm-up).
        """
        found = 0
        with progress_bar(self.config.name, "units", total, "unit", self.progress, initial=done) as bar:
            for call, units in stages:
                for row in self.executor().map_unordered(call, units):
                    result = UnitResult.from_row(row)
                    result.write(self.store, self.campaign_id, result.unit)
                    found += result.identified
                    bar.update(1)
                    bar.set_postfix(identified=found)

    def close_executor(self, cancel: bool = False) -> None:
        """Release the executor: the run's own when the search is over; any, with its queued work
        dropped, when the search stopped on an error or Ctrl-C (a rerun resumes after the last
        committed unit)."""
        if self._executor is not None and (cancel or self._executor is not self.given_executor):
            self._executor.close(cancel=cancel)
        self._executor = None


class Strategy:
    """A campaign strategy: subclass it, set the flags, implement :meth:`units` and :meth:`run`,
    and register an instance in :data:`discovery.campaign.runner.STRATEGIES`.

    Attributes
    ----------
    clusters : bool
        The closing stage clusters the campaign's metrics and identifies cluster representatives.
    families : bool
        The closing stage detects the campaign's families of PCFs.
    """

    clusters: bool = False
    families: bool = False

    def units(self, config: CampaignConfig) -> int:
        """Work units the campaign is registered with (0 when unknown in advance)."""
        raise NotImplementedError

    def run(self, run: CampaignRun) -> bool:
        """Search, storing each unit's results with its done mark (resumable: units done before
        are not redone), using ``run.executor()`` for parallel work.  Returns whether the search
        is complete (the closing stage runs then)."""
        raise NotImplementedError


class EvolvingStrategy(Strategy):
    """A PCF search whose work units are its generations (the initial population, then one per
    generation bred), clustered and searched for families when its budget is spent."""

    clusters = True
    families = True

    def units(self, config: CampaignConfig) -> int:
        """The generation budget's units; 0 on a time budget alone (no fixed number)."""
        generations = config.search["generations"]
        return generations + 1 if generations else 0
