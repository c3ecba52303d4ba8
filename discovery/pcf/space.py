"""Coefficient boxes of PCFs: random samples, deduplicated through the canonical form."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from discovery.errors import InputError
from discovery.pcf.formula import PCF, to_arrays

# Enumeration holds the whole grid and a few working copies of it; past this it would rather
# die in numpy's allocator (or swap) than say anything.
MAX_ENUMERATION_BYTES = 4 << 30


def sample_box(
    count: int, degree_a: int = 2, degree_b: int = 2, bound: int = 5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct random PCFs with coefficients in [-bound, bound], a and b not identically zero.

    Each row is the canonical form (see :meth:`discovery.pcf.PCF.canonical`) of the PCF drawn,
    and no two rows are trivial transformations of each other.

    Returns
    -------
    A, B : ndarray of int64
        ``count`` rows each (fewer only if the box holds fewer classes).
    """
    for name, value in (("count", count), ("degree_a", degree_a), ("degree_b", degree_b), ("bound", bound)):
        if int(value) != value or value < (1 if name in ("count", "bound") else 0):
            kind = "positive" if name in ("count", "bound") else "non-negative"
            raise ValueError(f"{name} must be a {kind} integer, got {value!r}")
    rng = np.random.default_rng(seed)
    seen: set = set()
    rows_a, rows_b = [], []
    attempts = 0
    while len(rows_a) < count and attempts < 50 * count:
        batch = max(64, 2 * (count - len(rows_a)))
        A = rng.integers(-bound, bound + 1, size=(batch, degree_a + 1))
        B = rng.integers(-bound, bound + 1, size=(batch, degree_b + 1))
        attempts += batch
        for ra, rb in zip(A, B):
            if not ra.any() or not rb.any():
                continue
            key = PCF(ra.tolist(), rb.tolist()).canonical()
            if key in seen:
                continue
            seen.add(key)
            ka, kb = to_arrays([key])
            rows_a.append(np.pad(ka[0], (degree_a + 1 - ka.shape[1], 0)))
            rows_b.append(np.pad(kb[0], (degree_b + 1 - kb.shape[1], 0)))
            if len(rows_a) == count:
                break
    return np.array(rows_a, dtype=np.int64), np.array(rows_b, dtype=np.int64)


def canonical_mask(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Which rows are their own canonical form (see :meth:`discovery.pcf.PCF.canonical`).

    Every class of PCFs in a coefficient box has its canonical member in the box, so keeping
    these rows keeps exactly one PCF per class.  Rows with a or b identically zero are dropped.
    """
    A = np.asarray(A, dtype=np.int64)
    B = np.asarray(B, dtype=np.int64)
    nonzero = A.any(axis=1) & B.any(axis=1)
    first = np.argmax(A != 0, axis=1)
    positive = A[np.arange(len(A)), first] > 0
    ca = np.gcd.reduce(np.abs(A), axis=1)
    cb = np.gcd.reduce(np.abs(B), axis=1)
    reducible = np.zeros(len(A), dtype=bool)
    for d in range(2, int(ca.max(initial=1)) + 1):
        reducible |= (ca % d == 0) & (cb % (d * d) == 0) & (ca > 0)
    return nonzero & positive & ~reducible


def _grid(ranges: Sequence[tuple[int, ...]]) -> np.ndarray:
    axes = [np.arange(r[0], r[1] + 1, r[2] if len(r) > 2 else 1) for r in ranges]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(ranges))


def enumerate_ranges(
    a_ranges: Sequence[tuple[int, int]], b_ranges: Sequence[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray]:
    """Every PCF whose coefficients lie in the given inclusive ranges, one per canonical class.

    Parameters
    ----------
    Returns
    -------
    A, B : ndarray of int64
        Rows in lexicographic order of (a, b) coefficients, so the enumeration is reproducible
        and can be split into contiguous shards.  A class with no canonical member inside the
        ranges (possible when the ranges are not symmetric) is represented by its first member.
    """
    for name, ranges in (("a", a_ranges), ("b", b_ranges)):
        if not ranges:
            raise ValueError(f"{name}: no coefficient ranges given")
        for r in ranges:
            if r[0] > r[1] or (len(r) > 2 and r[2] < 1):
                raise ValueError(f"{name}: empty coefficient range {list(r)}")
    _check_memory(a_ranges, b_ranges)
    grid_a = _grid(a_ranges)
    grid_b = _grid(b_ranges)
    grid_a = grid_a[grid_a.any(axis=1)]
    grid_b = grid_b[grid_b.any(axis=1)]
    A = np.repeat(grid_a, len(grid_b), axis=0)
    B = np.tile(grid_b, (len(grid_a), 1))
    symmetric = all(r[0] == -r[1] and len(r) == 2 for r in (*a_ranges, *b_ranges))
    keep = np.nonzero(canonical_mask(A, B))[0] if symmetric else first_of_each_class(A, B)
    return A[keep].astype(np.int64), B[keep].astype(np.int64)


def space_size(a_ranges: Sequence[tuple[int, ...]], b_ranges: Sequence[tuple[int, ...]]) -> int:
    """How many coefficient vectors (before removing equivalent PCFs) the ranges hold."""
    return math.prod(len(range(r[0], r[1] + 1, r[2] if len(r) > 2 else 1)) for r in (*a_ranges, *b_ranges))


def _check_memory(a_ranges, b_ranges) -> None:
    count = space_size(a_ranges, b_ranges)
    columns = len(a_ranges) + len(b_ranges)
    need = 2 * count * columns * 8  # the repeated rows of a and b, and one working copy of each
    if need > MAX_ENUMERATION_BYTES:
        raise InputError(
            f"the space holds {count:.3g} PCFs; enumerating it in memory needs at least {need / 2**30:,.0f} GiB "
            f"(at most {MAX_ENUMERATION_BYTES / 2**30:.0f} GiB): narrow the coefficient ranges"
        )


def canonical_arrays(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The canonical form of every row (vectorised :meth:`discovery.pcf.PCF.canonical`)."""
    A = np.asarray(A, dtype=np.int64)
    B = np.asarray(B, dtype=np.int64)
    ca = np.gcd.reduce(np.abs(A), axis=1)
    cb = np.gcd.reduce(np.abs(B), axis=1)
    scale = np.ones(len(A), dtype=np.int64)
    for d in range(2, int(ca.max(initial=1)) + 1):
        scale = np.where((ca % d == 0) & (cb % (d * d) == 0) & (ca > 0), d, scale)
    first = np.argmax(A != 0, axis=1)
    sign = np.where(A[np.arange(len(A)), first] < 0, -1, 1)
    return A // (sign * scale)[:, None], B // (scale * scale)[:, None]


def first_of_each_class(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Indices of the first row of each canonical class (rows with a or b zero dropped)."""
    ok = np.nonzero(np.asarray(A).any(axis=1) & np.asarray(B).any(axis=1))[0]
    CA, CB = canonical_arrays(A[ok], B[ok])
    _, first = np.unique(np.hstack([CA, CB]), axis=0, return_index=True)
    return ok[np.sort(first)]


def enumerate_box(degree_a: int = 2, degree_b: int = 2, bound: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Every PCF with coefficients in [-bound, bound], one per canonical class.

    Rows come in lexicographic order of (a, b) coefficients, so the enumeration is reproducible
    and can be split into contiguous shards.
    """
    return enumerate_ranges([(-bound, bound)] * (degree_a + 1), [(-bound, bound)] * (degree_b + 1))
