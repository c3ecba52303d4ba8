"""Batch float64 evaluation of PCFs with numba.

Every public function takes ``A``, ``B``: 2-D integer arrays holding one PCF per row, coefficients
highest degree first and zero-padded on the left (see :func:`discovery.pcf.formula.to_arrays`).
The recurrence runs in float64 on p and q rescaled by exact powers of two, so nothing overflows at
any depth and ratios are unaffected; the number of rescalings is kept so that log|p_n| and
log|q_n| are exact up to rounding.
"""

from __future__ import annotations

import enum
import math
import types
from typing import NamedTuple, Sequence

import numba
import numpy as np

from discovery.errors import InputError

_SHIFT = 600
_BIG = 2.0**_SHIFT
_SMALL = 2.0**-_SHIFT
_LOG_BIG = _SHIFT * math.log(2.0)


class Status(enum.IntEnum):
    """Outcome of a float evaluation, one per PCF."""

    CONVERGED = 0
    """The last two convergents agree to the requested relative tolerance."""
    TERMINATED = 1
    """b(k) = 0 for some k <= depth: a finite fraction whose value is rational."""
    ZERO_DENOMINATOR = 2
    """q = 0 at the end (the value is undefined)."""
    NONFINITE = 3
    """The float recurrence produced inf or NaN."""
    OSCILLATING = 4
    """Even and odd convergents approach different values: the last convergent agrees with the one
    two steps back, and the gap between consecutive convergents has not halved since half the
    depth (a fraction converging with alternating errors shrinks that gap, and is NOT_CONVERGED
    until it meets the tolerance)."""
    NOT_CONVERGED = 5
    """None of the above: diverging, or converging too slowly for the tolerance at this depth."""
    INEXACT = 6
    """A coefficient float64 cannot hold exactly (above 2⁵³ and not a multiple of the spacing of
    floats there): not evaluated (use exact convergents, :meth:`discovery.pcf.formula.PCF.limit`,
    which take integers of any size)."""

_FLOAT_EXACT = 2**53


class Evaluation(NamedTuple):
    """Result of :func:`evaluate`.

    Attributes
    ----------
    limit : ndarray of float64
        The value: the last convergent for CONVERGED and NOT_CONVERGED, the exact rational value
        for TERMINATED, NaN otherwise.
    status : ndarray of int8
        A :class:`Status` per PCF.
    """

    limit: np.ndarray
    status: np.ndarray


class Traces(NamedTuple):
    """Result of :func:`traces`, one row per PCF and one column per requested depth.

    Attributes
    ----------
    depths : ndarray of int64
        The requested depths, ascending.
    log_p, log_q : ndarray of float64
        Natural logs of |p_n| and |q_n| (-inf where zero).
    log_diff : ndarray of float64
        log |p_n/q_n - p_{n-1}/q_{n-1}|, from the identity
        p_n q_{n-1} - p_{n-1} q_n = (-1)^(n-1) b(1)...b(n); -inf once some b(k) = 0, NaN at n = 0.
    """

    depths: np.ndarray
    log_p: np.ndarray
    log_q: np.ndarray
    log_diff: np.ndarray


# Plain ints for the kernels, which cannot return enum members.
_CONVERGED, _TERMINATED, _ZERO_DENOMINATOR, _NONFINITE, _OSCILLATING, _NOT_CONVERGED = (
    int(s) for s in list(Status)[:6]
)


@numba.njit(cache=True, inline="always")
def _horner(row, x):
    v = 0.0
    for c in row:
        v = v * x + c
    return v


@numba.njit(cache=True, inline="always")
def _step(ak, bk, p, q, p1, q1):
    # One step of the recurrence; rescales by 2**-_SHIFT (exact) when p or q grows past 2**_SHIFT.
    p1, p = p, ak * p + bk * p1
    q1, q = q, ak * q + bk * q1
    if max(abs(p), abs(q)) > _BIG:
        return p * _SMALL, q * _SMALL, p1 * _SMALL, q1 * _SMALL, 1
    return p, q, p1, q1, 0


@numba.njit(cache=True)
def _first_zero(brow, depth):
    # An integer root k >= 1 of b(n) = n^m b'(n) with b'(0) != 0 divides b'(0), so only
    # k <= |b'(0)| need be tried.
    last = brow.size - 1
    while brow[last] == 0.0:
        last -= 1
    top = min(float(depth), abs(brow[last]))
    k = 1
    while k <= top:
        if _horner(brow, float(k)) == 0.0:
            return k
        k += 1
    return 0


