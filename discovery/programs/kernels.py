"""Numba interpreter for populations of straight-line programs over a grid of points.

A population is packed into arrays twice.  The value-table form (``ops``, ``args``, ``consts``,
``out``) numbers every value ``[x, c_0 .. c_{K-1}, r_0 .. r_{L-1}]`` as the program does, for
kernels that need every value (derivatives, float32 runs).  The register form is what the
population interpreter runs: values that do not depend on x are scalars computed once, and the
x-dependent ones live in a few point-arrays ("slots") reused as soon as a value is dead, so the
working set stays in cache and constants are never broadcast over the grid.  The interpreter runs
one instruction at a time over all points (the inner loop is over points, so it vectorizes) and
computes each program's maximum error against the target in the same pass.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numba
import numpy as np

from discovery.programs.graph import Program
from discovery.programs.ops import ADD, ARITY, CODE, DIV, FMA, MUL, MUL2, SQRT, SUB


# Register-form instruction kinds: a scalar (constant-only) result; array op array; array op
# scalar; scalar op array; a unary op of an array; fma with any mix (bit k set: operand k scalar).
_SCALAR, _AA, _AS, _SA, _A, _FMA_MIX = 0, 1, 2, 3, 4, 5


class Packed(NamedTuple):
    """A population packed for the kernels (see the module docstring for the two forms)."""

    ops: np.ndarray
    args: np.ndarray
    consts: np.ndarray
    out: np.ndarray
    kind: np.ndarray
    dst: np.ndarray
    operands: np.ndarray
    mix: np.ndarray
    out_slot: np.ndarray
    n_slots: int


def _registers(p: Program, L: int, K_pad: int):
    """Register form of one program: per instruction (kind, dst, operands, fma mix), the output
    (slot, or -1 - scalar index) and the number of slots used.  Scalars are the constants
    (0..K-1) and the constant-only results (K_pad + t)."""
    K = len(p.consts)
    n = 1 + K + len(p.instructions)
    live = p.live()
    dep = p.depends_on_x()
    kind = np.full(L, -1, dtype=np.int8)
    dst = np.zeros(L, dtype=np.int32)
    operands = np.zeros((L, 3), dtype=np.int32)
    mix = np.zeros(L, dtype=np.int8)
    last_use = np.full(n, -1)
    for t, (op, a) in enumerate(p.instructions):
        if live[1 + K + t]:
            for v in a[: ARITY[op]]:
                last_use[v] = t
    last_use[p.output] = L  # the output outlives the program
    where = np.zeros(n, dtype=np.int64)  # slot (array value) or scalar index
    where[1:1 + K] = np.arange(K)
    free, n_slots = [], 1  # slot 0 holds x for the whole run
    for t, (op, a) in enumerate(p.instructions):
        v = 1 + K + t
        if not live[v]:
            continue
        arity = ARITY[op]
        scal = [not dep[a[j]] for j in range(arity)]
        operands[t, :arity] = [where[a[j]] for j in range(arity)]
        if not dep[v]:
            kind[t], dst[t] = _SCALAR, K_pad + t
            where[v] = K_pad + t
            continue
        if op == "fma":
            kind[t] = _FMA_MIX
            mix[t] = sum(1 << j for j in range(3) if scal[j])
        elif arity == 1:
            kind[t] = _A
        else:
            kind[t] = _AA if not any(scal) else (_AS if scal[1] else _SA)
        if free:
            slot = min(free)
            free.remove(slot)
        else:
            slot, n_slots = n_slots, n_slots + 1
        dst[t] = slot
        where[v] = slot
        # Operands dying here free their slots only now: a result never overwrites its own
        # operand, since aliased arrays would stop the compiler from vectorizing the loop.
        for j in range(arity):
            u = a[j]
            if dep[u] and u != 0 and last_use[u] == t and where[u] not in free:
                free.append(int(where[u]))
    out_slot = int(where[p.output]) if dep[p.output] else -1 - int(where[p.output])
    return kind, dst, operands, mix, out_slot, n_slots


def pack(programs: Sequence[Program]) -> Packed:
    """Pack programs into the value-table and the register forms."""
    programs = list(programs)
    if not programs:
        raise ValueError("no programs to pack")
    P = len(programs)
    K = max(len(p.consts) for p in programs)
    L = max(1, max(len(p.instructions) for p in programs))
    ops = np.full((P, L), -1, dtype=np.int8)
    args = np.zeros((P, L, 3), dtype=np.int32)
    consts = np.zeros((P, K), dtype=np.float64)
    out = np.zeros(P, dtype=np.int32)
    kind = np.full((P, L), -1, dtype=np.int8)
    dst = np.zeros((P, L), dtype=np.int32)
    operands = np.zeros((P, L, 3), dtype=np.int32)
    mix = np.zeros((P, L), dtype=np.int8)
    out_slot = np.zeros(P, dtype=np.int32)
    n_slots = 1
    for i, p in enumerate(programs):
        k = len(p.consts)
        shift = K - k  # results move up by the padding of the constants

        def remap(v, k=k, shift=shift):
            return v if v <= k else v + shift

        consts[i, :k] = p.consts
        for t, (op, a) in enumerate(p.instructions):
            ops[i, t] = CODE[op]
            args[i, t] = [remap(a[j]) if j < ARITY[op] else 0 for j in range(3)]
        out[i] = remap(p.output)
        kind[i], dst[i], operands[i], mix[i], out_slot[i], used = _registers(p, L, K)
        n_slots = max(n_slots, used)
    return Packed(ops, args, consts, out, kind, dst, operands, mix, out_slot, n_slots)


@numba.njit(cache=True, error_model="numpy")
def scalar_op(op, a, b, c):
    """One operation, by its integer code (:data:`discovery.programs.ops.CODE`), on float
    scalars; the third operand is read by ``fma`` only."""
    if op == ADD:
        return a + b
    if op == SUB:
        return a - b
    if op == MUL:
        return a * b
    if op == DIV:
        return a / b
    if op == SQRT:
        return np.sqrt(a)
    if op == FMA:
        return a * b + c
    if op == MUL2:
        return 2.0 * a
    return 0.5 * a


@numba.njit(cache=True, error_model="numpy")
def _run_registers(kind, ops, dst, operands, mix, consts, slots, scal):
    # slots (n_slots, m): slot 0 holds x (filled by the caller); scal: constants, then
    # constant-only results.
    m = slots.shape[1]
    for k in range(consts.size):
        scal[k] = consts[k]
    for t in range(kind.size):
        kd = kind[t]
        if kd < 0:
            continue
        op = ops[t]
        ia, ib, ic = operands[t, 0], operands[t, 1], operands[t, 2]
        if kd == _SCALAR:
            scal[dst[t]] = scalar_op(op, scal[ia], scal[ib], scal[ic])
            continue
        r = slots[dst[t]]
        if kd == _AA:
            a, b = slots[ia], slots[ib]
            if op == ADD:
                for i in range(m):
                    r[i] = a[i] + b[i]
            elif op == SUB:
                for i in range(m):
                    r[i] = a[i] - b[i]
            elif op == MUL:
                for i in range(m):
                    r[i] = a[i] * b[i]
            else:
                for i in range(m):
                    r[i] = a[i] / b[i]
        elif kd == _AS:
            a, s = slots[ia], scal[ib]
            if op == ADD:
                for i in range(m):
                    r[i] = a[i] + s
            elif op == SUB:
                for i in range(m):
                    r[i] = a[i] - s
            elif op == MUL:
                for i in range(m):
                    r[i] = a[i] * s
            else:
                for i in range(m):
                    r[i] = a[i] / s
        elif kd == _SA:
            s, b = scal[ia], slots[ib]
            if op == ADD:
                for i in range(m):
                    r[i] = s + b[i]
            elif op == SUB:
                for i in range(m):
                    r[i] = s - b[i]
            elif op == MUL:
                for i in range(m):
                    r[i] = s * b[i]
            else:
                for i in range(m):
                    r[i] = s / b[i]
        elif kd == _A:
            a = slots[ia]
            if op == SQRT:
                for i in range(m):
                    r[i] = np.sqrt(a[i])
            elif op == MUL2:
                for i in range(m):
                    r[i] = 2.0 * a[i]
            else:
                for i in range(m):
                    r[i] = 0.5 * a[i]
        else:  # fma, any operand possibly scalar (rare: a plain loop)
            mx = mix[t]
            for i in range(m):
                va = scal[ia] if mx & 1 else slots[ia, i]
                vb = scal[ib] if mx & 2 else slots[ib, i]
                vc = scal[ic] if mx & 4 else slots[ic, i]
                r[i] = va * vb + vc


@numba.njit(cache=True)
def _max_error(y, T, W):
    # Eight running maxima, so consecutive points do not wait on one register; a NaN anywhere
    # makes the error infinite.
    acc = np.zeros(8)
    bad = 0
    n = y.size
    full = n - n % 8
    for i in range(0, full, 8):
        for j in range(8):
            e = abs(y[i + j] - T[i + j]) * W[i + j]
            bad += e != e
            acc[j] = e if e > acc[j] else acc[j]
    worst = acc.max()
    for i in range(full, n):
        e = abs(y[i] - T[i]) * W[i]
        bad += e != e
        worst = e if e > worst else worst
    return np.inf if bad else worst


@numba.njit(cache=True)
def _max_error_scalar(s, T, W):
    worst = 0.0
    for i in range(T.size):
        e = abs(s - T[i]) * W[i]
        if e != e:
            return np.inf
        worst = e if e > worst else worst
    return worst


@numba.njit(cache=True, parallel=True, error_model="numpy")
def _population_errors(kind, ops, dst, operands, mix, consts, out_slot, n_slots, X, T, W, errors):
    P = kind.shape[0]
    chunk = 16
    for start in numba.prange((P + chunk - 1) // chunk):
        slots = np.empty((n_slots, X.size))
        slots[0] = X  # slot 0 is x in every program, and never written
        scal = np.empty(consts.shape[1] + kind.shape[1])
        for i in range(start * chunk, min(P, (start + 1) * chunk)):
            _run_registers(kind[i], ops[i], dst[i], operands[i], mix[i], consts[i], slots, scal)
            o = out_slot[i]
            errors[i] = _max_error(slots[o], T, W) if o >= 0 else _max_error_scalar(scal[-1 - o], T, W)


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
    _population_errors(packed.kind, packed.ops, packed.dst, packed.operands, packed.mix, packed.consts,
                       packed.out_slot, packed.n_slots, X, T, W, errors)
    return errors


def evaluate(program: Program, X: np.ndarray) -> np.ndarray:
    """Values of one program at the points X (float64, through the interpreter)."""
    packed = pack([program])
    X = np.ascontiguousarray(X, dtype=np.float64)
    slots = np.empty((packed.n_slots, X.size))
    slots[0] = X
    scal = np.empty(packed.consts.shape[1] + packed.kind.shape[1])
    _run_registers(packed.kind[0], packed.ops[0], packed.dst[0], packed.operands[0], packed.mix[0],
                   packed.consts[0], slots, scal)
    o = int(packed.out_slot[0])
    return slots[o].copy() if o >= 0 else np.full(X.size, scal[-1 - o])
