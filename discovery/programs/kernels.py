"""Numba interpreter for populations of straight-line programs over a grid of points.

A population is packed into arrays: ``ops`` (P × L op codes, -1 for padding), ``args``
(P × L × 3 operand indices) and ``consts`` (P × K), over a common value table
``[x, c_0 .. c_{K-1}, r_0 .. r_{L-1}]``.  The interpreter runs one instruction at a time over all
points (the inner loop is over points, so it vectorizes) and computes each program's maximum
error against the target in the same pass.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numba
import numpy as np

from discovery.programs.graph import ARITY, OP_CODE, Program

_ADD, _SUB, _MUL, _DIV, _SQRT, _FMA, _MUL2, _HALF = (OP_CODE[k] for k in ("add", "sub", "mul", "div", "sqrt", "fma", "mul2", "half"))


class Packed(NamedTuple):
    """A population packed for the kernels."""

    ops: np.ndarray
    args: np.ndarray
    consts: np.ndarray
    out: np.ndarray


def pack(programs: Sequence[Program]) -> Packed:
    """Pack programs over a common value table (constants first, then results)."""
    programs = list(programs)
    if not programs:
        raise ValueError("no programs to pack")
    K = max(len(p.consts) for p in programs)
    L = max(1, max(len(p.instructions) for p in programs))
    ops = np.full((len(programs), L), -1, dtype=np.int8)
    args = np.zeros((len(programs), L, 3), dtype=np.int32)
    consts = np.zeros((len(programs), K), dtype=np.float64)
    out = np.zeros(len(programs), dtype=np.int32)
    for i, p in enumerate(programs):
        k = len(p.consts)
        shift = K - k  # results move up by the padding of the constants

        def remap(v, k=k, shift=shift):
            return v if v <= k else v + shift

        consts[i, :k] = p.consts
        for t, (op, a) in enumerate(p.instructions):
            ops[i, t] = OP_CODE[op]
            args[i, t] = [remap(a[j]) if j < ARITY[op] else 0 for j in range(3)]
        out[i] = remap(p.output)
    return Packed(ops, args, consts, out)


@numba.njit(cache=True, error_model="numpy")
def _run(ops, args, consts, X, vals):
    # vals: (1 + K + L, m) scratch; fills it and leaves every value of the program there.
    m = X.size
    K = consts.size
    for i in range(m):
        vals[0, i] = X[i]
    for k in range(K):
        c = consts[k]
        for i in range(m):
            vals[1 + k, i] = c
    for t in range(ops.size):
        op = ops[t]
        if op < 0:
            continue
        r = vals[1 + K + t]
        a = vals[args[t, 0]]
        b = vals[args[t, 1]]
        if op == _ADD:
            for i in range(m):
                r[i] = a[i] + b[i]
        elif op == _SUB:
            for i in range(m):
                r[i] = a[i] - b[i]
        elif op == _MUL:
            for i in range(m):
                r[i] = a[i] * b[i]
        elif op == _DIV:
            for i in range(m):
                r[i] = a[i] / b[i]
        elif op == _SQRT:
            for i in range(m):
                r[i] = np.sqrt(a[i])
        elif op == _FMA:
            c3 = vals[args[t, 2]]
            for i in range(m):
                r[i] = a[i] * b[i] + c3[i]
        elif op == _MUL2:
            for i in range(m):
                r[i] = 2.0 * a[i]
        else:
            for i in range(m):
                r[i] = 0.5 * a[i]


@numba.njit(cache=True)
def _max_error(y, T, W):
    # Branch-free so it vectorizes; a NaN anywhere makes the error infinite.
    worst = 0.0
    nan = False
    for i in range(y.size):
        e = abs(y[i] - T[i]) * W[i]
        nan |= e != e
        worst = e if e > worst else worst
    return np.inf if nan else worst


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _population_errors(ops, args, consts, out, X, T, W, errors):
    P = ops.shape[0]
    rows = 1 + consts.shape[1] + ops.shape[1]
    chunk = 16
    for start in numba.prange((P + chunk - 1) // chunk):
        vals = np.empty((rows, X.size))
        for i in range(start * chunk, min(P, (start + 1) * chunk)):
            _run(ops[i], args[i], consts[i], X, vals)
            errors[i] = _max_error(vals[out[i]], T, W)


def population_errors(programs, X: np.ndarray, T: np.ndarray, relative: bool = True) -> np.ndarray:
    """Maximum error of every program over the points X against target values T.

    Parameters
    ----------
    programs : sequence of Program or Packed
    X, T : ndarray of float64
        Points and exact target values.
    relative : bool
        Relative error |y - t| / |t| (else absolute).

    Returns
    -------
    ndarray of float64
        One maximum error per program; inf where a value is NaN or infinite.
    """
    packed = programs if isinstance(programs, Packed) else pack(programs)
    X = np.ascontiguousarray(X, dtype=np.float64)
    T = np.ascontiguousarray(T, dtype=np.float64)
    if X.shape != T.shape or X.ndim != 1:
        raise ValueError(f"X and T must be 1-D arrays of one length, got {X.shape} and {T.shape}")
    if relative and np.any(T == 0):
        raise ValueError("relative error needs a target without zeros on the points")
    W = 1.0 / np.abs(T) if relative else np.ones_like(T)
    errors = np.empty(len(packed.ops))
    _population_errors(packed.ops, packed.args, packed.consts, packed.out, X, T, W, errors)
    return errors


def evaluate(program: Program, X: np.ndarray) -> np.ndarray:
    """Values of one program at the points X (float64, through the interpreter)."""
    packed = pack([program])
    X = np.ascontiguousarray(X, dtype=np.float64)
    vals = np.empty((1 + packed.consts.shape[1] + packed.ops.shape[1], X.size))
    _run(packed.ops[0], packed.args[0], packed.consts[0], X, vals)
    return vals[packed.out[0]].copy()
