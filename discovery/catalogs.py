"""Users' files: the one reader of the TOML files users give (campaign and catalog files), and
the checks of a catalog file's ``[[constant]]`` tables before anything in them is evaluated.

:func:`discovery.constants.load_catalog` evaluates the checked entries and adds them to the
catalog; campaign files are read by :mod:`discovery.campaign.config`.
"""

from __future__ import annotations

import keyword
import os
import stat
import tomllib
from pathlib import Path
from typing import NamedTuple

import sympy

from discovery.errors import InputError
from discovery.functions import FUNCTIONS

# A user's TOML file (a campaign or a catalog) is a few kilobytes; past these it is a mistake (a
# device, a data file given by accident), refused before it fills memory or the parser's stack.
MAX_USER_FILE_BYTES = 1 << 20
MAX_TOML_DEPTH = 8


def read_toml(path, what: str) -> dict:
    """Read a TOML file a user gave (a campaign or a catalog): the one reader of such files.

    Only a regular file of at most :data:`MAX_USER_FILE_BYTES` bytes is read (a FIFO, a device
    such as ``/dev/zero`` or a folder is refused without reading it: the file is opened without
    blocking and checked on the open descriptor), as UTF-8, and tables and arrays may nest at
    most :data:`MAX_TOML_DEPTH` deep.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file is, for messages: ``"campaign file"``, ``"catalog file"``.

    Raises
    ------
    discovery.errors.InputError
        One line naming the file and what is wrong with it.
    """

    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such {what}") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read the {what} ({err.strerror or err})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode) else "not a regular file"
        raise InputError(f"{path}: {kind}; a {what} must be a regular file")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(MAX_USER_FILE_BYTES + 1)
        except OSError as err:
            raise InputError(f"{path}: cannot read the {what} ({err.strerror or err})") from None
    if len(data) > MAX_USER_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_USER_FILE_BYTES // 1024} KiB; a {what} is a small text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start}); "
                         f"save the {what} as UTF-8") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: not valid TOML ({err})") from None
    except RecursionError:
        raise InputError(f"{path}: tables or arrays nested deeper than {MAX_TOML_DEPTH} levels") from None
    if _depth(doc) > MAX_TOML_DEPTH:
        raise InputError(f"{path}: tables or arrays nested deeper than {MAX_TOML_DEPTH} levels")
    return doc


def _depth(doc) -> int:
    """Nesting depth of parsed TOML (iterative: the data may be as deep as the parser allows)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, level + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


# Names a user's constant may not take: sympy reads them as something else in a closed form (I is
# the imaginary unit, E is e, S, N, O and Q are sympy objects, beta and gamma are functions), the
# expression parser's functions, and Python keywords.
_RESERVED = frozenset(dir(sympy)) | frozenset(keyword.kwlist) | {"x", "n", "k"}
# Each constant of a catalog is evaluated on load and screened in every identification.
MAX_CATALOG_CONSTANTS = 1000


class CatalogEntry(NamedTuple):
    """One ``[[constant]]`` table of a catalog file, its keys checked and its value not yet read.

    Attributes
    ----------
    name : str
        The constant's name (an ASCII identifier, not reserved).
    value : str
        Its definition, as given.
    description : str
        One line for people (the value's text when the table has none).
    aliases : tuple of str
        Other accepted names (none reserved).
    sympy : object
        The table's ``sympy`` key as given (None when absent); checked once the value is known.
    where : str
        The file and the constant's name, to begin messages about it.
    """

    name: str
    value: str
    description: str
    aliases: tuple[str, ...]
    sympy: object
    where: str


def catalog_tables(doc: dict, path: Path) -> list:
    """The ``[[constant]]`` tables of a catalog file read by :func:`read_toml`.

    Parameters
    ----------
    doc : dict
        The file's parsed TOML.
    path : Path
        The file, for messages.

    Returns
    -------
    list
        The tables, not yet checked (see :func:`catalog_entry`).

    Raises
    ------
    InputError
        For a key other than ``constant``, no tables, or more than :data:`MAX_CATALOG_CONSTANTS`.
    """
    extra = set(doc) - {"constant"}
    if extra:
        raise InputError(f"{path}: unknown table or key {sorted(extra)[0]!r} (a catalog has [[constant]] tables)")
    entries = doc.get("constant", [])
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path}: no [[constant]] tables")
    if len(entries) > MAX_CATALOG_CONSTANTS:
        raise InputError(f"{path}: {len(entries)} constants; a catalog holds at most {MAX_CATALOG_CONSTANTS} "
                         "(each is evaluated on load and screened in every identification)")
    return entries


def catalog_entry(entry, i: int, path: Path) -> CatalogEntry:
    """Check the keys of the ``i``-th table of a catalog file (counted from 1).

    Parameters
    ----------
    entry : object
        The table as parsed.
    i : int
        Its place in the file, for messages.
    path : Path
        The file, for messages.

    Returns
    -------
    CatalogEntry

    Raises
    ------
    InputError
        For a table with an unknown key, a name that is not an ASCII identifier of at most 64
        characters, a reserved name or alias (sympy or the expression parser reads it as something
        else), or a value, aliases or description of the wrong type.
    """
    where = f"{path}: constant {i}"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: not a table")
    unknown = set(entry) - {"name", "value", "description", "aliases", "sympy"}
    if unknown:
        raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    name, text = entry.get("name"), entry.get("value")
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii() or len(name) > 64:
        raise InputError(f"{where}: name must be an ASCII identifier of at most 64 characters, got {name!r}")
    if name in _RESERVED or name in FUNCTIONS:
        raise InputError(f"{where}: name {name!r} is reserved (sympy or the expression parser reads it as "
                         "something else); choose another")
    where = f"{path}: constant {name!r}"
    if not isinstance(text, str):
        raise InputError(f"{where}: value must be an expression in quotes, got {text!r}")
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise InputError(f"{where}: aliases must be a list of names, got {aliases!r}")
    for alias in aliases:
        if alias in _RESERVED or alias in FUNCTIONS:
            raise InputError(f"{where}: alias {alias!r} is reserved (sympy or the expression parser reads it "
                             "as something else); choose another")
    description = entry.get("description", text)
    if not isinstance(description, str):
        raise InputError(f"{where}: description must be text, got {description!r}")
    return CatalogEntry(name, text, description, tuple(aliases), entry.get("sympy"), where)
