"""PCF campaigns with ``[search] strategy = "evolve"``: NSGA-II over the integer coefficients of
the campaign's ``[space]``, through the same pipeline and into the same database as enumeration.

Each generation is a work unit: its children go through :func:`~discovery.campaign.pcf.process_batch`
(float filter, Möbius-table identification with exact confirmation, exact metrics) on the
campaign's executor, and the results and the unit's done mark are stored in one transaction
before the search's checkpoint (``evolution.json`` in the run folder) moves past the generation
(both written by a thread of the driver's own, in that order, while the next generation is bred).
A run stopped anywhere, even by kill -9, resumes from the checkpoint; a generation it redoes is
computed again bit for bit and not stored twice, so the final database equals an uninterrupted
run's for a fixed seed and generation budget.

Objectives (``[search] objectives``, all turned into minimisation): ``delta`` (FR δ),
``factorial_reduction`` (share of qₙ's digits the gcd removes), ``convergence`` (digits per
term), ``target`` (log distance of the float limit to the nearest Möbius transform of the
``[identify]`` constants: it falls smoothly as a limit approaches a formula), ``novelty``
(distance in (δ, γ′, η′) to the clusters other campaigns stored before this one started) and
``size`` (sum of |coefficients|).  With ``[search] triage = "rank"`` or ``"drop"`` a triage model,
retrained every few generations on the campaign's stored candidates, screens ``offspring``
children per place and the best scored are evaluated (surrogate-assisted evolution).

Everything but selection, screening, storing and checkpoints runs on the executor's workers: the
children with their canonical keys, triage features and the surrogate's scores
(:class:`ChildMaker`, one task per slice of a generation's child numbers), the features the
surrogate is retrained on (those of children it screened are kept, not recomputed), and the
pipeline.  The search is pipelined (:class:`~discovery.evolution.Pipeline`): generation g's
children are bred from the population after generation g - 3 while the two generations between
are bred and evaluated, so the workers have work queued while the driver selects, screens and
stores.  Child ``i`` of generation ``g`` comes
from its own random stream ``(seed, g, i)`` (:func:`discovery.evolution.child_rng`), so the
stored result does not depend on the number of workers.
"""

from __future__ import annotations

import gc
import json
import math
import shutil
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from discovery.campaign.config import PcfConfig
from discovery.campaign.pcf import batch_result, mobius_table_of
from discovery.campaign.progress import TimeBudget, progress_bar
from discovery.campaign.strategy import CampaignRun, EvolvingStrategy
from discovery.campaign.training import metric_value as _num
from discovery.campaign.training import training_rows
from discovery.checkpoints import decode_plain, encode_plain, write_atomically
from discovery.evolution import BRED_AHEAD, NSGA2, Parents, Pending, breed_children
from discovery.pcf.genome import GenomeSpace, canonical_key
from discovery.records import PcfRecord, UnitResult, record_generation
from discovery.triage import ScorerFile, TriageModel, factorial_reduction, features, save_scorer, train

# A genome whose fraction does not converge, or whose metric is missing, scores this (minimised).
PENALTY = 1e6
_RETRAIN_EVERY = 5
# The surrogate learns from the last generations only: the search moves, and retraining on
# everything it ever met would grow slower every generation.
_TRAIN_WINDOW = 40
# Generations between the last unit a surrogate learns from and the first it screens: its training
# (a fifth of a second, queued behind two generations' tasks) overlaps all but BRED_AHEAD of them
# on a worker (a generation is bred when the units up to BRED_AHEAD + 1 before it are stored).
# With one, the search waited for it every fifth generation with the other workers idle (2 workers
# ran 1.14x as fast as 1); with five overlapped, still a tenth of the trainings.
_TRAIN_LAG = BRED_AHEAD + 7
_TARGET_FLOOR = -16.0
_CROSSOVER_RATE = 0.5
# Tasks per executor slot for one batch.  One: the pipeline keeps other work queued behind a
# batch, which fills a slow task's end (exact metrics of a fraction that converges), while every
# task costs the driver's threads a hand-off to a worker (with three per slot the workers waited
# for those hand-offs about a tenth of the time).
_TASKS_PER_SLOT = 1


