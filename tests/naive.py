"""Slow, obviously correct reference implementations used to check the fast code."""

import math
from fractions import Fraction

import numpy as np


def polyval(coeffs, x):
    return sum(c * x**k for k, c in enumerate(reversed(coeffs)))


def convergents(a, b, depth):
    """[(p_0, q_0), ..., (p_depth, q_depth)] by the textbook recurrence on Python ints."""
    ps, qs = [1, polyval(a, 0)], [0, 1]
    for k in range(1, depth + 1):
        ps.append(polyval(a, k) * ps[-1] + polyval(b, k) * ps[-2])
        qs.append(polyval(a, k) * qs[-1] + polyval(b, k) * qs[-2])
    return list(zip(ps[1:], qs[1:]))


def value(a, b, depth):
    """The value at depth as a Fraction (finite fraction rule applied), None if undefined."""
    for k in range(1, depth + 1):
        if polyval(b, k) == 0:
            depth = k - 1
            break
    p, q = convergents(a, b, depth)[depth]
    return None if q == 0 else Fraction(p, q)


def tails_defined(a, b, depth):
    """Whether the fraction as written exists to depth: no tail a(k) + b(k+1)/(...) is zero."""
    tail = Fraction(polyval(a, depth))
    for k in range(depth, 0, -1):
        if tail == 0:
            return False
        tail = polyval(a, k - 1) + Fraction(polyval(b, k)) / tail
    return True


def backward_value(a, b, depth):
    """The same value by evaluating the fraction from the bottom up, as it is written."""
    tail = Fraction(polyval(a, depth))
    for k in range(depth, 0, -1):
        tail = polyval(a, k - 1) + Fraction(polyval(b, k)) / tail
    return tail


def float_error_bounds(a, b, depth):
    """Bounds on the relative error of float64 p_n and q_n for n = 0..depth.

    Step k computes x_k = a(k) x_{k-1} + b(k) x_{k-2} with a rounding of at most 2 eps relative to
    the size of the terms, so with r_k = (|a(k) x_{k-1}| + |b(k) x_{k-2}|) / |x_k| (the
    cancellation at step k) the relative error obeys e_k <= r_k (max(e_{k-1}, e_{k-2}) + 2 eps).
    Returns a list of (bound_p, bound_q); inf where x_k = 0.
    """
    eps = 2.0**-53
    out = []
    xs = {"p": [1, polyval(a, 0)], "q": [0, 1]}
    errs = {"p": [0.0, 0.0], "q": [0.0, 0.0]}
    out.append((0.0, 0.0))
    for k in range(1, depth + 1):
        ak, bk = polyval(a, k), polyval(b, k)
        for key in ("p", "q"):
            x1, x2 = xs[key][-1], xs[key][-2]
            xk = ak * x1 + bk * x2
            prev = max(errs[key][-1], errs[key][-2])
            if xk == 0:
                e = math.inf
            else:
                r = Fraction(abs(ak * x1) + abs(bk * x2), abs(xk))
                e = min(math.inf, float(r) * (prev + 2 * eps)) if prev != math.inf else math.inf
            xs[key].append(xk)
            errs[key].append(e)
        out.append((errs["p"][-1], errs["q"][-1]))
    return out


