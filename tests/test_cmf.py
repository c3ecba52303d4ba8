"""Conservative matrix fields: conservation of the shipped fields, exact walks against a slow
reference, trajectories as PCFs (Apéry's fraction), limits, user TOML files."""

from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery.cmf import CMF, known_cmf, known_examples, known_names, load_cmfs, recurrence_polynomials, trajectory_pcf
from discovery.constants import to_sympy
from discovery.errors import InputError
from discovery.pcf.equivalence import equivalence_key, relation
from discovery.pcf.formula import PCF

APERY = PCF("34n^3 + 51n^2 + 27n + 5", "-n^6")

# Trajectories (direction, start) whose walks converge exponentially: 30+ digits at depth 1000.
FAST = {
    "zeta3": [((1, 1), (1, 1)), ((2, 1), (1, 2))],
    "e": [((1, 1), (1, 1)), ((1, 0), (1, 1)), ((2, 1), (1, 2))],
    "pi": [((1, 1), (1, 1)), ((1, 0), (1, 1)), ((2, 1), (1, 2))],
    "ln2": [((1, 1), (1, 1)), ((2, 1), (1, 2))],
    "hyp1f1": [((1, 0), (1, 1))],
    "hyp2f1_minus1": [((1, 1, 1), (1, 1, 1))],
    "hyp2f1_derived": [((1, 1, 1), (1, 1, 1)), ((1, 0, 0), (1, 1, 1)), ((2, 1, 0), (1, 2, 1))],
    "zeta2": [((1, 1), (1, 1)), ((2, 1), (1, 2))],
    "catalan": [((1, 1), (1, 1)), ((1, 1), (1, 0)), ((2, 1), (1, 2))],
    "hyp3f2_minus1": [((0, 0, 1, 1, 1), (Fraction(1, 2), Fraction(1, 2), 1, Fraction(3, 2), Fraction(3, 2))),
                      ((0, 0, 1, 1, 1), (Fraction(1, 2), Fraction(1, 2), 2, Fraction(5, 2), Fraction(5, 2)))],
}
RANK2 = [name for name in sorted(FAST) if known_cmf(name).rank == 2]


def test_every_shipped_cmf_has_trajectories_under_test():
    assert sorted(FAST) == sorted(known_names())


@pytest.mark.parametrize("name", sorted(FAST))
def test_shipped_cmf_conserves(name):
    cmf = known_cmf(name)
    assert cmf.conservation_defects() == []
    assert cmf.source


def test_conservation_check_sees_a_broken_field():
    x, y = sympy.symbols("x y")
    broken = CMF({"x": [[0, x**2], [1, 2 * y - 1]], "y": [[x - y, x**2], [1, x + y + 1]]}, name="broken")
    assert broken.conservation_defects() == [("x", "y")]
    with pytest.raises(InputError, match="do not conserve"):
        broken.check_conservation()


def test_apery_is_the_zeta3_diagonal():
    traj = trajectory_pcf(known_cmf("zeta3"), (1, 1), (0, 0))
    assert traj.pcf == APERY
    assert equivalence_key(traj.pcf) == equivalence_key(APERY)
    # From (1, 1) the diagonal is Apéry's tail; the relation between the two is exact.
    tail = trajectory_pcf(known_cmf("zeta3"), (1, 1), (1, 1))
    assert equivalence_key(tail.pcf) == equivalence_key(APERY)
    rel = relation(APERY, tail.pcf)
    assert rel is not None
    with mpmath.workdps(60):
        apery = mpmath.mpf(6) / mpmath.zeta(3)
        assert abs(rel.apply(apery) - tail.pcf.limit(2000).value) < mpmath.mpf(10) ** -40


def test_apery_zeta2_is_the_zeta2_diagonal():
    traj = trajectory_pcf(known_cmf("zeta2"), (1, 1), (1, 1))
    assert equivalence_key(traj.pcf) == equivalence_key(PCF("11n^2 + 11n + 3", "n^4"))


