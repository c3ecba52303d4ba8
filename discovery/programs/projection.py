"""Variable projection: the constants of a program that can be solved for exactly, solved.

Local optimizers stall in the badly conditioned valleys of continued-fraction parameters, so a
structure would be judged by where the optimizer stopped rather than by what it can do.  Two
kinds of constants are solved here instead:

* **Linear constants.**  When the output is affine in a group of constants (a polynomial's
  coefficients, an added offset, an output scale), the minimax problem in them is a linear
  Chebyshev problem, solved exactly as a linear program (HiGHS) on the residual scaled to the
  current error, so its tolerances are relative to the error, not to the values.
* **A rational block.**  When the output, before k final squarings, is a rational function of x
  of degrees (m, n) (found exactly by :func:`discovery.programs.rational.rational_form`, constants
  replaced by fixed generic ones),
  its best possible values are those of the minimax rational of degrees (m, n) of the target's
  2^k-th root (Remez, :func:`discovery.programs.baselines.remez`, cached per target).  The
  program's constants are fitted to those values — a least-squares problem with zero residual
  when the structure can represent that rational, which Gauss-Newton solves from far away where
  fitting the target directly stalls — and then polished on the target itself.

:func:`project` runs both on top of :func:`discovery.programs.tuning.tune_minimax` and keeps,
per program, the best constants found.  It is deterministic: tuning a program twice gives the
same constants.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from functools import lru_cache
from typing import Sequence

import numba
import numpy as np

from discovery.programs.graph import Program
from discovery.programs.kernels import evaluate, population_errors
from discovery.programs.ops import ADD, ARITY, CODE, DIV, FMA, HALF, MUL, MUL2, SUB, apply
from discovery.programs.rational import rational_form
from discovery.programs.targets import Target
from discovery.programs.tuning import output_squarings, tune_minimax, value_and_jacobian
from discovery.programs.baselines import remez, root_target

_NONLINEAR = 2
_MAX_FRACTION_DEGREE = 64


class _NotRational(Exception):
    """Raised by the analysis arithmetics below for an operation outside their algebra (sqrt)."""


def _refuse(_value):
    raise _NotRational


def _run(program: Program, x, consts):
    """The program's output in the arithmetic of ``x`` and ``consts`` (the meaning of every
    operation comes from :func:`discovery.programs.ops.apply`), or None outside that algebra."""
    values = [x, *consts]
    try:
        for op, (a, b, c) in program.instructions:
            values.append(apply(op, values[a], values[b], values[c], _refuse))
    except (_NotRational, ZeroDivisionError):
        return None
    return values[program.output]


# --- linear constants -----------------------------------------------------------------------
class _Degree:
    """Degree in a group of constants: 0, 1, or 2 for anything not affine.  Plain numbers (the
    2 of ``2 * a`` and ``a / 2``) have degree 0."""

    def __init__(self, d: int):
        self.d = min(d, _NONLINEAR)

    @staticmethod
    def of(v) -> int:
        return v.d if isinstance(v, _Degree) else 0

    def __add__(self, other):
        return _Degree(max(self.d, _Degree.of(other)))

    __radd__ = __sub__ = __rsub__ = __add__

    def __mul__(self, other):
        return _Degree(self.d + _Degree.of(other))

    __rmul__ = __mul__

    def __truediv__(self, other):
        return _Degree(self.d if _Degree.of(other) == 0 else _NONLINEAR)

    def __rtruediv__(self, other):
        return _Degree(_NONLINEAR if self.d else _Degree.of(other))


def _degree(program: Program, group: set) -> int:
    """Degree of the output in the constants of ``group`` (0, 1, or 2 for anything not affine)."""
    consts = [_Degree(1 if k in group else 0) for k in range(len(program.consts))]
    out = _run(program, _Degree(0), consts)
    return _NONLINEAR if out is None else _Degree.of(out)


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


def chebyshev_step(A: np.ndarray, b: np.ndarray, radius: float | None = None) -> np.ndarray | None:
    """The δ minimising max |b + A δ| (a linear program, HiGHS), each |δ_k| at most ``radius``
    when given; None when the solver fails."""
    from scipy.optimize import linprog

    K = A.shape[1]
    ones = np.ones((A.shape[0], 1))
    res = linprog(np.r_[np.zeros(K), 1.0], A_ub=np.block([[A, -ones], [-A, -ones]]), b_ub=np.r_[-b, b],
                  bounds=[(None if radius is None else -radius, radius)] * K + [(0, None)], method="highs")
    return res.x[:K] if res.status == 0 else None


def solve_linear(program: Program, target: Target, X: np.ndarray, T: np.ndarray, rounds: int = 3) -> Program:
    """The program with its linear constants (:func:`linear_constants`) set to the exact minimax
    solution over the points X, the other constants fixed.

    Each round solves the linear program min t subject to |w (r + Φ δ)| <= t for a correction δ,
    with r the current residual scaled by its maximum and Φ's columns by theirs; the program is
    returned unchanged when that does not lower the maximum error.
    """
    group = linear_constants(program)
    if not group:
        return program
    W = 1.0 / np.abs(T) if target.relative else np.ones_like(T)
    best, best_err = program, _max_weighted(program, X, T, W)
    for _ in range(rounds):
        # The output is affine in the group: its derivatives in them are the problem's columns.
        y, J = value_and_jacobian(best, X)
        consts = np.array(best.consts)
        Phi = J[:, group] * W[:, None]
        r = (y - T) * W
        E = np.max(np.abs(r))
        scale = np.max(np.abs(Phi), axis=0)
        if not (np.isfinite(E) and E > 0 and np.all(np.isfinite(Phi)) and np.all(scale > 0)):
            break
        delta = chebyshev_step(Phi / scale, r / E)
        if delta is None:
            break
        with np.errstate(all="ignore"):
            consts[group] += delta * E / scale
        if not np.all(np.isfinite(consts)):
            break
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
    # Generic constants (dyadic, so exact as floats), the same every time; blocks of higher
    # degree than any solved here are not analysed.
    n_consts, instructions, output = structure
    rng = np.random.default_rng(12345)
    consts = tuple(float(rng.integers(3, 997)) / 64 for _ in range(n_consts))
    form = rational_form(Program(consts, instructions, output), max_degree=_MAX_FRACTION_DEGREE)
    if form is None or form[0].is_zero():
        return None
    return form[0].degree(), form[1].degree()


def rational_degrees(program: Program, value: int | None = None) -> tuple[int, int] | None:
    """Degrees (m, n) of a value of the program (default: the output) as a rational function of
    x for generic constants, or None when it is not rational (a square root)."""
    sub = Program(program.consts, program.instructions, program.output if value is None else value).simplified()
    return _rational_degrees_of((len(sub.consts), sub.instructions, sub.output))


def _fraction(program: Program, consts: np.ndarray, Z: np.ndarray):
    """Numerator and denominator of the output at the points Z, with their derivatives in the
    constants (complex arrays (1 + K, len(Z)): row 0 the values, row 1 + k their derivatives in
    c_k, forward mode), or None when the program is not rational (a square root).

    Common factors are never cancelled (the N/D of a sum is (Na Db + Nb Da)/(Da Db)), so N and D
    are polynomials in x and the constants, and N Q = D P at enough points says exactly that
    N/D = P/Q.  The Gauss-Newton fits of :func:`_match_rational` call this a hundred thousand
    times in a search of a few minutes: it runs in :func:`_fraction_kernel`.
    """
    codes, args = _plan(program.instructions)
    out = _fraction_kernel(codes, args, np.asarray(consts, dtype=np.float64), np.asarray(Z, dtype=np.complex128),
                           program.output)
    return out


@lru_cache(maxsize=1024)
def _plan(instructions: tuple) -> tuple[np.ndarray, np.ndarray]:
    """A program's operation codes and operand indices as arrays for the kernel."""
    codes = np.array([CODE[op] for op, _ in instructions], dtype=np.int64)
    args = np.array([a for _, a in instructions], dtype=np.int64).reshape(-1, 3)
    return codes, args


