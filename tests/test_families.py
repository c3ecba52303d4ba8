"""Infinite families: detection on a small campaign, extension beyond its box with exact
confirmation, closed forms in k, and no family called where there is none."""

import json
import math
from fractions import Fraction

import mpmath
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from discovery.campaign import run_campaign
from discovery.records import identification_record
from discovery.cli import main
from discovery.constants import to_sympy
from discovery.families import (K, Family, Member, closed_form_expr, family_record, find_lines, line_of,
                                run_families)
from discovery.identify import identify_pcf
from discovery.pcf import PCF
from discovery.sequences import fit_sequence
from discovery.store import FormulaStore

from campaigns import campaign_toml

# Every a(n) = 3n + c, b(n) = -2n^2 + d n with c in [-1, 3], d in [-3, 3]: 35 PCFs, among them the
# paper's b(n) = -n(2n + k), a(n) = 3n + k + 2 for k = -3..1 (pi at k = -3, -1, 1; ln 2 at k = 0).
BOX = campaign_toml(
    campaign={"name": "family-box", "kind": "pcf", "seed": 0},
    space={"a": [[3, 3], [-1, 3]], "b": [[-2, -2], [-3, 3], [0, 0]]},
    search={"strategy": "enumerate", "depth": 1000, "metrics_depth": 2000, "sample": 1000, "unit_size": 1000},
    identify={"constants": ["pi", "ln2"], "digits": 30, "confirm_digits": 60, "mobius_bound": 5,
              "representatives": 0},
    execution={"workers": 1},
)

PAPER_BASE = {"a": [3, 2], "b": [-2, 0, 0]}
PAPER_DIRECTION = {"a": [0, 1], "b": [0, -1, 0]}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("families")
    cfg = folder / "box.toml"
    cfg.write_text(BOX)
    db = folder / "box.db"
    result = run_campaign(cfg, db, progress=False, plots=False)
    assert result.complete
    with FormulaStore(db) as store:
        families = store.families(campaign="family-box")
    return db, families


def _paper(families):
    found = [f for f in families if f["base"] == PAPER_BASE and f["direction"] == PAPER_DIRECTION]
    assert len(found) == 1, [(f["base"], f["direction"]) for f in families]
    return found[0]


def test_campaign_finds_the_paper_family_and_extends_it_beyond_the_box(campaign):
    _, families = campaign
    fam = _paper(families)
    assert set(fam["constants"]) == {"pi", "ln2"}
    box = [m for m in fam["members"] if m["in_box"]]
    assert {m["k"] for m in box} >= {-3, -1, 1}
    lo, hi = min(m["k"] for m in box), max(m["k"] for m in box)
    below = [m for m in fam["members"] if m["k"] < lo and not m["in_box"]]
    above = [m for m in fam["members"] if m["k"] > hi and not m["in_box"]]
    assert len(below) >= 10 and len(above) >= 10
    # Odd k give pi, even k ln 2; a(n) and b(n) are the line's point at k.
    for m in fam["members"]:
        assert m["constant"] == ("pi" if m["k"] % 2 else "ln2")
        assert PCF(m["a"], m["b"]) == PCF([3, m["k"] + 2], [-2, -m["k"], 0])
        assert m["digits_verified"] >= 60


