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


_EPS = 2.0**-53


def _exact_in_float(a, b, depth):
    """Whether float64 runs the recurrence to depth without rounding: every Horner step, value of
    a and b, product and sum is an integer of at most 53 bits."""
    conv = [(1, 0)] + naive.convergents(a, b, depth)  # conv[k + 1] is depth k
    horner = max(sum(map(abs, a)), sum(map(abs, b)))
    for k in range(1, depth + 1):
        ak, bk = naive.polyval(a, k), naive.polyval(b, k)
        if horner * k ** max(len(a) - 1, len(b) - 1) > 2**53:
            return False
        for i in (0, 1):
            if max(abs(ak * conv[k][i]), abs(bk * conv[k - 1][i]), abs(conv[k + 1][i])) > 2**53:
                return False
    return True


def _reference(a, b, depth, rtol):
    """The kernel's verdict on one PCF in exact rational arithmetic: (status, value, certain).

    ``certain`` is False where float64 rounding, within the bounds of
    ``naive.float_error_bounds``, could tip a comparison the verdict rests on (a zero
    denominator, a difference against the tolerance): only then may the kernel differ.
    """
    stop = next((k for k in range(1, depth + 1) if naive.polyval(b, k) == 0), None)
    if stop is not None:
        # A finite fraction, worth p/q at depth stop - 1; rounding can only hide a zero q.
        p, q = naive.convergents(a, b, stop - 1)[stop - 1]
        if q == 0:
            return Status.ZERO_DENOMINATOR, None, _exact_in_float(a, b, stop - 1)
        return Status.TERMINATED, Fraction(p, q), naive.float_error_bounds(a, b, stop - 1)[-1][1] < 1
    if _exact_in_float(a, b, depth):
        errors = [_EPS] * (depth + 1)  # only the division p/q rounds
    else:
        errors = [2 * (bp + bq) + 2 * _EPS for bp, bq in naive.float_error_bounds(a, b, depth)]
    errors.append(0.0)  # errors[-1]: p_{-1}/q_{-1} = 1/0 is exact
    conv = naive.convergents(a, b, depth) + [(1, 0)]  # conv[-1] is depth -1
    p, q = conv[depth]
    if q == 0:
        return Status.ZERO_DENOMINATOR, None, errors[depth] < 1e-3
    value = Fraction(p, q)
    tol = rtol * max(1, abs(value))
    certain = True
    for status, k in ((Status.CONVERGED, depth - 1), (Status.OSCILLATING, depth - 2)):
        pk, qk = conv[k]
        if errors[depth] >= 1e-3 or errors[k] >= 1e-3:
            certain = False
        if qk == 0:
            continue
        gap = abs(value - Fraction(pk, qk))
        if certain:
            # The float value and the one it is compared with are off by at most |v| e and
            # |v_k| e_k, the float tolerance by rtol |v| e, and the gap and tolerance round once.
            slack = (1 + rtol) * abs(value) * errors[depth] + abs(Fraction(pk, qk)) * errors[k] + 4 * _EPS * (gap + tol)
            certain = abs(gap - tol) > slack
        if gap <= tol and status == Status.OSCILLATING:
            certain = certain and _gap_ratio_clear(conv, depth, errors)
            if not _gap_kept(conv, depth):
                # Alternating errors that shrink: the gap between consecutive convergents halved
                # since half the depth, so the fraction converges slowly rather than oscillates.
                break
        if gap <= tol:
            return status, value, certain
    return Status.NOT_CONVERGED, value, certain


def _gap(conv, n, errors):
    """|v_n - v_{n-1}| and its float error bound, or (None, 0) where a denominator is 0."""
    (p, q), (p1, q1) = conv[n], conv[n - 1]
    if n < 1 or q == 0 or q1 == 0:
        return None, 0
    v, v1 = Fraction(p, q), Fraction(p1, q1)
    return abs(v - v1), abs(v) * errors[n] + abs(v1) * errors[n - 1]


