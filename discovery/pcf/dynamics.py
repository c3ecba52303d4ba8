"""Convergence-dynamics metrics of PCFs ("Unsupervised Discovery of Formulas for Mathematical
Constants", NeurIPS 2024).

For a PCF with reference value L = p_N / q_N (N = ``depth``) the metrics are

- ``naive_delta``: -log|L - p_n/q_n| / log|q_n| - 1 at the sample depth n;
- ``delta`` (FR δ): the same with the reduced denominator q̃_n = |q_n| / gcd(p_n, q_n);
- ``gamma_prime``, ``eta_prime``: least squares log q̃_n ≈ γ′ n + η′ n log n over the fit points,
  refitted with η′ = 0 when |η′| < 0.05;
- ``eigen_log_ratio``, ``complex_eigen``: log|λ₊/λ₋| for the roots of x² - a(n) x - b(n) at
  n = 10⁹, and whether they are complex (then the ratio is 0);
- ``predicted_delta``: n |log|λ₊/λ₋|| / (γ′ n + η′ n log n) - 1 at n = 10⁹;
- ``beta``, ``gamma``, ``eta``: least squares log|L - p_n/q_n| ≈ β log n + γ n + η n log n;
- ``convergence_class``: ``exponential`` (γ < -0.01, |η| < 0.05), ``factorial`` (η <= -0.05),
  ``slow`` (converged, neither), ``divergent`` (no float limit: oscillating, diverging or
  undefined) or ``terminating`` (b has a zero: the value is rational).

Everything but the gcd runs in float64 log-domain numba kernels
(:func:`discovery.pcf.kernels.error_traces`); gcd(p_n, q_n) at the fit points is computed with
exact integers (:func:`discovery.pcf.exact.walks`, a few hundred PCFs at a time), only for PCFs
that pass the float convergence filter, in worker processes for large batches.  A PCF the
float recurrence cannot follow (it overflows float64 even with rescaling, as a(n) = n⁵⁰ + 1
does before n = 1000, or a coefficient floats cannot hold) is measured on exact convergents
instead, and so is its eigenvalue ratio when a(10⁹)² overflows.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Sequence

import gmpy2
import mpmath
import numpy as np

from discovery.errors import InputError
from discovery.expressions import shown
from discovery.pcf import exact
from discovery.pcf.formula import PCF, to_arrays
from discovery.pcf.kernels import Status, error_traces, evaluate

FIELDS = (
    "limit",
    "naive_delta",
    "delta",
    "gamma_prime",
    "eta_prime",
    "eigen_log_ratio",
    "complex_eigen",
    "predicted_delta",
    "beta",
    "gamma",
    "eta",
    "convergence_class",
)
CLASSES = ("exponential", "factorial", "slow", "divergent", "terminating")
FIT_POINTS = (6, 125, 250, 500, 1000)
EIGEN_N = 1e9
ETA_REFIT = 0.05
_CONVERGENCE_RTOL = 1e-6
_PARALLEL_MIN = 2000
_INT64 = 2**63
_GCD_CHUNK = 256


def _log_abs(x) -> float:
    """Natural log of |x| for an integer of any size; -inf for 0."""
    return float(gmpy2.log(abs(gmpy2.mpz(x)))) if x else -math.inf


def _log_gcds(rows: list[tuple[tuple[int, ...], tuple[int, ...]]], depths: list[int]) -> np.ndarray:
    """log gcd(p_n, q_n) at each depth for each (a, b); NaN where q_n = 0."""
    out = np.full((len(rows), len(depths)), np.nan)
    # a chunk at a time: the convergents of thousands of PCFs would hold hundreds of megabytes
    for lo in range(0, len(rows), _GCD_CHUNK):
        for i, found in enumerate(_walks(rows[lo:lo + _GCD_CHUNK], depths), start=lo):
            for j, d in enumerate(depths):
                p, q = found[d][:2]
                if q:
                    out[i, j] = _log_abs(gmpy2.gcd(p, q))
    return out


def _walks(rows, depths) -> list[dict]:
    """:func:`discovery.pcf.exact.walks` of rows of coefficients, each row zero-padded on the left
    (rows with a coefficient beyond int64 walk one at a time)."""
    width = max((max(len(a), len(b)) for a, b in rows), default=1)
    fits = [all(-_INT64 <= c < _INT64 for c in (*a, *b)) for a, b in rows]
    batch = [i for i, ok in enumerate(fits) if ok]
    A = np.zeros((len(batch), width), dtype=np.int64)
    B = np.zeros((len(batch), width), dtype=np.int64)
    for r, i in enumerate(batch):
        a, b = rows[i]
        A[r, width - len(a):] = a
        B[r, width - len(b):] = b
    found = [None] * len(rows)
    for i, walked in zip(batch, exact.walks(A, B, depths, previous=False)):
        found[i] = walked
    for i in (i for i, ok in enumerate(fits) if not ok):
        found[i] = exact.walk(*rows[i], depths)
    return found


def log_gcds(rows, depths, workers: int | None = None) -> np.ndarray:
    """:func:`_log_gcds` over a batch, split across worker processes when it is large.

    Parameters
    ----------
    rows : list of (a, b) coefficient tuples
    depths : list of int
    workers : int, optional
        Worker processes; default all cores.  Batches under a few thousand run in-process.
    """
    if workers is None:
        workers = os.cpu_count() or 1
    if workers <= 1 or len(rows) < _PARALLEL_MIN:
        return _log_gcds(rows, depths)
    chunk = math.ceil(len(rows) / (4 * workers))
    pieces = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    # fork starts at once and needs no importable __main__; the children run gmpy2 code only,
    # never the numba thread pool they inherit.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        parts = list(pool.map(_log_gcds, pieces, [depths] * len(pieces)))
    return np.vstack(parts)


def _exact_traces(a, b, depth: int, points: list[int], rtol: float):
    """Limit, log|q_n| and log|L - p_n/q_n| at ``points`` from exact convergents, or None if the
    last two convergents differ by more than ``rtol`` (relative).  For a PCF whose float recurrence
    overflows float64 even with rescaling (a(n) of high degree) or whose coefficients floats cannot
    hold: such a fraction may converge perfectly well, and calling it divergent would be wrong."""
    try:
        exact.check_walk(a, b, depth)
    except InputError as err:
        raise InputError(f"metrics of {shown(PCF(a, b))}: its float recurrence overflows float64, and for exact "
                         f"convergents {err}") from None
    found = exact.walk(a, b, sorted(set(points) | {depth}))
    p_top, q_top, p_prev, q_prev = found[depth]
    if not q_top or not q_prev:
        return None
    log_q_top = _log_abs(q_top)
    log_step = _log_abs(p_top * q_prev - p_prev * q_top) - log_q_top - _log_abs(q_prev)
    log_value = _log_abs(p_top) - log_q_top
    if log_step > math.log(rtol) + max(0.0, log_value):
        return None
    log_q = np.array([_log_abs(found[d][1]) for d in points])
    log_error = np.array([_log_abs(p_top * found[d][1] - found[d][0] * q_top) - log_q_top - _log_abs(found[d][1])
                          for d in points])
    limit = float(gmpy2.mpq(p_top, q_top)) if abs(log_value) < 700 else math.copysign(math.inf, p_top * q_top)
    return limit, log_q, log_error


def _fit(x_columns: list[np.ndarray], Y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients for each row of Y (NaN-free rows in one solve)."""
    X = np.column_stack(x_columns)
    coef = np.full((Y.shape[0], X.shape[1]), np.nan)
    ok = np.isfinite(Y).all(axis=1)
    if ok.any():
        # one pseudo-inverse for every complete row: lstsq with thousands of right-hand sides
        # costs more than the rest of the fit; summed column by column, so that a row's result
        # does not depend on the batch around it (a matrix product's blocking would)
        pinv = np.linalg.pinv(X)
        rows = Y[ok]
        acc = np.zeros((rows.shape[0], X.shape[1]))
        for k in range(X.shape[0]):
            acc += rows[:, k, None] * pinv[:, k]
        coef[ok] = acc
    for i in np.nonzero(~ok)[0]:
        keep = np.isfinite(Y[i])
        if keep.sum() >= X.shape[1]:
            coef[i] = np.linalg.lstsq(X[keep], Y[i, keep], rcond=None)[0]
    return coef


