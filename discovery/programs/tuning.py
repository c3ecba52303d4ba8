"""Tuning the constants of programs: minimax by Lawson + Levenberg-Marquardt, and CMA-ES.

:func:`tune_minimax` is the sharp tuner.  A numba kernel evaluates a program together with the
derivatives of its output with respect to every constant (forward mode: each value carries its
gradient), which gives exact Jacobians for Levenberg-Marquardt steps on a weighted least-squares
problem; Lawson's rule then reweights the points by their error (w <- w |e|), which drives the
fit towards equal ripple, the minimax solution.  It runs in parallel over a population.

:func:`tune_many` is derivative-free: one CMA-ES (``cma``) per program on log10 of the max error,
with early stopping, all strategies evaluated in lockstep through the interpreter.  It copes with
what breaks least squares (poles inside the interval, flat directions).
"""

from __future__ import annotations

from typing import Sequence

import cma
import numba
import numpy as np

from discovery.programs.graph import Program
from discovery.programs.kernels import pack, population_errors
from discovery.programs.ops import ADD, DIV, FMA, MUL, MUL2, SQRT, SUB
from discovery.programs.targets import Target

WORST_LOG_ERROR = 10.0  # log10 error given to programs that fail (NaN, inf, huge)
_CMA_LARGEST = 1e150  # constants beyond it are not tuned by CMA-ES (its samples would overflow)


def log_errors(errors: np.ndarray) -> np.ndarray:
    """log10 of errors, with failures (NaN, inf, > 1e10) mapped to the worst value 10 and an
    exact program (error 0) to -300."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(np.where(np.asarray(errors) == 0, 1e-300, errors))
    return np.where(np.isfinite(out), np.minimum(out, WORST_LOG_ERROR), WORST_LOG_ERROR)


# --- forward-mode interpreter ---------------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def _run_grad(ops, args, consts, X, vals, grads):
    # vals (rows, m): every value of the value-table form; grads (rows, K, m): d value / d constant.
    m = X.size
    K = consts.size
    grads[:] = 0.0
    for i in range(m):
        vals[0, i] = X[i]
    for k in range(K):
        for i in range(m):
            vals[1 + k, i] = consts[k]
            grads[1 + k, k, i] = 1.0
    for t in range(ops.size):
        op = ops[t]
        if op < 0:
            continue
        o = 1 + K + t
        ia, ib, ic = args[t, 0], args[t, 1], args[t, 2]
        r, a, b, c = vals[o], vals[ia], vals[ib], vals[ic]
        if op == ADD:
            for i in range(m):
                r[i] = a[i] + b[i]
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = grads[ia, k, i] + grads[ib, k, i]
        elif op == SUB:
            for i in range(m):
                r[i] = a[i] - b[i]
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = grads[ia, k, i] - grads[ib, k, i]
        elif op == MUL:
            for i in range(m):
                r[i] = a[i] * b[i]
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = grads[ia, k, i] * b[i] + a[i] * grads[ib, k, i]
        elif op == DIV:
            for i in range(m):
                r[i] = a[i] / b[i]
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = (grads[ia, k, i] - r[i] * grads[ib, k, i]) / b[i]
        elif op == SQRT:
            for i in range(m):
                r[i] = np.sqrt(a[i])
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = 0.5 * grads[ia, k, i] / r[i]
        elif op == FMA:
            for i in range(m):
                r[i] = a[i] * b[i] + c[i]
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = grads[ia, k, i] * b[i] + a[i] * grads[ib, k, i] + grads[ic, k, i]
        elif op == MUL2:
            for i in range(m):
                r[i] = 2.0 * a[i]
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = 2.0 * grads[ia, k, i]
        else:
            for i in range(m):
                r[i] = 0.5 * a[i]
            for k in range(K):
                for i in range(m):
                    grads[o, k, i] = 0.5 * grads[ia, k, i]


def value_and_jacobian(program: Program, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of a program at X and their derivatives with respect to its constants.

    Returns
    -------
    y : ndarray, shape (m,)
    J : ndarray, shape (m, K)
        ``J[i, k]`` is d y_i / d c_k.
    """
    packed = pack([program])
    X = np.ascontiguousarray(X, dtype=np.float64)
    rows = 1 + packed.consts.shape[1] + packed.ops.shape[1]
    vals = np.empty((rows, X.size))
    grads = np.empty((rows, packed.consts.shape[1], X.size))
    _run_grad(packed.ops[0], packed.args[0], packed.consts[0], X, vals, grads)
    K = len(program.consts)
    return vals[packed.out[0]].copy(), grads[packed.out[0], :K].T.copy()


