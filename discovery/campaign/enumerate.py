"""The ``enumerate`` and ``mitm`` strategies: every work unit of the campaign's space, in order.

A unit's results and its done mark are stored in one transaction, so stopping at any moment
(even kill -9) and rerunning the same command resumes after the last committed unit and ends
with the same results.  With ``[search] triage``, warm-up units spread over the space run first
and untriaged; a triage model trained on what they stored screens the rest (a resumed run trains
the same model again).  ``mitm`` keeps only the PCFs the Möbius table identifies and measures
nothing, so its closing stage does not cluster.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Iterable, Iterator

from discovery.campaign.config import PcfConfig
from discovery.campaign.pcf import UnitRunner, campaign_space
from discovery.campaign.strategy import CampaignRun, Strategy
from discovery.campaign.training import train_from_store


class Enumerate(Strategy):
    """``[search] strategy = "enumerate"``: every unit, then clusters, representatives, families."""

    clusters = True
    families = True

    def units(self, config: PcfConfig) -> int:
        return campaign_space(config).units(config.search["unit_size"])

    def run(self, run: CampaignRun) -> bool:
        config, store, cid = run.config, run.store, run.campaign_id
        total = self.units(config)
        done_before = store.done_units(cid)
        remaining = total - len(done_before)
        if run.max_units is not None:
            remaining = min(remaining, run.max_units)
        warmup = _warmup(config, total)
        todo = itertools.islice(_order(total, done_before, warmup), remaining)
        if remaining > 0:
            run.store_units(((stage.call, stage.units) for stage in _stages(config, store, cid, todo, warmup)),
                            total, len(done_before))
        return len(store.done_units(cid)) == total


class Mitm(Enumerate):
    """``[search] strategy = "mitm"``: every unit, identified PCFs only, no clustering."""

    clusters = False


def _warmup(config: PcfConfig, total: int) -> set:
    """The triage warm-up units (spread over the space), none without triage."""
    if config.search["triage"] == "off":
        return set()
    stride = max(1, round(1 / config.search["triage_warmup"])) if total > 1 else 1
    return set(range(0, total, stride))


def _order(total: int, done: set, warmup: set) -> Iterator[int]:
    """The units not done yet, the warm-up first; lazily: a space of 10^9 units must not become a
    list before its first unit runs."""
    if not warmup:
        return (u for u in range(total) if u not in done)
    return itertools.chain([u for u in sorted(warmup) if u not in done],
                           (u for u in range(total) if u not in done and u not in warmup))


@dataclass
class _Stage:
    """Units to run with one callable (the warm-up without a model, the rest with it)."""

    call: UnitRunner
    units: Iterable[int]


def _stages(config: PcfConfig, store, cid: int, todo, warmup: set) -> Iterator[_Stage]:
    """The stages of a run: with triage, warm-up units first, then the rest with the model
    trained on them (trained when the first unit after the warm-up is due)."""
    todo = iter(todo)
    first = []
    for u in todo:
        first.append(u)
        if u not in warmup:
            break
    warm = [u for u in first if u in warmup]
    if warm:
        yield _Stage(UnitRunner(config), warm)
    rest = [u for u in first if u not in warmup]
    if rest:
        model = train_from_store(store, cid, config, units=warmup) if warmup else None
        yield _Stage(UnitRunner(config, model), itertools.chain(rest, todo))
