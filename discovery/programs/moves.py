"""Structure moves of program search: range reduction, output powers, composition and subgraph
exchange between programs.

Each move says what the child computes in terms of its parents, and computes exactly that (bit
for bit, in the same float arithmetic): ``range_reduce(p, k)(x) = p(x · 2^-k)^(2^k)``,
``unsquare(p)(x)^2 = p(x)``, ``compose(f, g)(x) = f(g(x))`` and ``graft`` puts a donor's value
in place of one of the host's.  Tuning then fits the constants to the new structure.
"""

from __future__ import annotations

import numpy as np

from discovery.programs.graph import Program
from discovery.programs.ops import ARITY


def _replace_x(instructions, new_x: int) -> list:
    """Instructions with every use of x (value 0) taken from value ``new_x`` instead."""
    return [(op, tuple(new_x if a == 0 and i < ARITY[op] else a for i, a in enumerate(args)))
            for op, args in instructions]


def _shifted(instructions, start: int, delta: int) -> list:
    return [(op, tuple(a + delta if a >= start else a for a in args)) for op, args in instructions]


def range_reduce(p: Program, k: int) -> Program:
    """p(x · 2^-k) raised to the power 2^k (k squarings): the classical reduction of an
    exponential-like function to a narrower interval, as one move."""
    if k < 1:
        raise ValueError(f"range reduction needs k >= 1, got {k}")
    K = len(p.consts)
    scale = 1 + K  # the new constant 2^-k, after p's constants
    # Value table: x, p's constants, 2^-k, then u = x * 2^-k, then p's instructions (shifted by
    # two: the new constant and u) with x read from u.
    body = _shifted(list(p.instructions), 1 + K, 2)
    u = 2 + K
    instrs = [("mul", (0, scale, 0))] + _replace_x(body, u)
    out = p.output + 2 if p.output >= 1 + K else (u if p.output == 0 else p.output)
    for _ in range(k):
        instrs.append(("mul", (out, out, 0)))
        out = 2 + K + len(instrs) - 1
    return Program(p.consts + (2.0 ** -k,), tuple(instrs), out)


def unsquare(p: Program) -> Program:
    """The value the output squares (output = v * v becomes v); p itself otherwise."""
    base = 1 + len(p.consts)
    if p.output >= base:
        op, (a, b, _) = p.instructions[p.output - base]
        if op == "mul" and a == b:
            return Program(p.consts, p.instructions, a).simplified()
    return p


def _embed(p: Program, first_const: int, first_result: int, x_value: int):
    """p's instructions renumbered for a table where its constants start at ``first_const`` and
    its results at ``first_result``, reading x from ``x_value``; returns (instructions, output)."""
    K = len(p.consts)

    def where(v: int) -> int:
        if v == 0:
            return x_value
        if v <= K:
            return first_const + v - 1
        return first_result + v - 1 - K

    instrs = [(op, tuple(where(a) if i < ARITY[op] else 0 for i, a in enumerate(args))) for op, args in p.instructions]
    return instrs, where(p.output)


def compose(outer: Program, inner: Program) -> Program:
    """outer(inner(x)): the inner program's result is the outer program's x."""
    Ki, Ko = len(inner.consts), len(outer.consts)
    first_result = 1 + Ki + Ko
    inner_instrs, inner_out = _embed(inner, 1, first_result, 0)
    outer_instrs, outer_out = _embed(outer, 1 + Ki, first_result + len(inner_instrs), inner_out)
    return Program(inner.consts + outer.consts, tuple(inner_instrs + outer_instrs), outer_out).simplified()


def graft(host: Program, donor: Program, host_value: int, donor_value: int) -> Program:
    """The host with its value ``host_value`` (an instruction result) replaced, in every use and
    as the output, by the donor's value ``donor_value`` and the part of the donor computing it."""
    base = 1 + len(host.consts)
    if not base <= host_value < host.n_values:
        raise ValueError(f"host value {host_value} is not an instruction result ({base}..{host.n_values - 1})")
    piece = Program(donor.consts, donor.instructions, donor_value).simplified()
    Kh, Kp = len(host.consts), len(piece.consts)
    first_result = 1 + Kh + Kp
    piece_instrs, piece_out = _embed(piece, 1 + Kh, first_result, 0)
    host_instrs, host_out = _embed(host, 1, first_result + len(piece_instrs), 0)
    moved = first_result + len(piece_instrs) + host_value - base
    host_instrs = [(op, tuple(piece_out if a == moved and i < ARITY[op] else a for i, a in enumerate(args)))
                   for op, args in host_instrs]
    out = piece_out if host_out == moved else host_out
    return Program(host.consts + piece.consts, tuple(piece_instrs + host_instrs), out).simplified()


def crossover(first: Program, second: Program, rng: np.random.Generator) -> Program:
    """A child of two programs: mostly a subgraph exchange (one of the first program's values
    replaced by one of the second's), sometimes a composition of the two."""
    first, second = first.simplified(), second.simplified()
    if rng.random() < 0.2 or not first.instructions or not second.instructions:
        return compose(first, second) if rng.random() < 0.5 else compose(second, first)
    base_f, base_s = 1 + len(first.consts), 1 + len(second.consts)
    host_value = base_f + int(rng.integers(len(first.instructions)))
    donor_value = base_s + int(rng.integers(len(second.instructions)))
    return graft(first, second, host_value, donor_value)
