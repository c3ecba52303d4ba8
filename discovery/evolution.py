"""Genome-agnostic multi-objective evolution (NSGA-II) with a Pareto archive and checkpoints.

The loop knows nothing of what it evolves: it is given functions that evaluate a batch of
genomes into an objective matrix (every objective minimised), mutate a genome, and key a genome
for de-duplication.  Program search (:mod:`discovery.programs.search`) plugs in straight-line
programs; a PCF genome plugs in the same way.

Checkpoints are strict JSON (no NaN or Infinity literals) written atomically: a format name and
version, the population with its objectives, the archive, the random generator's state and the
caller's extra data.  Genomes go through an encode/decode pair given to the engine (plain data
by default).  Loading checks every field and raises :class:`~discovery.errors.CheckpointError`
naming the file and the problem, so a truncated, corrupt or foreign file is never resumed from
and nothing in it is ever executed.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from discovery.errors import CheckpointError

CHECKPOINT_FORMAT = "discovery-evolution-checkpoint"
CHECKPOINT_VERSION = 1
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


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
    """Everything needed to resume a run (what checkpoints hold).

    ``extra`` is the caller's: string keys, values of plain data (see :func:`encode_plain`).
    """

    population: list
    objectives: np.ndarray
    generation: int = 0
    evaluations: int = 0
    rng_state: dict = field(default_factory=dict)
    archive: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


# --- checkpoints -------------------------------------------------------------------------------
def encode_plain(value: Any) -> Any:
    """JSON data for a value built of None, bool, int, float, str, tuples and lists.

    Tuples become JSON arrays and lists ``{"list": [...]}`` (genomes and keys are usually tuples,
    so they stay readable), non-finite floats ``{"float": "nan" | "inf" | "-inf"}`` so the JSON
    stays strict.  :func:`decode_plain` gives back an equal value of the same shape; numpy
    scalars come back as the Python numbers of equal value.

    Raises
    ------
    TypeError
        For any other type (give the engine its own ``encode``/``decode`` then).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else {"float": _number_text(v)}
    if isinstance(value, tuple):
        return [encode_plain(v) for v in value]
    if isinstance(value, list):
        return {"list": [encode_plain(v) for v in value]}
    raise TypeError(f"cannot checkpoint a value of type {type(value).__name__}: "
                    "give the engine encode and decode functions for it")


