"""The one parser for mathematical text: PCF polynomials, values to identify, program targets,
catalog definitions and closed forms read back from the database.

Text is tokenized and parsed here into a small tree; sympy and mpmath objects are then built from
that tree.  Nothing is ever handed to ``eval``, ``sympify`` or ``parse_expr``, so no text can run
code.  What is accepted:

- numbers (``12``, ``0.25``, ``1e-3``), the variables allowed in that place (``n``, ``x``, ...);
- constants: ``pi``/``π``, ``e``/``E``, sympy's ``EulerGamma``, ``Catalan``, ``GoldenRatio`` and
  the names the caller lets it resolve (``names``: :func:`discovery.constants.parse` passes every
  name and alias of the catalog, so this module imports nothing of the package above it);
- the functions in :data:`FUNCTIONS` (``exp``, ``log``, ``sqrt``, ``sin``, ``zeta``, ``gamma``, ...);
- ``+ - * /``, powers ``^`` or ``**``, ``√``, parentheses, and implicit multiplication (``2n+1``,
  ``n(n+2)``, ``2pi``).

Refused, each with one :class:`~discovery.errors.InputError` naming what was refused: any other
character or name, text longer than :data:`MAX_LENGTH`, nesting deeper than :data:`MAX_NESTING`,
and powers whose cost would explode (an exact number of more than :data:`MAX_DIGITS` digits, a
polynomial of degree above :data:`MAX_DEGREE`, an integer exponent above :data:`MAX_DEGREE` on
anything that is not an exact number) — ``n**(10**10**10)`` is refused at once instead of being
expanded for minutes.

The parser's pieces live beside it, each importing nothing of the package above
:mod:`discovery.errors`: the function table in :mod:`discovery.functions`, the cost checks and
their limits in :mod:`discovery.expression_cost`, the shortening of values in messages in
:mod:`discovery.messages`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, NamedTuple, Sequence

import mpmath
import sympy

from discovery.errors import InputError
from discovery.expression_cost import MAX_DEGREE, MAX_DIGITS, MAX_INT_ARGUMENT, check_cost, check_digits
from discovery.functions import FUNCTIONS, constant_key
from discovery.messages import short, shown

# The parser's face; FUNCTIONS, the size limits and shown live beside it and are named here too.
__all__ = ["FUNCTIONS", "MAX_DEGREE", "MAX_DIGITS", "MAX_INT_ARGUMENT", "MAX_LENGTH", "MAX_NESTING", "Expression",
           "parse", "shown", "to_sympy"]

MAX_LENGTH = 2000
MAX_NESTING = 100

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[^\W\d]\w*)
  | (?P<op>\*\*|[-+*/^(),√∛]|[−×·])
    """,
    re.VERBOSE,
)
_OP_ALIASES = {"−": "-", "×": "*", "·": "*", "**": "^"}


class _Token(NamedTuple):
    kind: str  # "number", "name", "op" or "end"
    text: str
    pos: int


# --- the tree ------------------------------------------------------------------------------------
# ("num", text) | ("var", name) | ("const", name, names) | ("call", name, args) | ("neg", node)
# | ("add", ((sign, node), ...)) | ("mul", ((exponent ±1, node), ...)) | ("pow", base, exponent)


@dataclass(frozen=True)
class Expression:
    """Parsed, validated mathematical text.

    Attributes
    ----------
    text : str
        The text as given.
    variables : tuple of str
        The variables it may use.
    tree : tuple
        The parse tree (nested tuples; see the module source for the node kinds).
    """

    text: str
    variables: tuple[str, ...]
    tree: tuple

    def sympy(self) -> sympy.Expr:
        """The expression as a sympy object (catalog constants sympy lacks are symbols).

        Raises
        ------
        InputError
            If it uses a function with no sympy form (``agm``, ``clsin``, ``clcos``).
        """
        return _to_sympy(self.tree, self.text)

    def mpmath(self) -> Callable[..., mpmath.mpf]:
        """A function of the variables (as keyword arguments) that evaluates the expression with
        mpmath at the working precision current when it is called."""
        fn = _to_mpmath(self.tree)

        def evaluate(**values):
            missing = set(self.variables) - set(values)
            if missing:
                raise TypeError(f"missing values for {sorted(missing)}")
            try:
                return fn(values)
            except ArithmeticError as err:
                if str(err):
                    raise
                # mpmath raises ZeroDivisionError() with no message: callers' messages ended in ": ".
                what = {ZeroDivisionError: "division by zero", OverflowError: "overflow"}.get(type(err), "undefined")
                where = ", ".join(f"{k} = {mpmath.nstr(v, 8)}" for k, v in sorted(values.items()))
                raise type(err)(f"{what} at {where}" if where else what) from None

        return evaluate

    def value(self, dps: int = 30) -> mpmath.mpf:
        """The value of an expression without variables, to ``dps`` digits.

        Raises
        ------
        InputError
            If it has variables or cannot be evaluated (division by zero, a complex value, ...).
        """
        if self.variables and _uses_variables(self.tree):
            raise InputError(f"{short(self.text)} is not a constant expression")
        with mpmath.workdps(dps + 10):
            try:
                v = _to_mpmath(self.tree)({})
            except InputError:
                raise
            except Exception as err:  # noqa: BLE001 - mpmath's failures (NoConvergence, domain errors) vary
                message = " ".join(str(err).split()) or type(err).__name__
                raise InputError(f"cannot evaluate {short(self.text)}: {message}") from None
            if not isinstance(v, mpmath.mpf) or not mpmath.isfinite(v):
                raise InputError(f"{short(self.text)} is not a finite real number (it is {mpmath.nstr(v, 8)})")
        return v


