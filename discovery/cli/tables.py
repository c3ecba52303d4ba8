"""Stored formulas as people read them: polynomials written out, exact limits as exact text, and the
aligned table of ``discovery query``."""

from __future__ import annotations

import math
from fractions import Fraction

# Marks a program whose result is finite only through IEEE infinities.
INFINITIES = "  [IEEE inf]"


def polynomial_text(coeffs) -> str:
    """A polynomial in n, highest degree first, as people write it.

    Parameters
    ----------
    coeffs : sequence of int
        Coefficients, highest degree first (``numpy.polyval`` order).

    Returns
    -------
    str

    Examples
    --------
    >>> polynomial_text([34, 51, 27, 5])
    '34n^3 + 51n^2 + 27n + 5'
    >>> polynomial_text([-1, 0, 0, 0, 0, 0, 0])
    '-n^6'
    >>> polynomial_text([0, 0])
    '0'
    """
    coeffs = [int(c) for c in coeffs]
    terms = []
    for i, c in enumerate(coeffs):
        power = len(coeffs) - 1 - i
        if c == 0:
            continue
        monomial = "" if power == 0 else ("n" if power == 1 else f"n^{power}")
        size = abs(c)
        terms.append(("-" if c < 0 else "+", monomial if size == 1 and monomial else f"{size}{monomial}"))
    if not terms:
        return "0"
    first_sign, first = terms[0]
    return ("-" if first_sign == "-" else "") + first + "".join(f" {sign} {body}" for sign, body in terms[1:])


def numeric_limit(record: dict) -> float | None:
    """The limit of a stored PCF as a float: the exact rational's own float when the limit is an
    exact rational (the float recurrence gives 1.9999999999999998 for 2), else the stored float."""
    digits = record.get("digits_verified")
    if digits is not None and math.isinf(digits) and record.get("closed_form"):
        try:
            return float(Fraction(record["closed_form"]))
        except (ValueError, ZeroDivisionError):
            pass  # not a plain rational: keep the float
    value = record.get("limit")
    return None if value is None or not math.isfinite(value) else value


def readable_record(record: dict) -> dict:
    """A PCF record with its polynomials written out (``a_text``, ``b_text``) beside the coefficient
    lists, and its float limit exact when the limit is an exact rational (its exact text is
    ``closed_form``); other records unchanged."""
    if record.get("kind") != "pcf":
        return record
    out = {}
    for key, value in record.items():
        out[key] = numeric_limit(record) if key == "limit" else value
        if key in ("a", "b"):
            out[f"{key}_text"] = polynomial_text(value)
    return out


def fill_limits(records: list[dict], depth: int = 1000) -> None:
    """Give every stored PCF without a float limit (a family member found beyond the box is stored
    without metrics) the limit of the float kernel at ``depth``, in place, when it converges there."""
    import numpy as np

    from discovery.pcf import Status, evaluate, to_arrays
    from discovery.pcf.formula import PCF

    missing = [r for r in records if r.get("kind") == "pcf" and r.get("limit") is None
               and all(abs(c) < 2**53 for c in (*r["a"], *r["b"]))]
    if not missing:
        return
    A, B = to_arrays([PCF(r["a"], r["b"]) for r in missing])
    found = evaluate(A, B, depth)
    for r, value, status in zip(missing, found.limit, found.status):
        if status in (Status.CONVERGED, Status.TERMINATED) and np.isfinite(value):
            r["limit"] = float(value)


def _digits(value) -> str:
    if value is None:
        return "-"
    return "exact" if math.isinf(value) else f"{value:.0f}"


def pcf_rows(records: list[dict]) -> list[list[str]]:
    """The cells of the PCF table: a header row, then one row per record (its numeric limit always,
    its closed form when identified)."""
    rows = [["id", "a(n)", "b(n)", "limit", "digits", "delta", "cluster", "constant", "closed form"]]
    for r in records:
        value = numeric_limit(r)
        rows.append([f"#{r['id']}", polynomial_text(r["a"]), polynomial_text(r["b"]),
                     "-" if value is None else f"{value:.15g}", _digits(r["digits_verified"]),
                     "-" if r["delta"] is None else f"{r['delta']:.4f}",
                     "-" if r["cluster"] is None else str(r["cluster"]), r["constant"] or "-",
                     r["closed_form"] or "-"])
    return rows


def aligned(rows: list[list[str]], right: tuple[int, ...] = ()) -> list[str]:
    """Rows of cells as lines with aligned columns (the last column is not padded); the columns
    numbered in ``right`` are aligned to the right."""
    widths = [max(len(row[j]) for row in rows) for j in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(widths[j]) if j in right else cell.ljust(widths[j]) for j, cell in enumerate(row[:-1])]
        lines.append("  ".join(cells + [row[-1]]))
    return lines


def program_line(r: dict) -> str:
    """One stored program as the table shows it."""
    error = "-" if r["max_error"] is None else f"{r['max_error']:.3g}"
    ulp = "" if r.get("max_ulp") is None else f", float32 {r['max_ulp']} ulp (every float32)"
    return (f"#{r['id']:<6} {r['target']} on {r['interval']}: {r['ops']} ops, max error (scanned) {error}, "
            f"proven bound {shown_bound(r['bound'])}{ulp}{INFINITIES if r['infinities'] else ''}  {r['expression']}")


def shown_bound(bound, spec: str = ".3g") -> str:
    """A proven bound as a table shows it: '-' when not computed, 'none' when none was proved."""
    if bound is None:
        return "-"
    return format(bound, spec) if math.isfinite(bound) else "none"
