"""Meet-in-the-middle search: PCF limits matched against Möbius transforms of constants.

This is the Ramanujan Machine's original method.  A table holds (c₀ + c₁x)/(c₂ + c₃x) in float64
for every catalog constant x asked for and every integer vector with |cᵢ| <= bound (one per
projective class, x present, non-degenerate), sorted.  The float limits of a batch of PCFs are
looked up in it by a numba kernel.  A hit is only a candidate: :func:`discovery.identify.mitm_sweep`
and :func:`discovery.identify.confirm_matches` identify and confirm each with exact convergents, so
a coincidence in float64 is never reported.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Sequence

import numba
import numpy as np

from discovery import constants as catalog


@dataclass(frozen=True)
class MobiusTable:
    """Sorted float64 Möbius transforms of constants.

    Attributes
    ----------
    values : ndarray of float64
        Sorted transform values.
    constant : ndarray of int
        Index into ``names`` of each value's constant.
    coeffs : ndarray of int, shape (len(values), 4)
        (c₀, c₁, c₂, c₃) of each value.
    names : tuple of str
        Catalog names of the constants.
    """

    values: np.ndarray
    constant: np.ndarray
    coeffs: np.ndarray
    names: tuple[str, ...]


def _coefficient_vectors(bound: int) -> np.ndarray:
    """One (c0, c1, c2, c3) per projective class with x present and c0 c3 != c1 c2."""
    r = range(-bound, bound + 1)
    C = np.array(list(itertools.product(r, r, r, r)), dtype=np.int64)
    det = C[:, 0] * C[:, 3] - C[:, 1] * C[:, 2]
    g = np.gcd.reduce(np.abs(C), axis=1)
    # First non-zero of the denominator (c3, then c2) positive fixes the sign of the class.
    lead = np.where(C[:, 3] != 0, C[:, 3], C[:, 2])
    keep = (det != 0) & (g == 1) & (lead > 0)
    return C[keep]


def mobius_table(constants: Sequence[str] | None = None, bound: int = 5) -> MobiusTable:
    """Build the sorted table for the given catalog constants (default: the whole catalog)."""
    if isinstance(bound, bool) or int(bound) != bound or bound < 1:
        raise ValueError(f"bound must be a positive integer, got {bound!r}")
    consts = catalog.resolve(constants)
    C = _coefficient_vectors(int(bound))
    values, owner, coeffs = [], [], []
    for i, c in enumerate(consts):
        x = float(c.value(20))
        with np.errstate(divide="ignore", invalid="ignore"):
            v = (C[:, 0] + C[:, 1] * x) / (C[:, 2] + C[:, 3] * x)
        ok = np.isfinite(v)
        values.append(v[ok])
        owner.append(np.full(ok.sum(), i))
        coeffs.append(C[ok])
    values = np.concatenate(values)
    order = np.argsort(values, kind="stable")
    return MobiusTable(
        values[order], np.concatenate(owner)[order], np.concatenate(coeffs)[order],
        tuple(c.name for c in consts),
    )


@numba.njit(cache=True, parallel=True)
def _match_kernel(limits, table, rtol, max_hits, hits, counts):
    for i in numba.prange(limits.size):
        v = limits[i]
        counts[i] = 0
        if not math.isfinite(v):
            continue
        tol = rtol * max(1.0, abs(v))
        j = np.searchsorted(table, v - tol)
        while j < table.size and table[j] <= v + tol and counts[i] < max_hits:
            hits[i, counts[i]] = j
            counts[i] += 1
            j += 1


def match(limits: np.ndarray, table: MobiusTable, rtol: float = 1e-9, max_hits: int = 8):
    """Table entries within ``rtol`` (relative, at least absolute 1) of each limit.

    Returns
    -------
    rows, entries : ndarray of int
        Pairs (limit index, table index), at most ``max_hits`` per limit.
    """
    limits = np.ascontiguousarray(limits, dtype=np.float64)
    hits = np.empty((limits.size, max_hits), dtype=np.int64)
    counts = np.empty(limits.size, dtype=np.int64)
    _match_kernel(limits, table.values, float(rtol), max_hits, hits, counts)
    rows = np.repeat(np.arange(limits.size), counts)
    if not counts.any():
        return rows, np.empty(0, np.int64)
    return rows, np.concatenate([hits[i, : counts[i]] for i in np.nonzero(counts)[0]])