@numba.njit(cache=True)
def _dual_mul(a, b, out):
    """out = a b for values with derivatives (rows as in :func:`_fraction`)."""
    for m in range(a.shape[1]):
        a0, b0 = a[0, m], b[0, m]
        for k in range(1, a.shape[0]):
            out[k, m] = a[k, m] * b0 + a0 * b[k, m]
        out[0, m] = a0 * b0


@numba.njit(cache=True)
def _fraction_kernel(codes, args, consts, Z, output):
    K, M = consts.size, Z.size
    V = 1 + K + codes.size
    num = np.zeros((V, 1 + K, M), dtype=np.complex128)
    den = np.zeros((V, 1 + K, M), dtype=np.complex128)
    num[0, 0] = Z
    den[0, 0] = 1.0
    for k in range(K):
        num[1 + k, 0] = consts[k]
        num[1 + k, 1 + k] = 1.0
        den[1 + k, 0] = 1.0
    t1 = np.empty((1 + K, M), dtype=np.complex128)
    t2 = np.empty((1 + K, M), dtype=np.complex128)
    for t in range(codes.size):
        v = 1 + K + t
        a, b, c = args[t, 0], args[t, 1], args[t, 2]
        code = codes[t]
        if code == ADD or code == SUB:
            _dual_mul(num[a], den[b], t1)
            _dual_mul(num[b], den[a], t2)
            num[v] = t1 + t2 if code == ADD else t1 - t2
            _dual_mul(den[a], den[b], den[v])
        elif code == MUL:
            _dual_mul(num[a], num[b], num[v])
            _dual_mul(den[a], den[b], den[v])
        elif code == DIV:
            _dual_mul(num[a], den[b], num[v])
            _dual_mul(den[a], num[b], den[v])
        elif code == FMA:  # a b + c, as a product then a sum
            _dual_mul(num[a], num[b], t1)
            _dual_mul(den[a], den[b], t2)
            _dual_mul(t1, den[c], num[v])
            _dual_mul(num[c], t2, t1)
            num[v] += t1
            _dual_mul(t2, den[c], den[v])
        elif code == MUL2:
            num[v] = num[a] * 2.0
            den[v] = den[a]
        elif code == HALF:
            num[v] = num[a]
            den[v] = den[a] * 2.0
        else:  # a square root: not a rational function
            return None
    return num[output].copy(), den[output].copy()


