import math

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import assume, given
from hypothesis import strategies as st

from discovery.programs.graph import OPS, Program, horner, random_program, rational
from discovery.programs.kernels import evaluate, population_errors
from discovery.programs.targets import make_target
from discovery.programs.verify import float32_ulp_error, max_error, mp_value


def _plain(program: Program, x: float) -> float:
    """The program run instruction by instruction on Python floats (the reference)."""
    v = [x, *program.consts]
    for op, (a, b, c) in program.instructions:
        fa, fb, fc = v[a], v[b], v[c]
        if op == "div":
            if fb != 0:
                r = fa / fb
            else:  # IEEE: a signed infinity, NaN for 0/0 and NaN/0
                r = math.copysign(math.inf, fa) * math.copysign(1, fb) if fa != 0 and fa == fa else math.nan
        elif op == "sqrt":
            r = math.sqrt(fa) if fa >= 0 else math.nan
        else:
            r = {"add": fa + fb, "sub": fa - fb, "mul": fa * fb, "fma": fa * fb + fc,
                 "mul2": 2 * fa, "half": 0.5 * fa}[op]
        v.append(r)
    return v[program.output]


programs = st.builds(
    lambda seed, n, k: random_program(np.random.default_rng(seed), n, k, OPS),
    st.integers(0, 10**6), st.integers(1, 20), st.integers(0, 4),
)


@given(programs)
def test_interpreter_matches_plain_python(program):
    X = np.linspace(0.1, 2.0, 37)
    got = evaluate(program, X)
    want = np.array([_plain(program, float(x)) for x in X])
    assert np.allclose(got, want, rtol=1e-13, atol=0, equal_nan=True)


@given(st.lists(programs, min_size=1, max_size=8))
def test_population_errors_match_one_by_one(progs):
    X = np.linspace(0.2, 1.5, 50)
    T = np.exp(X)
    errs = population_errors(progs, X, T)
    for p, e in zip(progs, errs):
        y = np.array([_plain(p, float(x)) for x in X])
        rel = np.abs(y - T) / np.abs(T)
        expected = math.inf if not np.all(np.isfinite(rel)) else rel.max()
        assert e == pytest.approx(expected, rel=1e-12) or (math.isinf(e) and math.isinf(expected))


@given(programs)
def test_exports_agree(program):
    x = 0.7
    ref = _plain(program, x)
    assume(math.isfinite(ref))
    assert program.to_python()(x) == pytest.approx(ref, rel=1e-12)
    expr = sympy.sympify(program.expression(), locals={"x": sympy.Symbol("x")})
    value = complex(expr.subs(sympy.Symbol("x"), sympy.Float(x, 30)).evalf(30))
    assert value.real == pytest.approx(ref, rel=1e-9, abs=1e-12)
    with mpmath.workdps(30):
        assert float(mp_value(program, mpmath.mpf(x))) == pytest.approx(ref, rel=1e-12)
    assert program.simplified().to_python()(x) == pytest.approx(ref, rel=1e-12)
    assert Program.from_json(program.to_json()) == program


def test_numba_and_c_exports():
    p = rational([1.0, 2.0, 3.0], [2.0, 5.0, 6.0, 7.0])
    assert p.to_numba()(0.3) == pytest.approx(np.polyval([1, 2, 3], 0.3) / np.polyval([2, 5, 6, 7], 0.3), rel=1e-14)
    c = p.c_source(ctype="float")
    assert c.startswith("float f(float x) {") and "0.5f" in c and c.count(";") == len(p.instructions) + 1


def test_cost_counts_live_x_dependent_operations():
    # c0*c1 is constant (free), t1 = x*t0 and t2 = t1 + x cost 2, t3 is dead.
    p = Program((2.0, 3.0), (("mul", (1, 2)), ("mul", (0, 3)), ("add", (4, 0)), ("sub", (0, 0))), output=5)
    assert p.cost == 2 and len(p.simplified().instructions) == 3
    assert horner([1, 2, 3, 4, 5, 6]).cost == 10
    assert rational([1, 2, 3], [1, 2, 3, 4]).cost == 10
    assert rational([1] * 5, [1] * 5).cost == 16