def test_new_members_hold_independently_of_the_stage(campaign):
    """Recompute a few new members' limits with exact convergents and compare with the stored
    closed form to 60 digits."""
    _, families = campaign
    fam = _paper(families)
    new = [m for m in fam["members"] if not m["in_box"]]
    for m in (new[0], new[len(new) // 2], new[-1]):
        pcf = PCF(m["a"], m["b"])
        est = pcf.limit(4000, dps=80)
        assert est.digits >= 60
        with mpmath.workdps(80):
            value = mpmath.mpf(str(sympy.N(to_sympy(m["closed_form"]), 80)))
            assert abs(value - est.value) <= abs(value) * mpmath.mpf(10) ** -60


def test_closed_form_in_k_holds_on_members_not_used_to_find_it(campaign):
    _, families = campaign
    fam = _paper(families)
    assert fam["closed_form_k"] and fam["closed_form_verified"]
    expr = closed_form_expr(fam["fit"])
    fitted = {(c["constant"], k) for c in fam["fit"]["classes"] for k in c["fit_k"]}
    held = [m for m in fam["members"] if (m["constant"], m["k"]) not in fitted]
    assert len(held) >= 10
    for m in held:
        at_k = expr.subs(K, m["k"]).doit()
        assert sympy.simplify(at_k - to_sympy(m["closed_form"])) == 0, m["k"]


def test_members_are_queryable_by_family(campaign, capsys):
    db, families = campaign
    fam = _paper(families)
    assert main(["query", "--db", str(db), "--family", str(fam["id"]), "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == len(fam["members"])
    assert all(r["family"] == fam["id"] and r["constant"] in ("pi", "ln2") for r in records)
    assert main(["families", "--db", str(db), "--campaign", "family-box", "--stored", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    record = next(f for f in out if f["id"] == fam["id"])
    assert {"id", "constants", "base", "direction", "members", "closed_form_k", "closed_form_verified"} <= set(record)
    assert {"k", "a", "b", "in_box", "constant", "closed_form", "digits_verified"} <= set(record["members"][0])


def test_families_command_refuses_an_unknown_campaign(campaign, capsys):
    db, _ = campaign
    assert main(["families", "--db", str(db), "--campaign", "nope", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("discovery: error:") and "'nope'" in err and "family-box" in err


def _plant(db, pcfs, constants):
    """Store PCFs with their real, confirmed identifications, as a campaign's units would."""
    records = []
    for a, b in pcfs:
        hit = identify_pcf(PCF(a, b), constants=constants, digits=30)
        assert hit is not None and hit.constant in constants, (a, b)
        records.append({"a": a, "b": b, "metrics": {}, "identification": identification_record(hit)})
    with FormulaStore(db) as store:
        cid = store.start_campaign("planted", "pcf", {}, "planted", 1)
        store.write_unit(cid, 0, len(records), len(records), records)
        return run_families(store, "planted"), store.families()


def test_three_collinear_formulas_of_e_that_do_not_continue_are_not_a_family(tmp_path):
    # a(n) = n + 2, b(n) = n + k gives e at k = 0, 1, 2 and rationals from k = 3 on.
    found, stored = _plant(tmp_path / "e.db", [([1, 2], [1, k]) for k in (0, 1, 2)], ["e"])
    assert found == [] and stored == []


def test_three_unrelated_formulas_of_pi_are_not_a_family(tmp_path):
    pcfs = [([2, 1], [1, 0, 0]), ([2, 3], [1, 2, 0]), ([3, 1], [-2, 3, 0])]
    found, stored = _plant(tmp_path / "pi.db", pcfs, ["pi"])
    assert found == [] and stored == []


def test_find_lines_needs_three_points_of_one_constant_on_a_line():
    points = {"pi": [(0, 1, 0), (0, 2, -1), (0, 3, -2), (5, 5, 5)], "e": [(0, 4, -3), (1, 1, 1)]}
    lines = find_lines(points)
    assert [(ln.base, ln.direction) for ln in lines] == [((0, 1, 0), (0, 1, -1))]
    assert lines[0].seeds == {"pi": [0, 1, 2], "e": [3]}
    assert find_lines({"pi": [(0, 1, 0), (0, 2, -1), (7, 3, -2)]}) == []


@given(st.lists(st.integers(-6, 6), min_size=6, max_size=6), st.integers(-9, 9))
def test_line_of_puts_every_point_of_a_line_at_its_own_k(vector, k):
    direction = (0, 1, 0, -1, 2, 0)
    base, k0 = line_of(vector, direction)
    assert all(v == b + k0 * d for v, b, d in zip(vector, base, direction))
    moved = [v + k * d for v, d in zip(vector, direction)]
    assert line_of(moved, direction) == (base, k0 + k)


@given(st.lists(st.fractions(max_denominator=9).filter(lambda f: abs(f) < 20), min_size=1, max_size=3),
       st.integers(-5, 5), st.integers(1, 3))
def test_polynomial_sequences_are_recovered_and_extrapolated(coeffs, k0, step):
    def r(k):
        return sum(Fraction(c) * k**i for i, c in enumerate(coeffs))

    ks = [k0 + step * j for j in range(6)]
    fit = fit_sequence(ks, [r(k) for k in ks])
    assert fit is not None and fit.kind == "polynomial"
    for k in (k0 - 4 * step, k0 + 9 * step):
        assert fit.at(k) == r(k)


@given(st.integers(1, 4), st.integers(-3, 3).filter(lambda c: c), st.integers(0, 3))
def test_hypergeometric_and_partial_sum_sequences_are_recovered(shift, sign, k0):
    # r(k) = sign^k (k + shift)! / k!  and its partial sums: factorial-type growth.
    def r(k):
        return Fraction(sign) ** k * math.factorial(k + shift) / math.factorial(k)

    ks = list(range(k0, k0 + 8))
    fit = fit_sequence(ks, [r(k) for k in ks])
    assert fit is not None and fit.at(k0 + 12) == r(k0 + 12)
    sums = [sum(r(j) for j in range(k + 1)) for k in ks]
    fit = fit_sequence(ks, sums)
    assert fit is not None and fit.at(k0 + 11) == sum(r(j) for j in range(k0 + 12))
    expr = fit.expr(K)
    assert sympy.simplify(expr.subs(K, k0 + 10).doit() - sum(r(j) for j in range(k0 + 11))) == 0


def test_a_sequence_with_no_pattern_is_not_fitted():
    values = [Fraction(v) for v in (3, 1, 4, 1, 5, 9, 2, 6)]
    assert fit_sequence(list(range(8)), values) is None


def test_a_member_that_is_not_canonical_gives_its_stored_canonical_form_the_canonical_limit():
    # a(n) = -(2n + 1), b(n) = n^2 has limit -4/pi; its canonical form 2n + 1, n^2 has 4/pi.
    flipped = PCF([-2, -1], [1, 0, 0])
    hit = identify_pcf(flipped, constants=["pi"], digits=30)
    assert to_sympy(hit.closed_form) == -4 / sympy.pi
    family = Family(("pi",), (0, 0, 0, 0, 0), (0, 1, 0, 0, 0), (1, 2), [Member(0, flipped, True, hit, 7)])
    member = family_record(family)["members"][0]
    assert member["identification"]["closed_form"] == hit.closed_form
    assert member["canonical"] == {"a": [2, 1], "b": [1, 0, 0]}
    assert to_sympy(member["canonical_identification"]["closed_form"]) == 4 / sympy.pi


def test_a_schema_3_database_gains_the_family_tables(tmp_path):
    import sqlite3

    from discovery.store import MIGRATIONS, SCHEMA_VERSION

    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        conn.executescript(script)
    conn.execute("INSERT INTO meta VALUES ('schema_version', '3')")
    conn.commit()
    conn.close()
    with FormulaStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.families() == [] and store.family_run(None) is None
        assert run_families(store) == [] and store.family_run(None)["seconds"] >= 0


def test_family_ids_survive_a_rerun_of_detection(tmp_path):
    # Links users keep (query --family ID, the report) point at a line, so rerunning detection
    # must give each line found again its id, whatever order detection finds the lines in.
    def record(c):
        return {"constants": ["pi"], "base": {"a": [3, c], "b": [-2, 0, 0]}, "direction": PAPER_DIRECTION,
                "closed_form_k": None, "closed_form_verified": False, "fit": {}, "members": []}

    with FormulaStore(tmp_path / "f.db") as store:
        first = store.write_families(None, [record(1), record(2)])
        other = store.write_families(None, [record(2), record(1), record(3)])
        assert other[:2] == first[::-1] and other[2] > max(first)
        again = store.write_families(None, [record(4), record(1)])
        assert again[1] == first[0] and again[0] > other[2]
        assert {f["id"] for f in store.families()} == set(again)
