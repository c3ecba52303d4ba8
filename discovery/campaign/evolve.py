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
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from discovery.campaign.config import CampaignConfig, run_folder
from discovery.campaign.runner import CampaignResult
from discovery.pcf.genome import canonical_key

# A genome whose fraction does not converge, or whose metric is missing, scores this (minimised).
PENALTY = 1e6
_RETRAIN_EVERY = 5
# The surrogate learns from the last generations only: the search moves, and retraining on
# everything it ever met would grow slower every generation.
_TRAIN_WINDOW = 40
_TARGET_FLOOR = -16.0


@dataclass(frozen=True)
class BatchRunner:
    """Picklable call of :func:`~discovery.campaign.pcf.process_batch` on an (A, B) chunk."""

    config: CampaignConfig

    def __call__(self, item) -> tuple[int, dict]:
        from discovery.campaign.pcf import process_batch

        index, A, B = item
        return index, process_batch(A, B, self.config)


def objective_matrix(names, A: np.ndarray, B: np.ndarray, records: list[dict], table=None,
                     centroids: np.ndarray | None = None, sample: int = 1000) -> np.ndarray:
    """Objective rows (minimised) of the PCFs in A, B from the pipeline's ``records``.

    Parameters
    ----------
    names : sequence of str
        Objective names (see the module docstring).
    A, B : ndarray
    records : list of dict
        :func:`~discovery.campaign.pcf.process_batch` records (``row`` into A, B); PCFs without
        one did not converge and score :data:`PENALTY` on every objective but ``size``.
    table : MobiusTable, optional
        For ``target``.
    centroids : ndarray (k, 3), optional
        (δ, γ′, η′) of known clusters, for ``novelty``.
    sample : int
        The depth n of the metrics, for ``convergence``.
    """
    F = np.full((len(A), len(names)), PENALTY)
    for rec in records:
        m, i = rec["metrics"], rec["row"]
        for j, name in enumerate(names):
            F[i, j] = _objective(name, m, table, centroids, sample)
    size = np.abs(A).sum(axis=1) + np.abs(B).sum(axis=1)
    for j, name in enumerate(names):
        if name == "size":
            F[:, j] = size
    return np.where(np.isfinite(F), F, PENALTY)


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _objective(name: str, m: dict, table, centroids, sample: int) -> float:
    from discovery.triage import factorial_reduction

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

    def __init__(self, config: CampaignConfig, space, store, cid: int, executor, centroids):
        from discovery.campaign.pcf import _table

        self.config, self.space, self.store, self.cid = config, space, store, cid
        self.executor = executor
        ident = config.identify
        self.table = _table(tuple(ident["constants"]) if ident["constants"] else None, ident["mobius_bound"])
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
        records, totals = [], {"candidates": 0, "converged": 0, "measured": 0, "dropped": 0}
        for k, (lo, _) in enumerate(zip(bounds[:-1], bounds[1:])):
            for key in totals:
                totals[key] += parts[k][key]
            for rec in parts[k]["pcfs"]:
                records.append({**rec, "row": rec["row"] + int(lo)})
        unit = 0 if self.engine.state is None else self.engine.state.generation + 1
        self.store.write_unit(self.cid, unit, totals["candidates"], totals["converged"], records,
                              totals["measured"], totals["dropped"])
        self.found += sum(1 for r in records if r["identification"])
        self.met.update(canonical_key(r["a"], r["b"]) for r in records)
        return objective_matrix(self.config.search["objectives"], A, B, records, self.table, self.centroids,
                                self.config.search["sample"])


class _Screen:
    """Surrogate screening: children ordered by the triage model, retrained every few generations
    on the campaign's stored candidates (a function of the stored units, so a resumed run
    retrains the same model)."""

    def __init__(self, config: CampaignConfig, space, store, cid: int):
        self.config, self.space, self.store, self.cid = config, space, store, cid
        self.engine = None
        self.model = None
        self.trained_at = -1

    def __call__(self, children: list) -> list[int]:
        from discovery.triage import features

        generation = self.engine.state.generation
        due = generation - generation % _RETRAIN_EVERY
        if due != self.trained_at:
            self.model = train_from_store(self.store, self.cid, self.config, min_unit=due - _TRAIN_WINDOW,
                                          max_unit=due)
            self.trained_at = due
        A, B = self.space.arrays(children)
        score = self.model.score(features(A, B, self.config.search["metrics_depth"]))
        return np.argsort(-score, kind="stable").tolist()