# --- Lawson + Levenberg-Marquardt -----------------------------------------------------------
@numba.njit(cache=True, error_model="numpy")
def _weighted_cost(y, T, S, w):
    # sum w r^2 and max |r| with r = (y - T) S; NaN-safe (a NaN makes both infinite).
    cost = 0.0
    worst = 0.0
    for i in range(y.size):
        r = (y[i] - T[i]) * S[i]
        if not np.isfinite(r):
            return np.inf, np.inf
        cost += w[i] * r * r
        a = abs(r)
        worst = a if a > worst else worst
    return cost, worst


@numba.njit(cache=True, error_model="numpy")
def _lawson_lm(ops, args, c0, n_consts, out, X, T, S, outer, inner, vals, grads):
    # Returns (best constants, best max error on X).
    K = c0.size
    m = X.size
    c = c0.copy()
    w = np.full(m, 1.0 / m)
    best_c = c0.copy()
    _run_grad(ops, args, c, X, vals, grads)
    cost, best = _weighted_cost(vals[out], T, S, w)
    if not np.isfinite(best):
        return best_c, np.inf
    mu = 1e-3
    r = np.empty(m)
    wi = np.empty(m)
    J = np.empty((n_consts, m))
    A = np.empty((n_consts, n_consts))
    g = np.empty(n_consts)
    trial = np.empty(K)
    for _ in range(outer):
        for _ in range(inner):
            # Normal equations of the weighted problem, at the current point (vals/grads fresh).
            # Weighted residuals and Jacobian rows; a point whose derivatives are not finite (a
            # removable singularity such as c/0 = inf feeding d/inf) sits this step out.
            y = vals[out]
            for i in range(m):
                r[i] = (y[i] - T[i]) * S[i]
                ok = np.isfinite(r[i])
                for p in range(n_consts):
                    ok &= np.isfinite(grads[out, p, i])
                wi[i] = w[i] if ok else 0.0
                for p in range(n_consts):
                    J[p, i] = grads[out, p, i] * S[i] if ok else 0.0
                if not ok:
                    r[i] = 0.0
            for p in range(n_consts):
                gp = 0.0
                for i in range(m):
                    gp += wi[i] * J[p, i] * r[i]
                g[p] = gp
                for q in range(p + 1):
                    s = 0.0
                    for i in range(m):
                        s += wi[i] * J[p, i] * J[q, i]
                    A[p, q] = s
                    A[q, p] = s
            if not (np.all(np.isfinite(A)) and np.all(np.isfinite(g))):
                return best_c, best
            accepted = False
            for _ in range(8):
                M = A.copy()
                for p in range(n_consts):
                    M[p, p] += mu * A[p, p] + 1e-300
                try:
                    delta = np.linalg.solve(M, -g)
                except Exception:  # noqa: BLE001 - numba raises a generic error on singular M
                    mu *= 4.0
                    continue
                trial[:] = c
                trial[:n_consts] += delta
                _run_grad(ops, args, trial, X, vals, grads)
                new_cost, worst = _weighted_cost(vals[out], T, S, w)
                if new_cost < cost:
                    c[:] = trial
                    cost = new_cost
                    mu = max(mu / 3.0, 1e-12)
                    accepted = True
                    break
                mu *= 4.0
            if not accepted:
                _run_grad(ops, args, c, X, vals, grads)  # back to the current point
                break
        y = vals[out]
        total = 0.0
        worst = 0.0
        for i in range(m):
            e = abs((y[i] - T[i]) * S[i])
            worst = e if e > worst else worst
            w[i] *= e
            total += w[i]
        if worst < best:
            best = worst
            best_c[:] = c
        if not total > 0.0:
            break
        for i in range(m):
            w[i] /= total
        cost, _ = _weighted_cost(y, T, S, w)
    return best_c, best


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _lawson_population(ops, args, consts, n_consts, out, X, T, S, outer, inner, best_c, best_err):
    # T, S: (P, m), each program's own target values and error scales.
    P = ops.shape[0]
    rows = 1 + consts.shape[1] + ops.shape[1]
    for i in numba.prange(P):
        vals = np.empty((rows, X.size))
        grads = np.empty((rows, consts.shape[1], X.size))
        c, e = _lawson_lm(ops[i], args[i], consts[i], n_consts[i], out[i], X, T[i], S[i], outer, inner, vals, grads)
        best_c[i] = c
        best_err[i] = e


