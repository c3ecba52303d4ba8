"""Exceptions that carry a message meant for the user.

The command line prints any of these as one line (``discovery: error: ...``) with exit status 1;
a library caller can catch :class:`DiscoveryError` for all of them.  Each subclass also derives from
the builtin exception a caller would naturally expect, so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class DiscoveryError(Exception):
    """Base class of the package's user-facing errors; the message names the bad value."""


class InputError(DiscoveryError, ValueError):
    """Text or a value from a user that the package refuses (bad syntax, unknown name, out of range)."""


class StoreError(DiscoveryError, RuntimeError):
    """The formula database cannot be opened, read or written; the file is left as it was."""


class CheckpointError(DiscoveryError, RuntimeError):
    """An evolution checkpoint that is missing pieces, corrupt or from an incompatible version."""
