"""Genome-agnostic multi-objective evolution (NSGA-II) with a Pareto archive and checkpoints.

The loop knows nothing of what it evolves: it is given functions that evaluate a batch of
genomes into an objective matrix (every objective minimised), mutate a genome, and key a genome
for de-duplication.  Program search (:mod:`discovery.programs.search`) plugs in straight-line
programs; a PCF genome plugs in the same way.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np


def non_dominated_fronts(F: np.ndarray) -> list[np.ndarray]:
    """Indices of the successive non-dominated fronts of objective rows F (minimisation)."""
    n = len(F)
    le = (F[:, None, :] <= F[None, :, :]).all(axis=2)
    lt = (F[:, None, :] < F[None, :, :]).any(axis=2)
    dominates = le & lt  # dominates[i, j]: i dominates j
    count = dominates.sum(axis=0)
    fronts = []
    current = np.nonzero(count == 0)[0]
    assigned = np.zeros(n, dtype=bool)
    while current.size:
        fronts.append(current)
        assigned[current] = True
        count = count - dominates[current].sum(axis=0)
        current = np.nonzero((count == 0) & ~assigned)[0]
    return fronts


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of each row within its front (ends are infinite)."""
    n, k = F.shape
    dist = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(k):
        order = np.argsort(F[:, j], kind="stable")
        span = F[order[-1], j] - F[order[0], j]
        dist[order[0]] = dist[order[-1]] = np.inf
        if span > 0 and np.isfinite(span):
            dist[order[1:-1]] += (F[order[2:], j] - F[order[:-2], j]) / span
    return dist


@dataclass
class EvolutionState:
    """Everything needed to resume a run (what checkpoints hold)."""

    population: list
    objectives: np.ndarray
    generation: int = 0
    evaluations: int = 0
    rng_state: dict = field(default_factory=dict)
    archive: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