def eigenvalues(A: np.ndarray, B: np.ndarray, n: float = EIGEN_N) -> tuple[np.ndarray, np.ndarray]:
    """log|λ₊/λ₋| of x² - a(n) x - b(n) and whether the roots are complex, per PCF.

    λ₊ is the root of larger modulus and λ₋ = -b(n)/λ₊ (stable for any signs); complex roots
    have equal moduli, so their log ratio is 0.
    """
    av = np.zeros(A.shape[0])
    bv = np.zeros(B.shape[0])
    with np.errstate(over="ignore", invalid="ignore"):
        for c in A.T.astype(np.float64):
            av = av * n + c
        for c in B.T.astype(np.float64):
            bv = bv * n + c
        disc = av * av + 4.0 * bv
    complex_eigen = disc < 0
    root = np.sqrt(np.where(complex_eigen, 0.0, disc))
    lam_plus = 0.5 * (av + np.where(av >= 0, root, -root))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = 2.0 * np.log(np.abs(lam_plus)) - np.log(np.abs(bv))
    ratio = np.where(complex_eigen, 0.0, ratio)
    # a(n)² overflows float64 at n = 10⁹ from degree 17 on: those rows in exact integers.
    over = np.nonzero(~(np.isfinite(av) & np.isfinite(bv) & np.isfinite(disc)))[0]
    if over.size and float(n).is_integer():
        for i, (a, b) in zip(over, _rows(A, B, over)):
            ratio[i], complex_eigen[i] = _eigen_exact(a, b, int(n))
    return ratio, complex_eigen


