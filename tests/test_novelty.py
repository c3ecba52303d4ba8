"""Novelty labels: a formula is new only when it survived the literature database, equivalence
transforms, tails, families and the hypergeometric closed forms."""

import json
import sys
from pathlib import Path

import pytest

from discovery.cli import main
from discovery.identify import identify_pcf
from discovery.novelty import Literature, judge, label_records, shipped_literature
from discovery.pcf import PCF
from discovery.pcf.equivalence import equivalence_key
from discovery.pcf.known import special_function_pcfs
from discovery.store import FormulaStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from bench_special_functions import agrees  # noqa: E402 - the benchmark's own check of a closed form

# 4/pi (Brouncker-Gauss), one of its tails, and its inflation by n + 1.
FOUR_OVER_PI = PCF("2n+1", "n^2")
TAIL = PCF("2n+3", "(n+1)^2")
INFLATED = PCF("(n+1)*(2n+1)", "n^3*(n+1)")
# The NeurIPS 2024 family a = 3n + k + 2, b = -n(2n + k) at k = 4 (pi), published as a family.
FAMILY_MEMBER = PCF("3n+6", "-n*(2n+4)")
# A Kummer 1F1 ratio: e^2 in a Moebius transform.
CLASSICAL = PCF("n+3", "2n")
# Degree (2, 4): beyond the closed forms, and in no published formula.
ABSENT = PCF("7n^2+3n+1", "-3n^4+2n^3")


@pytest.mark.parametrize(("pcf", "label"), [
    (FOUR_OVER_PI, "known"), (TAIL, "known"), (INFLATED, "known"), (PCF("-4n-2", "4n^2"), "known"),
    (FAMILY_MEMBER, "family"), (CLASSICAL, "classical"), (ABSENT, "new"),
])
def test_labels_follow_literature_equivalence_families_and_closed_forms(pcf, label):
    assert judge(pcf).label == label


def test_reasons_say_what_was_found_or_checked():
    assert "gauss-4pi" in judge(TAIL).reason
    assert "fam-neurips2024-pi-ln2" in judge(FAMILY_MEMBER).reason
    assert "1F1" in judge(CLASSICAL).reason and "Kummer" in judge(CLASSICAL).reason
    reason = judge(ABSENT).reason
    assert "published formulas" in reason and "degree (2, 4)" in reason


def test_the_literature_holds_every_published_formula_and_family_member():
    literature = shipped_literature()
    assert len(literature.formulas) >= 380 and len(literature.families) >= 1000
    assert equivalence_key(FOUR_OVER_PI) in literature.formulas


def test_a_detected_family_with_a_known_member_makes_its_members_family():
    # Without the published family, the NeurIPS members are classical (2F1 ratios) or known; a
    # detected family holding a known member relabels the others.
    literature = shipped_literature()
    own = Literature(literature.formulas, {})
    records = [{"id": 1, "a": [3, 3], "b": [-2, -1, 0]}, {"id": 2, "a": [3, 6], "b": [-2, -4, 0]}]
    assert judge(PCF([3, 3], [-2, -1, 0]), own).label == "known"
    assert judge(PCF([3, 6], [-2, -4, 0]), own).label == "classical"
    family = {"id": 7, "members": [{"k": 1, "formula_id": 1}, {"k": 4, "formula_id": 2}]}
    labels = label_records(records, [family], own)
    assert labels[1].label == "known"
    assert labels[2].label == "family" and "family #7" in labels[2].reason and "k = 1" in labels[2].reason


def test_query_filters_by_novelty_and_equivalence(tmp_path, capsys):
    db = tmp_path / "n.db"
    ident = {"constant": "pi", "kind": "mobius", "basis": ["1", "pi", "L", "pi*L"], "relation": [4, 0, 0, -1],
             "closed_form": "4/pi", "digits_verified": 60.0, "depth": 200}
    with FormulaStore(db) as store:
        cid = store.start_campaign("c", "pcf", {}, "x", 1)
        store.write_unit(cid, 0, 2, 2, [{"a": list(p.a), "b": list(p.b), "metrics": {}, "identification": ident}
                                        for p in (TAIL, ABSENT)])
        records = store.query(identified=True)
        labels = label_records(records, [])
        store.write_novelty({fid: tuple(n) for fid, n in labels.items()})
    assert main(["query", "--db", str(db), "--novelty", "new", "--format", "json"]) == 0
    new = json.loads(capsys.readouterr().out)
    assert [(r["a"], r["novelty"]) for r in new] == [(list(ABSENT.a), "new")]
    assert new[0]["equivalence_key"] == equivalence_key(ABSENT) and "published" in new[0]["novelty_reason"]
    assert main(["query", "--db", str(db), "--equivalent-to", "2n+1", "n^2"]) == 0
    out = capsys.readouterr().out
    assert "published as gauss-4pi" in out and out.count("#") == 1
    assert main(["query", "--db", str(db), "--novelty", "old"]) == 2


@pytest.mark.parametrize("entry", special_function_pcfs(), ids=lambda e: e["id"])
def test_published_special_function_fractions_are_identified_rightly(entry):
    # Kept apart from the literature database; identify_pcf falls back on the hypergeometric
    # closed form where no relation with catalog constants is confirmed.
    found = identify_pcf(PCF(entry["a"], entry["b"]))
    assert found is not None and agrees(found, entry["closed_form"])
