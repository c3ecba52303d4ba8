"""Identification reach: slow fractions (extrapolation), escalation to several constants and
products, the wider and user catalogs, huge coefficients, low-digit values, published formulas."""

import json
import random

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery import PCF
from discovery import constants as catalog
from discovery.cli import main
from discovery.errors import InputError
from discovery.identify import MIN_KNOWN, RepresentativeIdentifier, identify, identify_pcf, pcf_value
from discovery.pcf.exact import accelerated_limit, limit_estimate
from discovery.pcf.known import literature_pcfs

ZETA3_EULER = PCF([2, 3, 3, 1], [-1, 0, 0, 0, 0, 0, 0])  # 1/zeta(3), error ~ 1/n^2


def _true_digits(value, exact) -> float:
    with mpmath.workdps(400):
        return float(-mpmath.log10(abs(value - exact) / abs(exact))) if value != exact else 400.0


@pytest.mark.parametrize(
    "a, b, exact",
    [
        ([2, 3, 3, 1], [-1, 0, 0, 0, 0, 0, 0], lambda: 1 / mpmath.zeta(3)),
        ([2, 5, 10, 10, 5, 1], [-1] + [0] * 10, lambda: 1 / mpmath.zeta(5)),
        ([1], [1, 0, 0], lambda: 1 / mpmath.log(2)),  # alternating: error changes sign
        ([2], [4, -4, 1], lambda: 1 + 4 / mpmath.pi),  # Brouncker, error ~ 1/n
    ],
)
def test_extrapolation_gains_digits_and_never_overstates(a, b, exact):
    with mpmath.workdps(420):
        value = exact()
    plain = limit_estimate(a, b, 400)
    est = accelerated_limit(a, b, 400)
    assert est.method == "richardson"
    assert est.digits >= plain.digits + 20
    assert est.digits <= _true_digits(est.value, value) + 0.5
    assert plain.digits <= _true_digits(plain.value, value) + 0.5


def test_plain_convergent_digits_count_the_tail():
    # The last step of 1/zeta(3)'s Euler fraction is ~1/n^3 but the error ~1/n^2: the estimate
    # must not claim the step's digits.
    est = ZETA3_EULER.limit(1000)
    with mpmath.workdps(50):
        true = _true_digits(est.value, 1 / mpmath.zeta(3))
    assert true - 1 <= est.digits <= true + 0.3


@settings(max_examples=6, deadline=None)
@given(st.integers(2, 6), st.integers(-2, 4))
def test_extrapolated_digits_hold_against_a_deeper_extrapolation(c1, c0):
    # a(n) = 2n^3 + 3n^2 + c1 n + c0, b(n) = -n^6: errors like n^-s with s depending on (c1, c0),
    # not always an integer; the claim at depth 100 must hold against depth 1600.
    a, b = [2, 3, c1, c0], [-1, 0, 0, 0, 0, 0, 0]
    shallow = accelerated_limit(a, b, 100)
    deep = accelerated_limit(a, b, 1600)
    if deep.digits < shallow.digits + 3:
        return  # the deep value cannot judge the shallow one
    assert shallow.digits <= _true_digits(shallow.value, deep.value) + 0.5


def test_extrapolation_input_checks():
    with pytest.raises(ValueError, match="depth"):
        accelerated_limit([1], [1], 8)
    with pytest.raises(ValueError, match="terms"):
        accelerated_limit([1], [1], 100, terms=60)


def test_slow_fraction_is_identified():
    found = identify_pcf(PCF([2, 5, 10, 10, 5, 1], [-1] + [0] * 10))  # Euler's fraction of 1/zeta(5)
    assert found is not None and found.expr == 1 / sympy.zeta(5)
    assert found.digits_verified >= 100


def test_identification_on_few_digits_says_so():
    with mpmath.workdps(40):
        text = mpmath.nstr((3 + mpmath.pi) / (2 * mpmath.pi - 1), 25)
    found = identify(text)
    assert found is not None and sympy.simplify(found.expr - (3 + sympy.pi) / (2 * sympy.pi - 1)) == 0
    assert 21 <= found.digits_verified <= 25
    with pytest.raises(ValueError, match=f"at least {MIN_KNOWN} digits"):
        identify("1.2345678901234")


def test_pcf_value_reports_what_it_reaches():
    est = pcf_value(ZETA3_EULER, 120, max_depth=2000)
    assert est.digits >= 120 and est.method == "richardson"
    with mpmath.workdps(140):
        assert _true_digits(est.value, 1 / mpmath.zeta(3)) >= 120


@pytest.mark.parametrize(
    "text, kind",
    [
        ("(2*zeta(5) + 3*zeta(3))/7", "pair"),
        ("(zeta(4) + 1)/(zeta(2) - 3)", "pair"),
        ("lemniscate^2/pi + 2", "product"),
        ("pi*Catalan^2", "product"),
    ],
)
def test_escalation_finds_what_one_constant_misses(text, kind):
    from discovery.constants import parse

    value = parse(text).value(120)
    source = mpmath.nstr(value, 110)
    assert identify(source, escalate=False) is None
    found = identify(source)
    assert found is not None and found.kind == kind
    with mpmath.workdps(130):
        assert _true_digits(parse(found.closed_form).value(110), value) >= 100


