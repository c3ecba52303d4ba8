"""The ``discovery`` command line: parsing and printing only, the work lives below.

``main`` runs a command; the parser is built in :mod:`discovery.cli.parser` from the commands of
:mod:`~discovery.cli.pcf`, :mod:`~discovery.cli.programs`, :mod:`~discovery.cli.campaigns` and
:mod:`~discovery.cli.database`; :mod:`~discovery.cli.tables` writes stored formulas as people read
them.
"""

from __future__ import annotations

import sqlite3
import sys
import traceback
import warnings
from pathlib import Path

from discovery.cli.arguments import NEGATIVE_POLYNOMIAL
from discovery.cli.parser import UsageError, build_parser
from discovery.version import __version__
from discovery.errors import DiscoveryError

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if isinstance(err, (UsageError, DiscoveryError, ValueError, OSError)) and text:
        return text
    if isinstance(err, sqlite3.Error):
        return f"database error: {text}"
    return f"internal error: {type(err).__name__}: {text} (rerun with --debug for the traceback)"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Every error ends in one line on stderr starting ``discovery: error:``: status 2 for a command
    line or input that is refused, 1 for a failure while running (a database, a file, a bug).
    ``--debug`` anywhere on the command line prints the traceback as well.
    """
    # Coefficients of any size are promised, and Python refuses to print an integer of more than
    # 4,300 digits; the sizes that reach printing are bounded by the parser and the options.
    sys.set_int_max_str_digits(0)
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    argv = [t for t in argv if t != "--debug"]
    argv = [" " + t if NEGATIVE_POLYNOMIAL.match(t) else t for t in argv]
    try:
        args = build_parser().parse_args(argv)
        if args.version:
            print(f"discovery {__version__}")
            return 0
        if args.command is None:
            raise UsageError("a COMMAND is required (see 'discovery --help')")
    except UsageError as err:
        print(f"discovery: error: {_one_line(err)}", file=sys.stderr)
        return 2
    caught: list = []
    try:
        try:
            with warnings.catch_warnings(record=True) as recorded:
                warnings.simplefilter("always", DeprecationWarning)
                try:
                    return args.handler(args)
                finally:
                    caught = list(recorded)
        finally:
            # Shown only here, once the recording context is closed: inside it showwarning appends to
            # the very list being replayed, and the replay never ends.
            _show_warnings(caught)
    except KeyboardInterrupt:
        print("discovery: interrupted; everything committed is kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (discovery query ... | head): not an error of ours.
        sys.stderr.close()
        return 0
    except Exception as err:  # noqa: BLE001 - the command line's last resort: one line, never a traceback
        if debug:
            traceback.print_exc()
        print(f"discovery: error: {_one_line(err)}", file=sys.stderr)
        return 2 if isinstance(err, ValueError) else 1


def _show_warnings(caught: list) -> None:
    """Print our deprecation notes once each, and every other warning as Python would have shown it."""
    ours = [w for w in caught if issubclass(w.category, DeprecationWarning) and w.filename.startswith(_PACKAGE_DIR)]
    for note in sorted({str(w.message) for w in ours}):
        print(f"discovery: warning: {note}", file=sys.stderr)
    shown = set()
    for w in caught:
        key = (str(w.message), w.category, w.filename, w.lineno)
        if not issubclass(w.category, DeprecationWarning) and key not in shown:
            shown.add(key)
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
