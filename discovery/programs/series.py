"""Target expressions as power series in ball arithmetic (python-flint ``arb_series``).

Walks the tree of :func:`discovery.expressions.parse` (node kinds documented there) and builds a
function of an ``arb_series`` in x whose every coefficient is a rigorous enclosure: the Taylor
coefficients of the expression at a point, or, at a ball, enclosures valid over the whole ball.
Functions arb has no series of (tanh, log to a base, ...) are written through exp and log.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from flint import arb, arb_series, fmpq

from discovery.errors import InputError
from discovery.constants import parse


def as_series(v) -> arb_series:
    """A ball as a constant series; a series unchanged."""
    return v if isinstance(v, arb_series) else arb_series([v])


def _exp2(s):
    return (s * arb(2).log()).exp()


def _log(s, base=None):
    return s.log() if base is None else s.log() / as_series(base).log()


def _sinh(s):
    return (s.exp() - (-s).exp()) / 2


def _cosh(s):
    return (s.exp() + (-s).exp()) / 2


def _tanh(s):
    return 1 - 2 / ((2 * s).exp() + 1)


_SERIES_FUNCTIONS = {
    "exp": lambda s: s.exp(),
    "exp2": _exp2,
    "log": _log,
    "ln": _log,
    "log2": lambda s: _log(s, arb(2)),
    "log10": lambda s: _log(s, arb(10)),
    "log1p": lambda s: (1 + s).log(),
    "expm1": lambda s: s.exp() - 1,
    "sqrt": lambda s: s.sqrt(),
    "cbrt": lambda s: (s.log() / 3).exp(),
    "root": lambda s, n: (s.log() / n).exp(),
    "sin": lambda s: s.sin(),
    "cos": lambda s: s.cos(),
    "tan": lambda s: s.tan(),
    "cot": lambda s: s.cos() / s.sin(),
    "sec": lambda s: 1 / s.cos(),
    "csc": lambda s: 1 / s.sin(),
    "asin": lambda s: s.asin(),
    "acos": lambda s: s.acos(),
    "atan": lambda s: s.atan(),
    "sinh": _sinh,
    "cosh": _cosh,
    "tanh": _tanh,
    "asinh": lambda s: (s + (s * s + 1).sqrt()).log(),
    "acosh": lambda s: (s + (s * s - 1).sqrt()).log(),
    "atanh": lambda s: ((1 + s).log() - (1 - s).log()) / 2,
    "erf": lambda s: s.erf(),
    "erfc": lambda s: s.erfc(),
    "gamma": lambda s: s.gamma(),
    "loggamma": lambda s: s.lgamma(),
}

_CONSTANTS = {
    "pi": arb.pi,
    "π": arb.pi,
    "e": arb.const_e,
    "E": arb.const_e,
    "EulerGamma": arb.const_euler,
    "Catalan": arb.const_catalan,
    "GoldenRatio": lambda: (1 + arb(5).sqrt()) / 2,
}


def series_function(expr: str) -> Callable:
    """The expression in x (text read by :func:`discovery.expressions.parse`) as a function of an
    ``arb_series`` in x, evaluated at the flint precision current when it is called.

    Raises
    ------
    InputError
        Naming the function or constant without an enclosure (``abs``, ``zeta``, a catalog
        constant).
    """
    return _builder(parse(expr, ("x",)).tree, expr)


def _builder(node: tuple, text: str):
    """Compile an expression tree (see :mod:`discovery.expressions`) into a function of an
    ``arb_series`` in x, evaluated at the precision current when it is called."""
    kind = node[0]
    if kind == "num":
        q = Fraction(node[1])
        return lambda x: as_series(arb(fmpq(q.numerator, q.denominator)))
    if kind == "var":
        return lambda x: x
    if kind == "const":
        if node[1] not in _CONSTANTS:
            raise InputError(f"cannot bound {text!r}: no enclosure of the constant {node[1]!r}")
        get = _CONSTANTS[node[1]]
        return lambda x: as_series(get())
    if kind == "neg":
        inner = _builder(node[1], text)
        return lambda x: -inner(x)
    if kind == "add":
        parts = [(s, _builder(t, text)) for s, t in node[1]]

        def add(x):
            total = as_series(arb(0))
            for s, g in parts:
                total = total + g(x) if s > 0 else total - g(x)
            return total

        return add
    if kind == "mul":
        parts = [(e, _builder(t, text)) for e, t in node[1]]

        def mul(x):
            total = as_series(arb(1))
            for e, g in parts:
                total = total * g(x) if e > 0 else total / g(x)
            return total

        return mul
    if kind == "pow":
        base = _builder(node[1], text)
        n = _integer(node[2])
        if n is not None:
            return lambda x: base(x) ** n if n >= 0 else 1 / base(x) ** -n
        exponent = _builder(node[2], text)
        return lambda x: (exponent(x) * base(x).log()).exp()
    name = node[1]
    if name not in _SERIES_FUNCTIONS:
        raise InputError(f"cannot bound {text!r}: no power-series enclosure of {name}()")
    fn = _SERIES_FUNCTIONS[name]
    args = [_builder(a, text) for a in node[2]]
    return lambda x: fn(*[g(x) for g in args])


def _integer(node: tuple) -> int | None:
    """The exponent as an int when it is a literal integer (so x^2 needs no logarithm of x)."""
    sign = 1
    if node[0] == "neg":
        sign, node = -1, node[1]
    if node[0] == "num" and node[1].isdigit():
        return sign * int(node[1])
    return None
