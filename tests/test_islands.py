"""Program campaigns on islands: K populations exchanging their fronts through the driver."""

import json
import sqlite3

import pytest

from discovery.campaign import run_campaign
from discovery.campaign.programs import IslandStep
from discovery.programs.graph import Program

from campaigns import write_campaign

def _config(folder, generations=4, workers=2, islands=2):
    return write_campaign(
        folder / "islands.toml",
        campaign={"name": "islands", "kind": "program", "seed": 3},
        target={"name": "exp", "interval": [0, 0.5], "max_ops": 4},
        search={"minutes": 60, "generations": generations, "population": 8},
        execution={"workers": workers, "islands": islands, "migrate_every": 2},
    )


def _front(db):
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT ops, max_error, genome FROM formulas WHERE kind = 'program'"))


def test_two_islands_are_reproducible_for_a_seed_and_a_generation_budget(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    results = [run_campaign(_config(folder), folder / "p.db", progress=False) for folder in (first, second)]
    assert all(r.complete and r.formulas >= 3 for r in results)
    front = _front(first / "p.db")
    assert front == _front(second / "p.db")
    errors = [e for _, e, _ in front]
    assert errors == sorted(errors, reverse=True)  # a Pareto front: more operations, smaller error
    doc = json.loads((first / "p_runs" / "islands" / "islands.json").read_text())
    assert doc["generation"] == 4 and len(doc["states"]) == 2


def test_islands_resume_from_their_checkpoint_as_if_never_stopped(tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    whole.mkdir()
    split.mkdir()
    run_campaign(_config(whole, generations=4, workers=1), whole / "p.db", progress=False)
    # Stopped after the first epoch (generation 2), then resumed with the full budget.
    run_campaign(_config(split, generations=2, workers=1), split / "p.db", progress=False)
    (split / "p.db").unlink()
    run_campaign(_config(split, generations=4, workers=1), split / "p.db", progress=False)
    assert _front(whole / "p.db") == _front(split / "p.db")


def test_islands_keep_the_verification_of_their_front_inside_the_time_budget(tmp_path, monkeypatch):
    """A clock of the campaign module's own that moves 20 s at every reading: an epoch takes 20 s,
    verifying the front 4 x 1.2 x 20 s; in a 1-minute budget a second epoch does not fit before
    the verification, so it is not started (it was, until the budget's seconds ran out)."""
    import types

    import discovery.campaign.programs as programs

    now = [0.0]

    def tick():
        now[0] += 20.0
        return now[0]

    monkeypatch.setattr(programs, "time", types.SimpleNamespace(time=tick))
    config = write_campaign(
        tmp_path / "islands.toml",
        campaign={"name": "islands", "kind": "program", "seed": 3},
        target={"name": "exp", "interval": [0, 0.5], "max_ops": 4},
        search={"minutes": 1, "population": 8},
        execution={"workers": 1, "islands": 2, "migrate_every": 2},
    )
    assert run_campaign(config, tmp_path / "p.db", progress=False).complete
    doc = json.loads((tmp_path / "p_runs" / "islands" / "islands.json").read_text())
    assert doc["generation"] == 2 and _front(tmp_path / "p.db")


def test_an_island_step_is_a_function_of_its_input(tmp_path):
    step = IslandStep(("exp", (0.0, 0.5), "auto"), 3, ("add", "sub", "mul", "div"), 6, True, 0, 1)
    first = step((1, None, []))
    assert first == step((1, None, []))
    migrant = Program.from_json(first["front"][-1][1])
    moved = step((0, first["state"], [migrant.to_json()]))
    assert moved["generation"] == 2 and moved["evaluations"] > first["evaluations"]


def test_a_foreign_islands_checkpoint_is_refused(tmp_path):
    from discovery.errors import CheckpointError

    config = _config(tmp_path, workers=1)
    folder = tmp_path / "p_runs" / "islands"
    folder.mkdir(parents=True)
    (folder / "islands.json").write_text('{"format": "something else"}')
    with pytest.raises(CheckpointError, match="islands.json"):
        run_campaign(config, tmp_path / "p.db", progress=False)


def test_the_verification_reserve_times_one_program_per_operation_count(monkeypatch):
    # A front holds one program per count: one slow program (a bound refined to its cap) is
    # timed once, not once per count (which kept 10x its time and ended a 15-minute search after 4).
    import discovery.campaign.programs as programs
    from discovery.programs.baselines import minimax_polynomial, taylor
    from discovery.programs.targets import make_target

    target = make_target("exp2", (0.0, 1.0))
    population = [taylor(target, d) for d in range(1, 6)] + [minimax_polynomial(target, d) for d in range(1, 6)]
    costliest = max(p.cost for p in population)
    clock = [0.0]
    monkeypatch.setattr(programs.time, "time", lambda: clock[0])

    def record(program, target, max_ops, check=None):
        clock[0] += 10.0 if program.cost == costliest else 1.0

    monkeypatch.setattr(programs, "program_record", record)
    counts = {p.cost for p in population}
    assert programs._verification_seconds(population, target, 10) == pytest.approx(1.2 * (10 + len(counts) - 1))