def train_from_store(store, cid: int, config: CampaignConfig, units=None, min_unit: int | None = None,
                     max_unit: int | None = None):
    """A :class:`~discovery.triage.TriageModel` trained on a campaign's stored, measured PCFs.

    Parameters
    ----------
    units : collection of int, optional
        Only the PCFs the campaign met in these units.
    min_unit, max_unit : int, optional
        Only the PCFs met in units from ``min_unit`` (exclusive) up to ``max_unit``.
    """
    from discovery.triage import features, labels, train

    rows = store.labelled(cid, units=(min_unit, max_unit))
    if units is not None:
        rows = [r for r in rows if r["unit"] in units]
    rows.sort(key=lambda r: r["genome"])
    genomes = [json.loads(r["genome"]) for r in rows]
    na = max((len(g["a"]) for g in genomes), default=1)
    nb = max((len(g["b"]) for g in genomes), default=1)
    A = np.array([[0] * (na - len(g["a"])) + g["a"] for g in genomes], dtype=np.int64).reshape(len(rows), na)
    B = np.array([[0] * (nb - len(g["b"])) + g["b"] for g in genomes], dtype=np.int64).reshape(len(rows), nb)
    X = features(A, B, config.search["metrics_depth"])
    y = labels([_num(r["delta"]) for r in rows], [_num(r["naive_delta"]) for r in rows],
               [r["convergence_class"] for r in rows], [r["identified"] for r in rows])
    return train(X, y, config.search["triage_recall"], seed=config.seed)


def run_pcf_evolution(config: CampaignConfig, db: Path, progress: bool, scheduler: str | None = None,
                      plots: bool = True) -> CampaignResult:
    """Evolve PCFs within the campaign's space until its budget is spent, then cluster and finish."""
    from tqdm import tqdm

    from discovery.campaign.runner import _close_campaign, make_executor, read_stored_constants
    from discovery.evolution import NSGA2, decode_plain, encode_plain
    from discovery.pcf.genome import GenomeSpace
    from discovery.store import FormulaStore

    start = time.time()
    search = config.search
    space = GenomeSpace.from_config(config.space)
    folder = run_folder(db, config.name)
    folder.mkdir(parents=True, exist_ok=True)
    store = FormulaStore(db)
    executor = None
    try:
        cid = store.start_campaign(config.name, "pcf", config.stored(), config.digest(),
                                   search["generations"] + 1 if search["generations"] else 0)
        read_stored_constants(store)
        written = []
        if store.campaign(config.name)["finished"] is None:
            executor = make_executor(config, scheduler, progress)
            centroids = np.array(store.cluster_centroids(exclude=cid), dtype=float).reshape(-1, 3)
            evaluator = _Evaluator(config, space, store, cid, executor, centroids)
            screen = _Screen(config, space, store, cid) if search["triage"] != "off" else None
            engine = NSGA2(evaluator, space.mutate, space.key, population_size=search["population"],
                           seed=config.seed, checkpoint=folder / "evolution.json", checkpoint_every=1,
                           encode=encode_plain, decode=decode_plain, crossover=space.crossover, crossover_rate=0.5,
                           screen=screen,
                           offspring=search["offspring"], known=evaluator.met.__contains__,
                           niche=space.a_part, niche_cap=2)
            evaluator.engine = engine
            if screen is not None:
                screen.engine = engine
            rng = np.random.default_rng(config.seed)
            state = engine.start([space.random(rng) for _ in range(search["population"])])
            if not evaluator.met:
                evaluator.resume(state.generation)
            spent = state.extra.get("seconds", 0.0)
            budget = search["minutes"] * 60 if search["minutes"] is not None else math.inf
            generations = search["generations"]
            bar = tqdm(total=generations, initial=state.generation, unit="gen", disable=not progress,
                       desc=f"{config.name}: evolving")
            resumed_at = time.time()

            def tick(st):
                st.extra["seconds"] = spent + time.time() - resumed_at
                bar.update(1)
                bar.set_postfix(evaluations=st.evaluations, identified=evaluator.found)
                return st.extra["seconds"] >= budget

            left = None if generations is None else max(0, generations - state.generation)
            if left != 0 and spent < budget:
                engine.run([], generations=left, seconds=max(0.0, budget - spent), callback=tick)
            bar.close()
            executor.close()
            executor = None
            written = _close_campaign(store, cid, config, db, progress, plots)
        status = store.status(cid)
        return CampaignResult(config.name, cid, status["candidates"], status["converged"], status["formulas"],
                              status["clusters"], status["identified"], time.time() - start, True, written,
                              measured=status["measured"], dropped=status["dropped"])
    finally:
        if executor is not None:
            executor.close(cancel=True)
        store.close()