@numba.njit(cache=True)
def _finite_value(arow, brow, stop):
    # The value p_{stop-1}/q_{stop-1} of a fraction with b(stop) = 0.
    p1, q1 = 1.0, 0.0
    p, q = _horner(arow, 0.0), 1.0
    for k in range(1, stop):
        x = float(k)
        p, q, p1, q1, _ = _step(_horner(arow, x), _horner(brow, x), p, q, p1, q1)
    if q == 0.0 or not (math.isfinite(p) and math.isfinite(q)):
        return np.nan, _ZERO_DENOMINATOR if q == 0.0 else _NONFINITE
    return p / q, _TERMINATED


@numba.njit(cache=True)
def _evaluate_block(ca, cb, depth, rtol, limit, status):
    # ca, cb hold the coefficients of a block of PCFs, one column each (structure of arrays).
    # The block steps in lockstep and every pass over it is branch-free, so the compiler
    # vectorizes it and the per-PCF latency chains overlap.  No b(k) is zero for k < depth here.
    # p and q only shrink by cancellation, which float rounding bounds, so only overflow needs
    # rescaling.
    da, w = ca.shape
    db = cb.shape[0]
    ak = np.empty(w)
    bk = np.empty(w)
    p = ca[da - 1].copy()
    q = np.ones(w)
    p1 = np.ones(w)
    q1 = np.zeros(w)
    half = depth // 2
    gap_half = np.full(w, np.inf)
    for k in range(1, depth):
        x = float(k)
        ak[:] = ca[0]
        bk[:] = cb[0]
        for d in range(1, da):
            for j in range(w):
                ak[j] = ak[j] * x + ca[d, j]
        for d in range(1, db):
            for j in range(w):
                bk[j] = bk[j] * x + cb[d, j]
        for j in range(w):
            pn = ak[j] * p[j] + bk[j] * p1[j]
            qn = ak[j] * q[j] + bk[j] * q1[j]
            s = _SMALL if max(abs(pn), abs(qn)) > _BIG else 1.0
            p1[j] = p[j] * s
            q1[j] = q[j] * s
            p[j] = pn * s
            q[j] = qn * s
        if k == half:
            for j in range(w):
                if q[j] != 0.0 and q1[j] != 0.0:
                    gap_half[j] = abs(p[j] / q[j] - p1[j] / q1[j])
    for j in range(w):
        limit[j], status[j] = _last_step(ca[:, j], cb[:, j], depth, p[j], q[j], p1[j], q1[j], rtol, gap_half[j])


@numba.njit(cache=True)
def _last_step(arow, brow, depth, p, q, p1, q1, rtol, gap_half):
    # The step to depth, keeping p_{depth-2}/q_{depth-2} to tell oscillation from divergence, and
    # the gap between consecutive convergents at half the depth to tell it from slow convergence
    # with alternating errors (whose gap shrinks, while an oscillation's tends to a constant).
    x = float(depth)
    ak = _horner(arow, x)
    bk = _horner(brow, x)
    if bk == 0.0:
        if q == 0.0:
            return np.nan, _ZERO_DENOMINATOR
        return p / q, _TERMINATED
    p2, q2 = p1, q1
    p1, q1 = p, q
    p = ak * p1 + bk * p2
    q = ak * q1 + bk * q2
    if not (math.isfinite(p) and math.isfinite(q) and math.isfinite(p1) and math.isfinite(q1)):
        return np.nan, _NONFINITE
    if q == 0.0:
        return np.nan, _ZERO_DENOMINATOR
    value = p / q
    tol = rtol * max(1.0, abs(value))
    if q1 != 0.0 and abs(value - p1 / q1) <= tol:
        return value, _CONVERGED
    if q2 != 0.0 and abs(value - p2 / q2) <= tol and (q1 == 0.0 or abs(value - p1 / q1) > 0.5 * gap_half):
        return np.nan, _OSCILLATING
    return value, _NOT_CONVERGED


_BLOCK = 64
# Below this many rows a kernel runs on the calling thread: a parallel region costs a wake-up and
# a barrier of every numba thread, which on a busy machine (a campaign's own workers) took about
# 20 ms for one row of traces whose work is 0.2 ms.
_PARALLEL_ROWS = 64


def _serial_twin(kernel, name: str):
    """The same kernel compiled without ``parallel`` (prange runs as range), under its own name
    so that numba's on-disk cache keeps the two apart."""
    f = kernel.py_func
    code = f.__code__.replace(co_name=name, co_qualname=name)
    twin = types.FunctionType(code, f.__globals__, name, f.__defaults__, f.__closure__)
    twin.__qualname__ = name
    twin.__doc__ = f"{f.__name__} on the calling thread (for small batches)."
    return numba.njit(cache=True)(twin)