def _match_rational(program: Program, P: np.ndarray, Q: np.ndarray, interval, iterations: int = 40,
                    frozen: np.ndarray | None = None) -> Program | None:
    """Constants making the program's output equal P/Q (coefficients lowest first), by
    Gauss-Newton with a line search on N Q - D P at points around the interval, the constants
    flagged ``frozen`` kept as they are; None if it does not get there.

    N Q - D P is a polynomial in x and the constants (no poles, unlike the output itself), and
    on a circle around the interval its values are as well conditioned as its coefficients,
    where matching values on the interval is not (monomials are nearly dependent there); so
    this converges from constants far off.
    """
    lo, hi = interval
    Z = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.exp(2j * np.pi * (np.arange(64) + 0.5) / 64)
    Pz, Qz = np.polyval(P[::-1], Z), np.polyval(Q[::-1], Z)
    c = np.array(program.consts, dtype=float)
    with np.errstate(all="ignore"):
        nd = _fraction(program, c, Z)
        if nd is None:
            return None
        weight = 1.0 / (np.abs(nd[0][0] * Qz) + np.abs(nd[1][0] * Pz))  # fixed: the equations stay polynomial

    def residual(consts):
        with np.errstate(all="ignore"):
            N, D = _fraction(program, consts, Z)
            E = (N * Qz - D * Pz) * weight
        J = np.hstack([E[1:].real, E[1:].imag]).T
        if frozen is not None:
            J[:, frozen] = 0.0  # the least-norm step leaves them where they are
        return np.r_[E[0].real, E[0].imag], J

    r, J = residual(c)
    with np.errstate(all="ignore"):  # far-off trials overflow; the line search refuses them
        c = _gauss_newton(residual, c, r, J, iterations)
    return program.with_consts(c) if c is not None and np.all(np.isfinite(c)) else None


