"""Programs as code people can ship: C, Python, numpy, numba, sympy and LaTeX.

Every export is straight-line code with one assignment per operation, so a value the program
uses twice is computed once and named (``t0 = 361.59/x`` is not written out at both uses): the
exported code performs exactly the program's operation count.  The program exported is
:func:`shipped`, the given one with repeated work merged and its constant subexpressions folded
into constants (what a compiler would do), so that count is its :attr:`Program.cost`.

Each export opens with a comment naming the target, the interval, the error (proven bound and
scanned maximum) and the operation count.  A program whose result is finite only through IEEE
infinities (c/0 = inf, then d/inf = 0; see :func:`pole_limits`) is exported with an explicit
branch returning its value at each such point (the limit there), so it is correct at the poles
in any arithmetic (Python raises at 1/0, ``-ffast-math`` assumes no infinities), and the comment
says so.

Fused multiply-add: C calls ``fma`` (one rounding, as the hardware runs it); Python calls
``math.fma`` where Python has it (3.13) and ``a * b + c`` otherwise; numpy, numba and the float64
interpreter compute ``a * b + c`` (two roundings).
"""

from __future__ import annotations

import keyword
import math
from dataclasses import dataclass

import numpy as np

from discovery.programs.graph import Program

LANGUAGES = ("c", "python", "numpy", "numba", "sympy", "latex")
# C keywords and the names the exports use themselves: not a function name.
_RESERVED = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if inline int long "
    "register restrict return short signed sizeof static struct switch typedef union unsigned void volatile while "
    "x fma fmaf sqrt sqrtf math np numba sympy".split())


@dataclass(frozen=True)
class Provenance:
    """What an export's header comment states about the program.

    Attributes
    ----------
    target : str
        The target function's name.
    interval : (float, float)
    relative : bool
        Whether the errors are relative (else absolute).
    bound : float or None
        Proven bound on the max error (None: none proved).
    max_error : float or None
        Scanned max error.
    max_ulp : int or None
        Exhaustively checked float32 max ULP error, when known.
    """

    target: str
    interval: tuple[float, float]
    relative: bool = True
    bound: float | None = None
    max_error: float | None = None
    max_ulp: int | None = None


def shipped(program: Program) -> Program:
    """The program as exported: repeated work merged, constant subexpressions folded.

    Folding rounds each constant subexpression once, as a compiler does.

    Raises
    ------
    ValueError
        When a constant subexpression is not finite (nothing to ship).
    """
    return program.deduplicated().folded()


def _ieee_values(program: Program, X: np.ndarray) -> list[np.ndarray]:
    """Every value of the program's table at X, float64 with IEEE semantics (numpy)."""
    values: list = [np.asarray(X, dtype=np.float64)] + [np.float64(c) for c in program.consts]
    with np.errstate(all="ignore"):
        for op, (a, b, c) in program.instructions:
            va, vb, vc = values[a], values[b], values[c]
            if op == "add":
                v = va + vb
            elif op == "sub":
                v = va - vb
            elif op == "mul":
                v = va * vb
            elif op == "div":
                v = va / vb
            elif op == "sqrt":
                v = np.sqrt(va)
            elif op == "fma":
                v = va * vb + vc
            elif op == "mul2":
                v = 2.0 * va
            else:
                v = 0.5 * va
            values.append(np.broadcast_to(v, np.shape(X)))
    return values


def pole_limits(program: Program, points) -> list[tuple[float, float]]:
    """The points where the program is finite only through IEEE infinities, with its value there.

    At such a point a live intermediate value is infinite or NaN (a division by zero) and the
    result is finite again (c/inf = 0).  The value the IEEE evaluation gives there is the limit of
    the program at the point when the infinity only flows through a division into a finite value,
    which is how such programs arise.

    Parameters
    ----------
    program : Program
    points : array_like
        Where to look: for a target use :func:`discovery.programs.verify.infinity_points`, which
        adds the exact zeros of the divisors to a dense grid.

    Returns
    -------
    list of (x, value)
        Sorted by x.
    """
    prog = program.simplified()
    X = np.unique(np.asarray(points, dtype=np.float64))
    if X.size == 0:
        return []
    values = _ieee_values(prog, X)
    live = prog.live()
    bad = np.zeros(X.size, dtype=bool)
    for i in range(1 + len(prog.consts), prog.n_values):
        if live[i]:
            bad |= ~np.isfinite(values[i])
    bad &= np.isfinite(values[prog.output])
    return [(float(x), float(v)) for x, v in zip(X[bad], np.asarray(values[prog.output])[bad])]


# --- the languages ---------------------------------------------------------------------------

def _literal(c: float, float32: bool = False) -> str:
    """A constant as a literal that reads back exactly (parenthesised when negative)."""
    text = f"{float(np.float32(c))!r}f" if float32 else repr(float(c))
    return f"({text})" if text.startswith("-") else text


