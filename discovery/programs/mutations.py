"""Random mutation operators of program search, and :func:`mutate`, which draws one of them.

Each operator takes a program and a random generator (and, where it creates an instruction, the
operations it may use) and returns a new program, leaving its argument unchanged: insert a
vertex (on one use of a value, :func:`insert_vertex`, or on all of them,
:func:`insert_on_all_uses`), remove one, switch an edge, change an operation, insert the motifs
v*v, (A+B)/(A-B) and v + r/(v + b), and perturb or add a constant; :func:`mutate` also
draws the structure moves of :mod:`discovery.programs.moves` (range reduction, undoing a
squaring).  The search (:mod:`discovery.programs.search`) tunes the constants of every child.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from discovery.programs.graph import ARITY, BASIC_OPS, Program
from discovery.programs.moves import fraction_step, range_reduce, shifted_refs, unsquare


def insert_vertex(p: Program, rng: np.random.Generator, ops: Sequence[str]) -> Program:
    """A new instruction at a random position, wired into a later instruction or the output."""
    base = 1 + len(p.consts)
    t = int(rng.integers(len(p.instructions) + 1))
    new_index = base + t
    op = ops[rng.integers(len(ops))]
    args = tuple(int(rng.integers(new_index)) for _ in range(3))
    instrs = shifted_refs(list(p.instructions), new_index, 1)
    instrs.insert(t, (op, args))
    output = p.output + 1 if p.output >= new_index else p.output
    later = [u for u in range(t + 1, len(instrs))]
    if later and rng.random() < 0.7:
        u = later[rng.integers(len(later))]
        uop, uargs = instrs[u]
        j = int(rng.integers(ARITY[uop]))
        uargs = tuple(new_index if i == j else a for i, a in enumerate(uargs))
        instrs[u] = (uop, uargs)
    else:
        output = new_index if rng.random() < 0.5 or not later else output
    return Program(p.consts, tuple(instrs), output)


def insert_on_all_uses(p: Program, rng: np.random.Generator, ops: Sequence[str]) -> Program:
    """A new vertex op(v, w) right after a value v, replacing v in every one of its uses.

    A change of variable in one step: with v = x it turns f(x) into f(x - c), f(x c), ..., which
    no sequence of single-edge mutations reaches without passing through much worse programs.
    """
    base = 1 + len(p.consts)
    v = 0 if rng.random() < 0.4 else int(rng.integers(base + len(p.instructions)))
    t = max(0, v - base + 1)
    new_index = base + t
    op = ops[rng.integers(len(ops))]
    w = int(rng.integers(new_index))
    keep_order = rng.random() < 0.5 or ARITY[op] == 1
    third = int(rng.integers(new_index))
    args = (v, w, third) if keep_order else (w, v, third)
    instrs = shifted_refs(list(p.instructions), new_index, 1)
    for u in range(t, len(instrs)):
        uop, uargs = instrs[u]
        instrs[u] = (uop, tuple(new_index if a == v and i < ARITY[uop] else a for i, a in enumerate(uargs)))
    instrs.insert(t, (op, args))
    output = p.output + 1 if p.output >= new_index else p.output
    output = new_index if output == v else output
    return Program(p.consts, tuple(instrs), output)


def insert_square(p: Program, rng: np.random.Generator) -> Program:
    """A new instruction v*v of a random value v, used by a later instruction or as the output.

    A third of the time v is the output: f -> f^2, which with tuning that fits the inner value to
    the square root of the target (:func:`discovery.programs.tuning.tune_minimax`) is the
    classical range-reduction trick f(x) = f(x/2)^2 for exponentials, found rather than built in.
    """
    base = 1 + len(p.consts)
    if rng.random() < 1 / 3:
        instrs = list(p.instructions) + [("mul", (p.output, p.output, 0))]
        return Program(p.consts, tuple(instrs), base + len(p.instructions))
    t = int(rng.integers(len(p.instructions) + 1))
    v = int(rng.integers(base + t))
    instrs = shifted_refs(list(p.instructions), base + t, 1)
    instrs.insert(t, ("mul", (v, v, 0)))
    new_index = base + t
    output = p.output + 1 if p.output >= new_index else p.output
    users = [u for u in range(t + 1, len(instrs)) if v in instrs[u][1][: ARITY[instrs[u][0]]]]
    if users and rng.random() < 0.7:
        u = users[rng.integers(len(users))]
        op, args = instrs[u]
        instrs[u] = (op, tuple(new_index if a == v and i < ARITY[op] else a for i, a in enumerate(args)))
    else:
        output = new_index
    return Program(p.consts, tuple(instrs), output)


def insert_cayley(p: Program, rng: np.random.Generator) -> Program:
    """The motif (A + B)/(A - B) of two earlier values, used as the output or by a later instruction.

    Rational approximations of functions with f(-u) f(u) = const (exp and its relatives) take
    this form with A, B the even and odd parts, which shares work between numerator and
    denominator that Horner's rule repeats.
    """
    base = 1 + len(p.consts)
    t = int(rng.integers(len(p.instructions) + 1))
    a, b = (int(v) for v in rng.integers(base + t, size=2))
    instrs = shifted_refs(list(p.instructions), base + t, 3)
    new = base + t
    instrs[t:t] = [("add", (a, b, 0)), ("sub", (a, b, 0)), ("div", (new, new + 1, 0))]
    output = p.output + 3 if p.output >= new else p.output
    later = list(range(t + 3, len(instrs)))
    if later and rng.random() < 0.5:
        u = later[rng.integers(len(later))]
        op, args = instrs[u]
        j = int(rng.integers(ARITY[op]))
        instrs[u] = (op, tuple(new + 2 if i == j else x for i, x in enumerate(args)))
    else:
        output = new + 2
    return Program(p.consts, tuple(instrs), output)


def insert_fraction(p: Program, rng: np.random.Generator) -> Program:
    """A Möbius step (:func:`fraction_step`, symmetric three times in ten) on x two times in
    five, else on a random result."""
    base = 1 + len(p.consts)
    v = 0 if rng.random() < 0.4 or not p.instructions else base + int(rng.integers(len(p.instructions)))
    return fraction_step(p, v, float(rng.normal(0, 1)), float(rng.normal(0, 2)) if rng.random() < 0.7 else None)


def remove_vertex(p: Program, rng: np.random.Generator) -> Program:
    """Delete an instruction; its uses take one of its operands instead."""
    if not p.instructions:
        return p
    base = 1 + len(p.consts)
    t = int(rng.integers(len(p.instructions)))
    op, args = p.instructions[t]
    index = base + t
    replacement = args[int(rng.integers(ARITY[op]))]
    instrs = [(o, tuple(replacement if a == index else a for a in a_)) for o, a_ in p.instructions]
    del instrs[t]
    instrs = shifted_refs(instrs, index + 1, -1)
    output = replacement if p.output == index else (p.output - 1 if p.output > index else p.output)
    return Program(p.consts, tuple(instrs), output)


def switch_edge(p: Program, rng: np.random.Generator) -> Program:
    """One operand of one instruction points to another earlier value."""
    if not p.instructions:
        return p
    base = 1 + len(p.consts)
    t = int(rng.integers(len(p.instructions)))
    op, args = p.instructions[t]
    j = int(rng.integers(ARITY[op]))
    args = tuple(int(rng.integers(base + t)) if i == j else a for i, a in enumerate(args))
    instrs = list(p.instructions)
    instrs[t] = (op, args)
    return Program(p.consts, tuple(instrs), p.output)


def change_op(p: Program, rng: np.random.Generator, ops: Sequence[str]) -> Program:
    """One instruction gets another operation (new operands drawn where the arity grows)."""
    if not p.instructions:
        return p
    base = 1 + len(p.consts)
    t = int(rng.integers(len(p.instructions)))
    op, args = p.instructions[t]
    new = ops[rng.integers(len(ops))]
    args = tuple(a if i < ARITY[op] else int(rng.integers(base + t)) for i, a in enumerate(args))
    instrs = list(p.instructions)
    instrs[t] = (new, args)
    return Program(p.consts, tuple(instrs), p.output)


def perturb_constant(p: Program, rng: np.random.Generator) -> Program:
    """One constant moved by a relative log-normal step (or set to a small integer)."""
    if not p.consts:
        return add_constant(p, rng)
    k = int(rng.integers(len(p.consts)))
    consts = list(p.consts)
    if rng.random() < 0.2:
        consts[k] = float(rng.choice([-2.0, -1.0, 0.5, 1.0, 2.0]))
    else:
        moved = consts[k] * math.exp(rng.normal(0, 0.3)) + rng.normal(0, 0.01)
        consts[k] = moved if math.isfinite(moved) else math.copysign(float(np.finfo(float).max), consts[k])
    return p.with_consts(consts)


def add_constant(p: Program, rng: np.random.Generator) -> Program:
    """A new constant, used by one operand of a random instruction."""
    k = len(p.consts)
    new_index = 1 + k
    instrs = shifted_refs(list(p.instructions), new_index, 1)
    output = p.output + 1 if p.output >= new_index else p.output
    if instrs:
        t = int(rng.integers(len(instrs)))
        op, args = instrs[t]
        j = int(rng.integers(ARITY[op]))
        instrs[t] = (op, tuple(new_index if i == j else a for i, a in enumerate(args)))
    return Program(p.consts + (float(rng.normal(0, 1)),), tuple(instrs), output)


def mutate(p: Program, rng: np.random.Generator, ops: Sequence[str] = BASIC_OPS) -> Program:
    """One random mutation of a program, with repeated work merged (retried until it changes the
    function's structure).

    Parameters
    ----------
    p : Program
    rng : numpy.random.Generator
        The only source of randomness: a fixed seed gives the same child.
    ops : sequence of str
        Operations new instructions may use; a motif needing another operation falls back to
        :func:`insert_vertex`.

    Returns
    -------
    Program
        The child, deduplicated (a program equal to ``p`` if ten draws all left it unchanged).
    """
    for _ in range(10):
        r = rng.random()
        if r < 0.15:
            child = insert_vertex(p, rng, ops)
        elif r < 0.20:
            child = insert_on_all_uses(p, rng, ops)
        elif r < 0.24:
            child = insert_square(p, rng) if "mul" in ops else insert_vertex(p, rng, ops)
        elif r < 0.26:
            basic = all(o in ops for o in ("add", "sub", "div"))
            child = insert_cayley(p, rng) if basic else insert_vertex(p, rng, ops)
        elif r < 0.30:
            child = insert_fraction(p, rng) if "add" in ops and "div" in ops else insert_vertex(p, rng, ops)
        elif r < 0.45:
            child = remove_vertex(p, rng)
        elif r < 0.49 and "mul" in ops:
            child = range_reduce(p, int(rng.integers(1, 3)))
        elif r < 0.51:
            child = unsquare(p)
        elif r < 0.70:
            child = switch_edge(p, rng)
        elif r < 0.80:
            child = change_op(p, rng, ops)
        elif r < 0.95:
            child = perturb_constant(p, rng)
        else:
            child = add_constant(p, rng)
        child = child.deduplicated()
        if child != p:
            return child
    return child
