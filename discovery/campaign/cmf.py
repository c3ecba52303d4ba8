"""The ``cmf`` strategy: the trajectories of a shipped conservative matrix field, as PCFs.

``[space] cmf = "zeta3"`` names a shipped rank-2 field (:func:`discovery.cmf.known_names`).  Its
trajectories are every primitive non-zero direction with components in [-``max_step``,
``max_step``] (default 2, at most 10) from every integer start with coordinates in
[1, ``max_start``] (default 2, at most 100), at most 10⁶ of them; directions in lexicographic
order, the starts of each in lexicographic order.  Unit u holds trajectories u·``unit_size`` to
(u + 1)·``unit_size`` - 1, computed from its index alone.  Each trajectory becomes its PCF
(:func:`discovery.cmf.trajectory_pcf`); those with no PCF, those whose PCF terminates
(b(k) = 0 at some k >= 1) and those past the degrees and coefficients of a campaign's space are
skipped, the rest deduplicated by canonical form and sent through
:func:`discovery.campaign.pcf.process_batch`, as an enumerated unit is.  A unit's results and its
done mark are stored in one transaction, so a stopped campaign resumes without duplicates.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

from flint import fmpz_poly

from discovery.campaign.config import PcfConfig
from discovery.campaign.pcf import batch_result
from discovery.campaign.schema import MAX_DEGREE_A, MAX_DEGREE_B
from discovery.campaign.strategy import CampaignRun, Strategy
from discovery.cmf import known_cmf, trajectory_pcf
from discovery.errors import InputError
from discovery.pcf.formula import PCF, to_arrays
from discovery.pcf.space import MAX_COEFFICIENT
from discovery.identify import identify_pcf
from discovery.records import IdentificationRecord, UnitResult


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


def usable_pcf(cmf, direction, start) -> PCF | None:
    """The canonical PCF of a trajectory if the pipeline takes it, else None: None when the
    trajectory has no PCF (b = 0, an invariant vector, a direction past the field's bounds, ...),
    its PCF terminates, or its degrees or coefficients exceed those a campaign's space may hold."""
    try:
        pcf = trajectory_pcf(cmf, direction, start).pcf
    except InputError:
        return None
    return pcf if _usable(pcf) else None


def _usable(pcf: PCF) -> bool:
    """Whether the pipeline takes the PCF: it does not terminate, and its degrees and coefficients
    are those a campaign's space may hold (the float kernels and the class test are made for them)."""
    b = fmpz_poly(list(reversed(pcf.b)))
    return (not any(int(r) >= 1 for r, _ in b.roots())
            and len(pcf.a) <= MAX_DEGREE_A + 1 and len(pcf.b) <= MAX_DEGREE_B + 1
            and all(abs(c) <= MAX_COEFFICIENT for c in pcf.a + pcf.b))


def field_constants(config: PcfConfig) -> list[str]:
    """The constants a CMF campaign screens its unmatched limits against: the ``[identify]``
    constants, or the field's own constant when the campaign lists none."""
    constants = config.identify["constants"]
    return list(constants) if constants else [known_cmf(config.space["cmf"]).constant]


def cmf_batch_result(A, B, config: PcfConfig) -> UnitResult:
    """:func:`~discovery.campaign.pcf.batch_result`, then an LLL screen of every converging PCF the
    Möbius table did not match against :func:`field_constants`, confirmed with exact convergents
    to ``confirm_digits`` as a table hit is.

    A CMF's trajectories converge to Möbius images of one constant whose coefficients grow with
    the start (from (1, 2) of the zeta(3) field already past 10⁵): far beyond any table bound,
    within reach of LLL on ``digits`` digits.
    """
    result = batch_result(A, B, config)
    ident = config.identify
    constants = field_constants(config)
    records = []
    for rec in result.pcfs:
        if rec.identification is None and _finite(rec.metrics.get("limit_value")):
            hit = identify_pcf(PCF(rec.a, rec.b), constants, ident["digits"], escalate=False, budget_seconds=0.0,
                               closed_forms=False)
            if hit is not None and hit.digits_verified >= ident["confirm_digits"]:
                rec = dataclasses.replace(rec, identification=IdentificationRecord.of(hit))
        records.append(rec)
    return dataclasses.replace(result, pcfs=tuple(records))


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


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


def _evolve() -> Strategy:
    # Imported here: cmf_evolve builds on this module (its boxes and usable PCFs).
    from discovery.campaign.cmf_evolve import CmfEvolve

    return CmfEvolve()


class Cmf(Strategy):
    """``[search] strategy = "cmf"``: every unit of trajectories, then clusters, representatives,
    families; with ``mode = "evolve"``, :class:`~discovery.campaign.cmf_evolve.CmfEvolve` searches
    instead."""

    clusters = True
    families = True

    def units(self, config: PcfConfig) -> int:
        if config.search["mode"] == "evolve":
            return _evolve().units(config)
        return -(-trajectory_count(config) // config.search["unit_size"])

    def run(self, run: CampaignRun) -> bool:
        if run.config.search["mode"] == "evolve":
            return _evolve().run(run)
        config, store, cid = run.config, run.store, run.campaign_id
        total = self.units(config)
        done_before = store.done_units(cid)
        todo = [u for u in range(total) if u not in done_before]
        if run.max_units is not None:
            todo = todo[:run.max_units]
        if todo:
            run.store_units([(_CmfUnit(config), todo)], total, len(done_before))
        return len(store.done_units(cid)) == total
