"""Unification of PCFs with CMF trajectories: gauges checked against sympy and limits, placements
whose maps hold on the values, the box, and the ``discovery cmf`` commands."""

import json
from fractions import Fraction

import mpmath
import pytest
import sympy

from discovery.cli import main
from discovery.cmf import known_cmf
from discovery.cmf.gauge import find, solve
from discovery.cmf.unify import TrajectoryIndex, box, place
from discovery.errors import InputError
from discovery.pcf.equivalence import relation
from discovery.pcf.formula import PCF
from discovery.store import FormulaStore

APERY = PCF("34n^3 + 51n^2 + 27n + 5", "-n^6")
ODD_ZETA3 = PCF("6n^3 + 9n^2 + 5n + 1", "-n^6")        # 8 / (7 zeta(3))
Y1 = PCF("2n^3 + 3n^2 + 3n + 1", "-n^6")               # zeta3 field, x axis at y = 1
Y2 = PCF("2n^3 + 3n^2 + 11n + 5", "-n^6")              # ... at y = 2
Y3 = PCF("-4n^3 - 6n^2 - 54n - 26", "-4n^6")           # ... at y = 3, scaled (found by zeta3-evolve)
n = sympy.Symbol("n")


def _limit(pcf: PCF, depth: int = 400):
    return pcf.limit(depth, dps=60).value


def _exact(pcf: PCF):
    """The limit at 60 digits: from the closed form for the x-axis fractions of the zeta3 field
    (they converge like 1/n^2) and their tails, from 400 exact steps for the fast ones."""
    z3 = mpmath.zeta(3)
    known = {Y1: 1 / z3, Y2: 1 / (z3 - 1), Y3: -16 / (8 * z3 - 9)}
    for base, value in known.items():
        for k in range(4):
            if pcf == (base.shift(k) if k else base):
                return relation(base, pcf).apply(value) if k else value
    return _limit(pcf)


def _apply(m, x):
    return (m[0] * x + m[1]) / (m[2] * x + m[3])


def _sympy_gauge_holds(p1: PCF, p2: PCF, g) -> bool:
    """Independently of flint: C1(n) U(n+1) == lambda(n) U(n) C2(n) as sympy rational functions."""
    a1, b1 = p1.sympy()
    a2, b2 = p2.sympy()
    u = sympy.Matrix([[sum(sympy.Rational(c.numerator, c.denominator) * n ** (len(e) - 1 - k)
                           for k, c in enumerate(e)) for e in row] for row in g.u])
    lam = sympy.Rational(g.kappa.numerator, g.kappa.denominator) * n ** g.delta
    c1, c2 = sympy.Matrix([[0, b1], [1, a1]]), sympy.Matrix([[0, b2], [1, a2]])
    diff = c1 * u.subs(n, n + 1) - lam * u * c2
    return all(sympy.cancel(e) == 0 for e in diff) and sympy.cancel(u.det()) != 0


# Moving along y in the zeta3 field is a gauge of the x-axis trajectories (conservation):
# neighbours are related by a U(n) of degree 6.
@pytest.mark.parametrize("p1, p2", [(PCF(1, 1), PCF("n+1", "n(n+1)")), (Y1, Y2), (Y2, Y3)])
def test_gauge_holds_symbolically_and_on_limits(p1, p2):
    g = solve(p1, p2)
    assert g is not None and _sympy_gauge_holds(p1, p2, g)
    with mpmath.workdps(60):
        assert abs(_exact(p1) - _apply(g.matrix, _exact(p2))) < mpmath.mpf(10) ** -40


def test_no_gauge_between_different_constants():
    assert find(APERY, PCF("2n+1", "n^2"), 4, 1) is None
    assert solve(APERY, PCF("34n^3 + 51n^2 + 27n + 5", "n^6")) is None


def test_gauge_refuses_bad_degree():
    with pytest.raises(InputError, match="gauge degree"):
        solve(Y1, Y3, 40)


def test_box_is_primitive_and_checked():
    cmf = known_cmf("zeta3")
    trajectories = list(box(cmf, 1, 1, (1,)))
    assert len(trajectories) == 8 * 4 and trajectories[0][0] == (1, 0)
    assert all(sympy.igcd(*t) == 1 for t, _ in box(cmf, 2, 0, (1,)))
    assert (Fraction(1, 2), Fraction(0)) in {s for _, s in box(cmf, 1, 1, (1, 2))}
    for bad in (dict(max_step=0), dict(max_start=99), dict(denominators=(0,))):
        with pytest.raises(InputError):
            next(box(cmf, **{"max_step": 1, "max_start": 1, "denominators": (1,), **bad}))


@pytest.fixture(scope="module")
def zeta3_index():
    return TrajectoryIndex([known_cmf("zeta3")], max_step=1, max_start=2, denominators=(1, 2))


