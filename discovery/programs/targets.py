"""Target functions for program search, with ground truth computed once at high precision."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import mpmath
import numpy as np

from discovery.errors import InputError
from discovery.constants import parse
from discovery.programs.float32 import float32_span, float32_spacing, float32_spacings
from discovery.programs.float32 import round_to_float32, strided_float32

# name: (expression in x, numpy function for float64 scans)
BUILTIN = {
    "exp": ("exp(x)", np.exp),
    "exp2": ("2**x", np.exp2),
    "ln": ("log(x)", np.log),
    "log2": ("log(x, 2)", np.log2),
    "erf": ("erf(x)", None),
    "erfc": ("erfc(x)", None),
    "sin": ("sin(x)", np.sin),
    "cos": ("cos(x)", np.cos),
    "tanh": ("tanh(x)", np.tanh),
    "sqrt": ("sqrt(x)", np.sqrt),
}


ERRORS = ("relative", "absolute", "ulp32")


@dataclass(frozen=True)
class Target:
    """A function on an interval, its error mode and its exact values.

    Attributes
    ----------
    name : str
        A builtin name (``exp2``) or the expression itself.
    expr : str
        Expression in ``x`` (read by :func:`discovery.constants.parse`, never evaluated as Python).
    interval : (float, float)
    relative : bool
        Whether errors are relative (the default unless the function vanishes on the interval);
        true under ``ulp32``, whose float64 tuning of the search's constants stays relative
        (its minimax fits and float32 tuning weigh errors by the float32 ULP: :meth:`weight`).
    error : str
        ``relative``, ``absolute`` or ``ulp32`` (the program run in float32, judged in ULPs of
        the correctly rounded float32 values on :attr:`float32_training`); by default what
        ``relative`` says.
    """

    name: str
    expr: str
    interval: tuple[float, float]
    relative: bool
    error: str = ""

    def __post_init__(self):
        if not self.error:
            object.__setattr__(self, "error", "relative" if self.relative else "absolute")
        if self.error not in ERRORS:
            raise ValueError(f"unknown error mode {self.error!r} (known: {', '.join(ERRORS)})")
        if self.relative != (self.error != "absolute"):
            raise ValueError(f"error mode {self.error!r} with relative={self.relative}")

    def mp(self, x: mpmath.mpf) -> mpmath.mpf:
        """The exact value at x, at the current mpmath precision."""
        return _mp_eval(self.expr, x)

    def weight(self, value):
        """What an error at a point whose exact value is ``value`` is multiplied by in a minimax
        fit: 1/|value| (relative), 1 (absolute) or, under ``ulp32``, 1/ULP -- one over the float32
        spacing there (:func:`discovery.programs.float32.float32_spacing`, the finer one below an
        exact power of two), so the fit minimises the error in float32 ULPs: absolute within a
        binade (2^x on [0, 1) has the constant ULP 2^-23), halved and doubled across binades.

        ``value`` is an mpmath number (the Remez fits) and so is the result; use
        :meth:`weights` for arrays of floats.
        """
        if self.error == "ulp32":
            return 1 / mpmath.mpf(float32_spacing(value))
        return 1 / abs(value) if self.relative else mpmath.mpf(1)

    def weights(self, values: np.ndarray) -> np.ndarray:
        """:meth:`weight` of float64 exact values, as float64."""
        values = np.asarray(values, dtype=np.float64)
        if self.error == "ulp32":
            return 1 / float32_spacings(values)
        return 1 / np.abs(values) if self.relative else np.ones_like(values)

    def values(self, X: np.ndarray, dps: int = 30) -> np.ndarray:
        """Float64 values correctly rounded from ``dps``-digit evaluations."""
        with mpmath.workdps(dps):
            return np.array([float(self.mp(mpmath.mpf(float(x)))) for x in X])

    def grid(self, n: int, kind: str = "chebyshev") -> np.ndarray:
        """n points on the interval: Chebyshev nodes (clustered at the ends) or uniform."""
        lo, hi = self.interval
        if kind == "uniform":
            return np.linspace(lo, hi, n)
        k = np.arange(n)
        return np.sort(0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(np.pi * (k + 0.5) / n))

    @cached_property
    def training(self) -> tuple[np.ndarray, np.ndarray]:
        """The 1024-point training grid (Chebyshev nodes plus the end points) and exact values."""
        X = np.unique(np.concatenate([self.grid(1022), list(self.interval)]))
        return X, self.values(X)

    @cached_property
    def tuning(self) -> tuple[np.ndarray, np.ndarray]:
        """A 257-point grid (Chebyshev nodes plus the end points) and exact values, for the
        least-squares steps of constant tuning; errors are still judged on :attr:`training`."""
        X = np.unique(np.concatenate([self.grid(255), list(self.interval)]))
        return X, self.values(X)

    @cached_property
    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        """A 10,000-point uniform validation grid and exact values."""
        X = self.grid(10_000, "uniform")
        return X, self.values(X)

    @cached_property
    def float32_training(self) -> tuple[np.ndarray, np.ndarray]:
        """Float32 points and their correctly rounded float32 values, for the ``ulp32`` mode: the
        training grid rounded to float32 (kept inside the interval) and 4096 float32 values
        strided evenly in float order (so the many floats near zero weigh as they do in an
        exhaustive check)."""
        lo, hi = self.interval
        X = self.training[0].astype(np.float32)
        # Compared in float64: numpy rounds a Python float to float32 first (1.001 -> 1.00100005).
        inside = (X.astype(np.float64) >= lo) & (X.astype(np.float64) <= hi)
        X = np.unique(np.concatenate([X[inside], strided_float32(self.interval, 4096)]))
        with mpmath.workdps(40):
            ref = np.array([round_to_float32(self.mp(mpmath.mpf(float(x)))) for x in X], dtype=np.float32)
        return X, ref

    @cached_property
    def float32_exact(self) -> np.ndarray:
        """The exact values (float64) at the points of :attr:`float32_training`, for the ``ulp32``
        search's tie-break (:func:`discovery.programs.float32.population_ulp_scores`)."""
        return self.values(self.float32_training[0].astype(np.float64))

    def numpy(self):
        """A float64 numpy version of the function (for scans over millions of points), or None."""
        builtin = BUILTIN.get(self.name)
        return builtin[1] if builtin else None