def parse(text: str, variables: Sequence[str] = (), names: Callable[[str], Any] | None = None) -> Expression:
    """Parse mathematical text into a validated :class:`Expression`.

    Parameters
    ----------
    text : str
        The text, e.g. ``"2n^2 + 3n + 1"``, ``"4/pi"``, ``"exp(x)*sin(x)"``.
    variables : sequence of str
        The variable names allowed (none for a constant).
    names : callable, optional
        Resolves a constant's name beyond sympy's own (``pi``, ``E``, ...): returns an object
        with ``sympy()`` and ``value(dps)``, or None for a name it does not know.  It is asked
        again each time the expression is built, so a catalog that changes is followed.
        :func:`discovery.constants.parse` passes the catalog's.

    Returns
    -------
    Expression

    Raises
    ------
    InputError
        For anything that is not on the whitelist, with one line naming it.
    """
    return _parse_cached(text, tuple(variables), names)


def to_sympy(text: str, variables: Sequence[str] = (), names: Callable[[str], Any] | None = None) -> sympy.Expr:
    """Parse ``text`` (see :func:`parse`) and build the sympy expression; variables become
    ``sympy.Symbol`` objects of the same names."""
    return parse(text, variables, names).sympy()


@lru_cache(maxsize=1024)
def _parse_cached(text: str, variables: tuple[str, ...], names) -> Expression:
    if not isinstance(text, str):
        raise InputError(f"expected text, got {type(text).__name__} {text!r:.60}")
    if len(text) > MAX_LENGTH:
        raise InputError(f"expression of {len(text):,} characters refused (at most {MAX_LENGTH:,})")
    for v in variables:
        if not v.isidentifier():
            raise InputError(f"bad variable name {v!r}")
    parser = _Parser(text, variables, names)
    tree = parser.parse()
    check_cost(tree, text)
    return Expression(text, variables, tree)