def _slices(n: int, executor) -> np.ndarray:
    """Bounds cutting n items into tasks for the executor."""
    return np.linspace(0, n, min(n, _TASKS_PER_SLOT * max(1, executor.slots())) + 1).astype(int)


def _dealt(n: int, hands: int = 8) -> np.ndarray:
    """0..n-1 dealt into ``hands`` hands, one after the other: 0, 8, 16, ..., 1, 9, 17, ...
    (independent of the number of workers, so the stored units are too)."""
    return np.concatenate([np.arange(h, n, hands) for h in range(hands)]).astype(np.int64)


@dataclass(frozen=True)
class BatchRunner:
    """Picklable call of :func:`~discovery.campaign.pcf.batch_result` on an (A, B) chunk."""

    config: PcfConfig

    def __call__(self, item) -> tuple[int, UnitResult]:
        index, A, B = item
        return index, batch_result(A, B, self.config)


@dataclass(frozen=True)
class ChildMaker:
    """Worker side of a PCF evolution's breeding (picklable): numbered children of a generation
    with their canonical keys (:func:`~discovery.evolution.breed_children` over the space's
    operators) and, when the search screens, the triage features and the surrogate's score of
    each child that is new within the task.

    Parameters
    ----------
    space : GenomeSpace
    seed : int
        The search's seed (with the generation and the child's number, its random stream).
    crossover_rate : float
    depth : int, optional
        ``metrics_depth`` of the features; None for a search that does not screen.
    model : TriageModel or ScorerFile, optional
        The surrogate scoring the features (it travels with the task, or as a file the worker
        reads).  No scores without it.
    """

    space: GenomeSpace
    seed: int
    crossover_rate: float = _CROSSOVER_RATE
    depth: int | None = None
    model: TriageModel | ScorerFile | None = None

    def __call__(self, item: tuple[Parents, int, int, int]) -> dict:
        """``(parents, generation, first, count)`` -> ``first``, ``bred`` ((genome, key) in child
        order), ``rows`` (indices into ``bred`` of the children featured), ``features`` and
        ``scores`` of those rows."""
        parents, generation, first, count = item
        bred = breed_children(parents, self.seed, generation, first, count, self.space.mutate, self.space.key,
                              self.space.crossover, self.crossover_rate)
        out = {"first": first, "bred": bred, "rows": [], "features": None, "scores": None}
        if self.depth is None:
            return out
        # A child repeating a parent or an earlier child of the task is never taken: no features.
        seen, rows = set(parents.keys), []
        for j, (_, k) in enumerate(bred):
            if k not in seen:
                seen.add(k)
                rows.append(j)
        A, B = self.space.arrays([bred[j][0] for j in rows])
        X = features(A, B, self.depth)
        out.update(rows=rows, features=X, scores=None if self.model is None else self.model.score(X))
        return out


def objective_matrix(names, A: np.ndarray, B: np.ndarray, records: list[PcfRecord | Mapping], table=None,
                     centroids: np.ndarray | None = None, sample: int = 1000) -> np.ndarray:
    """Objective rows (minimised) of the PCFs in A, B from the pipeline's ``records``.

    Parameters
    ----------
    names : sequence of str
        Objective names (see the module docstring).
    A, B : ndarray
    records : list of PcfRecord (or their JSON)
        The pipeline's records (``row`` into A, B); PCFs without one did not converge and score
        :data:`PENALTY` on every objective but ``size``.
    table : MobiusTable, optional
        For ``target``.
    centroids : ndarray (k, 3), optional
        (δ, γ′, η′) of known clusters, for ``novelty``.
    sample : int
        The depth n of the metrics, for ``convergence``.
    """
    F = np.full((len(A), len(names)), PENALTY)
    for rec in records:
        m, i = (rec.metrics, rec.row) if isinstance(rec, PcfRecord) else (rec["metrics"], rec["row"])
        for j, name in enumerate(names):
            F[i, j] = _objective(name, m, table, centroids, sample)
    size = np.abs(A).sum(axis=1) + np.abs(B).sum(axis=1)
    for j, name in enumerate(names):
        if name == "size":
            F[:, j] = size
    return np.where(np.isfinite(F), F, PENALTY)


