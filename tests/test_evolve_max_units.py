"""``max_units`` (``--max-units``) in a PCF evolve campaign: a unit is a generation; a capped run
stops after that many new ones, resumably, and capped runs end as an uninterrupted one."""

from discovery.campaign import run_campaign
from test_campaign_kill import snapshot
from test_evolve_pcf import _evolve_config


def test_max_units_counts_generations_and_resumes(tmp_path):
    whole, capped = tmp_path / "whole", tmp_path / "capped"
    whole.mkdir()
    capped.mkdir()
    reference = whole / "ev.db"
    assert run_campaign(_evolve_config(whole, generations=3), reference, progress=False, plots=False).complete
    cfg, db = _evolve_config(capped, generations=3), capped / "ev.db"
    first = run_campaign(cfg, db, max_units=3, progress=False, plots=False)
    assert not first.complete and [u[1] for u in snapshot(db)["units"]] == [0, 1, 2]
    assert run_campaign(cfg, db, max_units=5, progress=False, plots=False).complete  # one unit was left
    assert snapshot(db) == snapshot(reference)