@pytest.mark.parametrize("name", RANK2)
def test_trajectory_limits_equal_pcf_limits(name):
    cmf = known_cmf(name)
    for direction, start in FAST[name]:
        traj = trajectory_pcf(cmf, direction, start)
        assert traj.mobius is not None
        with mpmath.workdps(50):
            walk = cmf.limit(direction, start, depth=1000, dps=50)
            pcf = traj.mobius.apply(traj.pcf.limit(1000, dps=50).value)
            assert abs(walk - pcf) < mpmath.mpf(10) ** -30 * max(1, abs(walk)), (direction, start)


@pytest.mark.parametrize("name", [n for n in sorted(FAST) if known_examples(n)])
def test_shipped_examples_reach_their_constants(name):
    cmf = known_cmf(name)
    for ex in known_examples(name):
        with mpmath.workdps(50):
            expected = sympy.N(to_sympy(ex["limit"]), 50)
            value = cmf.limit(ex["direction"], ex["start"], depth=400, dps=50)
            assert abs(value - mpmath.mpf(str(expected))) < mpmath.mpf(10) ** -30


def _reference_walk(cmf, direction, start, depth):
    """Obviously correct: every unit step substituted with sympy and multiplied as Fractions."""
    point = [sympy.Rational(c) for c in start]
    result = sympy.eye(cmf.rank)
    for _ in range(depth):
        for i, (axis, d) in enumerate(zip(cmf.axes, direction)):
            for _ in range(abs(d)):
                if d > 0:
                    result = result * cmf.matrices[axis].subs(dict(zip(cmf.symbols, point)))
                    point[i] += 1
                else:
                    point[i] -= 1
                    result = result * cmf.matrices[axis].subs(dict(zip(cmf.symbols, point))).inv()
    return result


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["zeta3", "e", "pi", "ln2", "hyp1f1"]),
       direction=st.tuples(st.integers(0, 2), st.integers(0, 2)).filter(any),
       start=st.tuples(st.integers(1, 4), st.integers(1, 4)), depth=st.integers(0, 6))
def test_walk_matches_slow_reference(name, direction, start, depth):
    cmf = known_cmf(name)
    try:
        reference = _reference_walk(cmf, direction, start, depth)
    except (ZeroDivisionError, ValueError):
        return
    if any(e.has(sympy.zoo, sympy.nan) for e in reference):
        return
    walk = cmf.walk(direction, start, depth)
    got = [[Fraction(int(walk.matrix[i, j]), int(walk.denominator)) for j in range(cmf.rank)]
           for i in range(cmf.rank)]
    assert got == [[Fraction(int(reference[i, j].p), int(reference[i, j].q)) for j in range(cmf.rank)]
                   for i in range(cmf.rank)]


def test_rational_start_and_backward_step():
    cmf = known_cmf("pi")
    walk = cmf.walk((1, 0), (Fraction(1, 2), 1), 4)
    reference = _reference_walk(cmf, (1, 0), (Fraction(1, 2), 1), 4)
    assert sympy.Matrix(walk.matrix.tolist()) / int(walk.denominator) == reference
    back = cmf.walk((0, -1), (3, 10), 3)
    assert sympy.Matrix(back.matrix.tolist()) / int(back.denominator) == _reference_walk(cmf, (0, -1), (3, 10), 3)


def _annihilates(polys, steps, rows: int) -> None:
    """The recurrence sum_j P_j(N) x_(N+j) = 0 holds on every row of the walks' first column."""
    walks = steps.walks(list(range(1, 12)))
    for N in range(1, 8):
        for row in range(rows):
            xs = [Fraction(int(walks[N - 1 + j].matrix[row, 0]), int(walks[N - 1 + j].denominator))
                  for j in range(len(polys))]
            coeffs = [sum(c * N ** k for k, c in enumerate(reversed(p))) for p in polys]
            assert sum(c * v for c, v in zip(coeffs, xs)) == 0


