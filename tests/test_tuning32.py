"""Float32 ULP weighting, the float32 polynomial fit and the float32 tuner, against slow references."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.programs.baselines import (
    float32_polynomial_baselines, float32_polynomials, fma_horner, minimax_polynomial, remez,
)
from discovery.programs.float32 import float32_spacing, float32_spacings, run32, ulp_distance, ulp_scan
from discovery.programs.graph import Program, horner, random_program
from discovery.programs.kernels import pack
from discovery.programs.targets import make_target
from discovery.programs.tuning32 import (
    _minimax, dense_float32, float32_polynomial, horner_rounding_bound, score_float32, tune_float32,
)
from discovery.programs.verify import float32_ulp_error, float32_ulp_errors

f32 = np.float32


def _spacing_reference(value) -> Fraction:
    """The float32 spacing by walking the floats: the gap from the largest float32 <= |value| to
    the next one up, or, at a float32 power of two, the gap to the next one down."""
    v = abs(Fraction(value))
    lo = f32(float(v))
    if Fraction(float(lo)) > v:
        lo = np.nextafter(lo, f32(0))
    lo_exact = Fraction(float(lo))
    if lo_exact == v and v > 0 and v.numerator & (v.numerator - 1) == 0 and v.denominator & (v.denominator - 1) == 0:
        return v - Fraction(float(np.nextafter(lo, f32(0))))
    return Fraction(float(np.nextafter(lo, f32(np.inf)))) - lo_exact


def test_float32_spacing_against_walking_the_floats():
    rng = np.random.default_rng(0)
    values = list(rng.uniform(-4, 4, 200)) + list(10.0 ** rng.uniform(-40, 38, 200))
    values += [1.0, 2.0, 0.5, 0.75, 1 + 2**-23, 2**-126, 2**-140, 3 * 2**-149, -8.0, 0.9999999]
    for v in values:
        assert Fraction(float32_spacing(v)) == _spacing_reference(v), v
    assert np.array_equal(float32_spacings(np.array(values)), [float32_spacing(v) for v in values])
    # mpmath values (the Remez fits) and exact fractions between floats
    assert float32_spacing(mpmath.mpf(2) ** mpmath.mpf("0.5")) == 2.0**-23
    assert float32_spacing(Fraction(1, 3)) == 2.0**-25
    assert float32_spacing(mpmath.mpf(1)) == 2.0**-24 and float32_spacing(0.0) == 2.0**-149


def test_target_weights():
    t = make_target("exp2", (0, 1), error="ulp32")
    f = np.array([1.0, 1.5, 2.0, 3.0])
    assert np.array_equal(t.weights(f), [2.0**24, 2.0**23, 2.0**23, 2.0**22])
    assert t.weight(mpmath.mpf(1.5)) == 2**23
    assert make_target("exp2", (0, 1)).weight(mpmath.mpf(4)) == mpmath.mpf(1) / 4
    assert np.array_equal(make_target("exp2", (0, 1), error="absolute").weights(f), np.ones(4))


def _weighted_errors(target, coeffs, xs):
    """Errors of the polynomial in float32 ULPs of the exact value, in mpmath with the spacings of
    :func:`_spacing_reference` (the slow reference)."""
    with mpmath.workdps(40):
        out = []
        for x in xs:
            f = target.mp(mpmath.mpf(x))
            p = mpmath.polyval(list(reversed(coeffs)), mpmath.mpf(x))
            man, exp = mpmath.mpf(f).man_exp
            spacing = _spacing_reference(Fraction(int(man)) * Fraction(2) ** int(exp))
            out.append((p - f) / mpmath.mpf(spacing.numerator) * spacing.denominator)
        return out


def test_ulp_weighted_remez_against_mpmath():
    # Inside one binade the float32 ULP is constant: the ULP-weighted minimax is the absolute one.
    inside = make_target("exp2", (0.1, 0.9), error="ulp32")
    absolute = make_target("exp2", (0.1, 0.9), error="absolute")
    p_ulp, _ = remez(inside, 3, 0)
    p_abs, _ = remez(absolute, 3, 0)
    assert all(abs(a - b) < 1e-25 for a, b in zip(p_ulp, p_abs))
    # On [0, 1] 2^0 = 1 is a power of two: an error below it counts in the spacing below, twice
    # as fine; the weighted error equioscillates (degree + 2 alternating extrema of one size).
    t = make_target("exp2", (0, 1), error="ulp32")
    degree = 3
    p, _ = remez(t, degree, 0)
    xs = np.linspace(0, 1, 2001)
    errs = _weighted_errors(t, p, xs)
    level = max(abs(e) for e in errs)
    extrema = [0] + [i for i in range(1, len(xs) - 1) if abs(errs[i]) >= abs(errs[i - 1])
                     and abs(errs[i]) >= abs(errs[i + 1]) and abs(errs[i]) > 0.99 * level] + [len(xs) - 1]
    signs = [mpmath.sign(errs[i]) for i in extrema]
    assert len(extrema) >= degree + 2 and all(a != b for a, b in zip(signs, signs[1:]))
    assert all(abs(errs[i]) > 0.999 * level for i in extrema)
    assert abs(errs[0]) == pytest.approx(float(level), rel=1e-4)  # at x = 0, in ULPs of 2^-24
    assert abs(p[0] - 1) * 2**24 == pytest.approx(float(level), rel=1e-4)


def test_ulp_weighted_remez_across_binades_is_near_the_linear_programme():
    # exp on [-1, 1] crosses 1/2, 1 and 2: the weight jumps; Remez still lands within 1% of the
    # discrete optimum (a linear programme on the same kind of grid), and beats the relative fit
    # in ULPs.
    t = make_target("exp", (-1, 1), error="ulp32")
    xs = np.unique(np.concatenate([np.linspace(-1, 1, 1501), [-np.log(2), 0.0, np.log(2)]]))
    with mpmath.workdps(30):
        f = np.array([float(mpmath.exp(mpmath.mpf(x))) for x in xs])
    V = np.vander(xs, 5, increasing=True)
    _, optimum = _minimax(V, f, t.weights(f), np.zeros_like(xs))
    worst = {}
    for name, target in (("ulp", t), ("relative", make_target("exp", (-1, 1)))):
        p, _ = remez(target, 4, 0)
        worst[name] = float(max(abs(e) for e in _weighted_errors(t, p, xs)))
    assert optimum <= worst["ulp"] <= 1.01 * optimum < worst["relative"]


def test_horner_rounding_bound_holds_on_float32_runs():
    t = make_target("exp2", (0, 1), error="ulp32")
    coeffs = float32_polynomial(t, 4, grid=256).coefficients
    X = np.random.default_rng(1).uniform(0, 1, 3000).astype(f32)
    inner = fma_horner(horner(list(reversed(coeffs))))
    # The program up to its last step: q_1, computed in float32; then c0 + x q_1 exactly.
    upto = inner.__class__(inner.consts, inner.instructions[:-1], inner.output - 1)
    q1 = run32(upto, X)
    bound = horner_rounding_bound(coeffs, X.astype(np.float64))
    for x, q, b in zip(X, q1, bound):
        xf = Fraction(float(x))
        exact = sum(Fraction(c) * xf**k for k, c in enumerate(coeffs))
        assert abs(Fraction(coeffs[0]) + xf * Fraction(float(q)) - exact) <= Fraction(b)


def test_float32_polynomial_fit():
    t = make_target("exp2", (0, 1), error="ulp32")
    fit = float32_polynomial(t, 3, grid=512)
    assert all(float(f32(c)) == c for c in fit.coefficients) and len(fit.coefficients) == 4
    assert fit.program.cost == 3 and fit.program.consts == tuple(reversed(fit.coefficients))
    xs = t.grid(512)
    approx = float(max(abs(e) for e in _weighted_errors(t, list(fit.coefficients), xs)))
    assert approx <= fit.approximation * (1 + 1e-9) and fit.estimate >= fit.approximation
    assert fit.real_estimate <= fit.estimate * (1 + 1e-9)  # float32 coefficients cannot do better
    # Better, counted the way the fit counts, than the ULP-weighted minimax rounded to float32.
    X = np.unique(np.concatenate([t.grid(512), [0.0, 1.0]]))
    f = t.values(X)
    rounded = [float(f32(float(c))) for c in remez(t, 3, 0)[0]]
    V = np.vander(X, 4, increasing=True)
    rounded_estimate = np.max(t.weights(f) * (np.abs(V @ rounded - f) + horner_rounding_bound(rounded, X)))
    assert fit.estimate <= rounded_estimate
    with pytest.raises(ValueError, match="degree"):
        float32_polynomial(t, 0)


def test_fit_under_one_ulp_before_rounding_is_within_one_ulp_everywhere():
    # A short interval (every float32 checked in a moment): estimate < 1 means the last fused
    # step rounds an error under one ULP, so no float is two ULPs off.
    t = make_target("exp2", (0.5, 0.51), error="ulp32")
    fit = float32_polynomial(t, 2, grid=256)
    assert fit.estimate < 1
    check = float32_ulp_error(fit.program, t)
    assert check["exhaustive"] and check["max_ulp"] <= 1
    tuned, ulp, _ = tune_float32(fit.program, t, dense_float32(t, 1 << 20))  # every float
    assert float32_ulp_error(tuned, t)["max_ulp"] == ulp <= check["max_ulp"]


def test_ulp_scan_counts_the_points_at_the_max():
    t = make_target("exp2", (0, 1), error="ulp32")
    X, ref, exact = dense_float32(t, 4096)
    programs = [fma_horner(minimax_polynomial(t, d)) for d in (2, 3, 4)]
    packed = pack(programs)
    worst, where, _, at = ulp_scan(packed, packed.consts.astype(f32), X, ref, exact)
    for p, w, i, a in zip(programs, worst, where, at):
        d = ulp_distance(run32(p, X), ref)
        assert w == d.max() == d[i] and a == np.count_nonzero(d == w)
    report = float32_ulp_error(programs[0], make_target("exp2", (0.5, 0.5001), error="ulp32"))
    assert report["at_max"] >= 1


def test_float32_polynomials_fits():
    t = make_target("exp2", (1, 1.001), error="ulp32")
    for fit in ("relative", "minimax", "float32"):
        assert [p.cost for p in float32_polynomials(t, 2, fit)] == [1, 2]
    table = float32_polynomial_baselines(t, 2, fit="float32")
    assert [ops for ops, _, _ in table] == [1, 2] and table[1][2]["max_ulp"] <= 1
    # The classical relative minimax and the ULP one differ across the power of two at 1.
    t = make_target("exp2", (0, 1), error="ulp32")
    rel, ulp = (float32_polynomials(t, 3, fit)[2] for fit in ("relative", "minimax"))
    assert rel.consts != ulp.consts
    limit = 200_000
    a, b = float32_ulp_errors([rel, ulp], t, limit=limit)
    assert not a["exhaustive"] and b["max_ulp_exact"] < a["max_ulp_exact"]
    with pytest.raises(ValueError, match="unknown fit"):
        float32_polynomials(t, 2, "cubic")
    with pytest.raises(ValueError, match="zero"):
        float32_polynomials(make_target("sin", (-1, 1)), 2, "relative")


def _composite(consts):
    """x (Q(x)^2 + e) + g with Q a cubic by fused Horner: five fused operations, degree 7 (the
    form a search finds for 2^x in float32)."""
    from discovery.programs.graph import Program

    ins = (("fma", (1, 0, 2)), ("fma", (7, 0, 3)), ("fma", (8, 0, 4)), ("fma", (9, 9, 5)), ("fma", (0, 10, 6)))
    return Program(tuple(consts), ins, 11)


def test_rounding_bound_against_exact_float32_runs():
    # The result before its last rounding, from float32 runs of the inner steps, against the
    # exact value of the program with the same float32 constants: within the first-order bound
    # (second-order terms are ~2^-48 relative: a 1% margin holds them).
    from discovery.programs.tuning32 import rounding_bound

    p = _composite([f32(c) for c in (0.00347, 0.01296, 0.2002, 0.5998, 0.3334, 1.0)])
    p = p.with_consts([float(c) for c in p.consts])
    X = np.random.default_rng(2).uniform(0, 1, 400).astype(f32)
    inner = p.__class__(p.consts, p.instructions[:-1], p.output - 1)  # s = Q^2 + e, in float32
    s32 = run32(inner, X)
    y, bound = rounding_bound(p, X.astype(np.float64))
    e, g = Fraction(p.consts[4]), Fraction(p.consts[5])
    for x, s, b in zip(X, s32, bound):
        xf = Fraction(float(x))
        q = ((Fraction(p.consts[0]) * xf + Fraction(p.consts[1])) * xf + Fraction(p.consts[2])) * xf \
            + Fraction(p.consts[3])
        exact = xf * (q * q + e) + g
        assert abs(xf * Fraction(float(s)) + g - exact) <= Fraction(b) * Fraction(101, 100) + Fraction(1, 2**60)
    # The float64 values are the program's: the bound's companion is the plain evaluation.
    assert np.allclose(y, run32(p, X), atol=2e-7)
    # Exact operations add nothing; a fused Horner program gets horner_rounding_bound's figure.
    coeffs = (1.0, 0.6931, 0.2402, 0.0555)
    horner_prog = fma_horner(horner(list(reversed(coeffs))))
    Xd = np.linspace(0, 1, 101)
    assert np.allclose(rounding_bound(horner_prog, Xd)[1], horner_rounding_bound(coeffs, Xd), rtol=1e-12, atol=0)


def test_fit_rounding_lowers_the_error_before_the_last_rounding():
    from discovery.programs.tuning32 import _grid, fit_rounding, rounding_bound

    t = make_target("exp2", (0, 1), error="ulp32")
    start = _composite((0.00345, 0.01306, 0.19982, 0.60102, 0.33192, 1.0))
    X, f = _grid(t, 256)
    w = t.weights(f)

    def worst(p):
        y, b = rounding_bound(p, X)
        return np.max(w * (np.abs(y - f) + b))

    fitted = fit_rounding(start, t, grid=256)
    assert worst(fitted) < 0.9 * worst(start) and fitted.instructions == start.instructions


def test_tune_float32_from_the_prefit_never_loses_to_the_plain_search():
    from discovery.programs.tuning32 import score_float32

    t = make_target("exp2", (0.99, 1.0), error="ulp32")
    start = _composite((0.00345, 0.01306, 0.19982, 0.60102, 0.33192, 1.0))
    every = dense_float32(t, 1 << 20)  # every float32 of [0.99, 1]
    plain = tune_float32(start, t, every, prefit=False)
    both = tune_float32(start, t, every)
    assert score_float32([both[0]], every) <= score_float32([plain[0]], every)
    check = float32_ulp_error(both[0], t)
    assert check["exhaustive"] and (check["max_ulp"], round(check["max_ulp_exact"], 9)) == (both[1], round(both[2], 9))


def test_group_worst_and_refinement_on_every_float_of_the_top_binades():
    from discovery.programs.float32 import group_worst

    t = make_target("exp2", (0.99, 1.0), error="ulp32")
    X, ref, _ = dense_float32(t, 1 << 20)  # every float32 of [0.99, 1]
    p = fma_horner(minimax_polynomial(make_target("exp2", (0.99, 1.0)), 1))
    d = ulp_distance(run32(p, X), ref)
    idx = group_worst(p, X, ref, 0)
    blocks = [d[s:s + 8192] for s in range(0, X.size, 8192)]
    assert [d[i] for i in idx] == [b.max() for b in blocks if b.max() > 0]
    assert group_worst(p, X, ref, int(d.max())).size == 0
    # A sparse dense set misses floats; refinement on every float of the top binades (here the
    # whole interval) finds them, so the tuner's figure is the exhaustive one.
    sparse = dense_float32(t, 16)
    tuned, ulp, _ = tune_float32(p, t, sparse, prefit=False, refine=10)
    assert float32_ulp_error(tuned, t)["max_ulp"] == ulp


def test_a_constant_beyond_float32s_range_is_tuned_to_a_finite_float32():
    """A 10-minute ulp32 search ended on 'constant -inf is not finite': a float64 tuning left a
    constant beyond float32's range (x / -1e39, as good as x / -inf), which rounds to -inf, and
    when no move improved on it the tuner returned it as a constant."""
    t = make_target("exp2", (0, 1), error="ulp32")
    points = dense_float32(t, 1 << 10)
    for c in (-1e39, 1e39, -3.5e38):
        for prefit in (False, True):
            tuned, ulp, _ = tune_float32(Program((c,), (("div", (0, 1, 0)),)), t, points, prefit=prefit)
            assert all(np.isfinite(f32(v)) and float(f32(v)) == v for v in tuned.consts)
            assert ulp == score_float32([tuned], points)[0][0]


_OPS32 = ("add", "sub", "mul", "div", "fma", "sqrt")
# Constants of every size a float64 tuning may leave: tiny, ordinary, at and beyond float32's edge.
_CONSTANTS = st.one_of(
    st.floats(-2, 2), st.floats(-1e300, 1e300), st.sampled_from([3.4028234663852886e38, 3.4028235677973366e38,
                                                                  -3.5e38, 1e39, -1e39, 1e-45, -1e-46, 0.0]))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_ops=st.integers(1, 5), consts=st.lists(_CONSTANTS, min_size=1, max_size=3),
       steps=st.sampled_from([(1,), (1, 2, 4), (1, 1 << 20, 1 << 31)]), prefit=st.booleans(),
       refine=st.integers(0, 1))
def test_tuned_constants_are_finite_float32_and_never_worse(seed, n_ops, consts, steps, prefit, refine):
    """Any program, any finite float64 constants: the tuned constants are finite float32 values,
    and on the final point set the tuned program is at least as good as its own constants
    rounded (the largest finite float32 beyond the range) -- a tuning that cannot improve keeps them."""
    from discovery.programs.tuning32 import float32_constants

    t = make_target("exp2", (1, 1.001), error="ulp32")
    start = random_program(np.random.default_rng(seed), n_ops, len(consts), _OPS32).with_consts(consts)
    points = dense_float32(t, 64)
    # Steps of 2^31 float32 values cross the infinities from any constant.
    tuned, ulp, exact_ulp = tune_float32(start, t, points, steps=steps, rounds=3, prefit=prefit, refine=refine)
    assert all(np.isfinite(f32(v)) and float(f32(v)) == v for v in tuned.consts)
    own = start.simplified()
    own = own.with_consts([float(c) for c in float32_constants(own.consts)])
    if refine == 0:  # the figure is the one on the given set
        assert (ulp, exact_ulp) == score_float32([tuned], points)[0][::2]
        assert score_float32([tuned], points)[0] <= score_float32([own], points)[0]
