"""Known PCF formulas shipped in ``data/``: ``known_pcfs.json`` (test fixtures and clustering anchors),
``literature_pcfs.json`` (published formulas, the identification benchmark), ``literature_database.json``
(the rest of the literature database: published formulas and parametric families; see
:func:`load_literature`) and ``special_function_pcfs.json`` (an identification test set kept apart)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

import sympy

from discovery.constants import to_sympy
from discovery.errors import InputError
from discovery.pcf.formula import PCF
from discovery.constants import parse

DATA_DIR = files("discovery.data")
"""The package's data, the repository's ``data/`` folder (known formulas, ``campaigns/``).

An :mod:`importlib.resources` Traversable, in the repository for an editable install and in
site-packages for a wheel; pip installs packages unzipped, so it is a :class:`pathlib.Path`.
"""




def data_file(name: str):
    """A file of the package's data: the ``data/`` folder beside the imported package when there is
    one (a source checkout, whichever of several it is), else :data:`DATA_DIR` (an installed wheel)."""
    beside = Path(__file__).resolve().parents[2] / "data" / name
    return beside if beside.is_file() else DATA_DIR.joinpath(name)


@dataclass(frozen=True)
class KnownPCF:
    """A PCF whose limit is known in closed form.

    Attributes
    ----------
    id : str
        Short identifier such as ``"pi-1"``.
    constant : str
        Catalog name of the constant the limit is built from.
    pcf : PCF
        The fraction.
    closed_form : str
        The limit, parsable by ``sympy.sympify`` (catalog names for constants sympy lacks).
    source : str
        Where the formula comes from.
    """

    id: str
    constant: str
    pcf: PCF
    closed_form: str
    source: str


@lru_cache(maxsize=1)
def known_pcfs() -> tuple[KnownPCF, ...]:
    """All formulas in ``data/known_pcfs.json``."""
    records = json.loads(DATA_DIR.joinpath("known_pcfs.json").read_text(encoding="utf-8"))["formulas"]
    return tuple(
        KnownPCF(r["id"], r["constant"], PCF(r["a"], r["b"]), r["closed_form"], r["source"])
        for r in records
    )


@lru_cache(maxsize=1)
def literature_pcfs() -> tuple[dict, ...]:
    """The published formulas of ``data/literature_pcfs.json``, as dicts (``id, a, b, a_n, b_n,
    closed_form, convergence, degree, source, check``)."""
    return tuple(json.loads(data_file("literature_pcfs.json").read_text(encoding="utf-8"))["formulas"])


# --- The literature database: published formulas, parametric families, user additions -------------------

LITERATURE_FILES = ("literature_pcfs.json", "literature_database.json")
"""The files of the literature database: the identification benchmark (``literature_pcfs.json``) and the
rest of the published formulas with the parametric families (``literature_database.json``)."""

SPECIAL_FUNCTION_FILE = "special_function_pcfs.json"
"""Low-degree fractions of special-function values, kept apart from the literature database (an
identification test set, not a novelty reference)."""

_ENTRY_KEYS = ("id", "a", "b", "closed_form", "convergence", "source")
_FAMILY_KEYS = ("id", "a", "b", "k_range", "closed_form", "convergence", "source")


class Literature(NamedTuple):
    """Published formulas (dicts in the format of ``data/literature_pcfs.json``) and parametric families
    (dicts with ``id, a, b`` as polynomials in ``n`` and ``k``, ``k_range`` ``[first, last]``,
    ``closed_form`` in ``k``, ``convergence, source``)."""

    formulas: tuple[dict, ...]
    families: tuple[dict, ...]


def _polynomial(text: str, where: str, symbols: tuple[str, ...]) -> sympy.Poly:
    """A polynomial with integer values given as text in ``symbols`` (``n``, or ``n`` and ``k``)."""
    try:
        return _parsed_polynomial(text, symbols)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from exc


@lru_cache(maxsize=1024)
def _parsed_polynomial(text: str, symbols: tuple[str, ...]) -> sympy.Poly:
    # Cached: the literature's families are instantiated at hundreds of k from a few dozen texts.
    gens = sympy.symbols(symbols)
    try:
        # The package's whitelisting parser: a user's file is read, never evaluated.
        poly = sympy.Poly(sympy.expand(to_sympy(text, symbols)), *gens)
    except (InputError, sympy.PolynomialError, TypeError) as exc:
        raise InputError(f"{text!r} is not a polynomial in {', '.join(symbols)}") from exc
    if not all(c.is_rational for c in poly.coeffs()):
        raise InputError(f"{text!r} has a coefficient that is not rational")
    return poly


def _coefficients(poly: sympy.Poly, where: str) -> list[int]:
    coeffs = poly.all_coeffs()
    if not all(c.is_integer for c in coeffs):
        raise InputError(f"{where}: {poly.as_expr()} has a coefficient that is not an integer")
    return [int(c) for c in coeffs]


@lru_cache(maxsize=1024)
def _terms_in_n_k(text: str) -> tuple[int, tuple[tuple[int, int, Fraction], ...]]:
    """The degree in n and the terms ``(i, j, c)`` of ``c n^i k^j`` of a family's polynomial text."""
    poly = _parsed_polynomial(text, ("n", "k"))
    terms = tuple((i, j, Fraction(int(c.p), int(c.q))) for (i, j), c in poly.terms())
    return max((i for i, _, _ in terms), default=0), terms


