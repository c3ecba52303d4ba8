"""Evolving programs that approximate a target: mutations, seeds and the search loop.

Objectives (both minimised): log10 of the maximum error on the 1024-point training grid, and the
operation count; programs over ``max_ops`` are infeasible.  Mutations insert a vertex (on one use
of a value or on all of them), remove one, switch an edge, change an operation, insert the
motifs v*v, (A+B)/(A-B) and v + r/(v + b), square the output, reduce the range (x -> x/2^k with the output
raised to 2^k), undo a squaring, and perturb, add or drop constants; crossover exchanges subgraphs
or composes two programs (:mod:`discovery.programs.moves`); repeated work is merged after each.
Every child is judged after a minimax tuning of its constants
(:func:`discovery.programs.tuning.tune_minimax`), the most promising ones after variable
projection (:func:`discovery.programs.projection.project`): a structure is worth what its best
constants can do.  Niches by operation count and restarts with fresh programs when nothing
improves keep the population diverse.  Every few generations the archive's front is tuned again,
longer, by CMA-ES and then by projection on the full training grid.

Under the ``ulp32`` error mode constants are still tuned in float64 relative error, but the first
objective is log10(1 + max ULP error) of the program run in float32 on the target's float32
training grid (0 for a correctly rounded program), and the final front is judged on every float32
of the interval.
"""

from __future__ import annotations

import math
from collections import Counter
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from discovery.checkpoints import EvolutionState
from discovery.evolution import NSGA2
from discovery.programs.float32 import population_ulp_errors
from discovery.programs.graph import ARITY, BASIC_OPS, Program, random_program
from discovery.programs.kernels import population_errors
from discovery.programs.moves import (
    crossover, fraction_step, range_reduce, regroup, shift_step, shifted_refs, sum_terms, unsquare,
)
from discovery.programs.ops import check_ops, uses_only
from discovery.programs.precise import polish_precise, precise_errors
from discovery.programs.projection import project, rational_degrees
from discovery.programs.targets import Target
from discovery.programs.verify import population_reaches_infinity, reaches_infinity
from discovery.programs.tuning import WORST_LOG_ERROR, log_errors, output_squarings, tune_many, tune_minimax

# log10 of the error below which programs are ranked and polished in double-double arithmetic.
_PRECISE_BELOW = -11.0

# --- mutations ------------------------------------------------------------------------------
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
        consts[k] = consts[k] * math.exp(rng.normal(0, 0.3)) + rng.normal(0, 0.01)
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
    function's structure)."""
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


