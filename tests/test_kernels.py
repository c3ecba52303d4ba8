import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import naive
from discovery import PCF, Status, evaluate, to_arrays, traces
from strategies import polynomials

pcf_batches = st.lists(st.tuples(polynomials(), polynomials()), min_size=1, max_size=12)


def _reference_status(a, b, depth, rtol):
    """Status and value by the kernel's rules, in exact rational arithmetic."""
    for k in range(1, depth + 1):
        if naive.polyval(b, k) == 0:
            v = naive.value(a, b, depth)
            return (Status.ZERO_DENOMINATOR, None) if v is None else (Status.TERMINATED, v)
    conv = naive.convergents(a, b, depth)
    (p, q), (p1, q1) = conv[depth], conv[depth - 1]
    if q == 0:
        return Status.ZERO_DENOMINATOR, None
    value = Fraction(p, q)
    tol = rtol * max(1, abs(value))
    if q1 and abs(value - Fraction(p1, q1)) <= tol:
        return Status.CONVERGED, value
    if depth >= 2:
        p2, q2 = conv[depth - 2]
        if q2 and abs(value - Fraction(p2, q2)) <= tol:
            return Status.OSCILLATING, value
    elif abs(value - 0) <= tol:  # p_{-1}/q_{-1} is 1/0: no comparison possible
        pass
    return Status.NOT_CONVERGED, value


def _relative(x, y):
    return abs(x - y) / max(abs(y), 1e-300)


@given(pcf_batches, st.integers(1, 60))
def test_evaluate_matches_exact_reference(batch, depth):
    pcfs = [PCF(a, b) for a, b in batch]
    A, B = to_arrays(pcfs)
    rtol = 1e-9
    result = evaluate(A, B, depth, rtol=rtol)
    for p, value, status in zip(pcfs, result.limit, result.status):
        ref_status, ref_value = _reference_status(p.a, p.b, depth, rtol)
        if ref_status in (Status.TERMINATED, Status.ZERO_DENOMINATOR):
            assert status == ref_status
        if status == Status.TERMINATED:
            assert _relative(value, float(ref_value)) < 1e-12
        elif status in (Status.CONVERGED, Status.NOT_CONVERGED) and ref_value is not None:
            # The float ratio is as good as the recurrence is conditioned (naive.float_error_bounds);
            # a converged verdict must agree with the exact one.
            bp, bq = naive.float_error_bounds(p.a, p.b, depth)[depth]
            if bp + bq < 1e-3:
                assert _relative(value, float(ref_value)) <= 2 * (bp + bq) + 1e-15
            if status == Status.CONVERGED:
                assert ref_status in (Status.CONVERGED, Status.OSCILLATING) or math.isclose(
                    float(abs(ref_value - Fraction(*p.convergent(depth - 1)))), rtol * max(1, abs(value)), rel_tol=1e-3
                )


@given(pcf_batches, st.lists(st.integers(0, 80), min_size=1, max_size=5))
# a = 3, b = -3 has eigenvalues sqrt(3) e^(+-i pi/6): q_n is exactly zero every 6 steps, and past
# 2^53 the float recurrence rounds that zero to a small non-zero number.
@example(batch=[([3], [-3])], depths=[76])
def test_traces_match_exact_reference(batch, depths):
    pcfs = [PCF(a, b) for a, b in batch]
    A, B = to_arrays(pcfs)
    tr = traces(A, B, depths)
    assert tr.depths.tolist() == sorted(set(depths))
    for i, p in enumerate(pcfs):
        conv = [(1, 0)] + naive.convergents(p.a, p.b, max(depths))  # conv[k + 1] is depth k
        prod_b = 1
        prods = [1]
        for k in range(1, max(depths) + 1):
            prod_b *= naive.polyval(p.b, k)
            prods.append(prod_b)
        bounds = naive.float_error_bounds(p.a, p.b, max(depths))
        for j, d in enumerate(tr.depths):
            (pn, qn), (pm, qm) = conv[d + 1], conv[d]
            for idx, (got, exact) in enumerate(((tr.log_p[i, j], pn), (tr.log_q[i, j], qn))):
                bound = bounds[d][idx]
                if exact == 0:
                    # Cancellation to an exact zero leaves only rounding noise, bounded in absolute
                    # terms by the size of the summed terms times their relative error.
                    assert got == -np.inf or got <= _zero_noise_log(p, conv, bounds, d, idx)
                elif bound < 1e-3:
                    assert abs(got - math.log(abs(exact))) <= 2 * bound + 1e-14 * max(1, abs(got))
            if d == 0:
                assert np.isnan(tr.log_diff[i, j])
            elif prods[d] == 0:
                assert tr.log_diff[i, j] == -np.inf
            elif qn != 0 and qm != 0:
                # The determinant identity, checked against the plain difference of fractions.
                diff = abs(Fraction(pn, qn) - Fraction(pm, qm))
                assert diff == Fraction(abs(prods[d]), abs(qn * qm))
                # Rounding: the q bounds, d roundings of the product of b, and one ulp-sized error
                # in each of the three logs that are summed.
                magnitude = abs(math.log(abs(prods[d]))) + abs(math.log(abs(qn))) + abs(math.log(abs(qm)))
                bound = 2 * (bounds[d][1] + bounds[d - 1][1]) + 4e-16 * d + 1e-15 * (1 + abs(magnitude))
                if bound < 1e-3:
                    exact_log = math.log(diff.numerator) - math.log(diff.denominator)
                    assert abs(tr.log_diff[i, j] - exact_log) <= bound


