"""The cost checks on a parse tree of :mod:`discovery.expressions`, and the size limits they keep.

A tree is checked before anything is built from it: powers whose cost would explode (an exact
number of more than :data:`MAX_DIGITS` digits, a polynomial of degree above :data:`MAX_DEGREE`, an
integer exponent above :data:`MAX_DEGREE` on anything that is not an exact number) and eager
functions of huge exact arguments are refused at once, with one :class:`~discovery.errors.InputError`
naming them, instead of being expanded for minutes.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

from discovery.errors import InputError
from discovery.functions import FUNCTIONS
from discovery.messages import short

MAX_DIGITS = 20_000
MAX_DEGREE = 1000
# Integer arguments above this make sympy evaluate eagerly (zeta(10**6) computes a Bernoulli number).
MAX_INT_ARGUMENT = 1000


class _Cost(NamedTuple):
    degree: int | None  # polynomial degree bound in the variables, None when not a polynomial
    digits: float  # bound on the decimal size of coefficients / exact values
    exact: Fraction | None  # the value when the subtree is an exact rational number


def check_cost(tree: tuple, text: str) -> None:
    """Refuse a parse tree that would be too costly to build.

    Parameters
    ----------
    tree : tuple
        A tree of :mod:`discovery.expressions`.
    text : str
        The text it was parsed from, for messages.

    Raises
    ------
    InputError
        For a number, a polynomial degree or an exponent above the limits, a division by an exact
        zero, a bad order of ``psi``/``polygamma`` or degree of ``root``, or an eager function of
        an exact argument above :data:`MAX_INT_ARGUMENT`.
    """
    _cost(tree, text)


def check_digits(digits: float, text: str) -> None:
    """Refuse a number of more than :data:`MAX_DIGITS` decimal digits.

    Parameters
    ----------
    digits : float
        Its size in decimal digits (a bound; it may be infinite).
    text : str
        The text it comes from, for the message.

    Raises
    ------
    InputError
        If ``digits`` is above :data:`MAX_DIGITS`.
    """
    if digits > MAX_DIGITS:
        raise InputError(f"a number of about {_count(digits)} digits refused (at most {MAX_DIGITS:,}) in "
                         f"{short(text)}")


def _cost(node: tuple, text: str) -> _Cost:
    """The cost of a subtree, from those of its children (computed first, left to right)."""
    kind = node[0]
    if kind == "num":
        return _number(node[1], text)
    if kind == "var":
        return _Cost(1, 1.0, None)
    if kind == "const":
        return _Cost(0, 1.0, None)
    if kind == "neg":
        c = _cost(node[1], text)
        return c._replace(exact=None if c.exact is None else -c.exact)
    if kind == "add":
        return _sum([(s, _cost(t, text)) for s, t in node[1]])
    if kind == "mul":
        return _product([(e, _cost(f, text)) for e, f in node[1]], text)
    if kind == "pow":
        base, exponent = _cost(node[1], text), _cost(node[2], text)
        return _power(base, exponent, text)
    if kind == "call":
        return _call(node[1], [_cost(a, text) for a in node[2]], text)
    raise AssertionError(f"unknown node {kind}")


def _number(number: str, text: str) -> _Cost:
    power = number.lower().partition("e")[2]
    if power and abs(int(power)) > MAX_DIGITS:
        raise InputError(f"number {number} refused (exponent above {MAX_DIGITS:,}) in {short(text)}")
    value = Fraction(number)
    return _Cost(0, _digits(value), value)


def _sum(costs: list[tuple[int, _Cost]]) -> _Cost:
    degrees = [c.degree for _, c in costs]
    exact = None
    if all(c.exact is not None for _, c in costs):
        exact = sum((s * c.exact for s, c in costs), Fraction(0))
    return _Cost(
        None if None in degrees else max(degrees),
        max(c.digits for _, c in costs) + math.log10(len(costs)),
        exact,
    )


def _product(costs: list[tuple[int, _Cost]], text: str) -> _Cost:
    degree = 0
    for e, c in costs:
        degree = None if degree is None or c.degree is None or (e < 0 and c.degree > 0) else degree + c.degree
    if degree is not None and degree > MAX_DEGREE:
        raise InputError(f"polynomial of degree {degree} refused (at most {MAX_DEGREE}) in {short(text)}")
    digits = sum(c.digits - 1 for _, c in costs) + 1  # digits add up as logarithms, less one each
    check_digits(digits, text)
    exact = None
    if all(c.exact is not None for _, c in costs):
        exact = Fraction(1)
        for e, c in costs:
            if e < 0 and c.exact == 0:
                raise InputError(f"division by zero in {short(text)}")
            exact = exact * c.exact if e > 0 else exact / c.exact
    return _Cost(degree, digits, exact)


def _power(base: _Cost, exponent: _Cost, text: str) -> _Cost:
    k = exponent.exact
    if k is None:
        degree = 0 if base.degree == 0 and exponent.degree == 0 else None
        return _Cost(degree, base.digits, None)
    size = abs(k)
    if base.exact is not None:
        digits = _power_digits(base.digits, size)
        check_digits(digits, text)
        if base.exact == 0 and k < 0:
            raise InputError(f"division by zero (0 to a negative power) in {short(text)}")
        if k.denominator == 1:
            return _Cost(0, digits, base.exact ** int(k))
        return _Cost(None, digits, None)
    if size > MAX_DEGREE:
        raise InputError(
            f"exponent {_show(k)} refused in {short(text)} "
            f"(at most {MAX_DEGREE} on anything but an exact number)"
        )
    degree = None
    if base.degree is not None and k.denominator == 1 and k >= 0:
        degree = base.degree * int(k)
        if degree > MAX_DEGREE:
            raise InputError(f"polynomial of degree {degree} refused (at most {MAX_DEGREE}) in {short(text)}")
    digits = _power_digits(base.digits, size)
    check_digits(digits, text)
    return _Cost(degree, digits, None)


def _call(name: str, costs: list[_Cost], text: str) -> _Cost:
    if name in ("psi", "polygamma", "root"):
        order = costs[0 if name != "root" else 1].exact
        if order is None or order.denominator != 1 or (order < 0 if name != "root" else order == 0):
            which = "the order of" if name != "root" else "the degree of"
            raise InputError(f"{which} {name}() must be an exact {'non-negative ' if name != 'root' else ''}"
                             f"integer{'' if name != 'root' else ' other than 0'} in {short(text)}")
    if FUNCTIONS[name].eager:
        for c in costs:
            if c.exact is not None and abs(c.exact) > MAX_INT_ARGUMENT:
                raise InputError(
                    f"{name}() of {_show(c.exact)} refused in {short(text)} "
                    f"(exact arguments at most {MAX_INT_ARGUMENT} in size)"
                )
    degree = 0 if all(c.degree == 0 for c in costs) else None
    return _Cost(degree, max(c.digits for c in costs), None)


def _digits(value: Fraction) -> float:
    """Decimal digits of the larger of numerator and denominator (1 + log10), without str():
    Python refuses to print integers of more than 4,300 digits."""
    return math.log10(max(abs(value.numerator), value.denominator)) + 1


def _power_digits(digits: float, size: Fraction) -> float:
    """Digits of x**size for x of ``digits`` digits: the logarithm scales, not the digit count
    (10**10000 has 10,001 digits, not 2 * 10,000)."""
    if digits <= 1:
        return digits  # 0, 1, -1 and the variables: any power has the same size (and 0 * inf is nan)
    return (digits - 1) * max(_float(size), 1.0) + 1


def _count(digits: float) -> str:
    return f"{digits:,.0f}" if digits < 1e15 else f"{digits:.3g}"


def _float(value: Fraction) -> float:
    """A size as a float, saturating instead of overflowing (the digit checks refuse it then)."""
    return float(value) if abs(value) < 10**300 else math.inf


def _show(value: Fraction) -> str:
    if _digits(value) > 30:
        return f"a number of about {_digits(value):.0f} digits"
    return str(value)
