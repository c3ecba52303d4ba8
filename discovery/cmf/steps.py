"""A trajectory's step matrix as integer polynomials, and its exact walks.

A walk of depth N is the product M(first) ... M(first + N - 1) of the step matrix
M(k) = N(k) / D(k).  It is computed as

    scale * core / denominator,

where ``core`` is the product of the steps with the factor g(k) common to all entries of a step
taken out (and, in the blocks, any further polynomial common to all entries of a block), and
``scale``, ``denominator`` are products of scalars kept as a list of factors (powers, rising
factorials, products of values) and multiplied out only when read: the value of a walk, the
ratio of two entries of ``core``, needs neither.  Measured on the zeta3 diagonal at depth 1,000,
the scalar is (1000!)^3, 25,600 of the product's 56,000 bits; multiplying it in takes about as
long as the whole core.

The core goes by blocks of B steps, each block one polynomial matrix evaluated at the blocks'
first steps all at once (:class:`~discovery.cmf.multipoint.Multipoint`), the blocks and the
remaining steps multiplied by a balanced product tree (:mod:`~discovery.cmf.products`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from numbers import Integral
from typing import Sequence

import mpmath
import numpy as np
from mpmath.libmp import from_rational, round_nearest
import sympy
from flint import fmpq_poly, fmpz, fmpz_mat, fmpz_poly
from gmpy2 import mpz

from discovery.cmf.multipoint import Multipoint
from discovery.cmf.products import linear_product, matmul, scalar_tree, tree
from discovery.errors import InputError

n = sympy.Symbol("n")

MAX_DEPTH = 10**6
MAX_DPS = 100_000
# Steps per block, a power of 2: measured by scripts/bench_cmf.py at depth 1,000 on the zeta3,
# e, pi and ln2 trajectories, 32 is best for all of them (16 and 64 are 5 to 40 % slower).
_BLOCK = 32
# Below this depth a walk of a trajectory whose blocks are not built yet goes step by step: building
# them (about 1.5 ms on the zeta3 diagonal) costs what 350 flint steps do.
_BLOCKED_DEPTH = 256

_MPZ = type(mpz(1))
_Factors = tuple  # of (integer, exponent) pairs, multiplied out when read


def _factors(x) -> _Factors:
    """A scale or denominator as factors: an integer, or (integer, exponent) pairs as they are."""
    if isinstance(x, tuple):
        return x
    return ((x if type(x) is _MPZ else mpz(int(x)), 1),)


def _multiply(factors: _Factors) -> mpz:
    return scalar_tree([b ** e if e != 1 else b for b, e in factors])


class Walk:
    """An exact walk: the product of its steps is ``matrix / denominator``.

    The product is held as ``scale * core / denominator`` (see the module's text): :attr:`matrix`,
    :attr:`scale` and :attr:`denominator` are multiplied out when first read, :meth:`value` uses
    ``core`` alone.

    Parameters
    ----------
    core : sequence of int
        An r x r integer matrix, row-major (gmpy2 or Python integers).
    denominator, scale : int or tuple of (int, int)
        An integer, or factors (base, exponent) whose product it is; 1 if omitted.
    """

    def __init__(self, core: Sequence, denominator=1, scale=1):
        self.core = tuple(v if type(v) is _MPZ else mpz(int(v)) for v in core)
        self.rank = math.isqrt(len(self.core))
        if self.rank * self.rank != len(self.core) or self.rank < 2:
            raise ValueError(f"a walk's core is a square matrix of size 2 or more, got {len(self.core)} entries")
        self.scale_factors = _factors(scale)
        self.denominator_factors = _factors(denominator)

    def __repr__(self):
        bits = max(v.bit_length() for v in self.core)
        return f"Walk(rank {self.rank}, core of {bits} bits, {len(self.scale_factors)} scale factors)"

    def __eq__(self, other):
        """Equal products (as matrix and denominator, whatever factors they are held in)."""
        if not isinstance(other, Walk):
            return NotImplemented
        return (self.matrix, self.denominator) == (other.matrix, other.denominator)

    __hash__ = None

    @classmethod
    def from_matrix(cls, matrix: fmpz_mat, denominator) -> "Walk":
        """A walk from its product as an integer matrix over a denominator."""
        return cls([int(v) for v in matrix.entries()], int(denominator))

    @cached_property
    def scale(self) -> mpz:
        """The scalar factor of the product."""
        return _multiply(self.scale_factors)

    @cached_property
    def matrix(self) -> fmpz_mat:
        """The product's numerator matrix, ``scale * core``."""
        r, s = self.rank, self.scale
        return fmpz_mat(r, r, [int(v * s) for v in self.core] if s != 1 else [int(v) for v in self.core])

    @cached_property
    def denominator(self) -> fmpz:
        """The product's common denominator."""
        return fmpz(int(_multiply(self.denominator_factors)))

    def value(self, dps: int = 50) -> mpmath.mpf:
        """W[0, r-1] / W[1, r-1] as an mpmath number of ``dps`` digits, correctly rounded (so the
        same whatever common factor the two entries are held with; the denominator and the scale
        cancel)."""
        if isinstance(dps, bool) or not isinstance(dps, Integral) or not 1 <= dps <= MAX_DPS:
            raise InputError(f"dps must be an integer from 1 to {MAX_DPS}, got {dps!r}")
        r = self.rank
        p, q = self.core[r - 1], self.core[2 * r - 1]
        if q == 0 or any(b == 0 and e for b, e in self.scale_factors):
            raise ZeroDivisionError("the walk's value has a zero denominator")
        with mpmath.workdps(dps):
            return mpmath.mpf(from_rational(p, q, mpmath.mp.prec, round_nearest))


@dataclass(frozen=True)
class StepPolynomials:
    """A step matrix M(n) = numerators(n) / denominator(n) with integer polynomial entries
    (python-flint ``fmpz_poly``): evaluated at integers in compiled code, not by sympy."""

    numerators: tuple[tuple[fmpz_poly, ...], ...]
    denominator: fmpz_poly

    @classmethod
    def from_fractions(cls, numerators: list[list[fmpq_poly]], denominator: fmpq_poly) -> "StepPolynomials":
        """Numerators over one denominator with rational coefficients, scaled to integers."""
        scale = 1
        for p in [denominator, *(e for row in numerators for e in row)]:
            scale = math.lcm(scale, int(p.denom()))

        def integer(p: fmpq_poly) -> fmpz_poly:
            return fmpz_poly([int(c * scale) for c in p.coeffs()])

        return cls(tuple(tuple(integer(e) for e in row) for row in numerators), integer(denominator))

    @property
    def rank(self) -> int:
        return len(self.numerators)

    def sympy(self) -> sympy.Matrix:
        """The step matrix as rational functions of the symbol ``n``, in lowest terms."""
        def expr(p: fmpz_poly) -> sympy.Expr:
            return sum((sympy.Integer(int(c)) * n ** k for k, c in enumerate(p.coeffs())), sympy.Integer(0))

        den = expr(self.denominator)
        return sympy.Matrix([[sympy.cancel(expr(e) / den) for e in row] for row in self.numerators])

    def at(self, k: int) -> tuple[fmpz_mat, fmpz]:
        """N(k) and D(k) as exact integers; refuses a k where D(k) = 0."""
        d = self.denominator(k)
        if d == 0:
            raise InputError(f"the step matrix is undefined at step {k} (its denominator vanishes)")
        r = len(self.numerators)
        return fmpz_mat(r, r, [p(k) for row in self.numerators for p in row]), d

    def walk(self, depth: int, first: int = 0) -> Walk:
        """M(first) ... M(first + depth - 1), exactly.

        Parameters
        ----------
        depth, first : int
            0 to :data:`MAX_DEPTH` each.

        Raises
        ------
        discovery.errors.InputError
            For a bad depth or first step, or a step of the run where the denominator vanishes
            (named).
        """
        for name, v in (("depth", depth), ("first", first)):
            if isinstance(v, bool) or not isinstance(v, Integral) or not 0 <= v <= MAX_DEPTH:
                raise InputError(f"{name} must be an integer from 0 to {MAX_DEPTH}, got {v!r}")
        r = self.rank
        if depth == 0:
            return Walk([int(i == j) for i in range(r) for j in range(r)])
        first, depth = int(first), int(depth)
        if depth < _BLOCKED_DEPTH and "_plan" not in self.__dict__:
            # A short walk of a trajectory not walked far yet (the few steps a PCF's Möbius map
            # is fitted on): step by step in flint, cheaper than building the blocks.
            mat, den = self.at(first)
            for k in range(first + 1, first + depth):
                m, d = self.at(k)
                mat, den = mat * m, den * d
            return Walk.from_matrix(mat, den)
        plan = self._plan
        size = plan.size
        tail = first + depth // size * size
        top = first + depth
        leaves, scalars = [], [[] for _ in plan.block_scalars]
        if tail > first:
            values = plan.evaluator(True, top).flat(np.arange(first, tail, size, dtype=np.int64))
            _split(values, r * r, leaves, scalars)
        if top > tail:
            singles, single_scalars = [], [[] for _ in plan.single_scalars]
            values = plan.evaluator(False, top).flat(np.arange(tail, top, dtype=np.int64))
            _split(values, r * r, singles, single_scalars)
            leaves.append(tree(singles, r))  # one leaf, so that the tree stays balanced
            for j, s in enumerate(plan.single_scalars):
                scalars[plan.block_scalars.index(s)] += single_scalars[j]
        scale, den = [], []
        for out, f in ((scale, plan.common), (den, plan.denominator)):
            out += f.closed_form(first, depth)
        if tail > first and plan.divisor != 1:
            scale.append((mpz(plan.divisor), (tail - first) // size))
        for values, (out, _) in zip(scalars, plan.block_scalars):
            (scale if out == "scale" else den).extend((v, 1) for v in values)
        if any(b == 0 for b, _ in den):
            self._undefined_step(first, depth)
        return Walk(tree(leaves, r), tuple(den), tuple(scale))

    def _undefined_step(self, first: int, depth: int):
        """Raise the InputError naming the first step of the run where the denominator vanishes."""
        for k in range(first, first + depth):
            self.at(k)
        raise AssertionError("a zero product of denominators with no zero among them")

    def walks(self, depths: Sequence[int]) -> list[Walk]:
        """Walks at several increasing depths, in one pass (one product per segment)."""
        out, core, scale, den, done = [], None, (), (), 0
        for depth in depths:
            if depth < done:
                raise InputError(f"depths must increase, got {list(depths)}")
            segment = self.walk(depth - done, done)
            core = segment.core if core is None else matmul(core, segment.core, self.rank)
            scale += segment.scale_factors
            den += segment.denominator_factors
            done = depth
            out.append(Walk(core, den, scale))
        return out

    @cached_property
    def _plan(self) -> "_WalkPlan":
        """What a walk evaluates.  The gcd g(k) of the step's numerators is taken out (the zeta3
        diagonal's entries share (k + 1)^3), so the matrix polynomials have half the degree; a
        block of B steps is then one polynomial matrix P(k) = M'(k) ... M'(k + B - 1) over the
        steps without g, with the gcd h(k) of its entries taken out too (the ln2 diagonal's blocks
        share 2^B (k + 2) ... (k + B): its steps are a gauge away from steps with fewer factors).
        g and the denominator are :class:`_Factor` s: their factors k + b in closed form over a
        walk, the rest evaluated with the blocks (their products over a block are polynomials).

        Blocks are built by doubling, P_2s(k) = P_s(k) P_s(k + s): log2(B) products of balanced
        degrees in place of B - 1 products by one step."""
        r = self.rank
        g = fmpz_poly([])
        for row in self.numerators:
            for p in row:
                g = g.gcd(p)
        if g.degree() < 1:
            g = fmpz_poly([1])
        nums = [[p // g for p in row] for row in self.numerators]
        single = [p for row in nums for p in row]
        common, den = _Factor.of(g), _Factor.of(self.denominator)
        rests = [common.rest, den.rest]
        span = 1
        while span < _BLOCK:
            shift = fmpz_poly([span, 1])
            nxt = [[p(shift) for p in row] for row in nums]
            nums = [[sum((nums[i][m] * nxt[m][c] for m in range(r)), fmpz_poly([])) for c in range(r)]
                    for i in range(r)]
            rests = [p * p(shift) for p in rests]
            span *= 2
        h = fmpz_poly([])
        for row in nums:
            for p in row:
                h = h.gcd(p)
        if h == 0:  # numerators identically zero: every block is the zero matrix
            h = fmpz_poly([1])
        block = [p // h for row in nums for p in row]
        # Scalars evaluated with the matrices: (which product they go to, index), then polynomials.
        block_scalars, single_scalars, block_polys, single_polys = [], [], [], []
        for j, (kind, rest) in enumerate(zip(("scale", "denominator"), (common.rest, den.rest))):
            if rest.degree() > 0:
                block_scalars.append((kind, j))
                single_scalars.append((kind, j))
                block_polys.append(rests[j])
                single_polys.append(rest)
        if h != 1:
            block_scalars.append(("scale", 2))
            block_polys.append(h)
        roots = tuple(-int(p.coeffs()[0]) for p, _ in h.factor()[1] if p.degree() == 1 and p.coeffs()[1] == 1)
        return _WalkPlan(_BLOCK, tuple(block + block_polys), tuple(single + single_polys), common, den,
                         tuple(block_scalars), tuple(single_scalars), roots)


def _split(values: list, rr: int, leaves: list, scalars: list) -> None:
    """Cut a multipoint evaluation (per point: r * r matrix entries, then scalars) into leaves and
    the scalars' value lists."""
    width = rr + len(scalars)
    leaves += [tuple(values[o:o + rr]) for o in range(0, len(values), width)]
    for j, out in enumerate(scalars):
        out += values[rr + j::width]


@dataclass(frozen=True)
class _Factor:
    """A scalar polynomial f(k) = content * prod (k + b)^e * rest(k), for its product over a run of
    steps: the content's power and the linear factors' rising factorials in closed form, ``rest``
    (an integer polynomial, often 1) from its values at the steps."""

    content: int
    linear: tuple[tuple[int, int], ...]
    rest: fmpz_poly

    @classmethod
    def of(cls, f: fmpz_poly) -> "_Factor":
        content, factors = f.factor()
        linear, rest = [], fmpz_poly([1])
        for p, e in factors:
            c = p.coeffs()
            if p.degree() == 1 and c[1] == 1:
                linear.append((int(c[0]), int(e)))
            else:
                rest *= p ** e
        return cls(int(content), tuple(linear), rest)

    def closed_form(self, first: int, depth: int) -> list[tuple]:
        """Factors (base, exponent) of f(first) ... f(first + depth - 1) but for ``rest``."""
        out = [(mpz(self.content), depth)] if self.content != 1 else []
        out += [(linear_product(b, first, depth), e) for b, e in self.linear]
        return out


@dataclass(frozen=True)
class _WalkPlan:
    """The compiled blocks of a trajectory (see StepPolynomials._plan): polynomials evaluated at
    the first step of each block (the r * r entries of the block's matrix, then scalars: the
    products over the block of the common factor's and the denominator's rests that are not
    constant, and the block's own common factor h), and the same for one step (without h).
    Every value of a block's matrix is divisible by ``divisor``, which the evaluation divides
    out (into the walk's scale)."""

    size: int
    block: tuple[fmpz_poly, ...]
    single: tuple[fmpz_poly, ...]
    common: _Factor
    denominator: _Factor
    block_scalars: tuple
    single_scalars: tuple
    h_roots: tuple[int, ...]
    _evaluators: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def divisor(self) -> int:
        """The fixed divisor of the block's matrix entries (known once a block evaluator is made)."""
        return self._evaluators["divisor"]

    def evaluator(self, block: bool, top: int) -> Multipoint:
        """The evaluator of the block's (or one step's) polynomials at points below ``top``: one
        per power of two of the largest point, since the limbs are sized for it.  The first block
        evaluator finds the blocks' fixed divisor from its own values at 0..degree."""
        largest = (1 << max(int(top - 1).bit_length(), 4)) - 1
        key = (block, largest)
        if key not in self._evaluators:
            if block:
                rr = len(self.block) - len(self.block_scalars)
                if "divisor" not in self._evaluators:
                    wide = max(largest, len(self.block) and max(p.degree() for p in self.block))
                    plain = Multipoint(self.block, wide, None, self._block_bounds(wide))
                    self._evaluators["divisor"] = plain.fixed_divisor(rr) or 1
                    if wide == largest:
                        self._evaluators[key] = plain.divided(self._divisors(rr))
                        return self._evaluators[key]
                self._evaluators[key] = Multipoint(self.block, largest, self._divisors(rr),
                                                   self._block_bounds(largest))
            else:
                self._evaluators[key] = Multipoint(self.single, largest)
        return self._evaluators[key]

    def _divisors(self, rr: int) -> list[int]:
        return [self.divisor] * rr + [1] * len(self.block_scalars)

    def _block_bounds(self, largest: int) -> list:
        """Bounds of the block polynomials' values over 0..largest, far below their coefficients'
        (the block's entries cancel): an entry of a product of B matrices is at most the product of
        their norms (largest row sum of |entries|), each step's bounded at its largest argument;
        the common factor h divided out is an integer, so at least 1 where it does not vanish."""
        x = largest + self.size - 1
        rr = len(self.block) - len(self.block_scalars)
        r = math.isqrt(rr)

        def at_most(p: fmpz_poly) -> int:
            return sum(abs(int(c)) * x ** i for i, c in enumerate(p.coeffs()))

        steps = [at_most(p) for p in self.single[:rr]]
        norm = max(sum(steps[i * r:(i + 1) * r]) for i in range(r))
        matrix = None if any(0 <= root <= largest for root in self.h_roots) else norm ** self.size
        bounds = [matrix] * rr
        for kind, j in self.block_scalars:
            # a rest's product over a block (its values at the B steps), or h (no bound)
            rest = (self.common if kind == "scale" else self.denominator).rest if j < 2 else None
            bounds.append(None if rest is None else at_most(rest) ** self.size)
        return bounds
