"""The ulp32 error mode: the float32 kernel bit for bit, ULP distances, the search and the CLI."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.campaign import ConfigError, load_config, run_campaign
from discovery.cli import main
from discovery.programs.baselines import float32_polynomial_baselines, fma_horner, minimax_polynomial
from discovery.programs.float32 import (
    ULP_HUGE, doubtful_roundings, float32_range, from_ordered, ordered, population_ulp_errors,
    population_ulp_scores, round_to_float32, run32, strided_float32, ulp_distance,
)
from discovery.programs.graph import OPS, Program, random_program
from discovery.programs.search import ProgramSearch
from discovery.programs.targets import make_target
from discovery.programs.verify import float32_ulp_error, float32_ulp_errors
from discovery.store import FormulaStore

f32 = np.float32


def _fma_exact(a, b, c) -> np.float32:
    """fmaf by exact rational arithmetic: a*b + c rounded once (NaN and infinities as IEEE)."""
    a, b, c = f32(a), f32(b), f32(c)
    if not (np.isfinite(a) and np.isfinite(b) and np.isfinite(c)):
        with np.errstate(all="ignore"):
            return f32(np.float64(a) * np.float64(b) + np.float64(c))
    exact = Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))
    if exact == 0:  # float64 computes an exact zero exactly, with IEEE's sign
        with np.errstate(all="ignore"):
            return f32(np.float64(a) * np.float64(b) + np.float64(c))
    return round_to_float32(exact)


def _numpy32(program: Program, X: np.ndarray) -> np.ndarray:
    """The program in numpy float32, instruction by instruction, fma by :func:`_fma_exact`."""
    v = [X.astype(f32)] + [np.full(X.size, f32(c)) for c in program.consts]
    with np.errstate(all="ignore"):
        for op, (a, b, c) in program.instructions:
            fa, fb, fc = v[a], v[b], v[c]
            r = _op32(op, fa, fb, fc)
            assert r.dtype == f32
            v.append(r)
    return v[program.output]


def _op32(op, a, b, c):
    if op == "fma":
        return np.array([_fma_exact(*t) for t in zip(a, b, c)], dtype=f32)
    if op == "sqrt":
        return np.sqrt(a)
    if op == "mul2":
        return f32(2) * a
    if op == "half":
        return f32(0.5) * a
    return {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op](a, b)


programs = st.builds(
    lambda seed, n, k: random_program(np.random.default_rng(seed), n, k, OPS),
    st.integers(0, 10**6), st.integers(1, 12), st.integers(0, 4),
)


@settings(max_examples=60, deadline=None)
@given(programs, st.integers(0, 2**32 - 1))
def test_float32_kernel_matches_numpy_bit_for_bit(program, seed):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.uniform(-3, 3, 40), [0.0, -0.0, 1.0, 2.5e-39]]).astype(f32)
    got, want = run32(program, X), _numpy32(program, X)
    same = (got.view(np.int32) == want.view(np.int32)) | (np.isnan(got) & np.isnan(want))
    assert same.all(), (program, X[~same], got[~same], want[~same])
    assert population_ulp_errors([program], X, X)[0] == ulp_distance(got, X).max()


def test_every_operation_is_covered():
    for op in OPS:
        arity = {"sqrt": 1, "mul2": 1, "half": 1, "fma": 3}.get(op, 2)
        p = Program((0.3, -1.7), ((op, (0, 1, 2)[:arity] + (0,) * (3 - arity)),))
        X = np.linspace(0.1, 4, 101).astype(f32)
        assert np.array_equal(run32(p, X).view(np.int32), _numpy32(p, X).view(np.int32)), op


float32s = st.floats(width=32, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(float32s, float32s, float32s)
def test_fma_rounds_once(a, b, c):
    p = Program((a, b, c), (("fma", (1, 2, 3)),))
    got = run32(p, np.zeros(1, dtype=f32))[0]
    want = _fma_exact(a, b, c)
    assert got.view(np.int32) == want.view(np.int32) or (np.isnan(got) and np.isnan(want))


def test_fma_where_rounding_twice_fails():
    # (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 is a float32 midpoint; + 2^-60 puts it just above.
    # In float64 the sum is the midpoint itself, which rounds to even (down): one rounding goes up.
    a, c = 1 + 2.0**-12, 2.0**-60
    p = Program((a, c), (("fma", (1, 1, 2)),))
    got = run32(p, np.zeros(1, dtype=f32))[0]
    assert got == f32(1 + 2.0**-11 + 2.0**-23)
    assert f32(a * a + c) == f32(1 + 2.0**-11)  # what a*b + c in float64 then float32 gives
    # and just below the midpoint: down
    p = Program((a, -c), (("fma", (1, 1, 2)),))
    assert run32(p, np.zeros(1, dtype=f32))[0] == f32(1 + 2.0**-11)


def test_round_to_float32():
    mid = Fraction(1) + Fraction(1, 2**24)  # halfway between 1 and the next float32
    assert round_to_float32(mid) == f32(1)  # ties to even
    assert round_to_float32(mid + Fraction(1, 2**80)) == np.nextafter(f32(1), f32(2))
    assert round_to_float32(mid - Fraction(1, 2**80)) == f32(1)
    assert round_to_float32(Fraction(-3, 10)) == f32(-0.3)
    assert round_to_float32(Fraction(10) ** 40) == f32(math.inf)
    smallest = 2.0**-149
    assert round_to_float32(Fraction(3, 2**150)) == f32(2 * smallest)  # 1.5 x: ties to even
    assert round_to_float32(Fraction(3, 2**151)) == f32(smallest)  # 0.75 x


def test_ulp_distance():
    one = f32(1)
    assert ulp_distance(one, np.nextafter(one, f32(2))) == 1
    assert ulp_distance(f32(-0.0), f32(0.0)) == 0
    smallest = np.nextafter(f32(0), f32(1))
    assert ulp_distance(-smallest, smallest) == 2  # across zero: -s, 0, s
    assert ulp_distance(f32(-1), f32(1)) == 2 * 0x3F800000
    assert ulp_distance(f32(-1), np.nextafter(f32(-1), f32(-2))) == 1
    assert ulp_distance(f32(-2), f32(-1)) == 2**23
    assert ulp_distance(f32(math.nan), one) == ULP_HUGE and ulp_distance(one, f32(math.inf)) == ULP_HUGE
    o = np.array([-5, -1, 0, 1, 7], dtype=np.int64)
    assert np.array_equal(ordered(from_ordered(o)), o)


def test_population_ulp_errors():
    X = strided_float32((1, 2), 500)
    ref = np.sqrt(X)  # correctly rounded by IEEE
    progs = [Program((), (("sqrt", (0,)),)), Program((1.0,), (("add", (0, 1)),)), Program((0.0,), (("div", (1, 1)),))]
    got = population_ulp_errors(progs, X, ref)
    assert got[0] == 0 and got[2] == ULP_HUGE
    assert got[1] == ulp_distance(X + f32(1), ref).max()


def _ulps_of_exact(y: np.ndarray, exact: list) -> float:
    """Max |y - exact| in float32 spacings of the exact value's binade, in exact rationals."""
    worst = Fraction(0)
    for got, want in zip(y, exact):
        if not np.isfinite(got):
            return math.inf
        spacing = Fraction(2) ** max(math.frexp(float(want))[1] - 24, -149) if want else Fraction(2) ** -149
        worst = max(worst, abs(Fraction(float(got)) - Fraction(float(want))) / spacing)
    return float(worst)


