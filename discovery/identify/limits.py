"""Identification of the limit of a PCF: the limit computed to the digits wanted, then identified.

:func:`depth_for_digits` chooses a depth from the fraction's convergence rate, :func:`pcf_value`
computes the limit (extrapolating a slowly converging fraction), :func:`identify_pcf` identifies it.
"""

from __future__ import annotations

import math
import time
from typing import Sequence

import mpmath
import numpy as np
import sympy

from discovery.identify.escalation import (DEFAULT_BUDGET, MIN_KNOWN, Identification, escalation_stages,
                                           run_escalation, screen_digits)
from discovery.identify.lattice import normalised
from discovery.pcf.closed_form import closed_form
from discovery.pcf.exact import LimitEstimate
from discovery.pcf.formula import PCF
from discovery.pcf.kernels import traces
from discovery.pcf.exact import accelerated_limit
from discovery.pcf.exact import exact_limit, first_zero


def _fits_float_kernels(pcf: PCF) -> bool:
    """Whether the float kernels can take the PCF (coefficients within int64, values within float64)."""
    return all(abs(c) < 2**53 for c in pcf.a + pcf.b)


def depth_for_digits(pcf: PCF, digits: float, max_depth: int = 50_000) -> int | None:
    """A depth whose exact convergent has ``digits`` correct digits, or None within max_depth.

    The float log-domain traces give the distance between consecutive convergents on a geometric
    grid of depths in one cheap pass; the first grid depth that looks deep enough is then checked
    exactly, doubling while it falls short.  When the traces show that ``max_depth`` is far too
    shallow (a fraction converging like a power of n), None comes at once.  A PCF whose
    coefficients do not fit the float kernels is searched by exact doubling alone.
    """
    if not _fits_float_kernels(pcf):
        depth = 64
    else:
        grid = np.unique(np.geomspace(16, max_depth, 48).astype(np.int64))
        A, B = pcf.as_arrays()
        tr = traces(A, B, grid)
        with np.errstate(invalid="ignore"):
            size = np.where(np.isfinite(tr.log_p - tr.log_q), tr.log_p - tr.log_q, 0.0)
            est = (size - tr.log_diff[0]) / math.log(10)
        deep = np.nonzero(est[0] >= digits + 2)[0]
        if not deep.size and np.isfinite(est[0, -1]) and est[0, -1] < digits / 2:
            return None
        depth = int(grid[deep[0]]) if deep.size else max_depth
    while True:
        got = pcf.limit(depth, dps=20).digits
        if got >= digits:
            return depth
        if depth >= max_depth or (depth >= 1024 and got < digits / 4):
            return None
        depth = min(max_depth, 2 * depth)


def pcf_value(pcf: PCF, digits: float, max_depth: int = 50_000, deadline: float = math.inf,
              progress: bool = False):
    """The limit of a PCF to ``digits`` digits if it can be had, else as many as can be.

    Exact convergents at a depth chosen from the PCF's convergence rate first; for a fraction
    that converges too slowly for that, Richardson extrapolation of exact convergents
    (:func:`discovery.pcf.exact.accelerated_limit`) at depths growing fourfold from 1,000 up to
    ``max(max_depth, 200,000)`` while time (``deadline``, a ``time.perf_counter`` value) remains.
    With no time left at all, a fraction too slow for plain convergents gets no digits.

    Returns
    -------
    LimitEstimate
        Its ``digits`` are the ones it can stand behind (possibly fewer than asked).
    """
    depth = depth_for_digits(pcf, digits, max_depth)
    if depth is not None:
        return pcf.limit(depth, dps=int(digits) + 10)
    if time.perf_counter() >= deadline:
        return LimitEstimate(mpmath.mpf("nan"), 0.0, 0)
    best = pcf.limit(min(max_depth, 1000))
    n = 1000
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        est = accelerated_limit(pcf.a, pcf.b, n, progress=progress)
        if est.digits > best.digits:
            best = est
        if best.digits >= digits or n >= max(max_depth, 200_000):
            break
        # A fourfold depth costs about five times as long: stop if it would overrun.
        if time.perf_counter() + 5 * (time.perf_counter() - started) > deadline:
            break
        n *= 4
    return best