def _mp_eval(expr: str, x):
    return _compiled(expr)(x=x)


@lru_cache(maxsize=256)
def _compiled(expr: str):
    return parse(expr, ("x",)).mpmath()


def _pole(expr: str, probe: np.ndarray, values: list, steps: int = 48) -> float | None:
    """A point of the probe's span near which the target is unbounded, or None.

    Between probe points a pole shows only by how values behave as one closes in on it: every
    sign change is bisected and every interior local maximum of |f| is narrowed by golden-section
    search, ``steps`` times; a root or a smooth maximum leaves |f| bounded as the bracket
    shrinks by 2^-steps, while near a pole of order m it grows like width^-m (a factor 10^14 for a
    simple pole).  Numeric rather than symbolic: sympy's ``continuous_domain`` knows no special
    functions and runs for minutes on tan(x) over [0, 10^4].
    """
    mags = [abs(v) for v in values]
    candidates = [(i, "sign") for i in range(len(values) - 1) if values[i] * values[i + 1] < 0]
    candidates += [(i, "max") for i in range(1, len(values) - 1) if mags[i - 1] < mags[i] >= mags[i + 1]]
    with mpmath.workdps(30):
        for i, kind in candidates:
            try:
                middle, last, where = _narrow(expr, probe, values, i, kind, steps)
            except (ArithmeticError, ValueError):  # evaluated at the pole itself
                return float(probe[i])
            if last > 1e6 * max(middle, mpmath.mpf(10) ** -30):
                return float(where)
    return None