@settings(max_examples=40, deadline=None)
@given(programs)
def test_ulp_scores_are_the_distance_and_a_tie_break_by_the_exact_error(program):
    t = make_target("exp2", (0, 1), error="ulp32")
    X = strided_float32(t.interval, 300)
    exact = np.exp2(X.astype(np.float64))
    ref = exact.astype(f32)
    score = population_ulp_scores([program], X, ref, exact)[0]
    distance = population_ulp_errors([program], X, ref)[0]
    y = run32(program, X)
    if distance >= ULP_HUGE:
        assert score >= 1 + ULP_HUGE
        return
    closeness = min(max(_ulps_of_exact(y, list(exact)) - distance + 0.5, 0.0), 1.0)
    assert score == pytest.approx(1 + distance + 0.45 * closeness, abs=1e-9)
    assert round(score - 1) == distance


def test_ulp_scores_rank_equal_distances_by_the_error_of_the_exact_values():
    t = make_target("exp2", (0, 1), error="ulp32")
    X, ref = t.float32_training
    # 2^x ~ x (Q(x)^2 + e) + 1, Q a cubic (docs/program-search.md), and e a few floats off.
    consts = [0.00346949, 0.012963154, 0.2002283, 0.5998054, 0.33338264, 1.0]
    code = (("fma", (1, 0, 2)), ("fma", (7, 0, 3)), ("fma", (8, 0, 4)), ("fma", (9, 9, 5)), ("fma", (0, 10, 6)))
    good = Program(tuple(consts), code)
    e = f32(consts[4])
    steps = [e + k * np.spacing(e) for k in (-8, -4, -2, -1, 1, 2, 4, 8)]
    worse = [good.with_consts(consts[:4] + [float(v)] + consts[5:]) for v in steps]
    distances = population_ulp_errors([good, *worse], X, ref)
    scores = population_ulp_scores([good, *worse], X, ref, t.float32_exact)
    same = [s for s, d in zip(scores[1:], distances[1:]) if d == distances[0]]
    assert distances[0] == 1 and same, distances
    assert all(s >= scores[0] for s in same) and any(s > scores[0] for s in same)


