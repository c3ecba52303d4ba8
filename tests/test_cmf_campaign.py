"""The ``cmf`` campaign strategy: trajectories of a shipped CMF through the enumerate pipeline."""

import pytest

from discovery.campaign import ConfigError, load_config, run_campaign
from discovery.campaign.cmf import trajectories, trajectory_count
from discovery.pcf.equivalence import equivalence_key
from discovery.pcf.formula import PCF
from discovery.store import FormulaStore
from campaigns import write_campaign
from test_campaign_kill import snapshot

APERY = PCF([34, 51, 27, 5], [-1, 0, 0, 0, 0, 0, 0])


def _config(path, space=None, search=None):
    return write_campaign(
        path,
        campaign={"name": "zeta3-cmf-test", "kind": "pcf", "seed": 1},
        space={"cmf": "zeta3", "max_step": 1, "max_start": 1, **(space or {})},
        search={"strategy": "cmf", "depth": 600, "metrics_depth": 1500, "sample": 700, "unit_size": 3,
                **(search or {})},
        # mobius_bound 6: the tails from start (1, 1) have limits zeta(3)/(5 zeta(3) - 6).
        identify={"constants": ["zeta3"], "digits": 20, "confirm_digits": 40, "mobius_bound": 6,
                  "representatives": 0},
        execution={"workers": 1},
    )


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """An uninterrupted run over the 8 trajectories of the smallest box (3 units)."""
    tmp = tmp_path_factory.mktemp("whole")
    db = tmp / "db.sqlite"
    result = run_campaign(_config(tmp / "c.toml"), db, progress=False, plots=False)
    return db, result


def test_finds_and_stores_aperys_fraction(whole):
    db, result = whole
    assert result.complete
    with FormulaStore(db) as store:
        rows = store.query()
    found = [r for r in rows if r["equivalence_key"] == equivalence_key(APERY)]
    assert found and all(r["constant"] == "zeta3" for r in found)


def test_stopped_and_resumed_equals_uninterrupted(whole, tmp_path):
    db = tmp_path / "db.sqlite"
    config = _config(tmp_path / "c.toml")
    first = run_campaign(config, db, max_units=1, progress=False, plots=False)
    assert not first.complete
    rest = run_campaign(config, db, progress=False, plots=False)
    assert rest.complete
    assert snapshot(db) == snapshot(whole[0])


def test_units_partition_the_trajectories(tmp_path):
    config = load_config(_config(tmp_path / "c.toml", space={"max_step": 2, "max_start": 2}, search={"unit_size": 7}))
    total = trajectory_count(config)
    assert total == 16 * 4  # primitive directions in [-2, 2]^2, starts in [1, 2]^2
    every = [t for u in range(-(-total // 7)) for t in trajectories(config, u)]
    assert len(every) == len(set(every)) == total
    assert all(min(start) >= 1 and max(start) <= 2 for _, start in every)


@pytest.mark.parametrize("space, search, key", [
    ({"cmf": "zeta4"}, {}, "cmf"),
    ({"max_step": 11}, {}, "max_step"),
    ({"max_start": 101}, {}, "max_start"),
    ({"max_step": 0}, {}, "max_step"),
    ({"max_step": 10, "max_start": 100}, {}, "max_step"),
    ({"bound": 2}, {}, "bound"),
    ({}, {"triage": "rank"}, "triage"),
    ({}, {"max_candidates": 10}, "max_candidates"),
    ({}, {"strategy": "enumerate"}, "cmf"),
])
def test_bad_settings_are_refused_naming_the_key(tmp_path, space, search, key):
    with pytest.raises(ConfigError, match=f"c.toml: \\[(space|search)\\] {key}"):
        load_config(_config(tmp_path / "c.toml", space=space, search=search))


def test_missing_cmf_is_refused(tmp_path):
    path = write_campaign(tmp_path / "c.toml", campaign={"name": "c", "kind": "pcf"}, space={"max_step": 1},
                          search={"strategy": "cmf"})
    with pytest.raises(ConfigError, match=r"\[space\] cmf is missing"):
        load_config(path)
