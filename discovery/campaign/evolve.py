"""PCF campaigns with ``[search] strategy = "evolve"``: NSGA-II over the integer coefficients of
the campaign's ``[space]``, through the same pipeline and into the same database as enumeration.

Each generation is a work unit: its children go through :func:`~discovery.campaign.pcf.process_batch`
(float filter, Möbius-table identification with exact confirmation, exact metrics) on the
campaign's executor, and the results and the unit's done mark are stored in one transaction
before the search's checkpoint (``evolution.json`` in the run folder) moves past the generation.
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
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from discovery.campaign.config import PcfConfig
from discovery.campaign.pcf import batch_result, mobius_table_of
from discovery.campaign.progress import TimeBudget, progress_bar
from discovery.campaign.strategy import CampaignRun, Strategy
from discovery.campaign.training import metric_value as _num
from discovery.campaign.training import train_from_store
from discovery.checkpoints import decode_plain, encode_plain
from discovery.evolution import NSGA2
from discovery.pcf.genome import GenomeSpace, canonical_key
from discovery.records import PcfRecord, UnitResult, record_generation
from discovery.triage import factorial_reduction, features

# A genome whose fraction does not converge, or whose metric is missing, scores this (minimised).
PENALTY = 1e6
_RETRAIN_EVERY = 5
# The surrogate learns from the last generations only: the search moves, and retraining on
# everything it ever met would grow slower every generation.
_TRAIN_WINDOW = 40
_TARGET_FLOOR = -16.0


@dataclass(frozen=True)
class BatchRunner:
    """Picklable call of :func:`~discovery.campaign.pcf.batch_result` on an (A, B) chunk."""

    config: PcfConfig

    def __call__(self, item) -> tuple[int, UnitResult]:
        index, A, B = item
        return index, batch_result(A, B, self.config)


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


class _Evaluator:
    """The engine's ``evaluate``: the pipeline on the executor, one stored unit per generation."""

    def __init__(self, config: PcfConfig, space, store, cid: int, executor, centroids):
        self.config, self.space, self.store, self.cid = config, space, store, cid
        self.executor = executor
        ident = config.identify
        self.table = mobius_table_of(tuple(ident["constants"]) if ident["constants"] else None,
                                     ident["mobius_bound"])
        self.centroids = centroids
        self.engine = None
        self.found = 0
        self.met: set = set()

    def resume(self, generation: int) -> None:
        """Remember the PCFs this campaign stored up to a generation (what a resumed search has
        met, as the uninterrupted one had at that point)."""
        for row in self.store.labelled(self.cid, all_stored=True, units=(None, generation)):
            g = json.loads(row["genome"])
            self.met.add(canonical_key(g["a"], g["b"]))

    def __call__(self, genomes: list) -> np.ndarray:
        A, B = self.space.arrays(genomes)
        workers = max(1, getattr(self.executor, "workers", 1))
        bounds = np.linspace(0, len(A), min(len(A), 2 * workers) + 1).astype(int)
        chunks = [(k, A[lo:hi], B[lo:hi]) for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))]
        parts = dict(self.executor.map_unordered(BatchRunner(self.config), chunks))
        unit = 0 if self.engine.state is None else self.engine.state.generation + 1
        result = UnitResult.merged([parts[k] for k in range(len(chunks))], [int(lo) for lo in bounds[:-1]], unit)
        result.write(self.store, self.cid, unit)
        self.found += result.identified
        self.met.update(canonical_key(r.a, r.b) for r in result.pcfs)
        return objective_matrix(self.config.search["objectives"], A, B, list(result.pcfs), self.table,
                                self.centroids, self.config.search["sample"])


class _Screen:
    """Surrogate screening: children ordered by the triage model, retrained every few generations
    on the campaign's stored candidates (a function of the stored units, so a resumed run
    retrains the same model)."""

    def __init__(self, config: PcfConfig, space, store, cid: int):
        self.config, self.space, self.store, self.cid = config, space, store, cid
        self.engine = None
        self.model = None
        self.trained_at = -1

    def __call__(self, children: list) -> list[int]:
        generation = self.engine.state.generation
        due = generation - generation % _RETRAIN_EVERY
        if due != self.trained_at:
            self.model = train_from_store(self.store, self.cid, self.config, min_unit=due - _TRAIN_WINDOW,
                                          max_unit=due)
            self.trained_at = due
        A, B = self.space.arrays(children)
        score = self.model.score(features(A, B, self.config.search["metrics_depth"]))
        return np.argsort(-score, kind="stable").tolist()


class Evolve(Strategy):
    """``[search] strategy = "evolve"``: NSGA-II over the space's coefficients until the budget
    (minutes or generations) is spent; then clusters, representatives, families."""

    clusters = True
    families = True

    def units(self, config: PcfConfig) -> int:
        generations = config.search["generations"]
        return generations + 1 if generations else 0

    def run(self, run: CampaignRun) -> bool:
        config, store, cid, search = run.config, run.store, run.campaign_id, run.config.search
        if store.campaign(config.name)["finished"] is not None:
            return True
        space = GenomeSpace.from_config(config.space)
        centroids = np.array(store.cluster_centroids(exclude=cid), dtype=float).reshape(-1, 3)
        evaluator = _Evaluator(config, space, store, cid, run.executor(), centroids)
        screen = _Screen(config, space, store, cid) if search["triage"] != "off" else None
        engine = NSGA2(evaluator, space.mutate, space.key, population_size=search["population"],
                       seed=config.seed, checkpoint=run.folder / "evolution.json", checkpoint_every=1,
                       encode=encode_plain, decode=decode_plain, crossover=space.crossover, crossover_rate=0.5,
                       screen=screen, offspring=search["offspring"], known=evaluator.met.__contains__,
                       niche=space.a_part, niche_cap=2)
        evaluator.engine = engine
        if screen is not None:
            screen.engine = engine
        rng = np.random.default_rng(config.seed)
        state = engine.start([space.random(rng) for _ in range(search["population"])])
        if not evaluator.met:
            evaluator.resume(state.generation)
        budget = TimeBudget(search["minutes"], state.extra.get("seconds", 0.0))
        generations = search["generations"]
        with progress_bar(config.name, "evolving", generations, "gen", run.progress, initial=state.generation) as bar:

            def tick(st):
                st.extra["seconds"] = budget.spent()
                record_generation(st, space.coefficients)  # the report's history, kept in the checkpoint
                bar.update(1)
                bar.set_postfix(evaluations=st.evaluations, identified=evaluator.found)
                return budget.exhausted(st.extra["seconds"])

            left = None if generations is None else max(0, generations - state.generation)
            if left != 0 and not budget.exhausted(budget.before):
                engine.run([], generations=left, seconds=budget.left(), callback=tick)
        return True