def _eigen_exact(a, b, n: int) -> tuple[float, bool]:
    """log|λ₊/λ₋| and whether the roots are complex, for one PCF in exact integers (any degree)."""
    av, bv = exact.polyval(a, n), exact.polyval(b, n)
    disc = av * av + 4 * bv
    if disc < 0:
        return 0.0, True
    with mpmath.workdps(30):
        root = mpmath.sqrt(disc)
        lam_plus = (av + (root if av >= 0 else -root)) / 2
        return float(2 * mpmath.log(abs(lam_plus)) - mpmath.log(abs(bv))), False


def _as_arrays(pcfs) -> tuple[np.ndarray, np.ndarray, bool]:
    if isinstance(pcfs, PCF):
        A, B = pcfs.as_arrays()
        return A, B, True
    if isinstance(pcfs, tuple) and len(pcfs) == 2 and isinstance(pcfs[0], np.ndarray):
        return np.asarray(pcfs[0], dtype=np.int64), np.asarray(pcfs[1], dtype=np.int64), False
    pcfs = list(pcfs)
    if not all(isinstance(p, PCF) for p in pcfs):
        bad = next(p for p in pcfs if not isinstance(p, PCF))
        raise ValueError(f"metrics takes PCFs or an (A, B) pair of arrays, got {bad!r}")
    A, B = to_arrays(pcfs)
    return A, B, False


def _rows(A: np.ndarray, B: np.ndarray, idx: np.ndarray) -> list:
    def strip(row):
        nz = np.flatnonzero(row)
        return tuple(int(c) for c in row[nz[0]:]) if nz.size else (0,)

    return [(strip(A[i]), strip(B[i])) for i in idx]


