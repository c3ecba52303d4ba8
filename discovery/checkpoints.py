"""The state of an evolution run and its checkpoints: strict JSON, written atomically, read with
every field checked.

A checkpoint holds a format name and version, the population with its objectives, the archive,
the random generator's state, the caller's extra data and, for a pipelined run, the children bred
for the next generation.  Genomes go through an encode/decode
pair (plain data by default: :func:`encode_plain`).  Loading checks every field and raises
:class:`~discovery.errors.CheckpointError` naming the file and the problem, so a truncated,
corrupt or foreign file is never resumed from and nothing in it is ever executed.  The same JSON
text moves islands' states between workers (:func:`state_to_json`, :func:`state_from_json`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from discovery.errors import CheckpointError

CHECKPOINT_FORMAT = "discovery-evolution-checkpoint"
CHECKPOINT_VERSION = 1
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


@dataclass
class EvolutionState:
    """Everything needed to resume a run (what checkpoints hold).

    ``extra`` is the caller's: string keys, values of plain data (see :func:`encode_plain`).
    In a pipelined run, ``pending`` holds the next generation's children (bred and screened, not
    yet evaluated), else None, and ``breeding`` what the following generations are being bred
    from: ``(population, objectives, avoid)`` each, ``avoid`` the children being evaluated then.
    """

    population: list
    objectives: np.ndarray
    generation: int = 0
    evaluations: int = 0
    rng_state: dict = field(default_factory=dict)
    archive: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    pending: list | None = None
    breeding: list = field(default_factory=list)


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
    if state.pending is not None:
        doc["pending"] = [encode(g) for g in state.pending]
        doc["breeding"] = [{"population": [encode(g) for g in population], "objectives": [row(f) for f in F],
                            "avoid": [encode(g) for g in avoid]} for population, F, avoid in state.breeding]
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
    unknown = sorted(set(data) - set(fields) - {"pending", "breeding"})
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

    pending, breeding = data.get("pending"), []
    if pending is not None:
        if not isinstance(pending, list):
            raise fail("pending must be a list of genomes")
        pending = [genome(f"pending[{i}]", g) for i, g in enumerate(pending)]
        if not isinstance(data.get("breeding"), list):
            raise fail("breeding must be a list of {population, objectives, avoid} entries")
        for i, entry in enumerate(data["breeding"]):
            if not isinstance(entry, dict) or sorted(entry) != ["avoid", "objectives", "population"]:
                raise fail(f"breeding[{i}] must be an object of population, objectives and avoid")
            if not all(isinstance(entry[k], list) for k in entry):
                raise fail(f"breeding[{i}] must hold lists")
            if len(entry["objectives"]) != len(entry["population"]):
                raise fail(f"breeding[{i}].objectives must hold one row per genome of its population")
            bred_from = [genome(f"breeding[{i}].population[{j}]", g) for j, g in enumerate(entry["population"])]
            rows = np.array([row(f"breeding[{i}].objectives[{j}]", r) for j, r in enumerate(entry["objectives"])])
            avoid = [genome(f"breeding[{i}].avoid[{j}]", g) for j, g in enumerate(entry["avoid"])]
            breeding.append((bred_from, rows.reshape(len(bred_from), n_obj), avoid))
    elif "breeding" in data:
        raise fail("breeding is given without pending")
    return EvolutionState(pop, F, data["generation"], data["evaluations"], _rng_state(data["rng_state"], fail),
                          archive, extra, pending, breeding)


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

