import math
import random

import mpmath
import pytest
import sympy
from hypothesis import assume, given
from hypothesis import strategies as st

import naive
from discovery.pcf import closed_form as cf_module
from discovery.pcf.closed_form import ClosedForm, classical_reason, closed_form
from discovery.pcf.formula import PCF

n = sympy.Symbol("n")


def _agreement(x, y) -> float:
    diff = abs(x - y)
    return math.inf if diff == 0 else float(-mpmath.log10(diff / abs(y)))


def _same(x, y) -> bool:
    """Symbolic equality, with trigonometric and hyperbolic functions written as exponentials."""
    return sympy.simplify(x - y) == 0 or sympy.simplify((x - y).rewrite(sympy.exp)) == 0


def _naive_limit(pcf: PCF, depth: int = 1500):
    """The value at depth 2·depth by the textbook recurrence, and the digits on which it agrees with
    the value at depth (what plain convergents can vouch for, independently of the module)."""
    deep, shallow = naive.value(pcf.a, pcf.b, 2 * depth), naive.value(pcf.a, pcf.b, depth)
    if deep is None or shallow is None:
        return None, 0.0
    with mpmath.workdps(120):
        x, y = mpmath.mpf(deep.numerator) / deep.denominator, mpmath.mpf(shallow.numerator) / shallow.denominator
        return x, (math.inf if x == y else _agreement(y, x))


# --- the classics ----------------------------------------------------------------------------------

E, pi, log, sqrt = sympy.E, sympy.pi, sympy.log, sympy.sqrt
CLASSICS = [
    # (a, b, kind, expected limit)
    ("2n+1", "n^2", "2F1", 4 / pi),
    ("n+3", "-n", "1F1", E),
    ("n+1", "n+1", "1F1", E - 1),
    ("3n+2", "-2n^2", "2F1", 1 / log(2)),
    ("1", "n^2", "2F1", 1 / log(2)),
    ("n", "1", "0F1", sympy.besseli(1, 2) / sympy.besseli(0, 2)),
    ("2n+1", "-1", "0F1", sympy.cot(1)),  # tan 1 = 1/(1 - 1/(3 - 1/(5 - ...)))
    ("2n+1", "1", "0F1", (E**2 + 1) / (E**2 - 1)),  # e² from coth 1
    ("1", "1", "algebraic", (1 + sqrt(5)) / 2),
    ("2", "1", "algebraic", 1 + sqrt(2)),
    ("10n+5", "1-9n^2", "2F1", (1 + 2 ** sympy.Rational(2, 3)) / (2 ** sympy.Rational(2, 3) - 1)),
    ("1", "n", "U", sqrt(2) * sympy.exp(-sympy.Rational(1, 2)) / (sqrt(pi) * sympy.erfc(1 / sqrt(2)))),
    ("2n+3", "-n^2", "U", sympy.exp(-2) / sympy.expint(1, 2)),  # parabolic: α² + 4γ = 0
    ("-n-2", "3n", "1F1", 81 / (131 - 8 * sympy.exp(3))),  # integer 1F1 by the Euler integral
    ("n+1", "n-3", "rational", sympy.Rational(-1, 5)),
]


@pytest.mark.parametrize("a, b, kind, expected", CLASSICS, ids=[f"{a}|{b}" for a, b, _, _ in CLASSICS])
def test_classics_get_their_closed_form(a, b, kind, expected):
    pcf = PCF(a, b)
    # hyperexpand needs 1.4 s for the cube-root fraction, more than the default cap.
    got = closed_form(pcf, 50, simplify_seconds=20)
    assert isinstance(got, ClosedForm)
    assert got.kind == kind
    assert got.digits_confirmed >= 50
    with mpmath.workdps(60):
        assert _agreement(got.evaluate(60), mpmath.mpf(sympy.N(expected, 70))) >= 50
    # Symbolically: the simplified expression is the classical constant itself.
    assert _same(got.expression, expected)
    assert sympy.sympify(got.text) == got.expression