def decode_plain(data: Any) -> Any:
    """Inverse of :func:`encode_plain`; raises ValueError for data it cannot have written."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return tuple(decode_plain(v) for v in data)
    if isinstance(data, dict) and len(data) == 1:
        (tag, inner), = data.items()
        if tag == "list" and isinstance(inner, list):
            return [decode_plain(v) for v in inner]
        if tag == "float" and isinstance(inner, str) and inner in _NONFINITE:
            return _NONFINITE[inner]
    raise ValueError(f"not plain data as encode_plain writes it (a {type(data).__name__})")


def _number_text(v: float) -> str:
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def state_to_json(state: EvolutionState, encode: Callable[[Any], Any] = encode_plain) -> str:
    """The state as strict JSON text (what a checkpoint file holds, and what islands exchange).

    Raises
    ------
    TypeError, ValueError
        When a genome, archive key or ``extra`` value cannot be written as strict JSON.
    """

    def row(f) -> list:
        return [float(v) if math.isfinite(v) else _number_text(v) for v in f]

    for k in state.extra:
        if not isinstance(k, str):
            raise TypeError(f"extra keys must be strings, got {k!r}")
    doc = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "generation": int(state.generation),
        "evaluations": int(state.evaluations),
        "n_objectives": int(state.objectives.shape[1]),
        "population": [encode(g) for g in state.population],
        "objectives": [row(f) for f in state.objectives],
        "archive": [[encode_plain(b), encode(g), row(f)] for b, (g, f) in state.archive.items()],
        "rng_state": state.rng_state,
        "extra": {k: encode_plain(v) for k, v in state.extra.items()},
    }
    return json.dumps(doc, allow_nan=False)


def state_from_json(text: str | bytes, decode: Callable[[Any], Any] = decode_plain,
                    source: str = "state") -> EvolutionState:
    """Read the text of :func:`state_to_json`, checking every field.

    Raises
    ------
    CheckpointError
        When it is not strict JSON, is of another format or version, or any field has the wrong
        type or shape; the message starts with ``source``.
    """

    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"{source}: {problem}")

    raw = text.encode("utf-8") if isinstance(text, str) else text
    if not raw.strip():
        raise fail("the file is empty")
    if raw[:1] == b"\x80":
        raise fail("is a pickle (the old checkpoint format), which is refused because loading it "
                   "could run code; delete it to start the search over")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except UnicodeDecodeError:
        raise fail("is not UTF-8 text (not a JSON checkpoint)") from None
    except RecursionError:
        raise fail("is nested too deeply to be a checkpoint") from None
    except ValueError as e:
        raise fail(f"is not valid JSON, truncated or corrupt ({e})") from None
    try:
        return _state_from(data, decode, fail)
    except RecursionError:
        raise fail("is nested too deeply to be a checkpoint") from None


def write_atomically(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` only once the new content is complete and on disk, so a
    crash while writing leaves the previous file intact."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    if os.name == "posix":  # the rename survives a power cut only once the directory is synced
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def save_checkpoint(path: str | Path, state: EvolutionState, encode: Callable[[Any], Any] = encode_plain) -> None:
    """Write ``state`` to ``path`` as strict JSON (:func:`state_to_json`), atomically.

    Raises
    ------
    TypeError, ValueError
        When a genome, archive key or ``extra`` value cannot be written as strict JSON.
    """
    write_atomically(path, state_to_json(state, encode))


def load_checkpoint(path: str | Path, decode: Callable[[Any], Any] = decode_plain) -> EvolutionState:
    """Read a checkpoint written by :func:`save_checkpoint`, checking every field.

    Parameters
    ----------
    path : path
    decode : callable
        ``decode(JSON data) -> genome``, the inverse of the ``encode`` the file was written with;
        it raises ValueError (or TypeError, KeyError, IndexError, AttributeError) for data it
        refuses.

    Raises
    ------
    CheckpointError
        When the file cannot be read, is not strict JSON (truncated, corrupt, an old pickle
        checkpoint, which is never unpickled), is of another format or version, or any field has
        the wrong type or shape; the message names the file and the problem.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise CheckpointError(f"checkpoint {path}: cannot be read ({e.strerror or e})") from None
    return state_from_json(raw, decode, f"checkpoint {path}")


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not strict JSON")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"number {text} overflows a double")
    return v


def _state_from(data: Any, decode: Callable[[Any], Any], fail: Callable[[str], CheckpointError]) -> EvolutionState:
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise fail(f"is not an evolution checkpoint (no \"format\": \"{CHECKPOINT_FORMAT}\")")
    if data.get("version") != CHECKPOINT_VERSION or isinstance(data.get("version"), bool):
        raise fail(f"has version {data.get('version')!r}; this version of discovery reads version {CHECKPOINT_VERSION}")
    fields = ("format", "version", "generation", "evaluations", "n_objectives", "population", "objectives",
              "archive", "rng_state", "extra")
    missing = [k for k in fields if k not in data]
    if missing:
        raise fail(f"field {missing[0]!r} is missing")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise fail(f"unknown field {unknown[0]!r}")
    for k in ("generation", "evaluations"):
        if not _is_count(data[k]):
            raise fail(f"{k} must be a non-negative integer, got {data[k]!r}")
    n_obj = data["n_objectives"]
    if not _is_count(n_obj) or n_obj == 0:
        raise fail(f"n_objectives must be a positive integer, got {n_obj!r}")

    def genome(where: str, g: Any) -> Any:
        try:
            return decode(g)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            raise fail(f"{where} is not a genome this search can read ({e})") from None

    def row(where: str, r: Any) -> np.ndarray:
        if not isinstance(r, list) or len(r) != n_obj:
            raise fail(f"{where} must be a list of {n_obj} objective values")
        out = np.empty(n_obj)
        for j, v in enumerate(r):
            if isinstance(v, str) and v in _NONFINITE:
                out[j] = _NONFINITE[v]
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[j] = v
            else:
                raise fail(f"{where}[{j}] must be a number, \"nan\", \"inf\" or \"-inf\", got {v!r}")
        return out

    population, objectives = data["population"], data["objectives"]
    if not isinstance(population, list):
        raise fail("population must be a list")
    if not isinstance(objectives, list) or len(objectives) != len(population):
        raise fail(f"objectives must be a list of {len(population)} rows, one per genome of the population")
    pop = [genome(f"population[{i}]", g) for i, g in enumerate(population)]
    F = np.empty((len(pop), n_obj))
    for i, r in enumerate(objectives):
        F[i] = row(f"objectives[{i}]", r)

    if not isinstance(data["archive"], list):
        raise fail("archive must be a list of [key, genome, objectives] entries")
    archive: dict = {}
    for i, entry in enumerate(data["archive"]):
        if not isinstance(entry, list) or len(entry) != 3:
            raise fail(f"archive[{i}] must be a [key, genome, objectives] entry")
        try:
            bucket = decode_plain(entry[0])
            hash(bucket)
        except (ValueError, TypeError) as e:
            raise fail(f"archive[{i}] key is not a plain hashable value ({e})") from None
        if bucket in archive:
            raise fail(f"archive[{i}] repeats the key {bucket!r}")
        archive[bucket] = (genome(f"archive[{i}] genome", entry[1]), row(f"archive[{i}] objectives", entry[2]))

    if not isinstance(data["extra"], dict):
        raise fail("extra must be an object")
    extra = {}
    for k, v in data["extra"].items():
        try:
            extra[k] = decode_plain(v)
        except ValueError as e:
            raise fail(f"extra[{k!r}]: {e}") from None

    return EvolutionState(pop, F, data["generation"], data["evaluations"], _rng_state(data["rng_state"], fail),
                          archive, extra)


