"""Known PCF formulas shipped in ``data/known_pcfs.json``: test fixtures and clustering anchors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from discovery.pcf.formula import PCF

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


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
    with open(DATA_DIR / "known_pcfs.json", encoding="utf-8") as fh:
        records = json.load(fh)["formulas"]
    return tuple(
        KnownPCF(r["id"], r["constant"], PCF(r["a"], r["b"]), r["closed_form"], r["source"])
        for r in records
    )