@pytest.mark.parametrize("k", range(5))
def test_neurips_family_is_gauss_at_minus_one(k):
    # a = 3n + k + 2, b = -n(2n + k): the family of 1/ln 2 (k = 0) in "Unsupervised Discovery of
    # Formulas for Mathematical Constants"; every member is 2F1(1, 1 + k/2; c; -1) ratio, a Möbius
    # image of log 2 for even k and of π for odd k.
    pcf = PCF(f"3n+{k + 2}", f"-n*(2n+{k})")
    got = closed_form(pcf, 50, simplify_seconds=20)
    assert got is not None and got.kind == "2F1"
    assert (got.parameters["a"], got.parameters["b"], got.parameters["z"]) == (1, 1 + sympy.Rational(k, 2), -1)
    assert got.digits_confirmed >= 50
    assert got.expression.has(pi if k % 2 else log(2)) and not got.expression.has(sympy.hyper)
    assert got.text == ["1/log(2)", "2/(4 - pi)", "1/(1 - log(2))", "6/(-8 + 3*pi)", "2/(-1 + 2*log(2))"][k]
    with mpmath.workdps(60):
        assert _agreement(got.evaluate(60), pcf.limit(400, dps=70).value) >= 50


def test_parameters_are_exact_and_the_text_parses():
    got = closed_form(PCF("2n+1", "n^2"))
    p = got.parameters
    assert (p["a"], p["b"], p["c"], p["shift"]) == (sympy.Rational(1, 2), sympy.Rational(1, 2), sympy.Rational(5, 2), 0)
    assert sympy.simplify(p["z"] - (2 - sqrt(2)) / 4) == 0  # sin²(π/8)
    assert got.text == "4/pi"
    assert got.hypergeometric.has(sympy.hyper)
    with mpmath.workdps(210):
        assert _agreement(got.evaluate(200), 4 / mpmath.pi) >= 199


def test_evaluation_at_any_precision_matches_deep_convergents():
    pcf = PCF("3n+1", "2n^2-n-2")
    got = closed_form(pcf, 50)
    est = pcf.limit(1500, dps=330)
    assert est.digits > 300
    with mpmath.workdps(320):
        assert _agreement(got.evaluate(310), est.value) >= 300


def test_shapes_with_zeros_of_a_and_b_use_a_later_tail():
    # a(2) = 0 and b(0) = b(-1) = 0: the hypergeometric ratio gives the tail after the zeros.
    pcf = PCF("n-2", "n^2+n")
    got = closed_form(pcf, 40)
    assert got is not None and got.parameters["shift"] >= 2
    with mpmath.workdps(50):
        assert _agreement(got.evaluate(45), pcf.limit(600, dps=60).value) >= 40


def test_parabolic_case_is_tricomi_u():
    # α² + 4γ = 0: the characteristic roots coincide; the limit is a ratio of U(a+k, b, z).
    pcf = PCF("2n+3", "-n^2")
    got = closed_form(pcf, 50)
    assert got.kind == "U" and got.parameters["z"] == 2
    assert got.digits_confirmed >= 50


@pytest.mark.parametrize("a, b", [
    ("n", "-n^2"),  # α² + 4γ < 0: complex characteristic roots of equal modulus
    ("1", "-1"),  # periodic with complex roots
    ("1", "-n^2"),  # a constant, b negative quadratic
    ("2", "-n"),  # a constant, b negative linear
    ("n^2", "n"),  # degree too high for this module
    ("n", "n^3"),
])
def test_no_limit_or_uncovered_shape_gives_none(a, b):
    assert closed_form(PCF(a, b), 30) is None
    assert classical_reason(PCF(a, b)) is None


def test_finite_fraction_is_an_exact_rational():
    pcf = PCF("n+1", "n-3")  # b(3) = 0: 1 + (-2)/(2 + (-1)/3) = -1/5
    got = closed_form(pcf)
    assert got.kind == "rational" and got.expression == sympy.Rational(-1, 5)
    assert got.digits_confirmed == math.inf
    assert closed_form(PCF("n-1", "n-2")) is None  # 0 + (-1)/0: undefined


def test_classical_reason_names_the_fraction_and_its_parameters():
    reason = classical_reason(PCF("2n+1", "n^2"))
    assert "Gauss" in reason and "2F1" in reason and "a=1/2, b=1/2, c=5/2" in reason
    assert "Kummer" in classical_reason(PCF("n+3", "-n"))
    assert "Bessel" in classical_reason(PCF("n", "1"))
    assert "periodic" in classical_reason(PCF("1", "1"))