def _rng_state(state: Any, fail: Callable[[str], CheckpointError]) -> dict:
    """The bit generator state, checked against a fresh generator of the engine's kind."""
    scratch = np.random.default_rng(0).bit_generator

    def same_shape(template: Any, value: Any) -> bool:
        if isinstance(template, dict):
            return (isinstance(value, dict) and value.keys() == template.keys()
                    and all(same_shape(template[k], value[k]) for k in template))
        if isinstance(template, str):
            return value == template  # the generator's name
        return _is_count(value)

    problem = f"rng_state is not a {type(scratch).__name__} generator state"
    if not same_shape(scratch.state, state) or state.get("has_uint32", 0) not in (0, 1):
        raise fail(problem)
    try:
        scratch.state = state
    except (ValueError, TypeError, KeyError, OverflowError):
        raise fail(problem) from None
    if scratch.state != state:  # a value out of range would be cut silently
        raise fail(problem)
    return state


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
        Surrogate screening: ``screen(children) -> order``, indices of the children best first.
        Each generation then proposes ``offspring`` children per place in the population and
        evaluates only the ``population_size`` the screen puts first.
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
        self.rng = np.random.default_rng(seed)
        self.state: EvolutionState | None = None

    # --- state ---------------------------------------------------------------------------
    def _save(self) -> None:
        if self.checkpoint is None or self.state is None:
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
        st = self.state
        F = np.asarray(self.evaluate(genomes), dtype=float)
        st.evaluations += len(genomes)
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
        """One generation: tournament selection, mutation or crossover, (screening,) evaluation,
        environmental selection."""
        st = self.state
        ranks = np.empty(len(st.population), dtype=int)
        crowd = np.empty(len(st.population))
        for r, front in enumerate(non_dominated_fronts(st.objectives)):
            ranks[front] = r
            crowd[front] = crowding_distance(st.objectives[front])
        seen = {self.key(g) for g in st.population}
        children = []
        attempts = 0
        wanted = self.population_size * (self.offspring if self.screen is not None else 1)
        while len(children) < wanted and attempts < 20 * wanted:
            attempts += 1
            parent = st.population[self._tournament(ranks, crowd)]
            if self.crossover is not None and self.rng.random() < self.crossover_rate:
                child = self.crossover(parent, st.population[self._tournament(ranks, crowd)], self.rng)
            else:
                child = self.mutate(parent, self.rng)
            k = self.key(child)
            if k in seen or (self.known is not None and self.known(k)):
                continue
            seen.add(k)
            children.append(child)
        if self.screen is not None and len(children) > self.population_size:
            children = [children[i] for i in list(self.screen(children))[: self.population_size]]
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
