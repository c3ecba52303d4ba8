"""A program without square roots as one exact fraction P/Q, and its values where it divides by 0.

A continued fraction such as c + r/(x - 1/2 + s/(x - 1/2)) divides by zero at x = 1/2, where IEEE
arithmetic (and :func:`discovery.programs.verify.mp_value`) computes s/0 = inf, then r/inf = 0,
and the result is finite again.  Ball arithmetic cannot follow that: any ball around 1/2 makes
the division unbounded.  The reduced fraction P/Q of the program equals it wherever no division
by zero happens, which is everywhere but at the zeros of the divisors; when those zeros are
rational, the program's value there is computed exactly (:func:`ieee_value`), so the error
can be bounded through P/Q between them and exactly at them.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import arb, fmpq, fmpq_poly

from discovery.programs.graph import Program
from discovery.programs.ops import apply


class _Fraction:
    """A rational function num/den (fmpq_poly, reduced); divisions record their divisor's
    numerator in ``divisors``, shared by all values of one program."""

    def __init__(self, num: fmpq_poly, den: fmpq_poly, divisors: list, max_degree: int):
        if max(num.degree(), den.degree()) > max_degree:
            # Compositions of squared programs reach degrees in the hundred thousands, whose
            # exact gcds would take minutes and gigabytes.
            raise ValueError(f"degree above {max_degree}")
        g = fmpq_poly.gcd(num, den)
        self.num, self.den = num / g, den / g  # exact: g divides both
        lead = self.den.coeffs()[-1]
        self.num, self.den = self.num / lead, self.den / lead
        self.divisors, self.max_degree = divisors, max_degree

    def _make(self, num, den):
        return _Fraction(num, den, self.divisors, self.max_degree)

    def _lift(self, other):
        if isinstance(other, _Fraction):
            return other
        return self._make(fmpq_poly([fmpq(*Fraction(other).as_integer_ratio())]), fmpq_poly([1]))

    def __add__(self, other):
        o = self._lift(other)
        return self._make(self.num * o.den + o.num * self.den, self.den * o.den)

    def __sub__(self, other):
        o = self._lift(other)
        return self._make(self.num * o.den - o.num * self.den, self.den * o.den)

    def __mul__(self, other):
        o = self._lift(other)
        return self._make(self.num * o.num, self.den * o.den)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._lift(other)
        if o.num.is_zero():
            raise ZeroDivisionError("a divisor of the program is identically zero")
        self.divisors.append(o.num)
        return self._make(self.num * o.den, self.den * o.num)


def _no_sqrt(_):
    raise ValueError("a program with a square root is not a fraction of polynomials")


def rational_form(program: Program, max_degree: int = 1024):
    """(P, Q, divisors): the program as the reduced fraction P/Q (Q monic) and the numerators of
    every value it divides by; None when it takes a square root, divides by a value that is
    identically zero, or a value's degree exceeds ``max_degree``."""
    prog = program.simplified()
    divisors: list = []

    def const(c: float) -> _Fraction:
        return _Fraction(fmpq_poly([fmpq(*c.as_integer_ratio())]), fmpq_poly([1]), divisors, max_degree)

    values = [_Fraction(fmpq_poly([0, 1]), fmpq_poly([1]), divisors, max_degree)] + [const(c) for c in prog.consts]
    try:
        for op, (i, j, k) in prog.instructions:
            values.append(apply(op, values[i], values[j], values[k], _no_sqrt))
    except (ValueError, ZeroDivisionError):
        return None
    out = values[prog.output]
    return out.num, out.den, divisors


def divisor_zeros(divisors, lo: float, hi: float, irrational: bool = True) -> tuple[list[fmpq], bool]:
    """The rational zeros in [lo, hi] of the divisors, sorted, and whether a divisor may also
    have an irrational zero there.  Off these zeros the program never divides by zero.

    With ``irrational=False`` the second answer is not computed (always False): isolating the
    complex roots of a high-degree divisor with long rational coefficients can take minutes,
    finding its rational roots does not.
    """
    lo_q, hi_q = fmpq(*lo.as_integer_ratio()), fmpq(*hi.as_integer_ratio())
    span = arb(lo).union(arb(hi))
    points, maybe = set(), False
    for d in divisors:
        rest = d
        for root, mult in d.roots():
            if lo_q <= root <= hi_q:
                points.add(root)
            rest = rest / fmpq_poly([-root, 1]) ** mult
        if irrational and not maybe:
            maybe = any(z.imag.contains(0) and z.real.overlaps(span) for z, _ in rest.complex_roots())
    return sorted(points), maybe


class _Extended:
    """An exact rational, or a signed infinity or NaN, with IEEE rules for the latter (as
    :func:`discovery.programs.verify.mp_value` computes: zero is unsigned, c/0 = sign(c) inf)."""

    def __init__(self, v):
        self.v = v  # fmpq, or a non-finite numpy float64

    def finite(self) -> bool:
        return isinstance(self.v, fmpq)

    def _signed(self) -> np.float64:
        # Beside an infinity only a finite value's sign matters (and whether it is zero).
        return np.float64((self.v > 0) - (self.v < 0)) if self.finite() else self.v

    def _ieee(self, other, fn):
        with np.errstate(all="ignore"):
            r = fn(self._signed(), _extended(other)._signed())
        # The only finite result beside an infinity is c/inf = 0.
        return _Extended(fmpq(0) if np.isfinite(r) else r)

    def __add__(self, other):
        o = _extended(other)
        return _Extended(self.v + o.v) if self.finite() and o.finite() else self._ieee(o, np.add)

    def __sub__(self, other):
        o = _extended(other)
        return _Extended(self.v - o.v) if self.finite() and o.finite() else self._ieee(o, np.subtract)

    def __mul__(self, other):
        o = _extended(other)
        return _Extended(self.v * o.v) if self.finite() and o.finite() else self._ieee(o, np.multiply)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = _extended(other)
        if self.finite() and o.finite() and o.v != 0:
            return _Extended(self.v / o.v)
        return self._ieee(o, np.divide)


def _extended(v) -> _Extended:
    return v if isinstance(v, _Extended) else _Extended(fmpq(*Fraction(v).as_integer_ratio()))


def ieee_value(program: Program, x: fmpq):
    """The program's exact value at the rational x with IEEE semantics: an fmpq, or None when it
    is infinite or NaN (a program without square roots)."""
    prog = program.simplified()
    values = [_Extended(x)] + [_extended(c) for c in prog.consts]
    for op, (i, j, k) in prog.instructions:
        values.append(apply(op, values[i], values[j], values[k], _no_sqrt))
    out = values[prog.output]
    return out.v if out.finite() else None


def polynomial_series(p: fmpq_poly, x):
    """p at x (an arb_series, or anything with + and *) by Horner's rule, coefficients as balls."""
    coeffs = p.coeffs() or [fmpq(0)]
    acc = arb(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        acc = acc * x + arb(c)
    return acc
