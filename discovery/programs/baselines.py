"""Classical approximations as programs: Taylor, Padé, minimax polynomial and minimax rational.

The minimax approximations are computed here with mpmath by the Remez exchange algorithm
(for rationals, with the levelled error found by the classical linearised iteration), in the
target's error mode (relative or absolute).  Polynomials are evaluated by Horner's rule (2·degree
operations); rationals p/q with q monic (2·deg p + 2·deg q operations), or as a continued
fraction (3·n operations for degrees (n, n)).  For a positive target f the classical
argument-free trick f = (f^(1/2^k))^(2^k) adds the squared continued fraction: the minimax
rational of f^(1/2^k), squared k times (3·n + k operations, fewer when the fraction repeats an
offset and the repeat is merged).  :func:`classical_programs` lists those that fit an operation
budget and an operation set: the seeds of program search.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import mpmath
import numpy as np

from discovery.expressions import substitute
from discovery.programs.graph import BASIC_OPS, Program, horner, rational
from discovery.programs.ops import ARITY, uses_only
from discovery.programs.targets import Target
from discovery.programs.tuning32 import dense_float32, float32_polynomial, score_float32, tune_float32
from discovery.programs.bound import enclosable, error_bound
from discovery.programs.verify import float32_ulp_errors
from discovery.programs.verify import max_error

_DPS = 40


@dataclass(frozen=True)
class Baseline:
    """A classical approximation.

    Attributes
    ----------
    method : str
        ``taylor``, ``pade``, ``minimax-polynomial``, ``minimax-rational`` or ``minimax-cf``
        (a continued fraction, possibly squared); the last three prefixed ``even`` or ``odd``
        for the forms in x² of :func:`symmetric_builds`.
    degrees : tuple of int
        (degree,), (numerator degree, denominator degree) or, for ``minimax-cf``, (n, n, k)
        with k squarings.
    program : Program
    ops : int
        Operation count.
    max_error : float
        The scanned maximum error (:func:`discovery.programs.verify.max_error`), an estimate.
    bound : float or None
        The proven bound (:func:`discovery.programs.bound.error_bound`; inf when none was
        proved, None when the target has a function that cannot be enclosed).
    """

    method: str
    degrees: tuple[int, ...]
    program: Program
    ops: int
    max_error: float
    bound: float | None

    @property
    def label(self) -> str:
        """The method and degrees as a listing shows them (``minimax-cf (3, 3) squared 2x``)."""
        if len(self.degrees) == 1:
            return f"{self.method} {self.degrees[0]}"
        if len(self.degrees) == 3:
            n, _, k = self.degrees
            return f"{self.method} ({n}, {n})" + (f" squared {k}x" if k else "")
        return f"{self.method} {self.degrees}"


def _shift_to_monomial(coeffs_low_first, x0):
    """Coefficients of sum c_k (x - x0)^k in powers of x, lowest first."""
    n = len(coeffs_low_first)
    out = [mpmath.mpf(0)] * n
    for k, c in enumerate(coeffs_low_first):
        for j in range(k + 1):
            out[j] += c * mpmath.binomial(k, j) * (-x0) ** (k - j)
    return out


def _f(target: Target):
    return lambda x: target.mp(x)


def taylor_coefficients(target: Target, degree: int, x0=None) -> list:
    """Taylor coefficients about the interval's midpoint, in powers of x, lowest first."""
    lo, hi = target.interval
    x0 = mpmath.mpf(lo + hi) / 2 if x0 is None else mpmath.mpf(x0)
    with mpmath.workdps(_DPS):
        return _shift_to_monomial(mpmath.taylor(_f(target), x0, degree), x0)


def _dense(target: Target, n: int = 3000) -> list:
    lo, hi = (mpmath.mpf(v) for v in target.interval)
    pts = [lo + (hi - lo) * (1 - mpmath.cos(mpmath.pi * k / (n - 1))) / 2 for k in range(n)]
    return pts


@lru_cache(maxsize=64)
def _dense_values(target: Target) -> tuple[list, list]:
    """The dense Remez grid and the target's values there (at ``_DPS`` digits), computed once
    per target: every degree of a search's rational blocks reuses them."""
    with mpmath.workdps(_DPS):
        xs = _dense(target)
        return xs, [target.mp(x) for x in xs]


