"""Exact guessing of rational sequences r(k) given on an arithmetic progression of k.

Used to state a PCF family's limit as a formula in its parameter k: the Möbius coefficients of the
members' limits are rational sequences in k.  Three shapes are tried, simplest first, each fitted
exactly (rational arithmetic, no tolerance) and accepted only when the fit is overdetermined, so
that the fitted points themselves already test it:

``polynomial``
    r(k) = c₀ + c₁k + … of degree ≤ :data:`MAX_POLY_DEGREE`.
``hypergeometric``
    r(k + s) / r(k) = P(k)/Q(k), a ratio of polynomials of degree ≤ :data:`MAX_RATIO_DEGREE`
    (factorial, double-factorial and geometric growth; s is the step of the progression).
``partial_sum``
    r(k + s) − r(k) is hypergeometric (partial sums such as 1 − 1/3 + 1/5 − …).

A fit is then applied to values of k not used for it, forwards or backwards along the progression.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import sympy

MAX_POLY_DEGREE = 3
MAX_RATIO_DEGREE = 2


def _poly_at(coeffs: Sequence[Fraction], k: int) -> Fraction:
    """Σ coeffs[i] k^i (lowest degree first)."""
    out = Fraction(0)
    for c in reversed(coeffs):
        out = out * k + c
    return out


@dataclass(frozen=True)
class SequenceFit:
    """An exact formula for r(k) on k ≡ k0 (mod step).

    Attributes
    ----------
    kind : str
        ``polynomial``, ``hypergeometric`` or ``partial_sum``.
    k0, step : int
        The progression k0 + j·step the fit lives on.
    value0 : Fraction
        r(k0).
    coeffs : tuple of Fraction
        ``polynomial``: the coefficients of r (lowest degree first).  Otherwise the numerator P
        of the ratio followed by its denominator Q, each of length ``len(coeffs) // 2``.
    diff0 : Fraction
        ``partial_sum``: d(k0) = r(k0 + step) − r(k0); the hypergeometric ratio is that of d.
    """

    kind: str
    k0: int
    step: int
    value0: Fraction
    coeffs: tuple[Fraction, ...]
    diff0: Fraction = Fraction(0)

    @property
    def ratio(self) -> tuple[tuple[Fraction, ...], tuple[Fraction, ...]]:
        """(P, Q) of a hypergeometric term's ratio, lowest degree first."""
        half = len(self.coeffs) // 2
        return self.coeffs[:half], self.coeffs[half:]

    def _term(self, start: Fraction, k: int) -> Fraction | None:
        """The hypergeometric term with value ``start`` at k0, walked to k (None past a pole)."""
        P, Q = self.ratio
        value, at = start, self.k0
        while at < k:
            q = _poly_at(Q, at)
            if q == 0:
                return None
            value, at = value * _poly_at(P, at) / q, at + self.step
        while at > k:
            at -= self.step
            p = _poly_at(P, at)
            if p == 0:
                return None
            value = value * _poly_at(Q, at) / p
        return value

    def at(self, k: int) -> Fraction | None:
        """r(k), or None where k is off the progression or the recurrence meets a pole."""
        if (k - self.k0) % self.step:
            return None
        if self.kind == "polynomial":
            return _poly_at(self.coeffs, k)
        if self.kind == "hypergeometric":
            return self._term(self.value0, k)
        value = self.value0
        for at in range(self.k0, k, self.step):
            d = self._term(self.diff0, at)
            if d is None:
                return None
            value += d
        for at in range(self.k0 - self.step, k - 1, -self.step):
            d = self._term(self.diff0, at)
            if d is None:
                return None
            value -= d
        return value

    def rebased(self, k0: int) -> "SequenceFit | None":
        """The same sequence with its origin at ``k0`` (simpler closed forms from a small k0), or
        None where the recurrence cannot start there (a pole, or a zero term)."""
        value = self.at(k0)
        if value is None or self.kind == "polynomial":
            return None if value is None else SequenceFit(self.kind, k0, self.step, value, self.coeffs)
        shifted = SequenceFit("hypergeometric", self.k0, self.step, self.value0 if self.kind == "hypergeometric"
                              else self.diff0, self.coeffs)
        term = shifted.at(k0)
        if not term:
            return None
        return SequenceFit(self.kind, k0, self.step, value, self.coeffs, Fraction(0) if self.kind ==
                           "hypergeometric" else term)

    def expr(self, k: sympy.Symbol) -> sympy.Expr:
        """r(k) as a sympy expression in ``k`` (products and sums kept unevaluated when sympy
        has no simpler form)."""
        if self.kind == "polynomial":
            return sympy.Add(*[sympy.Rational(c.numerator, c.denominator) * k**i for i, c in enumerate(self.coeffs)])
        j, i = sympy.Symbol("j", integer=True), sympy.Symbol("i", integer=True)
        P, Q = self.ratio

        def poly(cs, x):
            return sympy.Add(*[sympy.Rational(c.numerator, c.denominator) * x**e for e, c in enumerate(cs)])

        def term(start: Fraction, upper: sympy.Expr, var) -> sympy.Expr:
            at = self.k0 + self.step * var
            product = sympy.Product(sympy.factor(poly(P, at) / poly(Q, at)), (var, 0, upper))
            # expand_func turns gamma(j + 5/2)/gamma(j + 3/2) into j + 3/2 and gammasimp merges
            # gammas; neither, unlike simplify, rewrites (-1)**(k/2) as a power of I.
            raw = product.doit()
            forms = (raw, sympy.gammasimp(raw), sympy.factor(sympy.expand_func(raw.rewrite(sympy.gamma))))
            done = min(forms, key=sympy.count_ops)
            form = done if not done.has(sympy.Product) else product
            return sympy.Rational(start.numerator, start.denominator) * form

        steps = (k - self.k0) / self.step
        if self.kind == "hypergeometric":
            return term(self.value0, steps - 1, j)
        summand = term(self.diff0, i - 1, j)
        return sympy.Rational(self.value0.numerator, self.value0.denominator) + sympy.Sum(summand, (i, 0, steps - 1))

    def as_json(self) -> dict:
        """A JSON-ready description (fractions as ``"p/q"`` text); see :func:`from_json`."""
        return {"kind": self.kind, "k0": self.k0, "step": self.step, "value0": str(self.value0),
                "coeffs": [str(c) for c in self.coeffs], "diff0": str(self.diff0)}


