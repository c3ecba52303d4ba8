"""The whitelisting expression parser: what it builds equals sympy/mpmath built by hand."""

import mpmath
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from discovery.errors import InputError
from discovery.constants import parse, to_sympy
from discovery.expressions import FUNCTIONS, MAX_LENGTH

n, x = sympy.symbols("n x")


@st.composite
def trees(draw, depth=3):
    """(text, sympy expression built directly) pairs over n, integers, pi and a few functions."""
    if depth == 0 or draw(st.booleans()):
        leaf = draw(st.sampled_from(["int", "n", "pi", "dec"]))
        if leaf == "int":
            k = draw(st.integers(0, 50))
            return str(k), sympy.Integer(k)
        if leaf == "dec":
            k = draw(st.integers(0, 999))
            return f"{k // 100}.{k % 100:02d}", sympy.Rational(k, 100)
        if leaf == "n":
            return "n", n
        return "pi", sympy.pi
    op = draw(st.sampled_from(["+", "-", "*", "/", "^", "neg", "fn", "implicit"]))
    if op == "neg":
        text, expr = draw(trees(depth=depth - 1))
        return f"-({text})", -expr
    if op == "fn":
        name = draw(st.sampled_from(["exp", "sqrt", "sin", "log", "atan"]))
        text, expr = draw(trees(depth=depth - 1))
        return f"{name}({text})", getattr(sympy, name)(expr)
    (lt, le), (rt, re_) = draw(trees(depth=depth - 1)), draw(trees(depth=depth - 1))
    if op == "^":
        k = draw(st.integers(0, 4))
        return f"({lt})^{k}", le**k
    if op == "implicit":
        k = draw(st.integers(1, 9))
        return f"{k}({lt})", k * le
    if op == "/" and re_ == 0:
        return f"({lt})", le
    sym = {"+": sympy.Add, "-": lambda a, b: a - b, "*": sympy.Mul, "/": lambda a, b: a / b}[op]
    return f"({lt}) {op} ({rt})", sym(le, re_)


@given(trees())
def test_sympy_form_equals_the_directly_built_expression(pair):
    text, expected = pair
    got = to_sympy(text, ("n",))
    assert got == expected or sympy.simplify(got - expected) == 0


@given(trees(), st.integers(1, 30))
def test_mpmath_form_agrees_with_sympy(pair, value):
    text, expected = pair
    fn = parse(text, ("n",)).mpmath()
    with mpmath.workdps(40):
        try:
            got = fn(n=mpmath.mpf(value))
        except (ZeroDivisionError, ValueError):
            return  # e.g. log(0): both sides are undefined
        want = sympy.N(expected.subs(n, value), 40)
        if not want.is_real or isinstance(got, mpmath.mpc) or not mpmath.isfinite(got):
            return
        if not mpmath.mpf(10) ** -50 < abs(got) < mpmath.mpf(10) ** 50:
            return  # exp(exp(exp(4))): 40 digits cannot pin the argument well enough
        assert abs(got - mpmath.mpf(str(want))) <= mpmath.mpf(10) ** -25 * max(1, abs(got))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2n+1", 2 * n + 1),
        ("n^2", n**2),
        ("-n*(2n-3)", -n * (2 * n - 3)),
        ("n(n+2)", n * (n + 2)),
        ("1/2n", n / 2),
        ("2^-1", sympy.Rational(1, 2)),
        ("-n^2", -(n**2)),
        ("2^3^2", 2**9),
        ("√2 n", sympy.sqrt(2) * n),
        ("3 − 2×n·n", 3 - 2 * n**2),
        ("1e-3", sympy.Rational(1, 1000)),
        ("log(8, 2)", 3),
        ("G + Catalan", 2 * sympy.Catalan),
        ("gauss", sympy.Symbol("gauss")),
    ],
)
def test_examples(text, expected):
    assert sympy.simplify(to_sympy(text, ("n",)) - expected) == 0


def test_catalog_constants_evaluate_to_their_values():
    from discovery.constants import CATALOG

    for c in CATALOG.values():
        assert abs(parse(c.name).value(40) - c.value(40)) < mpmath.mpf(10) ** -38


