"""Evolution checkpoints: strict JSON, exact round trips, refusal of anything else, exact resume."""

import json
import math
import os
import pickle
import re
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery.checkpoints import (
    CHECKPOINT_VERSION, EvolutionState, decode_plain, encode_plain, load_checkpoint, save_checkpoint,
)
from discovery.errors import CheckpointError
from discovery.evolution import NSGA2
from discovery.programs.baselines import classical_programs
from discovery.programs.graph import OPS, Program, horner, random_program, rational
from discovery.programs.kernels import evaluate
from discovery.programs.search import ProgramSearch
from discovery.programs.targets import make_target


def _strict_loads(text):
    def refuse(name):
        raise AssertionError(f"{name} is not strict JSON")

    return json.loads(text, parse_constant=refuse)


def _bits(values):
    return [struct.pack("<d", v) for v in values]


# --- programs --------------------------------------------------------------------------------
finite = st.floats(allow_nan=False, allow_infinity=False)
programs = st.builds(
    lambda seed, n, k, consts: random_program(np.random.default_rng(seed), n, k, OPS).with_consts(
        (consts * k)[:k] if consts else [0.0] * k),
    st.integers(0, 10**6), st.integers(0, 20), st.integers(0, 4), st.lists(finite, max_size=4),
)
X = np.linspace(-1.5, 2.5, 101)


def _assert_round_trip(program):
    text = json.dumps(program.to_json(), allow_nan=False)
    back = Program.from_json(_strict_loads(text))
    assert back == program
    assert _bits(back.consts) == _bits(program.consts)  # -0.0, subnormals and huge values exactly
    with np.errstate(all="ignore"):
        assert evaluate(back, X).tobytes() == evaluate(program, X).tobytes()


@given(programs)
def test_random_programs_round_trip_bit_for_bit(program):
    _assert_round_trip(program)


def test_seed_and_baseline_programs_round_trip_bit_for_bit():
    t = make_target("exp2", (0, 1))
    progs = classical_programs(t, 6) + [horner([0.1, -0.0, 5e-324, 1.7976931348623157e308]),
                                        rational([1 / 3, 2.0], [0.7, 1e-300, 3.0]), Program((), ())]
    for p in progs:
        _assert_round_trip(p)
        _assert_round_trip(p.folded())


@pytest.mark.parametrize("data", [
    [],
    {"consts": [], "instructions": []},
    {"consts": [], "instructions": [], "output": 0, "more": 1},
    {"consts": ["1.0"], "instructions": [], "output": 0},
    {"consts": [True], "instructions": [], "output": 0},
    {"consts": [1.0], "instructions": [["add", [0, 1.0]]], "output": 2},
    {"consts": [1.0], "instructions": [["add", [0]]], "output": 2},
    {"consts": [1.0], "instructions": [["add", [0, 1, 0]]], "output": 2},
    {"consts": [1.0], "instructions": [["pow", [0, 1]]], "output": 2},
    {"consts": [1.0], "instructions": [["add", [0, 5]]], "output": 2},
    {"consts": [1.0], "instructions": ["add"], "output": 2},
    {"consts": [1.0], "instructions": [], "output": -1},
    {"consts": [1.0], "instructions": [], "output": 7},
    {"consts": [1.0], "instructions": [], "output": False},
])
def test_program_from_json_refuses_what_to_json_never_writes(data):
    with pytest.raises(ValueError):
        Program.from_json(data)


# --- plain genomes ---------------------------------------------------------------------------
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**40), 10**40) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple),
    max_leaves=20,
)