def _gauss_newton(residual, c, r, J, iterations: int):
    """Gauss-Newton with column scaling and a halving line search; None on non-finite values."""
    for _ in range(iterations):
        if not (np.all(np.isfinite(r)) and np.all(np.isfinite(J))):
            return None
        norm = np.linalg.norm(r)
        if norm < 1e-14:  # relative to the starting mismatch, about 1: at double precision's floor
            break
        scale = np.abs(J).max(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        step = np.linalg.lstsq(J / scale, -r, rcond=None)[0] / scale
        lam, moved = 1.0, False
        while lam > 1e-6:
            trial = c + lam * step
            rt, Jt = residual(trial)
            if np.linalg.norm(rt) < norm:
                c, r, J, moved = trial, rt, Jt, True
                break
            lam /= 2
        if not moved:
            break
    return c


@lru_cache(maxsize=256)
def _minimax_rational(target: Target, m: int, n: int, squarings: int) -> tuple | None:
    """Coefficients (lowest first) of the minimax rational (m, n) of f^(1/2^k), or None."""
    g = root_target(target, squarings) if squarings else target
    try:
        p, q = remez(g, m, n)
    except (ZeroDivisionError, ValueError, ArithmeticError):
        return None
    return np.array([float(v) for v in p]), np.array([float(v) for v in q])


def _centred(block: Program, interval) -> tuple[np.ndarray, np.ndarray]:
    """The block's constants with every offset of x that several operations use (x + c used
    twice or more) moved to the centre of the interval, and a mask of those offsets.  The
    continued fractions of functions with f(c + u) f(c - u) constant (2^x) share one centred
    offset between their deeper levels, and Gauss-Newton cannot move an offset that several
    levels share: the other constants are matched with it held at the centre first."""
    mid = 0.5 * (interval[0] + interval[1])
    consts = np.array(block.consts)
    offsets = np.zeros(consts.size, dtype=bool)
    base = 1 + consts.size
    uses = Counter(v for op, args in block.instructions for v in args[: ARITY[op]])
    for t, (op, args) in enumerate(block.instructions):
        a, b = args[:2]
        if op in ("add", "sub") and 0 in (a, b) and 1 <= a + b < base and uses[base + t] > 1:
            consts[a + b - 1] = -mid if op == "add" else mid
            offsets[a + b - 1] = True
    return consts, offsets


# Fits per structure: a structure's fit to a rational depends on its starts, not on the constants
# it came with (the random starts and the symmetric ones decide), so a structure the search meets
# again -- children that only moved constants, neighbours of several front programs -- is not
# fitted again.  Bounded, oldest first out.
_FITS: OrderedDict = OrderedDict()
_FITS_MAX = 4096


def _match_block(block: Program, coeffs: tuple, target: Target, starts: int = 6) -> Program | None:
    """:func:`_fit_block`, remembered per structure (see ``_FITS``)."""
    key = (len(block.consts), block.instructions, block.output, target.name, target.interval, target.error,
           coeffs[0].tobytes(), coeffs[1].tobytes(), starts)
    if key in _FITS:
        _FITS.move_to_end(key)
        consts = _FITS[key]
    else:
        fitted = _fit_block(block, coeffs, target, starts)
        consts = None if fitted is None else fitted.consts
        _FITS[key] = consts
        if len(_FITS) > _FITS_MAX:
            _FITS.popitem(last=False)
    return None if consts is None else block.with_consts(consts)


def _fit_block(block: Program, coeffs: tuple, target: Target, starts: int = 6) -> Program | None:
    """The block with constants making it the rational ``coeffs``, or, when its structure cannot
    represent that rational (fewer constants than it has parameters), the closest of its
    least-squares fits; None when no fit comes within a factor 2 of it.

    Gauss-Newton runs from the block's own constants, from them with the linear ones negated,
    with near-zero ones grown to the size of the largest, with shared offsets held at the centre
    (:func:`_centred`), and then from ``starts`` fixed random rescalings.  The negated start is
    the parity of symmetric fractions: P(t)/P(-t) tends to +1 or -1 at infinity as P's degree
    is even or odd, so a continued fraction one level deeper has its outer constants of the
    other sign; a fresh Möbius step starts near r = 0, where the fit stays at the parent's
    rational.
    """
    X = target.tuning[0]
    R = np.polyval(coeffs[0][::-1], X) / np.polyval(coeffs[1][::-1], X)
    rng = np.random.default_rng(0)
    consts = np.array(block.consts)
    centred, offsets = _centred(block, target.interval)
    flip = np.ones(consts.size)
    flip[linear_constants(block)] = -1.0
    # A fresh step's constant starts near 0, where the fit stays at the parent's rational.
    largest = np.max(np.abs(consts), initial=0.0)
    tiny = np.abs(consts) < 1e-2 * largest
    trials = []
    for base, frozen in [(consts, None)] + ([(centred, offsets)] if offsets.any() else []):
        for sign in (1.0, flip):
            trials.append((base * sign, frozen))
            if tiny.any():
                trials += [(np.where(tiny, grown, base * sign), frozen) for grown in (largest, -largest)]
    for attempt in range(starts):
        scale = np.exp(rng.normal(0, 1.5, consts.size)) * rng.choice([-1, 1], consts.size)
        held = offsets.any() and attempt % 2 == 1
        with np.errstate(over="ignore"):
            trials.append((centred * np.where(offsets, 1.0, scale), offsets) if held else (consts * scale, None))
    best, best_gap = None, 0.5
    for start, frozen in trials:
        if not np.all(np.isfinite(start)):
            continue  # a random scale of an already huge constant overflows
        fitted = _match_rational(block.with_consts(start), *coeffs, target.interval, frozen=frozen)
        if fitted is not None and frozen is not None:
            fitted = _match_rational(fitted, *coeffs, target.interval) or fitted
        if fitted is None:
            continue
        with np.errstate(all="ignore"):
            gap = np.abs(evaluate(fitted, X) / R - 1.0)
        # NaN only where the structure divides 0/0 (a removable point the float grid hits).
        if np.mean(np.isnan(gap)) >= 0.01:
            continue
        worst = float(np.max(np.nan_to_num(gap, nan=0.0)))
        if worst < 1e-9:
            return fitted
        if worst < best_gap:
            best, best_gap = fitted, worst
    return best


def rational_start(programs: Sequence[Program], target: Target, max_degree: int = 8,
                   thorough: bool = False) -> list[Program | None]:
    """Per program, constants that make its rational block (the output before its final
    squarings) equal the minimax rational of the target's matching root, or the closest of
    their least-squares fits; None where the program has no such block or no fit comes close.

    A structure with fewer constants than an (m, n) rational's m + n + 1 parameters may still
    represent the minimax one through a symmetry (the continued fractions of 2^x repeat the
    centre as offset); with one fewer it is fitted always, and with fewer down to max(m, n) + 1
    (x + r/x in place of a centred level comes close) only when ``thorough``, with 16 random
    starts instead of 6: those fits run every start, worth it for the front's neighbours only.
    """
    X, T = target.tuning
    positive = target.relative and bool(np.all(T > 0))
    out: list[Program | None] = []
    for p in programs:
        k, v = output_squarings(p)
        degrees = rational_degrees(p, v) if (positive or not k) and p.consts else None
        least = max(degrees) + 1 if thorough and degrees else sum(degrees or ())
        usable = degrees is not None and max(degrees) <= max_degree and len(
            Program(p.consts, p.instructions, v).simplified().consts) >= least
        coeffs = _minimax_rational(target, *degrees, k) if usable else None
        block = Program(p.consts, p.instructions, v)
        fitted = _match_block(block, coeffs, target, 16 if thorough else 6) if coeffs else None
        out.append(None if fitted is None else p.with_consts(fitted.consts))
    return out


def project(
    programs: Sequence[Program], target: Target, outer: int = 30, rational: bool = True,
    tuned: Sequence[tuple[Program, float]] | None = None, thorough: bool = False,
) -> list[tuple[Program, float]]:
    """Tune programs with their exactly solvable constants solved (see the module docstring).

    Parameters
    ----------
    programs : sequence of Program
    target : Target
    outer : int
        Lawson reweightings of the polishing minimax fits.
    rational : bool
        Also try the rational-block start (Remez, cached per degrees: slower, for the front and promising
        children).
    thorough : bool
        Fit rational blocks with fewer constants too, from more starts (:func:`rational_start`).
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
        fits = rational_start(programs, target, thorough=thorough)
        todo = [(i, s) for i, s in enumerate(fits) if s is not None]
        if todo:
            polished = tune_minimax([s for _, s in todo], target, outer=outer)
            for (i, _), (q, e) in zip(todo, polished):
                if e < best[i][1]:
                    best[i] = (q, e)
    Xt, Tt = target.training
    solved = [solve_linear(p, target, Xt, Tt) for p, _ in best]
    errors = population_errors(solved, Xt, Tt, target.relative)
    return [(s, float(e)) if e < b[1] else b for s, e, b in zip(solved, errors, best)]