def test_values_follow_the_working_precision():
    value = parse("exp(1)/3 + pi").value(200)
    with mpmath.workdps(210):
        assert abs(value - (mpmath.e / 3 + mpmath.pi)) < mpmath.mpf(10) ** -199


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "empty"),
        ("n +", "at the end"),
        ("(n", "expected ')'"),
        ("m", "unknown name 'm'"),
        ("g", "unknown name 'g'"),  # aliases are case-sensitive in expressions
        ("pi(2)", "constant, not a function"),
        ("sin", "needs its arguments"),
        ("sin(1, 2)", "takes 1 argument"),
        ("2 3", "two numbers in a row"),
        ("1/0", "division by zero"),
        ("0^-1", "division by zero"),
        ("n**(10**10**10)", "refused"),
        ("(n+1)^600 * (n+2)^600", "degree 1200"),
        ("((n^10)^10)^11", "degree 1100"),
        ("pi^100000", "exponent 100000"),
        ("zeta(10^6)", "zeta() of 1000000"),
        ("factorial(5000)", "factorial() of 5000"),
        ("1e999999999", "exponent above"),
        ("(" * 150 + "1" + ")" * 150, "nesting deeper"),
        ("2^" * 150 + "1", "nesting deeper"),
        ("1+" * MAX_LENGTH + "1", "characters refused"),
        # values computed inside the expression escape the checks on its text; the builder refuses them
        ("exp2(1e12)", "digits refused"),
        ("2^abs(10^400)", "digits refused"),
        ("(n+1)^sqrt(10^10)", "exponent 100000"),
        ("zeta(factorial(10))", "zeta() of 3628800"),
        ("factorial(factorial(factorial(4)))", "factorial() of"),
        ("root(8, 3/2)", "degree of root() must be an exact"),
        ("psi(1/2, 1)", "order of psi() must be an exact"),
        ("2^1e400", "refused"),
        ("n^1e5000", "refused"),
        ("-2 3", "two numbers in a row"),
        ("2^2 3", "two numbers in a row"),
    ],
)
def test_refusals_name_what_was_refused(text, fragment):
    with pytest.raises(InputError, match=None) as info:
        parse(text, ("n",)).sympy()
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_long_flat_chains_do_not_recurse():
    text = "+".join(["n"] * 900)
    assert to_sympy(text, ("n",)) == 900 * n
    assert to_sympy("-" * 1500 + "1") == 1


def test_agm_has_no_sympy_form_but_evaluates():
    e = parse("1/agm(1, sqrt(2))")
    assert abs(e.value(30) - parse("gauss").value(30)) < 1e-28
    with pytest.raises(InputError, match="no sympy form"):
        e.sympy()


def test_value_refuses_complex_and_variables():
    with pytest.raises(InputError, match="not a finite real"):
        parse("sqrt(-1)").value()
    with pytest.raises(InputError, match="not a constant expression"):
        parse("x + 1", ("x",)).value()


def test_deprecated_exp2_constant_alias_warns():
    with pytest.warns(DeprecationWarning, match="use 'e2'"):
        from discovery import constants

        assert constants.get("exp2").name == "e2"
    assert "exp2" in FUNCTIONS  # 2^x as a function stays available
    assert to_sympy("exp2(3)") == 8


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("e^e^e^e^e", "too large to evaluate"),
        ("exp(exp(exp(exp(3))))", "too large to evaluate"),
        ("sin(10^100)", "too large to evaluate"),
        ("root(2, sqrt(-1))", "degree of root()"),
        ("log(0)", "not a finite real number"),
    ],
)
def test_values_that_cannot_be_computed_are_refused_in_one_line(text, fragment):
    with pytest.raises(InputError) as info:
        parse(text).value(30)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_root_means_the_same_in_sympy_and_mpmath():
    e = parse("root(8, 3)")
    assert e.sympy() == 2 and abs(e.value(30) - 2) < 1e-28


def test_the_parser_resolves_only_the_names_it_is_given():
    from discovery import expressions
    from discovery.constants import lookup

    assert expressions.parse("4/pi").value(20) == parse("4/pi").value(20)
    with pytest.raises(InputError, match="unknown name 'gauss'"):
        expressions.parse("gauss + 1")
    assert expressions.parse("gauss + 1", names=lookup).value(30) == parse("gauss + 1").value(30)
    # The resolver is asked again at build time: a catalog entry redefined is followed.
    table = {"k": lookup("e")}
    expr = expressions.parse("k*x", ("x",), names=table.get)
    assert expr.mpmath()(x=2) == 2 * mpmath.e
    table["k"] = lookup("pi")
    assert expr.mpmath()(x=2) == 2 * mpmath.pi
