"""Variable projection: the constants of a program that can be solved for exactly, solved.

Local optimizers stall in the badly conditioned valleys of continued-fraction parameters, so a
structure would be judged by where the optimizer stopped rather than by what it can do.  Two
kinds of constants are solved here instead:

* **Linear constants.**  When the output is affine in a group of constants (a polynomial's
  coefficients, an added offset, an output scale), the minimax problem in them is a linear
  Chebyshev problem, solved exactly as a linear program (HiGHS) on the residual scaled to the
  current error, so its tolerances are relative to the error, not to the values.
* **A rational block.**  When the output, before k final squarings, is a rational function of x
  of degrees (m, n) (found exactly with sympy, constants replaced by fixed generic rationals),
  its best possible values are those of the minimax rational of degrees (m, n) of the target's
  2^k-th root (Remez, :func:`discovery.programs.baselines._remez`, cached per target).  The
  program's constants are fitted to those values — a least-squares problem with zero residual
  when the structure can represent that rational, which Gauss-Newton solves from far away where
  fitting the target directly stalls — and then polished on the target itself.

:func:`project` runs both on top of :func:`discovery.programs.tuning.tune_minimax` and keeps,
per program, the best constants found.  It is deterministic: tuning a program twice gives the
same constants.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np
import sympy

from discovery.programs.graph import Program
from discovery.programs.kernels import evaluate, population_errors
from discovery.programs.ops import ARITY, apply
from discovery.programs.targets import Target
from discovery.programs.tuning import _squarings, tune_minimax

_NONLINEAR = 2


# --- linear constants -----------------------------------------------------------------------
def _degree(program: Program, group: set) -> int:
    """Degree of the output in the constants of ``group`` (0, 1, or 2 for anything not affine)."""
    K = len(program.consts)
    deg = [0] + [1 if k in group else 0 for k in range(K)]
    for op, (a, b, c) in program.instructions:
        da, db, dc = deg[a], deg[b], deg[c]
        if op in ("add", "sub"):
            d = max(da, db)
        elif op == "mul":
            d = da + db
        elif op == "div":
            d = da if db == 0 else _NONLINEAR
        elif op == "fma":
            d = max(da + db, dc)
        elif op == "sqrt":
            d = 0 if da == 0 else _NONLINEAR
        else:  # mul2, half: scalings
            assert ARITY[op] == 1
            d = da
        deg.append(min(d, _NONLINEAR))
    return deg[program.output]


def linear_constants(program: Program) -> list[int]:
    """Indices of a group of constants the program's output is jointly affine in.

    Greedy: each constant in turn joins the group if the output stays affine in the whole group
    (``c0*x + c1`` keeps both; in ``c0*c1*x`` only the first joins).
    """
    group: list[int] = []
    for k in range(len(program.consts)):
        if _degree(program, set(group) | {k}) <= 1:
            group.append(k)
    return group


def solve_linear(program: Program, target: Target, X: np.ndarray, T: np.ndarray, rounds: int = 3) -> Program:
    """The program with its linear constants (:func:`linear_constants`) set to the exact minimax
    solution over the points X, the other constants fixed.

    Each round solves the linear program min t subject to |w (r + Φ δ)| <= t for a correction δ,
    with r the current residual scaled by its maximum and Φ's columns by theirs; the program is
    returned unchanged when that does not lower the maximum error.
    """
    from scipy.optimize import linprog

    group = linear_constants(program)
    if not group:
        return program
    W = 1.0 / np.abs(T) if target.relative else np.ones_like(T)
    best, best_err = program, _max_weighted(program, X, T, W)
    for _ in range(rounds):
        y = evaluate(best, X)
        consts = np.array(best.consts)
        # The output is affine in the group: the columns are exact differences.
        columns = []
        for k in group:
            bumped = consts.copy()
            bumped[k] += 1.0
            columns.append(evaluate(best.with_consts(bumped), X) - y)
        Phi = np.column_stack(columns) * W[:, None]
        r = (y - T) * W
        E = np.max(np.abs(r))
        scale = np.max(np.abs(Phi), axis=0)
        if not (np.isfinite(E) and E > 0 and np.all(np.isfinite(Phi)) and np.all(scale > 0)):
            break
        A, b = Phi / scale, r / E
        g = len(group)
        ones = np.ones((X.size, 1))
        res = linprog(
            np.r_[np.zeros(g), 1.0],
            A_ub=np.block([[A, -ones], [-A, -ones]]), b_ub=np.r_[-b, b],
            bounds=[(None, None)] * g + [(0, None)], method="highs",
        )
        if res.status != 0:
            break
        consts[group] += res.x[:g] * E / scale
        trial = best.with_consts(consts)
        err = _max_weighted(trial, X, T, W)
        if not err < best_err:
            break
        best, best_err = trial, err
    return best


def _max_weighted(program: Program, X, T, W) -> float:
    with np.errstate(all="ignore"):
        e = np.max(np.abs(evaluate(program, X) - T) * W)
    return float(e) if np.isfinite(e) else np.inf


# --- rational block -------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _rational_degrees_of(structure: tuple) -> tuple[int, int] | None:
    n_consts, instructions, output = structure
    x = sympy.Symbol("x")
    rng = np.random.default_rng(12345)  # generic constants, the same every time
    values: list = [x] + [sympy.Rational(int(rng.integers(3, 997)), int(rng.integers(3, 991))) for _ in range(n_consts)]
    for op, (a, b, c) in instructions:
        values.append(apply(op, values[a], values[b], values[c], sympy.sqrt))
    expr = values[output]
    if expr.has(sympy.zoo, sympy.nan, sympy.oo) or not expr.is_rational_function(x):
        return None
    num, den = sympy.fraction(sympy.cancel(sympy.together(expr)))
    if num == 0 or den == 0:
        return None
    return int(sympy.degree(num, x)), int(sympy.degree(den, x))


def rational_degrees(program: Program, value: int | None = None) -> tuple[int, int] | None:
    """Degrees (m, n) of a value of the program (default: the output) as a rational function of
    x for generic constants, or None when it is not rational (a square root)."""
    sub = Program(program.consts, program.instructions, program.output if value is None else value).simplified()
    return _rational_degrees_of((len(sub.consts), sub.instructions, sub.output))


def _poly_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Product of polynomials in x (coefficients lowest first, along the last axis)."""
    out = np.zeros(a.shape[:-1] + (a.shape[-1] + b.shape[-1] - 1,))
    for i in range(a.shape[-1]):
        out[..., i:i + b.shape[-1]] += a[..., i:i + 1] * b
    return out