def _objective(name: str, m: dict, table, centroids, sample: int) -> float:
    delta = _num(m["delta"])
    if name == "delta":
        return -delta
    if name == "factorial_reduction":
        return -float(factorial_reduction(_num(m["naive_delta"]), delta))
    if name == "convergence":
        n = float(sample)
        log_err = _num(m["beta"]) * math.log(n) + _num(m["gamma"]) * n + _num(m["eta"]) * n * math.log(n)
        return log_err / (n * math.log(10.0))
    if name == "target":
        return _target_distance(_num(m["limit_value"]), table)
    if name == "novelty":
        point = np.array([delta, _num(m["gamma_prime"]), _num(m["eta_prime"])])
        if centroids is None or not len(centroids) or not np.isfinite(point).all():
            return 0.0 if np.isfinite(point).all() else PENALTY
        return -float(np.sqrt(((centroids - point) ** 2).sum(axis=1)).min())
    return 0.0  # size is filled in for every genome


def _target_distance(limit: float, table) -> float:
    """log10 of the relative distance from ``limit`` to the nearest value of the Möbius table."""
    if table is None or not math.isfinite(limit):
        return PENALTY
    values = table.values
    j = int(np.searchsorted(values, limit))
    near = [values[k] for k in (j - 1, j) if 0 <= k < len(values)]
    gap = min(abs(limit - v) for v in near) / max(1.0, abs(limit))
    return max(_TARGET_FLOOR, math.log10(gap)) if gap > 0 else _TARGET_FLOOR


class _Keys:
    """The search's genome keys, remembered from the workers that bred the genomes (the driver
    computes only those of genomes it did not breed: the initial population, a resumed one)."""

    def __init__(self, space: GenomeSpace):
        self.space = space
        self.known: dict = {}

    def __call__(self, genome) -> tuple:
        k = self.known.get(genome)
        if k is None:
            k = self.known[genome] = self.space.key(genome)
        return k

    def renew(self, keep: list) -> None:
        """Forget all keys but those of ``keep`` (a new generation is bred)."""
        self.known = {g: self.known[g] for g in keep if g in self.known}


class _Writer:
    """The driver's writes -- a generation's unit, then its checkpoint -- in a thread of their own,
    in that order, while the workers breed the next generation (they waited for them before).
    A read of the store first waits for the writes queued before it (:meth:`flush`); a write's
    error is raised in the search at the next write or flush."""

    def __init__(self):
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evolve-writes")
        self._pending: list = []

    def submit(self, fn, *args) -> Future:
        """Queue ``fn(*args)`` after the writes queued before; its future."""
        for done in [f for f in self._pending if f.done()]:
            self._pending.remove(done)
            done.result()
        future = self._thread.submit(fn, *args)
        self._pending.append(future)
        return future

    def flush(self) -> None:
        """Wait for every queued write (raising the first error)."""
        pending, self._pending = self._pending, []
        for f in pending:
            f.result()

    def close(self) -> None:
        """Finish the queued writes and stop the thread (after an error or Ctrl-C too: what was
        computed is stored, and the checkpoint stays behind its unit)."""
        try:
            self.flush()
        finally:
            self._thread.shutdown(wait=True)