def test_escalation_on_a_pcf_of_two_constants():
    # Euler's fraction of sum 1/(k^3 (k+1)^2) = zeta(3) - 3 zeta(2) + 4 (degree 5, 10; slow)
    pcf = PCF([2, 9, 20, 25, 16, 4], [-1, -4, -6, -4, -1, 0, 0, 0, 0, 0, 0])
    assert identify_pcf(pcf, escalate=False) is None
    found = identify_pcf(pcf)
    assert found is not None and found.kind == "pair"
    assert sympy.simplify(found.expr - 1 / (sympy.zeta(3) - sympy.pi**2 / 2 + 4)) == 0


@pytest.mark.parametrize("name, text", [("e3", "exp(3)"), ("pi3_sqrt3", "pi^3*sqrt(3)"),
                                        ("gieseking", "clsin(2, pi/3)"), ("gamma_1_3", "gamma(1/3)"),
                                        ("chi3_l2", "(psi(1,1/3)-psi(1,2/3))/9")])
def test_wider_catalog_constants(name, text):
    from discovery.constants import parse

    value = parse(f"(2 + 3*{text})/(5 - {text})").value(110)
    found = identify(mpmath.nstr(value, 105))
    assert found is not None and found.constant == name


def test_catalog_size():
    assert len(catalog.CATALOG) >= 100
    assert len(catalog.core()) == 32  # the meet-in-the-middle table's default is unchanged


def _write(tmp_path, text, name="cat.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_catalog_constant_is_identified(tmp_path, capsys):
    path = _write(tmp_path, '[[constant]]\nname = "reach_user_k"\nvalue = "zeta(3)/pi^2 + gamma(1/3)"\n'
                            'aliases = ["rk"]\n')
    (const,) = catalog.load_catalog(path)
    catalog.load_catalog(path)  # twice is harmless
    assert catalog.get("rk") is const
    text = "(1 + 2*reach_user_k)/(3 - reach_user_k)"
    assert main(["identify", text, "--catalog", str(path), "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["constant"] == "reach_user_k" and record["digits_verified"] >= 100


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[[constant]]\nname = \"gauss\"\nvalue = \"pi\"\n", "already"),
        ("[[constant]]\nname = \"1x\"\nvalue = \"pi\"\n", "identifier"),
        ("[[constant]]\nname = \"reach_bad\"\nvalue = \"__import__('os')\"\n", "reach_bad"),
        ("[[constant]]\nname = \"reach_bad2\"\nvalue = \"log(-1)\"\n", "reach_bad2"),
        ("[[constant]]\nname = \"reach_bad3\"\nvalue = \"pi\"\ncolor = 1\n", "unknown key 'color'"),
        ("[other]\n", "unknown table"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_user_catalogs(tmp_path, text, fragment):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=fragment) as err:
        catalog.load_catalog(path)
    assert str(path) in str(err.value)


def test_campaign_config_catalog(tmp_path):
    from discovery.campaign.config import ConfigError, load_config

    _write(tmp_path, '[[constant]]\nname = "reach_campaign_k"\nvalue = "gamma(1/3)^2"\n')
    config = _write(tmp_path, '[campaign]\nname = "c"\nkind = "pcf"\n[space]\ndegree_a = 1\ndegree_b = 1\nbound = 1\n'
                              '[identify]\ncatalog = "cat.toml"\nconstants = ["pi", "reach_campaign_k"]\n', "c.toml")
    cfg = load_config(config)
    assert cfg.identify["constants"] == ["pi", "reach_campaign_k"]
    assert cfg.identify["catalog"] == str(tmp_path / "cat.toml")
    # Escalation keys at their defaults stay out of the digest: older campaigns still resume.
    plain = _write(tmp_path, '[campaign]\nname = "c"\nkind = "pcf"\n[space]\ndegree_a = 1\ndegree_b = 1\n'
                             'bound = 1\n[identify]\nbudget_seconds = 0.25\n', "e.toml")
    assert "budget_seconds" not in load_config(plain).identify
    missing = _write(tmp_path, '[campaign]\nname = "c"\nkind = "pcf"\n[space]\ndegree_a = 1\ndegree_b = 1\nbound = 1\n'
                               '[identify]\ncatalog = "none.toml"\n', "d.toml")
    with pytest.raises(ConfigError, match="catalog"):
        load_config(missing)


def test_representatives_escalate_within_the_campaign_cap():
    pcf = PCF([2, 9, 20, 25, 16, 4], [-1, -4, -6, -4, -1, 0, 0, 0, 0, 0, 0])
    ident = RepresentativeIdentifier({"constants": None, "digits": 30, "budget_seconds": 5.0,
                                      "escalation_seconds": 5.0})
    # 2/(8 - pi^2 + 2 zeta(3)): a relation between two constants, found only by escalating.
    found = ident(pcf)
    assert found is not None and ident.spent_ > 0
    assert found.constant == "pi2,zeta3" and found.relation == (2, 0, 0, -8, 1, -2)
    assert found.digits_verified >= 30
    capped = RepresentativeIdentifier({"constants": None, "digits": 30, "budget_seconds": 5.0,
                                       "escalation_seconds": 0.0})
    assert capped(pcf) is None and capped.spent_ == 0


def test_huge_coefficients():
    c = 10**15 + 37  # b(n) has 31-digit coefficients
    pcf = PCF([2 * c, c], [c * c, 0, 0])
    assert pcf.b[0] > 10**30
    found = identify_pcf(pcf)
    assert found is not None and sympy.simplify(found.expr - 4 * c / sympy.pi) == 0
    with pytest.raises(InputError, match="does not fit in int64"):
        PCF([10**30, 1], [1]).as_arrays()
    est = PCF([10**30, 1], [1]).limit(50)
    assert est.digits > 500


def test_float_kernels_refuse_what_float64_cannot_hold():
    import numpy as np

    from discovery.pcf.kernels import Status, evaluate

    A = np.array([[2, 1], [2**60 + 1, 1], [2**60, 2**58]], dtype=np.int64)
    B = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0]], dtype=np.int64)
    ev = evaluate(A, B, 200)
    assert ev.status.tolist() == [Status.CONVERGED, Status.INEXACT, Status.CONVERGED] and np.isnan(ev.limit[1])
    with pytest.raises(InputError, match="coefficient 1000000000000000000000000000000 does not fit"):
        evaluate(np.array([[10**30, 1]], dtype=object), np.array([[1]], dtype=object), 10)


