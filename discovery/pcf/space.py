"""Coefficient boxes of PCFs: random samples, deduplicated through the canonical form."""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from functools import cached_property
from typing import Mapping, Sequence

import numpy as np

from discovery.errors import InputError
from discovery.pcf.formula import PCF, to_arrays

# Enumeration holds the whole grid and a few working copies of it; past this it would rather
# die in numpy's allocator (or swap) than say anything.
MAX_ENUMERATION_BYTES = 4 << 30

# A lazy Space keeps coefficients below this in magnitude, so the class test's products k * a and
# k**2 * b and its float square roots stay exact in int64 and float64.
MAX_COEFFICIENT = 2**31 - 1

# Raw grid indices up to this are decoded in int64; a bigger grid splits off its slow coordinates.
_INT64_SPAN = 1 << 62


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


def _scale_bound(ca: np.ndarray, cb: np.ndarray) -> int:
    # A common factor d divides a's content ca and d**2 divides b's content cb, so d <= sqrt(cb)
    # unless b is zero: the loops over d then take sqrt(max |b|) steps, not max |a|.
    return int(np.where(cb == 0, ca, np.minimum(ca, np.sqrt(cb).astype(np.int64) + 1)).max(initial=1))


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
    for d in range(2, _scale_bound(ca, cb) + 1):
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
    for d in range(2, _scale_bound(ca, cb) + 1):
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