def _same(a, b):
    """Equal values of the same types, floats bit for bit (NaN is NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or _bits([a]) == _bits([b])
    return a == b


@given(plain)
def test_plain_values_round_trip_through_strict_json(value):
    text = json.dumps(encode_plain(value), allow_nan=False)
    assert _same(decode_plain(_strict_loads(text)), value)


def test_plain_codec_refuses_other_types():
    with pytest.raises(TypeError, match="set"):
        encode_plain({1, 2})
    for data in ({"set": [1]}, {"float": "1.5"}, {"list": 3}, {"a": 1, "b": 2}):
        with pytest.raises(ValueError):
            decode_plain(data)


# --- the checkpoint file ---------------------------------------------------------------------
def _toy(checkpoint=None, seed=3, **kw):
    def evaluate(genomes):
        x = np.array(genomes, dtype=float)
        return np.column_stack([x**2, (x - 2) ** 2])

    return NSGA2(evaluate, lambda g, rng: float(g + rng.normal(0, 0.3)), lambda g: round(g, 12),
                 archive_key=lambda f: int(f[1]), population_size=20, seed=seed, checkpoint=checkpoint,
                 checkpoint_every=1, **kw)


def _state():
    specials = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308, 0.1]
    F = np.array([[v, float(i)] for i, v in enumerate(specials)])
    rng = np.random.default_rng(12345)
    rng.random(3)
    return EvolutionState(
        population=[(i, -i, 10**30) for i in range(len(specials))], objectives=F, generation=7,
        evaluations=99, rng_state=rng.bit_generator.state,
        archive={(0, "a"): ((1, 2), np.array([math.nan, 1.0])), 3: ((4, 5), np.array([-math.inf, 2.0]))},
        extra={"seconds": 12.5, "tuned": [(1, (2.0, -0.0)), (3, (math.inf,))], "note": None},
        pending=[(8, -8, 1), (9, -9, 2)],
        breeding=[([(1, 2, 3)], np.array([[0.5, math.inf]]), [(8, -8, 1)]), ([], np.empty((0, 2)), [])],
    )


def test_checkpoint_is_strict_json_and_round_trips_exactly(tmp_path):
    path = tmp_path / "ck.json"
    state = _state()
    save_checkpoint(path, state)
    doc = _strict_loads(path.read_text())
    assert doc["format"] == "discovery-evolution-checkpoint" and doc["version"] == CHECKPOINT_VERSION
    assert doc["objectives"][0][0] == "nan" and doc["objectives"][1][0] == "inf"
    assert max(doc["rng_state"]["state"].values()) > 2**64  # PCG64's 128-bit integers, as digits
    assert sorted(os.listdir(tmp_path)) == ["ck.json"]  # no temporary file left

    back = load_checkpoint(path)
    assert back.population == state.population
    assert _bits(back.objectives.ravel())[1:] == _bits(state.objectives.ravel())[1:]
    assert math.isnan(back.objectives[0, 0])
    assert back.rng_state == state.rng_state
    assert (back.generation, back.evaluations) == (7, 99)
    assert list(back.archive) == list(state.archive)
    for k, (g, f) in state.archive.items():
        assert back.archive[k][0] == g and np.array_equal(back.archive[k][1], f, equal_nan=True)
    assert _same(back.extra["tuned"], state.extra["tuned"]) and back.extra["seconds"] == 12.5
    assert back.extra["note"] is None
    assert back.pending == state.pending
    assert [(p, a) for p, _, a in back.breeding] == [(p, a) for p, _, a in state.breeding]
    for (_, got, _), (_, want, _) in zip(back.breeding, state.breeding):
        assert got.shape == want.shape and np.array_equal(got, want)
    state.pending = None  # a run that is not pipelined writes none and reads none back
    save_checkpoint(path, state)
    assert "pending" not in _strict_loads(path.read_text()) and load_checkpoint(path).pending is None


def test_a_failed_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ck.json"
    save_checkpoint(path, _state())
    before = path.read_bytes()
    bad = _state()
    bad.population.append({1, 2})  # not plain data
    with pytest.raises(TypeError):
        save_checkpoint(path, bad)

    def crash(*args):
        raise OSError("disk gone")

    monkeypatch.setattr("discovery.checkpoints.os.replace", crash)
    with pytest.raises(OSError):
        save_checkpoint(path, _state())
    assert path.read_bytes() == before
    load_checkpoint(path)


def _corrupt(path, change):
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def change(doc):
        target = doc
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value

    return change


def _delete(key):
    return lambda doc: doc.pop(key)


@pytest.mark.parametrize("change, fragment", [
    (_set("format", "something-else"), "not an evolution checkpoint"),
    (_delete("format"), "not an evolution checkpoint"),
    (_set("version", CHECKPOINT_VERSION + 1), f"version {CHECKPOINT_VERSION + 1}"),
    (_set("version", str(CHECKPOINT_VERSION)), "version"),
    (_set("version", True), "version"),
    (_delete("archive"), "'archive' is missing"),
    (_set("surprise", 1), "unknown field 'surprise'"),
    (_set("generation", "7"), "generation"),
    (_set("generation", -1), "generation"),
    (_set("evaluations", 2.0), "evaluations"),
    (_set("n_objectives", 0), "n_objectives"),
    (_set("n_objectives", 3), "objectives[0]"),
    (_set("population", {"0": 1}), "population"),
    (lambda doc: doc["population"].pop(), "objectives must be a list of"),
    (_set("objectives", 0, [1.0]), "objectives[0]"),
    (_set("objectives", 1, 0, "NaN"), "objectives[1][0]"),
    (_set("objectives", 1, 0, None), "objectives[1][0]"),
    (_set("objectives", 1, 0, True), "objectives[1][0]"),
    (_set("population", 0, {"set": [1]}), "population[0]"),
    (_set("archive", 0, [0]), "archive[0]"),
    (_set("archive", 0, 0, {"list": [1]}), "archive[0] key"),
    (lambda doc: doc["archive"].append(doc["archive"][0]), "repeats the key"),
    (_set("archive", 0, 2, [1.0]), "archive[0] objectives"),
    (_set("rng_state", "PCG64"), "rng_state"),
    (_set("rng_state", "bit_generator", "MT19937"), "rng_state"),
    (_set("rng_state", "state", "state", 2**200), "rng_state"),
    (_set("rng_state", "state", "inc", -3), "rng_state"),
    (_set("rng_state", "state", "inc", 1.5), "rng_state"),
    (_set("rng_state", "has_uint32", 7), "rng_state"),
    (_set("rng_state", "uinteger", 2**40), "rng_state"),
    (_delete("rng_state"), "'rng_state' is missing"),
    (_set("extra", []), "extra"),
    (_set("extra", "seconds", {"float": "1.0"}), "extra['seconds']"),
    (_set("pending", {"0": 1}), "pending must be a list"),
    (_set("pending", 1, {"set": [1]}), "pending[1]"),
    (_set("breeding", {}), "breeding must be a list"),
    (_delete("breeding"), "breeding must be a list"),
    (_set("breeding", 0, []), "breeding[0] must be an object"),
    (_set("breeding", 0, "population", 5), "breeding[0] must hold lists"),
    (_set("breeding", 0, "objectives", []), "breeding[0].objectives"),
    (_set("breeding", 0, "objectives", 0, ["x", 1.0]), "breeding[0].objectives[0][0]"),
    (_set("breeding", 0, "avoid", 0, {"set": [1]}), "breeding[0].avoid[0]"),
    (lambda doc: doc.pop("pending"), "breeding is given without pending"),
])
def test_a_bad_field_is_refused_with_the_file_and_the_problem(tmp_path, change, fragment):
    path = tmp_path / "ck.json"
    save_checkpoint(path, _state())
    _corrupt(path, change)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    assert str(path) in str(info.value) and fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_a_program_checkpoint_refuses_a_bad_program(tmp_path):
    path = tmp_path / "ck.json"
    state = EvolutionState([horner([1.0, 2.0])], np.zeros((1, 2)),
                           rng_state=np.random.default_rng().bit_generator.state)
    save_checkpoint(path, state, Program.to_json)
    assert load_checkpoint(path, Program.from_json).population == state.population
    _corrupt(path, _set("population", 0, "consts", ["1.0", 2.0]))
    with pytest.raises(CheckpointError, match=r"population\[0\].*consts"):
        load_checkpoint(path, Program.from_json)
    # A checkpoint of other genomes is refused too, not resumed as programs.
    save_checkpoint(path, _state())
    with pytest.raises(CheckpointError, match=r"population\[0\]"):
        load_checkpoint(path, Program.from_json)


def test_truncated_or_garbled_files_are_refused_and_never_resumed(tmp_path):
    path = tmp_path / "ck.json"
    initial = [-5.0 + i for i in range(12)]
    _toy(path).run(initial, generations=3)
    whole = path.read_bytes()
    cuts = sorted({0, 1, len(whole) // 7, len(whole) // 3, len(whole) // 2, len(whole) - 2, len(whole) - 1})
    variants = [whole[:n] for n in cuts] + [
        b"   \n", b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'{"a": 1}', b"null",
        whole.replace(b'"generation": 3', b'"generation": NaN'),
        whole.replace(b'"generation": 3', b'"generation": 1e999'),
        b"[" * 100_000,
    ]
    assert b'"generation": 3' in whole
    for i, data in enumerate(variants):
        path.write_bytes(data)
        engine = _toy(path)
        with pytest.raises(CheckpointError, match=re.escape(str(path))):
            engine.run(initial, generations=1)
        assert engine.state is None, f"variant {i} was resumed from"
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(tmp_path / "dir.json")


class _Payload:
    """Unpickling this creates a directory: proof that a loader ran code from the file."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return os.mkdir, (self.sentinel,)


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_an_old_pickle_checkpoint_is_refused_without_being_unpickled(tmp_path, protocol):
    path = tmp_path / "evolution.pkl"
    sentinel = tmp_path / "sentinel"
    path.write_bytes(pickle.dumps(EvolutionState([_Payload(sentinel)], np.zeros((1, 2))), protocol=protocol))
    with pytest.raises(CheckpointError) as info:
        _toy(path).start([1.0, 2.0, 3.0, 4.0])
    assert str(path) in str(info.value)
    if protocol >= 2:
        assert "pickle" in str(info.value)
    assert not sentinel.exists()
    # The payload is live: unpickling it (what the old loader did) would have run it.
    pickle.loads(pickle.dumps(_Payload(tmp_path / "proof"), protocol=protocol))  # noqa: S301 - deliberately live
    assert (tmp_path / "proof").exists()