def output_squarings(p: Program) -> tuple[int, int]:
    """The squarings at a program's output.

    Returns
    -------
    k, v : int
        The output is value v squared k times (k = 0: no squaring at the output, v the output).
    """
    base = 1 + len(p.consts)
    k, v = 0, p.output
    while v >= base:
        op, (a, b, _) = p.instructions[v - base]
        if op != "mul" or a != b:
            break
        k, v = k + 1, a
    return k, v


def _lawson_batch(programs: list, X, T, S, outer: int, inner: int) -> list:
    """The programs with the constants Lawson-LM found (unchanged where they went non-finite).

    T and S are the target values and error scales, one row for all programs or one per program.
    """
    packed = pack(programs)
    n_consts = np.array([len(p.consts) for p in programs], dtype=np.int64)
    shape = (len(programs), X.size)
    T = np.ascontiguousarray(np.broadcast_to(T, shape))
    S = np.ascontiguousarray(np.broadcast_to(S, shape))
    best_c = np.empty_like(packed.consts)
    best_err = np.empty(len(programs))
    _lawson_population(packed.ops, packed.args, packed.consts, n_consts, packed.out, X, T, S,
                       outer, inner, best_c, best_err)
    return [p.with_consts(best_c[i, :len(p.consts)]) if np.all(np.isfinite(best_c[i, :len(p.consts)])) else p
            for i, p in enumerate(programs)]


def tune_minimax(
    programs: Sequence[Program], target: Target, outer: int = 30, inner: int = 4, grid: str = "tuning"
) -> list[tuple[Program, float]]:
    """Minimax constants for several programs at once (Lawson's reweighting around
    Levenberg-Marquardt steps with exact Jacobians), in parallel.

    A program whose output is a value v squared k times (f = v^(2^k)) also gets a second start:
    v is first fitted alone to f^(1/2^k) (for a positive target), which is where its constants
    must go after a squaring was added; the whole program is then fitted from there as well as
    from the inherited constants, and the better result is kept.

    Parameters
    ----------
    programs : sequence of Program
    target : Target
    outer : int
        Lawson reweightings.
    inner : int
        Levenberg-Marquardt steps between reweightings.
    grid : {"tuning", "training"}
        The points fitted: the 257-point tuning grid (fast) or the 1024-point training grid.

    Returns
    -------
    list of (Program, float)
        Per program, the best of the tuned and the original constants and its max error on the
        training grid.
    """
    programs = list(programs)
    if not programs:
        return []
    if grid not in ("tuning", "training"):
        raise ValueError(f"grid must be 'tuning' or 'training', got {grid!r}")
    X, T = target.tuning if grid == "tuning" else target.training
    S = 1.0 / np.abs(T) if target.relative else np.ones_like(T)
    starts = list(programs)
    owner = list(range(len(programs)))
    if target.relative and np.all(T > 0):
        squared = [(i, *output_squarings(p)) for i, p in enumerate(programs)]
        squared = [(i, k, v) for i, k, v in squared if k and programs[i].consts]
        if squared:
            inner_values = [Program(programs[i].consts, programs[i].instructions, v) for i, _, v in squared]
            roots = T[None, :] ** (0.5 ** np.array([k for _, k, _ in squared]))[:, None]
            fitted = _lawson_batch(inner_values, X, roots, 1.0 / roots, outer, inner)
            starts += [programs[i].with_consts(q.consts) for (i, _, _), q in zip(squared, fitted)]
            owner += [i for i, _, _ in squared]
    candidates = _lawson_batch(starts, X, T, S, outer, inner)
    Xt, Tt = target.training
    errors = population_errors(programs + candidates, Xt, Tt, target.relative)
    best = [(p, float(e)) for p, e in zip(programs, errors)]
    for i, c, e in zip(owner, candidates, errors[len(programs):]):
        if e < best[i][1]:
            best[i] = (c, float(e))
    return best