def _zero_noise_log(p, conv, bounds, d, idx):
    """Log of the largest float value a step summing to an exact zero at depth d can round to."""
    if d == 0:
        return -np.inf
    x1, x2 = conv[d][idx], conv[d - 1][idx]
    terms = abs(naive.polyval(p.a, d) * x1) + abs(naive.polyval(p.b, d) * x2)
    prev = max(bounds[d - 1][idx], bounds[d - 2][idx] if d >= 2 else 0.0)
    if terms == 0:
        return -np.inf
    if not math.isfinite(prev):
        return np.inf
    return math.log(terms) + math.log(4 * (prev + 2.0**-52))


def test_known_deep_formula_does_not_overflow():
    A, B = PCF("2n+1", "n^2").as_arrays()
    result = evaluate(A, B, 100_000)
    assert result.status[0] == Status.CONVERGED
    assert result.limit[0] == pytest.approx(4 / math.pi, rel=1e-12)
    tr = traces(A, B, [100_000])
    # log q_n of 4/pi's fraction grows like n log n: finite and large, never inf.
    assert 1e6 < tr.log_q[0, 0] < 2e6 and np.isfinite(tr.log_diff[0, 0])


def test_degenerate_rows_do_not_break_the_batch():
    rows = [
        ([2, 1], [1, 0, 0]),        # 4/pi: converges
        ([2, 1], [1, -3, 0]),       # b(3) = 0: finite fraction
        ([0], [1]),                 # a = 0: q_n = 0 at odd n
        ([0], [1]),                 # same, even depth handled below
        ([1], [-2]),                # complex eigenvalues: no limit
        ([2**62, 2**62], [2**62, 0, 0]),  # huge coefficients
        ([1, 0], [-(2**40), 0, 0]),  # wildly divergent
    ]
    A = np.zeros((len(rows), 2), dtype=np.int64)
    B = np.zeros((len(rows), 3), dtype=np.int64)
    for i, (a, b) in enumerate(rows):
        A[i, 2 - len(a):] = a
        B[i, 3 - len(b):] = b
    odd = evaluate(A, B, 101)
    assert odd.status.tolist()[:3] == [Status.CONVERGED, Status.TERMINATED, Status.ZERO_DENOMINATOR]
    assert odd.limit[1] == pytest.approx(float(naive.value([2, 1], [1, -3, 0], 101)), rel=1e-15)
    assert np.isnan(odd.limit[2])
    assert odd.status[4] == Status.NOT_CONVERGED
    even = evaluate(A, B, 100)
    assert even.status[3] == Status.OSCILLATING and np.isnan(even.limit[3])
    for status, value in zip(odd.status, odd.limit):
        assert Status(status) in Status
        assert np.isnan(value) == (status in (Status.ZERO_DENOMINATOR, Status.NONFINITE, Status.OSCILLATING))
    tr = traces(A, B, [1, 50, 101])
    assert tr.log_q.shape == (len(rows), 3)


@pytest.mark.parametrize("depth", [0, -1, 2.5, True])
def test_evaluate_rejects_bad_depth(depth):
    A, B = PCF(2, 1).as_arrays()
    with pytest.raises(ValueError, match="depth"):
        evaluate(A, B, depth)


def test_evaluate_rejects_bad_arrays():
    with pytest.raises(ValueError, match="2-D"):
        evaluate(np.array([1, 2]), np.array([[1]]), 10)
    with pytest.raises(ValueError, match="rows"):
        evaluate(np.ones((2, 1), dtype=int), np.ones((3, 1), dtype=int), 10)
    with pytest.raises(ValueError, match="float64"):
        evaluate(np.ones((1, 1)), np.ones((1, 1), dtype=int), 10)
    with pytest.raises(ValueError, match="-2"):
        traces(np.ones((1, 1), dtype=int), np.ones((1, 1), dtype=int), [5, -2])


def test_large_batches_match_one_row_at_a_time():
    # Rows are split into finite fractions and lockstep blocks and scattered back: a batch must
    # give each row exactly what that row gives alone.
    rng = np.random.default_rng(7)
    A = rng.integers(-5, 6, size=(300, 3))
    B = rng.integers(-5, 6, size=(300, 3))
    B[~B.any(axis=1), 2] = 1
    batch = evaluate(A, B, 200)
    for i in range(0, 300, 7):
        alone = evaluate(A[i:i + 1], B[i:i + 1], 200)
        assert alone.status[0] == batch.status[i]
        assert np.array_equal(alone.limit[:1], batch.limit[i:i + 1], equal_nan=True)
    for i in range(0, 300, 31):
        if not B[i].any() or not A[i].any():
            continue
        p = PCF(A[i].tolist(), B[i].tolist())
        ref_status, ref_value = _reference_status(p.a, p.b, 200, 1e-9)
        if ref_status in (Status.TERMINATED, Status.ZERO_DENOMINATOR):
            assert batch.status[i] == ref_status