def metrics(
    pcfs,
    depth: int = 2000,
    sample: int = 1000,
    fit_points: Sequence[int] = FIT_POINTS,
    workers: int | None = None,
):
    """Convergence-dynamics metrics of one PCF or a batch.

    Parameters
    ----------
    pcfs : PCF, sequence of PCF, or (A, B) arrays
        What to measure; arrays as for :func:`discovery.pcf.evaluate`.
    depth : int
        Reference depth N: L = p_N / q_N.
    sample : int
        Depth n at which δ is measured (< depth).
    fit_points : sequence of int
        Depths of the least-squares fits (each < depth).
    workers : int, optional
        Processes for the exact gcd of large batches (default: all cores).

    Returns
    -------
    dict
        For one PCF, a dict of Python values keyed by :data:`FIELDS`; for a batch, a dict of
        numpy arrays of the same names (``complex_eigen`` bool, ``convergence_class`` str).
        Metrics that do not exist for a PCF (diverging, terminating) are NaN.
    """
    A, B, single = _as_arrays(pcfs)
    fit_points = _checked_fit_points(depth, sample, fit_points)
    m = A.shape[0]
    points = sorted(set(fit_points) | {sample})
    status, exact_rows = _convergence(A, B, depth, points)
    alive = np.nonzero(status == Status.CONVERGED)[0]
    out = {name: np.full(m, np.nan) for name in FIELDS}
    cls = np.where(status == Status.TERMINATED, "terminating", "divergent").astype("<U11")
    out["eigen_log_ratio"], out["complex_eigen"] = eigenvalues(A, B)
    if alive.size:
        cls[alive] = _measure_converged(out, A, B, alive, exact_rows, depth, sample, fit_points, workers)
    out["convergence_class"] = cls
    if single:
        return {
            k: (v[0].item() if isinstance(v[0], np.generic) else v[0]) for k, v in out.items()
        }
    return out


def _checked_fit_points(depth: int, sample: int, fit_points: Sequence[int]) -> list[int]:
    """The sorted, distinct fit points, after checking them and ``sample`` against ``depth``."""
    if not 1 <= sample < depth:
        raise ValueError(f"sample must satisfy 1 <= sample < depth={depth}, got {sample}")
    fit_points = sorted({int(f) for f in fit_points})
    if len(fit_points) < 3 or fit_points[0] < 2 or fit_points[-1] >= depth:
        raise ValueError(
            f"fit_points need at least 3 depths in [2, {depth - 1}], got {list(fit_points)}"
        )
    return fit_points


def _convergence(A: np.ndarray, B: np.ndarray, depth: int, points: list[int]) -> tuple[np.ndarray, dict]:
    """The float convergence status of each PCF, and the exact traces of those the floats cannot follow.

    Returns
    -------
    status : ndarray
        :class:`discovery.pcf.kernels.Status` per PCF, CONVERGED too for a fraction the float
        recurrence could not follow but exact convergents show converging.
    exact_rows : dict
        Row index -> (limit, log|q_n|, log|L - p_n/q_n|) at ``points``, for those fractions.
    """
    status = evaluate(A, B, depth, rtol=_CONVERGENCE_RTOL).status.copy()
    exact_rows = {}
    for i in np.nonzero((status == Status.NONFINITE) | (status == Status.INEXACT))[0]:
        (a, b), = _rows(A, B, [i])
        found = _exact_traces(a, b, depth, points, _CONVERGENCE_RTOL)
        if found is not None:
            exact_rows[int(i)] = found
            status[i] = Status.CONVERGED
    return status, exact_rows


