"""Known CMFs shipped as data (``data/cmfs.json``) and CMFs users write in TOML files.

Both hold each matrix entry as text in the axes' variables, read by the package's whitelisting
parser (:func:`discovery.constants.to_sympy`: nothing is evaluated).  A user's file::

    [[cmf]]
    name = "ln2"
    constant = "ln2"                      # optional
    source = "f, fbar with f = x + y"     # optional
    [cmf.matrices]
    x = [["0", "x^2"], ["1", "2y - 1"]]
    y = [["x - y", "x^2"], ["1", "x + y"]]

is read with :func:`discovery.catalogs.read_toml` and every field is checked for conservation
before it is returned.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import sympy

from discovery.catalogs import read_toml
from discovery.cmf.field import CMF, MAX_DIMENSION, MAX_RANK
from discovery.constants import to_sympy
from discovery.errors import InputError
from discovery.pcf.known import data_file

MAX_USER_CMFS = 100
MAX_ENTRY_LENGTH = 500
MAX_ENTRY_DEGREE = 12
_AXIS = re.compile(r"[a-z]\Z")
# Letters the parser reads as constants (e, E) or that PCFs use for their own variable.
_RESERVED_AXES = {"e", "n"}


def _entry(text, where: str, axes: tuple[str, ...]) -> sympy.Expr:
    if not isinstance(text, (str, int)) or isinstance(text, bool):
        raise InputError(f"{where}: an entry is a string or an integer, got {type(text).__name__}")
    text = str(text)
    if len(text) > MAX_ENTRY_LENGTH:
        raise InputError(f"{where}: entry longer than {MAX_ENTRY_LENGTH} characters")
    try:
        expr = to_sympy(text, axes)
    except InputError as err:
        raise InputError(f"{where}: {err}") from None
    symbols = sympy.symbols(axes)
    if not expr.is_rational_function(*symbols):
        raise InputError(f"{where}: {text!r} is not a rational function of {', '.join(axes)}")
    num, den = sympy.fraction(sympy.cancel(expr))
    if any(sympy.Poly(p, *symbols).total_degree() > MAX_ENTRY_DEGREE for p in (num, den)):
        raise InputError(f"{where}: {text!r} has degree above {MAX_ENTRY_DEGREE}")
    return expr


def from_entries(entry: dict, where: str) -> CMF:
    """A CMF from one table of text (``name``, ``matrices``, optional ``constant``, ``source``).

    Parameters
    ----------
    entry : dict
        The table, as read from JSON or TOML.
    where : str
        The file and entry, for messages.

    Raises
    ------
    discovery.errors.InputError
        One line naming ``where`` and the field at fault.
    """
    if not isinstance(entry, dict):
        raise InputError(f"{where}: a CMF is a table")
    name = entry.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,40}", name):
        raise InputError(f"{where}: 'name' must be 1 to 40 letters, digits or underscores")
    where = f"{where} ({name})"
    for key in ("constant", "source"):
        if not isinstance(entry.get(key, ""), str) or len(entry.get(key, "")) > 1000:
            raise InputError(f"{where}: '{key}' must be text of at most 1000 characters")
    matrices = entry.get("matrices")
    if not isinstance(matrices, dict) or not 1 <= len(matrices) <= MAX_DIMENSION:
        raise InputError(f"{where}: 'matrices' must be a table of 1 to {MAX_DIMENSION} axes")
    axes = tuple(matrices)
    for axis in axes:
        if not _AXIS.match(axis) or axis in _RESERVED_AXES:
            raise InputError(f"{where}: axis {axis!r} must be one lowercase letter other than e and n")
    parsed = {}
    for axis, rows in matrices.items():
        if (not isinstance(rows, list) or not 2 <= len(rows) <= MAX_RANK
                or any(not isinstance(r, list) or len(r) != len(rows) for r in rows)):
            raise InputError(f"{where}: M_{axis} must be a square list of lists of size 2 to {MAX_RANK}")
        parsed[axis] = [[_entry(t, f"{where} M_{axis}[{i}][{j}]", axes) for j, t in enumerate(row)]
                        for i, row in enumerate(rows)]
    try:
        return CMF(parsed, name=name, constant=entry.get("constant", ""), source=entry.get("source", ""))
    except InputError as err:
        raise InputError(f"{where}: {err}") from None


@lru_cache(maxsize=1)
def _shipped() -> tuple[dict, ...]:
    return tuple(json.loads(data_file("cmfs.json").read_text(encoding="utf-8"))["cmfs"])


def known_names() -> list[str]:
    """Names of the shipped CMFs."""
    return [e["name"] for e in _shipped()]


@lru_cache(maxsize=None)
def known_cmf(name: str) -> CMF:
    """A shipped CMF by name (see :func:`known_names`).

    Examples
    --------
    >>> known_cmf("zeta3").axes
    ('x', 'y')
    """
    for entry in _shipped():
        if entry["name"] == name:
            return from_entries(entry, f"cmfs.json entry {name}")
    raise InputError(f"no known CMF {name!r}; known: {', '.join(known_names())}")


def known_examples(name: str) -> list[dict]:
    """The shipped trajectories of a CMF with their limits' closed forms (text): dicts with
    ``direction`` (ints), ``start`` (Fractions: the file writes them as integers or text such as
    "1/2") and ``limit``."""
    for entry in _shipped():
        if entry["name"] == name:
            return [dict(ex, direction=tuple(ex["direction"]), start=tuple(Fraction(str(c)) for c in ex["start"]))
                    for ex in entry.get("examples", [])]
    raise InputError(f"no known CMF {name!r}; known: {', '.join(known_names())}")


def load_cmfs(path) -> list[CMF]:
    """Read the ``[[cmf]]`` tables of a user's TOML file, each checked for conservation.

    Raises
    ------
    discovery.errors.InputError
        One line naming the file and the entry at fault (bad TOML, too many entries, a bad field,
        text the parser refuses, matrices that do not conserve).
    """
    path = Path(path)
    doc = read_toml(path, "CMF file")
    tables = doc.get("cmf")
    if not isinstance(tables, list) or not tables:
        raise InputError(f"{path}: no [[cmf]] tables")
    if len(tables) > MAX_USER_CMFS:
        raise InputError(f"{path}: {len(tables)} CMFs; at most {MAX_USER_CMFS} per file")
    out = []
    for i, table in enumerate(tables):
        cmf = from_entries(table, f"{path}: cmf {i + 1}")
        try:
            cmf.check_conservation()
        except InputError as err:
            raise InputError(f"{path}: cmf {i + 1}: {err}") from None
        out.append(cmf)
    return out
