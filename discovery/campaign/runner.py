"""Running a campaign: resume, store unit results, and the closing stage (clustering and
representative identification) of a finished PCF campaign.

A unit's results and its done mark are stored in one transaction; the clusters, the
representatives' identifications and the finished mark in another.  Stopping at any moment (even
kill -9) and rerunning the same command resumes from the last committed unit and ends with the
same results.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from discovery.campaign.config import CampaignConfig, load_config, run_folder
from discovery.campaign.executors import Executor, LocalExecutor, probe_scheduler
from discovery.campaign.pcf import UnitRunner, fit_points, identification_record, unit_count

@dataclass
class CampaignResult:
    """Summary of a run (also what ``discovery campaign run`` prints)."""

    name: str
    campaign_id: int
    candidates: int
    converged: int
    formulas: int
    clusters: int
    identified: dict
    wall_time: float
    complete: bool
    plots: list = field(default_factory=list)
    kind: str = "pcf"
    measured: int = 0
    dropped: int = 0
    report: Path | None = None


def make_executor(config: CampaignConfig, scheduler: str | None = None, progress: bool = False) -> Executor:
    """The executor a campaign asks for: Dask when a scheduler is given (the argument wins over
    ``[execution] scheduler``), else the local process pool."""
    scheduler = scheduler or config.execution.get("scheduler")
    if not scheduler:
        return LocalExecutor(config.execution["workers"])
    from discovery.campaign.executors import DaskExecutor

    executor = DaskExecutor(scheduler)
    if progress:
        print(f"Dask: {executor.worker_count()} workers; dashboard {executor.dashboard}", file=sys.stderr)
    return executor


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
        Write cluster plots into a run folder beside the database when the campaign completes.
    scheduler : str, optional
        ``tcp://host:8786`` or ``local:N``; overrides ``[execution] scheduler`` of the file.

    Raises
    ------
    discovery.errors.StoreError
        If the database cannot be opened or written (a full disk, say); everything committed
        before is kept, and rerunning resumes after the last committed unit.
    """
    from tqdm import tqdm

    from discovery.store import FormulaStore

    if not isinstance(config, CampaignConfig):
        config = load_config(config)
    if executor is None and (scheduler or config.execution.get("scheduler")):
        # Before the campaign is registered: an unreachable scheduler leaves no empty campaign.
        probe_scheduler(scheduler or config.execution["scheduler"])
    if config.kind == "program":
        from discovery.campaign.programs import run_program_campaign

        result = run_program_campaign(config, Path(db), progress, scheduler)
        result.report = _close(config.name, Path(db), progress, plots) if result.complete else None
        return result
    if config.search["strategy"] == "evolve":
        from discovery.campaign.evolve import run_pcf_evolution

        result = run_pcf_evolution(config, Path(db), progress, scheduler, plots)
        result.report = _close(config.name, Path(db), progress, plots) if result.complete else None
        return result
    start = time.time()
    total = unit_count(config)
    store = FormulaStore(db)
    own_executor = executor is None
    try:
        cid = store.start_campaign(config.name, config.kind, config.stored(), config.digest(), total)
        read_stored_constants(store)
        done_before = store.done_units(cid)
        remaining = total - len(done_before)
        if max_units is not None:
            remaining = min(remaining, max_units)
        # Lazily: a space of 10^9 units must not become a list before its first unit runs.
        todo = itertools.islice((u for u in range(total) if u not in done_before), remaining)
        triage = config.search["triage"] != "off"
        if triage:
            # The warm-up units (spread over the space) run first and untriaged; the model learns
            # from what they stored, so a resumed run trains the same model again.
            warmup = set(range(0, total, _warmup_stride(config, total)))
            todo = itertools.chain(
                [u for u in sorted(warmup) if u not in done_before],
                (u for u in range(total) if u not in done_before and u not in warmup),
            )
            todo = itertools.islice(todo, remaining)
        if remaining > 0:
            executor = executor or make_executor(config, scheduler, progress)
            bar = tqdm(total=total, initial=len(done_before), unit="unit",
                       desc=f"{config.name}: units", disable=not progress)
            found = 0
            try:
                for runner in _runners(config, store, cid, todo, warmup if triage else set()):
                    for result in executor.map_unordered(runner.call, runner.units):
                        store.write_unit(cid, result["unit"], result["candidates"], result["converged"],
                                         result["pcfs"], result["measured"], result["dropped"])
                        found += sum(1 for r in result["pcfs"] if r["identification"])
                        bar.update(1)
                        bar.set_postfix(identified=found)
            except BaseException:
                # Ctrl-C or a store error (a full disk): units still queued would be computed only
                # to be thrown away; a rerun resumes after the last committed unit.
                executor.close(cancel=True)
                raise
            else:
                if own_executor:
                    executor.close()
            finally:
                bar.close()
        complete = len(store.done_units(cid)) == total
        written = _close_campaign(store, cid, config, Path(db), progress, plots) if complete else []
        report = _close(config.name, Path(db), progress, plots) if complete else None
        status = store.status(cid)
        return CampaignResult(
            config.name, cid, status["candidates"], status["converged"], status["formulas"],
            status["clusters"], status["identified"], time.time() - start, complete, written,
            measured=status["measured"], dropped=status["dropped"], report=report,
        )
    finally:
        store.close()


