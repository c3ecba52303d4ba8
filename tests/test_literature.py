"""The literature database (data/literature_pcfs.json, data/literature_database.json), its families and the
special-function test set (data/special_function_pcfs.json): format, uniqueness, closed forms, a seeded
sample checked with exact convergents, and user files merged by load_literature."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

from discovery.constants import parse
from discovery.errors import InputError
from discovery.pcf.known import (
    family_instance,
    literature_database,
    literature_families,
    literature_pcfs,
    load_literature,
    special_function_pcfs,
)

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_literature", REPO / "scripts" / "check_literature.py")
check_literature = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_literature)

DATABASE = literature_database()
SPECIAL = special_function_pcfs()


def _verified(a, b, closed_form, convergence, stated=None):
    depths = check_literature.depths_of({"convergence": convergence, "check": {"depths": (stated or {}).get("depths")}})
    digits = check_literature.convergent_digits(a, b, closed_form, depths)
    assert check_literature.passes(convergence, digits), (a, b, closed_form, digits)
    if stated:
        assert check_literature.as_stated(stated["digits"], digits), (a, b, stated, digits)


def test_the_database_holds_four_hundred_cited_formulas_and_families():
    assert len(DATABASE.formulas) >= 400
    assert len(DATABASE.families) >= 20
    # the benchmark file is part of the database, unchanged in size and order
    assert DATABASE.formulas[: len(literature_pcfs())] == literature_pcfs()
    for entry in DATABASE.formulas + SPECIAL:
        assert entry["source"].strip() and entry["check"]["digits"]
        assert entry["degree"] == [len(entry["a"]) - 1, len(entry["b"]) - 1]
        assert entry["convergence"] in ("fast", "slow")
    for family in DATABASE.families:
        assert family["source"].strip() and family["k_range"][0] <= family["k_range"][1]
        assert len(family["check"]["digits"]) == family["k_range"][1] - family["k_range"][0] + 1


def test_ids_and_fractions_are_unique_and_every_closed_form_parses():
    ids = [e["id"] for e in DATABASE.formulas + SPECIAL] + [f["id"] for f in DATABASE.families]
    assert len(ids) == len(set(ids))
    for formulas in (DATABASE.formulas, SPECIAL):
        pairs = [(tuple(e["a"]), tuple(e["b"])) for e in formulas]
        assert len(pairs) == len(set(pairs))
    for entry in DATABASE.formulas + SPECIAL:
        assert parse(entry["closed_form"]).value(20) != 0, entry["id"]
    for family in DATABASE.families:
        for k in family["k_range"]:
            parse(family_instance(family, k)[2]).value(20)


def test_family_instances_name_their_family_and_match_it():
    families = {f["id"]: f for f in literature_families()}
    instances = [e for e in DATABASE.formulas if "family" in e]
    assert len(instances) >= 200
    for entry in instances:
        a, b, _ = family_instance(families[entry["family"]], entry["k"])
        assert (a, b) == (entry["a"], entry["b"]), entry["id"]


def test_the_special_function_set_is_low_degree_and_apart():
    assert len(SPECIAL) >= 30
    assert all(e["degree"][0] <= 1 and e["degree"][1] <= 2 for e in SPECIAL)
    database_ids = {e["id"] for e in DATABASE.formulas}
    assert not database_ids & {e["id"] for e in SPECIAL}


def test_a_seeded_sample_checks_with_exact_convergents():
    rng = random.Random(20)
    for entry in rng.sample(DATABASE.formulas, 14) + rng.sample(SPECIAL, 6):
        _verified(entry["a"], entry["b"], entry["closed_form"], entry["convergence"], entry["check"])


@pytest.mark.parametrize("family", literature_families(), ids=lambda f: f["id"])
def test_every_family_checks_at_two_parameter_values(family):
    first, last = family["k_range"]
    for k in (first, last):
        a, b, closed = family_instance(family, k)
        convergence = family["convergence"]
        depths = check_literature.depths_of({"convergence": convergence})
        digits = check_literature.convergent_digits(a, b, closed, depths)
        if convergence == "slow" and not check_literature.passes("slow", digits):
            digits = check_literature.convergent_digits(a, b, closed, check_literature.SLOW_DEPTHS[1])
        assert check_literature.passes(convergence, digits), (family["id"], k, digits)


# -- a user's file ---------------------------------------------------------------------------------------

def _user(tmp_path, formulas=(), families=()):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"formulas": list(formulas), "families": list(families)}), encoding="utf-8")
    return path


GOOD = {"id": "mine-1", "a": [3, 1], "b": [1], "a_n": "3*n + 1", "b_n": "1", "degree": [1, 0],
        "closed_form": "besseli(-2/3, 2/3)/besseli(1/3, 2/3)", "convergence": "fast",
        "source": "A. User, notes (2025), eq. 1"}
FAMILY = {"id": "mine-fam", "a": "k*(2*n + 1)", "b": "9", "k_range": [1, 4], "closed_form": "3/tanh(3/k)",
          "convergence": "fast", "source": "Lambert (1768) at x = 3/k"}


def test_load_literature_merges_a_users_file(tmp_path):
    instance = dict(GOOD, id="mine-fam-4", a=[8, 4], b=[9], a_n="8*n + 4", b_n="9", closed_form="3/tanh(3/4)",
                    family="mine-fam", k=4)
    merged = load_literature(_user(tmp_path, [GOOD, instance], [FAMILY]))
    assert merged.formulas[-2:] == (GOOD, instance) and merged.families[-1] == FAMILY
    assert len(merged.formulas) == len(DATABASE.formulas) + 2
    assert load_literature() == DATABASE
    _verified(GOOD["a"], GOOD["b"], GOOD["closed_form"], "fast")


@pytest.mark.parametrize("change, message", [
    ({"source": ""}, "source"),
    ({"id": "brouncker"}, "used twice"),
    ({"a": [2], "b": [4, -4, 1], "a_n": "2", "b_n": "4*n**2 - 4*n + 1", "degree": [0, 2]}, "same fraction"),
    ({"closed_form": "nosuchconstant + 1"}, "does not parse"),
    ({"a": [3, 1.5]}, "list of integers"),
    ({"a_n": "3*n + 2"}, "differs"),
    ({"degree": [2, 0]}, "degree"),
    ({"convergence": "quick"}, "convergence"),
    ({"b": [0]}, "b is zero"),
    ({"family": "nosuch", "k": 1}, "unknown family"),
    ({"family": "fam-lambert-coth", "k": 3}, "not those of family"),
    ({"family": "fam-lambert-coth", "k": 99}, "range"),
])
def test_load_literature_refuses_a_bad_entry_naming_it(tmp_path, change, message):
    bad = {k: v for k, v in dict(GOOD, **change).items()}
    with pytest.raises(InputError, match=message) as info:
        load_literature(_user(tmp_path, [bad]))
    assert repr(bad["id"]) in str(info.value) and "mine.json" in str(info.value)


@pytest.mark.parametrize("change, message", [
    ({"k_range": [4, 1]}, "k_range"),
    ({"a": "k*(2*n + 1"}, "not a polynomial"),
    ({"a": "n/2 + k"}, "not an integer"),
    ({"closed_form": "3/tanh(3/k"}, "does not parse"),
    ({"id": "fam-lambert-coth"}, "used twice"),
])
def test_load_literature_refuses_a_bad_family_naming_it(tmp_path, change, message):
    bad = dict(FAMILY, **change)
    with pytest.raises(InputError, match=message) as info:
        load_literature(_user(tmp_path, families=[bad]))
    assert repr(bad["id"]) in str(info.value)


def test_load_literature_refuses_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="formulas"):
        load_literature(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        load_literature(path)
    with pytest.raises(InputError, match="cannot read"):
        load_literature(tmp_path / "missing.json")