def test_exhaustive_check_uses_the_fused_fma():
    t = make_target("exp2", (1, 1.001), error="ulp32")
    p = fma_horner(minimax_polynomial(t, 2))
    report = float32_ulp_error(p, t)
    assert report["exhaustive"] and report["checked"] == 8389  # floats of [1, 1.001]
    X = strided_float32(t.interval, 10**5)
    assert X.size == 8389
    want = population_ulp_errors([p], X, np.exp2(X.astype(np.float64)).astype(f32))[0]
    assert report["max_ulp"] == want <= 1


def test_ulp32_target():
    t = make_target("exp2", (0, 1), error="ulp32")
    assert t.error == "ulp32" and t.relative
    X, ref = t.float32_training
    assert X.dtype == ref.dtype == f32 and X.size > 4096 and X.min() >= 0 and X.max() <= 1
    assert np.array_equal(ref, np.exp2(X.astype(np.float64)).astype(f32))
    assert make_target("exp2", (0, 1)).error == "relative"
    assert make_target("sin", (-1, 1)).error == "absolute"
    with pytest.raises(ValueError, match="zero"):
        make_target("sin", (-1, 1), error="ulp32")
    with pytest.raises(ValueError, match="ulp64"):
        make_target("exp", (0, 1), error="ulp64")
    with pytest.raises(ValueError, match="no finite float32"):
        make_target("exp", (1e-50, 2e-50), error="ulp32")


def test_search_under_ulp32_checks_its_front_exhaustively():
    t = make_target("exp2", (1, 1.001), error="ulp32")
    search = ProgramSearch(t, max_ops=3, ops=("add", "sub", "mul", "fma"), population_size=12, seed=1,
                           child_rounds=3, tune_evals=50)
    result = search.run(generations=2)
    assert result.best and set(result.float32) == set(result.best) == set(result.validation)
    for cost, (prog, train_ulp) in result.best.items():
        check = result.float32[cost]
        assert check["exhaustive"] and check["checked"] == 8389
        assert check == float32_ulp_error(prog, t)
        assert result.validation[cost] == check["max_ulp"] >= train_ulp  # the grid is a subset
    assert min(c["max_ulp"] for c in result.float32.values()) <= 1


