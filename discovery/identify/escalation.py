"""Identification of a value: the escalation of stages, their LLL screen and the confirmation.

:func:`identify` reads the value and its known digits; :func:`escalation_stages` lists the stages
(rational, Möbius in the core catalog, quadratic, then the wider ones); :func:`run_escalation`
screens each stage (:func:`screen_stage`) and confirms its candidates best return first, stopping
at the first confirmed relation.  The method is described in :mod:`discovery.identify`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import mpmath
import sympy

from discovery import constants as catalog
from discovery.errors import InputError
from discovery.identify.bases import HASH_FROM, HashedMobius, hashed_mobius, mobius_bases, pair_bases, polynomial_bases
from discovery.identify.lattice import TooLarge, agreement, lll, normalised, scaled, screen_roi

MIN_ROI = 2.0
DECISIVE_ROI = 8.0
DEFAULT_BUDGET = 5.0  # seconds per value for the escalation
MIN_KNOWN = 20  # digits a value must be known to before anything is claimed about it
_MIN_SCREEN = 8
_ALWAYS = 2  # the stages up to this index run whatever the budget
_SCREEN_MARGIN = 5  # guard digits when the value is computed for screening
_L = sympy.Symbol("L")


@dataclass(frozen=True)
class Identification:
    """A confirmed closed form of a number.

    Attributes
    ----------
    constant : str or None
        Catalog name of the constant in the relation (names joined by ``,`` for several), None
        for a rational or quadratic-irrational value.
    kind : str
        ``rational``, ``quadratic``, ``mobius``, ``polynomial`` (degree 2 in one constant),
        ``pair`` (Möbius-like in two constants) or ``product`` (Möbius in a product of powers of
        constants, named like ``lemniscate^2*pi^-1``).
    basis : tuple of str
        The monomials the relation is over, L standing for the value.
    relation : tuple of int
        Integer coefficients of the basis summing to zero.
    closed_form : str
        The value as a sympy-parsable formula (``str(expr)``).
    expr : sympy.Expr
        The same, in sympy's constants where sympy has them (catalog symbols otherwise).
    digits_verified : float
        Digits to which the relation was confirmed (inf for an exact rational).
    roi : float
        Return on investment at screening.
    depth : int or None
        For a PCF, the depth of the convergent used for confirmation.
    """

    constant: str | None
    kind: str
    basis: tuple[str, ...]
    relation: tuple[int, ...]
    expr: sympy.Expr
    digits_verified: float
    roi: float
    depth: int | None = None

    @property
    def closed_form(self) -> str:
        """The value as a sympy-parsable formula."""
        return str(self.expr)


ValueSource = Callable[[int], mpmath.mpf]


def _source(value, precision: int | None) -> tuple[ValueSource, int]:
    """A function giving the value at a precision, and the digits it is known to."""
    if callable(value):
        if precision is None:
            raise ValueError("a callable value needs precision= (the digits it can deliver)")
        return value, int(precision)
    if isinstance(value, str):
        text = value.strip()
        try:
            with mpmath.workdps(len(text) + 10):
                exact = mpmath.mpf(text)
        except (ValueError, TypeError):
            raise ValueError(f"cannot read a number from {value!r}") from None
        known = int(precision) if precision is not None else known_digits(text)
    elif isinstance(value, (mpmath.mpf, int, float)):
        # mpf() would round a given mpf to the current precision, which may be far below the value's.
        exact = value if isinstance(value, mpmath.mpf) else mpmath.mpf(value)
        known = int(precision) if precision is not None else mpmath.mp.dps
    else:
        raise ValueError(f"cannot identify a value of type {type(value).__name__}: {value!r}")
    if not mpmath.isfinite(exact):
        raise ValueError(f"cannot identify a non-finite value {value!r}")
    return (lambda dps: +exact), known


def _rational_expr(relation) -> sympy.Expr:
    c0, c1 = relation
    return sympy.Rational(-c0, c1)


def identify(
    value,
    constants: Sequence[str] | None = None,
    digits: int | None = None,
    precision: int | None = None,
    degree: int = 1,
    pairs: bool = False,
    escalate: bool = True,
    budget_seconds: float = DEFAULT_BUDGET,
    trace: list | None = None,
) -> Identification | None:
    """Find and confirm a closed form of ``value``.

    Parameters
    ----------
    value : mpmath.mpf, str, or callable
        The number.  A string is known to as many digits as it has; an mpf to ``precision``
        digits (default: the current mpmath precision); a callable ``f(dps)`` returns the value
        at any precision up to ``precision``.
    constants : sequence of str, optional
        Catalog names to try (default: the core catalog, then the rest of it).
    digits : int, optional
        Digits used for screening.  Default: half of what the value is known to when that is at
        least 60 digits (confirmation then needs the other half), else a third (at least 8), the
        relation then having to hold on all the digits known.  Given explicitly, the value must be
        known to twice as many.
    precision : int, optional
        Digits the value is known to (see ``value``); at least :data:`MIN_KNOWN`.
    degree : int
        1 for Möbius relations; 2 also tries L = P(x)/Q(x) with P, Q of degree 2.
    pairs : bool
        Try two constants at once even when ``escalate`` is False.
    escalate : bool
        Go on to two constants at once and to products of constants when simpler relations fail.
    budget_seconds : float
        Time after which the escalation gives up (rational, Möbius in the core catalog and
        quadratic relations are always tried).
    trace : list, optional
        Receives what was tried, one dict per stage (see :func:`run_escalation`).

    Returns
    -------
    Identification or None
        None when no relation is confirmed.
    """
    source, known = _source(value, precision)
    if digits is None:
        if known < MIN_KNOWN:
            raise ValueError(f"need a value known to at least {MIN_KNOWN} digits, it is known to {known}")
        digits = screen_digits(known)
    elif digits < 15:
        raise ValueError(f"need at least 15 screening digits, got {digits} (the value is known to {known})")
    elif known < 2 * digits:
        raise ValueError(
            f"confirming {digits} screening digits needs the value to {2 * digits} digits; it is known to {known}"
        )
    if degree not in (1, 2):
        raise ValueError(f"degree must be 1 or 2, got {degree!r}")
    stages = escalation_stages(constants, degree, pairs or escalate, escalate)
    return run_escalation(source, known, digits, stages, budget_seconds, depth=None, trace=trace)


def known_digits(text: str) -> int:
    """Significant digits of a decimal as written (``"1.6449340668482264"`` has 17)."""
    return max(1, sum(ch.isdigit() for ch in text.split("e")[0].split("E")[0].lstrip("+-0.")))


def stage_label(stage) -> str:
    """What a stage of :func:`escalation_stages` tries, in words (``"Möbius in 32 constants"``)."""
    if isinstance(stage, str):
        return "rational" if stage == "rational" else "quadratic irrational"
    bases = stage.consts if isinstance(stage, HashedMobius) else stage
    count = len(bases)
    kind = ("product" if bases and isinstance(bases[0], catalog.Product) else "mobius") \
        if isinstance(stage, HashedMobius) else (bases[0].kind if bases else "mobius")
    return {"mobius": f"Möbius in {count} constants", "product": f"Möbius in {count} products of constants",
            "polynomial": f"degree 2 in {count} constants", "pair": f"two constants at once ({count} pairs)"}[kind]


def screen_digits(known: int) -> int:
    """Screening digits for a value known to ``known`` digits: a half, or a third when few."""
    return known // 2 if known >= 60 else max(_MIN_SCREEN, known // 3)


def escalation_stages(constants, degree: int, pairs: bool, products: bool) -> list:
    """The escalation: a list of stage names and bases ("rational"/"quadratic" stand alone).

    Parameters
    ----------
    constants : sequence of str or None
        Catalog names; None for the core catalog, then the rest of it.
    degree : int
        2 adds the stage of degree-2 relations in one constant.
    pairs, products : bool
        Add the stages of two constants at once and of products of constants.

    Returns
    -------
    list
        Each stage is ``"rational"``, ``"quadratic"``, a list of :class:`~discovery.identify.bases.Basis`
        or a :class:`~discovery.identify.bases.HashedMobius`, in the order they are tried.
    """
    key = None if constants is None else tuple(constants)
    return _cached_stages(key, degree, pairs, products, len(catalog.extended()))


@lru_cache(maxsize=64)
def _cached_stages(constants, degree: int, pairs: bool, products: bool, wider_count: int) -> list:
    """:func:`escalation_stages`, built once per request (``wider_count`` changes when a user catalog loads)."""
    if constants is None:
        mobius, wider = mobius_bases(catalog.core()), catalog.extended()
        pair_consts = catalog.resolve(catalog.PAIR_CONSTANTS)
        product_consts = catalog.resolve(catalog.PRODUCT_CONSTANTS)
    else:
        consts = catalog.resolve(constants)
        mobius, wider = mobius_bases(consts), []
        pair_consts = product_consts = consts
    stages = ["rational", mobius, "quadratic"]
    if wider:
        stages.append(hashed_mobius(tuple(wider)) if len(wider) >= HASH_FROM else mobius_bases(wider))
    if degree >= 2:
        stages.append(polynomial_bases(catalog.resolve(constants) if constants else catalog.core(), degree))
    if pairs:
        stages.append(pair_bases(pair_consts))
    if products:
        prods = catalog.products(product_consts)
        stages.append(hashed_mobius(tuple(prods)) if len(prods) >= HASH_FROM else mobius_bases(prods))
    return stages


def _algebraic(source, L, digits, confirm, depth, powers):
    """A confirmed relation among [1, L, ..., L^powers] (rational or quadratic value), or None."""
    unit, Li = 10**digits, scaled(L, digits)
    ints = [unit]
    for _ in range(powers):
        ints.append(ints[-1] * Li // unit)
    rel, residual = lll(ints)
    if not rel[-1]:
        return None
    roi = screen_roi(ints, rel, residual, digits)
    if roi < MIN_ROI:
        return None
    verified = confirm(lambda dps: [source(dps) ** p for p in range(powers + 1)], rel)
    if verified is None:
        return None
    rel = normalised(rel)
    if powers == 1:
        expr = _rational_expr(rel)
    else:
        roots = sympy.solve(sum(c * _L**i for i, c in enumerate(rel)), _L)
        with mpmath.workdps(30):
            expr = min(roots, key=lambda r: abs(mpmath.mpf(str(sympy.N(r, 40))) - L))
    kind, basis = ("rational", ("1", "L")) if powers == 1 else ("quadratic", ("1", "L", "L^2"))
    return Identification(None, kind, basis, rel, expr, verified, roi, depth)


def screen_stage(bases, digits: int, Li: int, deadline: float) -> list:
    """Candidates (roi, basis, relation) of one stage, best return first.

    Parameters
    ----------
    bases : iterable of Basis
        The stage.
    digits : int
        Screening digits.
    Li : int
        The value scaled by 10**digits (:func:`~discovery.identify.lattice.scaled`).
    deadline : float
        A ``time.perf_counter`` value after which no further basis is screened.

    Returns
    -------
    list of (float, Basis, list of int)
        The relations whose return reaches :data:`MIN_ROI`, unconfirmed; the screen stops at the
        first reaching :data:`DECISIVE_ROI`.
    """
    # Candidates are confirmed best return on investment first, so of two related constants (phi
    # and sqrt5, cbrt2 and cbrt4) the simpler relation wins; a relation with an overwhelming
    # return is confirmed at once, as nothing related can beat it by much.
    candidates = []
    for basis in bases:
        if time.perf_counter() > deadline:
            break
        try:
            ints = basis.scaled(digits, Li)
        except TooLarge:
            continue  # a (user catalog) constant too large for LLL cannot be in a relation it screens
        rel, residual = lll(ints)
        k = len(rel) // 2
        if not any(rel[k:]) or not any(rel[1:k]) and not any(rel[k + 1:]):
            continue  # L absent, or only a rational relation
        if abs(sum(c * v for c, v in zip(rel[k:], ints[:k]))) < 10 ** (digits // 2):
            continue  # the denominator vanishes: a relation among the constants alone (√2² = 2)
        roi = screen_roi(ints, rel, residual, digits)
        if roi >= MIN_ROI:
            candidates.append((roi, basis, rel))
            if roi >= DECISIVE_ROI:
                break
    candidates.sort(key=lambda c: -c[0])
    return candidates


def run_escalation(source, known, digits, stages, budget_seconds, depth, trace: list | None = None):
    """Run the escalation ``stages`` on a value known to ``known`` digits, screening on ``digits``.

    Parameters
    ----------
    source : callable
        ``source(dps)`` gives the value at ``dps`` digits, up to ``known``.
    known : int
        Digits the value is known to.
    digits : int
        Screening digits.
    stages : list
        From :func:`escalation_stages`.
    budget_seconds : float
        Time after which the stages past the first three are given up.
    depth : int or None
        Depth of the convergent the value comes from, recorded in the result.
    trace : list, optional
        Receives one dict per stage: ``stage`` (:func:`stage_label`), ``seconds`` and ``cut`` (the
        budget ended it before every basis was screened) for a stage that ran, ``skipped`` (the
        reason) for one the budget left out.

    Returns
    -------
    Identification or None
        The first confirmed relation, or None.
    """
    trace = [] if trace is None else trace
    deadline = time.perf_counter() + budget_seconds
    with mpmath.workdps(digits + _SCREEN_MARGIN + 10):
        L = source(digits + _SCREEN_MARGIN)
    # Screening on half the digits leaves the other half to confirm; screening on fewer (a value
    # known to few digits) demands agreement on all but the last three of those known.
    need = 2 * digits - 1 if known >= 2 * digits else max(2 * digits - 1, known - 3)
    deep_dps = min(known, max(2 * digits + 20, need + 3))

    def confirm(values_at, relation):
        with mpmath.workdps(deep_dps + 10):
            got = agreement(values_at(deep_dps), relation)
        got = min(got, known)
        return got if got >= need else None

    try:
        Li = scaled(L, digits)
    except TooLarge as err:
        raise InputError(f"cannot identify the value: {err}") from None
    for number, stage in enumerate(stages):
        # Rational, Möbius in the core catalog and quadratic always run; later stages within the budget.
        if number > _ALWAYS and time.perf_counter() > deadline:
            trace.extend({"stage": stage_label(s), "skipped": "budget"} for s in stages[number:])
            return None
        began = time.perf_counter()
        found = _run_stage(stage, number, source, L, Li, digits, confirm, depth, deadline)
        done = time.perf_counter()
        # A stage past the first three stops screening at the deadline: say so.
        trace.append({"stage": stage_label(stage), "seconds": done - began,
                      "cut": number > _ALWAYS and done > deadline})
        if found is not None:
            return found
    return None


def _run_stage(stage, number, source, L, Li, digits, confirm, depth, deadline):
    """One stage of :func:`run_escalation`: its first confirmed relation, or None."""
    if isinstance(stage, str):
        return _algebraic(source, L, digits, confirm, depth, powers=1 if stage == "rational" else 2)
    if isinstance(stage, HashedMobius):
        with mpmath.workdps(30):
            stage = stage.bases(float(L))
    for roi, basis, rel in screen_stage(stage, digits, Li, math.inf if number <= _ALWAYS else deadline):
        verified = confirm(lambda dps, b=basis: b.values(dps, source(dps)), rel)
        if verified is None:
            continue
        rel = normalised(rel)
        return Identification(
            ",".join(c.name for c in basis.constants),
            basis.kind,
            basis.names(),
            rel,
            basis.closed_form(rel),
            verified,
            roi,
            depth,
        )
    return None
