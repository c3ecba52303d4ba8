"""A screen for values known to fewer digits than identification needs (a float as users paste it).

:func:`~discovery.identify.escalation.identify` wants :data:`~discovery.identify.escalation.MIN_KNOWN`
digits, screens on part of them and confirms on the rest.  A float pasted from elsewhere
(``1.6449340668482264``) has 15 to 17.  :func:`screen` runs the stages that always run (rational,
Möbius in the core catalog or in the given constants, quadratic) on ``digits`` of them and asks the
relation to hold on ``2 * digits - 1`` digits and on all but the last three given: too few to
confirm anything, so what it finds is a candidate, reported with the rate at which this very screen
claims a relation for random numbers of the same precision (:func:`false_positive_rate`, measured by
``scripts/bench_low_precision.py``).
"""

from __future__ import annotations

from typing import Sequence

from discovery.errors import InputError
from discovery.identify.escalation import (MIN_KNOWN, Identification, _source, escalation_stages, known_digits,
                                           run_escalation)

ALWAYS_STAGES = 3  # rational, Möbius in the core catalog (or the constants given), quadratic

MIN_SCREEN_DIGITS = 6  # below this LLL's returns on random numbers pass the gate
MIN_SCREEN_KNOWN = 2 * MIN_SCREEN_DIGITS + 1  # fewer digits given: nothing is claimed, not even a candidate


def screen_range(known: int) -> tuple[int, int]:
    """The screening digits :func:`screen` accepts for a value given to ``known`` digits: a
    relation screened on d digits must hold on 2d - 1 (and on all but the last three given), so
    d is at most (known - 1) / 2."""
    return MIN_SCREEN_DIGITS, (known - 1) // 2


def screen(text: str, digits: int, constants: Sequence[str] | None = None,
           trace: list | None = None) -> Identification | None:
    """A candidate closed form of a decimal given to fewer than ``MIN_KNOWN`` digits.

    Parameters
    ----------
    text : str
        The decimal, as given (its significant digits are what is known).
    digits : int
        Screening digits, in :func:`screen_range` of the digits given.
    constants : sequence of str, optional
        Catalog names (default: the core catalog).
    trace : list, optional
        Receives the stages tried (see :func:`~discovery.identify.escalation.run_escalation`).

    Returns
    -------
    Identification or None
        A relation screened on ``digits`` digits that holds on ``2 * digits - 1`` and on all but the
        last three digits given: not confirmed (``digits_verified`` says on how many digits it holds).

    Raises
    ------
    InputError
        For a value given to :data:`MIN_KNOWN` digits or more (identify it), to fewer than
        :data:`MIN_SCREEN_KNOWN`, or ``digits`` outside :func:`screen_range`.
    """
    known = known_digits(text)
    if known >= MIN_KNOWN:
        raise InputError(f"{text} has {known} digits: identify it (the low-precision screen is for fewer than "
                         f"{MIN_KNOWN})")
    if known < MIN_SCREEN_KNOWN:
        raise InputError(f"{text} has {known} significant digits; even a screen needs {MIN_SCREEN_KNOWN} "
                         f"(identification {MIN_KNOWN})")
    lo, hi = screen_range(known)
    if not lo <= digits <= hi:
        raise InputError(f"a value given to {known} digits is screened on {lo} to {hi} digits, got {digits}")
    source, known = _source(text, None)
    # Only the stages that always run (rational, Möbius in the core catalog, quadratic): every
    # further basis screened adds to the false positives.
    stages = escalation_stages(tuple(constants) if constants else None, 1, False, False)[:ALWAYS_STAGES]
    return run_escalation(source, known, digits, stages, 0.0, depth=None, trace=trace)


def false_positive_rate(known: int, digits: int) -> tuple[int, int] | None:
    """How often :func:`screen` claimed a relation for random reals given to ``known`` digits,
    screened on ``digits`` (:data:`FALSE_POSITIVES`): (claims, trials), or None where it was not
    measured."""
    return FALSE_POSITIVES.get((known, digits))


# (digits given, screening digits): (relations claimed, random reals screened), measured by
# MEASURED_BY (each claim a false positive: a random real has no relation; 515 s on a shared
# 2-core machine). The same run found 3,499 of 3,500 Möbius transforms (|ci| <= 3) of the core
# constants given to 13-19 digits, screened on the most digits allowed.
MEASURED_BY = "python scripts/bench_low_precision.py --trials 10000 --seed 0"
FALSE_POSITIVES = {
    (13, 6): (0, 10000),
    (14, 6): (0, 10000),
    (15, 6): (0, 10000),
    (15, 7): (0, 10000),
    (16, 6): (0, 10000),
    (16, 7): (0, 10000),
    (17, 6): (1, 10000),
    (17, 7): (0, 10000),
    (17, 8): (0, 10000),
    (18, 6): (0, 10000),
    (18, 7): (0, 10000),
    (18, 8): (0, 10000),
    (19, 6): (0, 10000),
    (19, 7): (0, 10000),
    (19, 8): (0, 10000),
    (19, 9): (0, 10000),
}
