"""Formulas for people: closed forms simplified and printed as MathML or one line of text.

What a stored closed form (sympy syntax, parsed by the package's whitelisting parser) looks like
in the report and in a terminal:

- Simplified: a nested quotient becomes one fraction of sums (``cancel``), so the Bessel limit
  ``(-10*besseli(1, 2)/besseli(0, 2) + 7)/(-2 + 3*besseli(1, 2)/besseli(0, 2))`` reads
  (7 I₀(2) − 10 I₁(2)) / (3 I₁(2) − 2 I₀(2)); the form kept is the one with the fewest nested
  fractions, then the fewest operations, so ``1 + pi/2`` stays as it is.
- Named as a mathematician writes them: φ (not ``GoldenRatio``), e (not ``E``), e² (not
  ``exp(2)``), γ, G (Catalan's constant), Iᵥ(z) (not ``besseli``), the Pochhammer symbol
  (a)ᵢ (not ``RisingFactorial(a, i)``), ln (not ``log``).
- Ordered with the constants first and the plain number last (e − 1, not -1 + E), signs as
  true minus signs (U+2212), constant factors taken out of sums.
"""

from __future__ import annotations

import re
from functools import lru_cache

import sympy
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from discovery.constants import CATALOG, to_sympy
from discovery.errors import InputError

MINUS = "\u2212"

# Catalog symbols sympy does not know (see discovery.constants.SYMPY_LOCALS): how they are written.
_SYMBOL_NAMES = {"lemniscate": "ϖ", "gauss": "G_auss", "khinchin": "K₀", "glaisher": "A"}
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

# Raw sympy spellings a reader must never meet (the report's tests look for them).
RAW_NAMES = ("GoldenRatio", "besseli", "besselj", "RisingFactorial", "risingfactorial", "EulerGamma",
             "Catalan", "exp(", "**", "&ExponentialE;", "Piecewise", "sqrt(", "log(")


# --- simplification ------------------------------------------------------------------------------
def _nesting(expr) -> int:
    """How deep quotients sit inside quotients (1 for a/b, 2 for a/(b + c/d), ...)."""
    if expr.is_Atom:
        return 0
    inner = max((_nesting(a) for a in expr.args), default=0)
    if isinstance(expr, sympy.Mul) and any(isinstance(f, sympy.Pow) and f.exp.is_negative for f in expr.args):
        return inner + 1
    if isinstance(expr, sympy.Pow) and expr.exp.is_negative:
        return inner + 1
    return inner


def _sums_out(expr):
    """Σ c·f(i) written c·Σ f(i) for a rational factor c (−Σ 1/i!, not Σ −1/i!)."""
    def pull(s):
        coeff, rest = s.function.as_coeff_Mul()
        return coeff * sympy.Sum(rest, *s.limits) if coeff != 1 else s
    return expr.replace(lambda e: isinstance(e, sympy.Sum), pull)


def display_terms(expr) -> list:
    """The terms of a sum in the order they are written: constants and variables first, the
    plain number last, and a positive term first when there is one (e − 1, I₀(2) − I₁(2))."""
    terms = expr.as_ordered_terms()
    n = sympy.Symbol("n")
    if n in expr.free_symbols:
        # A family's a(n) = 3n + k + 2: the powers of n first, whatever the other letters.
        terms = sorted(terms, key=lambda t: -sympy.degree(t, n) if t.is_polynomial(n) else 0)
    symbolic = [t for t in terms if not t.is_Number and not t.has(sympy.Sum)]
    # Sums last, so nothing after a Σ reads as part of its summand: e² − 3 − 2 Σ …
    ordered = symbolic + [t for t in terms if t.is_Number] + [t for t in terms if t.has(sympy.Sum)]
    positive = [t for t in ordered if not t.could_extract_minus_sign() and not t.has(sympy.Sum)]
    # A polynomial in n keeps its descending degrees (−2n² − n + 1); anything else leads positive.
    if ordered and ordered[0].could_extract_minus_sign() and positive and n not in expr.free_symbols:
        ordered.remove(positive[0])
        ordered.insert(0, positive[0])
    return ordered


def _leads_negative(expr) -> bool:
    """Is the first term as written negative (a sum) or the coefficient negative (a product)?"""
    if isinstance(expr, sympy.Add):
        return display_terms(expr)[0].could_extract_minus_sign()
    return expr.could_extract_minus_sign()


def _normal_signs(expr):
    """A quotient whose denominator is written starting with a positive term."""
    num, den = sympy.fraction(expr)
    if den != 1 and _leads_negative(den):
        num, den = -num, -den
        if isinstance(den, sympy.Add):
            return sympy.Mul(num, sympy.Pow(den, -1, evaluate=False), evaluate=False)
        return num / den
    return expr


