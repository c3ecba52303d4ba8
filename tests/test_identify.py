import random

import mpmath
import pytest
import sympy

from discovery import PCF
from discovery.constants import SYMPY_LOCALS
from discovery.identify import find_relation, identify, identify_pcf
from discovery.pcf.known import known_pcfs
from discovery.pcf.space import sample_box


@pytest.mark.parametrize("known", known_pcfs(), ids=lambda k: k.id)
def test_known_formulas_are_identified_exactly(known):
    found = identify_pcf(known.pcf)
    assert found is not None
    assert found.constant == known.constant
    stored = sympy.sympify(known.closed_form, locals=SYMPY_LOCALS)
    assert sympy.simplify(found.expr - stored) == 0
    assert sympy.sympify(found.closed_form, locals=SYMPY_LOCALS) == found.expr
    assert found.digits_verified >= 100 and found.depth > 0


def _value(text, dps):
    return str(sympy.N(sympy.sympify(text, locals={"e": sympy.E}), dps))


@pytest.mark.parametrize(
    "text, constants, kwargs, expected",
    [
        ("4/pi", None, {}, "4/pi"),
        ("(3*e + 1)/(e - 2)", None, {}, "(3*E + 1)/(E - 2)"),
        ("22/7", None, {}, "22/7"),
        ("1 + sqrt(7)", None, {}, "1 + sqrt(7)"),
        ("(pi**2 + 1)/(pi - 3)", ["pi"], {"degree": 2}, "(pi**2 + 1)/(pi - 3)"),
        ("(1 + pi + e)/(2 + e)", ["pi", "e"], {"pairs": True}, "(1 + pi + E)/(2 + E)"),
    ],
)
def test_identify_values(text, constants, kwargs, expected):
    found = identify(_value(text, 120), constants=constants, digits=50, **kwargs)
    assert found is not None
    assert sympy.simplify(found.expr - sympy.sympify(expected)) == 0
    assert found.digits_verified >= 100


def test_random_reals_give_no_identification():
    rng = random.Random(2024)
    for _ in range(300):
        text = f"{rng.randint(-20, 20)}." + "".join(rng.choice("0123456789") for _ in range(50))
        assert identify(text) is None, text


def test_every_identified_random_pcf_is_true_at_300_digits():
    A, B = sample_box(150, seed=8)
    checked = 0
    for a, b in zip(A, B):
        pcf = PCF(a.tolist(), b.tolist())
        found = identify_pcf(pcf, digits=30, max_depth=3000)
        if found is None:
            continue
        # Independent check: a much deeper convergent against the closed form at 300 digits.
        deep = pcf.limit(max(found.depth * 4, 400), dps=320)
        if deep.digits < 300:
            continue
        subs = {sympy.Symbol("gompertz"): sympy.E * sympy.expint(1, 1)}
        with mpmath.workdps(320):
            # A hypergeometric closed form may pass through complex parameters to a real value.
            value = sympy.N(found.expr.subs(subs), 310)
            assert abs(sympy.im(value)) <= sympy.Float(10) ** -300, pcf
            closed = mpmath.mpf(str(sympy.re(value)))
            assert abs(deep.value - closed) <= mpmath.mpf(10) ** -295 * max(1, abs(closed)), pcf
        checked += 1
    assert checked >= 5


def test_bad_input():
    with pytest.raises(ValueError, match="twice|2 \\* digits|needs the value"):
        identify("3.14159265358979323846264338327950288419716939937510", digits=40)
    with pytest.raises(ValueError, match="at least 20 digits"):
        identify("3.1415926535")
    with pytest.raises(ValueError, match="15 screening digits"):
        identify("3.14159265358979323846264338327950288419716939937510", digits=10)
    with pytest.raises(ValueError, match="unknown constant"):
        identify(_value("pi", 100), constants=["pie"])
    with pytest.raises(ValueError, match="cannot read"):
        identify("three point one")
    with pytest.raises(ValueError, match="PCF"):
        identify_pcf("2n+1")


def test_find_relation_on_a_known_relation():
    with mpmath.workdps(60):
        x = mpmath.pi
        L = 4 / x
        rel = find_relation([mpmath.mpf(1), x, L, x * L], 50)
    assert rel is not None
    assert [c * (1 if rel[0] > 0 else -1) for c in rel] == [4, 0, 0, -1]