def read_stored_constants(store) -> None:
    """Make the user constants of every campaign in the database resolvable here: a formula this
    campaign meets may carry another catalog's constant, which its closing stage (families)
    re-identifies with that constant's own value."""
    from discovery.constants import register_stored

    register_stored(store.user_constants())


@dataclass
class _Stage:
    """Units to run with one callable (the warm-up without a model, the rest with it)."""

    call: object
    units: object


def _warmup_stride(config: CampaignConfig, total: int) -> int:
    return max(1, round(1 / config.search["triage_warmup"])) if total > 1 else 1


def _runners(config: CampaignConfig, store, cid: int, todo, warmup: set):
    """The stages of a run: with triage, warm-up units first, then the rest with the model
    trained on them (trained when the first unit after the warm-up is due)."""
    todo = iter(todo)
    first = []
    for u in todo:
        if u not in warmup:
            first.append(u)
            break
        first.append(u)
    warm = [u for u in first if u in warmup]
    if warm:
        yield _Stage(UnitRunner(config), warm)
    rest = [u for u in first if u not in warmup]
    if rest:
        model = None
        if warmup:
            from discovery.campaign.evolve import train_from_store

            model = train_from_store(store, cid, config, units=warmup)
        yield _Stage(UnitRunner(config, model), itertools.chain(rest, todo))


def _close_campaign(store, cid: int, config: CampaignConfig, db: Path, progress: bool, plots: bool) -> list:
    """The closing stage of a campaign whose units are all done: clusters and representatives'
    identifications (enumerate and evolve strategies) and the finished mark, stored together.
    Returns the plot files written."""
    # The closing stage of a finished campaign is not redone: it would take the
    # representatives' identifications for known ones and store different clusters.
    if store.campaign(config.name)["finished"] is not None:
        return []
    clusters, identifications, written = None, [], []
    if config.search["strategy"] in ("enumerate", "evolve"):
        clusters, identifications, written = _cluster_campaign(store, cid, config, db, progress, plots)
    store.finish_campaign(cid, clusters, identifications)
    return written


def _close(name: str, db: Path, progress: bool, report: bool) -> Path | None:
    """Families (PCF campaigns) and the HTML report of a finished campaign: see
    :func:`discovery.report.close_campaign`."""
    from discovery.report import close_campaign
    from discovery.store import FormulaStore

    with FormulaStore(db) as store:
        return close_campaign(store, name, db, progress, report)