def _gap_kept(conv, depth):
    """The kernel's oscillation test: the last gap is more than half the gap at half the depth."""
    now, _ = _gap(conv, depth, [0] * (depth + 2))
    half, _ = _gap(conv, depth // 2, [0] * (depth + 2))
    return now is None or half is None or now > half / 2


def _gap_ratio_clear(conv, depth, errors):
    """Whether float rounding cannot tip the comparison :func:`_gap_kept` makes."""
    now, err_now = _gap(conv, depth, errors)
    half, err_half = _gap(conv, depth // 2, errors)
    if now is None or half is None:
        return True
    return abs(now - half / 2) > err_now + err_half / 2 + 4 * _EPS * (now + half)


def _relative(x, y):
    return abs(x - y) / max(abs(y), 1e-300)


@given(pcf_batches, st.integers(1, 60))
# Depth 30 of a = -n - 3, b = 3n^2 + n + 2 has alternating errors that shrink by 0.57 a step:
# p_30/q_30 is nearer p_28/q_28 than p_29/q_29, yet it converges (NOT_CONVERGED, not OSCILLATING);
# a = 1, b = -1 has q_n = 0 at every n = 2 mod 3.
@example(batch=[([-1, -3], [3, 1, 2]), ([1], [-1])], depth=30)
def test_evaluate_matches_exact_reference(batch, depth):
    pcfs = [PCF(a, b) for a, b in batch]
    A, B = to_arrays(pcfs)
    rtol = 1e-9
    result = evaluate(A, B, depth, rtol=rtol)
    for p, value, status in zip(pcfs, result.limit, result.status):
        ref_status, ref_value, certain = _reference(p.a, p.b, depth, rtol)
        if certain:
            assert status == ref_status
        assert np.isnan(value) == (status in (Status.ZERO_DENOMINATOR, Status.NONFINITE, Status.OSCILLATING))
        if status == ref_status == Status.TERMINATED:
            assert _relative(value, float(ref_value)) < 1e-12
        elif status in (Status.CONVERGED, Status.NOT_CONVERGED) and ref_value is not None:
            # The float ratio is as good as the recurrence is conditioned (naive.float_error_bounds).
            bp, bq = naive.float_error_bounds(p.a, p.b, depth)[depth]
            if bp + bq < 1e-3:
                assert _relative(value, float(ref_value)) <= 2 * (bp + bq) + 1e-15


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
    for depth, result in ((101, odd), (100, even)):
        for (a, b), status, value in zip(rows, result.status, result.limit):
            ref_status, ref_value, certain = _reference(a, b, depth, 1e-9)
            assert certain and status == ref_status, (a, b, depth)
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
    checked = set()
    for i in range(100):
        if not A[i].any():
            continue
        p = PCF(A[i].tolist(), B[i].tolist())
        ref_status, _, certain = _reference(p.a, p.b, 200, 1e-9)
        if certain:
            assert batch.status[i] == ref_status
            checked.add(ref_status)
    # Every status but NONFINITE and OSCILLATING is decided with certainty in these rows (the one
    # row that looked oscillating, a = 5, b = 2n^2 + n - 1, converges: see the test below).
    assert checked == set(Status) - {Status.NONFINITE, Status.INEXACT, Status.OSCILLATING}


@pytest.mark.parametrize("depth", [30, 101, 200, 201])
def test_oscillation_is_told_from_alternating_convergence(depth):
    # a = 1, b = n^12: even and odd convergents tend to 1.0044... and 1.95... (Stern-Stolz), while
    # a = 5, b = 2n^2 + n - 1 converges with alternating errors, p_200/q_200 nearer p_198/q_198
    # than p_199/q_199; it meets rtol 1e-9 only by depth 400.
    pcfs = [PCF([1], [1] + [0] * 12), PCF([5], [2, 1, -1])]
    A, B = to_arrays(pcfs)
    result = evaluate(A, B, depth, rtol=1e-9)
    assert result.status[0] == Status.OSCILLATING
    assert result.status[1] == Status.NOT_CONVERGED
    assert result.limit[1] == pytest.approx(float(naive.value([5], [2, 1, -1], 3000)), rel=1e-3)
    for p, status in zip(pcfs, result.status):
        ref_status, _, certain = _reference(p.a, p.b, depth, 1e-9)
        assert certain and status == ref_status
    assert evaluate(A, B, 400, rtol=1e-9).status[1] == Status.CONVERGED


def test_parallel_and_serial_kernels_agree():
    # Batches of at least 64 rows take the parallel kernels, smaller ones their serial twins
    # (the hypothesis tests above check those against the exact recurrence): bit for bit equal.
    from discovery.pcf.kernels import error_traces

    rng = np.random.default_rng(5)
    A = rng.integers(-5, 6, size=(150, 3))
    B = rng.integers(-5, 6, size=(150, 3))
    B[:10, 2] = 0  # b(n) = n(...): zero at n = 0 only, never terminating
    B[10:20] = [1, -3, 0]  # b(3) = 0: finite fractions
    batch = evaluate(A, B, 500)
    tr = traces(A, B, [0, 7, 300])
    et = error_traces(A, B, 500, [6, 125, 250])
    for i in range(len(A)):
        one = evaluate(A[i:i + 1], B[i:i + 1], 500)
        assert one.status[0] == batch.status[i]
        np.testing.assert_array_equal(one.limit, batch.limit[i:i + 1])
        t1 = traces(A[i:i + 1], B[i:i + 1], [0, 7, 300])
        e1 = error_traces(A[i:i + 1], B[i:i + 1], 500, [6, 125, 250])
        for got, ref in ((t1.log_p, tr.log_p), (t1.log_q, tr.log_q), (t1.log_diff, tr.log_diff),
                         (e1.log_q, et.log_q), (e1.log_error, et.log_error), (e1.limit, et.limit[:, None])):
            np.testing.assert_array_equal(got[0], ref[i])  # NaN equals NaN here