def test_a_closed_form_the_convergents_contradict_is_never_reported(monkeypatch):
    pcf = PCF("2n+1", "n^2")
    (der,) = cf_module._derivations(pcf.a, pcf.b)
    wrong = cf_module._Derivation(der.kind, der.params, der.exact,
                                  lambda dps: der.evaluator(dps) * (1 + mpmath.mpf(10) ** -40), der.reason)
    monkeypatch.setattr(cf_module, "_derivations", lambda a, b: (wrong,))
    assert closed_form(pcf, 50) is None  # 40 digits right, the convergents support 50: rejected
    got = closed_form(pcf, 30, simplify=False)  # to 30 digits the two agree, and no more is claimed
    assert got is not None and 30 <= got.digits_confirmed <= 41


def test_slow_fractions_are_not_credited_with_digits_they_lack():
    # a constant, b quadratic: power-law convergence with an irrational exponent; the convergents
    # cannot confirm 15 digits at an affordable depth, so nothing is claimed.
    assert closed_form(PCF("3", "2n^2+n")) is None


# --- random fractions --------------------------------------------------------------------------------


def _low_degree_pcfs():
    coeff = st.integers(-4, 4)
    lead = coeff.filter(bool)
    a = st.one_of(st.tuples(lead), st.tuples(lead, coeff))
    b = st.one_of(st.tuples(lead), st.tuples(lead, coeff), st.tuples(lead, coeff, coeff))
    return st.tuples(a, b).map(lambda ab: PCF(list(ab[0]), list(ab[1])))


@given(_low_degree_pcfs())
def test_random_closed_forms_match_the_textbook_convergents(pcf):
    got = closed_form(pcf, 30, min_digits=30)
    assume(got is not None)
    assert got.digits_confirmed >= 30
    reference, supported = _naive_limit(pcf)
    assert reference is not None
    with mpmath.workdps(60):
        assert _agreement(got.evaluate(50), reference) >= min(30.0, supported - 3)
        # The text is the same number (sympy parses it back and evaluates it).
        re, im = sympy.N(sympy.sympify(got.text), 45).as_real_imag()  # complex parameters leave rounding in im
        assert abs(im) < 1e-40
        assert _agreement(mpmath.mpf(re), got.evaluate(45)) >= 30


def _random_degree_12(rng, r):
    def nonzero():
        return rng.choice([v for v in range(-r, r + 1) if v])

    return PCF([nonzero(), rng.randint(-r, r)], [nonzero(), rng.randint(-r, r), rng.randint(-r, r)])


def test_most_converging_degree_12_fractions_get_a_closed_form():
    rng = random.Random(2024)
    converging, found = 0, 0
    while converging < 60:
        pcf = _random_degree_12(rng, 3)
        if pcf.limit(2000).digits < 30:
            continue
        converging += 1
        got = closed_form(pcf, 30)
        found += got is not None and got.digits_confirmed >= 30
    assert found / converging >= 0.9


def test_agrees_with_ramanujantools_gauss_limit():
    rt = pytest.importorskip("ramanujantools.pcf.hypergeometric")
    from ramanujantools.pcf import PCF as RPCF

    def mp(x):
        re, im = sympy.N(x, 60).as_real_imag()
        return mpmath.mpc(str(re), str(im))

    for a, b in [(2 * n + 1, n**2), (2 * n + 3, n**2 + n + 1), (1 - 3 * n, 2 * n**2 - n - 2)]:
        ref = rt.Hypergeometric2F1Limit(RPCF(a, b))
        got = closed_form(PCF(a, b), 40)
        with mpmath.workdps(50):
            a1, a2, c, z = mp(ref.alpha1), mp(ref.alpha2), mp(ref.beta), mp(ref.z)
            value = mp(ref.sqrt_delta) * c * mpmath.hyp2f1(a1, a2, c, z) / mpmath.hyp2f1(a1 + 1, a2 + 1, c + 1, z)
            assert _agreement(got.evaluate(45), value.real) >= 40
