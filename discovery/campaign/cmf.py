"""The ``cmf`` strategy: the trajectories of a shipped conservative matrix field, as PCFs.

``[space] cmf = "zeta3"`` names a shipped rank-2 field (:func:`discovery.cmf.known_names`).  Its
trajectories are every primitive non-zero direction with components in [-``max_step``,
``max_step``] (default 2, at most 10) from every integer start with coordinates in
[1, ``max_start``] (default 2, at most 100), at most 10⁶ of them; directions in lexicographic
order, the starts of each in lexicographic order.  Unit u holds trajectories u·``unit_size`` to
(u + 1)·``unit_size`` - 1, computed from its index alone.  Each trajectory becomes its PCF
(:func:`discovery.cmf.trajectory_pcf`); those with no PCF, those whose PCF terminates
(b(k) = 0 at some k >= 1) and those past the degrees and coefficients of a campaign's space are
skipped (:func:`discovery.campaign.cmf_pipeline.usable_pcf`), the rest deduplicated by canonical
form and sent through :func:`discovery.campaign.cmf_pipeline.cmf_batch_result` (the campaign
pipeline, then an LLL screen of the limits the Möbius table missed).  A unit's results and its
done mark are stored in one transaction, so a stopped campaign resumes without duplicates.

``[search] mode = "evolve"`` searches the same box with NSGA-II instead
(:mod:`discovery.campaign.cmf_evolve`); ``mode = "enumerate"`` is the default.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

from discovery.campaign.cmf_evolve import CmfEvolve
from discovery.campaign.cmf_pipeline import cmf_batch_result, usable_pcf
from discovery.campaign.config import PcfConfig
from discovery.campaign.strategy import CampaignRun, Strategy
from discovery.cmf import known_cmf
from discovery.pcf.formula import PCF, to_arrays
from discovery.records import UnitResult


def directions(dim: int, max_step: int) -> list[tuple[int, ...]]:
    """The primitive non-zero directions with components in [-max_step, max_step], in lexicographic order.

    Parameters
    ----------
    dim : int
        The field's dimension.
    max_step : int

    Returns
    -------
    list of tuple of int
    """
    return [d for d in itertools.product(range(-max_step, max_step + 1), repeat=dim)
            if any(d) and math.gcd(*d) == 1]


def trajectory_count(config: PcfConfig) -> int:
    """Number of trajectories of a ``cmf`` campaign's space."""
    space = config.space
    dim = known_cmf(space["cmf"]).dim
    return len(directions(dim, space["max_step"])) * space["max_start"] ** dim


def trajectories(config: PcfConfig, unit: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The (direction, start) pairs of one work unit, from its index alone.

    Parameters
    ----------
    config : PcfConfig
        A ``cmf`` campaign.
    unit : int

    Returns
    -------
    list of (direction, start)
    """
    space, size = config.space, config.search["unit_size"]
    dim = known_cmf(space["cmf"]).dim
    dirs = directions(dim, space["max_step"])
    starts = space["max_start"] ** dim
    out = []
    for t in range(unit * size, min((unit + 1) * size, len(dirs) * starts)):
        d, s = divmod(t, starts)
        start = []
        for _ in range(dim):
            s, c = divmod(s, space["max_start"])
            start.append(c + 1)
        out.append((dirs[d], tuple(reversed(start))))
    return out


def unit_pcfs(config: PcfConfig, unit: int) -> list[PCF]:
    """The distinct canonical PCFs of a unit's trajectories, in trajectory order (see the module
    docstring for those skipped)."""
    cmf = known_cmf(config.space["cmf"])
    seen = {}
    for direction, start in trajectories(config, unit):
        pcf = usable_pcf(cmf, direction, start)
        if pcf is not None:
            seen.setdefault((tuple(pcf.a), tuple(pcf.b)), pcf)
    return list(seen.values())


class _CmfUnit:
    """Picklable call computing one unit (plain JSON travels back from a worker)."""

    def __init__(self, config: PcfConfig):
        self.config = config

    def __call__(self, unit: int) -> dict:
        pcfs = unit_pcfs(self.config, unit)
        if not pcfs:
            return UnitResult(0, 0, unit=unit).to_json()
        A, B = to_arrays(pcfs)
        return dataclasses.replace(cmf_batch_result(A, B, self.config), unit=unit).to_json()


class Cmf(Strategy):
    """``[search] strategy = "cmf"``: every unit of trajectories, then clusters, representatives,
    families; with ``mode = "evolve"``, :class:`~discovery.campaign.cmf_evolve.CmfEvolve` searches
    instead."""

    clusters = True
    families = True

    def units(self, config: PcfConfig) -> int:
        if config.search["mode"] == "evolve":
            return CmfEvolve().units(config)
        return -(-trajectory_count(config) // config.search["unit_size"])

    def run(self, run: CampaignRun) -> bool:
        if run.config.search["mode"] == "evolve":
            return CmfEvolve().run(run)
        config, store, cid = run.config, run.store, run.campaign_id
        total = self.units(config)
        done_before = store.done_units(cid)
        todo = [u for u in range(total) if u not in done_before]
        if run.max_units is not None:
            todo = todo[:run.max_units]
        if todo:
            run.store_units([(_CmfUnit(config), todo)], total, len(done_before))
        return len(store.done_units(cid)) == total
