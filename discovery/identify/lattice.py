"""Integer relations by LLL: numbers made integers, the reduced lattice, and what a relation is worth.

A relation among numbers known to ``digits`` digits is screened on the integers
round(x · 10^digits) (:func:`scaled`); :func:`lll` returns the first row of the reduced lattice and
its residual, :func:`screen_roi` the digits of agreement per digit spent on the coefficients, and
:func:`agreement` the digits to which a relation holds at any precision.
"""

from __future__ import annotations

import math
from typing import Sequence

import flint
import mpmath

from discovery.errors import InputError


# Digits before the point of any number made an integer for LLL.  Past it the integers grow with the
# number itself: LLL on millions of digits runs for hours, and at about 10^16 digits GMP aborts the
# whole process ("overflow in mpz type"), so nothing could even report the failure.
MAX_MAGNITUDE = 10_000


class TooLarge(InputError):
    """A number beyond :data:`MAX_MAGNITUDE` digits before the point."""


def scaled(value: mpmath.mpf, digits: int) -> int:
    """round(value * 10**digits) as a Python int, refused (``TooLarge``) past :data:`MAX_MAGNITUDE`.

    Raises
    ------
    TooLarge
        When ``value`` has more than :data:`MAX_MAGNITUDE` digits before the point.
    """
    if mpmath.isfinite(value) and value != 0 and mpmath.mag(value) > MAX_MAGNITUDE / math.log10(2):
        size = mpmath.mag(value) * math.log10(2)
        shown = f"{int(size):,}" if size < 1e15 else f"{size:.3g}"
        raise TooLarge(f"a number of about 10^{shown} refused: LLL takes numbers of at most {MAX_MAGNITUDE:,} "
                       "digits before the point")
    with mpmath.workdps(digits + 20):
        return int(mpmath.nint(value * mpmath.mpf(10) ** digits))


def lll(ints: Sequence[int]) -> tuple[list[int], int]:
    """The first LLL-reduced row of the relation lattice: coefficients and scaled residual.

    Parameters
    ----------
    ints : sequence of int
        The numbers, scaled to integers (:func:`scaled`).

    Returns
    -------
    relation : list of int
        Coefficients c_i, the best candidate relation.
    residual : int
        sum(c_i · ints_i), small for a true relation.
    """
    k = len(ints)
    rows = [[1 if i == j else 0 for j in range(k)] + [ints[i]] for i in range(k)]
    reduced = flint.fmpz_mat(rows).lll()
    return [int(reduced[0, j]) for j in range(k)], int(reduced[0, k])


def screen_roi(ints: Sequence[int], relation: Sequence[int], residual: int, digits: int) -> float:
    """Digits of agreement (at most ``digits``) per digit spent on the coefficients.

    Parameters
    ----------
    ints : sequence of int
        The numbers scaled by 10**digits, as given to :func:`lll`.
    relation, residual
        What :func:`lll` returned for them.
    digits : int
        Digits the numbers were scaled by.

    Returns
    -------
    float
        The return on investment; spurious relations sit near 0.85, true ones far above 2.
    """
    scale = max(abs(c * v) for c, v in zip(relation, ints) if c)
    if scale == 0:
        return 0.0
    agreed = math.log10(scale) - math.log10(max(abs(residual), 1))
    return min(agreed, digits) / max(spent(relation), 1e-9)


def find_relation(values: Sequence[mpmath.mpf], digits: int) -> list[int] | None:
    """An integer relation among ``values`` by LLL on their first ``digits`` digits.

    Returns the first vector of the LLL-reduced lattice (the best candidate; whether it is a
    relation is for the caller to judge), or None when that vector is zero.
    """
    relation, _ = lll([scaled(v, digits) for v in values])
    return relation if any(relation) else None


def agreement(values: Sequence[mpmath.mpf], relation: Sequence[int]) -> float:
    """Digits to which sum(c_i v_i) vanishes, relative to the size of its terms.

    Returns
    -------
    float
        The digits, inf when the sum is exactly 0 at the working precision.
    """
    terms = [c * v for c, v in zip(relation, values) if c]
    scale = max(abs(t) for t in terms)
    residual = abs(mpmath.fsum(terms))
    if residual == 0:
        return math.inf
    return float(-mpmath.log10(residual / scale))


def spent(relation: Sequence[int]) -> float:
    """Digits spent on the coefficients of a relation: sum of log10(1 + |c|)."""
    return sum(math.log10(1 + abs(c)) for c in relation)


def normalised(relation: list[int]) -> tuple[int, ...]:
    """The relation divided by the gcd of its coefficients, its first nonzero coefficient positive."""
    g = math.gcd(*relation)
    rel = [c // g for c in relation]
    lead = next(c for c in rel if c)
    return tuple(-c for c in rel) if lead < 0 else tuple(rel)