def _int_at_least(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "positive" if minimum == 1 else "non-negative"
        raise InputError(f"{name} must be a {kind} integer, got {value!r}")
    return int(value)


def read_ranges(name: str, ranges) -> tuple[tuple[int, ...], ...]:
    """The coefficient ranges of a(n) or b(n) (``name``), checked: one ``(lo, hi)`` or
    ``(lo, hi, step)`` of integers per coefficient, highest degree first.

    Raises
    ------
    InputError
        Naming the bad range.
    """
    if isinstance(ranges, (str, bytes)) or not isinstance(ranges, (Sequence, np.ndarray)) or not len(ranges):
        raise InputError(f"{name}: no coefficient ranges given, got {ranges!r}")
    out = []
    for r in ranges:
        try:
            if isinstance(r, (str, bytes)) or len(r) not in (2, 3) or any(isinstance(v, bool) for v in r):
                raise TypeError
            r = tuple(operator.index(v) for v in r)
        except TypeError:
            raise InputError(f"{name}: coefficient range {r!r} is not [lo, hi] or [lo, hi, step] in integers") from None
        if r[0] > r[1] or (len(r) > 2 and r[2] < 1):
            raise InputError(f"{name}: empty coefficient range {list(r)}")
        if max(-r[0], r[1]) > MAX_COEFFICIENT:
            raise InputError(f"{name}: coefficient range {list(r)} goes past ±{MAX_COEFFICIENT}")
        out.append(r)
    return tuple(out)


def _ceil_div(x: int, y: np.ndarray) -> np.ndarray:
    return -((-x) // y)


def _isqrt(q: np.ndarray) -> np.ndarray:
    # Exact for 0 <= q < 2**52: a correctly rounded square root of n**2 - 1 stays below n.
    return np.floor(np.sqrt(q)).astype(np.int64)


@dataclass(frozen=True)
class Space:
    """A coefficient space of PCFs, cut into work units computed from their index alone.

    Parameters
    ----------
    a_ranges, b_ranges : sequence of (lo, hi) or (lo, hi, step)
        One inclusive integer range per coefficient of a(n) and of b(n), highest degree first, as
        :func:`enumerate_ranges` takes them; magnitudes up to :data:`MAX_COEFFICIENT`.
    limit : int, optional
        Cover only the first ``limit`` points of the raw grid (a campaign's ``max_candidates``).
        It cuts the raw grid, not the list of representatives: the units then hold at most
        ``limit`` PCFs, usually fewer, and the same prefix of rows at any unit size.

    Raises
    ------
    InputError
        For a missing, malformed or empty range, a coefficient past ``MAX_COEFFICIENT`` or a
        limit that is not a positive integer.

    Notes
    -----
    The raw grid is every coefficient vector (a, b) of the ranges, numbered lexicographically
    with a's leading coefficient slowest and b's constant term fastest.  Unit ``i`` of size ``n``
    decodes raw points ``[i n, (i + 1) n)`` by mixed-radix arithmetic, drops the rows with a or b
    identically zero and keeps one representative per class of trivially equivalent PCFs (see
    :meth:`discovery.pcf.PCF.canonical`): for symmetric ranges without steps the canonical member,
    which lies in the box, and otherwise the class's first member in grid order.  Each candidate is
    tested alone, without a global set: the class of (a, b) is {(k a0, k**2 b0) : k a non-zero
    integer}, (a0, b0) its canonical form, since a rational k would divide a common factor out of
    the canonical form.  Grid order of the members is the order of k, so the question "is there an
    earlier member inside the ranges?" is one about integer intervals of k, with a scan over one
    period of k when a range has a step.  All units together are exactly the rows of
    :func:`enumerate_ranges`, in its order.  Memory per unit is O(unit size) however large the
    space; time is O(unit size) times the passes over d <= sqrt(max |b|) of the canonical form and
    over one period of the steps.  In a symmetric box only the a(n) whose first non-zero
    coefficient is positive can be canonical: they are the second half of a's grid, after the
    zero polynomial, and the raw grid of a symmetric box is that half.

    Examples
    --------
    >>> space = Space.from_box(1, 2, 3)
    >>> space.size, space.units(1000)
    (8232, 9)
    >>> A, B = space.unit(0, 1000)
    """

    a_ranges: tuple[tuple[int, ...], ...]
    b_ranges: tuple[tuple[int, ...], ...]
    limit: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "a_ranges", read_ranges("a", self.a_ranges))
        object.__setattr__(self, "b_ranges", read_ranges("b", self.b_ranges))
        if self.limit is not None:
            object.__setattr__(self, "limit", _int_at_least("limit", self.limit))

    @classmethod
    def from_box(cls, degree_a: int, degree_b: int, bound: int, limit: int | None = None) -> "Space":
        """The box of :func:`enumerate_box`: a(n), b(n) of the given degrees, coefficients in [-bound, bound]."""
        degree_a = _int_at_least("degree_a", degree_a, minimum=0)
        degree_b = _int_at_least("degree_b", degree_b, minimum=0)
        bound = _int_at_least("bound", bound)
        return cls(((-bound, bound),) * (degree_a + 1), ((-bound, bound),) * (degree_b + 1), limit)

    @classmethod
    def from_config(cls, space: Mapping, limit: int | None = None) -> "Space":
        """The space of a campaign's ``[space]`` table.

        Parameters
        ----------
        space : mapping
            ``degree_a``, ``degree_b`` and ``bound`` for a box, or ``a`` and ``b`` lists of
            ranges; keys set to None count as absent and ranges win over a box, as in a
            campaign's stored configuration.
        limit : int, optional
            The campaign's ``max_candidates``, see :class:`Space`.
        """
        if space.get("a") is not None or space.get("b") is not None:
            if space.get("a") is None or space.get("b") is None:
                raise InputError(f"space: a and b coefficient ranges go together, got {dict(space)!r}")
            return cls(space["a"], space["b"], limit)
        missing = [k for k in ("degree_a", "degree_b", "bound") if space.get(k) is None]
        if missing:
            raise InputError(f"space: {', '.join(missing)} missing (or give a and b ranges) in {dict(space)!r}")
        return cls.from_box(space["degree_a"], space["degree_b"], space["bound"], limit)

    @cached_property
    def _radices(self) -> tuple[int, ...]:
        return tuple(len(range(r[0], r[1] + 1, r[2] if len(r) > 2 else 1)) for r in (*self.a_ranges, *self.b_ranges))

    @cached_property
    def _span(self) -> tuple[int, int]:
        """(offset, points) of the part of the full grid the units walk."""
        na = math.prod(self._radices[: len(self.a_ranges)])
        nb = math.prod(self._radices[len(self.a_ranges):])
        if self.symmetric:
            # In a symmetric box the zero a(n) is the middle of a's grid, and the a(n) after it are
            # exactly those whose first non-zero coefficient is positive: the only canonical ones.
            return (na + 1) // 2 * nb, (na - 1) // 2 * nb
        return 0, na * nb

    @property
    def size(self) -> int:
        """Points of the raw grid the units walk (before dropping zero polynomials and equivalent
        PCFs); for a symmetric box, the half whose a(n) starts with a positive coefficient."""
        return self._span[1]

    @property
    def covered(self) -> int:
        """Points of the raw grid the units cover: ``size``, or ``limit`` if that is smaller."""
        return self.size if self.limit is None else min(self.size, self.limit)

    @property
    def symmetric(self) -> bool:
        """Whether every range is [-c, c] without a step (representatives are canonical forms)."""
        return all(len(r) == 2 and r[0] == -r[1] for r in (*self.a_ranges, *self.b_ranges))

    def units(self, unit_size: int) -> int:
        """Number of work units of ``unit_size`` raw points (the last may be shorter)."""
        unit_size = _int_at_least("unit_size", unit_size)
        return -(-self.covered // unit_size)

    def unit(self, index: int, unit_size: int) -> tuple[np.ndarray, np.ndarray]:
        """The PCFs of one work unit.

        Parameters
        ----------
        index : int
            The unit, ``0 <= index < units(unit_size)``.
        unit_size : int
            Raw grid points per unit.

        Returns
        -------
        A, B : ndarray of int64
            The class representatives among raw points ``[index * unit_size, (index + 1) *
            unit_size)``, in grid order; shapes (rows, len(a_ranges)) and (rows, len(b_ranges)).

        Raises
        ------
        InputError
            If ``unit_size`` is not a positive integer or ``index`` is not a unit of the space.
        """
        total = self.units(unit_size)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < total:
            raise InputError(f"unit {index!r} is out of range: the space has {total} units of {unit_size} points")
        start = int(index) * unit_size
        points = self._points(self._span[0] + start, min(unit_size, self.covered - start))
        A, B = points[:, :len(self.a_ranges)], points[:, len(self.a_ranges):]
        keep = self._representatives(A, B)
        return A[keep], B[keep]

    def _points(self, start: int, count: int) -> np.ndarray:
        """Raw grid points ``start`` to ``start + count - 1`` as rows of coefficients."""
        radices = self._radices
        # The fast coordinates come from an int64 offset within a block of `span` points; a grid
        # past int64 takes its slow coordinates from the few (Python int) block numbers the unit
        # touches.
        split, span = len(radices), 1
        while split and span * radices[split - 1] <= _INT64_SPAN:
            split -= 1
            span *= radices[split]
        block, offset = np.divmod(start % span + np.arange(count, dtype=np.int64), span)
        digits = np.empty((count, len(radices)), dtype=np.int64)
        for column in range(len(radices) - 1, split - 1, -1):
            offset, digits[:, column] = np.divmod(offset, radices[column])
        if split:
            prefixes = []
            for number in range(start // span, start // span + int(block.max(initial=0)) + 1):
                prefix = []
                for radix in reversed(radices[:split]):
                    number, digit = divmod(number, radix)
                    prefix.append(digit)
                prefixes.append(prefix[::-1])
            digits[:, :split] = np.array(prefixes, dtype=np.int64)[block]
        ranges = (*self.a_ranges, *self.b_ranges)
        low = np.array([r[0] for r in ranges], dtype=np.int64)
        step = np.array([r[2] if len(r) > 2 else 1 for r in ranges], dtype=np.int64)
        return low + digits * step

    def _representatives(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Which raw rows are their class's representative (what :func:`enumerate_ranges` keeps)."""
        if self.symmetric:
            return canonical_mask(A, B)
        keep = np.zeros(len(A), dtype=bool)
        rows = np.nonzero(A.any(axis=1) & B.any(axis=1))[0]
        keep[rows] = self._first_in_class(A[rows], B[rows])
        return keep

    def _first_in_class(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        """Which rows (a and b not zero) are the first member of their class in grid order."""
        CA, CB = canonical_arrays(A, B)
        rows = np.arange(len(A))
        lead = np.argmax(CA != 0, axis=1)
        # Members (k a0, k**2 b0) agree before a0's leading coefficient, which is positive, so
        # their grid order is the order of k; this row is the member with k = own.
        own = A[rows, lead] // CA[rows, lead]
        k_lo = np.full(len(A), -_INT64_SPAN)
        k_hi = np.full(len(A), _INT64_SPAN)
        for r, c in zip(self.a_ranges, CA.T):
            safe = np.where(c == 0, 1, c)
            lower = np.where(c > 0, _ceil_div(r[0], safe), _ceil_div(r[1], safe))
            upper = np.where(c > 0, r[1] // safe, r[0] // safe)
            k_lo = np.where(c != 0, np.maximum(k_lo, lower), k_lo)
            k_hi = np.where(c != 0, np.minimum(k_hi, upper), k_hi)
        m_lo = np.ones(len(A), dtype=np.int64)
        m_hi = np.full(len(A), _INT64_SPAN)
        for r, c in zip(self.b_ranges, CB.T):
            safe = np.where(c == 0, 1, c)
            lower = np.where(c > 0, _ceil_div(r[0], safe), _ceil_div(r[1], safe))
            upper = np.where(c > 0, r[1] // safe, r[0] // safe)
            m_lo = np.where(c != 0, np.maximum(m_lo, _isqrt(np.maximum(lower, 1) - 1) + 1), m_lo)
            m_hi = np.where(c != 0, np.minimum(m_hi, _isqrt(np.maximum(upper, 0))), m_hi)
        # Zero coefficients of (a0, b0) stay zero, inside the ranges as in this row, so the members
        # inside (steps aside) are the k of [k_lo, k_hi] with m_lo <= |k| <= m_hi: a negative and
        # a positive interval.
        sides = ((np.maximum(k_lo, -m_hi), np.minimum(k_hi, -m_lo)), (np.maximum(k_lo, m_lo), np.minimum(k_hi, m_hi)))
        stepped = [(c, r[0], r[2], 1) for r, c in zip(self.a_ranges, CA.T) if len(r) > 2 and r[2] > 1]
        stepped += [(c, r[0], r[2], 2) for r, c in zip(self.b_ranges, CB.T) if len(r) > 2 and r[2] > 1]
        if not stepped:
            (neg_lo, neg_hi), (pos_lo, _) = sides
            return own == np.where(neg_lo <= neg_hi, neg_lo, pos_lo)
        # Whether k * a0 and k**2 * b0 land on the steps depends on k modulo the steps only, so
        # one period of k from the start of each side finds any earlier member.
        period = math.lcm(*(s for _, _, s, _ in stepped))
        earlier = np.zeros(len(A), dtype=bool)
        for start, stop in sides:
            stop = np.minimum(stop, own - 1)
            for t in range(min(period, int((stop - start).max(initial=-1)) + 1)):
                k = start + t
                hit = k <= stop
                for c, lo, s, power in stepped:
                    hit &= (k**power * c - lo) % s == 0
                earlier |= hit
        return ~earlier
