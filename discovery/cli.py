"""The ``discovery`` command line."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys

import mpmath

from discovery.pcf import PCF, Status, evaluate
from discovery.pcf.exact import exact_limit

# argparse takes "-n*(2n-3)" for an option; a leading space makes it a positional argument.
_NEGATIVE_POLYNOMIAL = re.compile(r"^-[\dn(\[]")
_COEFF_LIST = re.compile(r"^\s*\[?\s*-?\d+(\s*,\s*-?\d+)*\s*\]?\s*$")


def _polynomial_arg(text: str):
    """A polynomial from the command line: ``"2n+1"``, ``"n^2"`` or coefficients ``"[2,1]"``."""
    text = text.strip()
    if _COEFF_LIST.match(text) and ("," in text or "[" in text):
        return [int(t) for t in text.strip().strip("[]").split(",")]
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _pcf_eval(args) -> int:
    pcf = PCF(_polynomial_arg(args.a), _polynomial_arg(args.b))
    A, B = pcf.as_arrays()
    status = Status(int(evaluate(A, B, args.depth).status[0]))
    est = pcf.limit(args.depth)
    if math.isinf(est.digits):
        text = str(exact_limit(pcf.a, pcf.b, args.depth))
    elif est.digits < 1:
        text = "nan" if mpmath.isnan(est.value) else mpmath.nstr(est.value, 3) + " (no correct digit)"
    else:
        shown = min(int(est.digits), args.max_digits)
        with mpmath.workdps(shown + 5):
            text = mpmath.nstr(est.value, shown)
    record = {
        "a": str(pcf.sympy()[0]),
        "b": str(pcf.sympy()[1]),
        "depth": args.depth,
        "limit": text,
        "digits": None if math.isinf(est.digits) else round(est.digits, 1),
        "exact_rational": math.isinf(est.digits),
        "status": status.name.lower(),
    }
    if args.format == "json":
        print(json.dumps(record, indent=2))
    else:
        width = max(len(k) for k in record)
        for key, value in record.items():
            print(f"{key:<{width}}  {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``discovery`` command."""
    parser = argparse.ArgumentParser(
        prog="discovery",
        description="Discover formulas: polynomial continued fractions and short programs.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    pcf = commands.add_parser("pcf", help="work with polynomial continued fractions")
    pcf_commands = pcf.add_subparsers(dest="pcf_command", required=True)
    ev = pcf_commands.add_parser(
        "eval",
        help="evaluate one PCF to its correct digits",
        description="Evaluate a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)) exactly at a depth.",
    )
    ev.add_argument("a", help='a(n): "2n+1", "n^2+1" or coefficients "[2,1]" (highest degree first)')
    ev.add_argument("b", help='b(n), in the same forms as a(n)')
    ev.add_argument("--depth", type=_positive_int, default=1000, help="convergent depth (default 1000)")
    ev.add_argument(
        "--max-digits", type=_positive_int, default=100, help="print at most this many digits"
    )
    ev.add_argument("--format", choices=("table", "json"), default="table")
    ev.set_defaults(handler=_pcf_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    argv = [" " + t if _NEGATIVE_POLYNOMIAL.match(t) else t for t in argv]
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as err:
        print(f"discovery: error: {err}", file=sys.stderr)
        return 2
