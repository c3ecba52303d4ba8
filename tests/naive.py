"""Slow, obviously correct reference implementations used to check the fast code."""

import math
from fractions import Fraction


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