def _random_text(rng, digits):
    # A non-zero integer part, so every digit drawn is significant.
    return f"{rng.choice('-+')}{rng.randint(10, 99)}." + "".join(rng.choice("0123456789") for _ in range(digits - 2))


@pytest.mark.parametrize("digits", [20, 30, 50])
def test_random_reals_give_no_identification_with_escalation(digits):
    rng = random.Random(digits)
    for _ in range(60):
        text = _random_text(rng, digits)
        assert identify(text) is None, text


@pytest.mark.exhaustive
@pytest.mark.parametrize("digits", [20, 30, 50])
def test_ten_thousand_random_reals(digits):
    rng = random.Random(1000 + digits)
    for _ in range(10_000):
        text = _random_text(rng, digits)
        assert identify(text) is None, text


def test_published_formulas():
    entries = literature_pcfs()
    assert len(entries) >= 40
    assert sum(e["convergence"] == "slow" or max(e["degree"]) >= 3 for e in entries) >= 15
    right = 0
    for e in entries:
        assert e["source"] and e["check"]["digits"][-1] >= 3
        found = identify_pcf(PCF(e["a"], e["b"]))
        if found is None:
            continue
        with mpmath.workdps(120):
            expected = catalog_value(e["closed_form"])
            got = catalog_value(found.closed_form)
            assert _true_digits(got, expected) >= 100, e["id"]
        right += 1
    assert right >= 0.9 * len(entries)


def catalog_value(text):
    from discovery.constants import parse

    return parse(text).value(110)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 1189), st.lists(st.integers(-10, 10), min_size=4, max_size=4))
def test_hashed_screen_finds_small_mobius_relations_in_products(index, c):
    # The products stage (1,190 constants) is hashed: a Möbius transform with |c_i| <= 10 of any of
    # them must be found and confirmed, as one LLL per constant would.
    from discovery.identify.bases import hashed_mobius
    from discovery.identify.escalation import run_escalation

    c0, c1, c2, c3 = c
    if c0 * c3 - c1 * c2 == 0:
        return
    prods = catalog.products(catalog.resolve(catalog.PRODUCT_CONSTANTS))
    x = prods[index].value(130)
    with mpmath.workdps(130):
        value = (c0 + c1 * x) / (c2 + c3 * x)
    found = run_escalation(lambda dps: value, 120, 60, [hashed_mobius(tuple(prods))], 60.0, None)
    assert found is not None
    with mpmath.workdps(130):
        assert _true_digits(parse_value(found.closed_form), value) >= 100


def parse_value(text):
    from discovery.constants import parse

    return parse(text).value(120)


def test_budget_stops_the_escalation():
    import time

    text = "12.3456789012345678901234567890123456789012345678901"
    identify(text, budget_seconds=0.0)  # warm the caches
    t0 = time.perf_counter()
    assert identify(text, budget_seconds=0.0) is None
    fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert identify(text) is None
    assert fast < time.perf_counter() - t0


def test_deep_walk_with_progress_matches_without():
    from discovery.pcf.exact import walk

    a, b = [2, 3, 3, 1], [-1, 0, 0, 0, 0, 0, 0]
    assert walk(a, b, [20_000], progress=True) == walk(a, b, [20_000])
