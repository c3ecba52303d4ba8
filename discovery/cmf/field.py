"""The conservative matrix field (CMF) type: matrices, the conservation check, trajectories and
exact walks.

A CMF of dimension d and rank r is a set of r x r matrices M_1(x), ..., M_d(x) whose entries are
rational functions of x = (x_1, ..., x_d) and which satisfy, for every pair of axes i, j,

    M_i(x) M_j(x + e_i) = M_j(x) M_i(x + e_j),

so the product of the matrices along a lattice path depends only on its end points (the
Ramanujan Machine group, PNAS 2024, arXiv 2308.11829).  A step along axis i from x multiplies by
M_i(x) on the right; a step back multiplies by M_i(x - e_i)^-1.

A *trajectory* is a direction t in Z^d and a start s: its step matrix M(n) is the product of the
single steps from s + n t to s + (n + 1) t, a rational matrix in n, and its *walk* of depth N is
M(0) M(1) ... M(N - 1).  The value of a walk W is W[0, r-1] / W[1, r-1], the ratio of the first
two entries of its last column (the convention of ramanujantools, so that the companion matrix of
a PCF gives its convergent p_N / q_N).
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from fractions import Fraction
from numbers import Integral, Rational
from typing import Mapping, Sequence

import mpmath
import sympy
from flint import fmpq, fmpq_poly

from discovery.cmf.steps import StepPolynomials, Walk
from discovery.errors import InputError

# Bounds of every numeric input.  A shipped or user CMF has a few variables and small matrices;
# the symbolic step matrix grows with the length of the direction; a walk's integers grow
# linearly with its depth.
MAX_DIMENSION = 6
MAX_RANK = 3
MAX_STEP = 8
MAX_STEPS = 16
MAX_START = 10**6
# Compiled trajectories kept per field: a few kB each.
_COMPILED_CACHE = 1024


def _symbols(names: Sequence[str]) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.Symbol(v) for v in names)


class CMF:
    """A conservative matrix field: one square matrix of rational functions per axis.

    Parameters
    ----------
    matrices : mapping of str to a square sequence of sympy expressions (or numbers)
        The matrix M_i of each axis, keyed by the axis' variable name; entries may use only the
        axes' variables.  Text is not accepted here: :mod:`discovery.cmf.known` parses it with the
        package's whitelisting parser first.
    name, constant, source : str
        Labels: the field's name, the constant it is known for, where it was published.

    Raises
    ------
    discovery.errors.InputError
        For matrices of different or unsupported sizes, too many axes, or an entry that is not a
        rational function of the axes.  Conservation is checked separately
        (:meth:`check_conservation`): it costs a symbolic simplification.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> field = CMF({"x": [[1, -y - 1], [-1, x + y + 2]], "y": [[0, -y - 1], [-1, x + y + 1]]})
    >>> field.is_conservative()
    True
    """

    def __init__(self, matrices: Mapping[str, Sequence[Sequence]], name: str = "", constant: str = "",
                 source: str = ""):
        if not 1 <= len(matrices) <= MAX_DIMENSION:
            raise InputError(f"a CMF has 1 to {MAX_DIMENSION} axes, got {len(matrices)}")
        self.axes = tuple(str(k) for k in matrices)
        self.symbols = _symbols(self.axes)
        self.name, self.constant, self.source = name, constant, source
        self.matrices: dict[str, sympy.Matrix] = {}
        for axis, rows in matrices.items():
            m = sympy.Matrix(rows)
            if m.rows != m.cols or not 2 <= m.rows <= MAX_RANK:
                raise InputError(f"CMF {name or '?'}: M_{axis} is {m.rows}x{m.cols}; "
                                 f"matrices must be square of size 2 to {MAX_RANK}")
            stray = m.free_symbols - set(self.symbols)
            if stray:
                raise InputError(f"CMF {name or '?'}: M_{axis} uses {sorted(map(str, stray))}, "
                                 f"which are not axes {list(self.axes)}")
            if not all(e.is_rational_function(*self.symbols) for e in m):
                raise InputError(f"CMF {name or '?'}: M_{axis} has an entry that is not a rational function")
            self.matrices[str(axis)] = m
        ranks = {m.rows for m in self.matrices.values()}
        if len(ranks) != 1:
            raise InputError(f"CMF {name or '?'}: matrices of different sizes {sorted(ranks)}")
        self.rank = ranks.pop()
        # Campaigns, unification and limits walk the same trajectory again and again; its
        # compiled polynomials (and their blocks) are kept, as ramanujantools keeps its
        # trajectory matrices.
        self._compiled = lru_cache(maxsize=_COMPILED_CACHE)(self._step_polynomials)

    def __repr__(self):
        return f"CMF({self.name or dict(self.matrices)!r})"

    @property
    def dim(self) -> int:
        """The number of axes d."""
        return len(self.axes)

    # --- conservation ----------------------------------------------------------------------
    def conservation_defects(self) -> list[tuple[str, str]]:
        """The pairs of axes (i, j) where M_i(x) M_j(x + e_i) - M_j(x) M_i(x + e_j) is not zero
        (each entry brought to lowest terms by ``sympy.cancel``, so the test is exact)."""
        bad = []
        for i, a in enumerate(self.axes):
            for b in self.axes[i + 1:]:
                xa, xb = self.symbols[self.axes.index(a)], self.symbols[self.axes.index(b)]
                left = self.matrices[a] * self.matrices[b].subs(xa, xa + 1)
                right = self.matrices[b] * self.matrices[a].subs(xb, xb + 1)
                if any(sympy.cancel(e) != 0 for e in left - right):
                    bad.append((a, b))
        return bad

    def is_conservative(self) -> bool:
        """Whether every pair of matrices satisfies the conservation identity exactly."""
        return not self.conservation_defects()

    def check_conservation(self) -> None:
        """Raise :class:`~discovery.errors.InputError` naming the first pair of axes that fails."""
        bad = self.conservation_defects()
        if bad:
            raise InputError(f"CMF {self.name or '?'}: M_{bad[0][0]} and M_{bad[0][1]} do not conserve")

    # --- trajectories ----------------------------------------------------------------------
    def _trajectory(self, direction, start) -> tuple[tuple[int, ...], tuple[Fraction, ...]]:
        if len(direction) != self.dim or len(start) != self.dim:
            raise InputError(f"direction and start need {self.dim} coordinates ({', '.join(self.axes)}), "
                             f"got {len(direction)} and {len(start)}")
        t = []
        for c in direction:
            if isinstance(c, bool) or not isinstance(c, Integral) or abs(c) > MAX_STEP:
                raise InputError(f"direction coordinates are integers of size at most {MAX_STEP}, got {c!r}")
            t.append(int(c))
        if not any(t) or sum(map(abs, t)) > MAX_STEPS:
            raise InputError(f"a direction is non-zero with at most {MAX_STEPS} unit steps, got {tuple(t)}")
        s = []
        for c in start:
            if isinstance(c, bool) or not isinstance(c, Rational) or abs(c) > MAX_START:
                raise InputError(f"start coordinates are rationals of size at most {MAX_START}, got {c!r}")
            s.append(Fraction(int(c.numerator), int(c.denominator)))
        return tuple(t), tuple(s)

    def step_matrix(self, direction: Sequence[int], start: Sequence) -> sympy.Matrix:
        """The symbolic step matrix M(n) of a trajectory: the product of the unit steps from
        start + n direction to start + (n + 1) direction, entries in lowest terms in ``n``.

        Parameters
        ----------
        direction : sequence of int
            t in Z^d, each coordinate of size at most :data:`MAX_STEP`.
        start : sequence of int or Fraction
            s in Q^d.

        Returns
        -------
        sympy.Matrix
            Rational functions of the symbol ``n``.
        """
        return self.compiled(direction, start).sympy()

    @cached_property
    def _terms(self) -> dict[str, list[list[tuple[list, list]]]]:
        """Each entry of each matrix as (numerator terms, denominator terms), a term being
        (rational coefficient, exponents of the axes): substituted into by flint, not sympy."""
        def terms(p: sympy.Expr) -> list:
            poly = sympy.Poly(p, *self.symbols, domain="QQ")
            return [(fmpq(int(c.p), int(c.q)), e) for e, c in poly.terms()]

        out = {}
        for axis, m in self.matrices.items():
            fractions = [sympy.fraction(sympy.cancel(e)) for e in m]
            flat = [(terms(num), terms(den)) for num, den in fractions]
            out[axis] = [flat[i * self.rank:(i + 1) * self.rank] for i in range(self.rank)]
        return out

    def _unit_step(self, axis: str, point: list[fmpq_poly]) -> tuple[list[list[fmpq_poly]], fmpq_poly]:
        """M_axis at a point whose coordinates are polynomials in n, over one denominator."""
        def value(terms) -> fmpq_poly:
            total = fmpq_poly([])
            for c, exps in terms:
                t = fmpq_poly([c])
                for x, e in zip(point, exps):
                    if e:
                        t = t * x ** e
                total += t
            return total

        entries = [[(value(num), value(den)) for num, den in row] for row in self._terms[axis]]
        if any(d == 0 for row in entries for _, d in row):
            raise InputError(f"CMF {self.name or '?'}: M_{axis} is undefined all along this trajectory (a "
                             f"denominator vanishes identically on it)")
        den = fmpq_poly([1])
        for row in entries:
            for _, d in row:
                den = _lcm(den, d)
        return [[num * (den // d) for num, d in row] for row in entries], den

    def _step_polynomials(self, t, s) -> "StepPolynomials":
        """The step matrix as integer polynomials, multiplied out in flint (sympy takes seconds
        on the longer directions; this takes milliseconds).  Along each axis in turn:
        conservation makes every lattice path between the two points give the same product, and
        this one needs one inverse (adjugate over determinant) per backward step at most."""
        r = self.rank
        point = [fmpq_poly([fmpq(c.numerator, c.denominator), d]) for c, d in zip(s, t)]
        mat = [[fmpq_poly([int(i == j)]) for j in range(r)] for i in range(r)]
        den = fmpq_poly([1])
        for k, (axis, d) in enumerate(zip(self.axes, t)):
            for _ in range(abs(d)):
                if d > 0:
                    step, step_den = self._unit_step(axis, point)
                    point[k] = point[k] + 1
                else:
                    point[k] = point[k] - 1
                    m, m_den = self._unit_step(axis, point)
                    det = _det(m)
                    if det == 0:
                        raise InputError(f"CMF {self.name or '?'}: M_{axis} is singular for every n along "
                                         f"{tuple(t)} from {tuple(map(str, s))}; no backward step")
                    step, step_den = [[c * m_den for c in row] for row in _adjugate(m)], det
                mat = [[sum((mat[i][j] * step[j][c] for j in range(r)), fmpq_poly([])) for c in range(r)]
                       for i in range(r)]
                den = den * step_den
                g = den
                for row in mat:
                    for e in row:
                        g = g.gcd(e)
                if g.degree() > 0:
                    mat, den = [[e // g for e in row] for row in mat], den // g
        return StepPolynomials.from_fractions(mat, den)

    def compiled(self, direction: Sequence[int], start: Sequence, cached: bool = True) -> "StepPolynomials":
        """The step matrix M(n) = N(n) / D(n) as integer polynomials, for fast exact walks.

        The last :data:`_COMPILED_CACHE` trajectories compiled are kept (with their blocks, built
        at the first walk) unless ``cached`` is False."""
        t, s = self._trajectory(direction, start)
        return self._compiled(t, s) if cached else self._step_polynomials(t, s)

    def walk(self, direction: Sequence[int], start: Sequence, depth: int) -> "Walk":
        """The exact product M(0) M(1) ... M(depth - 1) along a trajectory.

        Parameters
        ----------
        direction, start
            As for :meth:`step_matrix`.
        depth : int
            Number of steps, 0 to :data:`~discovery.cmf.steps.MAX_DEPTH`.

        Returns
        -------
        Walk
            Integer matrix and integer denominator.

        Raises
        ------
        discovery.errors.InputError
            For a bad trajectory or depth, or a step where the matrix is undefined.
        """
        return self.compiled(direction, start).walk(depth)

    def limit(self, direction: Sequence[int], start: Sequence, depth: int = 1000, dps: int = 50) -> mpmath.mpf:
        """The value W[0, r-1] / W[1, r-1] of the walk of the given depth, at ``dps`` digits."""
        return self.walk(direction, start, depth).value(dps)


def _lcm(a: fmpq_poly, b: fmpq_poly) -> fmpq_poly:
    return a * b // a.gcd(b)


def _det(m: list[list[fmpq_poly]]) -> fmpq_poly:
    """The determinant by cofactors (the rank is 2 or 3)."""
    if len(m) == 2:
        return m[0][0] * m[1][1] - m[0][1] * m[1][0]
    return sum((m[0][j] * _det([row[:j] + row[j + 1:] for row in m[1:]]) * (-1) ** j for j in range(len(m))),
               fmpq_poly([]))


def _adjugate(m: list[list[fmpq_poly]]) -> list[list[fmpq_poly]]:
    """adj(m), with m adj(m) = det(m) I."""
    r = len(m)
    if r == 2:
        return [[m[1][1], -m[0][1]], [-m[1][0], m[0][0]]]
    return [[_det([row[:i] + row[i + 1:] for k, row in enumerate(m) if k != j]) * (-1) ** (i + j)
             for j in range(r)] for i in range(r)]
