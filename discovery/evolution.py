"""Genome-agnostic multi-objective evolution (NSGA-II) with a Pareto archive and checkpoints.

The loop knows nothing of what it evolves: it is given functions that evaluate a batch of
genomes into an objective matrix (every objective minimised), mutate a genome, and key a genome
for de-duplication.  Program search (:mod:`discovery.programs.search`) plugs in straight-line
programs; a PCF genome plugs in the same way.  A caller that evaluates genomes of its own (a
tuned front, structural neighbours) adds them through :meth:`NSGA2.join`.

Children can be made and evaluated elsewhere (worker processes) by a :class:`Pipeline`: the
engine asks for numbered children of a generation, and child ``i`` of generation ``g`` is made by
:func:`make_child` from the random stream :func:`child_rng` ``(seed, g, i)`` alone, so a search
gives the same result however the numbers are split between workers (:func:`breed_children` is
that worker-side loop).  Such a run is pipelined: the children of generation g + 3 are bred from
the population after g while those of g + 2 are bred and those of g + 1 evaluated, so the workers
always have work queued while the engine selects and screens (:data:`BRED_AHEAD`).

The run's state and its strict-JSON checkpoints live in :mod:`discovery.checkpoints`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from discovery.checkpoints import (
    EvolutionState, decode_plain, encode_plain, load_checkpoint, save_checkpoint, state_from_json, state_to_json,
)


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


@dataclass(frozen=True)
class Parents:
    """What a generation's children are made from: the population with its NSGA-II ranks
    (front numbers) and crowding distances, and the keys a child must not repeat (the
    population's, and those of children still being evaluated).  Picklable when the genomes are:
    it travels to the workers that breed."""

    population: list
    ranks: np.ndarray
    crowd: np.ndarray
    keys: frozenset = frozenset()


def _tournament(rng: np.random.Generator, ranks: np.ndarray, crowd: np.ndarray) -> int:
    i, j = rng.integers(len(ranks), size=2)
    if ranks[i] != ranks[j]:
        return int(i if ranks[i] < ranks[j] else j)
    return int(i if crowd[i] >= crowd[j] else j)


def child_rng(seed: int, generation: int, number: int) -> np.random.Generator:
    """The random stream of child ``number`` of ``generation`` in a search seeded with ``seed``.

    Raises
    ------
    ValueError
        If a part is negative (``SeedSequence`` takes non-negative integers).
    """
    if min(seed, generation, number) < 0:
        raise ValueError(f"child_rng needs non-negative seed, generation and number, got "
                         f"({seed}, {generation}, {number})")
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(generation), int(number)]))


def make_child(parents: Parents, rng: np.random.Generator, mutate: Callable, crossover: Callable | None = None,
               crossover_rate: float = 0.3):
    """One child: a binary tournament picks a parent (by rank, then crowding), which is mutated,
    or with probability ``crossover_rate`` (when ``crossover`` is given) crossed with the winner
    of a second tournament."""
    parent = parents.population[_tournament(rng, parents.ranks, parents.crowd)]
    if crossover is not None and rng.random() < crossover_rate:
        return crossover(parent, parents.population[_tournament(rng, parents.ranks, parents.crowd)], rng)
    return mutate(parent, rng)


def breed_children(parents: Parents, seed: int, generation: int, first: int, count: int, mutate: Callable,
                   key: Callable, crossover: Callable | None = None, crossover_rate: float = 0.3) -> list[tuple]:
    """Children ``first`` to ``first + count - 1`` of a generation with their keys, each from its
    own :func:`child_rng` stream: the worker side of :class:`NSGA2`'s ``breed``.

    Returns
    -------
    list of (genome, key)
        In child-number order.
    """
    out = []
    for number in range(first, first + count):
        child = make_child(parents, child_rng(seed, generation, number), mutate, crossover, crossover_rate)
        out.append((child, key(child)))
    return out


class Pending(Protocol):
    """A value being computed elsewhere: ``result()`` waits for it."""

    def result(self) -> Any: ...


class Ready:
    """A :class:`Pending` value computed already."""

    def __init__(self, value: Any):
        self.value = value

    def result(self) -> Any:
        return self.value


class Pipeline(Protocol):
    """Where a pipelined :class:`NSGA2` breeds and evaluates (worker processes, say).

    ``breed(parents, generation, first, count)`` returns, pending, children ``first`` to
    ``first + count - 1`` of a generation as ``[(genome, key), ...]``, child ``i`` made as
    :func:`breed_children` makes it (from :func:`child_rng` ``(seed, generation, i)`` and the
    :class:`Parents` alone).  ``evaluate(genomes, generation)`` returns, pending, their objective
    rows (lower is better) as generation ``generation``'s evaluation; its results are asked for
    in the order the evaluations were started.
    """

    def breed(self, parents: Parents, generation: int, first: int, count: int) -> Pending: ...

    def evaluate(self, genomes: list, generation: int) -> Pending: ...


# Breeding requests a pipelined search keeps in flight beside an evaluation: generation g's
# children are bred from the population after generation g - 1 - BRED_AHEAD.  With one, the
# workers ran dry while the driver screened (a FIFO queue held nothing behind the request it waited
# for), and 2 workers ran 1.54x as fast as 1.
BRED_AHEAD = 2


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
        Save the state there (:func:`save_checkpoint`) when the initial population is evaluated,
        every ``checkpoint_every`` generations of :meth:`run` (after the callback, so what it
        changes is kept) and at the end of a run; an engine given an existing checkpoint resumes
        from it.
    checkpoint_every : int
    encode, decode : callable, optional
        ``encode(genome) -> JSON data`` and its inverse, for the checkpoint; by default
        :func:`encode_plain` and :func:`decode_plain` (genomes of numbers, strings, tuples, lists).
    crossover : callable, optional
        ``crossover(first, second, rng) -> genome``; used for a share ``crossover_rate`` of the
        children, with two parents from two tournaments.
    crossover_rate : float
    screen : callable, optional
        Surrogate screening: ``screen(children, generation) -> order``, indices of the children
        best first (``generation`` is the one they are evaluated in).  Each generation then
        proposes ``offspring`` children per place in the population and evaluates only the
        ``population_size`` the screen puts first.
    offspring : int
        Children proposed per place when ``screen`` is given.
    known : callable, optional
        ``known(key) -> bool``: genomes already evaluated (by this search or stored elsewhere),
        which a generation does not propose again.
    niche : callable, optional
        ``niche(genome) -> hashable``; environmental selection keeps at most ``niche_cap``
        genomes of a niche while others wait (they fill the population only when nothing else
        is left), so one good structure and its trivial variants cannot take the whole
        population.
    niche_cap : int
    pipeline : Pipeline, optional
        Children bred and evaluated elsewhere, pipelined (see the module docstring): generation
        g's children are bred from the population after generation g - 1 - :data:`BRED_AHEAD`
        while the generations before are bred and evaluated.  The engine takes new keys in
        child-number order, asking for more numbers until it has its children (at most 20 numbers
        per child wanted), exactly as one sequential loop would, so the caller may split the
        numbers between workers.  Without it children are drawn here from the engine's own
        random generator, one generation at a time, and evaluated by ``evaluate``, which a
        pipelined engine uses only for the initial population and immigrants.
    save : callable, optional
        ``save(text)`` writes the checkpoint's text (:meth:`to_json`) to ``checkpoint`` in place
        of the engine (a caller that writes it later, in order with its own writes).
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
        encode: Callable[[Any], Any] = encode_plain,
        decode: Callable[[Any], Any] = decode_plain,
        crossover: Callable[[Any, Any, np.random.Generator], Any] | None = None,
        crossover_rate: float = 0.3,
        screen: Callable[[list], Sequence[int]] | None = None,
        offspring: int = 4,
        known: Callable[[Any], bool] | None = None,
        niche: Callable[[Any], Any] | None = None,
        niche_cap: int = 2,
        pipeline: Pipeline | None = None,
        save: Callable[[str], None] | None = None,
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
        self.encode, self.decode = encode, decode
        self.crossover, self.crossover_rate = crossover, crossover_rate
        self.screen, self.offspring = screen, max(1, int(offspring))
        self.known = known
        self.niche, self.niche_cap = niche, niche_cap
        self.pipeline = pipeline
        self.save = save
        self._new_share = 1.0  # of the children last bred, the share taken (sizes the requests)
        self.rng = np.random.default_rng(seed)
        self.state: EvolutionState | None = None

    # --- state ---------------------------------------------------------------------------
    def _save(self) -> None:
        if self.checkpoint is None or self.state is None:
            return
        if self.save is not None:
            self.save(self.to_json())
            return
        self.state.rng_state = self.rng.bit_generator.state
        save_checkpoint(self.checkpoint, self.state, self.encode)

    def _load(self) -> bool:
        if self.checkpoint is None or not self.checkpoint.exists():
            return False
        self.state = load_checkpoint(self.checkpoint, self.decode)
        self.rng.bit_generator.state = self.state.rng_state
        return True

    def to_json(self) -> str:
        """The engine's state, random generator included, as strict JSON (see :func:`state_to_json`)."""
        self.state.rng_state = self.rng.bit_generator.state
        return state_to_json(self.state, self.encode)

    def resume_from(self, text: str) -> EvolutionState:
        """Continue from a state written by :meth:`to_json` (an island's, moved between workers).

        Raises
        ------
        CheckpointError
            When the text is not such a state.
        """
        self.state = state_from_json(text, self.decode, "island state")
        self.rng.bit_generator.state = self.state.rng_state
        return self.state

    def immigrate(self, genomes: Sequence) -> int:
        """Add genomes from elsewhere (another island's best): they are evaluated, archived, and
        stay in the population if environmental selection keeps them.  Returns how many were new."""
        st = self.state
        seen = {self.key(g) for g in st.population}
        new = []
        for g in genomes:
            k = self.key(g)
            if k not in seen:
                seen.add(k)
                new.append(g)
        if new:
            self._absorb(new)
        return len(new)

    def _absorb(self, genomes: list) -> None:
        """Evaluate new genomes (``evaluate`` may replace them in the list, e.g. by tuned ones),
        archive them, and keep the best of the population and them."""
        F = np.asarray(self.evaluate(genomes), dtype=float)
        self.state.evaluations += len(genomes)
        self.join(genomes, F)

    def join(self, genomes: list, F: np.ndarray) -> None:
        """Genomes evaluated by the caller join the archive and compete with the population for
        its places (environmental selection, niches included).

        The hook for a caller that evaluates genomes of its own between generations (a tuned
        front, structural neighbours); it does not count evaluations (``state.evaluations`` is
        the caller's to update).

        Parameters
        ----------
        genomes : list
            New genomes (not checked against the population's keys).
        F : ndarray (len(genomes), n_objectives)
            Their objective rows.
        """
        st = self.state
        self._update_archive(genomes, F)
        st.population, st.objectives = self._select(st.population + genomes, np.vstack([st.objectives, F]),
                                                    self.population_size)

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
        if self.niche is not None:
            return self._select_niched(genomes, F, size)
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

    def _select_niched(self, genomes: list, F: np.ndarray, size: int) -> tuple[list, np.ndarray]:
        chosen, waiting, count = [], [], {}
        for front in non_dominated_fronts(F):
            for i in front[np.argsort(-crowding_distance(F[front]), kind="stable")].tolist():
                n = self.niche(genomes[i])
                if count.get(n, 0) < self.niche_cap:
                    count[n] = count.get(n, 0) + 1
                    chosen.append(i)
                else:
                    waiting.append(i)
                if len(chosen) == size:
                    return [genomes[i] for i in chosen], F[chosen]
        chosen += waiting[: size - len(chosen)]
        return [genomes[i] for i in chosen], F[chosen]

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

    def _is_new(self, k, seen: set) -> bool:
        if k in seen or (self.known is not None and self.known(k)):
            return False
        seen.add(k)
        return True

    def _children_here(self, st: EvolutionState, ranks: np.ndarray, crowd: np.ndarray, seen: set,
                       wanted: int) -> list:
        parents = Parents(st.population, ranks, crowd)
        children = []
        attempts = 0
        while len(children) < wanted and attempts < 20 * wanted:
            attempts += 1
            child = make_child(parents, self.rng, self.mutate, self.crossover, self.crossover_rate)
            if self._is_new(self.key(child), seen):
                children.append(child)
        return children

    def _parents(self, population: list, F: np.ndarray, unevaluated: Sequence = ()) -> Parents:
        """The population ranked for tournaments, with the keys children must not repeat."""
        ranks = np.empty(len(population), dtype=int)
        crowd = np.empty(len(population))
        for r, front in enumerate(non_dominated_fronts(F)):
            ranks[front] = r
            crowd[front] = crowding_distance(F[front])
        return Parents(population, ranks, crowd, frozenset(self.key(g) for g in [*population, *unevaluated]))

    def _wanted(self) -> int:
        return self.population_size * (self.offspring if self.screen is not None else 1)

    def _request(self, parents: Parents, generation: int, first: int, missing: int) -> tuple[int, Pending]:
        """Ask the pipeline for the children after ``first``: what is missing, scaled up by the
        share of new children of the last generation and a margin, so one request per generation
        is the rule.  The children taken are the same whatever the request sizes; only the work
        thrown away differs."""
        count = min(20 * self._wanted() - first, 8 + int(math.ceil(1.1 * missing / self._new_share)))
        return count, self.pipeline.breed(parents, generation, first, count)

    def _offspring(self, parents: Parents, generation: int, request: tuple[int, Pending],
                   evaluating: Sequence = ()) -> list:
        """A generation's children (bred from ``parents``, the first ``request`` sent), new keys
        taken in child-number order, then screened.  They repeat no genome of the population, of
        ``evaluating`` (children being evaluated) or of ``parents``."""
        wanted = self._wanted()
        seen = set(parents.keys) | {self.key(g) for g in [*self.state.population, *evaluating]}
        children: list = []
        asked = 0
        while True:
            for child, k in request[1].result():
                asked += 1
                if self._is_new(k, seen):
                    children.append(child)
                    if len(children) == wanted:
                        break
            if len(children) == wanted or asked >= 20 * wanted:
                break
            request = self._request(parents, generation, asked, wanted - len(children))
        self._new_share = max(0.05, len(children) / max(asked, 1))
        if self.screen is not None and len(children) > self.population_size:
            children = [children[i] for i in list(self.screen(children, generation + 1))[: self.population_size]]
        return children

    def step(self) -> EvolutionState:
        """One generation: tournament selection, mutation or crossover, (screening,) evaluation,
        environmental selection (an engine without a pipeline; a pipelined one steps in
        :meth:`run`)."""
        if self.pipeline is not None:
            raise ValueError("a pipelined NSGA2 runs its generations in run(), not step()")
        st = self.state
        parents = self._parents(st.population, st.objectives)
        seen = set(parents.keys)
        children = self._children_here(st, parents.ranks, parents.crowd, seen, self._wanted())
        if self.screen is not None and len(children) > self.population_size:
            children = [children[i] for i in list(self.screen(children, st.generation + 1))[: self.population_size]]
        if children:
            self._absorb(children)
        st.generation += 1
        return st

    def run(
        self,
        initial: Sequence,
        generations: int | None = None,
        seconds: float | None = None,
        callback: Callable[[EvolutionState], bool | None] | None = None,
    ) -> EvolutionState:
        """Evolve for ``generations`` more generations or ``seconds`` (at least one must be given).

        An engine not yet started starts from ``initial`` (or its checkpoint, see :meth:`start`).
        ``callback(state)`` runs after every generation; returning True stops the run.
        """
        if generations is None and seconds is None:
            raise ValueError("give generations or seconds")
        if self.state is None:
            self.start(initial)
        deadline = time.time() + seconds if seconds is not None else None
        if self.pipeline is not None:
            return self._run_pipelined(generations, deadline, callback)
        done = 0
        while (generations is None or done < generations) and (deadline is None or time.time() < deadline):
            self.step()
            done += 1
            if callback is not None and callback(self.state):
                break
            if self.state.generation % self.checkpoint_every == 0:
                self._save()
        self._save()
        return self.state

    def _run_pipelined(self, generations: int | None, deadline: float | None,
                       callback: Callable[[EvolutionState], bool | None] | None) -> EvolutionState:
        st = self.state

        def more(done: int) -> bool:
            return (generations is None or done < generations) and (deadline is None or time.time() < deadline)

        if not more(0):
            self._save()
            return st
        if st.pending is None:  # a search just started: its first generations are bred from it
            parents = self._parents(st.population, st.objectives)
            st.pending = self._offspring(parents, st.generation, self._request(parents, st.generation, 0,
                                                                                 self._wanted()))
            st.breeding = [(st.population, st.objectives, st.pending)] * BRED_AHEAD
        evaluation = self._evaluate(st.pending, st.generation + 1)
        requests = []
        for i, (population, F, avoid) in enumerate(st.breeding):
            parents = self._parents(population, F, avoid)
            requests.append((parents, self._request(parents, st.generation + 1 + i, 0, self._wanted())))
        done = 0
        while True:
            # The workers hold generation g + 1's evaluation and g + 2's and g + 3's breeding: while
            # g + 2's children are screened, and while g + 1's selection runs, they have work queued.
            parents, request = requests.pop(0)
            following = self._offspring(parents, st.generation + 1, request, st.pending)
            evaluating_next = self._evaluate(following, st.generation + 2)
            children, F = st.pending, evaluation.result()
            if children:
                st.evaluations += len(children)
                self.join(children, F)
            st.generation += 1
            st.pending = following
            done += 1
            parents = self._parents(st.population, st.objectives, following)
            requests.append((parents, self._request(parents, st.generation + BRED_AHEAD, 0, self._wanted())))
            st.breeding = st.breeding[1:] + [(st.population, st.objectives, following)]
            if (callback is not None and callback(st)) or not more(done):
                break
            if st.generation % self.checkpoint_every == 0:
                self._save()
            evaluation = evaluating_next
        self._save()
        return st

    def _evaluate(self, genomes: list, generation: int) -> Pending:
        if not genomes:  # nothing new to evaluate: no evaluation (and no unit) for the generation
            return Ready(np.empty((0, self.state.objectives.shape[1])))
        return self.pipeline.evaluate(genomes, generation)