class NSGA2:
    """NSGA-II over arbitrary genomes.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(genomes) -> ndarray (len(genomes), n_objectives)``, lower is better.  It may
        replace items of the list it is given by improved genomes (local search, as constant
        tuning does); the replacements are kept.
    mutate : callable
        ``mutate(genome, rng) -> genome``.
    key : callable
        ``key(genome) -> hashable``; genomes with equal keys count once.
    archive_key : callable, optional
        ``archive_key(objectives_row) -> hashable`` bucket of the archive (for programs: the
        operation count); the archive keeps the genome with the smallest first objective per
        bucket.
    population_size : int
    seed : int
    checkpoint : path, optional
        Pickle the state there every ``checkpoint_every`` generations; a run given an existing
        checkpoint resumes from it.
    """

    def __init__(
        self,
        evaluate: Callable[[list], np.ndarray],
        mutate: Callable[[Any, np.random.Generator], Any],
        key: Callable[[Any], Any],
        archive_key: Callable[[np.ndarray], Any] | None = None,
        population_size: int = 200,
        seed: int = 0,
        checkpoint: str | Path | None = None,
        checkpoint_every: int = 10,
    ):
        if population_size < 4:
            raise ValueError(f"population_size must be at least 4, got {population_size}")
        self.evaluate = evaluate
        self.mutate = mutate
        self.key = key
        self.archive_key = archive_key
        self.population_size = population_size
        self.seed = seed
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.checkpoint_every = checkpoint_every
        self.rng = np.random.default_rng(seed)
        self.state: EvolutionState | None = None

    # --- state ---------------------------------------------------------------------------
    def _save(self) -> None:
        if self.checkpoint is None or self.state is None:
            return
        self.state.rng_state = self.rng.bit_generator.state
        tmp = self.checkpoint.with_suffix(self.checkpoint.suffix + ".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(self.state, fh)
        tmp.replace(self.checkpoint)  # atomic: a crash leaves the previous checkpoint intact

    def _load(self) -> bool:
        if self.checkpoint is None or not self.checkpoint.exists():
            return False
        with open(self.checkpoint, "rb") as fh:
            self.state = pickle.load(fh)
        self.rng.bit_generator.state = self.state.rng_state
        return True

    def _update_archive(self, genomes: Sequence, F: np.ndarray) -> None:
        if self.archive_key is None:
            return
        for g, f in zip(genomes, F):
            if not np.isfinite(f[0]):
                continue
            bucket = self.archive_key(f)
            best = self.state.archive.get(bucket)
            if best is None or f[0] < best[1][0]:
                self.state.archive[bucket] = (g, np.array(f))

    # --- the loop ------------------------------------------------------------------------
    def _select(self, genomes: list, F: np.ndarray, size: int) -> tuple[list, np.ndarray]:
        chosen: list[int] = []
        for front in non_dominated_fronts(F):
            if len(chosen) + len(front) <= size:
                chosen.extend(front.tolist())
                continue
            crowd = crowding_distance(F[front])
            order = np.argsort(-crowd, kind="stable")
            chosen.extend(front[order[: size - len(chosen)]].tolist())
            break
        return [genomes[i] for i in chosen], F[chosen]

    def _tournament(self, ranks: np.ndarray, crowd: np.ndarray) -> int:
        i, j = self.rng.integers(len(ranks), size=2)
        if ranks[i] != ranks[j]:
            return int(i if ranks[i] < ranks[j] else j)
        return int(i if crowd[i] >= crowd[j] else j)

    def start(self, initial: Sequence) -> EvolutionState:
        """Evaluate the initial genomes (or resume from the checkpoint)."""
        if self._load():
            return self.state
        seen, genomes = set(), []
        for g in initial:
            k = self.key(g)
            if k not in seen:
                seen.add(k)
                genomes.append(g)
        F = np.asarray(self.evaluate(genomes), dtype=float)
        self.state = EvolutionState([], np.empty((0, F.shape[1])), evaluations=len(genomes))
        self._update_archive(genomes, F)
        pop, PF = self._select(genomes, F, self.population_size)
        self.state.population, self.state.objectives = pop, PF
        self._save()
        return self.state

    def step(self) -> EvolutionState:
        """One generation: tournament selection, mutation, evaluation, environmental selection."""
        st = self.state
        ranks = np.empty(len(st.population), dtype=int)
        crowd = np.empty(len(st.population))
        for r, front in enumerate(non_dominated_fronts(st.objectives)):
            ranks[front] = r
            crowd[front] = crowding_distance(st.objectives[front])
        seen = {self.key(g) for g in st.population}
        children = []
        attempts = 0
        while len(children) < self.population_size and attempts < 20 * self.population_size:
            attempts += 1
            parent = st.population[self._tournament(ranks, crowd)]
            child = self.mutate(parent, self.rng)
            k = self.key(child)
            if k in seen:
                continue
            seen.add(k)
            children.append(child)
        if children:
            CF = np.asarray(self.evaluate(children), dtype=float)
            st.evaluations += len(children)
            self._update_archive(children, CF)
            genomes = st.population + children
            F = np.vstack([st.objectives, CF])
            st.population, st.objectives = self._select(genomes, F, self.population_size)
        st.generation += 1
        if self.checkpoint and st.generation % self.checkpoint_every == 0:
            self._save()
        return st

    def run(
        self,
        initial: Sequence,
        generations: int | None = None,
        seconds: float | None = None,
        callback: Callable[[EvolutionState], bool | None] | None = None,
    ) -> EvolutionState:
        """Evolve until ``generations`` or ``seconds`` run out (at least one must be given).

        ``callback(state)`` runs after every generation; returning True stops the run.
        """
        if generations is None and seconds is None:
            raise ValueError("give generations or seconds")
        self.start(initial)
        deadline = time.time() + seconds if seconds is not None else None
        done = 0
        while (generations is None or done < generations) and (deadline is None or time.time() < deadline):
            self.step()
            done += 1
            if callback is not None and callback(self.state):
                break
        self._save()
        return self.state