def _cluster_campaign(store, cid: int, config: CampaignConfig, db: Path, progress: bool,
                      plots: bool) -> tuple[list, list, list]:
    """Cluster a campaign whose units are all done and identify cluster representatives.

    Nothing goes into the database here (plots go to files): the caller stores the clusters, the
    identifications and the finished mark in one transaction, so a campaign stopped anywhere in
    this stage redoes all of it on rerun and ends as an uninterrupted run would.  Returns (clusters, identifications as
    (formula id, record) pairs, plot files written).
    """
    from tqdm import tqdm

    from discovery.cluster import DynamicsClusterer, anchor_table, concat_tables
    from discovery.identify import RepresentativeIdentifier
    from discovery.pcf.dynamics import FIELDS
    from discovery.pcf.formula import PCF, to_arrays

    ids, rows = store.metric_table(cid)
    if not ids:
        return [], [], []
    # Order by canonical genome so the clustering does not depend on the order units finished.
    order = sorted(range(len(ids)), key=lambda i: rows[i]["genome"])
    ids = [ids[i] for i in order]
    rows = [rows[i] for i in order]
    pcfs = [PCF(**json.loads(r["genome"])) for r in rows]
    A, B = to_arrays(pcfs)
    table = {k: np.array([np.nan if r.get(k) is None else r[k] for r in rows], dtype=float)
             for k in FIELDS if k not in ("convergence_class", "complex_eigen", "limit")}
    table["limit"] = np.array([np.nan if r["limit_value"] is None else r["limit_value"] for r in rows])
    table["complex_eigen"] = np.array([bool(r["complex_eigen"]) for r in rows])
    table["convergence_class"] = np.array([r["convergence_class"] or "" for r in rows])
    table.update(A=A, B=B, anchor=np.full(len(ids), ""), name=np.full(len(ids), ""))
    anchors = anchor_table(config.search["metrics_depth"], config.search["sample"], shifts=7,
                           fit_points=fit_points(config.search["sample"]))
    full = concat_tables(table, anchors)
    clusterer = DynamicsClusterer(random_state=config.seed).fit(full)
    labels = clusterer.labels_[: len(ids)]

    known = {r["id"]: r["constant"] for r in store.query(campaign=config.name, identified=True)}
    clusters = []
    for report in clusterer.reports_:
        members = [ids[i] for i in np.nonzero(labels == report.label)[0]]
        if not members:
            continue  # a cluster of anchors alone
        constants = sorted(set(report.constants) | {known[m] for m in members if known.get(m)})
        clusters.append({
            "label": report.label, "plane": report.plane, "size": len(members),
            "centroid": report.centroid, "spread": report.spread, "constants": constants,
            "members": members,
        })

    # Representatives of clusters with no identified member: nearest the centroid first.
    reps = config.identify["representatives"]
    todo = []
    position = {fid: i for i, fid in enumerate(ids)}
    for c in clusters:
        if any(known.get(m) for m in c["members"]) or reps == 0:
            continue
        idx = [position[m] for m in c["members"]]
        delta = np.array([table["delta"][i] for i in idx])
        nearest = np.argsort(np.abs(delta - c["centroid"]["delta"]), kind="stable")[:reps]
        todo.extend((c, c["members"][j], pcfs[idx[j]]) for j in nearest)
    identifications = []
    identify_pcf = RepresentativeIdentifier(config.identify, max_depth=5000)
    for c, fid, pcf in tqdm(todo, desc=f"{config.name}: cluster representatives", unit="PCF", disable=not progress):
        hit = identify_pcf(pcf)
        if hit is not None and hit.digits_verified >= config.identify["confirm_digits"]:
            record = identification_record(hit)
            identifications.append((fid, record))
            if record["constant"] and record["constant"] not in c["constants"]:
                c["constants"] = sorted(c["constants"] + [record["constant"]])

    written = []
    if plots:
        from discovery.plots import cluster_scatter

        folder = run_folder(db, config.name)
        folder.mkdir(parents=True, exist_ok=True)
        for plane in (("delta", "gamma_prime"), ("delta", "eta_prime")):
            written.append(
                cluster_scatter(full, clusterer.labels_, folder / f"clusters_{plane[0]}_{plane[1]}.png", plane)
            )
    return clusters, identifications, written


def summary_lines(result: CampaignResult) -> list[str]:
    """Human-readable summary of a run."""
    lines = [
        f"campaign {result.name}: {'complete' if result.complete else 'stopped (rerun to resume)'} "
        f"in {result.wall_time:.1f} s",
    ]
    if result.kind == "program":
        lines.append(f"  programs evaluated {result.candidates:,}, Pareto front stored: {result.formulas} programs")
        return lines + ([f"  report: {result.report}"] if result.report else [])
    lines.append(
        f"  candidates {result.candidates:,}, converging {result.converged:,}, stored {result.formulas:,}, "
        f"clusters {result.clusters}"
    )
    if result.dropped:
        lines.append(f"  triage: exact metrics for {result.measured:,} of {result.converged:,} converging PCFs "
                     f"({result.dropped:,} dropped)")
    if result.identified:
        counts = ", ".join(f"{k} {v}" for k, v in Counter(result.identified).most_common())
        lines.append(f"  identified formulas per constant: {counts}")
    for p in result.plots:
        lines.append(f"  plot: {p}")
    if result.report:
        lines.append(f"  report: {result.report}")
    return lines
