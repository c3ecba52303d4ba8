"""The pipeline of a CMF campaign's trajectories, shared by its two modes (:mod:`.cmf`,
:mod:`.cmf_evolve`): which trajectories' PCFs it takes, and the batch call that adds an LLL screen
against the field's constant to the campaign pipeline."""

from __future__ import annotations

import dataclasses
import math

from flint import fmpz_poly
from sympy.polys.polyerrors import HeuristicGCDFailed

from discovery.campaign.config import PcfConfig
from discovery.campaign.pcf import batch_result
from discovery.campaign.schema import MAX_DEGREE_A, MAX_DEGREE_B
from discovery.cmf import known_cmf, trajectory_pcf
from discovery.errors import InputError
from discovery.identify import identify_pcf
from discovery.pcf.formula import PCF
from discovery.pcf.space import MAX_COEFFICIENT
from discovery.records import IdentificationRecord, UnitResult


def usable_pcf(cmf, direction, start) -> PCF | None:
    """The canonical PCF of a trajectory if the pipeline takes it, else None: None when the
    trajectory has no PCF (b = 0, an invariant vector, a direction past the field's bounds, ...)
    or sympy fails to convert it,
    its PCF terminates, or its degrees or coefficients exceed those a campaign's space may hold."""
    try:
        pcf = trajectory_pcf(cmf, direction, start).pcf
    except InputError:
        return None
    except HeuristicGCDFailed:
        # sympy's heuristic gcd gives up inside the conversion's cancel() on some long steps of the
        # zeta(3) field (seen with max_step 2, max_start 6): no PCF this campaign can use.
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