def _measure_converged(out: dict, A, B, alive: np.ndarray, exact_rows: dict, depth: int, sample: int,
                       fit_points: list[int], workers: int | None) -> np.ndarray:
    """Fill the metrics of the converging rows ``alive`` into ``out``; their convergence classes."""
    points = sorted(set(fit_points) | {sample})
    col = {d: j for j, d in enumerate(points)}
    fcols = [col[d] for d in fit_points]
    rows = _rows(A, B, alive)
    for a, b in rows:  # the gcds below walk exact convergents to the deepest point
        try:
            exact.check_walk(a, b, points[-1])
        except InputError as err:
            raise InputError(f"metrics of {shown(PCF(a, b))}: the reduced denominators need exact convergents; "
                             f"{err}") from None
    tr = error_traces(A[alive], B[alive], depth, points)
    for k, i in enumerate(alive):
        if int(i) in exact_rows:
            tr.limit[k], tr.log_q[k], tr.log_error[k] = exact_rows[int(i)]
    log_qr = tr.log_q - log_gcds(rows, points, workers)
    s = col[sample]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["naive_delta"][alive] = -tr.log_error[:, s] / tr.log_q[:, s] - 1.0
        out["delta"][alive] = -tr.log_error[:, s] / log_qr[:, s] - 1.0
    out["limit"][alive] = tr.limit

    nf = np.asarray(fit_points, dtype=np.float64)
    growth = _growth_fit(nf, log_qr[:, fcols])
    out["gamma_prime"][alive], out["eta_prime"][alive] = growth[:, 0], growth[:, 1]
    err = _error_fit(nf, tr.log_error[:, fcols])
    out["beta"][alive], out["gamma"][alive], out["eta"][alive] = err.T
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = growth[:, 0] + growth[:, 1] * math.log(EIGEN_N)
        out["predicted_delta"][alive] = np.abs(out["eigen_log_ratio"][alive]) / denom - 1.0
    return _classes(err[:, 1], err[:, 2])


def _growth_fit(nf: np.ndarray, log_qr: np.ndarray) -> np.ndarray:
    """(γ′, η′) per row: log q̃_n ≈ γ′ n + η′ n log n at the fit depths ``nf``, η′ = 0 refitted when small."""
    one, n_log_n = np.ones_like(nf), nf * np.log(nf)
    growth = _fit([nf, n_log_n, one], log_qr)[:, :2]
    small = np.abs(growth[:, 1]) < ETA_REFIT
    if small.any():
        growth[small, 0] = _fit([nf, one], log_qr[small])[:, 0]
        growth[small, 1] = 0.0
    return growth


def _error_fit(nf: np.ndarray, log_error: np.ndarray) -> np.ndarray:
    """(β, γ, η) per row: log|L - p_n/q_n| ≈ β log n + γ n + η n log n, η = 0 refitted when small."""
    log_n, n_log_n = np.log(nf), nf * np.log(nf)
    err = _fit([log_n, nf, n_log_n], log_error)
    small = np.abs(err[:, 2]) < ETA_REFIT
    if small.any():
        err[small, :2] = _fit([log_n, nf], log_error[small])
        err[small, 2] = 0.0
    return err


def _classes(gamma: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """The convergence class of converging fractions from the error fit's γ and η."""
    return np.where(
        eta <= -ETA_REFIT,
        "factorial",
        np.where((gamma < -0.01) & (np.abs(eta) < ETA_REFIT), "exponential", "slow"),
    )


def delta_sequence(pcf: PCF, ns: Sequence[int], depth: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """FR δ_n and naive δ_n of one PCF at each n in ``ns`` (all < depth), against L = p_N/q_N.

    Returns
    -------
    delta, naive_delta : ndarray
        In the order of the sorted, distinct ``ns``.
    """
    if not isinstance(pcf, PCF):
        raise ValueError(f"delta_sequence takes one PCF, got {pcf!r}")
    A, B = pcf.as_arrays()
    tr = error_traces(A, B, depth, ns)
    points = tr.depths.tolist()
    log_g = _log_gcds([(pcf.a, pcf.b)], points)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        naive = -tr.log_error[0] / tr.log_q[0] - 1.0
        reduced = -tr.log_error[0] / (tr.log_q[0] - log_g) - 1.0
    return reduced, naive