def substitute(text: str, variable: str, replacement: str) -> str:
    """``text`` with every occurrence of the name ``variable`` replaced by ``(replacement)``
    (by tokens, so ``x`` in ``exp(x)`` is replaced and the x of ``exp`` is not).

    Raises
    ------
    InputError
        For a character the parser does not allow.
    """
    out, end = [], 0
    for tok in _tokenize(text):
        if tok.kind == "name" and tok.text == variable:
            out += [text[end:tok.pos], f"({replacement})"]
            end = tok.pos + len(tok.text)
    return "".join(out) + text[end:]


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise InputError(f"character {text[pos]!r} at position {pos} of {short(text)} is not allowed")
        kind = m.lastgroup
        if kind != "space":
            value = m.group()
            if kind == "op":
                value = _OP_ALIASES.get(value, value)
            tokens.append(_Token(kind, value, pos))
        pos = m.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent; chains of + - * / are collected in loops so only nesting recurses."""

    def __init__(self, text: str, variables: tuple[str, ...], names):
        self.text = text
        self.variables = variables
        self.names = names
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def error(self, message: str, token: _Token | None = None) -> InputError:
        token = token or self.peek()
        where = "at the end" if token.kind == "end" else f"at position {token.pos}"
        return InputError(f"{message} {where} of {short(self.text)}")

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expect(self, op: str) -> None:
        tok = self.take()
        if tok.kind != "op" or tok.text != op:
            found = "the end" if tok.kind == "end" else repr(tok.text)
            raise self.error(f"expected {op!r}, found {found}", tok)

    def nest(self):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nesting deeper than {MAX_NESTING} levels refused")

    def parse(self) -> tuple:
        if self.peek().kind == "end":
            raise InputError("empty expression")
        node = self.sum()
        tok = self.peek()
        if tok.kind != "end":
            raise self.error(f"unexpected {tok.text!r}", tok)
        return node

    def sum(self) -> tuple:
        terms = [(1, self.product())]
        while self.peek().kind == "op" and self.peek().text in "+-":
            sign = 1 if self.take().text == "+" else -1
            terms.append((sign, self.product()))
        return terms[0][1] if len(terms) == 1 else ("add", tuple(terms))

    def starts_atom(self, tok: _Token) -> bool:
        return tok.kind in ("number", "name") or (tok.kind == "op" and tok.text in "(√∛")

    def product(self) -> tuple:
        first = self.unary()
        factors = [(1, first)]
        while True:
            tok = self.peek()
            if tok.kind == "op" and tok.text in "*/":
                self.take()
                factors.append((1 if tok.text == "*" else -1, self.unary()))
            elif self.starts_atom(tok):
                before = self.tokens[self.i - 1]
                if tok.kind == "number" and before.kind == "number":
                    raise self.error(f"two numbers in a row ({before.text} {tok.text})", tok)
                factors.append((1, self.power()))
            else:
                break
        return first if len(factors) == 1 else ("mul", tuple(factors))

    def unary(self) -> tuple:
        negative = False
        while self.peek().kind == "op" and self.peek().text in "+-":
            negative ^= self.take().text == "-"
        node = self.power()
        return ("neg", node) if negative else node

    def power(self) -> tuple:
        base = self.atom()
        if self.peek().kind == "op" and self.peek().text == "^":
            self.take()
            self.nest()
            exponent = self.unary()
            self.depth -= 1
            return ("pow", base, exponent)
        return base

    def atom(self) -> tuple:
        tok = self.take()
        if tok.kind == "number":
            return ("num", tok.text)
        if tok.kind == "op" and tok.text == "(":
            self.nest()
            node = self.sum()
            self.expect(")")
            self.depth -= 1
            return node
        if tok.kind == "op" and tok.text in "√∛":
            self.nest()
            node = ("call", "sqrt" if tok.text == "√" else "cbrt", (self.power(),))
            self.depth -= 1
            return node
        if tok.kind == "name":
            return self.name(tok)
        found = "the end" if tok.kind == "end" else repr(tok.text)
        raise self.error(f"expected a number, a name or '(', found {found}", tok)

    def name(self, tok: _Token) -> tuple:
        name = tok.text
        follows_paren = self.peek().kind == "op" and self.peek().text == "("
        if name in self.variables:
            return ("var", name)
        if name in FUNCTIONS and follows_paren:
            return self.call(name)
        if constant_key(name, self.names) is not None:
            if follows_paren:
                raise self.error(f"{name!r} is a constant, not a function", self.peek())
            return ("const", name, self.names)
        if name in FUNCTIONS:
            raise self.error(f"function {name!r} needs its arguments in parentheses", self.peek())
        allowed = f"; variables allowed here: {', '.join(self.variables)}" if self.variables else ""
        raise self.error(f"unknown name {name!r}{allowed}", tok)

    def call(self, name: str) -> tuple:
        self.expect("(")
        self.nest()
        args = [self.sum()]
        while self.peek().kind == "op" and self.peek().text == ",":
            self.take()
            args.append(self.sum())
        self.expect(")")
        self.depth -= 1
        arity = FUNCTIONS[name].arity
        if len(args) not in arity:
            want = " or ".join(map(str, arity))
            raise InputError(f"{name}() takes {want} argument(s), got {len(args)} in {short(self.text)}")
        return ("call", name, tuple(args))


def _uses_variables(node: tuple) -> bool:
    kind = node[0]
    if kind == "var":
        return True
    if kind in ("num", "const"):
        return False
    if kind == "neg":
        return _uses_variables(node[1])
    if kind in ("add", "mul"):
        return any(_uses_variables(t) for _, t in node[1])
    if kind == "pow":
        return _uses_variables(node[1]) or _uses_variables(node[2])
    return any(_uses_variables(a) for a in node[2])


# --- builders ------------------------------------------------------------------------------------


def _sympy_constant(name: str, names):
    found = constant_key(name, names)
    if isinstance(found, tuple):
        return found[0]
    return found.sympy()


def _to_sympy(node: tuple, text: str):
    kind = node[0]
    if kind == "num":
        return sympy.Rational(node[1]) if any(ch in node[1] for ch in ".eE") else sympy.Integer(node[1])
    if kind == "var":
        return sympy.Symbol(node[1])
    if kind == "const":
        return _sympy_constant(node[1], node[2])
    if kind == "neg":
        return -_to_sympy(node[1], text)
    if kind == "add":
        return sympy.Add(*[s * _to_sympy(t, text) for s, t in node[1]])
    if kind == "mul":
        return sympy.Mul(*[_to_sympy(f, text) ** e for e, f in node[1]])
    if kind == "pow":
        return _sympy_power(_to_sympy(node[1], text), _to_sympy(node[2], text), text)
    name, args = node[1], node[2]
    fn = FUNCTIONS[name].sympy
    if fn is None:
        raise InputError(f"{name}() has no sympy form; it is allowed only where a number is computed ({short(text)})")
    built = [_to_sympy(a, text) for a in args]
    if name == "exp2":
        return _sympy_power(sympy.Integer(2), built[0], text)
    if name == "root":
        return _sympy_power(built[0], 1 / built[1], text)
    if FUNCTIONS[name].eager:
        for value in built:
            if value.is_Number and abs(value) > MAX_INT_ARGUMENT:
                raise InputError(f"{name}() of {_show_number(value)} refused in {short(text)} "
                                 f"(exact arguments at most {MAX_INT_ARGUMENT} in size)")
    return fn(*built)


def _sympy_power(base, exponent, text: str):
    """base**exponent, refused before sympy evaluates a power it cannot finish (a value computed
    inside the expression, such as sqrt(10^10) or abs(10^400), escapes the checks on the text)."""
    if exponent.is_Number and abs(exponent) > MAX_DEGREE:
        if base.is_Rational:
            digits = math.log10(max(abs(base.p), base.q)) * float(min(abs(exponent), 10**30)) + 1
            if abs(base) != 1:
                check_digits(digits, text)
        elif not base.is_zero:
            raise InputError(f"exponent {_show_number(exponent)} refused in {short(text)} "
                             f"(at most {MAX_DEGREE} on anything but an exact number)")
    return sympy.Pow(base, exponent)


def _show_number(value) -> str:
    if value.is_Integer and abs(value.p).bit_length() > 100:
        return f"a number of {int(abs(value.p).bit_length() * math.log10(2)) + 1} digits"
    return str(value)


def _to_mpmath(node: tuple) -> Callable[[dict], mpmath.mpf]:
    """Compile the tree into nested closures evaluated at call time (so at the caller's precision)."""
    kind = node[0]
    if kind == "num":
        text = node[1]
        if any(ch in text for ch in ".eE"):
            return lambda env: mpmath.mpf(text)
        value = int(text)
        return lambda env: mpmath.mpf(value)
    if kind == "var":
        name = node[1]
        return lambda env: env[name]
    if kind == "const":
        found = constant_key(node[1], node[2])
        if isinstance(found, tuple):
            get = found[1]
            return lambda env: get()
        return lambda env: found.value(mpmath.mp.dps)
    if kind == "neg":
        inner = _to_mpmath(node[1])
        return lambda env: -inner(env)
    if kind == "add":
        parts = [(s, _to_mpmath(t)) for s, t in node[1]]

        def add(env):
            total = mpmath.mpf(0)
            for s, f in parts:
                total = total + f(env) if s > 0 else total - f(env)
            return total

        return add
    if kind == "mul":
        parts = [(e, _to_mpmath(f)) for e, f in node[1]]

        def mul(env):
            total = mpmath.mpf(1)
            for e, f in parts:
                total = total * f(env) if e > 0 else total / f(env)
            return total

        return mul
    if kind == "pow":
        base, exponent = _to_mpmath(node[1]), _to_mpmath(node[2])
        return lambda env: _mp_power(base(env), exponent(env))
    name = node[1]
    args = [_to_mpmath(a) for a in node[2]]
    if name == "root":
        return lambda env: _mp_power(args[0](env), 1 / args[1](env))
    if name == "exp2":
        return lambda env: _mp_power(mpmath.mpf(2), args[0](env))
    fn = FUNCTIONS[name].mpmath
    if name in _REDUCING:
        return lambda env: fn(*_bounded(name, [a(env) for a in args]))
    return lambda env: fn(*[a(env) for a in args])


# Functions whose argument reduction needs precision in proportion to the argument's size
# (exp(x) reduces x modulo log 2, sin(x) modulo pi): past these sizes mpmath would compute for ever.
_REDUCING = {"exp": 1e9, "expm1": 1e9, "sinh": 1e9, "cosh": 1e9, "sin": 1e30, "cos": 1e30, "tan": 1e30,
             "cot": 1e30, "sec": 1e30, "csc": 1e30}


def _bounded(name: str, values: list) -> list:
    for v in values:
        if mpmath.isfinite(v) and abs(v) > _REDUCING[name]:
            raise InputError(f"{name}() of {mpmath.nstr(v, 5)} refused: its argument is too large to evaluate")
    return values


def _mp_power(base, exponent):
    if (mpmath.isfinite(base) and mpmath.isfinite(exponent) and base != 0
            and abs(exponent * mpmath.log(abs(base))) > 1e9):
        raise InputError(f"power {mpmath.nstr(base, 5)}^{mpmath.nstr(exponent, 5)} refused: too large to evaluate")
    return mpmath.power(base, exponent)