def test_program_validation():
    with pytest.raises(ValueError, match="operand 5"):
        Program((1.0,), (("add", (0, 5)),))
    with pytest.raises(ValueError, match="'pow'"):
        Program((), (("pow", (0, 0)),))
    with pytest.raises(ValueError, match="not finite"):
        Program((math.nan,), ())


def test_targets():
    t = make_target("exp2", (0, 1))
    assert t.relative and t.expr == "2**x"
    X, T = t.training
    assert len(X) == 1024 and X[0] == 0 and X[-1] == 1 and np.allclose(T, np.exp2(X), rtol=1e-15)
    assert not make_target("sin", (-1, 1)).relative
    user = make_target("exp(x)*cos(x)", (0, 1))
    assert user.values(np.array([0.5]))[0] == pytest.approx(math.exp(0.5) * math.cos(0.5), rel=1e-15)
    with pytest.raises(ValueError, match="zero"):
        make_target("sin", (-1, 1), relative=True)
    with pytest.raises(ValueError, match="empty"):
        make_target("exp", (1, 0))
    with pytest.raises(ValueError, match="unknown name 'y'"):
        make_target("exp(y)", (0, 1))
    with pytest.raises(ValueError, match="not real"):
        make_target("ln", (-2, -1))


def test_verification_finds_the_true_max_error():
    # p(x) = 1 + x approximates exp on [0, 0.5]; the relative error (e^x - 1 - x)/e^x is
    # increasing, so its maximum is at x = 0.5: 1 - 1.5/e^0.5.
    t = make_target("exp", (0, 0.5))
    p = horner([1.0, 1.0])
    assert max_error(p, t) == pytest.approx(1 - 1.5 / math.exp(0.5), rel=1e-12)
    # An interior maximum: sin(x) ~ x on [-1, 1] in absolute error peaks at the ends; x - x^3/6
    # has its maximum error at the ends as well; check against a dense float scan.
    s = make_target("sin", (-1, 1))
    q = Program((-1 / 6,), (("mul", (0, 0)), ("mul", (2, 0)), ("mul", (3, 1)), ("add", (0, 4))))
    X = np.linspace(-1, 1, 200001)
    assert max_error(q, s) == pytest.approx(np.max(np.abs(X - X**3 / 6 - np.sin(X))), rel=1e-6)


def test_float32_ulp_check():
    t = make_target("exp2", (1, 2))
    exact = Program((), (("mul2", (0,)),))  # 2x is not 2^x: large ulp error
    # IEEE float32 sqrt is correctly rounded: 0 ulp on every one of the 2^23 + 1 floats of [1, 2].
    report = float32_ulp_error(Program((), (("sqrt", (0,)),)), make_target("sqrt", (1, 2)))
    assert report["max_ulp"] == 0 and report["checked"] == 2**23 + 1 and report["exhaustive"]
    assert float32_ulp_error(exact, t, limit=10_000)["max_ulp"] > 1000


def _plain_jacobian(program: Program, x: float) -> list[float]:
    """d output / d constants by dual numbers on Python floats (the reference)."""
    K = len(program.consts)
    v = [(x, [0.0] * K)] + [(c, [1.0 if j == k else 0.0 for j in range(K)]) for k, c in enumerate(program.consts)]
    for op, (a, b, c) in program.instructions:
        (fa, da), (fb, db), (fc, dc) = v[a], v[b], v[c]
        with np.errstate(all="ignore"):
            fa, fb, fc = np.float64(fa), np.float64(fb), np.float64(fc)
            if op == "add":
                r, d = fa + fb, [p + q for p, q in zip(da, db)]
            elif op == "sub":
                r, d = fa - fb, [p - q for p, q in zip(da, db)]
            elif op == "mul":
                r, d = fa * fb, [p * fb + fa * q for p, q in zip(da, db)]
            elif op == "div":
                r = fa / fb
                d = [(p - r * q) / fb for p, q in zip(da, db)]
            elif op == "sqrt":
                r = np.sqrt(fa)
                d = [0.5 * p / r for p in da]
            elif op == "fma":
                r, d = fa * fb + fc, [p * fb + fa * q + s for p, q, s in zip(da, db, dc)]
            else:
                f = 2.0 if op == "mul2" else 0.5
                r, d = f * fa, [f * p for p in da]
        v.append((r, d))
    return v[program.output][1]