# --- CMA-ES ---------------------------------------------------------------------------------
def tune_many(
    programs: Sequence[Program], target: Target, max_evals: int = 300, seed: int = 0
) -> list[tuple[Program, float]]:
    """Tune the constants of several programs with CMA-ES on the minimax objective, in lockstep.

    Every program gets its own CMA-ES (log10 of the training max error, early stopping on
    stagnation); each round the candidates of all still-running strategies are evaluated in one
    parallel interpreter call.  Returns, per program, the best of the tuned and original constants
    and its training error.
    """
    X, T = target.training
    start = population_errors(pack(programs), X, T, target.relative)
    best = [(p, float(e)) for p, e in zip(programs, start)]
    runs = {}
    for i, p in enumerate(programs):
        x0 = np.array(p.consts)
        # CMA-ES samples around each constant at its own scale: near the float range's end the
        # samples overflow and its own updates fail (the program is kept as it is).
        if not p.consts or np.max(np.abs(x0)) > _CMA_LARGEST:
            continue
        opts = {
            "CMA_stds": np.maximum(np.abs(x0), 1e-3), "popsize": 10, "maxfevals": max_evals,
            "tolfun": 1e-7, "tolx": 1e-14, "tolstagnation": 40, "verbose": -9, "seed": seed + i + 1,
        }
        runs[i] = cma.CMAEvolutionStrategy(x0, 0.05, opts)
    while runs:
        asked = {i: es.ask() for i, es in runs.items()}
        # A sample beyond the float range (from constants near it) is scored as infinitely bad.
        finite = np.array([np.all(np.isfinite(c)) for cands in asked.values() for c in cands])
        variants = [programs[i].with_consts(c if np.all(np.isfinite(c)) else programs[i].consts)
                    for i, cands in asked.items() for c in cands]
        errs = np.where(finite, population_errors(pack(variants), X, T, target.relative), np.inf)
        pos = 0
        for i, cands in asked.items():
            e = errs[pos:pos + len(cands)]
            runs[i].tell(cands, log_errors(e).tolist())
            j = int(np.argmin(e))
            if e[j] < best[i][1]:
                best[i] = (variants[pos + j], float(e[j]))
            pos += len(cands)
        runs = {i: es for i, es in runs.items() if not es.stop()}
    return best


def tune_constants(
    program: Program, target: Target, max_evals: int = 3000, seed: int = 0
) -> tuple[Program, float]:
    """Tune one program's constants: CMA-ES (see :func:`tune_many`), then :func:`tune_minimax`."""
    tuned, _ = tune_many([program], target, max_evals, seed)[0]
    return tune_minimax([tuned], target, grid="training")[0]
