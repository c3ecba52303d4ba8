"""Program campaigns: evolve straight-line programs for a target, checkpointed beside the
database, and store the Pareto front.

With ``[execution] islands = K`` (K > 1), K populations evolve independently, one per worker of
the campaign's executor (local processes or Dask), and every ``migrate_every`` generations each
sends its front to the next island of a ring, through the driver.  An island's epoch is
:class:`IslandStep`, a function of the island's state (JSON text) and its immigrants, so it runs
on any executor.  The stored front is the Pareto front of the union of the islands' fronts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from discovery.campaign.config import ProgramConfig
from discovery.campaign.progress import TimeBudget
from discovery.campaign.strategy import CampaignRun, Strategy
from discovery.errors import CheckpointError
from discovery.checkpoints import write_atomically
from discovery.programs.graph import Program
from discovery.programs.fronts import ulp32_front, validated_front
from discovery.programs.search import ProgramSearch, SearchResult
from discovery.programs.targets import Target, make_target
from discovery.programs.float32 import float32_span, from_ordered
from discovery.programs.verify import float32_ulp_errors, program_record
from discovery.records import ProgramRecord

ISLANDS_FORMAT = "discovery-islands"
# Seeds of islands 1, 2, ... are spread apart from island 0's, which is the single search's seed.
_ISLAND_SEED_STRIDE = 1_000_003
# Floats of the interval a float32 check is timed on, to reserve time for the exhaustive one.
_SAMPLED_FLOATS = 1 << 24


class Programs(Strategy):
    """A program campaign (``kind = "program"``, ``[search] strategy = "evolve"``): one search, or
    ``[execution] islands`` of them, for the ``[target]``; its Pareto front stored as one unit."""

    def units(self, config: ProgramConfig) -> int:
        return 1

    def run(self, run: CampaignRun) -> bool:
        config, store, cid = run.config, run.store, run.campaign_id
        if store.done_units(cid):
            return True
        t = config.target
        target = make_target(t["name"], tuple(t["interval"]), error=t["error"])
        if config.execution["islands"] > 1:
            evaluations, rows = _run_islands(run, target)
        else:
            evaluations, rows = _run_single(run, target)
        store.write_programs(cid, target.name, target.interval, [r.to_json() for r in rows], unit=0,
                             candidates=evaluations)
        return True


def _record(program: Program, target: Target, cost: int, float32: dict | None) -> ProgramRecord:
    return ProgramRecord.from_row(program_record(program, target, cost, float32))


def _run_single(run: CampaignRun, target: Target) -> tuple[int, list[ProgramRecord]]:
    """One search, checkpointed in the run folder; returns (evaluations, the front's records)."""
    config, t, search = run.config, run.config.target, run.config.search
    result, rows = search_front(target, t["max_ops"], ops=t["ops"], population=search["population"],
                                seed=config.seed, classical=search["classical_seeds"], allow_inf=t["allow_inf"],
                                minutes=search["minutes"], generations=search["generations"],
                                checkpoint=run.folder / "evolution.json", label=config.name, progress=run.progress)
    return result.evaluations, rows


def search_front(target: Target, max_ops: int, *, ops, population: int, seed: int, classical: bool = True,
                 allow_inf: bool = False, minutes: float | None = None, generations: int | None = None,
                 checkpoint: Path | str | None = None, label: str = "programs", progress: bool = True,
                 started: float | None = None, before=None) -> tuple[SearchResult, list[ProgramRecord]]:
    """One program search within a time and a generation budget, resumable from its checkpoint:
    what a program campaign runs and what ``discovery programs evolve`` runs.

    Parameters
    ----------
    target : Target
    max_ops : int
        Operations at most.
    ops : sequence of str
        The operation set.
    population, seed : int
    classical : bool
        Seed with the classical programs (Horner, Padé, continued fractions) besides random ones.
    allow_inf : bool
        Accept programs finite only through IEEE infinities (refused by default, in the search's
        selection as well as in the front).
    minutes : float, optional
        Wall-time budget of the whole call -- the caller's ``before`` stage, seeding, evolution,
        the closing tuning and the verification of the front -- counted from ``started``, plus
        the seconds of earlier runs (from the checkpoint); None: none.
    generations : int, optional
        Generation budget, counted the same way; None: none.
    checkpoint : path, optional
        Checkpoint file: written as the search goes, resumed from when it exists.
    label : str
        What the progress bar names.
    progress : bool
        Show a progress bar over the time budget, naming the stage it is in.
    started : float, optional
        ``time.time()`` when the command began (default: now): time spent before counts.
    before : (str, callable), optional
        A first stage the caller needs inside the budget (say, computing classical baselines):
        its name for the bar and a function of no arguments, run first.

    Returns
    -------
    (SearchResult, list of ProgramRecord)
        The search's result and the records of its Pareto front, by operation count.
    """
    budget = TimeBudget(minutes)
    budget.resumed_at = time.time() if started is None else started
    with budget.bar(label, "seeding" if before is None else before[0], progress) as bar:
        if before is not None:
            before[1]()
            _stage(bar, label, "seeding")
        program_search = ProgramSearch(target, max_ops, ops=tuple(ops), population_size=population,
                                       finite_only=not allow_inf, seed=seed, checkpoint=checkpoint)
        state = program_search.engine.start(program_search.seeds(population, classical))
        budget.before = state.extra.get("seconds", 0.0)
        # Verifying the front (scan and proven bound per operation count) comes after the
        # search: time one verification now and keep that much per count in reserve.
        reserve = _verification_seconds(state.population, target, max_ops) if minutes is not None else 0.0
        _stage(bar, label, "evolving")

        def closing(stage):
            _stage(bar, label, stage)
            budget.show(bar, budget.spent())

        def tick(st):
            st.extra["seconds"] = budget.spent()
            best = min((f[0] for c, (_, f) in st.archive.items() if c <= max_ops), default=float("nan"))
            # The archive holds log10 errors (under ulp32 of 1 + max ULP + a tie-break under 1/2).
            shown = ({"best_max_ulp": round(10.0**best - 1)} if target.error == "ulp32" and math.isfinite(best)
                     else {"best_error": f"{10.0**best:.2e}"})
            budget.show(bar, st.extra["seconds"], generation=st.generation, evaluations=st.evaluations, **shown)

        seconds = None if minutes is None else max(0.0, budget.seconds - budget.spent() - reserve)
        result = program_search.run(state.population, seconds=seconds, progress=tick, stage=closing,
                                    generations=_remaining(generations, state.generation))
        _stage(bar, label, "verifying")
        rows = []
        for cost, (p, _) in sorted(result.best.items()):
            rows.append(_record(p, target, cost, (result.float32 or {}).get(cost)))
            budget.show(bar, budget.spent(), verified=len(rows))
    return result, rows


def _stage(bar, label: str, stage: str) -> None:
    bar.set_description(f"{label}: {stage}")


def _verification_seconds(population, target: Target, max_ops: int) -> float:
    """Seconds to keep for verifying a front of up to ``max_ops`` programs, and a fifth more:
    the verification of one program of each operation count in the population, timed (a front
    holds one per count); under ``ulp32``, that of the costliest program per count, and the
    front's exhaustive float32 check, one pass for all its programs, apart
    (:func:`_float32_check_seconds`)."""
    feasible = [p for p in population if p.cost <= max_ops]
    if not feasible:
        return 0.0
    costliest = max(feasible, key=lambda p: p.cost)
    if target.error == "ulp32":
        scan, check = _float32_check_seconds(costliest, target, max_ops)
        began = time.time()
        program_record(costliest, target, max_ops, check)
        return 1.2 * ((time.time() - began) * max_ops + scan)
    # Timing the costliest program once per count reserved ten times one slow bound (refined to
    # its cap) and ended a 15-minute search after 4 minutes.
    one_each = {p.cost: p for p in feasible}
    began = time.time()
    for p in one_each.values():
        program_record(p, target, max_ops)
    return 1.2 * (time.time() - began)


def _float32_check_seconds(program: Program, target: Target, count: int) -> tuple[float, dict]:
    """Seconds of the exhaustive float32 check of ``count`` programs like ``program`` at once
    (one pass over the floats: the correctly rounded values are computed once), timed on the
    interval's last 2^24 floats, where the target is largest (and its values dearest), and scaled
    to all of them; and that sample's report."""
    a, b = float32_span(target.interval)
    if target.numpy() is not None and b - a + 1 > _SAMPLED_FLOATS:
        top = dataclasses.replace(target, interval=(float(from_ordered(b - _SAMPLED_FLOATS + 1)), target.interval[1]))
        float32_ulp_errors([program], top, limit=1 << 10)  # loading the kernels must not count
        scale = (b - a + 1) / _SAMPLED_FLOATS
    else:  # every float, or a strided check without a numpy form: the sample is the check
        top, scale = target, 1.0
    began = time.time()
    check = float32_ulp_errors([program] * count, top)[0]
    return (time.time() - began) * scale, check


def _remaining(budget: int | None, done: int) -> int | None:
    return None if budget is None else max(0, budget - done)


@lru_cache(maxsize=4)
def _target(name: str, interval: tuple[float, float], error: str):
    return make_target(name, interval, error=error)


@dataclass(frozen=True)
class IslandStep:
    """One epoch of one island: ``generations`` generations from its state, after taking in its
    immigrants.  Picklable, and a function of its input alone, so any executor runs it.

    Called with ``(island, state, immigrants)``: the island's index, its state as JSON text (None
    to start) and programs (JSON) from the previous island of the ring.  Returns a dict with the
    island, its new state, its front (programs as JSON with their training errors), its
    generation and its evaluations so far.
    """

    target: tuple
    max_ops: int
    ops: tuple
    population: int
    classical: bool
    seed: int
    generations: int
    finite_only: bool = True

    def __call__(self, item) -> dict:
        island, state, immigrants = item
        search = ProgramSearch(_target(*self.target), self.max_ops, ops=self.ops, population_size=self.population,
                               seed=self.seed + _ISLAND_SEED_STRIDE * island, finite_only=self.finite_only)
        if state is None:
            search.engine.start(search.seeds(self.population, self.classical))
        else:
            search.engine.resume_from(state)
        if immigrants:
            search.engine.immigrate([Program.from_json(p) for p in immigrants])
        # Under ulp32 only the campaign's final front is checked on every float32.
        result = search.run(generations=self.generations, exhaustive=False)
        return {
            "island": island,
            "state": search.engine.to_json(),
            "front": [[cost, prog.to_json(), err] for cost, (prog, err) in sorted(result.best.items())],
            "generation": result.generations,
            "evaluations": result.evaluations,
        }


def _load_islands(path: Path, count: int, digest: str) -> dict | None:
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        ok = (doc.get("format") == ISLANDS_FORMAT
              and all(len(doc[k]) == count for k in ("states", "immigrants", "fronts"))
              and all(isinstance(s, str) for s in doc["states"])
              and all(isinstance(doc[k], (int, float)) for k in ("generation", "evaluations", "seconds"))
              and all(len(row) == 3 for front in doc["fronts"] for row in front))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise CheckpointError(f"checkpoint {path}: not a readable islands checkpoint ({err}); delete it to start "
                              "over") from None
    if not ok:
        raise CheckpointError(f"checkpoint {path}: not a checkpoint of {count} islands; delete it to start over")
    if doc.get("config") != digest:
        raise CheckpointError(f"checkpoint {path}: written by a campaign of another configuration (seed, target, "
                              "search or islands changed); delete it to start over")
    return doc


def _run_islands(run: CampaignRun, target: Target) -> tuple[int, list[ProgramRecord]]:
    """Evolve the islands epoch by epoch (checkpointed after each); returns (evaluations, the
    records of the Pareto front of the islands' fronts)."""
    config, t, search, execution = run.config, run.config.target, run.config.search, run.config.execution
    count, every = execution["islands"], execution["migrate_every"]
    step = IslandStep((t["name"], tuple(t["interval"]), t["error"]), t["max_ops"], tuple(t["ops"]),
                      search["population"], search["classical_seeds"], config.seed, every, not t["allow_inf"])
    path, digest = run.folder / "islands.json", _islands_digest(config, count, every)
    doc = _load_islands(path, count, digest) or {
        "format": ISLANDS_FORMAT, "config": digest, "states": [None] * count,
        "immigrants": [[] for _ in range(count)], "fronts": [[] for _ in range(count)], "generation": 0,
        "evaluations": 0, "seconds": 0.0,
    }
    generations = search["generations"]
    budget = TimeBudget(search["minutes"], doc["seconds"])
    # The front is verified after the last epoch: that time is kept in reserve (timed on the
    # first front), and an epoch that would not fit before it is not started.
    reserve, epoch_seconds = None, 0.0
    # What the last float32 tuning of an ulp32 front runs with (ProgramSearch.retune32).
    closing = ProgramSearch(target, t["max_ops"], ops=tuple(t["ops"]), finite_only=not t["allow_inf"])
    with budget.bar(config.name, f"{count} islands", run.progress) as bar:
        while not budget.exhausted(doc["seconds"]) and (generations is None or doc["generation"] < generations):
            if reserve is None and any(doc["fronts"]) and not math.isinf(budget.seconds):
                began = time.time()
                fronts = [Program.from_json(p) for front in doc["fronts"] for _, p, _ in front]
                reserve = _verification_seconds(fronts, target, t["max_ops"])
                if target.error == "ulp32":
                    reserve += closing.retune32_seconds(fronts)
                doc["seconds"] += time.time() - began
            if doc["generation"] and not epoch_fits(doc["seconds"], epoch_seconds, reserve or 0.0, budget.seconds):
                break
            began = time.time()
            left = every if generations is None else min(every, generations - doc["generation"])
            _epoch(run, doc, step if left == every else dataclasses.replace(step, generations=left), count)
            epoch_seconds = time.time() - began
            doc["seconds"] += epoch_seconds
            write_atomically(path, json.dumps(doc, allow_nan=False))
            budget.show(bar, doc["seconds"], generation=doc["generation"], evaluations=doc["evaluations"])
    candidates = [(cost, Program.from_json(p), err) for front in doc["fronts"] for cost, p, err in front]
    if target.error == "ulp32":
        # The islands' best program per operation count (training ULPs), tuned a last time.
        best: dict = {}
        for cost, p, err in candidates:
            if cost not in best or 1.0 + err < best[cost][1]:
                best[cost] = (p, 1.0 + err)
        candidates = [(cost, p, round(e - 1)) for cost, (p, e) in closing.retune32(best).items()]
        front, _, checks = ulp32_front(candidates, target)
    else:
        (front, _), checks = validated_front(candidates, target), {}
    return doc["evaluations"], [_record(p, target, cost, checks.get(cost)) for cost, (p, _) in sorted(front.items())]


def epoch_fits(spent: float, epoch: float, reserve: float, budget: float) -> bool:
    """Whether another epoch of islands (as long as the last, ``epoch`` seconds) and the front's
    verification (``reserve`` seconds) fit in a ``budget`` of which ``spent`` seconds are spent."""
    return spent + epoch + reserve <= budget


def _islands_digest(config: ProgramConfig, count: int, every: int) -> str:
    """Everything that decides the islands' results; a checkpoint of another configuration is
    refused.  (The budget, minutes or generations, only says when to stop: a longer run continues it.)"""
    fixed = config.as_dict()
    fixed["search"] = {k: v for k, v in fixed["search"].items() if k not in ("minutes", "generations")}
    return hashlib.sha256(json.dumps([fixed, count, every], sort_keys=True).encode()).hexdigest()[:16]


def _epoch(run: CampaignRun, doc: dict, epoch: IslandStep, count: int) -> None:
    """One epoch of every island on the run's executor; the ring's migration into ``doc``."""
    items = [(i, doc["states"][i], doc["immigrants"][i]) for i in range(count)]
    results = sorted(run.executor().map_unordered(epoch, items), key=lambda r: r["island"])
    doc["states"] = [r["state"] for r in results]
    doc["fronts"] = [r["front"] for r in results]
    # A ring: each island's front goes to the next island.
    doc["immigrants"] = [[p for _, p, _ in results[i - 1]["front"]] for i in range(count)]
    doc["generation"] = results[0]["generation"]
    doc["evaluations"] = sum(r["evaluations"] for r in results)