def _poly_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n = max(a.shape[-1], b.shape[-1])
    pad = [(0, 0)] * (a.ndim - 1)
    return np.pad(a, pad + [(0, n - a.shape[-1])]) + np.pad(b, pad + [(0, n - b.shape[-1])])


def _fraction(program: Program, consts: np.ndarray):
    """Numerator and denominator of the output as polynomials in x, with their derivatives in
    the constants: arrays of shape (1 + K, degree + 1), row 0 the values, row 1 + k the
    derivative in c_k (forward mode: each polynomial carries its gradient).

    Common factors are not cancelled (N/D of a sum is (Na Db + Nb Da)/(Da Db)): N Q = D P still
    says the output equals P/Q.  Returns None for an operation that is not rational.
    """
    K = consts.size

    def const(value, k=None):
        poly = np.zeros((1 + K, 1))
        poly[0, 0] = value
        if k is not None:
            poly[1 + k, 0] = 1.0
        return poly

    def mul(a, b):  # product rule on (value, gradient) rows
        out = _poly_mul(a[:1], b[:1])
        grad = _poly_add(_poly_mul(a[1:], np.broadcast_to(b[:1], b[1:].shape)),
                         _poly_mul(np.broadcast_to(a[:1], a[1:].shape), b[1:]))
        return np.vstack([out, grad])

    def add(a, b, sign=1.0):
        return _poly_add(a, sign * b)

    one = const(1.0)
    x = np.zeros((1 + K, 2))
    x[0, 1] = 1.0
    values = [(x, one)] + [(const(c, k), one) for k, c in enumerate(consts)]
    for op, (a, b, c) in program.instructions:
        (na, da), (nb, db), (nc, dc) = values[a], values[b], values[c]
        if op in ("add", "sub"):
            sign = 1.0 if op == "add" else -1.0
            value = (add(mul(na, db), mul(nb, da), sign), mul(da, db))
        elif op == "mul":
            value = (mul(na, nb), mul(da, db))
        elif op == "div":
            value = (mul(na, db), mul(da, nb))
        elif op == "fma":
            value = (add(mul(mul(na, nb), dc), mul(nc, mul(da, db))), mul(mul(da, db), dc))
        elif op == "mul2":
            value = (2.0 * na, da)
        elif op == "half":
            value = (0.5 * na, da)
        else:
            return None
        values.append(value)
    return values[program.output]


