"""CMF campaigns with ``[search] strategy = "cmf"`` and ``mode = "evolve"``: NSGA-II over the
trajectories of a shipped conservative matrix field, through the same pipeline and into the same
database as every other PCF campaign.

**Genome.**  A trajectory (direction t, start s) of the ``[space] cmf`` field: t a primitive
non-zero vector of Z^d with components in [-``max_step``, ``max_step``], s in
[1, ``max_start``]^d (the box of the enumerating ``cmf`` strategy).  A mutation moves one
coordinate of t or of s by one, or now and then jumps (a new start, or a new trajectory); a
crossover takes the direction of one parent and the start of the other.  Trajectories on one line
(s and s + k t, both in the box) are tails of one fraction and count as one genome.

**Evaluation.**  Each generation is a work unit in two rounds on the campaign's executor: the
trajectories are converted to PCFs (:func:`discovery.cmf.trajectory_pcf`, sympy: the costly part),
then the distinct usable PCFs (:func:`~discovery.campaign.cmf_pipeline.usable_pcf`: not
terminating, within the degrees and coefficients a campaign's space may hold) go through
:func:`~discovery.campaign.cmf_pipeline.cmf_batch_result` (float filter, Möbius-table
identification, then LLL against the field's constant, each confirmed with exact convergents;
exact metrics), and the results and the unit's done mark are stored in one
transaction before the checkpoint (``evolution.json`` in the run folder) moves past the
generation.  A rerun resumes from the checkpoint and ends with the database of an uninterrupted run.

**Objectives** (``[search] objectives``, each minimised; a trajectory with no usable converging
PCF scores :data:`~discovery.campaign.evolve.PENALTY` on all of them):

- ``delta``: minus the FR δ of the trajectory's PCF (the pipeline's metric at ``sample``);
- ``factorial_reduction``: minus the share of q_n's digits that gcd(p_n, q_n) removes;
- ``convergence``: log10 of the fitted error at ``sample`` divided by ``sample`` (minus the digits
  gained per term);
- ``novelty``: 0 when the PCF's equivalence class (:func:`discovery.pcf.equivalence.equivalence_key`)
  is neither in the shipped literature nor met by this campaign in an earlier generation, else 1;
- ``size``: the sum of log10(1 + |c|) over the PCF's coefficients (about its digits: degree and
  magnitude together).

The checkpoint's ``extra`` keeps the trajectories tried (so a resumed search proposes the same
children; mutations avoid them) and, for every distinct PCF, the first trajectory that gave it (``trajectories``:
``[direction, start, a, b]``).  A generation in which every child would repeat a trajectory already
tried ends the search (the box is all but exhausted).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from discovery.campaign.cmf_pipeline import cmf_batch_result, usable_pcf
from discovery.campaign.config import PcfConfig
from discovery.campaign.evolve import PENALTY, objective_matrix
from discovery.campaign.progress import TimeBudget, progress_bar
from discovery.campaign.strategy import CampaignRun, EvolvingStrategy
from discovery.checkpoints import decode_plain, encode_plain
from discovery.evolution import NSGA2
from discovery.pcf.equivalence import equivalence_key
from discovery.pcf.formula import PCF, to_arrays
from discovery.records import UnitResult

# Share of mutations that jump (a new start, or a new trajectory) rather than step by one.
_JUMP = 0.2
# Draws of a move (or of a random trajectory) before giving up on finding one not yet tried.
_ATTEMPTS = 100


@dataclass(frozen=True)
class TrajectorySpace:
    """The trajectories (direction, start) of a ``cmf`` campaign's box, as genomes.

    Parameters
    ----------
    dim : int
        The field's dimension d.
    max_step : int
        Largest |component| of a direction.
    max_start : int
        Starts lie in [1, max_start]^d.
    """

    dim: int
    max_step: int
    max_start: int

    @classmethod
    def from_config(cls, space: dict) -> TrajectorySpace:
        """The genome space of a validated ``[space]`` table of a ``cmf`` campaign."""
        from discovery.cmf import known_cmf

        return cls(known_cmf(space["cmf"]).dim, space["max_step"], space["max_start"])

    def valid(self, genome) -> bool:
        """Whether a genome is a trajectory of the box (primitive non-zero direction, start inside)."""
        t, s = genome
        return (len(t) == len(s) == self.dim and any(t) and math.gcd(*t) == 1
                and all(abs(c) <= self.max_step for c in t) and all(1 <= c <= self.max_start for c in s))

    def random(self, rng: np.random.Generator):
        """A uniformly drawn primitive direction and start."""
        while True:
            t = tuple(int(c) for c in rng.integers(-self.max_step, self.max_step + 1, size=self.dim))
            if any(t) and math.gcd(*t) == 1:
                break
        return t, tuple(int(c) for c in rng.integers(1, self.max_start + 1, size=self.dim))

    def mutate(self, genome, rng: np.random.Generator, tried=None):
        """A local move (one coordinate of the direction or the start moved by one, equally likely)
        or, with probability :data:`_JUMP`, a jump (a new start for the same direction, or a new
        trajectory).  A move that leaves the box or makes the direction zero or non-primitive is
        drawn again.

        ``tried(key) -> bool`` names trajectories already evaluated: moves onto them are drawn
        again too, then random trajectories, so the search stops proposing new ones only when the
        box is all but exhausted (not when the population's neighbourhoods are).
        """
        for _ in range(_ATTEMPTS):
            child = self._move(genome, rng)
            if tried is None or not tried(self.key(child)):
                return child
        for _ in range(_ATTEMPTS):
            child = self.random(rng)
            if not tried(self.key(child)):
                return child
        return child

    def _move(self, genome, rng: np.random.Generator):
        if rng.random() < _JUMP:
            if rng.random() < 0.5:
                return self.random(rng)
            return genome[0], tuple(int(c) for c in rng.integers(1, self.max_start + 1, size=self.dim))
        t, s = genome
        for _ in range(_ATTEMPTS):
            i = int(rng.integers(self.dim))
            nt, ns = list(t), list(s)
            if rng.random() < 0.5:
                nt[i] += 1 if rng.random() < 0.5 else -1
            else:
                ns[i] += 1 if rng.random() < 0.5 else -1
            child = (tuple(nt), tuple(ns))
            if self.valid(child):
                return child
        return self.random(rng)

    def crossover(self, first, second, rng: np.random.Generator):
        """The direction of one parent with the start of the other."""
        return (first[0], second[1]) if rng.random() < 0.5 else (second[0], first[1])

    def key(self, genome):
        """The genome with its start moved back along its line to the first point in the box:
        trajectories s and s + k t give tails of one fraction."""
        t, s = genome
        steps = [((c - 1) // d if d > 0 else (self.max_start - c) // -d) for c, d in zip(s, t) if d]
        k = min(steps)
        return tuple(t), tuple(c - k * d for c, d in zip(s, t))


@dataclass(frozen=True)
class _Convert:
    """Picklable call converting a chunk of trajectories to their PCFs (plain lists travel back)."""

    cmf: str

    def __call__(self, item):
        from discovery.cmf import known_cmf

        index, genomes = item
        field = known_cmf(self.cmf)
        out = []
        for g in genomes:
            pcf = usable_pcf(field, g[0], g[1])
            out.append(None if pcf is None else (list(pcf.a), list(pcf.b)))
        return index, out


@dataclass(frozen=True)
class _Batch:
    """Picklable call of :func:`~discovery.campaign.cmf_pipeline.cmf_batch_result` on an (A, B) chunk."""

    config: PcfConfig

    def __call__(self, item) -> tuple[int, UnitResult]:
        index, A, B = item
        return index, cmf_batch_result(A, B, self.config)


def _bounds(count: int, workers: int) -> list[int]:
    """Chunk boundaries: two chunks per worker, so a slow chunk does not hold the others up."""
    return [int(v) for v in np.linspace(0, count, min(count, 2 * workers) + 1).astype(int)]


def _chunks(items: list, workers: int) -> list[tuple[int, list]]:
    bounds = _bounds(len(items), workers)
    return [(k, items[lo:hi]) for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))]


def pcf_size(a, b) -> float:
    """The ``size`` objective: sum of log10(1 + |c|) over the coefficients."""
    return float(sum(math.log10(1 + abs(c)) for c in (*a, *b)))


class _Evaluator:
    """The engine's ``evaluate``: conversion and pipeline on the executor, one stored unit per
    generation; remembers what was tried and which equivalence classes were met."""

    def __init__(self, config: PcfConfig, store, cid: int, executor, literature: set[str]):
        self.config, self.store, self.cid, self.executor = config, store, cid, executor
        self.workers = max(1, getattr(executor, "workers", 1))
        self.literature = literature
        self.engine = None
        self.space: TrajectorySpace | None = None
        self.tried: list = []
        self.tried_keys: set = set()
        self.classes: set[str] = set()
        self.trajectories: list[list] = []
        self.met_pcfs: set = set()
        self.found = 0
        self.last_unit = -1

    def resume(self, initial: list, extra: dict, generation: int) -> None:
        """Restore what an uninterrupted run knew after ``generation``: the trajectories tried
        (the initial population and the checkpoint's list), the PCFs met (the checkpoint's) and
        the classes this campaign stored in units up to it."""
        for g in [*initial, *extra.get("tried", [])]:
            self._remember(tuple(map(tuple, g)))
        for t in extra.get("trajectories", []):
            self._met(t)
        for row in self.store.labelled(self.cid, all_stored=True, units=(None, generation)):
            g = json.loads(row["genome"])
            self.classes.add(equivalence_key(PCF(g["a"], g["b"])))
        self.last_unit = generation

    def _remember(self, genome) -> None:
        k = self.space.key(genome)
        if k not in self.tried_keys:
            self.tried_keys.add(k)
            self.tried.append(genome)

    def _met(self, trajectory: list) -> None:
        """Note the first trajectory [direction, start, a, b] that gave a PCF."""
        key = (tuple(trajectory[2]), tuple(trajectory[3]))
        if key not in self.met_pcfs:
            self.met_pcfs.add(key)
            self.trajectories.append(trajectory)

    def extra(self) -> dict:
        """What the checkpoint keeps (see the module docstring)."""
        return {"tried": [list(map(list, g)) for g in self.tried], "trajectories": list(self.trajectories)}

    def __call__(self, genomes: list) -> np.ndarray:
        unit = 0 if self.engine.state is None else self.engine.state.generation + 1
        converted = dict(self.executor.map_unordered(_Convert(self.config.space["cmf"]),
                                                     _chunks(genomes, self.workers)))
        pcfs = [p for k in range(len(converted)) for p in converted[k]]
        rows, distinct = [], {}
        for g, p in zip(genomes, pcfs):
            self._remember(g)
            if p is None:
                rows.append(None)
                continue
            key = (tuple(p[0]), tuple(p[1]))
            if key not in distinct:
                distinct[key] = len(distinct)
                self._met([list(g[0]), list(g[1]), p[0], p[1]])
            rows.append(distinct[key])
        F = np.full((len(genomes), len(self.config.search["objectives"])), PENALTY)
        if distinct:
            result, F_pcf = self._pipeline([PCF(a, b) for a, b in distinct], unit)
            for i, r in enumerate(rows):
                if r is not None:
                    F[i] = F_pcf[r]
        else:
            result = UnitResult(0, 0, unit=unit)
        result.write(self.store, self.cid, unit)
        self.last_unit = unit
        self.found += result.identified
        return F

    def _pipeline(self, pcfs: list[PCF], unit: int) -> tuple[UnitResult, np.ndarray]:
        A, B = to_arrays(pcfs)
        bounds = _bounds(len(A), self.workers)
        chunks = [(k, A[lo:hi], B[lo:hi]) for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:]))]
        parts = dict(self.executor.map_unordered(_Batch(self.config), chunks))
        result = UnitResult.merged([parts[k] for k in range(len(chunks))], bounds[:-1], unit)
        names = self.config.search["objectives"]
        F = objective_matrix(names, A, B, list(result.pcfs), None, None, self.config.search["sample"])
        measured = {rec.row for rec in result.pcfs}
        keys = [equivalence_key(p) for p in pcfs]
        for j, name in enumerate(names):
            if name == "size":
                F[:, j] = [pcf_size(p.a, p.b) for p in pcfs]
            elif name == "novelty":
                F[:, j] = [0.0 if k not in self.classes and k not in self.literature else 1.0 for k in keys]
        F[[r for r in range(len(pcfs)) if r not in measured]] = PENALTY
        # Classes met in this generation count as met from the next one on.
        self.classes.update(keys[rec.row] for rec in result.pcfs)
        return result, F


def literature_classes() -> set[str]:
    """Equivalence keys of the shipped literature (formulas and family members)."""
    from discovery.novelty import shipped_literature

    lit = shipped_literature()
    return set(lit.formulas) | set(lit.families)


class CmfEvolve(EvolvingStrategy):
    """``[search] strategy = "cmf"``, ``mode = "evolve"``: NSGA-II over the trajectories of a
    CMF until the budget (minutes or generations) is spent or the box is exhausted; then clusters,
    representatives, families."""

    def run(self, run: CampaignRun) -> bool:
        config, store, cid, search = run.config, run.store, run.campaign_id, run.config.search
        if store.campaign(config.name)["finished"] is not None:
            return True
        space = TrajectorySpace.from_config(config.space)
        evaluator = _Evaluator(config, store, cid, run.executor(), literature_classes())
        evaluator.space = space
        tried = evaluator.tried_keys.__contains__

        def mutate(genome, rng):
            return space.mutate(genome, rng, tried)

        engine = NSGA2(evaluator, mutate, space.key, population_size=search["population"],
                       seed=config.seed, checkpoint=run.folder / "evolution.json", checkpoint_every=1,
                       encode=encode_plain, decode=decode_plain, crossover=space.crossover, crossover_rate=0.3,
                       known=tried)
        evaluator.engine = engine
        capped = run.units_cap()  # counted before the initial population is stored
        rng = np.random.default_rng(config.seed)
        initial = [space.random(rng) for _ in range(search["population"])]
        state = engine.start(initial)
        if evaluator.last_unit < 0:
            evaluator.resume(initial, state.extra, state.generation)
        budget = TimeBudget(search["minutes"], state.extra.get("seconds", 0.0))
        generations = search["generations"]

        def spent(st) -> bool:
            return bool(st.extra.get("exhausted") or budget.exhausted(st.extra.get("seconds", budget.before))
                        or (generations is not None and st.generation >= generations))

        if spent(state) or capped():
            return spent(state)
        with progress_bar(config.name, "evolving", generations, "gen", run.progress, initial=state.generation) as bar:

            def tick(st):
                exhausted = evaluator.last_unit != st.generation
                if exhausted:  # no child was new: store the empty generation so its unit is done
                    UnitResult(0, 0, unit=st.generation).write(store, cid, st.generation)
                    st.extra["exhausted"] = True
                st.extra.update(evaluator.extra(), seconds=budget.spent())
                bar.update(1)
                bar.set_postfix(evaluations=st.evaluations, identified=evaluator.found)
                return exhausted or budget.exhausted(st.extra["seconds"]) or capped()

            left = None if generations is None else max(0, generations - state.generation)
            engine.run([], generations=left, seconds=budget.left(), callback=tick)
        # Stopped by --max-units with budget left: not complete, a rerun goes on.
        return spent(engine.state) or not capped()