@pytest.mark.parametrize("name", [n for n in sorted(FAST) if n not in RANK2])
def test_rank3_shipped_trajectories_converge_to_mobius_images_of_their_constant(name):
    # No PCF here: the limit itself, found (by PSLQ) to be (a c + b)/(g c + d) with small integers.
    cmf = known_cmf(name)
    for direction, start in FAST[name]:
        with mpmath.workdps(80):
            value = cmf.limit(direction, start, 600, 80)
            assert abs(value - cmf.limit(direction, start, 300, 80)) < mpmath.mpf(10) ** -60
            c = mpmath.mpf(str(sympy.N(to_sympy(cmf.constant), 80)))
            rel = mpmath.pslq([value * c, value, c, 1], maxcoeff=1000, maxsteps=10**5)
            assert rel is not None and (rel[0], rel[1]) != (0, 0) and (rel[0], rel[2]) != (0, 0), (direction, start)
            assert abs(rel[0] * value * c + rel[1] * value + rel[2] * c + rel[3]) < mpmath.mpf(10) ** -60


def test_rank3_recurrence_annihilates_the_walk():
    # A rank-3 field: the ln2 field beside a scalar one, conjugated by a constant matrix so that no
    # coordinate stays apart; the recurrence found must annihilate every row of the first column.
    x, y = sympy.symbols("x y")
    m = known_cmf("ln2").matrices
    mix = sympy.Matrix([[1, 1, 0], [0, 1, 1], [1, 0, 1]])
    field = CMF({a: mix.inv() * sympy.diag(m[a], x + y + 1) * mix for a in ("x", "y")}, name="block")
    assert field.is_conservative()
    polys = recurrence_polynomials(field, (1, 1), (1, 1))
    assert len(polys) == 4
    _annihilates(polys, field.compiled((1, 1), (1, 1)), 3)


def test_rank3_backward_steps_match_slow_reference():
    # The inverse of a 3 x 3 step (adjugate over determinant, in flint) against sympy's.
    x, y = sympy.symbols("x y")
    m = known_cmf("ln2").matrices
    mix = sympy.Matrix([[1, 1, 0], [0, 1, 1], [1, 0, 1]])
    field = CMF({a: mix.inv() * sympy.diag(m[a], x + y + 1) * mix for a in ("x", "y")}, name="block")
    for direction, start in (((-1, 1), (5, 2)), ((1, -2), (1, 9))):
        walk = field.walk(direction, start, 3)
        assert sympy.Matrix(walk.matrix.tolist()) / int(walk.denominator) == _reference_walk(field, direction, start, 3)


@pytest.mark.parametrize("bad, message", [
    (dict(direction=(1,), start=(1, 1)), "2 coordinates"),
    (dict(direction=(9, 0), start=(1, 1)), "at most 8"),
    (dict(direction=(0, 0), start=(1, 1)), "non-zero"),
    (dict(direction=(1, 1), start=(10**7, 1)), "at most"),
    (dict(direction=(1, 1), start=(1.5, 1)), "rationals"),
    (dict(direction=(True, 1), start=(1, 1)), "integers"),
])
def test_bad_trajectories_are_refused(bad, message):
    with pytest.raises(InputError, match=message):
        known_cmf("e").walk(depth=3, **bad)


def test_a_matrix_undefined_along_a_whole_trajectory_is_an_input_error():
    # hyp1f1's M_y has x - y in its denominators: along (1, 1) from (1, 2) the step in y is taken
    # from (2 + n, 2 + n), on x = y for every n.
    with pytest.raises(InputError, match="M_y is undefined all along"):
        trajectory_pcf(known_cmf("hyp1f1"), (1, 1), (1, 2))


def test_bad_depth_is_refused():
    with pytest.raises(InputError, match="depth"):
        known_cmf("e").walk((1, 1), (1, 1), 10**7)


GOOD = """
[[cmf]]
name = "mine"
constant = "ln2"
source = "f, fbar with f = x + y"
[cmf.matrices]
x = [["0", "x^2"], ["1", "2y - 1"]]
y = [["x - y", "x^2"], ["1", "x + y"]]
"""


def test_user_toml_round_trip(tmp_path):
    path = tmp_path / "cmfs.toml"
    path.write_text(GOOD)
    (cmf,) = load_cmfs(path)
    assert cmf.name == "mine" and cmf.axes == ("x", "y")
    assert cmf.matrices == known_cmf("ln2").matrices
    assert equivalence_key(trajectory_pcf(cmf, (1, 1), (1, 1)).pcf) == equivalence_key(
        trajectory_pcf(known_cmf("ln2"), (1, 1), (1, 1)).pcf)