@given(programs)
def test_jacobian_matches_dual_numbers(program):
    from discovery.programs.tuning import value_and_jacobian

    X = np.linspace(0.1, 2.0, 11)
    y, J = value_and_jacobian(program, X)
    assert np.array_equal(y, evaluate(program, X), equal_nan=True)
    want = np.array([_plain_jacobian(program, float(x)) for x in X]).reshape(J.shape)
    assert np.allclose(J, want, rtol=1e-12, atol=0, equal_nan=True)


def test_jacobian_matches_sympy():
    from discovery.programs.tuning import value_and_jacobian

    # 2^x ~ c4 (P + uQ)/(P - uQ), u = x - c0, s = u^2, P = s + c1, Q = c2 s + c3.
    instr = [("sub", (0, 1)), ("mul", (6, 6)), ("add", (7, 2)), ("mul", (3, 7)), ("add", (9, 4)),
             ("mul", (6, 10)), ("add", (8, 11)), ("sub", (8, 11)), ("div", (12, 13)), ("mul", (14, 5))]
    p = Program((0.5, 10.0, 0.1, 3.0, 1.414), tuple(instr))
    cs = sympy.symbols("c0:5")
    x = sympy.Symbol("x")
    u = x - cs[0]
    P, Q = u**2 + cs[1], cs[2] * u**2 + cs[3]
    expr = cs[4] * (P + u * Q) / (P - u * Q)
    X = np.linspace(0, 1, 7)
    _, J = value_and_jacobian(p, X)
    subs = dict(zip(cs, p.consts))
    for k, c in enumerate(cs):
        d = sympy.lambdify(x, sympy.diff(expr, c).subs(subs), "mpmath")
        want = [float(d(mpmath.mpf(float(xi)))) for xi in X]
        assert np.allclose(J[:, k], want, rtol=1e-12)


@given(programs)
def test_folding_keeps_the_function_and_the_cost(program):
    try:
        folded = program.folded()
    except ValueError:
        return  # a constant subexpression is not finite
    assert folded.cost == program.cost
    assert not any(not folded.depends_on_x()[1 + len(folded.consts) + t] for t in range(len(folded.instructions)))
    X = np.linspace(0.1, 2.0, 23)
    # The interpreter computes a constant subexpression with the same IEEE operations per point
    # as folding does once, so the values agree to the bit.
    assert np.array_equal(evaluate(program, X), evaluate(folded, X), equal_nan=True)


def test_register_form_reuses_slots_and_keeps_constants_scalar():
    from discovery.programs.kernels import pack

    p = horner([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])  # a chain: x and two alternating accumulators
    packed = pack([p])
    assert packed.n_slots == 3
    const_only = Program((2.0, 3.0), (("mul", (1, 2)), ("add", (3, 1))))  # 3*2 + 2, no x
    X = np.linspace(0, 1, 5)
    assert np.array_equal(evaluate(const_only, X), np.full(5, 8.0))
    assert population_errors([const_only], X, np.full(5, 8.0))[0] == 0.0


@given(programs)
def test_deduplication_keeps_the_values(program):
    dedup = program.deduplicated()
    assert dedup.cost <= program.cost
    X = np.linspace(0.1, 2.0, 23)
    assert np.array_equal(evaluate(program, X), evaluate(dedup, X), equal_nan=True)


def test_deduplication_merges_repeated_work():
    # (x - 0.5) computed twice with two equal constants, and x*y next to y*x.
    p = Program((-0.5, 2.0, -0.5), (("add", (0, 1)), ("add", (3, 0)), ("mul", (4, 5)), ("mul", (5, 4)),
                                    ("add", (6, 7)), ("add", (8, 2))))
    dedup = p.deduplicated()
    assert (p.cost, dedup.cost) == (6, 4)
    X = np.linspace(0, 1, 9)
    assert np.array_equal(evaluate(p, X), evaluate(dedup, X))