# --- resume equals an uninterrupted run ------------------------------------------------------
class _Killed(Exception):
    pass


def _kill_at(generation):
    def callback(state):
        if state.generation == generation:
            raise _Killed
    return callback


def _assert_same_state(a, b):
    assert (a.generation, a.evaluations) == (b.generation, b.evaluations)
    assert a.population == b.population
    assert a.objectives.tobytes() == b.objectives.tobytes()
    assert list(a.archive) == list(b.archive)
    for k in a.archive:
        assert a.archive[k][0] == b.archive[k][0] and a.archive[k][1].tobytes() == b.archive[k][1].tobytes()


def test_killed_pcf_genome_run_resumes_to_the_uninterrupted_run(tmp_path):
    from genomes import evaluate_pcf_genomes as evaluate, mutate_pcf_genome as mutate_pcf

    def engine(checkpoint=None):
        return NSGA2(evaluate, mutate_pcf, lambda g: g, archive_key=lambda f: int(f[1]), population_size=12,
                     seed=1, checkpoint=checkpoint, checkpoint_every=2)

    rng = np.random.default_rng(0)
    genomes = (tuple(int(v) for v in rng.integers(-5, 6, 5)) for _ in range(12))
    initial = [g for g in genomes if any(g[2:]) and any(g[:2])]
    straight = engine().run(initial, generations=7)

    path = tmp_path / "pcf.json"
    with pytest.raises(_Killed):
        engine(path).run(initial, generations=7, callback=_kill_at(5))
    doc = _strict_loads(path.read_text())
    assert doc["generation"] == 4 and all(isinstance(g, list) for g in doc["population"])
    resumed = engine(path)
    state = resumed.start(initial)
    assert state.generation == 4 and all(type(g) is tuple for g in state.population)
    _assert_same_state(resumed.run(initial, generations=7 - state.generation), straight)


def test_killed_program_search_resumes_to_the_uninterrupted_search(tmp_path):
    target = make_target("exp2", (0, 1))

    def search(checkpoint=None):
        return ProgramSearch(target, max_ops=4, population_size=8, seed=5, tune_every=2, tune_evals=60,
                             child_rounds=4, checkpoint=checkpoint, checkpoint_every=1)

    initial = search().seeds(8, classical=False)
    reference = search()
    straight = reference.run(initial, generations=6)

    path = tmp_path / "programs.json"
    with pytest.raises(_Killed):
        search(path).run(initial, generations=6, progress=_kill_at(5))
    assert _strict_loads(path.read_text())["extra"]["tuned"]  # the front's tuning is checkpointed
    again = search(path)
    state = again.engine.start(initial)
    assert state.generation == 4
    result = again.run(initial, generations=6 - state.generation)

    assert (result.generations, result.evaluations) == (straight.generations, straight.evaluations)
    assert result.best == straight.best and result.validation == straight.validation
    assert again.tuned == reference.tuned
    _assert_same_state(again.engine.state, reference.engine.state)