# --- seeds -----------------------------------------------------------------------------------
def classical_programs(target: Target, max_ops: int, ops: Sequence[str] = BASIC_OPS) -> list[Program]:
    """Minimax polynomials, rationals and (squared) continued fractions (Remez) of at most
    ``max_ops`` operations once repeated work is merged (the baselines' programs), those that use
    only ``ops``; with ``fma`` among them, also the minimax polynomials by fused Horner steps
    (one operation per degree)."""
    from discovery.programs.baselines import (
        cf_degrees, fma_horner, minimax_continued_fraction, minimax_polynomial, minimax_rational,
    )

    out = [minimax_polynomial(target, d) for d in range(1, max_ops // 2 + 1)]
    if "fma" in ops:
        out += [fma_horner(minimax_polynomial(target, d)) for d in range(1, max_ops + 1)]
    builds = [(minimax_rational, (m, n)) for m in range(0, max_ops // 2 + 1) for n in range(1, max_ops // 2 + 1)
              if 2 * (m + n) <= max_ops]
    builds += [(minimax_continued_fraction, nk) for nk in cf_degrees(max_ops)]
    for build, degrees in builds:
        try:
            prog = build(target, *degrees).deduplicated()
        except (ZeroDivisionError, ValueError):
            continue  # a degenerate approximant, or squaring a target that is not positive
        if prog.cost <= max_ops:
            out.append(prog)
    return [p for p in out if p.cost <= max_ops and uses_only(p, ops)]


def _folded(program: Program) -> Program:
    """The program with its constant subexpressions folded (same values, bit for bit), if finite."""
    try:
        return program.folded()
    except ValueError:
        return program


def _best_per_cost(candidates) -> dict:
    """cost -> (program, error) of the lowest error among ``(cost, program, error)`` triples."""
    best: dict = {}
    for cost, prog, err in candidates:
        if cost not in best or err < best[cost][1]:
            best[cost] = (prog, err)
    return best


def validated_front(candidates, target: Target) -> tuple[dict, dict]:
    """The Pareto front of (cost, max error) among ``(cost, program, training error)`` triples,
    judged on the validation grid.

    The training grid chose the programs; the validation grid, 10x denser, judges them (a pole or
    a wiggle between training points shows there).  Of several programs of one cost the one with
    the lowest training error stands for it.

    Returns
    -------
    front : dict
        cost -> (program, training error), costs increasing, errors decreasing.
    validation : dict
        cost -> validation max error.
    """
    best = _best_per_cost(candidates)
    costs = sorted(best)
    programs = [best[c][0] for c in costs]
    checked = population_errors(programs, *target.validation, target.relative) if costs else []
    front, validation, floor = {}, {}, math.inf
    for cost, err in zip(costs, checked):
        if err < floor:
            front[cost], validation[cost] = best[cost], float(err)
            floor = err
    return front, validation


def ulp32_front(candidates, target: Target, exhaustive: bool = True) -> tuple[dict, dict, dict]:
    """As :func:`validated_front` with training errors in ULPs, judged by an exhaustive float32
    check (:func:`discovery.programs.verify.float32_ulp_errors`) of one program per cost at once.

    A costlier program must have a smaller exhaustive max ULP error, or an equal one and a smaller
    error in ULPs of the exact values.  Without ``exhaustive`` the training errors judge (for
    intermediate fronts, such as those of island epochs) and ``validation`` and ``checks`` are
    empty.

    Returns
    -------
    front : dict
        cost -> (program, training max ULP error).
    validation : dict
        cost -> exhaustive max ULP error.
    checks : dict
        cost -> the exhaustive check's report.
    """
    from discovery.programs.verify import float32_ulp_errors

    best = _best_per_cost(candidates)
    costs = sorted(best)
    reports = dict(zip(costs, float32_ulp_errors([best[c][0] for c in costs], target))) if exhaustive and costs else {}

    def score(cost):
        return (reports[cost]["max_ulp"], reports[cost]["max_ulp_exact"]) if exhaustive else (best[cost][1], 0.0)

    front, floor = {}, (math.inf, math.inf)
    for cost in costs:
        if score(cost) < floor:
            front[cost], floor = best[cost], score(cost)
    checks = {c: reports[c] for c in front if c in reports}
    return front, {c: float(r["max_ulp"]) for c, r in checks.items()}, checks


@dataclass
class SearchResult:
    """What a program search found.

    Attributes
    ----------
    best : dict
        Operation count -> (Program, training max error), the archive's Pareto front judged on
        the 10,000-point validation grid (a costlier program must be more accurate there).
    generations, evaluations : int
    seconds : float
    validation : dict
        Operation count -> max error of ``best[cost]`` on the validation grid.
    float32 : dict, optional
        Under ``ulp32``: operation count -> the exhaustive float32 check of ``best[cost]``
        (:func:`discovery.programs.verify.float32_ulp_errors`), which judged the front in place of
        the validation grid; training errors in ``best`` and ``validation`` are then in ULPs.
    """

    best: dict
    generations: int
    evaluations: int
    seconds: float
    validation: dict
    float32: dict | None = None


class ProgramSearch:
    """NSGA-II over (max error, cost) with minimax tuning of every child and of the front.

    Parameters
    ----------
    target : Target
    max_ops : int
        Programs costing more are infeasible.
    ops : sequence of str
        Operations mutations may use (default +, -, ×, ÷).
    population_size : int
    seed : int
    tune_every : int
        Generations between tunings of the archive's front.
    tune_evals : int
        CMA-ES evaluation budget per program of the front.
    child_rounds : int
        Lawson reweightings in the minimax tuning every new program gets.
    checkpoint : path, optional
        JSON checkpoint of the search (:class:`~discovery.evolution.NSGA2`); a search given an
        existing one resumes from it, and ends as the uninterrupted search would.
    checkpoint_every : int
        Generations between checkpoints.
    projected : int
        Children per generation, the most promising (closest to the archive's best at their
        operation count), whose exactly solvable constants are solved
        (:func:`~discovery.programs.projection.project`).
    niche_cap : int, optional
        At most this many programs of one operation count in the population (default: an equal
        share of the population per count, twice over), so every count keeps evolving.
    restart_after : int
        Generations without a better program at any operation count after which a quarter of
        the population's worth of fresh random programs joins.
    finite_only : bool
        Refuse programs whose result is finite only through IEEE infinities (c/0 = inf, then
        d/inf = 0) on the training grid, and keep such programs out of the final front.
    """

    def __init__(
        self,
        target: Target,
        max_ops: int = 10,
        ops: Sequence[str] = BASIC_OPS,
        population_size: int = 200,
        seed: int = 0,
        tune_every: int = 10,
        tune_evals: int = 500,
        child_rounds: int = 30,
        checkpoint=None,
        checkpoint_every: int = 10,
        projected: int = 16,
        niche_cap: int | None = None,
        restart_after: int = 30,
        finite_only: bool = False,
    ):
        ops = check_ops(ops)
        if max_ops < 1:
            raise ValueError(f"max_ops must be positive, got {max_ops}")
        self.target, self.max_ops, self.ops = target, max_ops, tuple(ops)
        self.seed, self.tune_every, self.tune_evals = seed, tune_every, tune_evals
        self.child_rounds, self.projected, self.restart_after = child_rounds, projected, restart_after
        self.finite_only = finite_only
        self.tuned: set = set()
        cap = niche_cap if niche_cap is not None else max(2, 2 * population_size // max_ops)
        self.engine = NSGA2(
            self.evaluate, lambda p, rng: mutate(p, rng, self.ops), lambda p: (p.key(), p.consts),
            archive_key=lambda f: int(f[1]), population_size=population_size, seed=seed,
            checkpoint=checkpoint, checkpoint_every=checkpoint_every, encode=Program.to_json,
            decode=Program.from_json, crossover=crossover, crossover_rate=0.2,
            niche=lambda p: p.cost, niche_cap=cap,
        )

    def evaluate(self, programs: list, project_all: bool = False) -> np.ndarray:
        """Objective rows (log10 training max error, cost); over-budget programs get the worst error.
        Under ``ulp32`` the error is log10(1 + max ULP error) in float32 on the float32 grid.

        Every program first has its constants tuned (:func:`tune_minimax`, ``child_rounds``),
        and keeps the tuned constants: a new structure is judged by what it can do, not by the
        constants it inherited.  The most promising ones (all with ``project_all``) then have
        their exactly solvable constants solved (:func:`~discovery.programs.projection.project`).
        """
        costs = np.array([p.cost for p in programs], dtype=float)
        # Immigrants and checkpoints may carry programs of another operation set: not feasible.
        feasible = [i for i, c in enumerate(costs) if c <= self.max_ops and uses_only(programs[i], self.ops)]
        errs = np.full(len(programs), WORST_LOG_ERROR)
        if feasible:
            tuned = tune_minimax([programs[i] for i in feasible], self.target, outer=self.child_rounds)
            for i, (prog, err) in zip(feasible, tuned):
                programs[i] = prog
                errs[i] = log_errors(np.array([err]))[0]
            chosen = feasible if project_all else self._promising(programs, feasible, errs, costs)
            if chosen:
                # New structures from the front's neighbourhood get the thorough rational fits.
                solved = project([programs[i] for i in chosen], self.target, outer=self.child_rounds,
                                 tuned=[(programs[i], 10.0 ** errs[i]) for i in chosen], thorough=project_all)
                for i, (prog, err) in zip(chosen, solved):
                    programs[i] = prog
                    errs[i] = log_errors(np.array([err]))[0]
            if self.target.error == "ulp32":
                ulps = population_ulp_errors([programs[i] for i in feasible], *self.target.float32_training)
                errs[feasible] = log_errors(1.0 + ulps)
            else:
                # Below ~1e-11 float64 rounding is a visible part of the error: rank by the formula's.
                fine = [i for i in feasible if errs[i] < _PRECISE_BELOW]
                if fine:
                    errs[fine] = log_errors(precise_errors([programs[i] for i in fine], self.target))
            if self.finite_only:
                # After tuning: the constants decide whether a divisor vanishes on the grid.
                through_inf = population_reaches_infinity([programs[i] for i in feasible], self.target.training[0])
                errs[[i for i, bad in zip(feasible, through_inf) if bad]] = WORST_LOG_ERROR
        return np.column_stack([errs, costs])

    def _promising(self, programs: list, feasible: list, errs: np.ndarray, costs: np.ndarray) -> list:
        """Up to ``projected`` feasible programs: half those whose errors are closest to (or
        below) the archive's best at their operation count, the rest new structures with a
        rational block that are not (their constants, inherited or random, may be far from
        what the structure can do)."""
        # Under ulp32 the archive holds ULP errors and errs float64 ones: the lowest errors go.
        archive = self.engine.state.archive if self.engine.state is not None and self.target.error != "ulp32" else {}
        gap = [(errs[i] - (archive[int(costs[i])][1][0] if int(costs[i]) in archive else WORST_LOG_ERROR), i)
               for i in feasible if errs[i] < WORST_LOG_ERROR]
        chosen = [i for _, i in sorted(gap)[: self.projected // 2]]
        for i in feasible:
            if len(chosen) >= self.projected:
                break
            if i not in chosen and rational_degrees(programs[i], output_squarings(programs[i])[1]) is not None:
                chosen.append(i)
        return chosen

    def seeds(self, count: int, classical: bool = True) -> list:
        """Starting programs: the classical minimax approximations that fit in ``max_ops``
        (with ``classical``), filled up with random programs of 1..max_ops operations."""
        out = classical_programs(self.target, self.max_ops, self.ops) if classical else []
        rng = np.random.default_rng(self.seed)
        while len(out) < count:
            out.append(random_program(rng, int(rng.integers(1, self.max_ops + 1)), int(rng.integers(1, 5)), self.ops))
        return out

    def _tune_front(self, state: EvolutionState) -> None:
        todo = []
        for cost, (prog, f) in sorted(state.archive.items()):
            key = (prog.key(), prog.consts)
            if cost <= self.max_ops and f[0] < WORST_LOG_ERROR and key not in self.tuned:
                self.tuned.add(key)
                todo.append(prog)
        if not todo:
            return
        tuned = [p for p, _ in tune_many(todo, self.target, self.tune_evals, self.seed + state.generation)]
        new = [polish_precise(p, self.target)[0] if self.target.error != "ulp32" and e < 10.0 ** _PRECISE_BELOW else p
               for p, e in project(tuned, self.target, outer=60, thorough=True)]
        for p in new:
            self.tuned.add((p.key(), p.consts))
        # Checkpointed with the state: a resumed search must not tune the same programs again.
        state.extra["tuned"] = sorted(self.tuned)
        if new:
            self.engine.join(new, self.evaluate(new))

    def _explore_front(self, state: EvolutionState) -> None:
        """The structural neighbours of every front program not explored yet, each with its
        constants solved: one more squaring at the output (range reduction by 2) and a Möbius
        step (general and symmetric) on each value.  A front that holds the (n, n) continued fraction so reaches the
        (n + 1, n + 1) one, and its squared forms, in one round, which random moves would reach
        only by luck."""
        explored = set(state.extra.get("explored", ()))
        fraction = "add" in self.ops and "div" in self.ops
        neighbours, seen = [], {self.engine.key(p) for p in state.population}
        for cost, (prog, f) in sorted(state.archive.items()):
            mark = str(prog.key())
            if cost >= self.max_ops or f[0] >= WORST_LOG_ERROR or mark in explored:
                continue
            explored.add(mark)
            prog = prog.simplified()
            dep = prog.depends_on_x()
            live = prog.live()
            steps = [range_reduce(prog, 1)] if "mul" in self.ops else []
            if fraction:
                steps += [fraction_step(prog, v, 1e-3, b) for v in range(prog.n_values) for b in (1.0, None)
                          if dep[v] and live[v] and (v == 0 or v > len(prog.consts))]
                steps += self._steps_at_uses(prog, dep)
            for child in steps:
                child = child.deduplicated()
                key = self.engine.key(child)
                if child.cost <= self.max_ops and key not in seen:
                    seen.add(key)
                    neighbours.append(child)
        state.extra["explored"] = sorted(explored)
        if neighbours:
            state.evaluations += len(neighbours)
            self.engine.join(neighbours, self.evaluate(neighbours, project_all=True))

    def _steps_at_uses(self, prog: Program, dep: np.ndarray) -> list:
        """Neighbours that change one use of a value, not all: a Möbius step (general and
        symmetric) at each use of a value used more than once, each use of x moved to the
        interval's centre, alone and followed by a symmetric step there, and each pair of terms
        of a sum of three or more grouped first and stepped symmetrically.  The (n, n) continued
        fraction of 2^x grows to the (n + 1, n + 1) one at a single use of its centred x, and
        x + r/x (uncentred, one operation cheaper) reaches the centred fraction only so."""
        centre = -0.5 * (self.target.interval[0] + self.target.interval[1])
        uses = [(v, (t, j)) for t, (op, args) in enumerate(prog.instructions) for j, v in enumerate(args[: ARITY[op]])
                if dep[v] and (v == 0 or v > len(prog.consts))]
        count = Counter(v for v, _ in uses)
        out = []
        for v, use in uses:
            if count[v] > 1:
                out += [fraction_step(prog, v, 1e-3, b, use) for b in (1.0, None)]
            if v == 0:
                shifted = shift_step(prog, 0, centre, use)
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

    def _restart_if_stale(self, state: EvolutionState) -> None:
        """Fresh random programs join when no operation count has improved for a while."""
        front = sorted((int(c), float(f[0])) for c, (_, f) in state.archive.items())
        if front != state.extra.get("front"):
            state.extra["front"], state.extra["improved"] = front, state.generation
        elif state.generation - state.extra.get("improved", 0) >= self.restart_after:
            rng = np.random.default_rng([self.seed, state.generation])
            fresh = [random_program(rng, int(rng.integers(1, self.max_ops + 1)), int(rng.integers(1, 5)), self.ops)
                     for _ in range(max(1, self.engine.population_size // 4))]
            self.engine.immigrate(fresh)
            state.extra["improved"] = state.generation
            state.extra["restarts"] = state.extra.get("restarts", 0) + 1

    def run(self, initial: Sequence[Program] | None = None, generations: int | None = None,
            seconds: float | None = None, progress=None, exhaustive: bool = True) -> SearchResult:
        """Evolve from ``initial`` (default: :meth:`seeds`), or on from the checkpoint if there is
        one, for a number of generations or seconds.

        ``progress(state)`` is called after every generation.  Under ``ulp32`` the front is judged
        on every float32 of the interval unless ``exhaustive`` is false (see :func:`ulp32_front`).
        """
        start = time.time()
        if self.engine.state is None:
            self.engine.start(list(initial) if initial else self.seeds(self.engine.population_size))
        self.tuned = set(self.engine.state.extra.get("tuned", ()))

        def callback(state):
            if state.generation % self.tune_every == 0:
                self._tune_front(state)
                self._explore_front(state)
            self._restart_if_stale(state)
            if progress is not None:
                progress(state)
            return False

        state = self.engine.run([], generations=generations, seconds=seconds, callback=callback)
        self._tune_front(state)
        best = {
            int(cost): (_folded(prog), 10.0 ** f[0])
            for cost, (prog, f) in sorted(state.archive.items())
            if cost <= self.max_ops and f[0] < WORST_LOG_ERROR
        }
        if self.finite_only:
            best = {c: pe for c, pe in best.items() if not reaches_infinity(pe[0], self.target)}
        if self.target.error == "ulp32":
            front, validation, checks = ulp32_front(((c, p, round(e - 1)) for c, (p, e) in best.items()), self.target,
                                                    exhaustive)
        else:
            (front, validation), checks = validated_front(((c, p, e) for c, (p, e) in best.items()), self.target), None
        return SearchResult(front, state.generation, state.evaluations, time.time() - start, validation, checks)
