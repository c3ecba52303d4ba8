"""Targets refuse what no program can approximate, wherever the trouble hides, and classical
baselines exist wherever one can be computed."""

import pytest

from discovery.errors import InputError
from discovery.programs.baselines import baselines
from discovery.programs.targets import make_target


@pytest.mark.parametrize(("expr", "interval", "pole"), [
    ("1/(x-0.3333333)", (0, 1), 0.3333333),       # between the probe points, a simple pole
    ("1/(x-0.3333333)**2", (0, 1), 0.3333333),    # no sign change: found by its growth
    ("tan(x)", (0, 10), 1.5707963267948966),      # sympy's domain solver runs for minutes here
    ("1/x", (-1, 2), 0.0),
])
def test_a_pole_between_grid_points_is_refused(expr, interval, pole):
    with pytest.raises(InputError, match="has a pole") as err:
        make_target(expr, interval)
    where = float(str(err.value).split("near x = ")[1].split(":")[0])
    assert where == pytest.approx(pole, abs=1e-6)


@pytest.mark.parametrize(("expr", "interval"), [
    ("exp2", (0, 1)), ("sin(x)", (0, 1000)), ("1/(1+x**2)", (-1, 1)), ("besselj(0,x)/x", (0.1, 30)),
    ("1/(x^2+1e-12)", (-1, 1)), ("abs(x)", (-1, 1)), ("erf", (0, 2)),
])
def test_bounded_targets_with_roots_and_peaks_are_accepted(expr, interval):
    assert make_target(expr, interval).interval == tuple(float(v) for v in interval)


def test_baselines_skip_a_singular_remez_system():
    # exp(x) on [0, 1000] spans 434 decades: Remez's linear system is singular at 40 digits, yet
    # Taylor and Pade baselines exist and are listed.
    found = baselines(make_target("exp(x)", (0, 1000)), max_ops=4)
    assert {b.method for b in found} == {"taylor", "pade"}
    assert all(b.ops <= 4 for b in found)