class _Evaluator:
    """The engine's ``evaluate``: the pipeline on the executor, one stored unit per generation."""

    def __init__(self, config: PcfConfig, space, store, cid: int, executor, centroids, keys: _Keys,
                 writer: _Writer):
        self.config, self.space, self.store, self.cid = config, space, store, cid
        self.writer = writer
        self.executor = executor
        ident = config.identify
        self.table = mobius_table_of(tuple(ident["constants"]) if ident["constants"] else None,
                                     ident["mobius_bound"])
        self.centroids = centroids
        self.keys = keys
        self.found = 0
        self.met: set = set()

    def resume(self, generation: int) -> None:
        """Remember the PCFs this campaign stored up to a generation (what a resumed search has
        met, as the uninterrupted one had at that point)."""
        rows = self.store.labelled(self.cid, all_stored=True, units=(None, generation))
        genomes = [json.loads(row["genome"]) for row in rows]
        if genomes:
            self.met.update(_map_keys(self.executor, [(g["a"], g["b"]) for g in genomes]))

    def __call__(self, genomes: list) -> np.ndarray:
        """The initial population's (or a resumed one's) objectives, unit 0."""
        return self.evaluate(genomes, 0).result()

    def evaluate(self, genomes: list, unit: int) -> Pending:
        """Start a generation's evaluation; its ``result()`` stores the unit (through the writer)
        and gives the objective rows."""
        return _Evaluation(self, genomes, unit)


class _Evaluation:
    """One generation's pipeline tasks, running; :meth:`result` collects and stores them."""

    def __init__(self, evaluator: _Evaluator, genomes: list, unit: int):
        self.evaluator, self.unit = evaluator, unit
        # Children come best scored first, and the best scored are the costly ones (they converge
        # and get exact metrics): dealt out in a fixed order, every task gets its share of them.
        # (Cut in score order, the first task held most of a generation's work.)
        self.dealt = _dealt(len(genomes))
        self.genomes = [genomes[i] for i in self.dealt]
        self.keys = [evaluator.keys(g) for g in self.genomes]  # known now: the breeder forgets them
        self.A, self.B = evaluator.space.arrays(self.genomes)
        self.bounds = _slices(len(self.A), evaluator.executor)
        runner = BatchRunner(evaluator.config)
        self.tasks = [evaluator.executor.submit(runner, (k, self.A[lo:hi], self.B[lo:hi]))
                      for k, (lo, hi) in enumerate(zip(self.bounds[:-1], self.bounds[1:]))]

    def result(self) -> np.ndarray:
        ev = self.evaluator
        parts = dict(task.result() for task in self.tasks)
        result = UnitResult.merged([parts[k] for k in range(len(self.tasks))], [int(lo) for lo in self.bounds[:-1]],
                                   self.unit)
        ev.writer.submit(result.write, ev.store, ev.cid, self.unit)
        ev.found += result.identified
        ev.met.update(self.keys[r.row] for r in result.pcfs)
        F = objective_matrix(ev.config.search["objectives"], self.A, self.B, list(result.pcfs), ev.table,
                             ev.centroids, ev.config.search["sample"])
        out = np.empty_like(F)
        out[self.dealt] = F
        return out


@dataclass(frozen=True)
class _KeyRunner:
    """Picklable canonical keys of an ``(index, [(a, b), ...])`` chunk."""

    def __call__(self, item) -> tuple[int, list]:
        index, pairs = item
        return index, [canonical_key(a, b) for a, b in pairs]


def _map_keys(executor, pairs: list) -> list:
    """Canonical keys of (a, b) pairs, computed on the workers."""
    bounds = _slices(len(pairs), executor)
    chunks = [(k, pairs[lo:hi]) for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))]
    parts = dict(executor.map_unordered(_KeyRunner(), chunks))
    return [k for i in range(len(chunks)) for k in parts[i]]


