"""Every shipped known formula against its closed form, with the float kernel and exactly."""


import mpmath
import pytest
import sympy

from discovery import Status, evaluate, to_arrays
from discovery.pcf.known import known_pcfs

KNOWN = known_pcfs()
# Constants sympy lacks, written with sympy's functions for this check.
_CATALOG = {"gompertz": sympy.E * sympy.expint(1, 1)}


def _closed_form(text, dps):
    value = sympy.sympify(text, locals=_CATALOG).evalf(dps + 10)
    return mpmath.mpf(str(value))


def test_catalog_is_sane():
    assert len(KNOWN) >= 20
    assert len({k.id for k in KNOWN}) == len(KNOWN)
    assert {"pi", "e", "ln2", "zeta3", "catalan", "gompertz"} <= {k.constant for k in KNOWN}


def test_float_kernel_matches_closed_forms():
    A, B = to_arrays([k.pcf for k in KNOWN])
    result = evaluate(A, B, 2000)
    for k, value, status in zip(KNOWN, result.limit, result.status):
        with mpmath.workdps(30):
            expected = float(_closed_form(k.closed_form, 30))
        assert status == Status.CONVERGED, k.id
        assert abs(value - expected) <= 1e-12 * abs(expected), k.id


@pytest.mark.parametrize("known", KNOWN, ids=lambda k: k.id)
def test_exact_convergent_matches_closed_form_to_50_digits(known):
    est = known.pcf.limit(2000)
    assert est.digits >= 50
    dps = int(min(est.digits, 400)) + 20
    with mpmath.workdps(dps):
        expected = _closed_form(known.closed_form, dps)
        agreement = -mpmath.log10(abs(est.value - expected) / abs(expected))
    assert agreement >= 50, known.id
    # The digits estimate does not claim more than is true (up to rounding of the last digit).
    assert agreement >= min(est.digits, 400) - 1.5, (known.id, est.digits, agreement)
