"""Known PCF formulas shipped in ``data/``: ``known_pcfs.json`` (test fixtures and clustering anchors)
and ``literature_pcfs.json`` (published formulas, the identification benchmark)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from discovery.pcf.formula import PCF

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
