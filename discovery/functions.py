"""The names the expression parser knows by itself: the functions it accepts (:data:`FUNCTIONS`)
and sympy's own constants, each with its sympy and mpmath forms.

A table only: :mod:`discovery.expressions` parses, :mod:`discovery.expression_cost` bounds the
work, and the catalog (:mod:`discovery.constants`) adds the constants sympy lacks.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import mpmath
import sympy


class Function(NamedTuple):
    """A function the parser accepts: its sympy and mpmath forms and how many arguments it takes."""

    sympy: Callable | None
    mpmath: Callable
    arity: tuple[int, ...]
    # sympy evaluates it eagerly on integers (bounded by discovery.expression_cost.MAX_INT_ARGUMENT)
    eager: bool = False


FUNCTIONS: dict[str, Function] = {
    "exp": Function(sympy.exp, mpmath.exp, (1,)),
    "exp2": Function(lambda v: sympy.Integer(2) ** v, lambda v: mpmath.mpf(2) ** v, (1,)),
    "log": Function(sympy.log, mpmath.log, (1, 2)),
    "ln": Function(sympy.log, mpmath.log, (1,)),
    "log2": Function(lambda v: sympy.log(v, 2), lambda v: mpmath.log(v, 2), (1,)),
    "log10": Function(lambda v: sympy.log(v, 10), mpmath.log10, (1,)),
    "log1p": Function(lambda v: sympy.log(1 + v), mpmath.log1p, (1,)),
    "expm1": Function(lambda v: sympy.exp(v) - 1, mpmath.expm1, (1,)),
    "sqrt": Function(sympy.sqrt, mpmath.sqrt, (1,)),
    "cbrt": Function(sympy.cbrt, mpmath.cbrt, (1,)),
    "root": Function(sympy.root, mpmath.root, (2,)),
    "abs": Function(sympy.Abs, mpmath.fabs, (1,)),
    "sin": Function(sympy.sin, mpmath.sin, (1,)),
    "cos": Function(sympy.cos, mpmath.cos, (1,)),
    "tan": Function(sympy.tan, mpmath.tan, (1,)),
    "cot": Function(sympy.cot, mpmath.cot, (1,)),
    "sec": Function(sympy.sec, mpmath.sec, (1,)),
    "csc": Function(sympy.csc, mpmath.csc, (1,)),
    "asin": Function(sympy.asin, mpmath.asin, (1,)),
    "acos": Function(sympy.acos, mpmath.acos, (1,)),
    "atan": Function(sympy.atan, mpmath.atan, (1,)),
    "sinh": Function(sympy.sinh, mpmath.sinh, (1,)),
    "cosh": Function(sympy.cosh, mpmath.cosh, (1,)),
    "tanh": Function(sympy.tanh, mpmath.tanh, (1,)),
    "asinh": Function(sympy.asinh, mpmath.asinh, (1,)),
    "acosh": Function(sympy.acosh, mpmath.acosh, (1,)),
    "atanh": Function(sympy.atanh, mpmath.atanh, (1,)),
    "erf": Function(sympy.erf, mpmath.erf, (1,)),
    "erfc": Function(sympy.erfc, mpmath.erfc, (1,)),
    "gamma": Function(sympy.gamma, mpmath.gamma, (1,), eager=True),
    "loggamma": Function(sympy.loggamma, mpmath.loggamma, (1,), eager=True),
    "factorial": Function(sympy.factorial, mpmath.factorial, (1,), eager=True),
    "beta": Function(sympy.beta, mpmath.beta, (2,), eager=True),
    "zeta": Function(sympy.zeta, mpmath.zeta, (1, 2), eager=True),
    "polygamma": Function(sympy.polygamma, mpmath.polygamma, (2,), eager=True),
    "psi": Function(sympy.polygamma, mpmath.psi, (2,), eager=True),
    "polylog": Function(sympy.polylog, mpmath.polylog, (2,), eager=True),
    "besselj": Function(sympy.besselj, mpmath.besselj, (2,)),
    "besseli": Function(sympy.besseli, mpmath.besseli, (2,)),
    "besselk": Function(sympy.besselk, mpmath.besselk, (2,)),
    "lambertw": Function(sympy.LambertW, mpmath.lambertw, (1,)),
    "e1": Function(sympy.E1, mpmath.e1, (1,)),
    "agm": Function(None, mpmath.agm, (2,)),
    "clsin": Function(None, mpmath.clsin, (2,)),
    "clcos": Function(None, mpmath.clcos, (2,)),
}

# Constants sympy has under its own name; a caller's ``names`` resolve the others.
_SYMPY_CONSTANTS = {
    "pi": (sympy.pi, lambda: +mpmath.pi),
    "π": (sympy.pi, lambda: +mpmath.pi),
    "E": (sympy.E, lambda: +mpmath.e),
    "e": (sympy.E, lambda: +mpmath.e),
    "EulerGamma": (sympy.EulerGamma, lambda: +mpmath.euler),
    "Catalan": (sympy.Catalan, lambda: +mpmath.catalan),
    "GoldenRatio": (sympy.GoldenRatio, lambda: +mpmath.phi),
}


def constant_key(name: str, names):
    """What a constant's name stands for.

    Parameters
    ----------
    name : str
        The name as written.
    names : callable or None
        The caller's resolver of names beyond sympy's own (see :func:`discovery.expressions.parse`).

    Returns
    -------
    tuple or object or None
        The (sympy, mpmath) pair of sympy's constant ``name``, else what ``names`` resolves it to
        (an object with ``sympy()`` and ``value(dps)``), else None.
    """
    if name in _SYMPY_CONSTANTS:
        return _SYMPY_CONSTANTS[name]
    return None if names is None else names(name)
