"""The bases relations are screened over: monomials in catalog constants, with the value L.

A :class:`Basis` is a list of monomials m₁, …, m_k in some constants; the relation is over
[m₁, …, m_k, m₁L, …, m_kL], so L is a quotient of two integer combinations of the monomials.  The
escalation's stages are lists of bases (:func:`mobius_bases`, :func:`polynomial_bases`, :func:`pair_bases`), or a
:class:`HashedMobius` that picks, among many constants, the few Möbius bases worth an LLL screen.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import mpmath
import numpy as np
import sympy

from discovery import constants as catalog
from discovery.identify.lattice import scaled


@lru_cache(maxsize=8192)
def _scaled_constant(const, digits: int) -> int:
    return scaled(const.value(digits + 10), digits)


@dataclass(frozen=True)
class Basis:
    """Monomials in constants; the relation is over [monomials..., monomials... times L]."""

    constants: tuple[catalog.Constant, ...]
    exponents: tuple[tuple[int, ...], ...]
    kind: str

    def values(self, dps: int, value: mpmath.mpf) -> list[mpmath.mpf]:
        """The basis values at ``dps`` digits for the value L = ``value``: monomials, then monomials times L."""
        xs = [c.value(dps) for c in self.constants]
        monos = [mpmath.fprod(x**e for x, e in zip(xs, exps)) for exps in self.exponents]
        return monos + [m * value for m in monos]

    def scaled(self, digits: int, value_int: int) -> list[int]:
        """The basis values as integers scaled by 10**digits, from the scaled value."""
        unit = 10**digits
        xs = [_scaled_constant(c, digits) for c in self.constants]
        monos = []
        for exps in self.exponents:
            m = unit
            for x, e in zip(xs, exps):
                for _ in range(e):
                    m = m * x // unit
            monos.append(m)
        return monos + [m * value_int // unit for m in monos]

    def names(self) -> tuple[str, ...]:
        """The monomials as text (``1``, ``pi``, ``pi^2*L``, ...), in the order of :meth:`values`."""
        monos = []
        for exps in self.exponents:
            parts = [c.name if e == 1 else f"{c.name}^{e}" for c, e in zip(self.constants, exps) if e]
            monos.append("*".join(parts) or "1")
        return tuple(monos) + tuple("L" if m == "1" else f"{m}*L" for m in monos)

    def closed_form(self, relation: Sequence[int]) -> sympy.Expr:
        """L solved from ``relation`` over the basis, as a quotient of combinations of the monomials."""
        xs = [c.sympy() for c in self.constants]
        monos = [sympy.Mul(*[x**e for x, e in zip(xs, exps)]) for exps in self.exponents]
        k = len(monos)
        top, bottom = [-c for c in relation[:k]], list(relation[k:])
        # Show L = top/bottom with the highest-degree denominator term positive.
        if next(c for c in reversed(bottom) if c) < 0:
            top, bottom = [-c for c in top], [-c for c in bottom]
        num = sympy.Add(*[c * m for c, m in zip(top, monos)])
        den = sympy.Add(*[c * m for c, m in zip(bottom, monos)])
        return num / den


def _monomials(count: int, degree: int) -> tuple[tuple[int, ...], ...]:
    return tuple(
        exps
        for total in range(degree + 1)
        for exps in itertools.product(range(total + 1), repeat=count)
        if sum(exps) == total
    )


HASH_BOUND = 10  # |c| of the Möbius transforms a hashed stage looks up
HASH_FROM = 300  # constants in a stage from which hashing beats one LLL each (measured, bench_identify)
_HASH_RTOL = 1e-11


class HashedMobius:
    """Möbius relations in one of many constants, found by hashing instead of one LLL per constant.

    A relation c₀ + c₁x + c₂L + c₃xL = 0 says x = (c₂L + c₀)/(−c₃L − c₁): a Möbius transform of
    L.  Every transform with |cᵢ| <= :data:`HASH_BOUND` (about 10⁵ of them) is computed in
    float64 at once and looked up in the sorted values of the constants; only the constants hit
    get an LLL screen.  The cost is that of the transforms plus a binary search each, so it
    hardly grows with the number of constants (a user catalog of thousands, 1,190 products),
    where one LLL per constant would grow linearly.  Relations with larger coefficients in these
    constants are out of its reach (the core catalog is screened by LLL, without that limit).
    """

    def __init__(self, consts, bound: int = HASH_BOUND):
        self.consts = list(consts)
        values = np.array([float(c.value(20)) for c in self.consts])
        order = np.argsort(values, kind="stable")
        self.values, self.index = values[order], order
        r = np.arange(-bound, bound + 1, dtype=np.float64)
        num0, num1 = np.meshgrid(r, r, indexing="ij")
        self.num = np.stack([num0.ravel(), num1.ravel()])  # c0 + c2 L: (c0, c2)
        den = self.num[:, (self.num[1] > 0) | ((self.num[1] == 0) & (self.num[0] > 0))]
        self.den = den  # -(c1 + c3 L) up to sign: one of ±(c1, c3)

    def bases(self, L: float) -> list[Basis]:
        """The Möbius bases of the constants some transform of ``L`` (a float) hits, in catalog order."""
        num = self.num[0] + self.num[1] * L
        den = self.den[0] + self.den[1] * L
        den = den[den != 0]
        t = (num[:, None] / den[None, :]).ravel()
        t = t[np.isfinite(t)]
        pos = np.clip(np.searchsorted(self.values, t), 1, len(self.values) - 1)
        hit = set()
        for side in (pos - 1, pos):
            close = np.abs(self.values[side] - t) <= _HASH_RTOL * np.maximum(np.abs(t), 1e-300)
            hit.update(self.index[side[close]].tolist())
        return mobius_bases(self.consts[i] for i in sorted(hit))


@lru_cache(maxsize=16)
def hashed_mobius(consts: tuple) -> HashedMobius:
    """The :class:`HashedMobius` of ``consts``, built once per tuple of constants."""
    return HashedMobius(consts)


def mobius_bases(consts) -> list[Basis]:
    """One basis [1, x, L, xL] per constant x (kind ``product`` for a product of constants, else ``mobius``)."""
    return [Basis((c,), _monomials(1, 1), "product" if isinstance(c, catalog.Product) else "mobius")
            for c in consts]


def polynomial_bases(consts, degree: int) -> list[Basis]:
    """One basis [1, x, …, x^degree, L, xL, …, x^degree L] per constant x."""
    return [Basis((c,), _monomials(1, degree), "polynomial") for c in consts]


def pair_bases(consts) -> list[Basis]:
    """One basis [1, x, y, L, xL, yL] per pair of constants x, y."""
    return [Basis((c1, c2), ((0, 0), (1, 0), (0, 1)), "pair") for c1, c2 in itertools.combinations(consts, 2)]