# Y3's tails are gauge-related to the trajectory's tails only (the head maps are composed in).
@pytest.mark.parametrize("pcf, how", [(APERY, "equivalent"), (ODD_ZETA3, "even part"), (Y3, "gauge"),
                                      (Y3.shift(1), "gauge"), (Y3.shift(2), "gauge")])
def test_placements_map_walks_to_the_formulas(zeta3_index, pcf, how):
    p = place(pcf, zeta3_index)
    assert p is not None and p.how == how
    t = p.trajectory
    with mpmath.workdps(60):
        x = known_cmf("zeta3").limit(t.direction, t.start, 400, 60) if p.of_walk else _exact(t.pcf)
        assert abs(_apply(p.mobius, x) - _exact(pcf)) < mpmath.mpf(10) ** -30 * max(1, abs(x))


def test_a_pi_formula_is_not_placed_on_zeta3(zeta3_index):
    assert place(PCF("2n+1", "n^2"), zeta3_index) is None


def _zeta3_db(path):
    ident = {"constant": "zeta3", "kind": "mobius", "basis": ["1", "zeta3", "L", "zeta3*L"],
             "relation": [0, 0, 0, 0], "closed_form": "?", "digits_verified": 60.0, "depth": 300}
    with FormulaStore(path) as store:
        cid = store.start_campaign("c", "pcf", {}, "x", 1)
        store.write_unit(cid, 0, 3, 3, [{"a": list(p.a), "b": list(p.b), "metrics": {}, "identification": ident}
                                        for p in (APERY, ODD_ZETA3, Y3)]
                         + [{"a": [1, 2], "b": [3], "metrics": {}}])


def test_cli_unify_places_every_zeta3_formula(tmp_path, capsys):
    db = tmp_path / "z.db"
    _zeta3_db(db)
    args = ["cmf", "unify", "--db", str(db), "--max-step", "1", "--format", "json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["formulas"] == 3 and out["summary"]["share"] == 1.0
    assert out["summary"]["fields"] == ["zeta3"]
    assert {r["how"] for r in out["formulas"]} == {"equivalent", "even part", "gauge"}
    with FormulaStore(db) as store:
        stored = store.cmf_placements()
    assert {r["id"]: (r["cmf"], r["how"], r["mobius"]) for r in out["formulas"]} == {
        fid: (p["cmf"], p["how"], p["mobius"]) for fid, p in stored.items()}
    assert main(args[:-2] + ["--all", "--gauge-candidates", "0", "--no-store"]) == 0
    text = capsys.readouterr().out
    assert "not placed" in text and "placed 2 of 4" in text and "stored" not in text
    with FormulaStore(db) as store:
        assert store.cmf_placements() == stored


def test_cli_list_and_walk(capsys):
    assert main(["cmf", "list", "--format", "json"]) == 0
    fields = json.loads(capsys.readouterr().out)
    assert {"zeta3", "pi", "e"} <= {f["name"] for f in fields} and all(f["source"] for f in fields)
    assert main(["cmf", "walk", "zeta3", "--direction", "1,1", "--start", "1,1", "--depth", "100"]) == 0
    out = capsys.readouterr().out
    assert "34*n**3" in out and "walk value" in out
    assert main(["cmf", "walk", "zeta3", "--direction", "1,x", "--start", "1,1"]) == 2
    assert "--direction" in capsys.readouterr().err


USER_FIELD = """
[[cmf]]
name = "mine"
constant = "ln2"
[cmf.matrices]
x = [["0", "x^2"], ["1", "2y - 1"]]
y = [["x - y", "x^2"], ["1", "x + y"]]
"""


def test_cli_unify_uses_a_users_field(tmp_path, capsys):
    from discovery.cmf import trajectory_pcf

    fields = tmp_path / "fields.toml"
    fields.write_text(USER_FIELD)
    formula = trajectory_pcf(known_cmf("ln2"), (2, 1), (1, 2)).pcf
    ident = {"constant": "ln2", "kind": "mobius", "basis": ["1", "ln2", "L", "ln2*L"], "relation": [0, 0, 0, 0],
             "closed_form": "?", "digits_verified": 60.0, "depth": 300}
    db = tmp_path / "l.db"
    with FormulaStore(db) as store:
        cid = store.start_campaign("c", "pcf", {}, "x", 1)
        store.write_unit(cid, 0, 1, 1, [{"a": list(formula.a), "b": list(formula.b), "metrics": {},
                                         "identification": ident}])
    assert main(["cmf", "unify", "--db", str(db), "--cmf", "zeta3", "--cmf-file", str(fields), "--no-store",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["summary"]["fields"] == ["zeta3", "mine"] and out["summary"]["placed"] == 1
    assert out["formulas"][0]["cmf"] == "mine"