def test_float32_polynomial_baselines():
    t = make_target("exp2", (1, 1.001), error="ulp32")
    table = float32_polynomial_baselines(t, 3)
    assert [ops for ops, _, _ in table] == [1, 2, 3]
    assert all(c["exhaustive"] for _, _, c in table) and table[2][2]["max_ulp"] <= 1


def test_cli_ulp32(capsys):
    argv = ["--target", "exp2", "--interval", "1", "1.001", "--error", "ulp32", "--max-ops", "3"]
    assert main(["programs", "baselines", *argv]) == 0
    assert "every float32" in capsys.readouterr().out
    assert main(["programs", "evolve", *argv, "--minutes", "0.01", "--population", "8", "--ops",
                 "add,mul,fma", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "float32 (fma fused), every float32" in out and "ulp" in out


def test_float32_range_and_doubtful_roundings():
    o = np.arange(-70, 50, 7, dtype=np.int64)
    assert np.array_equal(float32_range(-70, 50, 7).view(np.int32), from_ordered(o).view(np.int32))
    assert float32_range(5, 5).size == 0
    one = 1.0
    mid = 1 + 2.0**-24  # a float32 midpoint, exact in float64
    t64 = np.array([one, mid, np.nextafter(mid, 2), 1 + 2.0**-23, 1e-40, math.inf, math.nan])
    assert list(doubtful_roundings(t64)) == [1, 2, 4, 5, 6]


def test_ulp32_campaign(tmp_path):
    cfg = tmp_path / "u.toml"
    cfg.write_text("[campaign]\nname='u'\nkind='program'\nseed=1\n[target]\nname='exp2'\ninterval=[1, 1.001]\n"
                   "error='ulp32'\nmax_ops=3\nops=['add','mul','fma']\n[search]\ngenerations=2\npopulation=8\n"
                   "[execution]\nworkers=1\n")
    assert load_config(cfg).target["error"] == "ulp32"
    result = run_campaign(cfg, tmp_path / "u.db", progress=False)
    assert result.complete and result.formulas >= 1
    # The stored front carries its exhaustive float32 error, as the check finds it again.
    with FormulaStore(tmp_path / "u.db") as store:
        rows = store.query(kind="program")
    assert rows and all(r["max_ulp"] is not None for r in rows)
    target = make_target("exp2", (1, 1.001), error="ulp32")
    for r in rows:
        program = Program.from_json(r["genome"])
        assert float32_ulp_error(program, target)["max_ulp"] == r["max_ulp"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[campaign]\nname='b'\nkind='program'\n[target]\nname='sin'\ninterval=[-1, 1]\nerror='ulp32'\n")
    with pytest.raises(ConfigError, match="ulp32 error needs none"):
        load_config(bad)


def test_exhaustive_check_on_negative_and_zero_crossing_intervals():
    smallest = 2.0**-149
    t = make_target("exp", (-7.5 * smallest, 7.5 * smallest), error="ulp32")
    report = float32_ulp_error(Program((1.0,), (("add", (1, 0)),)), t)  # 1 + x rounds to 1
    assert report["checked"] == 15 and report["max_ulp"] == 0  # -7s .. -s, 0, s .. 7s
    t = make_target("exp", (-1.001, -1), error="ulp32")
    p = Program((1.0, 0.5), (("fma", (0, 2, 1)), ("fma", (0, 3, 1)), ("fma", (0, 4, 1))))  # 1 + x(1 + x(1 + x/2))
    X = strided_float32(t.interval, 10**6)
    assert X.min() >= -1.001 and X.max() == -1
    want = ulp_distance(run32(p, X), np.exp(X.astype(np.float64)).astype(f32)).max()
    report = float32_ulp_error(p, t)
    assert report["checked"] == X.size and report["max_ulp"] == want > 0


def test_float32_tuning_never_reports_what_the_exhaustive_check_contradicts():
    from discovery.programs.tuning32 import dense_float32, tune_float32
    from discovery.programs.verify import float32_ulp_errors

    target = make_target("exp", (1.0, 1.01), error="ulp32")
    for degree in (1, 2, 3):
        start = fma_horner(minimax_polynomial(target, degree))
        # A dense set that is every float32 of the interval: tuning's figure is the exhaustive one.
        full = dense_float32(target, 1 << 20)
        tuned, ulp, exact_ulp = tune_float32(start, target, full)
        before, after = float32_ulp_errors([start, tuned], target)
        assert after["exhaustive"] and after["checked"] == full[0].size
        assert (after["max_ulp"], round(after["max_ulp_exact"], 9)) == (ulp, round(exact_ulp, 9))
        # The tuner's order: max ULP, then how many floats are at it, then the error of the exact.
        key = ("max_ulp", "at_max", "max_ulp_exact")
        assert tuple(after[k] for k in key) <= tuple(before[k] for k in key)
        assert all(float(np.float32(c)) == c for c in tuned.consts)  # float32 constants
        # A sparser set steers only: the exhaustive check may find more, never less.
        sparse = dense_float32(target, 64)
        _, ulp, _ = tune_float32(start, target, sparse)
        assert ulp <= float32_ulp_errors([tune_float32(start, target, sparse)[0]], target)[0]["max_ulp"]


def test_a_front_program_with_a_constant_beyond_float32s_range_is_tuned():
    """A 10-minute search ended on 'constant -inf is not finite' from the float32 tuning of a
    front program whose float64 constant lay beyond float32's range: it is now tuned to finite
    float32 constants, and the search goes on."""
    t = make_target("exp2", (1, 1.001), error="ulp32")
    search = ProgramSearch(t, max_ops=3, ops=("add", "sub", "mul", "div", "fma"), population_size=12, seed=1,
                           child_rounds=3, tune_evals=50)
    for c in (-1e39, 1e39):
        tuned = search._tune32(Program((c,), (("div", (0, 1, 0)),), 2))
        assert all(np.isfinite(f32(v)) and float(f32(v)) == v for v in tuned.consts)
    huge = Program((-1e39, 1.0), (("div", (0, 1, 0)), ("add", (3, 2, 0))), 4)  # 1 + x/(-1e39)
    result = search.run([huge] * 12, generations=2)
    assert result.best


def test_the_closing_float32_tuning_reports_nothing_the_exhaustive_check_contradicts():
    """The last float32 tuning of a front (every float of the top three binades checked) on an
    interval of four binades, so the lowest is seen only through the dense set: every program it
    returns is no worse than its start under the exhaustive check, and its training figure
    never below the exhaustive one."""
    t = make_target("exp2", (2.0**-6, 2.0**-2), error="ulp32")
    search = ProgramSearch(t, max_ops=3, ops=("add", "sub", "mul", "fma"), population_size=12, seed=1)
    best = {d: (fma_horner(minimax_polynomial(t, d)), None) for d in (1, 2)}
    retuned = search.retune32(best)
    assert set(retuned) == set(best)
    checks = float32_ulp_errors([p for p, _ in best.values()] + [p for p, _ in retuned.values()], t)
    before, after = dict(zip(best, checks[:len(best)])), dict(zip(retuned, checks[len(best):]))
    for cost, (prog, train) in retuned.items():
        assert after[cost]["exhaustive"]
        assert all(float(np.float32(c)) == c for c in prog.consts) and prog.instructions == best[cost][0].instructions
        # The training grid is a subset of the floats; the tie-break adds under one half.
        assert 0 <= round(train - 1) <= after[cost]["max_ulp"] and train - 1 - round(train - 1) < 0.5
        assert (after[cost]["max_ulp"], after[cost]["at_max"]) <= (before[cost]["max_ulp"], before[cost]["at_max"])
    # Degree 1: as many ULPs at a fifth of the floats.  Degree 2: every tuning met is a ULP worse
    # at a few floats of the top binade the dense set misses; the last look finds them, and the
    # float64 constants rounded stay.
    assert (after[1]["max_ulp"], after[1]["at_max"]) < (before[1]["max_ulp"], before[1]["at_max"])


def test_the_search_ends_with_the_closing_float32_tuning(monkeypatch):
    """Under ulp32 the search's closing stages, named as they begin, tune the final front with
    refinement (CLOSING_REFINE), and the front it reports is made of those programs, checked
    on every float32."""
    import discovery.programs.search as search_module

    t = make_target("exp2", (1, 1.001), error="ulp32")
    search = ProgramSearch(t, max_ops=3, ops=("add", "sub", "mul", "fma"), population_size=12, seed=1,
                           child_rounds=3, tune_evals=50)
    refined, tune = [], search_module.tune_float32

    def spy(program, target, points=None, **kwargs):
        out = tune(program, target, points, **kwargs)
        if kwargs.get("refine"):
            refined.append((kwargs["refine"], out[0]))
        return out

    monkeypatch.setattr(search_module, "tune_float32", spy)
    stages = []
    result = search.run(generations=2, stage=stages.append)
    assert stages == ["tuning the front", "float32 tuning on every float of the top binades",
                      "checking every float32"]
    assert {r for r, _ in refined} == {search_module.CLOSING_REFINE}
    assert all(prog in [p for _, p in refined] for prog, _ in result.best.values())
    for cost, (prog, _) in result.best.items():
        assert result.float32[cost] == float32_ulp_error(prog, t)
    # An island's epoch front is no final one: no closing tuning, no exhaustive check.
    refined.clear()
    search.run(generations=1, exhaustive=False)
    assert not refined


def test_the_float32_training_grid_stays_inside_the_interval():
    """1.001 rounds to the float32 1.00100005, beyond the interval: the grid compares in float64
    (a constant program's training error was once larger there than every float's)."""
    X, _ = make_target("exp2", (1, 1.001), error="ulp32").float32_training
    assert X.astype(np.float64).max() <= 1.001 and X.astype(np.float64).min() >= 1


def test_the_time_budget_covers_the_closing_float32_tuning(monkeypatch):
    """On a fake clock: 10 s a generation, 5 s a float32 tuning with refinement.  One such
    tuning, timed before the first generation, keeps 1.2 x 5 s x max_ops = 12 s for the closing
    one: a 60 s budget stops after the generation that ends past 48 s (5 generations; 6
    without the reserve), and the closing tuning is done within the budget."""
    import discovery.programs.search as search_module

    now = [1_000_000.0]
    monkeypatch.setattr(search_module.time, "time", lambda: now[0])
    t = make_target("exp2", (1, 1.001), error="ulp32")
    search = ProgramSearch(t, max_ops=2, ops=("add", "mul", "fma"), population_size=8, seed=1, child_rounds=3,
                           tune_evals=50)
    tune, refined = search_module.tune_float32, []

    def five_seconds_refined(program, target, points=None, **kwargs):
        if kwargs.get("refine"):
            now[0] += 5.0
            refined.append(now[0])
        return tune(program, target, points, **kwargs)

    monkeypatch.setattr(search_module, "tune_float32", five_seconds_refined)
    start = now[0]
    result = search.run(seconds=60.0, progress=lambda state: now.__setitem__(0, now[0] + 10.0))
    assert result.generations == 5
    assert len(refined) > 1 and refined[-1] <= start + 60.0