@dataclass(frozen=True)
class TrainRunner:
    """Picklable training of the surrogate on a worker: ``(A, B, y, kept)`` -> the
    :class:`~discovery.triage.TriageModel` of :func:`~discovery.triage.train`.  ``kept`` holds each
    row's features when the screening computed them already, else None (computed here)."""

    depth: int
    recall: float
    seed: int

    def __call__(self, item) -> TriageModel:
        A, B, y, kept = item
        missing = np.array([i for i, row in enumerate(kept) if row is None], dtype=np.int64)
        if len(missing) == len(A):
            X = features(A, B, self.depth)
        else:
            computed = iter(features(A[missing], B[missing], self.depth))
            X = np.array([row if row is not None else next(computed) for row in kept])
        return train(X, y, self.recall, seed=self.seed)


class _Screen:
    """Surrogate screening: children ordered by the triage model's scores (computed by the
    workers that bred them).

    The model screening the children bred as generation g is trained on the campaign's units up
    to ``max(due - _TRAIN_LAG, 0)`` (``due = g - g % 5``, a window of :data:`_TRAIN_WINDOW`
    units): a function of the stored units, so a resumed run trains the same model, and older
    than the latest, so its training runs on a worker while the generations before ``due`` are
    bred and evaluated on the others instead of stalling the search.
    """

    def __init__(self, config: PcfConfig, space, store, cid: int, executor, writer: _Writer,
                 folder: Path | None = None):
        self.config, self.space, self.store, self.cid = config, space, store, cid
        # Where the models go for workers on this machine (None: they travel with the tasks).
        self.folder = folder
        self.shipped: dict = {}  # due -> what breeding tasks carry of that model
        self.writer = writer
        self.executor = executor
        self.depth = config.search["metrics_depth"]
        self.population_size = config.search["population"]
        self.trained_at = -1
        self.training: dict = {}
        # This generation's children: genome -> (feature row, score).
        self.bred: dict = {}
        # Feature rows of evaluated children, (a, b) -> (unit, row): the next trainings' rows.
        self.kept: dict = {}

    def model_for(self, generation: int) -> TriageModel | ScorerFile:
        """The model screening the children bred as ``generation`` (evaluated in the next), as
        breeding tasks carry it; the next model's training is started as soon as the units it
        learns from are stored."""
        due = generation - generation % _RETRAIN_EVERY
        if due != self.trained_at:
            model = (self.training.pop(due, None) or self._train(due)).result()
            self.trained_at = due
            self.shipped[due] = model
            if self.folder is not None and model.model is not None:
                # A file each worker reads once, not the trees in every task (about 2 ms each).
                self.folder.mkdir(parents=True, exist_ok=True)
                self.shipped[due] = save_scorer(model, self.folder / f"surrogate-{due}.npz")
            # Tasks in flight use the model before at most: older files go.
            for old in [d for d in self.shipped if d < due - _RETRAIN_EVERY]:
                if isinstance(self.shipped.pop(old), ScorerFile):
                    (self.folder / f"surrogate-{old}.npz").unlink(missing_ok=True)
        last = self.config.search["generations"]
        ahead = due + _RETRAIN_EVERY
        # Units up to generation - BRED_AHEAD are stored: what the later models learn from may be.
        while ahead - _TRAIN_LAG + BRED_AHEAD <= generation and (last is None or ahead < last):
            if ahead not in self.training:
                self.training[ahead] = self._train(ahead)
            ahead += _RETRAIN_EVERY
        return self.shipped[due]

    def _train(self, due: int) -> _Training:
        high = max(due - _TRAIN_LAG, 0)
        self.kept = {ab: v for ab, v in self.kept.items() if v[0] > high - _TRAIN_WINDOW}
        # The rows are read, after the units they come from are written, and sent by the writer's
        # thread: reading them on the search's own thread held up the hand-off of tasks to the workers.
        return _Training(self.writer.submit(self._send_training, high, dict(self.kept)))

    def _send_training(self, high: int, kept_rows: dict) -> Pending:
        A, B, y = training_rows(self.store, self.cid, min_unit=high - _TRAIN_WINDOW, max_unit=high)
        kept = [kept_rows.get((tuple(a), tuple(b)), (None, None))[1] for a, b in zip(A.tolist(), B.tolist())]
        search = self.config.search
        return self.executor.submit(TrainRunner(self.depth, search["triage_recall"], self.config.seed),
                                    (A, B, y, kept))

    def __call__(self, children: list, unit: int) -> list[int]:
        score = np.array([self.bred[c][1] for c in children])
        order = np.argsort(-score, kind="stable").tolist()
        for i in order[: self.population_size]:
            a, b = self.space.coefficients(children[i])
            self.kept[(tuple(a), tuple(b))] = (unit, self.bred[children[i]][0])
        return order