_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_LATEX_INFIX = {"add": "+", "sub": "-", "mul": r"\cdot"}


def _expression(op: str, a: str, b: str, c: str, lang: str, suffix: str = "") -> str:
    """One operation over operand names, as the language writes it."""
    if lang == "latex":
        if op == "div":
            return rf"\frac{{{a}}}{{{b}}}"
        if op == "sqrt":
            return rf"\sqrt{{{a}}}"
        if op == "fma":
            return rf"{a} \cdot {b} + {c}"
        if op == "mul2":
            return rf"2 \cdot {a}"
        if op == "half":
            return rf"\tfrac{{{a}}}{{2}}"
        return f"{a} {_LATEX_INFIX[op]} {b}"
    if op in _INFIX:
        return f"{a} {_INFIX[op]} {b}"
    if op == "sqrt":
        return f"sqrt{suffix}({a})"
    if op == "fma":
        return f"fma{suffix}({a}, {b}, {c})"
    return f"{'2.0' if op == 'mul2' else '0.5'}{suffix} * {a}"


def _header(prog: Program, provenance: Provenance | None, poles, lang: str) -> list[str]:
    lines = []
    if provenance is not None:
        lo, hi = provenance.interval
        kind = "relative" if provenance.relative else "absolute"
        lines.append(f"{provenance.target}(x) on [{lo!r}, {hi!r}]")
        bound = "none proved" if provenance.bound is None or not math.isfinite(provenance.bound) \
            else f"{provenance.bound:.3e}"
        scanned = "" if provenance.max_error is None else f" (scanned maximum {provenance.max_error:.3e})"
        lines.append(f"max {kind} error: proven bound {bound}{scanned}")
        if provenance.max_ulp is not None:
            lines.append(f"float32 (fma fused): max {provenance.max_ulp} ulp over every float32 of the interval")
    fused = sum(1 for op, _ in prog.instructions if op == "fma")
    lines.append(f"operations: {prog.cost}" + (f" ({fused} fused multiply-add)" if fused else ""))
    if poles:
        where = ", ".join(repr(x) for x, _ in poles)
        lines.append(f"FINITE ONLY THROUGH IEEE INFINITIES at x = {where}: an intermediate value is infinite there; "
                     "the explicit branch returns the limit")
    if lang == "c":
        lines.append("compile without -ffast-math; -ffp-contract=off keeps a * b + c unfused (as evaluated in float64)")
    if lang in ("python", "numpy", "numba") and fused:
        lines.append("fma: math.fma where Python has it (3.13), else a * b + c" if lang == "python"
                     else "fma(a, b, c) is computed as a * b + c (two roundings)")
    return lines


def _comment(lines: list[str], lang: str) -> str:
    if lang == "c":
        return "/* " + "\n * ".join(lines) + " */"
    mark = "%" if lang == "latex" else "#"
    return "\n".join(f"{mark} {line}" for line in lines)