def _pick(parallel, serial, rows: int):
    return serial if rows < _PARALLEL_ROWS or numba.get_num_threads() == 1 else parallel


@numba.njit(cache=True, parallel=True)
def _evaluate_batch(A, B, depth, rtol, limit, status):
    m = A.shape[0]
    Af = A.astype(np.float64)
    Bf = B.astype(np.float64)
    zero_at = np.empty(m, dtype=np.int64)
    for i in numba.prange(m):
        zero_at[i] = _first_zero(Bf[i], depth)
    finite = np.nonzero(zero_at)[0]
    for t in numba.prange(finite.size):
        i = finite[t]
        limit[i], status[i] = _finite_value(Af[i], Bf[i], zero_at[i])
    rows = np.nonzero(zero_at == 0)[0]
    nblocks = (rows.size + _BLOCK - 1) // _BLOCK
    for blk in numba.prange(nblocks):
        idx = rows[blk * _BLOCK:min((blk + 1) * _BLOCK, rows.size)]
        ca = np.ascontiguousarray(Af[idx].T)
        cb = np.ascontiguousarray(Bf[idx].T)
        lim = np.empty(idx.size)
        st = np.empty(idx.size, dtype=np.int8)
        _evaluate_block(ca, cb, depth, rtol, lim, st)
        limit[idx] = lim
        status[idx] = st


_evaluate_serial = _serial_twin(_evaluate_batch, "_evaluate_serial")


def _check_batch(A, B) -> tuple[np.ndarray, np.ndarray]:
    A = np.asarray(A)
    B = np.asarray(B)
    if A.ndim != 2 or B.ndim != 2:
        raise ValueError(f"A and B must be 2-D arrays (one PCF per row), got shapes {A.shape}, {B.shape}")
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"A has {A.shape[0]} rows but B has {B.shape[0]}")
    if A.shape[1] == 0 or B.shape[1] == 0:
        raise ValueError(f"A and B need at least one coefficient column, got shapes {A.shape}, {B.shape}")
    for name, M in (("A", A), ("B", B)):
        if M.dtype == object and all(isinstance(c, int) and not isinstance(c, bool) for c in M.flat):
            big = next((c for c in M.flat if abs(c) > np.iinfo(np.int64).max), None)
            if big is not None:
                raise InputError(f"{name}: coefficient {big} does not fit in int64 (the float kernels' input); "
                                 "exact convergents (PCF.limit) take integers of any size")
            continue
        if not np.issubdtype(M.dtype, np.integer):
            raise ValueError(f"{name} must hold integers, got dtype {M.dtype}")
    return A.astype(np.int64, copy=False), B.astype(np.int64, copy=False)


def _check_depth(depth) -> int:
    if isinstance(depth, bool) or int(depth) != depth or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    return int(depth)


def evaluate(A, B, depth: int = 1000, rtol: float = 1e-9) -> Evaluation:
    """Float64 limits of a batch of PCFs, on all cores.

    Parameters
    ----------
    A, B : array_like of int, shape (m, da) and (m, db)
        Coefficients of a(n) and b(n), one PCF per row, highest degree first, zero-padded on the
        left.
    depth : int
        Depth of the last convergent (>= 1).
    rtol : float
        A PCF counts as converged when its last two convergents differ by at most
        ``rtol * max(1, |value|)``.

    Returns
    -------
    Evaluation
        ``limit`` (float64) and ``status`` (int8 :class:`Status`) arrays of length m.
    """
    A, B = _check_batch(A, B)
    depth = _check_depth(depth)
    if not rtol > 0:
        raise ValueError(f"rtol must be positive, got {rtol!r}")
    limit = np.empty(A.shape[0], dtype=np.float64)
    status = np.empty(A.shape[0], dtype=np.int8)
    _pick(_evaluate_batch, _evaluate_serial, A.shape[0])(A, B, depth, float(rtol), limit, status)
    large = np.nonzero((np.abs(A) > _FLOAT_EXACT).any(axis=1) | (np.abs(B) > _FLOAT_EXACT).any(axis=1))[0]
    for i in large:  # rare rows: check each large coefficient exactly
        if any(int(float(c)) != int(c) for c in (*A[i], *B[i])):
            limit[i] = np.nan
            status[i] = Status.INEXACT
    return Evaluation(limit, status)


