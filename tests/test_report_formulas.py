"""Formulas as people write them: simplified forms equal to the stored ones, catalog names, true
minus signs, one level of stacked fractions (nothing shrinks in a table cell)."""

import re

import mpmath
import pytest
import sympy

from discovery.constants import to_sympy
from discovery.families import K
from discovery.report.formulas import (MINUS, RAW_NAMES, closed_form_mathml, closed_form_text, mathml,
                                       pretty_names, simplify, text, vanishing_pochhammer)

# Closed forms as the identification stores them (taken from a quickstart run).
STORED = [
    "GoldenRatio", "1 + GoldenRatio", "1/2 + sqrt(13)/2", "-1 + E", "1/(-1 + E)", "2/(-1 + exp(2))",
    "(-2 + 2*exp(2))/(1 + exp(2))", "(2 - E)/(-3 + E)", "-exp(2)/2 - 7/2", "besseli(1, 2)/besseli(0, 2)",
    "(-10*besseli(1, 2)/besseli(0, 2) + 7)/(-2 + 3*besseli(1, 2)/besseli(0, 2))",
    "-besseli(1, 2)/((-1 + besseli(1, 2)/besseli(0, 2))*besseli(0, 2))", "(-3*tan(1) - 2)/(1 + tan(1))",
    "-1/(gompertz - 1)", "4/(-2 + pi)", "-pi/(-4 + pi)", "1 + pi/2", "1/(-1 + 2*log(2))", "48/(-32 + 15*pi)",
    "-63/20", "zeta(3)/6", "EulerGamma + Catalan",
]


def _value(expr):
    return sympy.N(expr.subs(sympy.Symbol("gompertz"), sympy.Float(mpmath.e * mpmath.e1(1), 40)), 40)


@pytest.mark.parametrize("stored", STORED)
def test_the_simplified_form_has_the_stored_value_and_no_raw_name(stored):
    expr = to_sympy(stored)
    assert abs(_value(simplify(expr)) - _value(expr)) < 1e-35
    shown = closed_form_text(stored)
    assert not any(raw in shown for raw in RAW_NAMES), shown
    assert "-" not in shown  # minus signs are U+2212
    markup = closed_form_mathml(stored)
    assert not any(raw in markup for raw in RAW_NAMES), markup
    assert "<mo>-</mo>" not in markup and "<mn>-" not in markup
    # At most one stacked fraction on any path: an inner quotient is written with a slash.
    assert not re.search(r"<mfrac>(?:(?!</mfrac>).)*<mfrac>", markup), markup


def test_names_and_orders_a_mathematician_writes():
    assert closed_form_text("-1 + E") == f"e {MINUS} 1"
    assert closed_form_text("1/(-1 + E)") == f"1/(e {MINUS} 1)"
    assert closed_form_text("GoldenRatio") == "φ"
    assert closed_form_text("2/(-1 + exp(2))") == f"2/(e² {MINUS} 1)"
    assert closed_form_text("4/(-2 + pi)") == f"4/(π {MINUS} 2)"
    # The nested Bessel quotient becomes one fraction, each Bessel value named once per term.
    bessel = closed_form_text("(-10*besseli(1, 2)/besseli(0, 2) + 7)/(-2 + 3*besseli(1, 2)/besseli(0, 2))")
    assert bessel.count("/") == 1 and "I₀(2)" in bessel and "I₁(2)" in bessel
    assert closed_form_text("besseli(1, 2)/besseli(0, 2)") == "I₁(2)/I₀(2)"
    assert "<mi>&#966;</mi>" in closed_form_mathml("1 + GoldenRatio")  # φ
    assert "<mo>&#8722;</mo>" in closed_form_mathml("-1 + E")  # U+2212


def test_pochhammer_symbols_factorials_and_sums():
    i = sympy.Symbol("i", integer=True)
    expr = 2 * sympy.RisingFactorial(2, K) / (sympy.Sum(-2 * sympy.RisingFactorial(sympy.Rational(1, 2), i)
                                                        / sympy.RisingFactorial(0, i), (i, 0, K - 1)) + sympy.pi)
    shown = text(expr)
    assert "(2)_k" in shown and "(1/2)_i" in shown and "Rising" not in shown
    markup = mathml(expr)
    assert "RisingFactorial" not in markup and "<msub><mrow><mo>(</mo><mn>2</mn><mo>)</mo></mrow><mi>k</mi>" in markup
    assert "&#8721;" in markup  # ∑
    assert vanishing_pochhammer(expr) and not vanishing_pochhammer(sympy.RisingFactorial(2, K))
    assert text(sympy.factorial(K) * sympy.E) == "e·k!" or text(sympy.factorial(K) * sympy.E) == "k!·e"
    # 4·2^k: a visible dot between two numbers.
    assert "<mo>&#183;</mo>" in mathml(4 * 2**K)  # ·


def test_prose_quoting_sympy_reads_with_the_same_names():
    reason = "equivalent to kummer-1f1-2: 2*(exp(2) - 1)/((2 - 1)*exp(2) + 1); bessel-cf: besseli(1, 2)/besseli(0, 2)"
    shown = pretty_names(reason)
    assert "exp(" not in shown and "besseli" not in shown and "kummer-1f1-2" in shown
    assert "e²" in shown and "I₁(2)/I₀(2)" in shown
    assert pretty_names("fam-neurips2024-pi-ln2 at k = 0, pi/2") == "fam-neurips2024-pi-ln2 at k = 0, π/2"


def test_legends_name_constants_by_their_symbol_when_short_and_clean():
    from discovery.report.formulas import RAW_NAMES, constant_symbol

    assert constant_symbol("pi") == "π"
    assert constant_symbol("e2") == "e²"
    assert constant_symbol("zeta3") == "ζ(3)"
    assert constant_symbol("bessel_i1_i0") == "I₁(2)/I₀(2)"
    # Too long, or only writable with raw sympy names: the catalog name.
    assert constant_symbol("chi8_l2") == "chi8_l2"
    assert constant_symbol("bessel_j1_j0") == "bessel_j1_j0"
    assert constant_symbol("not_a_constant") == "not_a_constant"
    from discovery.constants import CATALOG

    assert not [name for name in CATALOG if any(raw in constant_symbol(name) for raw in RAW_NAMES)]