def export(program: Program, language: str, *, name: str = "f", provenance: Provenance | None = None,
           poles: list[tuple[float, float]] | None = None, ctype: str = "double") -> str:
    """Source code of the program in ``language``.

    Parameters
    ----------
    program : Program
        Exported as :func:`shipped` gives it (its operation count is that program's cost).
    language : {'c', 'python', 'numpy', 'numba', 'sympy', 'latex'}
        ``python``: a scalar function; ``numpy``: the same over arrays; ``numba``: a scalar
        function under ``numba.njit``; ``sympy``: code that builds the expression ``f`` in the
        symbol ``x``; ``latex``: an ``aligned`` block.
    name : str
        Function name (a C and Python identifier).
    provenance : Provenance, optional
        What the header comment states (target, interval, errors); without it, only the
        operation count.
    poles : list of (x, value), optional
        Points where the program is finite only through IEEE infinities, with its value there
        (:func:`pole_limits`); each gets an explicit branch.
    ctype : {'double', 'float'}
        C only: the floating-point type (``float`` uses ``fmaf``, ``sqrtf`` and constants rounded to
        float32).

    Returns
    -------
    str
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii() or name in _RESERVED:
        raise ValueError(f"function name {name!r} is not an identifier of C and Python")
    if ctype not in ("double", "float"):
        raise ValueError(f"ctype must be 'double' or 'float', got {ctype!r}")
    prog = shipped(program)
    poles = list(poles or [])
    float32 = language == "c" and ctype == "float"
    names = (["x"] + [_literal(c, float32) for c in prog.consts]
             + [f"t_{{{t}}}" if language == "latex" else f"t{t}" for t in range(len(prog.instructions))])
    suffix = "f" if float32 else ""
    steps = [(names[len(prog.consts) + 1 + t],
              _expression(op, *(names[i] for i in args), lang=language, suffix=suffix))
             for t, (op, args) in enumerate(prog.instructions)]
    result = names[prog.output]
    head = _comment(_header(prog, provenance, poles, language), language)
    return _WRITERS[language](name, steps, result, poles, head, prog, ctype) + "\n"


def _c(name, steps, result, poles, head, prog, ctype):
    lit = (lambda v: _literal(v, True)) if ctype == "float" else _literal
    body = [f"    if (x == {lit(x)}) return {lit(v)};" for x, v in poles]
    body += [f"    const {ctype} {t} = {e};" for t, e in steps]
    return "\n".join([head, "#include <math.h>", "", f"{ctype} {name}({ctype} x) {{", *body,
                      f"    return {result};", "}"])


def _python(name, steps, result, poles, head, prog, ctype):
    fused = any(op == "fma" for op, _ in prog.instructions)
    rooted = any(op == "sqrt" for op, _ in prog.instructions)
    lines = [head, ""]
    if fused:
        lines += ["import math"]
    if rooted:
        lines += ["from math import sqrt"]
    if fused:
        lines += ["", "fma = getattr(math, 'fma', lambda a, b, c: a * b + c)"]
    body = [f"    if x == {_literal(x)}:\n        return {_literal(v)}" for x, v in poles]
    body += [f"    {t} = {e}" for t, e in steps]
    return "\n".join(lines + ["", f"def {name}(x):", *body, f"    return {result}"])


def _numpy(name, steps, result, poles, head, prog, ctype):
    lines = [head, "", "import numpy as np", "from numpy import sqrt", ""]
    if any(op == "fma" for op, _ in prog.instructions):
        lines += ["", "def fma(a, b, c):", "    return a * b + c", ""]
    body = ["    x = np.asarray(x, dtype=np.float64)"]
    # Poles divide by zero on purpose; the branch below replaces the result there.
    if poles:
        body.append("    with np.errstate(divide='ignore', invalid='ignore', over='ignore'):")
        body += [f"        {t} = {e}" for t, e in steps]
        out = result
        for x, v in reversed(poles):
            out = f"np.where(x == {_literal(x)}, {_literal(v)}, {out})"
        body.append(f"    return {out}")
    else:
        body += [f"    {t} = {e}" for t, e in steps]
        body.append(f"    return {result}" if steps else f"    return np.broadcast_to(np.float64({result}), x.shape)")
    return "\n".join(lines + ["", f"def {name}(x):", *body])


def _numba(name, steps, result, poles, head, prog, ctype):
    lines = [head, "", "import numba", "from math import sqrt", ""]
    if any(op == "fma" for op, _ in prog.instructions):
        lines += ["", "@numba.njit(cache=False)", "def fma(a, b, c):", "    return a * b + c", ""]
    body = [f"    if x == {_literal(x)}:\n        return {_literal(v)}" for x, v in poles]
    body += [f"    {t} = {e}" for t, e in steps]
    # error_model='numpy': IEEE division (1/0 is inf), as the other exports compute.
    return "\n".join(lines + ["", "@numba.njit(error_model='numpy')", f"def {name}(x):", *body,
                              f"    return {result}"])


def _sympy(name, steps, result, poles, head, prog, ctype):
    def sym(text: str) -> str:
        # Literals become exact sympy Floats (17 digits hold the double exactly).
        return text if text.startswith("t") or text == "x" else f"sympy.Float({text}, 17)"

    out = [head, "", "import sympy", "", "x = sympy.Symbol('x')"]
    values = ["x"] + [sym(_literal(c)) for c in prog.consts] + [f"t{t}" for t in range(len(prog.instructions))]
    for t, (op, args) in enumerate(prog.instructions):
        a, b, c = (values[i] for i in args)
        out.append(f"t{t} = " + ("sympy.sqrt(" + a + ")" if op == "sqrt" else _expression(op, a, b, c, "python")
                                 .replace("fma(", "_fma(")))
    final = values[prog.output]  # x, a sympy.Float or a t: a sympy expression in every case
    if poles:
        cases = ", ".join(f"(sympy.Float({_literal(v)}, 17), sympy.Eq(x, sympy.Float({_literal(x)}, 17)))"
                          for x, v in poles)
        final = f"sympy.Piecewise({cases}, ({final}, True))"
    if any(op == "fma" for op, _ in prog.instructions):
        out[4:4] = ["", "def _fma(a, b, c):", "    return a * b + c", ""]
    return "\n".join(out + [f"{name} = {final}"])


def _latex(name, steps, result, poles, head, prog, ctype):
    rows = [f"{t} &= {e}" for t, e in steps]
    value = result
    if poles:
        cases = r" \\ ".join(f"{_literal(v)} & x = {_literal(x)}" for x, v in poles)
        value = rf"\begin{{cases}} {cases} \\ {result} & \text{{otherwise}} \end{{cases}}"
    rows.append(f"{name}(x) &= {value}")
    return "\n".join([head, r"\begin{aligned}", " \\\\\n".join(rows), r"\end{aligned}"])


_WRITERS = {"c": _c, "python": _python, "numpy": _numpy, "numba": _numba, "sympy": _sympy, "latex": _latex}

