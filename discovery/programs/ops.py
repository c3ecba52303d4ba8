"""The operations of straight-line programs, defined once.

Every consumer derives what it needs from :data:`OPERATIONS`: the program graph (arity, text of a
listing, of Python and of C), the evaluation in any arithmetic (numpy, mpmath, sympy, arb balls)
through :func:`apply`, and the numba kernels, which branch on the integer :data:`CODE` of each
operation (also named :data:`ADD`, :data:`SUB`, ... :data:`HALF`).  The kernels' arithmetic cannot
be generated from this table (numba compiles fixed branches), so ``tests/test_programs.py`` checks
every kernel against :func:`apply` for every operation listed here: an operation added here and
not to a kernel fails there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Operation:
    """One operation.

    Attributes
    ----------
    name : str
        Its name in programs, configurations and JSON (``add``).
    arity : int
        Number of operands (1 to 3).
    text : str
        How a listing, Python and C write it, with ``{a}``, ``{b}``, ``{c}`` for the operands and
        ``{f}`` for the float-literal suffix of C's ``float`` (``fma{f}`` is ``fmaf`` there).
    doc : str
        What it computes.
    """

    name: str
    arity: int
    text: str
    doc: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("add", 2, "{a} + {b}", "a + b"),
    Operation("sub", 2, "{a} - {b}", "a - b"),
    Operation("mul", 2, "{a} * {b}", "a * b"),
    Operation("div", 2, "{a} / {b}", "a / b"),
    Operation("sqrt", 1, "sqrt{f}({a})", "the square root of a"),
    Operation("fma", 3, "fma{f}({a}, {b}, {c})", "a * b + c, one operation (fused in float32 runs and exported C)"),
    Operation("mul2", 1, "2.0{f} * {a}", "2 a (exact in binary floating point)"),
    Operation("half", 1, "0.5{f} * {a}", "a / 2 (exact in binary floating point)"),
)
BY_NAME = {op.name: op for op in OPERATIONS}
OPS = tuple(op.name for op in OPERATIONS)
ARITY = {op.name: op.arity for op in OPERATIONS}
CODE = {op.name: i for i, op in enumerate(OPERATIONS)}
BASIC_OPS = ("add", "sub", "mul", "div")
# The integer codes of the operations, as the numba kernels compare them (module constants, which
# numba freezes at compile time).
ADD, SUB, MUL, DIV, SQRT, FMA, MUL2, HALF = (
    CODE[k] for k in ("add", "sub", "mul", "div", "sqrt", "fma", "mul2", "half"))


def apply(name: str, a, b, c, sqrt):
    """One operation on values of any arithmetic type (numpy floats, mpmath, sympy, arb).

    ``sqrt`` is the square root of that arithmetic.  This is the reference meaning of every
    operation; fused multiply-add is exact here (a * b + c in the values' own arithmetic), which
    is what float kernels must round once.
    """
    if name == "add":
        return a + b
    if name == "sub":
        return a - b
    if name == "mul":
        return a * b
    if name == "div":
        return a / b
    if name == "sqrt":
        return sqrt(a)
    if name == "fma":
        return a * b + c
    if name == "mul2":
        return 2 * a
    if name == "half":
        return a / 2
    raise ValueError(f"unknown operation {name!r} (known: {', '.join(OPS)})")


def check_ops(ops: Sequence[str]) -> tuple[str, ...]:
    """The operation names as a tuple, refusing unknown or repeated ones and an empty set.

    Raises
    ------
    ValueError
        Naming the bad entry.
    """
    ops = tuple(ops)
    if not ops:
        raise ValueError("the operation set is empty")
    for name in ops:
        if name not in BY_NAME:
            raise ValueError(f"unknown operation {name!r} (known: {', '.join(OPS)})")
    if len(set(ops)) != len(ops):
        raise ValueError(f"operation listed twice in {list(ops)}")
    return ops


def uses_only(program, ops: Sequence[str]) -> bool:
    """Whether every live instruction of the program is one of ``ops``."""
    prog = program.simplified()
    return all(op in ops for op, _ in prog.instructions)