@numba.njit(cache=True)
def _traces_one(arow, brow, depths, log_p, log_q, log_diff):
    p1, q1 = 1.0, 0.0
    p, q = _horner(arow, 0.0), 1.0
    scale = 0  # p, q, p1, q1 are the true values times 2**(-_SHIFT * scale)
    det = 1.0  # |b(1)...b(k)| times 2**(-_SHIFT * det_scale)
    det_scale = 0
    j = 0
    while j < depths.size and depths[j] == 0:
        log_p[j] = math.log(abs(p)) if p != 0.0 else -np.inf
        log_q[j] = 0.0
        log_diff[j] = np.nan
        j += 1
    k = 0
    while j < depths.size:
        k += 1
        x = float(k)
        ak = _horner(arow, x)
        bk = _horner(brow, x)
        p, q, p1, q1, rescaled = _step(ak, bk, p, q, p1, q1)
        scale += rescaled
        det *= abs(bk)
        if det > _BIG:
            det *= _SMALL
            det_scale += 1
        while j < depths.size and depths[j] == k:
            shift = scale * _LOG_BIG
            log_p[j] = math.log(abs(p)) + shift if p != 0.0 else -np.inf
            log_q[j] = math.log(abs(q)) + shift if q != 0.0 else -np.inf
            if det == 0.0:
                log_diff[j] = -np.inf
            else:
                lq1 = math.log(abs(q1)) + shift if q1 != 0.0 else -np.inf
                log_diff[j] = math.log(det) + det_scale * _LOG_BIG - log_q[j] - lq1
            j += 1


@numba.njit(cache=True, parallel=True)
def _traces_batch(A, B, depths, log_p, log_q, log_diff):
    Af = A.astype(np.float64)
    Bf = B.astype(np.float64)
    for i in numba.prange(A.shape[0]):
        _traces_one(Af[i], Bf[i], depths, log_p[i], log_q[i], log_diff[i])


_traces_serial = _serial_twin(_traces_batch, "_traces_serial")


def traces(A, B, depths: Sequence[int]) -> Traces:
    """Log-domain traces of a batch of PCFs at the requested depths, on all cores.

    Parameters
    ----------
    A, B : array_like of int
        As for :func:`evaluate`.
    depths : sequence of int
        Non-negative depths; they are sorted and duplicates removed.

    Returns
    -------
    Traces
        ``log_p``, ``log_q`` and ``log_diff`` arrays of shape (m, len(depths)).
    """
    A, B = _check_batch(A, B)
    ds = np.unique(np.asarray([int(d) for d in depths], dtype=np.int64))
    if ds.size == 0:
        raise ValueError("no depths given")
    if ds[0] < 0:
        raise ValueError(f"depths must be non-negative, got {int(ds[0])}")
    shape = (A.shape[0], ds.size)
    log_p = np.empty(shape)
    log_q = np.empty(shape)
    log_diff = np.empty(shape)
    _pick(_traces_batch, _traces_serial, A.shape[0])(A, B, ds, log_p, log_q, log_diff)
    return Traces(ds, log_p, log_q, log_diff)


class ErrorTraces(NamedTuple):
    """Result of :func:`error_traces`, one row per PCF and one column per requested depth.

    Attributes
    ----------
    depths : ndarray of int64
        The requested depths, ascending (all below the reference depth).
    limit : ndarray of float64
        The reference value L = p_N / q_N (NaN where q_N = 0 or b has a zero before N).
    log_q : ndarray of float64
        log |q_n|.
    log_error : ndarray of float64
        log |L - p_n / q_n|, NaN where it cannot be formed (a zero q_k between n and N, a
        finite fraction).
    """

    depths: np.ndarray
    limit: np.ndarray
    log_q: np.ndarray
    log_error: np.ndarray