def simplify(expr) -> sympy.Expr:
    """The most readable of ``expr`` and its cancelled single-fraction form (see the module)."""
    expr = _sums_out(expr)
    forms = [expr]
    try:
        if expr.has(sympy.Sum):
            raise TypeError("a family's L(k) keeps the shape it was built in")
        together = sympy.together(expr)
        forms += [together, sympy.cancel(together)]
    except (sympy.PolynomialError, TypeError, ValueError):
        pass
    # cancel may split (-1)**(k/2 - 1/2) into a power of I: such a form is not simpler.
    forms = [_sums_out(f) for f in forms if f.has(sympy.I) <= expr.has(sympy.I)]
    best = min(forms, key=lambda f: (_nesting(f), sympy.count_ops(f)))
    return _normal_signs(best)


def vanishing_pochhammer(expr) -> bool:
    """Does the expression hold a Pochhammer symbol (a)ᵢ with a = 0, −1, −2, …, which vanishes
    for i > −a (and reads as a division by zero when it sits in a denominator)?"""
    return any(r.args[0].is_integer and r.args[0] <= 0 for r in expr.atoms(sympy.RisingFactorial))


# --- MathML --------------------------------------------------------------------------------------
class _MathML(MathMLPresentationPrinter):
    """sympy's presentation printer with the names and orders of the module docstring.

    Only the outermost quotient is a stacked fraction; quotients inside it, in exponents and in
    subscripts are written inline with a slash, so nothing shrinks below the text around it.
    """

    _depth = 0

    def _inner(self, expr, *, deeper: bool = True):
        self._depth += deeper
        try:
            return self._print(expr)
        finally:
            self._depth -= deeper

    def _quotient(self, num, den):
        if self._depth == 0:
            return self._el("mfrac", self._inner(num), self._inner(den))

        def wrap(e, strict):
            if isinstance(e, sympy.Add) or (strict and isinstance(e, sympy.Mul)):
                return self._el("mrow", self._el("mo", text="("), self._print(e), self._el("mo", text=")"))
            return self._print(e)
        return self._el("mrow", wrap(num, False), self._el("mo", text="/"), wrap(den, True))


    def _print_Rational(self, e):
        if e.q == 1:
            return self._print_Integer(sympy.Integer(e.p))
        if e < 0:
            return self._el("mrow", self._el("mo", text=MINUS), self._print_Rational(-e))
        return self._quotient(sympy.Integer(e.p), sympy.Integer(e.q))

    def _print_Pow(self, e):
        if e.exp.is_negative:
            return self._quotient(sympy.S.One, sympy.Pow(e.base, -e.exp))
        if e.exp == sympy.S.Half:
            return self._el("msqrt", self._print(e.base))
        base = (self._el("mrow", self._el("mo", text="("), self._print(e.base), self._el("mo", text=")"))
                if not (e.base.is_Atom or isinstance(e.base, sympy.Function)) or e.base.is_negative
                else self._print(e.base))
        return self._el("msup", base, self._inner(e.exp))

    def _print_factorial(self, e):
        arg = e.args[0]
        inner = self._print(arg) if arg.is_Atom else self._el(
            "mrow", self._el("mo", text="("), self._print(arg), self._el("mo", text=")"))
        return self._el("mrow", inner, self._el("mo", text="!"))

    def _el(self, tag: str, *children, text: str | None = None):
        node = self.dom.createElement(tag)
        if text is not None:
            node.appendChild(self.dom.createTextNode(text))
        for c in children:
            node.appendChild(c)
        return node

    def _print_Add(self, expr, order=None):
        terms = display_terms(expr)
        row = self._el("mrow", self._print(terms[0]))
        for t in terms[1:]:
            if t.could_extract_minus_sign():
                row.appendChild(self._el("mo", text=MINUS))
                row.appendChild(self._print(-t))
            else:
                row.appendChild(self._el("mo", text="+"))
                row.appendChild(self._print(t))
        return row

    def _print_Integer(self, e):
        if e < 0:
            return self._el("mrow", self._el("mo", text=MINUS), self._el("mn", text=str(-e)))
        return self._el("mn", text=str(e))

    def _print_Exp1(self, e):
        return self._el("mi", text="e")

    def _print_GoldenRatio(self, e):
        return self._el("mi", text="φ")

    def _print_EulerGamma(self, e):
        return self._el("mi", text="γ")

    def _print_Catalan(self, e):
        return self._el("mi", text="G")

    def _print_exp(self, e):
        return self._el("msup", self._el("mi", text="e"), self._print(e.args[0]))

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign():
            return self._el("mrow", self._el("mo", text=MINUS), self._print(-expr))
        num, den = sympy.fraction(expr)
        if den != 1:
            return self._quotient(num, den)
        factors = expr.as_ordered_factors()
        row = self._el("mrow")
        for i, f in enumerate(factors):
            if i:
                # 4·2ᵏ, not 42ᵏ: a visible dot before a factor that starts with a digit.
                digit = f.is_Number or (isinstance(f, sympy.Pow) and f.base.is_Number)
                row.appendChild(self._el("mo", text="·" if digit else "\u2062"))
            # A sum, or Σ … not last (its body would swallow what follows), goes in parentheses.
            wrap = isinstance(f, sympy.Add) or (isinstance(f, sympy.Sum) and i < len(factors) - 1)
            row.appendChild(self._el("mrow", self._el("mo", text="("), self._print(f), self._el("mo", text=")"))
                            if wrap else self._print(f))
        return row

    def _print_log(self, e):
        space = self._el("mspace")
        space.setAttribute("width", "0.17em")
        return self._el("mrow", self._el("mi", text="ln"), space, self._el("mo", text="\u2061"),
                        self.parenthesize(e.args[0], PRECEDENCE["Func"]) if not e.args[0].is_Atom
                        else self._print(e.args[0]))

    def _print_besseli(self, e):
        return self._el("mrow", self._el("msub", self._el("mi", text="I"), self._print(e.args[0])),
                        self._el("mo", text="("), self._print(e.args[1]), self._el("mo", text=")"))

    def _print_RisingFactorial(self, e):
        return self._el("msub", self._el("mrow", self._el("mo", text="("), self._inner(e.args[0]),
                                         self._el("mo", text=")")), self._inner(e.args[1]))

    def _print_Sum(self, e):
        (var, lo, hi), = e.limits
        under = self._el("mrow", self._print(var), self._el("mo", text="="), self._inner(lo))
        body = self._print(e.function)
        if isinstance(e.function, sympy.Add):
            body = self._el("mrow", self._el("mo", text="("), body, self._el("mo", text=")"))
        return self._el("mrow", self._el("munderover", self._el("mo", text="∑"), under, self._inner(hi)), body)

    def _print_Symbol(self, sym, style="plain"):
        name = _SYMBOL_NAMES.get(sym.name)
        if name == "G_auss":
            return self._el("msub", self._el("mi", text="G"), self._el("mi", text="auss"))
        return self._el("mi", text=name) if name else super()._print_Symbol(sym, style)


