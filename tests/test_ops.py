"""Every consumer of the operation table computes what ops.apply says, for every operation."""

import math

import mpmath
import numpy as np
import pytest
import sympy

from discovery.programs.graph import Program, x_symbol
from discovery.programs.kernels import evaluate
from discovery.programs.ops import ARITY, OPERATIONS, apply, check_ops
from discovery.programs.tuning import value_and_jacobian
from discovery.programs.verify import mp_value

X = np.array([0.25, 0.5, 1.0, 1.75, 3.0])
C = (1.25, -0.75)


def _one(op: str) -> Program:
    """op applied to (x, c0, c1), as many operands as it takes."""
    return Program(C, ((op, (0, 1, 2)),))


@pytest.mark.parametrize("op", [o.name for o in OPERATIONS])
def test_float64_kernels_follow_the_table(op):
    p = _one(op)
    want = np.array([apply(op, float(x), C[0], C[1], math.sqrt) for x in X])
    assert np.array_equal(evaluate(p, X), want)
    y, J = value_and_jacobian(p, X)
    assert np.array_equal(y, want)
    for k in range(len(C)):
        h = 1e-6
        bumped = list(C)
        bumped[k] += h
        up = np.array([apply(op, float(x), bumped[0], bumped[1], math.sqrt) for x in X])
        assert np.allclose(J[:, k], (up - want) / h, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("op", [o.name for o in OPERATIONS])
def test_exact_exports_follow_the_table(op):
    p = _one(op)
    with mpmath.workdps(40):
        for x in X:
            want = apply(op, mpmath.mpf(x), mpmath.mpf(C[0]), mpmath.mpf(C[1]), mpmath.sqrt)
            assert mp_value(p, mpmath.mpf(x)) == want
    expected = apply(op, x_symbol, sympy.Float(C[0], 17), sympy.Float(C[1], 17), sympy.sqrt)
    assert sympy.simplify(p.to_sympy() - expected) == 0
    python = p.to_python()
    assert np.array_equal(python(X), np.array([apply(op, float(x), C[0], C[1], math.sqrt) for x in X]))


@pytest.mark.parametrize("op", [o.name for o in OPERATIONS])
def test_c_export_writes_the_tables_text(op):
    entry = next(o for o in OPERATIONS if o.name == op)
    for ctype, suffix in (("double", ""), ("float", "f")):
        source = _one(op).c_source(ctype=ctype)
        head = entry.text.split("{a}")[0].format(f=suffix)
        assert head in source
        assert f"{ctype} f({ctype} x)" in source


def test_operation_sets_are_checked():
    assert check_ops(["add", "mul"]) == ("add", "mul")
    with pytest.raises(ValueError, match="'pow'"):
        check_ops(["add", "pow"])
    with pytest.raises(ValueError, match="twice"):
        check_ops(["add", "add"])
    with pytest.raises(ValueError, match="empty"):
        check_ops([])
    assert set(ARITY) == {o.name for o in OPERATIONS}