def dynamics_reference(a, b, depth, sample, fit_points, eigen_n=10**9):
    """Convergence-dynamics metrics from exact convergents, exact logs and mpmath eigenvalues.

    Follows the definitions in discovery.pcf.dynamics: the same fit models, computed one PCF at a
    time from exact data.
    """
    import mpmath
    import numpy as np

    conv = convergents(a, b, depth)
    pN, qN = conv[depth]
    points = sorted(set(fit_points) | {sample})
    log_q, log_qr, log_err = {}, {}, {}
    for n in points:
        p, q = conv[n]
        err = Fraction(pN * q - p * qN, qN * q)
        log_q[n] = math.log(abs(q))
        log_qr[n] = math.log(abs(q) // math.gcd(p, q))
        log_err[n] = math.log(abs(err.numerator)) - math.log(err.denominator)
    nf = np.array(fit_points, dtype=float)
    yq = np.array([log_qr[n] for n in fit_points])
    ye = np.array([log_err[n] for n in fit_points])

    def lstsq(columns, y):
        return np.linalg.lstsq(np.column_stack(columns), y, rcond=None)[0]

    gamma_p, eta_p, _ = lstsq([nf, nf * np.log(nf), np.ones_like(nf)], yq)
    if abs(eta_p) < 0.05:
        gamma_p, eta_p = lstsq([nf, np.ones_like(nf)], yq)[0], 0.0
    beta, gamma, eta = lstsq([np.log(nf), nf, nf * np.log(nf)], ye)
    if abs(eta) < 0.05:
        (beta, gamma), eta = lstsq([np.log(nf), nf], ye), 0.0
    with mpmath.workdps(60):
        av, bv = polyval(a, eigen_n), polyval(b, eigen_n)
        disc = av * av + 4 * bv
        if disc < 0:
            ratio, complex_eigen = 0.0, True
        else:
            root = mpmath.sqrt(disc)
            lam = sorted([(av + root) / 2, (av - root) / 2], key=abs)
            ratio, complex_eigen = float(mpmath.log(abs(lam[1] / lam[0]))), False
    return {
        "limit": float(Fraction(pN, qN)),
        "naive_delta": -log_err[sample] / log_q[sample] - 1,
        "delta": -log_err[sample] / log_qr[sample] - 1,
        "gamma_prime": float(gamma_p),
        "eta_prime": float(eta_p),
        "eigen_log_ratio": ratio,
        "complex_eigen": complex_eigen,
        "predicted_delta": abs(ratio) / (gamma_p + eta_p * math.log(eigen_n)) - 1,
        "beta": float(beta),
        "gamma": float(gamma),
        "eta": float(eta),
    }


# --- programs: the output as N/D with derivatives in the constants, one numpy operation at a time
class Dual:
    """Values at points with their gradient in the constants: array (1 + K, M), row 0 the
    values, row 1 + k their derivatives in c_k (forward mode)."""

    def __init__(self, rows: np.ndarray):
        self.rows = rows

    def __add__(self, other):
        return Dual(self.rows + other.rows)

    def __sub__(self, other):
        return Dual(self.rows - other.rows)

    def __mul__(self, other):
        if not isinstance(other, Dual):
            return Dual(self.rows * other)
        a, b = self.rows, other.rows
        out = np.empty(a.shape, dtype=np.result_type(a.dtype, b.dtype))  # one shape: (1 + K, M)
        np.multiply(a[1:], b[:1], out=out[1:])
        out[1:] += a[:1] * b[1:]
        np.multiply(a[:1], b[:1], out=out[:1])
        return Dual(out)

    __rmul__ = __mul__


class DualFraction:
    """N/D with N, D :class:`Dual`; common factors are never cancelled (the N/D of a sum is
    (Na Db + Nb Da)/(Da Db)), so N and D are polynomials in x and the constants, and N Q = D P
    at enough points says exactly that N/D = P/Q."""

    def __init__(self, num: Dual, den: Dual):
        self.num, self.den = num, den

    def __add__(self, o):
        return DualFraction(self.num * o.den + o.num * self.den, self.den * o.den)

    def __sub__(self, o):
        return DualFraction(self.num * o.den - o.num * self.den, self.den * o.den)

    def __mul__(self, o):
        if not isinstance(o, DualFraction):
            return DualFraction(self.num * float(o), self.den)
        return DualFraction(self.num * o.num, self.den * o.den)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if not isinstance(o, DualFraction):
            return DualFraction(self.num, self.den * float(o))
        return DualFraction(self.num * o.den, self.den * o.num)


def dual_fraction(program, consts, Z):
    """Numerator and denominator of the output at the points Z, with their derivatives in the
    constants (arrays (1 + K, len(Z)), see :class:`Dual`), or None when the program is not
    rational (a square root)."""
    K = consts.size
    M = Z.size

    def dual(values, k=None):
        rows = np.zeros((1 + K, M), dtype=Z.dtype)
        rows[0] = values
        if k is not None:
            rows[1 + k] = 1.0
        return Dual(rows)

    from discovery.programs.projection import _run as run  # the interpreter of ops.apply

    one = dual(1.0)
    out = run(program, DualFraction(dual(Z), one), [DualFraction(dual(c, k), one) for k, c in enumerate(consts)])
    return None if out is None else (out.num.rows, out.den.rows)