class _Training:
    """A surrogate's training: sent by the writer's thread, then run on a worker."""

    def __init__(self, sent: Future):
        self.sent = sent

    def result(self) -> TriageModel:
        return self.sent.result().result()


class _Breeder:
    """The pipeline's breeding: slices of a generation's child numbers bred on the executor's
    workers (:class:`ChildMaker`), their keys remembered, their scores handed to the screen."""

    def __init__(self, space: GenomeSpace, seed: int, executor, keys: _Keys, screen: _Screen | None):
        self.space, self.seed, self.executor = space, seed, executor
        self.keys, self.screen = keys, screen
        self.generation = None
        # Genomes bred for the last generations: some are being evaluated, some joined the population.
        self.bred: deque = deque(maxlen=BRED_AHEAD + 2)

    def breed(self, parents: Parents, generation: int, first: int, count: int) -> Pending:
        """Start breeding children ``first`` to ``first + count - 1`` of a generation."""
        maker = ChildMaker(self.space, self.seed)
        if self.screen is not None:
            maker = ChildMaker(self.space, self.seed, depth=self.screen.depth, model=self.screen.model_for(generation))
        bounds = _slices(count, self.executor) + first
        tasks = [self.executor.submit(maker, (parents, generation, int(lo), int(hi - lo)))
                 for lo, hi in zip(bounds[:-1], bounds[1:])]
        return _Bred(self, parents, generation, tasks)

    def collect(self, parents: Parents, generation: int, parts: list) -> list:
        """The bred children in child-number order, their keys and screening scores remembered."""
        if generation != self.generation:
            self.keys.renew(parents.population + [g for bred in self.bred for g in bred])
            self.generation = generation
            self.bred.append([])
            if self.screen is not None:
                self.screen.bred = {}
        bred = []
        for part in parts:
            bred += part["bred"]
            self.keys.known.update(part["bred"])
            if self.screen is not None:
                for r, j in enumerate(part["rows"]):
                    self.screen.bred.setdefault(part["bred"][j][0], (part["features"][r], part["scores"][r]))
        self.bred[-1] += [g for g, _ in bred]
        return bred


class _Bred:
    """Breeding tasks running; :meth:`result` collects them (:meth:`_Breeder.collect`)."""

    def __init__(self, breeder: _Breeder, parents: Parents, generation: int, tasks: list):
        self.breeder, self.parents, self.generation, self.tasks = breeder, parents, generation, tasks

    def result(self) -> list:
        return self.breeder.collect(self.parents, self.generation, [task.result() for task in self.tasks])


@dataclass(frozen=True)
class _Pipeline:
    """The executor's side of the search (:class:`~discovery.evolution.Pipeline`)."""

    breed: Callable[[Parents, int, int, int], Pending]
    evaluate: Callable[[list, int], Pending]