def _instance(text: str, k: int, where: str) -> list[int]:
    _polynomial(text, where, ("n", "k"))  # raises naming ``where`` if the text is bad
    degree, terms = _terms_in_n_k(text)
    coeffs = [Fraction(0)] * (degree + 1)
    for i, j, c in terms:
        coeffs[i] += c * Fraction(k) ** j
    while len(coeffs) > 1 and coeffs[-1] == 0:
        coeffs.pop()
    if any(c.denominator != 1 for c in coeffs):
        raise InputError(f"{where}: {text!r} has a coefficient that is not an integer at k = {k}")
    return [int(c) for c in reversed(coeffs)]


def family_instance(family: dict, k: int) -> tuple[list[int], list[int], str]:
    """The fraction ``(a, b)`` (integer coefficients, highest degree first) and the closed form of a
    family at the parameter value ``k``."""
    where = f"family {family.get('id')!r} at k = {k}"
    a, b = (_instance(family[side], k, where) for side in ("a", "b"))
    closed = re.sub(r"\bk\b", str(int(k)) if k >= 0 else f"({int(k)})", family["closed_form"])
    return a, b, closed


def _require(record, keys: tuple[str, ...], where: str) -> None:
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected an object, got {type(record).__name__}")
    missing = [key for key in keys if key not in record]
    if missing:
        raise InputError(f"{where}: missing {', '.join(missing)}")
    if not isinstance(record["id"], str) or not record["id"].strip():
        raise InputError(f"{where}: the id must be a non-empty string")
    if not isinstance(record["source"], str) or not record["source"].strip():
        raise InputError(f"{where}: the source (a citation) must be a non-empty string")
    if record["convergence"] not in ("fast", "slow"):
        raise InputError(f"{where}: convergence must be 'fast' or 'slow', not {record['convergence']!r}")


def _parses(text, where: str) -> None:
    if not isinstance(text, str):
        raise InputError(f"{where}: the closed form must be a string")
    try:
        parse(text)
    except InputError as exc:
        raise InputError(f"{where}: closed form {text!r} does not parse: {exc}") from exc


def validate_family(family) -> dict:
    """Check one family record; raise :class:`~discovery.errors.InputError` naming it when it is bad."""
    where = f"family {family.get('id')!r}" if isinstance(family, dict) else "family"
    _require(family, _FAMILY_KEYS, where)
    for side in ("a", "b"):
        if not isinstance(family[side], str):
            raise InputError(f"{where}: {side} must be a polynomial in n and k, as text")
        _polynomial(family[side], where, ("n", "k"))
    span = family["k_range"]
    if (not isinstance(span, list) or len(span) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                  for v in span) or span[0] > span[1]):
        raise InputError(f"{where}: k_range must be [first, last], integers with first <= last, not {span!r}")
    for k in span:
        a, b, closed = family_instance(family, k)
        if not any(b):
            raise InputError(f"{where}: b vanishes at k = {k}")
        _parses(closed, f"{where} at k = {k}")
    return family