def _alternating_extrema(xs, errs, count):
    """Reference points: local extrema of err with alternating signs, the ``count`` largest."""
    idx = [0] + [i for i in range(1, len(xs) - 1)
                 if abs(errs[i]) >= abs(errs[i - 1]) and abs(errs[i]) >= abs(errs[i + 1])] + [len(xs) - 1]
    merged = []
    for i in idx:
        if merged and mpmath.sign(errs[i]) == mpmath.sign(errs[merged[-1]]):
            if abs(errs[i]) > abs(errs[merged[-1]]):
                merged[-1] = i
        else:
            merged.append(i)
    while len(merged) > count:
        if abs(errs[merged[0]]) < abs(errs[merged[-1]]):
            merged.pop(0)
        else:
            merged.pop()
    return merged


def remez(target: Target, m: int, n: int, iterations: int = 40):
    """Minimax p/q (deg p = m, deg q = n, q(x) = 1 + ...) in the target's error mode (Remez).

    Parameters
    ----------
    target : Target
        Its error mode weights the error (:meth:`~discovery.programs.targets.Target.weight`:
        relative, absolute, or in float32 ULPs under ``ulp32``).
    m, n : int
        Degrees of the numerator and the denominator (n = 0: a polynomial).
    iterations : int
        At most this many exchanges of the reference points.

    Returns
    -------
    p, q : list of mpmath.mpf
        Coefficients, lowest degree first; ``q[0] = 1``.

    Raises
    ------
    ZeroDivisionError
        When a linear system of the exchange is singular.
    """
    with mpmath.workdps(_DPS):
        xs, fs = _dense_values(target)
        ws = [target.weight(f) for f in fs]
        N = m + n + 2
        lo, hi = (mpmath.mpf(v) for v in target.interval)
        ref = [lo + (hi - lo) * (1 - mpmath.cos(mpmath.pi * k / (N - 1))) / 2 for k in range(N)]
        p = q = None
        for _ in range(iterations):
            fr = [target.mp(x) for x in ref]
            wr = [target.weight(f) for f in fr]
            E = mpmath.mpf(0)
            qprev = [mpmath.mpf(1)] * N
            for _inner in range(30 if n else 1):
                A = mpmath.matrix(N, N)
                rhs = mpmath.matrix(N, 1)
                for i, x in enumerate(ref):
                    s = (-1) ** i
                    for k in range(m + 1):
                        A[i, k] = x**k
                    for k in range(1, n + 1):
                        A[i, m + k] = -fr[i] * x**k
                    A[i, N - 1] = -s * qprev[i] / wr[i]
                    rhs[i] = fr[i]
                sol = mpmath.lu_solve(A, rhs)
                p = [sol[k] for k in range(m + 1)]
                q = [mpmath.mpf(1)] + [sol[m + k] for k in range(1, n + 1)]
                E_new = sol[N - 1]
                qprev = [mpmath.polyval(q[::-1], x) for x in ref]
                done = abs(E_new - E) <= abs(E_new) * mpmath.mpf(10) ** -12
                E = E_new
                if done:
                    break
            errs = [(mpmath.polyval(p[::-1], x) / mpmath.polyval(q[::-1], x) - f) * w for x, f, w in zip(xs, fs, ws)]
            worst = max(abs(e) for e in errs)
            if worst <= abs(E) * (1 + mpmath.mpf(10) ** -5):
                break
            ref = [xs[i] for i in _alternating_extrema(xs, errs, N)]
            if len(ref) < N:
                break
        return p, q


def fma_horner(program: Program) -> Program:
    """A Horner polynomial (as :func:`discovery.programs.graph.horner` builds it) with every
    multiply-then-add step fused into one ``fma`` (degree operations instead of 2·degree)."""
    prog = program.simplified()
    base = 1 + len(prog.consts)
    instrs: list = []
    where: dict = {}  # old value index -> new value index
    t = 0
    while t < len(prog.instructions):
        op, (a, b, _) = prog.instructions[t]
        nxt = prog.instructions[t + 1] if t + 1 < len(prog.instructions) else None
        fuse = op == "mul" and nxt is not None and nxt[0] == "add" and nxt[1][0] == base + t
        if fuse:
            c = nxt[1][1]
            instrs.append(("fma", (where.get(a, a), where.get(b, b), where.get(c, c))))
            where[base + t + 1] = base + len(instrs) - 1
            t += 2
        else:
            instrs.append((op, tuple(where.get(v, v) for v in (a, b, _))))
            where[base + t] = base + len(instrs) - 1
            t += 1
    return Program(prog.consts, tuple(instrs), where.get(prog.output, prog.output)).simplified()