@numba.njit(cache=True)
def _error_trace_one(arow, brow, depth, depths, log_q, log_error):
    # L - p_n/q_n = sum_{k=n+1..N} D_k with D_k = (-1)^(k-1) b(1)...b(k) / (q_k q_{k-1}).  The
    # terms are huge or tiny but their ratios are not, so the tail sum is kept as
    # head * T with head the current term in log form and T = (sum of the tail) / head, updated
    # backwards by T <- 1 + (previous head / new head) T.  Where q_k = 0 the infinite D_k and
    # D_{k+1} are taken together: D_k + D_{k+1} = a(k+1) (-1)^(k-1) b(1)...b(k) / (q_{k+1} q_{k-1}).
    lq = np.empty(depth + 1)
    sq = np.empty(depth + 1)
    lb = np.empty(depth + 1)  # log|b(1)...b(k)|
    sb = np.empty(depth + 1)
    p1, q1 = 1.0, 0.0
    p, q = _horner(arow, 0.0), 1.0
    scale = 0
    lq[0], sq[0], lb[0], sb[0] = 0.0, 1.0, 0.0, 1.0
    for k in range(1, depth + 1):
        x = float(k)
        ak = _horner(arow, x)
        bk = _horner(brow, x)
        if bk == 0.0:
            for j in range(depths.size):
                log_q[j] = np.nan
                log_error[j] = np.nan
            return np.nan
        p, q, p1, q1, rescaled = _step(ak, bk, p, q, p1, q1)
        scale += rescaled
        if q == 0.0:
            lq[k], sq[k] = -np.inf, 0.0
        else:
            lq[k], sq[k] = math.log(abs(q)) + scale * _LOG_BIG, 1.0 if q > 0.0 else -1.0
        lb[k] = lb[k - 1] + math.log(abs(bk))
        sb[k] = -sb[k - 1] if bk < 0.0 else sb[k - 1]
    for j in range(depths.size):
        log_q[j] = lq[depths[j]]
        log_error[j] = np.nan
    if q == 0.0 or not (math.isfinite(p) and math.isfinite(q)):
        return np.nan
    head_log, head_sign, t = 0.0, 0.0, 0.0  # head_sign 0: no term yet
    j = depths.size - 1
    for k in range(depth, 0, -1):
        parity = 1.0 if k % 2 == 1 else -1.0  # (-1)^(k-1)
        if sq[k - 1] == 0.0:
            continue  # D_k is the second half of the pair that starts at k - 1
        if sq[k] == 0.0:
            a_next = _horner(arow, float(k + 1))
            if a_next == 0.0:
                term_log, term_sign = -np.inf, 0.0
            else:
                term_log = math.log(abs(a_next)) + lb[k] - lq[k + 1] - lq[k - 1]
                term_sign = (1.0 if a_next > 0.0 else -1.0) * parity * sb[k] * sq[k + 1] * sq[k - 1]
        else:
            term_log = lb[k] - lq[k] - lq[k - 1]
            term_sign = parity * sb[k] * sq[k] * sq[k - 1]
        if term_sign != 0.0:
            if head_sign == 0.0:
                t = 1.0
            else:
                t = 1.0 + head_sign * term_sign * math.exp(head_log - term_log) * t
            head_log, head_sign = term_log, term_sign
        while j >= 0 and depths[j] + 1 >= k:
            if depths[j] + 1 == k and sq[k - 1] != 0.0:
                if head_sign == 0.0 or t == 0.0:
                    log_error[j] = -np.inf
                else:
                    log_error[j] = head_log + math.log(abs(t))
            j -= 1
        if j < 0:
            break
    return p / q


@numba.njit(cache=True, parallel=True)
def _error_traces_batch(A, B, depth, depths, limit, log_q, log_error):
    Af = A.astype(np.float64)
    Bf = B.astype(np.float64)
    for i in numba.prange(A.shape[0]):
        limit[i] = _error_trace_one(Af[i], Bf[i], depth, depths, log_q[i], log_error[i])


_error_traces_serial = _serial_twin(_error_traces_batch, "_error_traces_serial")


def error_traces(A, B, depth: int, depths: Sequence[int]) -> ErrorTraces:
    """Growth of q_n and distance of p_n/q_n from the reference value p_N/q_N, on all cores.

    Parameters
    ----------
    A, B : array_like of int
        As for :func:`evaluate`.
    depth : int
        The reference depth N.
    depths : sequence of int
        Depths n with 1 <= n < N at which to report log|q_n| and log|L - p_n/q_n|.

    Returns
    -------
    ErrorTraces
    """
    A, B = _check_batch(A, B)
    depth = _check_depth(depth)
    ds = np.unique(np.asarray([int(d) for d in depths], dtype=np.int64))
    if ds.size == 0:
        raise ValueError("no depths given")
    if ds[0] < 1 or ds[-1] >= depth:
        raise ValueError(f"depths must lie in [1, {depth - 1}] (below the reference depth), got {ds.tolist()}")
    shape = (A.shape[0], ds.size)
    limit = np.empty(A.shape[0])
    log_q = np.empty(shape)
    log_error = np.empty(shape)
    _pick(_error_traces_batch, _error_traces_serial, A.shape[0])(A, B, depth, ds, limit, log_q, log_error)
    return ErrorTraces(ds, limit, log_q, log_error)