def _mathml_body(expr) -> str:
    text = _MathML({"order": None}).doprint(expr)
    if "<mfrac>" not in text:
        # Parentheses around plain products would otherwise stretch to the height of a display-style row.
        text = text.replace("<mo>(</mo>", '<mo stretchy="false">(</mo>').replace(
            "<mo>)</mo>", '<mo stretchy="false">)</mo>')
    # sympy writes its own minus signs as hyphens (in <mo> and inside negative <mn>).
    text = text.replace("<mo>-</mo>", f"<mo>{MINUS}</mo>")
    return re.sub(r"<mn>-([^<]*)</mn>", rf"<mrow><mo>{MINUS}</mo><mn>\1</mn></mrow>", text)


def mathml(expr, display: bool = False, simplified: bool = True) -> str:
    """A sympy expression, simplified (unless ``simplified=False``: a factored polynomial stays
    factored), as a ``<math>`` element.

    Always in display style (fractions at full size: the report's formulas sit in table cells
    and must stay readable); ``display=True`` makes it a centred block of its own.
    """
    kind = "block" if display else "inline"
    body = _mathml_body(simplify(expr) if simplified else expr)
    return f'<math display="{kind}" displaystyle="true">{body}</math>'


# --- text ----------------------------------------------------------------------------------------
class _Text(StrPrinter):
    """One line of text with the module's names; ``*`` and ``**`` replaced afterwards."""

    def _print_Add(self, expr, order=None):
        terms = display_terms(expr)
        out = self._print(terms[0]) if not terms[0].could_extract_minus_sign() else "-" + self._sub(-terms[0])
        for t in terms[1:]:
            out += f" - {self._sub(-t)}" if t.could_extract_minus_sign() else f" + {self._sub(t)}"
        return out

    def _sub(self, t):
        return self.parenthesize(t, PRECEDENCE["Add"])

    def _print_Exp1(self, e):
        return "e"

    def _print_Pi(self, e):
        return "π"

    def _print_GoldenRatio(self, e):
        return "φ"

    def _print_EulerGamma(self, e):
        return "γ"

    def _print_Catalan(self, e):
        return "G"

    def _print_exp(self, e):
        arg = e.args[0]
        if arg.is_Integer and 1 < arg < 10:
            return "e" + str(arg).translate(_SUPERSCRIPTS)
        return "e^" + (self._print(arg) if arg.is_Atom and not arg.is_negative else f"({self._print(arg)})")

    def _print_log(self, e):
        return f"ln({self._print(e.args[0])})"

    def _print_besseli(self, e):
        order = self._print(e.args[0])
        return f"I{order.translate(_SUBSCRIPTS) if order.isdigit() else '_' + order}({self._print(e.args[1])})"

    def _print_RisingFactorial(self, e):
        return f"({self._print(e.args[0])})_{self._print(e.args[1])}"

    def _print_Sum(self, e):
        (var, lo, hi), = e.limits
        return f"Σ_{{{var}={self._print(lo)}}}^{{{self._print(hi)}}} {self.parenthesize(e.function, PRECEDENCE['Mul'])}"

    def _print_factorial(self, e):
        arg = e.args[0]
        return f"{self._print(arg) if arg.is_Atom else '(' + self._print(arg) + ')'}!"

    def _print_Symbol(self, sym):
        name = _SYMBOL_NAMES.get(sym.name, sym.name)
        return "G_Gauss" if name == "G_auss" else name

    def _print_zeta(self, e):
        return f"ζ({self._print(e.args[0])})"

    def _print_Pow(self, expr, rational=False):
        if expr.exp.is_Integer and 1 < expr.exp < 10:
            return self.parenthesize(expr.base, PRECEDENCE["Pow"]) + str(expr.exp).translate(_SUPERSCRIPTS)
        if expr.exp == sympy.S.Half:
            return f"√{self.parenthesize(expr.base, PRECEDENCE['Pow'])}" if not expr.base.is_Atom \
                else f"√{self._print(expr.base)}"
        return super()._print_Pow(expr, rational)


