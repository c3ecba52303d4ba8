import mpmath
import pytest
import sympy

from discovery import constants as catalog


def test_catalog_size_and_names():
    assert len(catalog.CATALOG) >= 25
    for name in ("pi", "e", "e2", "ln2", "ln3", "zeta2", "zeta3", "zeta5", "zeta7", "catalan",
                 "euler_gamma", "gauss", "lemniscate", "gompertz", "sqrt2", "sqrt3", "sqrt5", "phi",
                 "cbrt2", "pi2", "ln_1_sqrt2", "gamma_1_4", "bessel_i1_i0", "tan1", "khinchin", "glaisher"):
        assert name in catalog.CATALOG
        assert name.isidentifier() and name == name.lower()


def test_aliases_and_unknown_names():
    assert catalog.get("π").name == "pi"
    assert catalog.get("log2").name == "ln2"
    assert catalog.get("G").name == "catalan"
    with pytest.raises(ValueError, match="zeta3"):
        catalog.get("zeta33")
    with pytest.raises(ValueError, match="unknown constant 'nonsense'"):
        catalog.resolve(["pi", "nonsense"])


def test_values_against_independent_definitions():
    with mpmath.workdps(60):
        checks = {
            "gauss": catalog.get("lemniscate").value(60) / mpmath.pi,
            "phi": (1 + mpmath.sqrt(5)) / 2,
            "zeta2": mpmath.pi**2 / 6,
            "gompertz": -mpmath.e * mpmath.ei(-1),
            "ln_1_sqrt2": mpmath.asinh(1),
            "cbrt4": catalog.get("cbrt2").value(60) ** 2,
            "bessel_i1_i0": mpmath.mpf("0.697774657964007982006790592551752599486658262998021232368630"),
            "glaisher": mpmath.mpf("1.28242712910062263687534256886979172776768892732500119206374"),
            "khinchin": mpmath.mpf("2.68545200106530644530971483548179569382038229399446295305115"),
        }
        for name, expected in checks.items():
            got = catalog.get(name).value(60)
            assert abs(got - expected) < mpmath.mpf(10) ** -55, name


def test_sympy_forms_agree_with_mpmath():
    for c in catalog.CATALOG.values():
        expr = c.sympy()
        if expr.free_symbols:
            assert expr.free_symbols == {sympy.Symbol(c.name)}
            continue
        with mpmath.workdps(40):
            assert abs(mpmath.mpf(str(sympy.N(expr, 45))) - c.value(40)) < mpmath.mpf(10) ** -35, c.name


def test_values_are_cached_per_precision():
    a = catalog.get("zeta5").value(80)
    assert catalog.get("zeta5").value(80) is a
    with mpmath.workdps(90):
        assert abs(a - mpmath.zeta(5)) < mpmath.mpf(10) ** -79
