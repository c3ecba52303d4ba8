"""How values and user text appear in error messages: never failing, never long.

Python refuses to turn integers of more than 4,300 digits into text, and users may give text of
any length, so every message naming such a value goes through :func:`shown` or :func:`short`.
"""

from __future__ import annotations

import numbers
import sys

import gmpy2


def shown(value, width: int = 60) -> str:
    """A value as an error message shows it: never fails, never long.

    Python refuses to turn integers of more than 4,300 digits into text (``ValueError``), and
    coefficients of any size are allowed, so a message built with ``f"{c}"`` could fail instead of
    reporting.  Integers beyond 30 digits are shown by their ends and their length; text and
    other values are cut at ``width`` characters.

    Parameters
    ----------
    value : object
        An integer, a sequence of them, text, or anything with a ``repr``.
    width : int
        Characters kept of text and of other values.

    Returns
    -------
    str
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        v = int(value)
        if v.bit_length() <= 100:
            return str(v)
        text = gmpy2.mpz(abs(v)).digits()  # gmpy2 has no length limit, and is quasi-linear
        return f"{'-' if v < 0 else ''}{text[:6]}...{text[-6:]} ({len(text):,} digits)"
    if isinstance(value, str):
        return short(value, width)
    if isinstance(value, (list, tuple)):
        items = [shown(v, width) for v in value[:8]]
        more = ", ..." if len(value) > 8 else ""
        return ("[" if isinstance(value, list) else "(") + ", ".join(items) + more + ("]" if isinstance(value, list)
                                                                                    else ")")
    try:
        text = repr(value)
    except ValueError:  # a sympy expression holding a huge integer
        return f"a {type(value).__name__} with an integer of more than {sys.get_int_max_str_digits():,} digits"
    return text if len(text) <= width else text[: width - 3] + "..."


def short(text: str, width: int = 60) -> str:
    """User text as a message quotes it: its ``repr``, cut to ``width`` characters.

    Parameters
    ----------
    text : str
    width : int
        Characters kept of the text.

    Returns
    -------
    str
    """
    return repr(text if len(text) <= width else text[: width - 3] + "...")
