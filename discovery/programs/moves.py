"""Structure moves of program search: range reduction, output powers, Möbius, shift and Horner
steps, regrouped sums, composition and subgraph exchange between programs (:func:`crossover`), and the
structural neighbours of a front program (:func:`front_neighbours`).

Each move says what the child computes in terms of its parents, and computes exactly that (bit
for bit, in the same float arithmetic): ``range_reduce(p, k)(x) = p(x · 2^-k)^(2^k)``,
``unsquare(p)(x)^2 = p(x)``, ``compose(f, g)(x) = f(g(x))`` and ``graft`` puts a donor's value
in place of one of the host's.  Tuning then fits the constants to the new structure.  The random
mutation operators that draw these moves are in :mod:`discovery.programs.mutations`.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from typing import Sequence

import numpy as np

from discovery.programs.graph import Program
from discovery.programs.ops import ARITY


def _replace_x(instructions, new_x: int) -> list:
    """Instructions with every use of x (value 0) taken from value ``new_x`` instead."""
    return [(op, tuple(new_x if a == 0 and i < ARITY[op] else a for i, a in enumerate(args)))
            for op, args in instructions]


def shifted_refs(instructions, start: int, delta: int) -> list:
    """The instructions with delta added to every operand index >= start (values moved up or
    down by an insertion or a deletion before them)."""
    return [(op, tuple(a + delta if a >= start else a for a in args)) for op, args in instructions]


def _solve_weights(equations: list, unknowns: int) -> list | None:
    """Gaussian elimination over the rationals: each equation a dict {unknown: coefficient,
    -1: constant} meaning sum = 0.  Returns one solution (free unknowns 0), or None."""
    solved: dict = {}  # unknown -> expression in the others

    def substitute(expr):
        out = {}
        for var, coef in expr.items():
            for v, c in (solved[var].items() if var in solved else [(var, Fraction(1))]):
                out[v] = out.get(v, Fraction(0)) + coef * c
        return {v: c for v, c in out.items() if c != 0}

    for eq in equations:
        eq = substitute(eq)
        pivot = next((v for v in eq if v != -1), None)
        if pivot is None:
            if eq:
                return None  # a nonzero constant: inconsistent
            continue
        coef = eq.pop(pivot)
        expr = {v: -c / coef for v, c in eq.items()}
        for var, e in list(solved.items()):
            if pivot in e:
                c = e.pop(pivot)
                for v, d in expr.items():
                    e[v] = e.get(v, Fraction(0)) + c * d
                solved[var] = {v: d for v, d in e.items() if d != 0}
        solved[pivot] = expr
    return [solved[k].get(-1, Fraction(0)) if k in solved else Fraction(0) for k in range(unknowns)]


def scale_weights(p: Program) -> list[int] | None:
    """Per constant, the power w of a scale λ such that p(λ x) = p(x) with every constant c
    replaced by c λ^-w, or None when no integer powers make p so invariant.

    x has weight 1, operands of a sum have equal weights, products add weights and quotients
    subtract them, a square root halves them, and the output has weight 0; the constants'
    weights solve these equations.  The continued fractions c0 + r1/(x + b1 + r2/(x + ...)) are
    invariant so (b weight 1, r weight 2, c0 weight 0), and so range reduction costs them only
    the squarings.
    """
    K = len(p.consts)
    one = -1  # the key of the constant term in an affine weight {unknown k: coefficient}
    weight: list = [{one: Fraction(1)}] + [{k: Fraction(1)} for k in range(K)]

    def combine(a, b, sign):
        out = dict(a)
        for v, c in b.items():
            out[v] = out.get(v, Fraction(0)) + sign * c
        return out

    equations = []
    for op, (a, b, c) in p.instructions:
        if op in ("add", "sub"):
            equations.append(combine(weight[a], weight[b], -1))
            w = weight[a]
        elif op in ("mul", "div"):
            w = combine(weight[a], weight[b], 1 if op == "mul" else -1)
        elif op == "fma":
            w = combine(weight[a], weight[b], 1)
            equations.append(combine(w, weight[c], -1))
        elif op == "sqrt":
            w = {v: coef / 2 for v, coef in weight[a].items()}
        else:  # mul2, half: exact scalings
            w = weight[a]
        weight.append(w)
    if p.output == 0:
        return None
    equations.append(weight[p.output])
    solution = _solve_weights(equations, K)
    if solution is None or any(w.denominator != 1 for w in solution):
        return None
    # A half weight under a square root must come out whole too.
    values = [sum(c * (Fraction(1) if v == one else solution[v]) for v, c in w.items()) for w in weight]
    if any(v.denominator != 1 for v in values):
        return None
    return [int(w) for w in solution]


def range_reduce(p: Program, k: int) -> Program:
    """p(x · 2^-k) raised to the power 2^k (k squarings): the classical reduction of an
    exponential-like function to a narrower interval, as one move.  When p is invariant under a
    scaling of x and its constants (:func:`scale_weights`), the scaling goes into the constants
    (exactly: powers of two) and the move costs only the squarings."""
    if k < 1:
        raise ValueError(f"range reduction needs k >= 1, got {k}")
    K = len(p.consts)
    weights = scale_weights(p)
    if weights is not None:
        consts = tuple(c * 2.0 ** (k * w) for c, w in zip(p.consts, weights))
        instrs, out = list(p.instructions), p.output
        base = 1 + K
    else:
        scale = 1 + K  # the new constant 2^-k, after p's constants
        # Value table: x, p's constants, 2^-k, then u = x * 2^-k, then p's instructions (shifted
        # by two: the new constant and u) with x read from u.
        body = shifted_refs(list(p.instructions), 1 + K, 2)
        u = 2 + K
        instrs = [("mul", (0, scale, 0))] + _replace_x(body, u)
        out = p.output + 2 if p.output >= 1 + K else (u if p.output == 0 else p.output)
        consts, base = p.consts + (2.0 ** -k,), 2 + K
    for _ in range(k):
        instrs.append(("mul", (out, out, 0)))
        out = base + len(instrs) - 1
    return Program(consts, tuple(instrs), out)


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


def _insert_motif(p: Program, v: int, new_consts: tuple, motif, use: tuple[int, int] | None) -> Program:
    """Insert ``motif(v, first_const, first_new)`` (instructions computing a replacement for
    the value v) right after v, with the new constants; the replacement takes v's place in every
    use and as the output, or only in operand ``use`` = (instruction, slot) of ``p``."""
    K, n = len(p.consts), len(new_consts)
    if use is not None and (not 0 <= use[0] < len(p.instructions) or p.instructions[use[0]][1][use[1]] != v):
        raise ValueError(f"operand {use} of the program is not a use of value {v}")
    base = 1 + K + n  # first result after the new constants
    instrs = shifted_refs(list(p.instructions), 1 + K, n)
    output = p.output + n if p.output >= 1 + K else p.output
    v = v + n if v >= 1 + K else v
    t = 0 if v == 0 else v - base + 1  # the motif goes right after v
    new = base + t
    steps = motif(v, 1 + K, new)
    last = new + len(steps) - 1
    later = shifted_refs(instrs[t:], new, len(steps))
    if use is None:
        later = [(op, tuple(last if a == v and i < ARITY[op] else a for i, a in enumerate(args)))
                 for op, args in later]
        output = output + len(steps) if output >= new else output
        output = last if output == v else output
    else:
        u, slot = use
        op, args = later[u - t]
        later[u - t] = (op, tuple(last if i == slot else a for i, a in enumerate(args)))
        output = output + len(steps) if output >= new else output
    return Program(p.consts + new_consts, tuple(instrs[:t] + steps + later), output)


def fraction_step(p: Program, v: int, r: float, b: float | None, use: tuple[int, int] | None = None) -> Program:
    """The value v replaced by v + r/(v + b), r and b new constants, in every use and as the
    output (or only in operand ``use`` = (instruction, slot)): a Möbius step, which raises the
    degrees of the rational function the program computes by one; a chain of them is a
    continued fraction.  With ``b`` None the step is v + r/v (two operations): the symmetric
    step, whose chains are the continued fractions of functions with f(c + u) f(c - u)
    constant, such as 2^x about the middle of an interval."""
    if b is None:
        return _insert_motif(p, v, (float(r),), lambda v, c, new: [("div", (c, v, 0)), ("add", (v, new, 0))], use)
    return _insert_motif(p, v, (float(r), float(b)), lambda v, c, new: [
        ("add", (v, c + 1, 0)), ("div", (c, new, 0)), ("add", (v, new + 1, 0))], use)


def shift_step(p: Program, v: int, c: float, use: tuple[int, int] | None = None) -> Program:
    """The value v replaced by v + c, c a new constant, in every use and as the output (or only
    in operand ``use`` = (instruction, slot)): with v = x, a continued fraction's level moved
    to a centre of its own."""
    return _insert_motif(p, v, (float(c),), lambda v, k, new: [("add", (v, k, 0))], use)


# Starts of a Horner step's constants (the program's own and rescaled copies): the step changes
# what the program's value must approximate, whose constants then lie in one of several basins.
HORNER_STARTS = 16


def horner_steps(p: Program, starts: int = HORNER_STARTS) -> list[Program]:
    """The output v replaced by fma(x, v, c), c a new constant (one more Horner step: the
    polynomial's degree, or a rational's numerator degree, one higher for one operation), with
    the program's own constants and ``starts - 1`` copies scaled by random factors and signs.

    The inner value then approximates (f - c)/x, not f, so the program's constants are only a
    start: from the Q(x)^2 + e (Q a cubic) an ulp32 search for 2^x on [0, 1] holds at four
    operations, x (Q^2 + e) + 1 tuned from the program's own constants stays 7 float32 ULPs off;
    from the best of 24 scaled starts it tunes to 2 ULPs at one float of the interval, and the
    search's own float32 tuning takes it to 1.  Deterministic: the scalings come from a fixed
    seed.
    """
    out = _insert_motif(p, p.output, (1.0,), lambda v, c, new: [("fma", (0, v, c))], None)
    consts = np.array(out.consts)
    rng = np.random.default_rng(len(p.instructions))
    steps = [out]
    for _ in range(starts - 1):
        scale = np.exp(rng.normal(0, 1.0, consts.size)) * rng.choice([-1, 1], consts.size)
        with np.errstate(over="ignore"):
            scaled = consts * scale
        if np.all(np.isfinite(scaled)):
            steps.append(out.with_consts(scaled))
    return steps


def sum_terms(p: Program, t: int) -> list[tuple[int, int]] | None:
    """The signed terms [(sign, value)] of the sum instruction t computes, through its operands
    that are sums used only there; None when instruction t is not an add or sub."""
    op, (a, b, _) = p.instructions[t]
    if op not in ("add", "sub"):
        return None
    base = 1 + len(p.consts)
    uses = np.zeros(p.n_values, dtype=int)
    for o, args in p.instructions:
        for v in args[: ARITY[o]]:
            uses[v] += 1
    uses[p.output] += 1
    terms = []
    for sign, v in ((1, a), (1 if op == "add" else -1, b)):
        inner = p.instructions[v - base] if v >= base else None
        if inner is not None and inner[0] in ("add", "sub") and uses[v] == 1:
            ia, ib = inner[1][:2]
            terms += [(sign, ia), (sign if inner[0] == "add" else -sign, ib)]
        else:
            terms.append((sign, v))
    return terms


def regroup(p: Program, t: int, i: int, j: int) -> Program:
    """The sum instruction t computes, with its terms i and j (:func:`sum_terms`) added first:
    (a + b) + c becomes (a + c) + b, so a + c is a value of its own that later moves can change
    (the same sum; rounding may differ).  The new instructions follow instruction t, the grouped
    pair first (value 2 + K + t, K constants); terms of a negative sign stay subtracted, and the
    old ones are left dead."""
    terms = sum_terms(p, t)
    if terms is None or not (0 <= i < len(terms) and 0 <= j < len(terms)) or i == j:
        raise ValueError(f"instruction {t} has no terms {i} and {j} to group")
    rest = [terms[k] for k in range(len(terms)) if k not in (i, j)]
    (si, vi), (sj, vj) = terms[i], terms[j]

    def motif(v, c, new):
        if si > 0 or sj > 0:
            first = ("add", (vi, vj, 0)) if si > 0 and sj > 0 else ("sub", (vi, vj, 0) if si > 0 else (vj, vi, 0))
            sign = 1
        else:
            first, sign = ("add", (vi, vj, 0)), -1
        steps = [first]
        for s, w in rest:
            acc = new + len(steps) - 1
            if sign > 0:
                steps.append(("add" if s > 0 else "sub", (acc, w, 0)))
            elif s > 0:
                steps.append(("sub", (w, acc, 0)))
                sign = 1
            else:
                steps.append(("add", (acc, w, 0)))
        return steps  # a sum always has a term of positive sign, so the last step has one

    return _insert_motif(p, 1 + len(p.consts) + t, (), motif, None)


def front_neighbours(p: Program, ops: Sequence[str], centre: float) -> list[Program]:
    """The structural neighbours of a front program, for the search to solve the constants of:
    one more squaring at the output (range reduction by 2) and a Möbius step (general and
    symmetric) on each value, then the steps at single uses (:func:`_steps_at_uses`), and with
    ``fma`` one more Horner step at the output from several starts (:func:`horner_steps`).

    A front that holds the (n, n) continued fraction so reaches the (n + 1, n + 1) one, and its
    squared forms, in one round, which random moves would reach only by luck.

    Parameters
    ----------
    p : Program
        Simplified first; the neighbours are moves of the simplified program.
    ops : sequence of str
        The search's operations: range reduction needs ``mul``, the Möbius steps ``add`` and
        ``div``, the Horner step ``fma``.
    centre : float
        The centre of the target's interval, where the steps at uses of x move x to.

    Returns
    -------
    list of Program
        Not deduplicated, in a fixed order (some may cost more than the search allows).
    """
    prog = p.simplified()
    dep = prog.depends_on_x()
    live = prog.live()
    steps = [range_reduce(prog, 1)] if "mul" in ops else []
    if "add" in ops and "div" in ops:
        steps += [fraction_step(prog, v, 1e-3, b) for v in range(prog.n_values) for b in (1.0, None)
                  if dep[v] and live[v] and (v == 0 or v > len(prog.consts))]
        steps += _steps_at_uses(prog, dep, -centre)
    if "fma" in ops and dep[prog.output]:
        steps += horner_steps(prog)
    return steps


def _steps_at_uses(prog: Program, dep: np.ndarray, shift: float) -> list:
    """Neighbours that change one use of a value, not all: a Möbius step (general and
    symmetric) at each use of a value used more than once, each use of x moved by ``shift`` (to
    the interval's centre), alone and followed by a symmetric step there, and each pair of terms
    of a sum of three or more grouped first and stepped symmetrically.  The (n, n) continued
    fraction of 2^x grows to the (n + 1, n + 1) one at a single use of its centred x, and
    x + r/x (uncentred, one operation cheaper) reaches the centred fraction only so."""
    uses = [(v, (t, j)) for t, (op, args) in enumerate(prog.instructions) for j, v in enumerate(args[: ARITY[op]])
            if dep[v] and (v == 0 or v > len(prog.consts))]
    count = Counter(v for v, _ in uses)
    out = []
    for v, use in uses:
        if count[v] > 1:
            out += [fraction_step(prog, v, 1e-3, b, use) for b in (1.0, None)]
        if v == 0:
            shifted = shift_step(prog, 0, shift, use)
            out += [shifted, fraction_step(shifted, 1 + len(shifted.consts), 1e-3, None)]
    # A sum of three terms regrouped, with a symmetric step on the new pair: from
    # c0 + r1/((x + b) + r/x), the step on w = x + r/x gives c0 + r1/(w + b + R/w).
    base = 1 + len(prog.consts)
    for t in range(len(prog.instructions)):
        terms = sum_terms(prog, t)
        if terms is None or len(terms) < 3 or not dep[base + t]:
            continue
        for i in range(len(terms)):
            for j in range(i + 1, len(terms)):
                out.append(fraction_step(regroup(prog, t, i, j), base + t + 1, 1e-3, None).simplified())
    return out