def _narrow(expr: str, probe: np.ndarray, values: list, i: int, kind: str, steps: int):
    """|f| after steps // 2 narrowings and after ``steps`` around probe point i, and where the
    bracket ended; see :func:`_pole`."""
    f = _compiled(expr)
    seen = []
    if kind == "sign":
        lo, hi, flo = mpmath.mpf(float(probe[i])), mpmath.mpf(float(probe[i + 1])), values[i]
        for _ in range(steps):
            mid = (lo + hi) / 2
            fm = f(x=mid)
            lo, hi, flo = (mid, hi, fm) if mpmath.sign(fm) == mpmath.sign(flo) else (lo, mid, flo)
            seen.append(max(abs(flo), abs(fm)))
        where = (lo + hi) / 2
    else:
        a, b = mpmath.mpf(float(probe[i - 1])), mpmath.mpf(float(probe[i + 1]))
        g = (mpmath.sqrt(5) - 1) / 2
        c, d = b - g * (b - a), a + g * (b - a)
        fc, fd = abs(f(x=c)), abs(f(x=d))
        for _ in range(steps):
            if fc > fd:
                b, d, fd = d, c, fc
                c = b - g * (b - a)
                fc = abs(f(x=c))
            else:
                a, c, fc = c, d, fd
                d = a + g * (b - a)
                fd = abs(f(x=d))
            seen.append(max(fc, fd))
        where = (a + b) / 2
    return seen[steps // 2 - 1], seen[-1], where


def make_target(name: str, interval: tuple[float, float], relative: bool | None = None,
                error: str = "auto") -> Target:
    """A target from a builtin name (exp, exp2, ln, log2, erf, sin, cos, tanh, sqrt) or an
    expression in x (``"exp(x)*sin(x)"``), read by the package's whitelisting parser.

    Parameters
    ----------
    relative : bool, optional
        Relative (True) or absolute (False) error; None chooses (relative unless the function
        vanishes on the interval).
    error : str
        ``auto`` (as ``relative`` says), ``relative``, ``absolute`` or ``ulp32``.

    Raises
    ------
    InputError
        For text the parser refuses, an empty or non-finite interval, an expression that does not
        evaluate on the interval, relative or ulp32 error asked of a function with a zero there,
        an unknown error mode, or ``relative`` contradicting ``error``.
    """
    if error not in ("auto",) + ERRORS:
        raise InputError(f"unknown error mode {error!r} (known: auto, {', '.join(ERRORS)})")
    if error != "auto":
        wanted = error != "absolute"
        if relative is not None and relative != wanted:
            raise InputError(f"error mode {error!r} contradicts relative={relative}")
        relative = wanted
    try:
        lo, hi = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise InputError(f"interval {interval!r} is not two numbers") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(f"interval [{lo}, {hi}] is not finite")
    if not lo < hi:
        raise InputError(f"interval [{lo}, {hi}] is empty")
    expr = BUILTIN[name][0] if name in BUILTIN else name
    parse(expr, ("x",))
    probe = np.linspace(lo, hi, 257)
    with mpmath.workdps(20):
        try:
            values = [_mp_eval(expr, mpmath.mpf(float(x))) for x in probe]
        except (ArithmeticError, ValueError, TypeError) as err:  # mpmath's domain errors
            raise InputError(f"target {name!r} cannot be evaluated on [{lo}, {hi}]: {err}") from None
        if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in values):
            raise InputError(f"target {name!r} is not real and finite on [{lo}, {hi}]")
        signs = {mpmath.sign(v) for v in values}
    pole = _pole(expr, probe, values)
    if pole is not None:
        raise InputError(f"target {name!r} has a pole on [{lo}, {hi}], near x = {pole:.15g}: no program can "
                         "approximate it there")
    has_zero = 0 in signs or len(signs) > 1
    if relative is None:
        relative = not has_zero
    elif relative and has_zero:
        # ulp32's float64 tuning of the search's constants is relative, so it needs no zero either.
        kind = "ulp32" if error == "ulp32" else "relative"
        raise InputError(f"target {name!r} has a zero on [{lo}, {hi}]: {kind} error needs none, use absolute")
    if error == "ulp32":

        try:
            float32_span((lo, hi))
        except ValueError as err:
            raise InputError(str(err)) from None
    return Target(name, expr, (lo, hi), bool(relative), error if error == "ulp32" else "")
