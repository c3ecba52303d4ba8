"""Novelty labels of identified formulas, each with its reason.

A formula is judged against what is published, in this order, and takes the first label that
applies:

``known``
    The same formula as an entry of the literature database (``data/literature_*.json``, the
    known formulas of ``data/known_pcfs.json``, a user's file) up to equivalence transforms,
    inflation, deflation and tails: equal :func:`~discovery.pcf.equivalence.equivalence_key`.
``family``
    A member of a parametric family that is published (an instance of a literature family at any
    integer parameter, again up to equivalence) or that contains a known formula (a family the
    engine detected, :mod:`discovery.families`, with a ``known`` member).
``classical``
    deg a <= 1 and deg b <= 2, and its limit is a ratio of hypergeometric functions confirmed on
    its exact convergents (:func:`~discovery.pcf.closed_form.closed_form`): it follows from Gauss's,
    Kummer's or a related classical continued fraction.
``new``
    None of these; the reason lists what was checked.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, NamedTuple

from discovery.pcf.closed_form import classical_reason
from discovery.pcf.equivalence import equivalence_key
from discovery.pcf.formula import PCF
from discovery.pcf.known import family_instance, known_pcfs, literature_database

NOVELTY_LABELS = ("known", "family", "classical", "new")

# Parameter values of a literature family tried beyond its published range: a family's members
# far outside it have huge coefficients no search box holds.
_FAMILY_REACH = 50


class Novelty(NamedTuple):
    """A novelty label (one of :data:`NOVELTY_LABELS`) and why."""

    label: str
    reason: str


class Literature(NamedTuple):
    """Equivalence keys of the published formulas: key -> a description of the entry, for the
    formulas and for the members of the parametric families."""

    formulas: dict[str, str]
    families: dict[str, str]


@lru_cache(maxsize=1)
def shipped_literature() -> Literature:
    """The equivalence keys of the shipped literature database and known formulas."""
    database = literature_database()
    formulas = {}
    for entry in database.formulas:
        formulas.setdefault(equivalence_key(PCF(entry["a"], entry["b"])), _cite(entry))
    for known in known_pcfs():
        formulas.setdefault(equivalence_key(known.pcf), f"{known.id}: {known.closed_form} ({known.source})")
    return Literature(formulas, _family_keys(database.families))


def _family_keys(families: Iterable[dict]) -> dict[str, str]:
    keys = {}
    for family in families:
        lo, hi = family["k_range"]
        for k in range(lo - _FAMILY_REACH, hi + _FAMILY_REACH + 1):
            try:
                a, b, _ = family_instance(family, k)
                key = equivalence_key(PCF(a, b))
            except (ValueError, ArithmeticError):  # a(n) or b(n) vanishes identically at this k
                continue
            keys.setdefault(key, f"{family['id']} at k = {k} ({_source(family)})")
    return keys


def _cite(entry: dict) -> str:
    return f"{entry['id']}: {entry['closed_form']} ({_source(entry)})"


def _source(entry: dict) -> str:
    source = " ".join(str(entry["source"]).split())
    return source if len(source) <= 160 else source[:157] + "..."


def judge(pcf: PCF, literature: Literature | None = None) -> Novelty:
    """The novelty label of an identified PCF.

    Parameters
    ----------
    pcf : PCF
    literature : Literature, optional
        The published formulas' keys; default :func:`shipped_literature`.  (Membership in a
        detected family is judged over a campaign's records: :func:`label_records`.)

    Returns
    -------
    Novelty
    """
    literature = shipped_literature() if literature is None else literature
    key = equivalence_key(pcf)
    if key in literature.formulas:
        return Novelty("known", f"equivalent to {literature.formulas[key]}")
    if key in literature.families:
        return Novelty("family", f"equivalent to a member of a published family: {literature.families[key]}")
    deg_a, deg_b = len(pcf.a) - 1, len(pcf.b) - 1
    if deg_a <= 1 and deg_b <= 2:
        reason = classical_reason(pcf)
        if reason is not None:
            return Novelty("classical", reason)
        why = "no hypergeometric closed form confirmed"
    else:
        why = f"degree ({deg_a}, {deg_b}), above the hypergeometric closed forms of degree (1, 2)"
    return Novelty("new", f"not equivalent to any of {len(literature.formulas):,} published formulas or "
                          f"{len(literature.families):,} members of published families; in no family with a "
                          f"known member; {why}")


def label_records(records: list[dict], families: list[dict],
                  literature: Literature | None = None) -> dict[int, Novelty]:
    """Novelty labels of stored PCF records (those with a ``constant`` or closed form).

    Parameters
    ----------
    records : list of dict
        PCF records of :meth:`discovery.store.FormulaStore.query` (``id, a, b``).
    families : list of dict
        Family records of :meth:`discovery.store.FormulaStore.families`: a family with a member
        labelled ``known`` makes its other members ``family``.
    literature : Literature, optional
        Default :func:`shipped_literature`.

    Returns
    -------
    dict
        Formula id -> :class:`Novelty`.
    """
    literature = shipped_literature() if literature is None else literature
    labels = {r["id"]: judge(PCF(r["a"], r["b"]), literature) for r in records}
    for family in families:
        members = [m for m in family["members"] if m.get("formula_id") is not None]
        known = next((m for m in members if m["formula_id"] in labels and labels[m["formula_id"]].label == "known"),
                     None)
        if known is None:
            continue
        note = (f"member k = {{k}} of family #{family['id']}, whose member k = {known['k']} is known "
                f"({labels[known['formula_id']].reason})")
        for m in members:
            fid = m["formula_id"]
            if fid in labels and labels[fid].label in ("classical", "new"):
                labels[fid] = Novelty("family", note.format(k=m["k"]))
    return labels
