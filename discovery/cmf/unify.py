"""Unification: which PCFs are trajectories of a known CMF, and how.

For every trajectory of the given fields in a bounded box (primitive directions with coordinates
in [-max_step, max_step], starts whose coordinates are fractions k/q in [0, max_start] for the
given denominators q), :func:`discovery.cmf.trajectory_pcf` gives a PCF.  A formula is *placed*
on a trajectory when, in order of preference:

1. it is the same formula as the trajectory's PCF (equal
   :func:`~discovery.pcf.equivalence.equivalence_key`: equivalence transforms, inflations,
   deflations, tails and heads), or the even or odd part of one of them is the other
   (:func:`~discovery.pcf.equivalence.connection`);
2. the two recurrences are related by a coboundary C1(n) U(n + 1) = lambda(n) U(n) C2(n) with a
   polynomial U (:mod:`discovery.cmf.gauge`), between tails of the two.

Every placement carries the exact Möbius map from the trajectory's walk value (or, when the walk has
no invertible map to its PCF, from the trajectory PCF's limit) to the formula's limit: each link is
checked on exact convergents where it is made, so a placement is a proof, not a numerical match.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Iterator, Sequence

from discovery.cmf.convert import trajectory_pcf
from discovery.cmf.field import CMF, MAX_STEP
from discovery.cmf.gauge import find as find_gauge
from discovery.errors import InputError
from discovery.pcf.equivalence import connection, contraction, equivalence_key, relation
from discovery.pcf.formula import PCF

MAX_TRAJECTORIES = 100_000
MAX_BOX_START = 20
MAX_DENOMINATOR = 6

_Matrix = tuple[int, int, int, int]
"""(m00, m01, m10, m11): the map x -> (m00 x + m01) / (m10 x + m11)."""


@dataclass(frozen=True)
class Trajectory:
    """A trajectory of a field and its PCF.

    Attributes
    ----------
    cmf : str
        The field's name.
    direction : tuple of int
    start : tuple of Fraction
    pcf : PCF
        :func:`~discovery.cmf.trajectory_pcf`'s fraction.
    walk_map : tuple of int or None
        (m00, m01, m10, m11) with walk value = (m00 L + m01) / (m10 L + m11), L the PCF's limit;
        None when the walk has no invertible map to it.
    """

    cmf: str
    direction: tuple[int, ...]
    start: tuple[Fraction, ...]
    pcf: PCF
    walk_map: _Matrix | None

    def label(self) -> str:
        """``name (t1,t2) from (s1,s2)``."""
        return f"{self.cmf} ({','.join(map(str, self.direction))}) from ({','.join(map(str, self.start))})"


@dataclass(frozen=True)
class Placement:
    """A formula placed on a trajectory.

    Attributes
    ----------
    trajectory : Trajectory
    how : str
        ``"equivalent"``, ``"even part"`` / ``"odd part"`` (the formula is, or has, that part of
        the trajectory's PCF, see :attr:`detail`), or ``"gauge"``.
    mobius : tuple of int
        (m00, m01, m10, m11): the formula's limit is (m00 x + m01) / (m10 x + m11), x the walk
        value of the trajectory when ``of_walk``, else the trajectory PCF's limit.
    of_walk : bool
    detail : str
        The connection in words, or the gauge U(n), lambda(n) and the tails used.
    """

    trajectory: Trajectory
    how: str
    mobius: _Matrix
    of_walk: bool
    detail: str


def _normalized(m: Sequence[int]) -> _Matrix:
    g = math.gcd(*m)
    if (m[2] or m[3]) < 0:
        g = -g
    return tuple(int(v) // g for v in m)


def _compose(x: Sequence[int], y: Sequence[int]) -> _Matrix:
    """The map x after the map y."""
    return (x[0] * y[0] + x[1] * y[2], x[0] * y[1] + x[1] * y[3],
            x[2] * y[0] + x[3] * y[2], x[2] * y[1] + x[3] * y[3])


def _adjugate(x: Sequence[int]) -> _Matrix:
    return x[3], -x[1], -x[2], x[0]


def _of(m) -> _Matrix:
    """A :class:`~discovery.pcf.equivalence.Mobius` (alpha + beta x)/(gamma + delta x) as a matrix."""
    return m.beta, m.alpha, m.delta, m.gamma


def box(cmf: CMF, max_step: int = 2, max_start: int = 2, denominators: Sequence[int] = (1, 2)
        ) -> Iterator[tuple[tuple[int, ...], tuple[Fraction, ...]]]:
    """The trajectories of a field in a box, simplest first: by the largest coordinate of the
    start, then shorter directions, then smaller starts.

    Parameters
    ----------
    cmf : CMF
    max_step : int
        Direction coordinates in [-max_step, max_step] (1 to :data:`~discovery.cmf.field.MAX_STEP`);
        only primitive directions (a multiple k t walks the k-fold contraction of t's trajectory).
    max_start : int
        Start coordinates k/q in [0, max_start] (0 to :data:`MAX_BOX_START`).
    denominators : sequence of int
        The q above (1 to :data:`MAX_DENOMINATOR`); 1 alone gives integer starts.

    Raises
    ------
    discovery.errors.InputError
        For a bound out of range.
    """
    if isinstance(max_step, bool) or not isinstance(max_step, int) or not 1 <= max_step <= MAX_STEP:
        raise InputError(f"max_step is an integer from 1 to {MAX_STEP}, got {max_step!r}")
    if isinstance(max_start, bool) or not isinstance(max_start, int) or not 0 <= max_start <= MAX_BOX_START:
        raise InputError(f"max_start is an integer from 0 to {MAX_BOX_START}, got {max_start!r}")
    qs = list(denominators)
    if not qs or any(isinstance(q, bool) or not isinstance(q, int) or not 1 <= q <= MAX_DENOMINATOR for q in qs):
        raise InputError(f"denominators are integers from 1 to {MAX_DENOMINATOR}, got {qs!r}")
    values = sorted({Fraction(k, q) for q in qs for k in range(max_start * q + 1)})
    directions = [t for t in itertools.product(range(-max_step, max_step + 1), repeat=cmf.dim)
                  if any(t) and math.gcd(*t) == 1]
    directions.sort(key=lambda t: (sum(map(abs, t)), [-c for c in t]))
    # Shell by shell (starts whose largest coordinate is v), every direction in each: a budget
    # that cuts the box keeps the small starts of all directions.
    for i, v in enumerate(values):
        shell = sorted((s for s in itertools.product(values[:i + 1], repeat=cmf.dim) if max(s) == v),
                       key=lambda s: (sum(s), s))
        for t in directions:
            for s in shell:
                yield t, s


def _keys(pcf: PCF) -> list[tuple[str, str]]:
    """(key, which): the fraction's equivalence key and those of its even and odd parts."""
    out = [(equivalence_key(pcf), "whole")]
    for odd in (False, True):
        try:
            out.append((equivalence_key(contraction(pcf, odd)), "odd part" if odd else "even part"))
        except InputError:
            continue
    return out


def _shape(pcf: PCF) -> tuple:
    """What a polynomial gauge with lambda = kappa n^delta keeps: for a balanced fraction
    (deg b = 2 deg a) the ratio beta / alpha^2 of the leading coefficients, which fixes the ratio
    of the characteristic roots; otherwise which of a, b dominates."""
    da, db = len(pcf.a) - 1, len(pcf.b) - 1
    if not any(pcf.a):
        return ("b only", db % 2)
    if db == 2 * da:
        return ("balanced", Fraction(pcf.b[0], pcf.a[0] ** 2))
    return ("a dominates",) if db < 2 * da else ("b dominates", db % 2)


class TrajectoryIndex:
    """The trajectories of some fields in a box, indexed by the equivalence keys of their PCFs and
    of their even and odd parts.

    Parameters
    ----------
    cmfs : iterable of CMF
        Fields of rank 2 (others are skipped: they give recurrences, not PCFs).
    max_step, max_start, denominators
        The box, as for :func:`box`.
    max_trajectories : int
        At most this many trajectories per field (the simplest ones), 1 to :data:`MAX_TRAJECTORIES`.

    Attributes
    ----------
    trajectories_ : int
        How many trajectories gave a PCF.
    truncated_ : list of str
        The fields whose box was cut at ``max_trajectories``.
    """

    def __init__(self, cmfs: Iterable[CMF], max_step: int = 2, max_start: int = 2,
                 denominators: Sequence[int] = (1, 2), max_trajectories: int = 2000):
        if (isinstance(max_trajectories, bool) or not isinstance(max_trajectories, int)
                or not 1 <= max_trajectories <= MAX_TRAJECTORIES):
            raise InputError(f"max_trajectories is an integer from 1 to {MAX_TRAJECTORIES}, got {max_trajectories!r}")
        self.by_key: dict[str, list[tuple[Trajectory, str]]] = {}
        self.trajectories_ = 0
        self.truncated_: list[str] = []
        self._by_shape: dict[tuple, dict[str, Trajectory]] = {}
        for cmf in cmfs:
            if cmf.rank != 2:
                continue
            for i, (t, s) in enumerate(box(cmf, max_step, max_start, denominators)):
                if i == max_trajectories:
                    self.truncated_.append(cmf.name)
                    break
                self._add(cmf, t, s)

    def _add(self, cmf: CMF, t, s) -> None:
        try:
            traj = trajectory_pcf(cmf, t, s)
        except (InputError, ZeroDivisionError):
            # No PCF along it (an invariant first vector, b = 0, a step undefined at the start).
            return
        self.trajectories_ += 1
        walk = None if traj.mobius is None else _of(traj.mobius)
        item = Trajectory(cmf.name, tuple(t), tuple(s), traj.pcf, walk)
        for key, which in _keys(traj.pcf):
            found = self.by_key.setdefault(key, [])
            # The simplest trajectory with a walk map first; the others stay as alternatives.
            if not found or (found[0][0].walk_map is None and walk is not None):
                found.insert(0, (item, which))
            elif len(found) < 4:
                found.append((item, which))
        self._by_shape.setdefault(_shape(traj.pcf), {}).setdefault(equivalence_key(traj.pcf), item)

    def gauge_candidates(self, pcf: PCF, limit: int) -> list[Trajectory]:
        """Trajectories (one per class) whose PCF has the shape of ``pcf``, smallest first."""
        found = list(self._by_shape.get(_shape(pcf), {}).values())
        found.sort(key=lambda tr: (len(tr.pcf.a) + len(tr.pcf.b), sum(map(abs, tr.direction))))
        return found[:limit]


def _link(traj: Trajectory, to_formula: _Matrix) -> tuple[_Matrix, bool]:
    """The map to the formula from the walk value when there is one, else from the PCF's limit."""
    if traj.walk_map is None:
        return _normalized(to_formula), False
    return _normalized(_compose(to_formula, _adjugate(traj.walk_map))), True


def place(pcf: PCF, index: TrajectoryIndex, gauge_degree: int = 6, gauge_shift: int = 2,
          gauge_candidates: int = 20) -> Placement | None:
    """Place one formula on a trajectory of the index.

    Parameters
    ----------
    pcf : PCF
        The formula.
    index : TrajectoryIndex
    gauge_degree : int
        Largest degree of the gauge matrix U(n) (0 to :data:`~discovery.cmf.gauge.MAX_GAUGE_DEGREE`).
    gauge_shift : int
        Tails of either fraction tried for a gauge, 0 to 10.
    gauge_candidates : int
        Trajectory classes tried for a gauge (those of the formula's shape, smallest first); 0
        tries no gauge.

    Returns
    -------
    Placement or None
    """
    if isinstance(gauge_candidates, bool) or not isinstance(gauge_candidates, int) or gauge_candidates < 0:
        raise InputError(f"gauge_candidates is a non-negative integer, got {gauge_candidates!r}")
    for key, _ in _keys(pcf):
        for traj, _ in index.by_key.get(key, []):
            conn = connection(traj.pcf, pcf)
            if conn is None:
                continue
            mobius, of_walk = _link(traj, _of(conn))
            if conn.kind == "equivalent":
                detail = "the formula is an equivalence transform of a tail or head of the trajectory's PCF"
            elif conn.contracted == "p":
                detail = f"the formula is the same formula as the {conn.kind} of the trajectory's PCF"
            else:
                detail = f"the trajectory's PCF is the same formula as the {conn.kind} of the formula"
            return Placement(traj, conn.kind, mobius, of_walk, detail)
    for traj in index.gauge_candidates(pcf, gauge_candidates):
        found = find_gauge(traj.pcf, pcf, gauge_degree, gauge_shift)
        if found is None:
            continue
        g, s1, s2 = found
        # L_T' = K(L_S') between the tails T' = T.shift(s1), S' = S.shift(s2); the heads are
        # exact relations between each fraction and its tail.
        to_formula = _adjugate(g.matrix)
        if s1:
            head = relation(traj.pcf, traj.pcf.shift(s1))
            if head is None:
                continue
            to_formula = _compose(to_formula, _of(head))
        if s2:
            head = relation(pcf.shift(s2), pcf)
            if head is None:
                continue
            to_formula = _compose(_of(head), to_formula)
        mobius, of_walk = _link(traj, to_formula)
        tails = f"; tails from level {s1} (trajectory), {s2} (formula)" if s1 or s2 else ""
        return Placement(traj, "gauge", mobius, of_walk, g.text() + tails)
    return None

