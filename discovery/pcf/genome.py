"""PCF genomes for evolution: integer coefficients that never leave a campaign's ranges.

A genome is a tuple of grid positions, one per coefficient of a(n) then b(n): position ``i`` of
the range ``(lo, hi, step)`` is the coefficient ``lo + i * step``.  Working on positions rather
than values is what keeps every genome inside its ranges and on its steps, whatever the
operators do, and makes a template written as stepped ranges (Apéry's a(n) = (2n+1)(x n(n+1) + y)
is ``a = [[2, 40, 2], [3, 60, 3], ...]``) a constraint no child can break.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from discovery.errors import InputError
from discovery.pcf.formula import PCF
from discovery.pcf.space import Space
from discovery.pcf.space import read_ranges


# Linear factors (u, v) = u n + v of the factor moves.
_FACTORS = ((1, 0), (1, 1), (1, -1), (1, 2), (2, 1), (2, -1))


@dataclass(frozen=True)
class GenomeSpace:
    """The coefficient ranges a PCF genome lives in, and the operators that move in them.

    Parameters
    ----------
    a_ranges, b_ranges : sequence of (lo, hi) or (lo, hi, step)
        One inclusive range per coefficient, highest degree first (a campaign's ``[space]``).

    Notes
    -----
    Operators (:meth:`mutate`, :meth:`crossover`) only produce genomes whose a(n) and b(n) are
    not identically zero.  Every point of the space is reachable from every other: a ±1 step on
    one coefficient already walks the whole grid, and a space whose only non-zero points are
    isolated by zero polynomials is crossed by the re-sampling moves.
    """

    a_ranges: tuple[tuple[int, int, int], ...]
    b_ranges: tuple[tuple[int, int, int], ...]

    def __post_init__(self):
        for name in ("a_ranges", "b_ranges"):
            ranges = read_ranges(name[0], getattr(self, name))
            object.__setattr__(self, name, tuple((r[0], r[1], r[2] if len(r) == 3 else 1) for r in ranges))
        if not any(self._has_nonzero(r) for r in self.a_ranges) or not any(self._has_nonzero(r) for r in self.b_ranges):
            raise InputError("the ranges hold no PCF: a(n) or b(n) is zero for every choice of coefficients")

    @classmethod
    def from_config(cls, space: dict) -> "GenomeSpace":
        """The genome space of a campaign's ``[space]`` table (a box or per-coefficient ranges)."""
        s = Space.from_config(space)
        return cls(s.a_ranges, s.b_ranges)

    @staticmethod
    def _has_nonzero(r) -> bool:
        return not (r[0] == 0 and r[1] < r[0] + r[2])

    @property
    def _ranges(self) -> tuple[tuple[int, int, int], ...]:
        return self.a_ranges + self.b_ranges

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of grid positions of each coefficient."""
        return tuple((hi - lo) // step + 1 for lo, hi, step in self._ranges)

    @property
    def size(self) -> int:
        """Points of the grid (before dropping zero polynomials and equivalent PCFs)."""
        return math.prod(self.sizes)

    # --- genomes and PCFs ------------------------------------------------------------------
    def coefficients(self, genome: Sequence[int]) -> tuple[list[int], list[int]]:
        """a and b coefficient lists of a genome (highest degree first)."""
        values = [lo + int(i) * step for (lo, _, step), i in zip(self._ranges, genome)]
        na = len(self.a_ranges)
        return values[:na], values[na:]

    def genome(self, a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
        """The genome of the PCF with these coefficients (padded to the ranges' degrees).

        Raises
        ------
        InputError
            If a coefficient is outside its range or off its step.
        """
        a = [0] * (len(self.a_ranges) - len(a)) + [int(c) for c in a]
        b = [0] * (len(self.b_ranges) - len(b)) + [int(c) for c in b]
        if len(a) != len(self.a_ranges) or len(b) != len(self.b_ranges):
            raise InputError(f"a PCF of degrees ({len(a) - 1}, {len(b) - 1}) does not fit ranges of degrees "
                             f"({len(self.a_ranges) - 1}, {len(self.b_ranges) - 1})")
        out = []
        for value, (lo, hi, step), name in zip(a + b, self._ranges, self._names()):
            if not lo <= value <= hi or (value - lo) % step:
                raise InputError(f"coefficient {name} = {value} is outside its range [{lo}, {hi}] step {step}")
            out.append((value - lo) // step)
        return tuple(out)

    def _names(self) -> list[str]:
        na, nb = len(self.a_ranges), len(self.b_ranges)
        return [f"a[{i}]" for i in range(na)] + [f"b[{i}]" for i in range(nb)]

    def valid(self, genome: Sequence[int]) -> bool:
        """Whether a genome is on the grid and its a(n) and b(n) are not identically zero."""
        if len(genome) != len(self.sizes) or not all(0 <= int(i) < s for i, s in zip(genome, self.sizes)):
            return False
        a, b = self.coefficients(genome)
        return any(a) and any(b)

    def key(self, genome: Sequence[int]) -> tuple:
        """The canonical form's coefficients: genomes of trivially equivalent PCFs share it."""
        return canonical_key(*self.coefficients(genome))

    def a_part(self, genome: Sequence[int]) -> tuple[int, ...]:
        """The genome's a(n) positions: fractions sharing a(n) form one niche of the evolution."""
        return tuple(genome[: len(self.a_ranges)])

    def arrays(self, genomes: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Coefficient arrays (A, B) of genomes, as :func:`discovery.pcf.evaluate` takes them."""
        rows = [self.coefficients(g) for g in genomes]
        na, nb = len(self.a_ranges), len(self.b_ranges)
        A = np.array([r[0] for r in rows], dtype=np.int64).reshape(len(rows), na)
        B = np.array([r[1] for r in rows], dtype=np.int64).reshape(len(rows), nb)
        return A, B

    # --- operators -------------------------------------------------------------------------
    def random(self, rng: np.random.Generator) -> tuple[int, ...]:
        """A uniformly random valid genome."""
        while True:
            g = tuple(int(rng.integers(s)) for s in self.sizes)
            if self.valid(g):
                return g

    def mutate(self, genome: Sequence[int], rng: np.random.Generator) -> tuple[int, ...]:
        """A valid child one move away: a ±1 step of one coefficient (40 %), a jump of up to a
        quarter of its range, a fresh value of one coefficient, a fresh a(n) or b(n), or a
        factor move (see :meth:`factor_move`)."""
        sizes = self.sizes
        na = len(self.a_ranges)
        movable = [j for j, s in enumerate(sizes) if s > 1]
        if not movable:
            return tuple(genome)
        while True:
            child = list(genome)
            move = rng.random()
            j = movable[int(rng.integers(len(movable)))]
            if move < 0.4:
                child[j] += 1 if rng.random() < 0.5 else -1
            elif move < 0.55:
                reach = max(2, sizes[j] // 4)
                child[j] += int(rng.integers(-reach, reach + 1))
            elif move < 0.65:
                child[j] = int(rng.integers(sizes[j]))
            elif move < 0.75:
                part = range(na) if rng.random() < 0.5 else range(na, len(sizes))
                for i in part:
                    child[i] = int(rng.integers(sizes[i]))
            else:
                child = list(self.factor_move(genome, rng) or genome)
            child = tuple(min(max(c, 0), s - 1) for c, s in zip(child, sizes))
            if child != tuple(genome) and self.valid(child):
                return child

    def factor_move(self, genome: Sequence[int], rng: np.random.Generator) -> tuple[int, ...] | None:
        """Add c · f₁(n) ⋯ f_k(n) to a(n) or b(n), the fᵢ drawn from n, n ± 1, n + 2, 2n ± 1 and
        c from ±1, ±2; None when the result leaves the ranges or steps.

        PCF structure is written in such factors (Apéry's a(n) = (2n+1)(17n(n+1) + 5), b(n) = −n⁶;
        the π family b(n) = −n(2n + k)): these moves keep a polynomial inside a family defined by
        its values at small integers and half-integers, where moving one coefficient leaves it.
        """
        na = len(self.a_ranges)
        a, b = self.coefficients(genome)
        poly, ranges = (a, self.a_ranges) if rng.random() < 0.75 or len(b) == 1 else (b, self.b_ranges)
        degree = len(poly) - 1
        term = np.array([1], dtype=object)
        for _ in range(int(rng.integers(degree + 1))):
            u, v = _FACTORS[int(rng.integers(len(_FACTORS)))]
            term = np.polymul(term, np.array([u, v], dtype=object))
        c = (-2, -1, 1, 2)[int(rng.integers(4))]
        new = [int(x) for x in np.polyadd(np.array(poly, dtype=object), c * term)]
        new = [0] * (len(poly) - len(new)) + new
        positions = []
        for value, (lo, hi, step) in zip(new, ranges):
            if not lo <= value <= hi or (value - lo) % step:
                return None
            positions.append((value - lo) // step)
        if poly is a:
            return tuple(positions) + tuple(genome[na:])
        return tuple(genome[:na]) + tuple(positions)

    def crossover(self, first: Sequence[int], second: Sequence[int], rng: np.random.Generator) -> tuple[int, ...]:
        """A valid child of two parents: a(n) of one with b(n) of the other, each coefficient from
        either parent, or a point on the line through both (first + k (second − first) for k in
        −2, −1, 2, 3, or their midpoint).  Line moves keep the lattice two parents share: two
        members of a family such as (2n+1)(x n(n+1) + y) give children in that family, where
        coefficient-wise moves would leave it.  Falls back to a mutation of ``first`` when no
        mix is valid and new."""
        na = len(self.a_ranges)
        first, second = tuple(first), tuple(second)
        for _ in range(8):
            move = rng.random()
            if move < 0.25:
                child = first[:na] + second[na:] if rng.random() < 0.5 else second[:na] + first[na:]
            elif move < 0.5:
                pick = rng.random(len(first)) < 0.5
                child = tuple(int(s if p else f) for f, s, p in zip(first, second, pick))
            else:
                k = (-2, -1, 2, 3, 0.5)[int(rng.integers(5))]
                step = [s - f for f, s in zip(first, second)]
                if k == 0.5 and any(d % 2 for d in step):
                    continue
                child = tuple(int(f + k * d) for f, d in zip(first, step))
            if child != first and child != second and self.valid(child):
                return child
        return self.mutate(first, rng)


def canonical_key(a: Sequence[int], b: Sequence[int]) -> tuple:
    """(a, b) of the canonical form of PCF(a, b) (see :meth:`discovery.pcf.PCF.canonical`)."""
    canon = PCF(a, b).canonical()
    return canon.a, canon.b