def minimax_polynomial(target: Target, degree: int) -> Program:
    """The minimax polynomial of a degree as a Horner program."""
    p, _ = remez(target, degree, 0)
    return horner([float(c) for c in reversed(p)])


def minimax_rational(target: Target, m: int, n: int) -> Program:
    """The minimax rational function of degrees (m, n) as a program with a monic denominator."""
    p, q = remez(target, m, n)
    return rational([float(c) for c in reversed(p)], [float(c) for c in reversed(q)])


def root_target(target: Target, k: int) -> Target:
    """The target f^(1/2^k), for a target positive on its interval (what a program squared k
    times at its output must approximate before the squarings).

    Raises
    ------
    ValueError
        When the target is not in relative error mode or not positive on its training grid.
    """
    X, T = target.training
    if not target.relative or np.any(T <= 0):
        raise ValueError(f"squaring needs a target positive on its interval; {target.name!r} is not")
    return Target(f"({target.name})^(1/{2**k})", f"({target.expr})**(1/{2**k})", target.interval, True)


def _divmod(num, den):
    """Quotient and remainder of polynomials (coefficients lowest first, mpmath numbers)."""
    num = list(num)
    quot = [mpmath.mpf(0)] * max(1, len(num) - len(den) + 1)
    for shift in range(len(num) - len(den), -1, -1):
        c = num[shift + len(den) - 1] / den[-1]
        quot[shift] = c
        for j, d in enumerate(den):
            num[shift + j] -= c * d
    rem = num[: len(den) - 1]
    return quot, rem


