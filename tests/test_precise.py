"""Double-double evaluation against mpmath, precise errors against the scanned maximum, and the
precise polish."""

import mpmath
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.programs.baselines import minimax_continued_fraction
from discovery.programs.graph import random_program
from discovery.programs.kernels import evaluate, population_errors
from discovery.programs.precise import evaluate_dd, polish_precise, precise_errors
from discovery.programs.targets import make_target
from discovery.programs.verify import max_error, mp_value

X = np.linspace(-1.5, 1.5, 41)
programs = st.builds(
    lambda seed, n: random_program(np.random.default_rng(seed), n, 3),
    st.integers(0, 2**32 - 1), st.integers(1, 8),
)


def _all_finite(program, x) -> bool:
    with np.errstate(all="ignore"):
        return all(np.all(np.isfinite(evaluate(program.__class__(program.consts, program.instructions, v), x)))
                   for v in range(1 + len(program.consts), program.n_values))


@settings(max_examples=80, deadline=None)
@given(programs)
def test_double_double_is_a_trillion_times_closer_than_float64(p):
    # Where every intermediate value is finite, the double-double value is within 1e-12 of the
    # float64 error (ill-conditioned programs amplify both alike) or at its own floor.
    x = X[[_all_finite(p, X[i:i + 1]) for i in range(X.size)]]
    if not x.size:
        return
    hi, lo = evaluate_dd(p, x)
    with np.errstate(all="ignore"):
        plain = evaluate(p, x)
    with mpmath.workdps(60):
        for xi, h, low, f in zip(x, hi, lo, plain):
            exact = mp_value(p, mpmath.mpf(float(xi)))
            if not mpmath.isfinite(exact) or abs(exact) > 1e100:
                continue
            dd_err = abs(mpmath.mpf(h) + mpmath.mpf(low) - exact)
            assert dd_err <= 1e-12 * abs(mpmath.mpf(f) - exact) + 1e-28 * max(1, abs(exact))


def test_precise_errors_are_the_scanned_errors_of_the_formula():
    t = make_target("exp2", (0, 1))
    progs = [minimax_continued_fraction(t, 3, 2).deduplicated(), minimax_continued_fraction(t, 4, 1).deduplicated()]
    precise = precise_errors(progs, t)
    scanned = [max_error(p, t) for p in progs]
    plain = population_errors(progs, *t.training, True)
    for e, s in zip(precise, scanned):
        assert s * 0.99 <= e <= s * (1 + 1e-9)  # the training grid is coarser than the scan
    # Float64 rounding alone is several times the (4, 4) fraction of 2^(x/2) squared once.
    assert plain[1] > 2 * scanned[1] and precise[1] < 1.2e-16


def test_precise_polish_recovers_what_float64_tuning_cannot_see():
    t = make_target("exp2", (0, 1))
    best = minimax_continued_fraction(t, 4, 1).deduplicated()
    optimum = precise_errors([best], t)[0]
    nudged = best.with_consts(np.array(best.consts) * (1 + 1e-13 * np.arange(1, len(best.consts) + 1)))
    start = precise_errors([nudged], t)[0]
    assert start > 3 * optimum
    polished, err = polish_precise(nudged, t)
    assert err == precise_errors([polished], t)[0] and err < 1.5 * optimum