def identify_pcf(
    pcf: PCF,
    constants: Sequence[str] | None = None,
    digits: int = 50,
    degree: int = 1,
    pairs: bool = False,
    max_depth: int = 50_000,
    escalate: bool = True,
    budget_seconds: float = DEFAULT_BUDGET,
    progress: bool = False,
    closed_forms: bool = True,
    trace: list | None = None,
) -> Identification | None:
    """Identify the limit of a PCF, confirmed with exact convergents.

    The limit is computed exactly (``p_n/q_n`` with gmpy2) at a depth chosen from the PCF's own
    convergence rate so that it has ``2 * digits`` correct digits, and then screened on ``digits``
    of them and confirmed on all.  A fraction converging too slowly for that is extrapolated
    (:func:`pcf_value`) and identified on the digits it reaches, if at least :data:`MIN_KNOWN`:
    screened on a third, confirmed on all; ``digits_verified`` then tells.  A finite fraction is an
    exact rational.  Coefficients may be integers of any size; a common scaling (a = c·a′,
    b = c²·b′, see :meth:`discovery.pcf.PCF.canonical`) is removed first and the result scaled back,
    so 10¹⁰⁰⁰·(2n+1), 10²⁰⁰⁰·n² is identified as 4·10¹⁰⁰⁰/π like 2n+1, n².

    Parameters
    ----------
    pcf : PCF
    constants, degree, pairs, escalate
        As for :func:`identify`.
    digits : int
        Screening digits when the fraction delivers twice as many.
    max_depth : int
        Deepest plain convergent tried; extrapolation may go deeper.
    budget_seconds : float
        Time for evaluating and identifying together.
    progress : bool
        A tqdm bar for long exact walks.
    closed_forms : bool
        For deg a <= 1 and deg b <= 2, when no relation with the catalog's constants is confirmed,
        the hypergeometric closed form (:func:`discovery.pcf.closed_form.closed_form`: a ratio of
        2F1, 1F1, 0F1 or Tricomi U functions, simplified to elementary and named functions where
        sympy can), confirmed on the exact convergents: an identification of ``kind`` "2F1",
        "1F1", ... with no catalog constant and an empty relation.  Campaigns leave it out (their
        identifications name a constant of the catalog).
    trace : list, optional
        Receives what was tried: a dict ``{"stage": "evaluation", "digits": ..., "depth": ...}``
        for the limit's value, then one per stage of the escalation
        (:func:`~discovery.identify.escalation.run_escalation`), and one for the hypergeometric
        closed form when it was tried.

    Returns
    -------
    Identification or None
        None when the PCF does not converge to enough digits, or nothing is confirmed.
    """
    if not isinstance(pcf, PCF):
        raise ValueError(f"identify_pcf takes a PCF, got {pcf!r}")
    scale = pcf.canonical_factor()
    if scale != 1:
        # a -> c·a, b -> c²·b multiplies the limit by c: identify the smaller fraction, scale back.
        found = identify_pcf(pcf.canonical(), constants, digits, degree, pairs, max_depth, escalate, budget_seconds,
                             progress, closed_forms, trace)
        return None if found is None else _rescaled(found, scale)

    started = time.perf_counter()
    stop = first_zero(pcf.b, max_depth)
    if stop is not None:
        q = exact_limit(pcf.a, pcf.b, max_depth)
        if q is None:
            return None
        expr = sympy.Rational(int(q.numerator), int(q.denominator))
        rel = (-int(q.numerator), int(q.denominator))
        return Identification(None, "rational", ("1", "L"), rel, expr, math.inf, math.inf, stop - 1)
    target = 2 * digits + 20
    est = pcf_value(pcf, target, max_depth, started + budget_seconds / 2, progress)
    known = int(min(est.digits, target + 10))
    if trace is not None:
        trace.append({"stage": "evaluation", "digits": known, "depth": est.depth})
    if known < MIN_KNOWN:
        return None
    screen = digits if known >= 2 * digits else screen_digits(known)
    value = est.value

    def source(dps):
        return +value

    remaining = max(0.0, budget_seconds - (time.perf_counter() - started))
    stages = escalation_stages(constants, degree, pairs or escalate, escalate)
    found = run_escalation(source, known, screen, stages, remaining, est.depth, trace)
    if found is None and closed_forms and len(pcf.a) <= 2 and len(pcf.b) <= 3:
        began = time.perf_counter()
        found = _hypergeometric(pcf, min(known, 2 * digits), est.depth)
        if trace is not None:
            trace.append({"stage": "hypergeometric closed form", "seconds": time.perf_counter() - began,
                          "cut": False})
    return found


def _hypergeometric(pcf: PCF, digits: int, depth: int) -> Identification | None:
    """The closed form of a degree-(1, 2) PCF as an identification (``depth``: of the convergent
    the value was known at), or None."""
    cf = closed_form(pcf, digits=max(digits, MIN_KNOWN), min_digits=MIN_KNOWN)
    if cf is None:
        return None
    return Identification(None, cf.kind, ("L",), (), cf.expression, cf.digits_confirmed, math.inf, depth)


def _rescaled(found: Identification, scale: int) -> Identification:
    """The identification of ``scale`` times the value ``found`` identifies."""
    # A term with L^k gets scale^(top - k) so the relation holds for scale·L (top: the highest k).
    if found.kind in ("rational", "quadratic"):
        powers = list(range(len(found.relation)))
    else:
        half = len(found.relation) // 2
        powers = [0] * half + [1] * half
    top = max(powers)
    relation = normalised([c * scale ** (top - k) for c, k in zip(found.relation, powers)])
    return Identification(found.constant, found.kind, found.basis, relation, sympy.Integer(scale) * found.expr,
                          found.digits_verified, found.roi, found.depth)