def _match_rational(program: Program, P: np.ndarray, Q: np.ndarray, iterations: int = 40) -> Program | None:
    """Constants making the program's output equal P/Q (coefficients lowest first), by
    Gauss-Newton with a line search on the coefficients of N Q - D P; None if it does not get
    there.

    In coefficient space this is well conditioned where matching values on the interval is not
    (monomials are nearly dependent there), so it converges from constants far off.
    """
    c = np.array(program.consts, dtype=float)

    def residual(consts):
        nd = _fraction(program, consts)
        if nd is None:
            return None, None
        N, D = nd
        E = _poly_add(_poly_mul(N, np.broadcast_to(Q, (N.shape[0], Q.size))),
                      -_poly_mul(D, np.broadcast_to(P, (D.shape[0], P.size))))
        return E[0], E[1:].T  # residual per coefficient of x, Jacobian (coefficients, K)

    r, J = residual(c)
    if r is None:
        return None
    for _ in range(iterations):
        if not (np.all(np.isfinite(r)) and np.all(np.isfinite(J))):
            return None
        scale = np.maximum(np.abs(J).max(axis=1), np.abs(r))
        scale = np.where(scale > 0, scale, 1.0)
        norm = np.linalg.norm(r / scale)
        if norm < 1e-15:
            break
        step = np.linalg.lstsq(J / scale[:, None], -r / scale, rcond=None)[0]
        lam, moved = 1.0, False
        while lam > 1e-6:
            trial = c + lam * step
            rt, Jt = residual(trial)
            if np.all(np.isfinite(rt)) and np.linalg.norm(rt / scale) < norm:
                c, r, J, moved = trial, rt, Jt, True
                break
            lam /= 2
        if not moved:
            break
    if not np.all(np.isfinite(c)):
        return None
    return program.with_consts(c)


@lru_cache(maxsize=256)
def _minimax_rational(target: Target, m: int, n: int, squarings: int) -> tuple | None:
    """Coefficients (lowest first) of the minimax rational (m, n) of f^(1/2^k), or None."""
    from discovery.programs.baselines import _remez, _root_target

    g = _root_target(target, squarings) if squarings else target
    try:
        p, q = _remez(g, m, n)
    except (ZeroDivisionError, ValueError, ArithmeticError):
        return None
    return np.array([float(v) for v in p]), np.array([float(v) for v in q])


def rational_start(programs: Sequence[Program], target: Target, max_degree: int = 8) -> list[Program | None]:
    """Per program, constants that make its rational block (the output before its final
    squarings) equal the minimax rational of the target's matching root, or None where the
    program has no such block or cannot represent that rational."""
    X, T = target.tuning
    positive = target.relative and bool(np.all(T > 0))
    out: list[Program | None] = []
    for p in programs:
        k, v = _squarings(p)
        degrees = rational_degrees(p, v) if (positive or not k) and p.consts else None
        coeffs = _minimax_rational(target, *degrees, k) if degrees and max(degrees) <= max_degree else None
        block = Program(p.consts, p.instructions, v)
        fitted = _match_rational(block, *coeffs) if coeffs else None
        if fitted is not None:
            R = np.polyval(coeffs[0][::-1], X) / np.polyval(coeffs[1][::-1], X)
            with np.errstate(all="ignore"):
                gap = np.nanmax(np.abs(evaluate(fitted, X) / R - 1.0))
            fitted = fitted if gap < 1e-9 else None
        out.append(None if fitted is None else p.with_consts(fitted.consts))
    return out


def project(
    programs: Sequence[Program], target: Target, outer: int = 30, rational: bool = True,
    tuned: Sequence[tuple[Program, float]] | None = None,
) -> list[tuple[Program, float]]:
    """Tune programs with their exactly solvable constants solved (see the module docstring).

    Parameters
    ----------
    programs : sequence of Program
    target : Target
    outer : int
        Lawson reweightings of the polishing minimax fits.
    rational : bool
        Also try the rational-block start (sympy and Remez: slower, for the front and promising
        children).
    tuned : sequence of (Program, float), optional
        What :func:`~discovery.programs.tuning.tune_minimax` already made of the programs (it is
        not run again).

    Returns
    -------
    list of (Program, float)
        Per program, the best constants found and their max error on the training grid.
    """
    programs = list(programs)
    if not programs:
        return []
    best = list(tuned) if tuned is not None else tune_minimax(programs, target, outer=outer)
    if rational:
        starts = rational_start(programs, target)
        todo = [(i, s) for i, s in enumerate(starts) if s is not None]
        if todo:
            polished = tune_minimax([s for _, s in todo], target, outer=outer)
            for (i, _), (q, e) in zip(todo, polished):
                if e < best[i][1]:
                    best[i] = (q, e)
    Xt, Tt = target.training
    solved = [solve_linear(p, target, Xt, Tt) for p, _ in best]
    errors = population_errors(solved, Xt, Tt, target.relative)
    return [(s, float(e)) if e < b[1] else b for s, e, b in zip(solved, errors, best)]
