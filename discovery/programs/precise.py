"""Errors of programs measured beyond float64 rounding, and constants tuned against them.

A float64 run of a ten-operation program with squarings carries rounding errors of a few times
1e-16, amplified by every squaring, so below ~1e-14 the training error the search sees is as
much rounding as formula: two programs cannot be ranked and a tuner stalls in the noise.  Here
programs run in double-double arithmetic (an unevaluated sum hi + lo of two float64 numbers,
about 32 significant digits: Dekker's and Knuth's error-free sums and products), against target
values held as double-doubles, so the error measured is the formula's own, as
:func:`discovery.programs.verify.max_error` measures it in mpmath, thousands of times faster.

Where a value is not finite the operation falls back to its float64 meaning (c/0 is an
infinity, d/inf is 0), as in the float64 kernels.
"""

from __future__ import annotations

from functools import lru_cache

import mpmath
import numba
import numpy as np

from discovery.programs.graph import Program
from discovery.programs.kernels import Packed, scalar_op, pack
from discovery.programs.ops import ADD, DIV, FMA, MUL, MUL2, OPERATIONS, SQRT, SUB
from discovery.programs.targets import Target
from discovery.programs.projection import chebyshev_step
from discovery.programs.tuning import value_and_jacobian

_ARITY = np.array([op.arity for op in OPERATIONS], dtype=np.int8)
_SPLITTER = 134217729.0  # 2^27 + 1


@numba.njit(cache=True, inline="always")
def _two_sum(a, b):
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


@numba.njit(cache=True, inline="always")
def _fast_two_sum(a, b):
    s = a + b
    return s, b - (s - a)


@numba.njit(cache=True, inline="always")
def _two_prod(a, b):
    p = a * b
    t = _SPLITTER * a
    ah = t - (t - a)
    al = a - ah
    t = _SPLITTER * b
    bh = t - (t - b)
    bl = b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@numba.njit(cache=True, inline="always")
def _dd_add(ah, al, bh, bl):
    s, e = _two_sum(ah, bh)
    t, f = _two_sum(al, bl)
    e += t
    s, e = _fast_two_sum(s, e)
    e += f
    return _fast_two_sum(s, e)


@numba.njit(cache=True, inline="always")
def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    e += ah * bl + al * bh
    return _fast_two_sum(p, e)


@numba.njit(cache=True, inline="always")
def _dd_div(ah, al, bh, bl):
    q1 = ah / bh
    ph, pl = _dd_mul(bh, bl, q1, 0.0)
    rh, rl = _dd_add(ah, al, -ph, -pl)
    q2 = rh / bh
    ph, pl = _dd_mul(bh, bl, q2, 0.0)
    rh, rl = _dd_add(rh, rl, -ph, -pl)
    q3 = rh / bh
    q1, q2 = _fast_two_sum(q1, q2)
    return _dd_add(q1, q2, q3, 0.0)


@numba.njit(cache=True, inline="always")
def _dd_sqrt(ah, al):
    if ah <= 0.0:
        return np.sqrt(ah), 0.0
    s = np.sqrt(ah)
    p, e = _two_prod(s, s)
    return _fast_two_sum(s, ((ah - p) - e + al) / (2.0 * s))


@numba.njit(cache=True, error_model="numpy")
def _dd_op(op, ah, al, bh, bl, ch, cl):
    plain = scalar_op(op, ah, bh, ch)
    if not (np.isfinite(plain) and np.isfinite(ah) and np.isfinite(bh) and np.isfinite(ch)):
        return plain, 0.0
    if op == ADD:
        h, lo = _dd_add(ah, al, bh, bl)
    elif op == SUB:
        h, lo = _dd_add(ah, al, -bh, -bl)
    elif op == MUL:
        h, lo = _dd_mul(ah, al, bh, bl)
    elif op == DIV:
        h, lo = _dd_div(ah, al, bh, bl)
    elif op == SQRT:
        h, lo = _dd_sqrt(ah, al)
    elif op == FMA:
        ph, pl = _dd_mul(ah, al, bh, bl)
        h, lo = _dd_add(ph, pl, ch, cl)
    elif op == MUL2:
        h, lo = 2.0 * ah, 2.0 * al
    else:
        h, lo = 0.5 * ah, 0.5 * al
    if not np.isfinite(h):
        return plain, 0.0
    return h, lo


