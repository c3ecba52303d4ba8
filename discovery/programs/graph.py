"""Straight-line programs: one input x, learnable constants, operations on earlier values.

A program is a list of instructions over a value table ``[x, c_0, ..., c_{K-1}, r_0, ...]``:
instruction t computes ``r_t = op(v[i], v[j], v[k])`` from values earlier in the table, so
intermediate results may be reused (the program is a DAG).  Its **cost** is the number of
instructions that the output depends on and that depend on x; constant subexpressions are free,
as a compiler folds them.

The operations and what they mean are defined once, in :mod:`discovery.programs.ops`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import sympy

from discovery.programs.ops import ARITY, BASIC_OPS, BY_NAME, OPS, apply

x_symbol = sympy.Symbol("x")


@dataclass(frozen=True)
class Program:
    """A straight-line program.

    Attributes
    ----------
    consts : tuple of float
        The learnable constants c_0 .. c_{K-1} (value indices 1 .. K).
    instructions : tuple of (op, (i, j, k))
        Operand indices into the value table (unused ones 0); instruction t is value K + 1 + t.
    output : int
        Index of the value returned (default: the last instruction, or x for an empty program).
    """

    consts: tuple[float, ...]
    instructions: tuple[tuple[str, tuple[int, int, int]], ...]
    output: int = -1
    _checked: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self):
        consts = tuple(float(c) for c in self.consts)
        object.__setattr__(self, "consts", consts)
        instrs = []
        for t, ins in enumerate(self.instructions):
            op, args = ins
            if op not in ARITY:
                raise ValueError(f"instruction {t}: unknown operation {op!r} (known: {', '.join(OPS)})")
            # Unused operand slots are 0, so equal programs compare equal.
            args = tuple(int(a) if i < ARITY[op] else 0 for i, a in enumerate(tuple(args) + (0,) * (3 - len(args))))
            limit = 1 + len(consts) + t
            for a in args[: ARITY[op]]:
                if not 0 <= a < limit:
                    raise ValueError(f"instruction {t} ({op}): operand {a} is not an earlier value (0..{limit - 1})")
            instrs.append((op, args))
        object.__setattr__(self, "instructions", tuple(instrs))
        size = 1 + len(consts) + len(instrs)
        out = self.output if self.output >= 0 else size - 1
        if not 0 <= out < size:
            raise ValueError(f"output {self.output} is not a value of the program (0..{size - 1})")
        object.__setattr__(self, "output", out)
        for c in consts:
            if not math.isfinite(c):
                raise ValueError(f"constant {c!r} is not finite")

    # --- structure -------------------------------------------------------------------------
    @property
    def n_values(self) -> int:
        """Size of the value table."""
        return 1 + len(self.consts) + len(self.instructions)

    def _first_result(self) -> int:
        return 1 + len(self.consts)

    def live(self) -> np.ndarray:
        """Boolean mask over values: those the output depends on."""
        need = np.zeros(self.n_values, dtype=bool)
        need[self.output] = True
        base = self._first_result()
        for t in range(len(self.instructions) - 1, -1, -1):
            if need[base + t]:
                op, args = self.instructions[t]
                for a in args[: ARITY[op]]:
                    need[a] = True
        return need

    def depends_on_x(self) -> np.ndarray:
        """Boolean mask over values: those computed from x."""
        dep = np.zeros(self.n_values, dtype=bool)
        dep[0] = True
        base = self._first_result()
        for t, (op, args) in enumerate(self.instructions):
            dep[base + t] = any(dep[a] for a in args[: ARITY[op]])
        return dep

    @property
    def cost(self) -> int:
        """Operations the output needs that depend on x (constant subexpressions are free)."""
        live, dep = self.live(), self.depends_on_x()
        base = self._first_result()
        return int(sum(1 for t in range(len(self.instructions)) if live[base + t] and dep[base + t]))

    def simplified(self) -> "Program":
        """The same function without dead instructions and unused constants."""
        live = self.live()
        base = self._first_result()
        keep_consts = [k for k in range(len(self.consts)) if live[1 + k]]
        remap = {0: 0}
        for new, k in enumerate(keep_consts):
            remap[1 + k] = 1 + new
        instrs = []
        for t, (op, args) in enumerate(self.instructions):
            if not live[base + t]:
                continue
            remap[base + t] = 1 + len(keep_consts) + len(instrs)
            instrs.append((op, tuple(remap[a] if i < ARITY[op] else 0 for i, a in enumerate(args))))
        return Program(tuple(self.consts[k] for k in keep_consts), tuple(instrs), remap[self.output])

    def deduplicated(self) -> "Program":
        """The same function with repeated work computed once (common subexpressions merged).

        Constants of equal value count as one, and the operands of + and × are unordered, so
        ``x + c0`` and ``c1 + x`` with c0 == c1 are one instruction.  Values are unchanged bit for
        bit: merged instructions computed the same IEEE operation on the same inputs.
        """
        K = len(self.consts)
        rep = list(range(1 + K + len(self.instructions)))
        first_const: dict = {}
        for k, c in enumerate(self.consts):
            rep[1 + k] = first_const.setdefault(c, 1 + k)
        seen: dict = {}
        instrs = []
        for t, (op, args) in enumerate(self.instructions):
            mapped = [rep[a] for a in args[: ARITY[op]]]
            canon = tuple(sorted(mapped[:2]) + mapped[2:]) if op in ("add", "mul", "fma") else tuple(mapped)
            v = 1 + K + t
            rep[v] = seen.setdefault((op, canon), v)
            instrs.append((op, tuple(mapped) + (0,) * (3 - len(mapped))))
        return Program(self.consts, tuple(instrs), rep[self.output]).simplified()

    def folded(self) -> "Program":
        """The same function with every constant subexpression computed into one constant.

        Folding rounds each such subexpression once (float64), so values may differ from the
        unfolded program's in the last bit.  Raises ValueError when a constant subexpression is
        not finite (a program that divides by zero without using x).
        """
        prog = self.simplified()
        dep = prog.depends_on_x()
        base = prog._first_result()
        values = [np.float64(0.0)] + [np.float64(c) for c in prog.consts]
        consts = list(prog.consts)
        remap = {i: i for i in range(base)}
        kept = []
        for t, (op, args) in enumerate(prog.instructions):
            if dep[base + t]:
                kept.append((t, op, args))
                values.append(np.float64(np.nan))
                continue
            a, b, c = (values[i] for i in args)
            with np.errstate(all="ignore"):
                v = apply(op, a, b, c, np.sqrt)
            values.append(v)
            consts.append(float(v))
            remap[base + t] = len(consts)  # value index of the new constant
        new_base = 1 + len(consts)
        instrs = []
        for t, op, args in kept:
            remap[base + t] = new_base + len(instrs)
            instrs.append((op, tuple(remap[a] if i < ARITY[op] else 0 for i, a in enumerate(args))))
        return Program(tuple(consts), tuple(instrs), remap[prog.output]).simplified()

    def with_consts(self, consts: Sequence[float]) -> "Program":
        """The same structure with other constants."""
        if len(consts) != len(self.consts):
            raise ValueError(f"expected {len(self.consts)} constants, got {len(consts)}")
        return Program(tuple(consts), self.instructions, self.output)

    # --- export ------------------------------------------------------------------------------
    def _names(self, const_names: bool = False) -> list[str]:
        names = ["x"]
        names += [f"c{k}" if const_names else repr(c) for k, c in enumerate(self.consts)]
        names += [f"t{t}" for t in range(len(self.instructions))]
        return names

    def _line(self, op: str, args, names, suffix: str = "") -> str:
        a, b, c = (names[i] for i in args)
        return BY_NAME[op].text.format(a=a, b=b, c=c, f=suffix)

    def formula(self) -> str:
        """A readable listing: one assignment per live instruction, then the result."""
        prog = self.simplified()
        names = prog._names()
        lines = [f"t{t} = {prog._line(op, args, names)}" for t, (op, args) in enumerate(prog.instructions)]
        return "; ".join(lines + [f"return {names[prog.output]}"])

    def python_source(self, name: str = "f") -> str:
        """Source of a Python function computing the program (floats or numpy arrays)."""
        prog = self.simplified()
        names = prog._names()
        body = [f"    t{t} = {prog._line(op, args, names)}" for t, (op, args) in enumerate(prog.instructions)]
        return "\n".join([f"def {name}(x):", *body, f"    return {names[prog.output]}", ""])

    def to_python(self) -> Callable:
        """A Python function of floats or numpy arrays, with IEEE semantics (1/0 is inf, not an error)."""
        namespace = {"sqrt": np.sqrt, "fma": lambda a, b, c: a * b + c}
        exec(self.python_source("f"), namespace)  # noqa: S102 - source generated from validated ops
        inner = namespace["f"]

        def f(x):
            with np.errstate(all="ignore"):
                return inner(np.float64(x) if np.isscalar(x) else np.asarray(x, dtype=np.float64))

        return f

    def to_numba(self) -> Callable:
        """A numba-compiled scalar function of x."""
        import numba

        @numba.njit
        def fma(a, b, c):
            return a * b + c

        namespace = {"sqrt": math.sqrt, "fma": fma}
        exec(self.python_source("f"), namespace)  # noqa: S102
        return numba.njit(namespace["f"])

    def c_source(self, name: str = "f", ctype: str = "double", infinities: bool = False) -> str:
        """Source of a C function (``fma`` and ``sqrt`` from math.h; float suffixes for float).

        With ``infinities`` (see :func:`discovery.programs.verify.reaches_infinity`) a comment
        warns that the result is finite only through IEEE infinities, which ``-ffast-math``
        removes.
        """
        if ctype not in ("double", "float"):
            raise ValueError(f"ctype must be 'double' or 'float', got {ctype!r}")
        prog = self.simplified()
        suffix = "f" if ctype == "float" else ""
        # A float program's constants are written as the float32 they round to, so the compiler
        # reads them exactly (no decimal -> double -> float double rounding).
        literal = (lambda c: f"{float(np.float32(c))!r}f") if ctype == "float" else repr
        names = ["x"] + [literal(c) for c in prog.consts] + [f"t{t}" for t in range(len(prog.instructions))]
        lines = [f"{ctype} {name}({ctype} x) {{"]
        if infinities:
            lines.insert(0, "/* relies on IEEE infinities: an intermediate value is infinite at some inputs where the "
                            "result is finite; do not compile with -ffast-math or -ffinite-math-only */")
        for t, (op, args) in enumerate(prog.instructions):
            lines.append(f"    const {ctype} t{t} = {prog._line(op, args, names, suffix)};")
        lines.append(f"    return {names[prog.output]};")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def to_sympy(self) -> sympy.Expr:
        """The program as a sympy expression in ``x`` (constants as exact Floats)."""
        values: list = [x_symbol] + [sympy.Float(c, 17) for c in self.consts]
        for op, (a, b, c) in self.instructions:
            va, vb, vc = values[a], values[b], values[c]
            values.append(apply(op, va, vb, vc, sympy.sqrt))
        return values[self.output]

    def expression(self) -> str:
        """A sympy-parsable formula in ``x``."""
        return str(self.to_sympy())

    # --- serialisation -----------------------------------------------------------------------
    def to_json(self) -> dict:
        """Plain data (the genome stored in the database and in search checkpoints).

        Constants are floats, which JSON writes in their shortest round-tripping form, so
        :meth:`from_json` gives back an equal program that computes bit for bit the same values.
        """
        return {
            "consts": [float(c) for c in self.consts],
            "instructions": [[op, list(args[: ARITY[op]])] for op, args in self.instructions],
            "output": self.output,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Program":
        """Inverse of :meth:`to_json`.

        Raises
        ------
        ValueError
            Naming what is wrong when ``data`` is not exactly what :meth:`to_json` writes (no
            coercion: a string or boolean is not a number, a float is not an operand index).
        """
        def is_int(v) -> bool:
            return isinstance(v, int) and not isinstance(v, bool)

        if not isinstance(data, dict) or set(data) != {"consts", "instructions", "output"}:
            raise ValueError("a program must be an object with exactly the keys consts, instructions, output")
        consts, instrs, output = data["consts"], data["instructions"], data["output"]
        if not isinstance(consts, list) or not all(is_int(c) or isinstance(c, float) for c in consts):
            raise ValueError("program consts must be a list of numbers")
        if not isinstance(instrs, list):
            raise ValueError("program instructions must be a list")
        for t, ins in enumerate(instrs):
            if not (isinstance(ins, list) and len(ins) == 2 and isinstance(ins[0], str) and isinstance(ins[1], list)):
                raise ValueError(f"program instruction {t} must be [operation, [operands]]")
            op, args = ins
            if op not in ARITY:
                raise ValueError(f"program instruction {t}: unknown operation {op!r}")
            if len(args) != ARITY[op] or not all(is_int(a) for a in args):
                raise ValueError(f"program instruction {t} ({op}) must have {ARITY[op]} integer operands")
        # Negative outputs mean "the last value" to the constructor; to_json never writes one.
        if not is_int(output) or output < 0:
            raise ValueError(f"program output must be a non-negative integer, got {output!r}")
        return cls(tuple(consts), tuple((op, tuple(args)) for op, args in instrs), output)

    def key(self) -> tuple:
        """Structural identity of the simplified program (constants excluded)."""
        prog = self.simplified()
        return (len(prog.consts), prog.instructions, prog.output)


class _Builder:
    """Emits instructions over a fixed list of constants."""

    def __init__(self, consts: Sequence[float]):
        self.consts = [float(c) for c in consts]
        self.instrs: list = []

    def value(self, ref) -> int:
        # ("r", t) is the result of instruction t; an int is x (0) or a constant (1..K).
        return 1 + len(self.consts) + ref[1] if isinstance(ref, tuple) else ref

    def emit(self, op: str, *args):
        self.instrs.append((op, tuple(self.value(a) for a in args)))
        return ("r", len(self.instrs) - 1)

    def horner(self, first: int, count: int, monic: bool):
        """Horner over constants first..first+count-1 (value indices 1 + k); monic starts at x."""
        if monic:
            acc = 0
            for j, k in enumerate(range(first, first + count)):
                if j:
                    acc = self.emit("mul", acc, 0)
                acc = self.emit("add", acc, 1 + k)
            return acc
        acc = 1 + first
        for k in range(first + 1, first + count):
            acc = self.emit("mul", acc, 0)
            acc = self.emit("add", acc, 1 + k)
        return acc

    def program(self, out) -> Program:
        return Program(tuple(self.consts), tuple(self.instrs), self.value(out))


def horner(coeffs: Sequence[float], monic: bool = False) -> Program:
    """p(x) = coeffs[0] x^d + ... + coeffs[d] by Horner's rule (2d operations).

    With ``monic`` the leading coefficient is taken as 1 and not stored (one multiplication less).
    """
    coeffs = [float(c) for c in coeffs]
    body = coeffs[1:] if monic else coeffs
    b = _Builder(body)
    return b.program(b.horner(0, len(body), monic))


def rational(num: Sequence[float], den: Sequence[float]) -> Program:
    """num(x)/den(x) by Horner's rule, den normalised to be monic (its leading coefficient 1).

    Costs 2·deg(num) + 2·deg(den) operations: the monic denominator saves a multiplication and
    the division adds one.
    """
    num = [float(c) for c in num]
    den = [float(c) for c in den]
    if den[0] == 0:
        raise ValueError("the leading coefficient of the denominator is zero")
    num = [c / den[0] for c in num]
    den = [c / den[0] for c in den]
    b = _Builder(num + den[1:])
    top = b.horner(0, len(num), monic=False)
    if len(den) == 1:
        return b.program(top)
    bottom = b.horner(len(num), len(den) - 1, monic=True)
    return b.program(b.emit("div", top, bottom))


def random_program(
    rng: np.random.Generator, n_ops: int, n_consts: int = 3, ops: Sequence[str] = BASIC_OPS
) -> Program:
    """A random program of ``n_ops`` instructions whose operands are drawn from earlier values.

    Each instruction uses the previous result as one operand, so the whole chain is live.
    """
    consts = tuple(rng.uniform(-2, 2, n_consts))
    instrs = []
    for t in range(n_ops):
        op = ops[rng.integers(len(ops))]
        limit = 1 + n_consts + t
        prev = limit - 1 if t else 0
        others = [int(rng.integers(limit)) for _ in range(2)]
        args = (prev, others[0], others[1]) if rng.random() < 0.5 else (others[0], prev, others[1])
        instrs.append((op, args))
    return Program(consts, tuple(instrs))