def text(expr) -> str:
    """A sympy expression, simplified, as one line of text (``(e − 1)/2``, ``3π``, ``φ``)."""
    out = _Text({"order": None}).doprint(simplify(expr))
    out = out.replace("**", "^")
    out = re.sub(r"(?<![\w.])(\d+)\*(?=[^\d(])", r"\1", out)  # 3*π -> 3π (not 2*3, not 2*(…))
    out = out.replace("*", "·")
    return re.sub(r"(^|[\s(^/·])-", rf"\1{MINUS}", out).replace(" - ", f" {MINUS} ")


# --- stored text ---------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def closed_form_mathml(stored: str) -> str:
    """MathML of a stored closed form, or the text in ``<code>`` when it does not parse."""
    try:
        return mathml(to_sympy(stored))
    except (InputError, ValueError, TypeError):
        from html import escape
        return f"<code>{escape(stored)}</code>"


@lru_cache(maxsize=8192)
def closed_form_text(stored: str) -> str:
    """One line of text of a stored closed form (the text itself when it does not parse)."""
    try:
        return text(to_sympy(stored))
    except (InputError, ValueError, TypeError):
        return stored


@lru_cache(maxsize=1024)
def constant_symbol(name: str) -> str:
    """How a legend names a catalog constant: its symbol as the report writes it (π, e², ζ(3),
    I₁(2)/I₀(2)) when that is short and free of raw sympy names, else the catalog name."""
    constant = CATALOG.get(name)
    if constant is None:
        return name
    symbol = closed_form_text(constant.sympy_form)
    return symbol if len(symbol) <= 14 and not any(raw in symbol for raw in RAW_NAMES) else name


_RAW_TEXT = (
    (re.compile(r"besseli\((\d+),\s*(\d+)\)"), lambda m: f"I{m[1].translate(_SUBSCRIPTS)}({m[2]})"),
    (re.compile(r"exp\((\d)\)"), lambda m: "e" + m[1].translate(_SUPERSCRIPTS)),
    (re.compile(r"exp\(([^()]*)\)"), lambda m: f"e^({m[1]})"),
    (re.compile(r"RisingFactorial\(([^,()]+),\s*([^()]+)\)", re.I), lambda m: f"({m[1]})_{m[2]}"),
    (re.compile(r"\bGoldenRatio\b"), lambda m: "φ"),
    (re.compile(r"\bEulerGamma\b"), lambda m: "γ"),
    (re.compile(r"(?<![-\w])E(?![-\w])"), lambda m: "e"),
    (re.compile(r"(?<![-\w])pi(?![-\w])"), lambda m: "π"),
    (re.compile(r"\*\*(\d)\b"), lambda m: m[1].translate(_SUPERSCRIPTS)),
    (re.compile(r"(?<=\d)\*(?=[a-zA-Zπφγ(])"), lambda m: ""),
    (re.compile(r"\*"), lambda m: "·"),
    (re.compile(r"(?<=[\s(])-(?=[\s\d(a-zA-Zπφγ])"), lambda m: MINUS),
)


def pretty_names(prose: str) -> str:
    """Prose that quotes sympy text (a novelty reason citing a published formula) with the
    module's names: I₁(2), e², (a)_i, φ, γ, π, true minus signs."""
    for pattern, repl in _RAW_TEXT:
        prose = pattern.sub(repl, prose)
    return prose
