"""Constants fitted and tuned for float32 evaluation.

A program tuned in float64 and then run in float32 rounds every constant and every operation to
float32; its best float32 constants are usually not the float64 optimum rounded.

:func:`float32_polynomial` fits a polynomial for evaluation by fused Horner steps in float32, as
Sollya's ``fpminimax`` does for its coefficients but with the evaluation's own rounding counted:
it minimises, on a dense grid, the error before the last rounding in float32 ULPs of the exact
value (:meth:`~discovery.programs.targets.Target.weights`) *plus* a bound of the roundings of the
inner Horner steps, a linear programme (HiGHS), and fixes the coefficients to float32 values one
at a time, lowest degree first (their rounding moves the result most), solving again for the
others after each.  The last fused step rounds once, so a result is at most one ULP from the
correctly rounded value wherever that pre-rounding error stays under one ULP: the programme's
optimum says how close a degree can come.

:func:`tune_float32` then searches the float32-representable constants around a program's, a few
float32 steps at a time (coordinate moves of ±1, ±2, ±4, ... ULPs of each constant, all
candidates of a round judged in one population run), minimising the max ULP error on a dense
float32 set, ties broken by the number of points at that max (how near the program is to one ULP
less) and then by the max error in ULPs of the exact values, from the program's constants and
from :func:`fit_rounding`'s (any program's error before its last rounding, inner roundings
counted, made smallest in float64), optionally checking every float of the interval's top
binades and adding those the set missed.  The program runs exactly as its C
with ``float`` does (:mod:`discovery.programs.float32`: ``fma`` rounds once, as the hardware's
``fmaf``).  The dense set only steers: the error a caller reports comes from the exhaustive check
(:func:`discovery.programs.verify.float32_ulp_errors`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from discovery.programs.float32 import (
    float32_range, float32_spacings, float32_span, from_ordered, group_worst, ordered, ulp_scan,
)
from discovery.programs.graph import Program
from discovery.programs.kernels import pack
from discovery.programs.ops import apply
from discovery.programs.targets import Target
from discovery.programs.verify import reference32


def dense_float32(target: Target, count: int = 1 << 16,
                  top: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Float32 points of the interval, their correctly rounded float32 target values and float64
    exact values: about ``count`` strided evenly in float order over the whole interval (both
    ends included: the many floats near zero weigh as in an exhaustive check) and about ``top``
    (default 2·``count``) strided evenly in float order over its floats of magnitude at least
    2^-8 of the largest, where an approximation's errors live (2^x on [0, 1] has half its floats
    below 2^-64, and the 2^23 of [1/2, 1] hold its largest errors); both parts sample the floats
    as densely as they lie, so counts of points at an error follow the exhaustive ones."""
    a, b = float32_span(target.interval)
    stride = max(1, (b - a) // count)
    parts = [float32_range(a, b + 1, stride), float32_range(b, b + 1)]
    edge = float(np.max(np.abs(np.array(target.interval, dtype=np.float64)))) * 2.0**-8
    for lo, hi in ((-np.inf, -edge), (edge, np.inf)):
        try:
            c, d = float32_span((max(lo, target.interval[0]), min(hi, target.interval[1])))
        except ValueError:
            continue  # the interval has no floats of that sign and size
        parts.append(float32_range(c, d + 1, max(1, (d - c) // (2 * count if top is None else top))))
    X = np.unique(np.concatenate(parts))
    ref, exact = reference32(target, X)
    return X, ref, exact


def score_float32(programs, points) -> list[tuple[int, int, float]]:
    """Per program, what :func:`tune_float32` minimises on the points (X32, ref32, exact): the max
    ULP error, the number of points at it and the max error in ULPs of the exact values."""
    X, ref, exact = points
    packed = pack([p.simplified() for p in programs])
    w, _, we, at = ulp_scan(packed, packed.consts.astype(np.float32), X, ref, exact)
    return [(int(a), int(b), float(c)) for a, b, c in zip(w, at, we)]


_EXACT = ("mul2", "half")  # operations that never round (short of overflow)


def rounding_bound(program: Program, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The program's float64 values at X and, at each x, the first-order bound of what the
    float32 roundings of its inner operations move the result by: sum over every operation but
    the last of |d result / d value| times half the float32 spacing of the value (its rounding
    error at worst), the derivatives by reverse accumulation through the instructions.

    The last operation's own rounding is left out: it rounds once, so a result is within one ULP
    of the correctly rounded value wherever the error before it stays under one ULP.
    """
    prog = program.simplified()
    X = np.asarray(X, dtype=np.float64)
    base = 1 + len(prog.consts)
    with np.errstate(all="ignore"):
        vals = [X] + [np.full_like(X, c) for c in prog.consts]
        for op, (a, b, c) in prog.instructions:
            vals.append(apply(op, vals[a], vals[b], vals[c], np.sqrt))
        grad = [np.zeros_like(X) for _ in vals]
        grad[prog.output] = np.ones_like(X)
        for t in range(len(prog.instructions) - 1, -1, -1):
            op, (a, b, c) = prog.instructions[t]
            g = grad[base + t]
            if not g.any():
                continue
            va, vb = vals[a], vals[b]
            partials = {"add": ((a, 1.0), (b, 1.0)), "sub": ((a, 1.0), (b, -1.0)), "mul": ((a, vb), (b, va)),
                        "div": ((a, 1 / vb), (b, -va / vb**2)), "sqrt": ((a, 0.5 / np.sqrt(va)),),
                        "fma": ((a, vb), (b, va), (c, 1.0)), "mul2": ((a, 2.0),), "half": ((a, 0.5),)}[op]
            for i, d in partials:
                grad[i] = grad[i] + g * d
        bound = np.zeros_like(X)
        for t, (op, _) in enumerate(prog.instructions):
            if base + t != prog.output and op not in _EXACT:
                bound += np.abs(grad[base + t]) * float32_spacings(vals[base + t]) / 2
    return vals[prog.output], bound


def fit_rounding(program: Program, target: Target, grid: int = 512, powers=(2, 4, 8, 16, 32, 64, 128),
                 max_evals: int = 2000) -> Program:
    """The program with float64 constants minimising max over a grid of (|error| + the bound of
    its inner roundings, :func:`rounding_bound`) in float32 ULPs of the exact value: the error
    before its last float32 rounding, at worst.

    Least squares of the p-th powers of that quantity (scipy's trust-region solver, constants
    scaled by their size) for growing p, each from the last (the p-norm tends to the max), first
    of the approximation error alone, then with the bound, which, piecewise constant in the
    constants, is taken at the start of each step.  For any
    program (the generic counterpart of :func:`float32_polynomial` for fused Horner forms).

    Returns
    -------
    Program
        The best constants met (the program itself when none was better).
    """
    from scipy.optimize import least_squares

    prog = program.simplified()
    if not prog.consts:
        return prog
    X, f = _grid(target, grid)
    w = target.weights(f)
    start = np.array(prog.consts, dtype=np.float64)

    def worst(c) -> float:
        if not np.all(np.isfinite(c)):
            return np.inf  # a solver's step past float64's range: no program
        y, b = rounding_bound(prog.with_consts([float(v) for v in c]), X)
        value = float(np.max(w * (np.abs(y - f) + b)))
        return value if np.isfinite(value) else np.inf

    best, best_value = start, worst(start)
    if not np.isfinite(best_value):
        return prog
    c = start
    scale = np.where(start != 0, np.abs(start), 1.0)
    # First the approximation alone, then with the bound: from the start directly, the bound's
    # steps (where it is largest, near one end) hold the max and leave the error elsewhere to
    # grow, a worse point to leave from.
    for counted, p in [(False, p) for p in powers] + [(True, p) for p in powers]:
        y, b = rounding_bound(prog.with_consts([float(v) for v in c]), X)
        b = b if counted else np.zeros_like(X)
        # Measured against the step's starting max, so the p-th powers stay near 1.
        unit = float(np.max(w * (np.abs(y - f) + b)))
        if not (np.isfinite(unit) and unit > 0):
            break

        def residual(v, b=b, p=p, counted=counted, unit=unit):
            e = rounding_bound(prog.with_consts([float(u) for u in v]), X)[0] - f
            # Signed while the bound is not counted: smooth where the error crosses zero.
            r = (w * (np.abs(e) + b) / unit) ** (p / 2) * (1.0 if counted else np.sign(e))
            return np.where(np.isfinite(r), r, 1e300)

        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a trial step into overflow is refused
            try:
                c = least_squares(residual, c, x_scale=scale, max_nfev=max_evals, xtol=1e-15, ftol=1e-15,
                                  gtol=1e-15).x
            except ValueError:  # a residual that is not finite at the start
                break
        value = worst(c)
        if value < best_value:
            best, best_value = c, value
    return prog.with_consts([float(v) for v in best])


def tune_float32(program: Program, target: Target, points=None, steps=(1, 2, 4, 8, 16, 64, 256),
                 rounds: int = 40, prefit: bool = True, refine: int = 0) -> tuple[Program, int, float]:
    """The program with float32 constants minimising its float32 error on a dense set.

    Parameters
    ----------
    program : Program
        Its constants (float64) are the starting point, rounded to float32 (those beyond its
        range to the largest finite float32, :func:`float32_constants`; every constant met is
        a finite float32).
    target : Target
    points : (X32, ref32, exact), optional
        The dense set (default :func:`dense_float32`).
    steps : sequence of int
        Moves tried for each constant, in float32 ULPs (both signs).
    rounds : int
        At most this many improving moves.
    prefit : bool
        Also start from :func:`fit_rounding`'s constants (the error before the last rounding,
        inner roundings counted, made smallest in float64) and keep the better of the two
        searches.
    refine : int
        At most this many times, check every float of the top three binades of the interval
        (where errors peak; 2^x on [0, 1]: [1/8, 1], 2^24 + 2^23 floats, a second or two), add
        the worst float of each block of 8,192 that is off by more than the set's max to the
        set, and search on; then check once more.  Of the programs met (the start included)
        the best on the grown set is returned: its figure is then exact over the top binades,
        and the dense set's elsewhere.  0 by default: the search, which tunes every new front
        program, picks its front on its training grid, where such rare floats do not show, and
        refines only its final front.

    Returns
    -------
    (Program, int, float)
        The program (its constants exactly float32 values), its max ULP error on the (grown)
        dense set and its max error there in ULPs of the exact values.
    """
    points = points if points is not None else dense_float32(target)
    start = program.simplified()
    start = start.with_consts([float(c) for c in float32_constants(start.consts)])
    found = [_coordinate_search(start, points, steps, rounds)]
    if prefit and program.consts:
        found.append(_coordinate_search(fit_rounding(program, target), points, steps, rounds))
    prog, score = min(found, key=lambda pair: pair[1])
    # The prefit's start is not the program's own: a tuning must beat the constants it started
    # from, or they stay (the start comes first: ties keep it).
    met = [start, prog]
    for look in range(refine + 1 if refine else 0):
        # Every float of the top binades, where the errors peak: those worse than the set's max
        # join it, the start's too on the first look (it is the fallback), and the search goes
        # on from where it stopped; the last look only checks its result.
        missed = _missed([start, prog] if look == 0 else [prog], target, score[0])
        if missed is None:
            break
        points = tuple(np.concatenate([a, b]) for a, b in zip(points, missed))
        if look == refine:
            break
        prog, score = _coordinate_search(prog, points, steps, rounds)
        met.append(prog)
    scores = score_float32(met, points)
    best = min(range(len(met)), key=scores.__getitem__)
    return met[best], scores[best][0], scores[best][2]


def _top_floats(target: Target, binades: int, chunk: int = 1 << 22):
    """Chunks of every float32 of the interval of magnitude at least 2^-binades of the largest."""
    edge = float(np.max(np.abs(np.array(target.interval, dtype=np.float64)))) * 2.0**-binades
    for lo, hi in ((-np.inf, -edge), (edge, np.inf)):
        try:
            a, b = float32_span((max(lo, target.interval[0]), min(hi, target.interval[1])))
        except ValueError:
            continue
        for s in range(a, b + 1, chunk):
            yield float32_range(s, min(b + 1, s + chunk))


def _missed(programs, target: Target, above: int, binades: int = 3):
    """(X32, ref32, exact) of the worst float of each block of the top ``binades`` binades
    where a program is more than ``above`` ULPs off (the correctly rounded values computed once
    for all), or None."""
    found = []
    for X in _top_floats(target, binades):
        ref, exact = reference32(target, X)
        i = np.unique(np.concatenate([group_worst(prog, X, ref, above) for prog in programs]))
        if i.size:
            found.append((X[i], ref[i], exact[i]))
    if not found:
        return None
    return tuple(np.concatenate(parts) for parts in zip(*found))


# The ordered integer of the largest finite float32 (3.4028235e38): moves stop there, since
# one step on is an infinity and the next ones NaNs, which no program can carry as constants.
_LARGEST = int(ordered(np.array([np.finfo(np.float32).max]))[0])


def float32_constants(consts) -> np.ndarray:
    """Constants as float32 values: rounded to nearest, and those beyond float32's range (a
    float64 tuning may leave a constant at 1e39 where only its size matters) to the largest
    finite float32 of their sign instead of an infinity.

    Parameters
    ----------
    consts : sequence of float
        Finite float64 values.

    Returns
    -------
    ndarray of float32
        Finite values.
    """
    largest = float(np.finfo(np.float32).max)
    return np.clip(np.array(consts, dtype=np.float64), -largest, largest).astype(np.float32)


def _coordinate_search(prog: Program, points, steps, rounds) -> tuple[Program, tuple[int, int, float]]:
    """:func:`tune_float32`'s moves from the program's constants rounded to float32 (within its
    finite values, :func:`float32_constants`)."""
    X, ref, exact = points
    K = len(prog.consts)
    current = ordered(float32_constants(prog.consts))

    def scores(candidates: np.ndarray) -> list[tuple[int, int, float]]:
        packed = pack([prog] * len(candidates))
        consts32 = np.zeros((len(candidates), packed.consts.shape[1]), dtype=np.float32)
        consts32[:, :K] = from_ordered(candidates)
        w, _, we, at = ulp_scan(packed, consts32, X, ref, exact)
        return [(int(a), int(b), float(c)) for a, b, c in zip(w, at, we)]

    best = scores(current[None, :])[0]
    if K == 0:
        return prog, best
    moves = np.array([(k, s) for k in range(K) for step in steps for s in (step, -step)])
    for _ in range(rounds):
        candidates = np.repeat(current[None, :], len(moves), axis=0)
        candidates[np.arange(len(moves)), moves[:, 0]] += moves[:, 1]
        # A move past the largest finite float32 stops at it (a repeat of a candidate, never better).
        np.clip(candidates, -_LARGEST, _LARGEST, out=candidates)
        found = scores(candidates)
        i = min(range(len(moves)), key=found.__getitem__)
        if found[i] >= best:
            break
        best, current = found[i], candidates[i]
    return prog.with_consts([float(c) for c in from_ordered(current)]), best


@dataclass(frozen=True)
class Float32Fit:
    """A polynomial fitted for fused-Horner evaluation in float32 (:func:`float32_polynomial`).

    Attributes
    ----------
    coefficients : tuple of float
        Float32 values, lowest degree first.
    approximation : float
        Max over the fit's grid of |p(x) - f(x)| in float32 ULPs of f(x) (exact arithmetic with
        these coefficients).
    estimate : float
        Max of that error plus the bound of the inner steps' roundings: the error before the last
        rounding, at worst; under 1 the result is within one ULP of the correctly rounded value
        wherever the grid tells the truth.
    real_estimate : float
        The programme's optimum over real coefficients, before they are fixed to float32: with
        ``rounding`` the smallest ``estimate`` any polynomial of the degree evaluated this way can
        have (on the grid), without it the smallest ``approximation`` -- when HiGHS solves it: at
        high degrees (7 for 2^x) it can give up, and this is then the starting fit's figure.
    """

    coefficients: tuple[float, ...]
    approximation: float
    estimate: float
    real_estimate: float

    @property
    def program(self) -> Program:
        """The fused-Horner program: fma(x, ... fma(x, fma(x, c_n, c_(n-1)), c_(n-2)) ..., c_0),
        degree operations (what :func:`discovery.programs.baselines.fma_horner` makes of a Horner
        program)."""
        consts = tuple(reversed(self.coefficients))  # value 1 + i holds c_(n-i)
        n = len(consts) - 1
        instrs, acc = [], 1
        for i in range(1, n + 1):
            instrs.append(("fma", (0, acc, 1 + i)))
            acc = 1 + len(consts) + i - 1
        return Program(consts, tuple(instrs), acc)


def horner_rounding_bound(coefficients, X: np.ndarray) -> np.ndarray:
    """At each x, the bound sum_k |x|^k ulp(q_k(x))/2 of what the roundings of the inner fused
    Horner steps q_k = c_k + x q_(k+1) (k = degree-1 .. 1) move the result by (the last step's
    own rounding excluded), the ULPs taken at the exact step values."""
    c = [float(v) for v in coefficients]
    X = np.asarray(X, dtype=np.float64)
    q = np.full_like(X, c[-1])
    bound = np.zeros_like(X)
    for k in range(len(c) - 2, 0, -1):
        q = c[k] + X * q
        bound += np.abs(X) ** k * float32_spacings(q) / 2
    return bound


def _grid(target: Target, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev nodes with the end points, and the target's exact values (float64)."""
    X = np.unique(np.concatenate([target.grid(n), list(target.interval)]))
    return X, target.values(X)


def _minimax(V: np.ndarray, residual: np.ndarray, weight: np.ndarray, budget: np.ndarray) -> tuple[np.ndarray, float]:
    """Corrections d minimising t = max_i weight_i (|residual_i - (V d)_i| + budget_i), and among
    those the one with the smallest max_i weight_i |residual_i - (V d)_i| (where the budget
    dominates, at one end, t leaves the error elsewhere free: the second programme spends that
    freedom on the approximation).  Linear programmes in (d, t), columns scaled to unit size (the
    corrections are ~1e-7 of the coefficients; unscaled, HiGHS's 1e-7 tolerance would swallow
    them)."""
    A = weight[:, None] * V
    scale = np.abs(A).max(axis=0)
    scale[scale == 0] = 1.0
    A = A / scale
    r = weight * residual
    slack = weight * budget
    ones = np.ones((len(r), 1))
    zeros = np.zeros((len(r), 1))
    cost = np.zeros(A.shape[1] + 1)
    cost[-1] = 1.0
    free = [(None, None)] * (A.shape[1] + 1)
    both = np.vstack([np.hstack([A, -ones]), np.hstack([-A, -ones])])
    first = linprog(cost, A_ub=both, b_ub=np.concatenate([r - slack, -r - slack]), bounds=free, method="highs")
    if first.status != 0 or not slack.any():
        if first.status != 0:
            raise ValueError(f"the minimax linear programme failed: {first.message}")
        return first.x[:-1] / scale, float(first.x[-1])
    t = float(first.x[-1]) * (1 + 1e-9) + 1e-9
    held = np.vstack([np.hstack([A, zeros]), np.hstack([-A, zeros])])
    second = linprog(cost, A_ub=np.vstack([both, held]),
                     b_ub=np.concatenate([r, -r, r - slack + t, -r - slack + t]), bounds=free, method="highs")
    x = second.x if second.status == 0 else first.x
    return x[:-1] / scale, float(np.max(np.abs(r - A @ x[:-1]) + slack))


def float32_polynomial(target: Target, degree: int, grid: int = 512, rounding: bool = True,
                       neighbours: int = 2) -> Float32Fit:
    """The polynomial of a degree with float32 coefficients whose fused-Horner float32 evaluation
    has the smallest error before its last rounding, in float32 ULPs of the exact value.

    Parameters
    ----------
    target : Target
        Errors are weighed by :meth:`~discovery.programs.targets.Target.weights` (ULPs under
        ``ulp32``).
    degree : int
        At least 1.
    grid : int
        Chebyshev nodes of the fit (plus the end points).
    rounding : bool
        Count the bound of the inner steps' roundings (:func:`horner_rounding_bound`) with the
        approximation error; without it the fit is the weighted minimax with float32 coefficients.
    neighbours : int
        Float32 values tried on each side of a coefficient's current optimum when fixing it.

    Returns
    -------
    Float32Fit

    Raises
    ------
    ValueError
        For a degree below 1.
    """
    if degree < 1:
        raise ValueError(f"degree must be at least 1, got {degree}")
    X, f = _grid(target, grid)
    w = target.weights(f)
    V = np.vander(X, degree + 1, increasing=True)
    coeffs = np.polynomial.polynomial.polyfit(X, f, degree, w=w)

    def solve(fixed: int, c: np.ndarray, budget: np.ndarray) -> tuple[np.ndarray, float]:
        # Coefficients below ``fixed`` are kept; the others are corrected.
        try:
            d, _ = _minimax(V[:, fixed:], f - V @ c, w, budget)
        except ValueError:  # HiGHS gives up on the nearly dependent columns of a high degree
            d = np.zeros(len(c) - fixed)
        out = c.copy()
        out[fixed:] += d
        return out, float(np.max(w * (np.abs(f - V @ out) + budget)))

    zero = np.zeros_like(X)
    coeffs, real = solve(0, coeffs, zero)
    for _ in range(2):  # the bound depends (weakly) on the coefficients
        budget = horner_rounding_bound(coeffs, X) if rounding else zero
        coeffs, real = solve(0, coeffs, budget)
    for k in range(degree + 1):
        near = ordered(np.array([coeffs[k]], dtype=np.float32))[0]
        best = None
        for o in range(near - neighbours, near + neighbours + 1):
            c = coeffs.copy()
            c[k] = float(from_ordered(np.array([o]))[0])
            c, t = solve(k + 1, c, budget)
            if best is None or t < best[1]:
                best = (c, t)
        coeffs = best[0]
    approximation = float(np.max(w * np.abs(f - V @ coeffs)))
    estimate = float(np.max(w * (np.abs(f - V @ coeffs) + horner_rounding_bound(coeffs, X))))
    return Float32Fit(tuple(float(c) for c in coeffs), approximation, estimate, real)