def minimax_continued_fraction(target: Target, n: int, squarings: int = 0) -> Program:
    """The minimax rational of degrees (n, n) of f^(1/2^k) as a continued fraction
    c0 + r1/(x + b1 + r2/(x + b2 + ... rn/(x + bn))), squared k = ``squarings`` times
    (3·n + k operations).

    Raises
    ------
    ValueError
        For n < 1, a target not positive on its interval (when squaring), or a degenerate
        continued fraction (a vanishing partial numerator).
    """
    if n < 1:
        raise ValueError(f"the continued fraction needs degree n >= 1, got {n}")
    g = root_target(target, squarings) if squarings else target
    p, q = remez(g, n, n)
    with mpmath.workdps(_DPS):
        lead = q[-1]
        if lead == 0:
            raise ValueError(f"degenerate minimax rational ({n}, {n}) of {g.name}")
        num, den = [c / lead for c in p], [c / lead for c in q]
        c0 = num[-1]
        rem = [a - c0 * b for a, b in zip(num, den)][:-1]
        partial, offsets = [], []
        for _ in range(n):
            rho = rem[-1]
            if abs(rho) < mpmath.mpf(10) ** (-_DPS // 2):
                raise ValueError(f"degenerate continued fraction of the ({n}, {n}) rational of {g.name}")
            monic = [c / rho for c in rem]
            quot, rem = _divmod(den, monic)  # quot = x + b
            partial.append(rho)
            offsets.append(quot[0])
            den = monic
            rem = rem[: len(monic) - 1] if len(monic) > 1 else []
    consts = [float(c0)] + [float(r) for r in partial] + [float(b) for b in offsets]
    # value indices: x = 0, c0 = 1, r_i = 2 + i, b_i = 2 + n + i
    instrs: list = []

    def emit(op, a, b):
        instrs.append((op, (a, b)))
        return 1 + len(consts) + len(instrs) - 1

    v = emit("add", 0, 2 + n + (n - 1))
    for i in range(n - 1, 0, -1):
        frac = emit("div", 2 + i, v)
        base = emit("add", 0, 2 + n + (i - 1))
        v = emit("add", base, frac)
    v = emit("add", 1, emit("div", 2, v))
    for _ in range(squarings):
        v = emit("mul", v, v)
    return Program(tuple(consts), tuple(instrs), v)


def cf_degrees(max_ops: int, max_squarings: int = 4) -> list[tuple[int, int]]:
    """(n, k) of the squared continued fractions that can fit in ``max_ops`` operations: 3·n + k
    as written, down to 2·n + 1 + k once repeated offsets are merged (an even-symmetric target
    such as 2^x about the middle of its interval shares x - 1/2 between all levels below the
    first)."""
    return [(n, k) for n in range(1, (max_ops - 1) // 2 + 1) for k in range(0, max_squarings + 1)
            if 2 * n + 1 + k <= max_ops]


def parity(target: Target) -> int:
    """1 for an even target (f(-x) = f(x)), -1 for an odd one (f(-x) = -f(x)), 0 for neither
    or where f(-x) cannot be evaluated; checked to 30 digits at seven points of the interval."""
    lo, hi = target.interval
    with mpmath.workdps(_DPS):
        try:
            pairs = [(target.mp(x), target.mp(-x)) for x in mpmath.linspace(lo, hi, 7)]
        except (ArithmeticError, ValueError, TypeError):  # mpmath's domain errors
            return 0
        tol = mpmath.mpf(10) ** -30
        for sign in (1, -1):
            if all(isinstance(b, mpmath.mpf) and abs(b - sign * a) <= tol * max(1, abs(a)) for a, b in pairs):
                return sign
    return 0


def square_target(target: Target, sign: int) -> Target:
    """What ``R`` must approximate for ``f(x) = R(x²)`` (``sign`` 1, an even target) or
    ``f(x) = x·R(x²)`` (``sign`` -1, an odd one), on the interval x² runs over, with the same error
    mode.  (Under absolute error an odd target's error is |x| times R's: this minimax fit is
    one of R, not of the weighted error, and its error no larger than R's where |x| <= 1.)"""
    lo, hi = target.interval
    u_hi = max(lo * lo, hi * hi)
    # f(x)/x is 0/0 at x = 0: the fit starts just above it (R is smooth there).
    u_lo = 0.0 if lo <= 0.0 <= hi else min(lo * lo, hi * hi)
    u_lo = max(u_lo, u_hi * 1e-24) if sign < 0 else u_lo
    root = substitute(target.expr, "x", "sqrt(x)")
    expr = f"({root})/sqrt(x)" if sign < 0 else root
    return Target(f"R of ({target.name}) in x^2", expr, (u_lo, u_hi), target.relative)


def of_square(program: Program, sign: int) -> Program:
    """``program`` of x² (``sign`` 1) or x times it (``sign`` -1): one or two operations more."""
    prog = program.simplified()
    base = 1 + len(prog.consts)

    def moved(a: int) -> int:  # the new first instruction, x·x, takes x's place
        return base if a == 0 else a + 1 if a >= base else a

    instrs = [("mul", (0, 0, 0))] + [(op, tuple(moved(a) if i < ARITY[op] else 0 for i, a in enumerate(args)))
                                     for op, args in prog.instructions]
    out = moved(prog.output)
    if sign < 0:
        instrs.append(("mul", (0, out, 0)))
        out = base + len(instrs) - 1
    return Program(prog.consts, tuple(instrs), out)


@lru_cache(maxsize=8)
def symmetric_builds(target: Target, max_ops: int) -> tuple[tuple[str, tuple, Program], ...]:
    """The minimax polynomials, rationals and continued fractions in x² of an even or odd
    target (times x for an odd one) that fit in ``max_ops`` operations, as
    ``(method, degrees, program)``; none for a target of neither parity.  A library author
    writes tanh or erf as x·R(x²): half the degrees for the same accuracy."""
    sign = parity(target)
    if sign == 0:
        return ()
    inner = square_target(target, sign)
    extra = 1 if sign > 0 else 2
    kind = "even" if sign > 0 else "odd"
    room = max_ops - extra  # Horner: two operations a degree; a continued fraction: three a level
    builds = [(f"{kind} minimax-polynomial", (d,), minimax_polynomial, (d,)) for d in range(1, room // 2 + 1)]
    builds += [(f"{kind} minimax-rational", (m, n), minimax_rational, (m, n))
               for m in range(0, room // 2 + 1) for n in range(1, room // 2 + 1) if 2 * (m + n) <= room]
    builds += [(f"{kind} minimax-cf", (n, n, 0), minimax_continued_fraction, (n,)) for n in range(1, room // 3 + 1)]
    out = []
    for method, degrees, build, args in builds:
        try:
            prog = of_square(build(inner, *args), sign).deduplicated()
        except (ZeroDivisionError, ValueError):
            continue  # a degenerate approximant
        if prog.cost <= max_ops:
            out.append((method, degrees, prog))
    return tuple(out)


def taylor(target: Target, degree: int) -> Program:
    """The Taylor polynomial about the interval's midpoint, by Horner's rule."""
    return horner([float(c) for c in reversed(taylor_coefficients(target, degree))])


def pade(target: Target, m: int, n: int) -> Program:
    """The Padé approximant of degrees (m, n) about the midpoint."""
    lo, hi = target.interval
    x0 = mpmath.mpf(lo + hi) / 2
    with mpmath.workdps(_DPS):
        coeffs = mpmath.taylor(_f(target), x0, m + n)
        p, q = mpmath.pade(coeffs, m, n)
        p, q = _shift_to_monomial(p, x0), _shift_to_monomial(q, x0)
    return rational([float(c) for c in reversed(p)], [float(c) for c in reversed(q)])


def baselines(target: Target, max_ops: int = 20) -> list[Baseline]:
    """Every classical approximation of at most ``max_ops`` operations, each with its scanned
    maximum error and its proven bound (a few hundredths of a second each)."""
    bounded = enclosable(target)

    def baseline(method, degrees, prog):
        bound = error_bound(prog, target).bound if bounded else None
        return Baseline(method, degrees, prog, prog.cost, max_error(prog, target), bound)

    out = []
    for d in range(1, max_ops // 2 + 1):
        for method, build in (("taylor", taylor), ("minimax-polynomial", minimax_polynomial)):
            try:
                prog = build(target, d)
            except (ZeroDivisionError, ValueError):
                continue  # Remez's system is numerically singular (exp(x) on [0, 1000] spans 434 decades)
            out.append(baseline(method, (d,), prog))
    for m in range(0, max_ops // 2 + 1):
        for n in range(1, max_ops // 2 + 1):
            if 2 * m + 2 * n > max_ops:
                continue
            for method, build in (("pade", pade), ("minimax-rational", minimax_rational)):
                try:
                    prog = build(target, m, n)
                except (ZeroDivisionError, ValueError):
                    continue  # a degenerate approximant (e.g. a vanishing leading coefficient)
                out.append(baseline(method, (m, n), prog))
    positive = target.relative and bool(np.all(target.training[1] > 0))
    # A continued fraction of an even-symmetric function repeats its offsets (x - 1/2 at every
    # level below the first for 2^x on [0, 1]); merged, as any careful implementer would, it
    # costs n - 1 operations less.
    for n, k in cf_degrees(max_ops):
        if k and not positive:
            continue
        try:
            prog = minimax_continued_fraction(target, n, k).deduplicated()
        except (ZeroDivisionError, ValueError):
            continue
        if prog.cost <= max_ops:
            out.append(baseline("minimax-cf", (n, n, k), prog))
    out += [baseline(method, degrees, prog) for method, degrees, prog in symmetric_builds(target, max_ops)]
    return sorted(out, key=lambda b: (b.ops, b.max_error))


FLOAT32_FITS = ("relative", "minimax", "float32")


def float32_polynomials(target: Target, max_degree: int = 8, fit: str = "minimax") -> list[Program]:
    """Polynomials of degree 1..``max_degree`` by fused Horner steps (:func:`fma_horner`, degree
    operations), for float32 evaluation.

    Parameters
    ----------
    fit : str
        ``relative``: the relative-error minimax polynomial (the textbook float32 one), its float64
        coefficients rounded to float32 by the float32 run; ``minimax``: the minimax polynomial in
        the target's own weighting (in float32 ULPs of the exact value under ``ulp32``: absolute
        within a binade), rounded the same way; ``float32``: the float32 fit of
        :func:`discovery.programs.tuning32.float32_polynomial` (float32 coefficients, the inner
        steps' rounding counted), the same without the rounding, and the minimax in the target's
        weighting, each tuned on float32 runs by :func:`discovery.programs.tuning32.tune_float32`,
        the best of the three on the tuner's dense set (:func:`~discovery.programs.tuning32.score_float32`).

    Raises
    ------
    ValueError
        For a degree below 1, an unknown fit, or the relative fit of a target with a zero.
    """
    if max_degree < 1:
        raise ValueError(f"max_degree must be at least 1, got {max_degree}")
    if fit not in FLOAT32_FITS:
        raise ValueError(f"unknown fit {fit!r} (known: {', '.join(FLOAT32_FITS)})")
    degrees = range(1, max_degree + 1)
    if fit == "relative":
        if not target.relative:
            raise ValueError(f"the relative fit needs a target without a zero; {target.name!r} has one")
        relative = Target(target.name, target.expr, target.interval, True)
        return [fma_horner(minimax_polynomial(relative, d)) for d in degrees]
    if fit == "minimax":
        return [fma_horner(minimax_polynomial(target, d)) for d in degrees]
    points = dense_float32(target)
    out = []
    for d in degrees:
        # The fit minimises the worst error before the last rounding; when that stays over one
        # ULP, how many floats end two ULPs off depends on where the excess lies, which the fit
        # does not weigh: the tuner, counting them, judges three starts.
        starts = [float32_polynomial(target, d).program, float32_polynomial(target, d, rounding=False).program,
                  fma_horner(minimax_polynomial(target, d))]
        tuned = [tune_float32(p, target, points, refine=3)[0] for p in starts]
        scores = score_float32(tuned, points)
        out.append(tuned[min(range(len(tuned)), key=scores.__getitem__)])
    return out


def float32_polynomial_baselines(target: Target, max_degree: int = 8,
                                 fit: str = "minimax") -> list[tuple[int, Program, dict]]:
    """The classical float32 implementations: :func:`float32_polynomials` of a ``fit`` (by default
    the minimax polynomial of the target's error mode: in float32 ULPs for ``ulp32``), checked on
    every float32 of the interval.

    Returns
    -------
    list of (ops, program, check)
        ``check`` is the :func:`discovery.programs.verify.float32_ulp_errors` report
        (``max_ulp``, ``max_ulp_exact``, ``at_max``, ...).
    """
    programs = float32_polynomials(target, max_degree, fit)
    return [(p.cost, p, check) for p, check in zip(programs, float32_ulp_errors(programs, target))]


def best_baseline(baseline_list: list[Baseline], ops: int) -> Baseline | None:
    """The most accurate baseline using at most ``ops`` operations."""
    fitting = [b for b in baseline_list if b.ops <= ops]
    return min(fitting, key=lambda b: b.max_error) if fitting else None


def classical_programs(target: Target, max_ops: int, ops: Sequence[str] = BASIC_OPS) -> list[Program]:
    """Minimax polynomials, rationals and (squared) continued fractions (Remez) of at most
    ``max_ops`` operations once repeated work is merged (the baselines' programs), those that use
    only ``ops``; with ``fma`` among them, also the minimax polynomials by fused Horner steps
    (one operation per degree) and, under ``ulp32``, the float32 fits of
    :func:`discovery.programs.tuning32.float32_polynomial`.

    These seed a program search (:meth:`discovery.programs.search.ProgramSearch.seeds`).

    Returns
    -------
    list of Program
        Polynomials by degree, then rationals and continued fractions; degenerate ones skipped.
    """
    out = [minimax_polynomial(target, d) for d in range(1, max_ops // 2 + 1)]
    if "fma" in ops:
        out += [fma_horner(minimax_polynomial(target, d)) for d in range(1, max_ops + 1)]
        if target.error == "ulp32":
            # The float32 fits: float32 coefficients, the inner roundings counted.
            out += [float32_polynomial(target, d).program for d in range(1, max_ops + 1)]
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
    out += [prog for _, _, prog in symmetric_builds(target, max_ops)]
    return [p for p in out if p.cost <= max_ops and uses_only(p, ops)]