@numba.njit(cache=True, error_model="numpy")
def _run_dd(ops, args, consts, out, X, hi_out, lo_out):
    K = consts.size
    base = 1 + K
    hi = np.zeros(base + ops.size)
    lo = np.zeros(base + ops.size)
    for k in range(K):
        hi[1 + k] = consts[k]
    for i in range(X.size):
        hi[0] = X[i]
        for t in range(ops.size):
            if ops[t] < 0:
                continue
            a, b, c = args[t, 0], args[t, 1], args[t, 2]
            hi[base + t], lo[base + t] = _dd_op(ops[t], hi[a], lo[a], hi[b], lo[b], hi[c], lo[c])
        hi_out[i] = hi[out]
        lo_out[i] = lo[out]


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _population_errors_dd(ops, args, consts, out, X, T_hi, T_lo, W, errors):
    for p in numba.prange(ops.shape[0]):
        hi = np.empty(X.size)
        lo = np.empty(X.size)
        _run_dd(ops[p], args[p], consts[p], out[p], X, hi, lo)
        worst = 0.0
        for i in range(X.size):
            dh, dl = _dd_add(hi[i], lo[i], -T_hi[i], -T_lo[i])
            e = abs(dh + dl) * W[i] if np.isfinite(hi[i]) else np.inf
            if e != e:
                e = np.inf
            worst = e if e > worst else worst
        errors[p] = worst


def evaluate_dd(program: Program, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of one program at the points X in double-double arithmetic: arrays (hi, lo)
    whose sum is the value to about 32 digits (where every intermediate value is finite)."""
    packed = pack([program])
    X = np.ascontiguousarray(X, dtype=np.float64)
    hi, lo = np.empty(X.size), np.empty(X.size)
    _run_dd(packed.ops[0], packed.args[0], packed.consts[0], packed.out[0], X, hi, lo)
    return hi, lo


@lru_cache(maxsize=64)
def precise_values(target: Target, points: tuple[float, ...] | None = None) -> tuple[np.ndarray, ...]:
    """The training grid (or the given points) with the target's values as double-doubles:
    (X, T_hi, T_lo), from 40-digit evaluations."""
    X = target.training[0] if points is None else np.array(points)
    with mpmath.workdps(40):
        exact = [target.mp(mpmath.mpf(float(x))) for x in X]
        T_hi = np.array([float(t) for t in exact])
        T_lo = np.array([float(t - mpmath.mpf(h)) for t, h in zip(exact, T_hi)])
    return X, T_hi, T_lo


def precise_errors(programs, target: Target) -> np.ndarray:
    """Maximum error of every program over the target's training grid, run in double-double
    arithmetic against double-double target values (relative or absolute as the target says):
    the formula's error, free of float64 rounding down to ~1e-30.

    Returns
    -------
    ndarray of float64
        One maximum error per program; inf where a value is NaN or infinite.
    """
    packed = programs if isinstance(programs, Packed) else pack(programs)
    X, T_hi, T_lo = precise_values(target)
    W = 1.0 / np.abs(T_hi) if target.relative else np.ones_like(T_hi)
    errors = np.empty(len(packed.ops))
    _population_errors_dd(packed.ops, packed.args, packed.consts, packed.out, X, T_hi, T_lo, W, errors)
    return errors


def polish_precise(program: Program, target: Target, iterations: int = 12) -> tuple[Program, float]:
    """Constants of the program tuned against its double-double error (:func:`precise_errors`),
    for programs whose error is small enough that float64 tuning only sees rounding.

    Each step linearises the error in all constants (float64 Jacobian, double-double residual)
    and solves the linear minimax problem for a correction in a trust region (a linear program,
    HiGHS), then halves the step until the precise error drops; the region shrinks when no step
    helps.

    Returns
    -------
    (Program, float)
        The best constants found and their precise maximum error on the training grid.
    """
    X, T_hi, T_lo = precise_values(target)
    W = 1.0 / np.abs(T_hi) if target.relative else np.ones_like(T_hi)
    best, best_err = program, float(precise_errors([program], target)[0])
    if not np.isfinite(best_err) or not program.consts:
        return best, best_err
    radius = 1.0
    for _ in range(iterations):
        hi, lo = evaluate_dd(best, X)
        r = ((hi - T_hi) + (lo - T_lo)) * W
        with np.errstate(all="ignore"):
            _, J = value_and_jacobian(best, X)
        A = J * W[:, None]
        E = np.max(np.abs(r))
        # Where the program passes through an infinity (c/x at x = 0) its derivatives are not
        # finite; the step is chosen on the other points, and judged on all.
        rows = np.all(np.isfinite(A), axis=1) & np.isfinite(r)
        A, rr = A[rows], r[rows]
        if not (np.isfinite(E) and E > 0 and rows.sum() > A.shape[1]):
            break
        scale = np.max(np.abs(A), axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        delta = chebyshev_step(A / scale, rr / E, radius)
        if delta is None:
            break
        step = delta * E / scale
        lam, moved = 1.0, False
        while lam > 1e-3:
            moved_to = np.array(best.consts) + lam * step
            if not np.all(np.isfinite(moved_to)):
                lam /= 2
                continue
            trial = best.with_consts(moved_to)
            err = float(precise_errors([trial], target)[0])
            if err < best_err:
                best, best_err, moved = trial, err, True
                break
            lam /= 2
        if not moved:
            radius /= 8
            if radius < 1e-9:
                break
        elif lam == 1.0 and np.max(np.abs(delta)) > 0.99 * radius:
            radius *= 4  # the full step reached the region's edge and helped: a longer one may too
    return best, best_err