def from_json(data: dict) -> SequenceFit:
    """The inverse of :meth:`SequenceFit.as_json`."""
    return SequenceFit(data["kind"], int(data["k0"]), int(data["step"]), Fraction(data["value0"]),
                       tuple(Fraction(c) for c in data["coeffs"]), Fraction(data["diff0"]))


def _fit_polynomial(ks: Sequence[int], values: Sequence[Fraction]) -> tuple[Fraction, ...] | None:
    """Lowest-degree polynomial through all points, with at least one point to spare."""
    x = sympy.Symbol("x")
    for degree in range(min(MAX_POLY_DEGREE, len(ks) - 2) + 1):
        points = [(k, sympy.Rational(v.numerator, v.denominator)) for k, v in zip(ks[:degree + 1], values)]
        poly = sympy.Poly(sympy.interpolate(points, x) if degree else points[0][1], x)
        coeffs = tuple(Fraction(int(c.p), int(c.q)) for c in reversed(poly.all_coeffs()))
        if all(_poly_at(coeffs, k) == v for k, v in zip(ks, values)):
            return coeffs
    return None


def _fit_ratio(ks: Sequence[int], values: Sequence[Fraction]) -> tuple[Fraction, ...] | None:
    """(P, Q) with values[i+1]·Q(ks[i]) = values[i]·P(ks[i]) for every i, overdetermined."""
    if any(v == 0 for v in values):
        return None
    for degree in range(MAX_RATIO_DEGREE + 1):
        unknowns = 2 * (degree + 1)
        if len(ks) - 1 < unknowns:  # one equation more than a 1-dimensional solution needs
            break
        rows = [[-v * k**e for e in range(degree + 1)] + [w * k**e for e in range(degree + 1)]
                for k, v, w in zip(ks, values, values[1:])]
        space = sympy.Matrix([[sympy.Rational(c.numerator, c.denominator) for c in row] for row in rows]).nullspace()
        if len(space) != 1:
            continue
        vec = space[0]
        coeffs = tuple(Fraction(int(sympy.fraction(c)[0]), int(sympy.fraction(c)[1])) for c in vec)
        P, Q = coeffs[:degree + 1], coeffs[degree + 1:]
        if all(_poly_at(Q, k) != 0 and _poly_at(P, k) != 0 for k in ks[:-1]):
            return coeffs
    return None


def fit_sequence(ks: Sequence[int], values: Sequence[Fraction]) -> SequenceFit | None:
    """The simplest exact formula for a rational sequence on consecutive terms of a progression.

    Parameters
    ----------
    ks : sequence of int
        Consecutive terms k0, k0 + s, k0 + 2s, … (s > 0).
    values : sequence of Fraction
        r(k) at those k.

    Returns
    -------
    SequenceFit or None
        A polynomial, hypergeometric or partial-sum formula reproducing every given value, found
        with fewer values than given; None when no such formula of the bounded degrees exists.

    Examples
    --------
    >>> from fractions import Fraction as F
    >>> fit_sequence([0, 1, 2, 3, 4], [F(1), F(1), F(2), F(6), F(24)]).kind  # k!
    'hypergeometric'
    """
    ks, values = [int(k) for k in ks], [Fraction(v) for v in values]
    if len(ks) != len(values) or len(ks) < 2:
        raise ValueError(f"need matching ks and values, at least 2, got {len(ks)} and {len(values)}")
    step = ks[1] - ks[0]
    if step <= 0 or any(b - a != step for a, b in zip(ks, ks[1:])):
        raise ValueError(f"ks must be consecutive terms of an increasing progression, got {ks}")
    coeffs = _fit_polynomial(ks, values)
    if coeffs is not None:
        return SequenceFit("polynomial", ks[0], step, values[0], coeffs)
    coeffs = _fit_ratio(ks, values)
    if coeffs is not None:
        return SequenceFit("hypergeometric", ks[0], step, values[0], coeffs)
    diffs = [b - a for a, b in zip(values, values[1:])]
    coeffs = _fit_ratio(ks[:-1], diffs)
    if coeffs is not None:
        return SequenceFit("partial_sum", ks[0], step, values[0], coeffs, diffs[0])
    return None
