"""Program campaigns: evolve straight-line programs for a target, checkpointed beside the
database, and store the Pareto front."""

from __future__ import annotations

import time
from pathlib import Path

from discovery.campaign.config import CampaignConfig
from discovery.campaign.runner import CampaignResult

def run_program_campaign(config: CampaignConfig, db: Path, progress: bool) -> CampaignResult:
    """Evolve programs for the target; the search checkpoints beside the database and resumes."""
    from tqdm import tqdm

    from discovery.programs.search import ProgramSearch
    from discovery.programs.targets import make_target
    from discovery.programs.verify import max_error
    from discovery.store import FormulaStore

    start = time.time()
    t = config.space
    target = make_target(t["name"], tuple(t["interval"]),
                         {"auto": None, "relative": True, "absolute": False}[t["error"]])
    folder = db.parent / f"{db.stem}_runs" / config.name
    folder.mkdir(parents=True, exist_ok=True)
    store = FormulaStore(db)
    try:
        cid = store.start_campaign(config.name, "program", config.as_dict(), config.digest(), 1)
        if not store.done_units(cid):
            search = ProgramSearch(target, t["max_ops"], ops=t["ops"], population_size=config.search["population"],
                                   seed=config.seed, checkpoint=folder / "evolution.json")
            budget = config.search["minutes"] * 60
            state = search.engine.start(search.seeds(config.search["population"], config.search["classical_seeds"]))
            spent = state.extra.get("seconds", 0.0)
            bar = tqdm(total=int(budget), initial=int(spent), unit="s", desc=f"{config.name}: evolving",
                       disable=not progress)
            resumed_at = time.time()

            def tick(st):
                st.extra["seconds"] = spent + time.time() - resumed_at
                bar.n = min(int(st.extra["seconds"]), int(budget))
                bar.refresh()

            result = search.run(state.population, seconds=max(0.0, budget - spent), progress=tick)
            bar.close()
            rows = [{"genome": p.to_json(), "ops": cost, "max_error": max_error(p, target),
                     "expression": p.expression()}
                    for cost, (p, _) in sorted(result.best.items())]
            store.write_programs(cid, target.name, target.interval, rows, unit=0, candidates=result.evaluations)
        # Outside the branch above: a run stopped between storing the front and this mark
        # finishes on rerun.
        if store.campaign(config.name)["finished"] is None:
            store.finish_campaign(cid)
        status = store.status(cid)
        return CampaignResult(config.name, cid, status["candidates"], status["converged"], status["formulas"],
                              0, {}, time.time() - start, True, [], kind="program")
    finally:
        store.close()
