"""Argument types of the command line, and the printing of one record: shared by every command."""

from __future__ import annotations

import argparse
import json
import math
import re

# argparse takes "-n*(2n-3)" for an option; a leading space makes it a positional argument.
NEGATIVE_POLYNOMIAL = re.compile(r"^-[\dn(\[]")
_COEFF_LIST = re.compile(r"^\s*\[?\s*-?\d+(\s*,\s*-?\d+)*\s*\]?\s*$")
INT64_MAX = 2**63 - 1
DECIMAL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def polynomial_arg(text: str):
    """A polynomial from the command line: ``"2n+1"``, ``"n^2"`` or coefficients ``"[2,1]"``."""
    text = text.strip()
    if _COEFF_LIST.match(text) and ("," in text or "[" in text):
        return [int(t) for t in text.strip().strip("[]").split(",")]
    return text


def number_in(kind: type, lo, hi):
    """An argparse type: an ``int`` or a finite ``float`` in [lo, hi], refused naming the value."""
    name = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {name}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text.strip()}")
        if not lo <= value <= hi:
            shown = f"[{lo:,}, {hi:,}]" if kind is int else f"[{lo:g}, {hi:g}]"
            raise argparse.ArgumentTypeError(f"{text.strip()} is out of range {shown}")
        return value

    parse.__name__ = kind.__name__
    return parse


def int_in(lo: int, hi: int):
    return number_in(int, lo, hi)


def float_in(lo: float, hi: float):
    return number_in(float, lo, hi)


def scheduler_arg(text: str) -> str:
    from discovery.campaign.executors import parse_scheduler

    try:
        return parse_scheduler(text)[0]
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


positive_int = int_in(1, 10**9)
seed_arg = int_in(0, 2**63 - 1)
depth_arg = int_in(1, 10**7)
finite = float_in(-math.inf, math.inf)


def format_arg(parser, choices: tuple[str, ...]) -> None:
    """Add the ``--format`` option every printing command has (``table`` first, the default)."""
    shown = {"table": "aligned text for people", "json": "JSON for programs", "csv": "CSV for spreadsheets"}
    parser.add_argument("--format", choices=choices, default=choices[0],
                        help="output: " + "; ".join(f"{c}, {shown[c]}" for c in choices))


def print_record(record: dict, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(record, indent=2))
    else:
        width = max(len(k) for k in record)
        for key, value in record.items():
            print(f"{key:<{width}}  {value}")