class Evolve(EvolvingStrategy):
    """``[search] strategy = "evolve"``: NSGA-II over the space's coefficients until the budget
    (minutes or generations) is spent; then clusters, representatives, families."""

    def run(self, run: CampaignRun) -> bool:
        config, store, cid = run.config, run.store, run.campaign_id
        if store.campaign(config.name)["finished"] is not None:
            return True
        space = GenomeSpace.from_config(config.space)
        executor = run.executor()
        centroids = np.array(store.cluster_centroids(exclude=cid), dtype=float).reshape(-1, 3)
        keys = _Keys(space)
        writer = _Writer()
        # The objects of everything imported (some 220,000) are left out of the cyclic garbage
        # collector's scans while the search runs: its full collections stalled the threads that
        # hand tasks to the workers (a fifth of the driver's CPU and 40 ms pauses).
        gc.freeze()
        try:
            return self._run(run, space, executor, centroids, keys, writer)
        finally:
            gc.unfreeze()
            writer.close()
            folder = self._surrogates(run, executor)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    @staticmethod
    def _surrogates(run: CampaignRun, executor) -> Path | None:
        """The folder of the surrogate's files for workers on this machine (None: other machines)."""
        return run.folder / "surrogates" if executor.same_machine() else None

    def _run(self, run: CampaignRun, space: GenomeSpace, executor, centroids, keys: _Keys, writer: _Writer) -> bool:
        config, store, cid, search = run.config, run.store, run.campaign_id, run.config.search
        evaluator = _Evaluator(config, space, store, cid, executor, centroids, keys, writer)
        screen = (_Screen(config, space, store, cid, executor, writer, self._surrogates(run, executor))
                  if search["triage"] != "off" else None)
        path = run.folder / "evolution.json"
        engine = NSGA2(evaluator, space.mutate, keys, population_size=search["population"],
                       seed=config.seed, checkpoint=path, checkpoint_every=1,
                       encode=encode_plain, decode=decode_plain, crossover=space.crossover,
                       crossover_rate=_CROSSOVER_RATE, screen=screen, offspring=search["offspring"],
                       known=evaluator.met.__contains__, niche=space.a_part, niche_cap=2,
                       pipeline=_Pipeline(_Breeder(space, config.seed, executor, keys, screen).breed,
                                          evaluator.evaluate),
                       save=lambda text: writer.submit(write_atomically, path, text))
        rng = np.random.default_rng(config.seed)
        units_cap = run.units_cap()  # counted before the initial population is stored

        def capped() -> bool:
            if run.max_units is None:
                return False
            writer.flush()  # the store is asked: the generation's unit is written first
            return units_cap()

        state = engine.start([space.random(rng) for _ in range(search["population"])])
        if not evaluator.met:
            writer.flush()
            evaluator.resume(state.generation)
        budget = TimeBudget(search["minutes"], state.extra.get("seconds", 0.0))
        generations = search["generations"]
        # A generation budget counts generations; a time budget alone counts its seconds, so the bar has a total.
        by_time = generations is None and not math.isinf(budget.seconds)
        bar_ = (budget.bar(config.name, "evolving", run.progress) if by_time else
                progress_bar(config.name, "evolving", generations, "gen", run.progress, initial=state.generation))
        with bar_ as bar:

            def tick(st):
                st.extra["seconds"] = budget.spent()
                record_generation(st, space.coefficients)  # the report's history, kept in the checkpoint
                shown = {"generation": st.generation, "evaluations": st.evaluations, "identified": evaluator.found}
                if by_time:
                    budget.show(bar, st.extra["seconds"], **shown)
                else:
                    bar.update(1)
                    bar.set_postfix(**shown)
                return budget.exhausted(st.extra["seconds"]) or capped()

            left = None if generations is None else max(0, generations - state.generation)
            if left != 0 and not budget.exhausted(budget.before) and not capped():
                engine.run([], generations=left, seconds=budget.left(), callback=tick)
        st = engine.state  # stopped by --max-units with budget left: not complete, a rerun goes on
        return (not capped() or budget.exhausted(st.extra.get("seconds", budget.before))
                or (generations is not None and st.generation >= generations))