def validate_entry(entry, families: dict | None = None) -> dict:
    """Check one formula record; raise :class:`~discovery.errors.InputError` naming it when it is bad.

    ``families`` maps family ids to families, for an entry that names its ``family`` and ``k``: its
    coefficients must then be the family's at ``k``.
    """
    where = f"entry {entry.get('id')!r}" if isinstance(entry, dict) else "entry"
    _require(entry, _ENTRY_KEYS, where)
    for side in ("a", "b"):
        cs = entry[side]
        if (not isinstance(cs, list) or not cs
                or not all(isinstance(c, int) and not isinstance(c, bool) for c in cs)):
            raise InputError(f"{where}: {side} must be a non-empty list of integers (highest degree first)")
        if len(cs) > 1 and cs[0] == 0:
            raise InputError(f"{where}: {side} has a zero leading coefficient")
    if not any(entry["b"]):
        raise InputError(f"{where}: b is zero (the fraction is the constant a(0))")
    for side in ("a", "b"):
        text = entry.get(f"{side}_n")
        if text is not None:
            poly = _polynomial(text, f"{where} ({side}_n)", ("n",))
            if _coefficients(poly, where) != entry[side] and not (poly.is_zero and entry[side] == [0]):
                raise InputError(f"{where}: {side}_n {text!r} differs from the coefficients {entry[side]}")
    if "degree" in entry and entry["degree"] != [len(entry["a"]) - 1, len(entry["b"]) - 1]:
        raise InputError(f"{where}: degree {entry['degree']} differs from the coefficients' degrees")
    _parses(entry["closed_form"], where)
    if "family" in entry:
        family = (families or {}).get(entry["family"])
        if family is None:
            raise InputError(f"{where}: unknown family {entry['family']!r}")
        k = entry.get("k")
        first, last = family["k_range"]
        if not isinstance(k, int) or not first <= k <= last:
            raise InputError(f"{where}: k must be an integer in the range {first}..{last} of {entry['family']!r}")
        a, b, _ = family_instance(family, k)
        if (a, b) != (entry["a"], entry["b"]):
            raise InputError(f"{where}: its coefficients are not those of family {entry['family']!r} at k = {k}")
    return entry


def validate_literature(formulas, families=(), checked: tuple[int, int] = (0, 0)) -> Literature:
    """Check records and their uniqueness (ids, coefficient pairs, family ids) as one database; the first
    ``checked`` formulas and families (already validated) are checked for uniqueness only."""
    fams: dict[str, dict] = {}
    for i, family in enumerate(families):
        if i >= checked[1]:
            validate_family(family)
        if family["id"] in fams:
            raise InputError(f"family {family['id']!r}: the id is used twice")
        fams[family["id"]] = family
    ids: dict[str, dict] = {}
    pairs: dict[tuple, str] = {}
    for i, entry in enumerate(formulas):
        if i >= checked[0]:
            validate_entry(entry, fams)
        if entry["id"] in ids or entry["id"] in fams:
            raise InputError(f"entry {entry['id']!r}: the id is used twice")
        key = (tuple(entry["a"]), tuple(entry["b"]))
        if key in pairs:
            raise InputError(f"entry {entry['id']!r}: the same fraction as entry {pairs[key]!r}")
        ids[entry["id"]] = entry
        pairs[key] = entry["id"]
    return Literature(tuple(formulas), tuple(fams.values()))


def _read(path, where: str) -> dict:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8")) if isinstance(path, (str, Path)) else \
            json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot read it: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("formulas", []), list) \
            or not isinstance(doc.get("families", []), list):
        raise InputError(f"{where}: expected an object with a list 'formulas' (and optionally a list 'families')")
    return doc


@lru_cache(maxsize=1)
def literature_database() -> Literature:
    """The shipped literature database: every formula of ``literature_pcfs.json`` and
    ``literature_database.json`` and the parametric families (validated)."""
    formulas, families = [], []
    for name in LITERATURE_FILES:
        doc = _read(data_file(name), name)
        formulas += doc.get("formulas", [])
        families += doc.get("families", [])
    return validate_literature(formulas, families)


def literature_families() -> tuple[dict, ...]:
    """The parametric families of the literature database."""
    return literature_database().families


@lru_cache(maxsize=1)
def special_function_pcfs() -> tuple[dict, ...]:
    """The low-degree fractions of special-function values of ``data/special_function_pcfs.json``
    (kept apart from the literature database)."""
    doc = _read(data_file(SPECIAL_FUNCTION_FILE), SPECIAL_FUNCTION_FILE)
    return validate_literature(doc["formulas"], doc.get("families", [])).formulas


def load_literature(path=None) -> Literature:
    """The literature database merged with a user's JSON file of the same format (``formulas`` and
    optionally ``families``); with ``path=None`` the shipped database alone.

    Every record of the user's file is validated and must not repeat an id or a fraction of the
    database: a bad one is refused with an :class:`~discovery.errors.InputError` naming it.
    """
    base = literature_database()
    if path is None:
        return base
    doc = _read(path, str(path))
    try:
        return validate_literature(base.formulas + tuple(doc.get("formulas", [])),
                                   base.families + tuple(doc.get("families", [])),
                                   checked=(len(base.formulas), len(base.families)))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
