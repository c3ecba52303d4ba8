"""Coefficient boxes of PCFs: random samples, deduplicated through the canonical form."""

from __future__ import annotations

import numpy as np

from discovery.pcf.formula import PCF, to_arrays


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
            raise ValueError(f"{name} must be a {'positive' if name in ('count', 'bound') else 'non-negative'} integer, got {value!r}")
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


def enumerate_box(degree_a: int = 2, degree_b: int = 2, bound: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Every PCF with coefficients in [-bound, bound], one per canonical class.

    Rows come in lexicographic order of (a, b) coefficients, so the enumeration is reproducible
    and can be split into contiguous shards.
    """
    values = np.arange(-bound, bound + 1)
    grid_a = np.stack(np.meshgrid(*[values] * (degree_a + 1), indexing="ij"), -1).reshape(-1, degree_a + 1)
    grid_b = np.stack(np.meshgrid(*[values] * (degree_b + 1), indexing="ij"), -1).reshape(-1, degree_b + 1)
    grid_a = grid_a[canonical_mask(grid_a, np.ones((len(grid_a), 1)))]
    A = np.repeat(grid_a, len(grid_b), axis=0)
    B = np.tile(grid_b, (len(grid_a), 1))
    keep = canonical_mask(A, B)
    return A[keep].astype(np.int64), B[keep].astype(np.int64)