@pytest.mark.parametrize("text, message", [
    (GOOD.replace('"x + y"]]', '"x + y + 1"]]'), "do not conserve"),
    (GOOD.replace('"2y - 1"', '"__import__(1)"'), r"cmf 1 \(mine\) M_x\[1\]\[1\]"),
    (GOOD.replace('"2y - 1"', '"sin(x)"'), "not a rational function"),
    (GOOD.replace('"2y - 1"', '"z"'), r"M_x\[1\]\[1\]"),
    (GOOD.replace('"2y - 1"', '"x^40"'), "degree above"),
    (GOOD.replace('name = "mine"', 'name = "a b"'), "'name'"),
    (GOOD.replace('x = [["0"', 'e = [["0"'), "axis 'e'"),
    (GOOD.replace('["1", "2y - 1"]]', '["1", "2y - 1"], ["1", "2"]]'), "square"),
    ("[[cmf]]\nname = 1\n", "'name'"),
    ("title = 1\n", "no \\[\\[cmf\\]\\] tables"),
    ("[[cmf\n", "not valid TOML"),
])
def test_bad_user_files_are_refused(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        load_cmfs(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_3f2_field_equals_ramanujantools_pfq_when_installed():
    # Derived here from the 3F2 equation; ramanujantools builds the same field its own way.
    pfq = pytest.importorskip("ramanujantools.cmf.pfq", reason="ramanujantools is not installed")
    theirs = pfq.pFq(3, 2, -1)
    ours = known_cmf("hyp3f2_minus1")
    names = dict(zip(sympy.symbols("x0 x1 x2 y0 y1"), ours.symbols))
    assert {str(names[a]) for a in theirs.matrices} == set(ours.axes)
    for axis, m in theirs.matrices.items():
        diff = sympy.Matrix(m).subs(names, simultaneous=True) - ours.matrices[str(names[axis])]
        assert all(sympy.cancel(e) == 0 for e in diff), axis


def test_ramanujantools_agrees_when_installed():
    rt = pytest.importorskip("ramanujantools.cmf.known_cmfs", reason="ramanujantools is not installed")
    x, y = sympy.symbols("x y")
    theirs = rt.zeta3()
    ours = known_cmf("zeta3")
    assert sympy.simplify(sympy.Matrix(theirs.matrices[x]) - ours.matrices["x"]) == sympy.zeros(2)
    limit = theirs.limit({x: 1, y: 1}, 200, {x: 1, y: 1})
    with mpmath.workdps(50):
        assert abs(mpmath.mpf(limit.as_rational().p) / limit.as_rational().q
                   - ours.limit((1, 1), (1, 1), 200, 50)) < mpmath.mpf(10) ** -40


# zeta3's diagonal has a common factor (k + 1)^3 taken out of its steps (a rising factorial over a
# walk), ln2's (2, 1) blocks one of degree 31 taken out of every block, hyp1f1's denominator is x.
@pytest.mark.parametrize("name, direction, start", [("zeta3", (1, 1), (1, 1)), ("ln2", (2, 1), (1, 2)),
                                                    ("hyp1f1", (1, 0), (1, 1)), ("pi", (1, 1), (1, 1))])
def test_blocked_walk_matches_step_by_step(name, direction, start):
    steps = known_cmf(name).compiled(direction, start, cached=False)
    plan = steps._plan  # built: the short walk below takes the blocks
    mat, den = steps.at(3)
    for k in range(4, 3 + 53):
        m, d = steps.at(k)
        mat, den = mat * m, den * d
    walk = steps.walk(53, 3)
    assert (walk.matrix, walk.denominator) == (mat, den)
    assert plan.common.linear == (((1, 3),) if name == "zeta3" else ())
    assert [kind for kind, _ in plan.block_scalars] == (["scale"] if name == "ln2" else [])
    assert [w.matrix for w in steps.walks([20, 53])][1] == steps.walk(53).matrix


def test_undefined_step_inside_a_block_is_named():
    with pytest.raises(InputError, match="step 4 "):
        known_cmf("pi").walk((-1, 1), (5, 2), 40)  # step by step
    with pytest.raises(InputError, match="step 4 "):
        known_cmf("pi").walk((-1, 1), (5, 2), 300)  # by blocks: the denominator's product is 0
