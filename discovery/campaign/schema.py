"""The vocabulary campaign files are checked with: typed table readers, value checks that name the
file and key, and the upper bound of every numeric setting with what it protects.

:mod:`discovery.campaign.config` builds the campaign schema from these.
"""

from __future__ import annotations

import difflib
import math
import re
from pathlib import Path

from discovery.errors import InputError

REQUIRED = object()  # the default of a key that must be given


class ConfigError(InputError):
    """A campaign file that cannot be run, with the file and key named."""


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def check(value, ok: bool, where: str, expected: str):
    if not ok:
        raise ConfigError(f"{where} must be {expected}, got {value!r}")
    return value


def read_table(doc: dict, table: str, spec: dict, path: Path) -> dict:
    """Defaults filled in, unknown keys and bad types refused with the key and file named."""
    raw = doc.get(table, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [{table}] must be a table")
    for key in raw:
        if key not in spec:
            close = difflib.get_close_matches(key, list(spec), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{path}: unknown key {key!r} in [{table}]{hint}; allowed: {', '.join(spec)}")
    out = {}
    for key, (default, valid) in spec.items():
        where = f"{path}: [{table}] {key}"
        if key not in raw:
            if default is REQUIRED:
                raise ConfigError(f"{where} is missing")
            out[key] = default
        else:
            out[key] = valid(raw[key], where)
    return out


def int_in(lo: int, hi: int, why: str):
    """A check for an integer in [lo, hi]; ``why`` says what the upper bound protects."""

    expected = {0: "a non-negative integer", 1: "a positive integer"}.get(lo, f"an integer of at least {lo:,}")

    def valid(v, where):
        check(v, is_int(v) and v >= lo, where, expected)
        if v > hi:
            raise ConfigError(f"{where} is {v:,}; at most {hi:,} ({why})")
        return v

    return valid


def number_in(lo: float, hi: float, why: str, what: str = "a positive number"):
    """A check for a real number in (lo, hi] (lo itself allowed when it is 0 and ``what`` says
    non-negative)."""

    def valid(v, where):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        check(v, ok and (v > lo or (lo == 0 and v == 0 and "non-negative" in what)), where, what)
        if v > hi:
            raise ConfigError(f"{where} is {v:g}; at most {hi:g} ({why})")
        return v

    return valid


def string(v, where):
    return check(v, isinstance(v, str) and v.strip() != "", where, "a non-empty string")


# A campaign's name names its run folder (<db>_runs/<name>/), so it is one safe path component.
CAMPAIGN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_DESCRIPTION = 2000


def check_campaign_name(name, where: str = "campaign name") -> str:
    """A campaign name: 1 to 64 ASCII letters, digits, ``.``, ``_`` or ``-``, starting with a letter or a
    digit (it names a folder: no ``/``, no ``..``, no NUL, nothing a file system refuses).

    Raises
    ------
    ConfigError
        Naming the bad value.
    """
    if not isinstance(name, str) or not CAMPAIGN_NAME.fullmatch(name):
        shown = repr(name)
        if isinstance(name, str) and len(name) > 80:
            shown = f"{name[:60]!r}... ({len(name):,} characters)"
        raise ConfigError(f"{where} must be 1 to 64 letters, digits, '.', '_' or '-' starting with a letter or a "
                          f"digit (it names the run folder), got {shown}")
    return name


# Upper bounds of the numeric settings, each with what it protects (the README's campaign table
# lists them).  The defaults sit far below: a bound stops a typo (an extra few zeros) from filling
# memory or running for days, before any work.
MAX_SEED = 2**63 - 1
MAX_DEGREE_A, MAX_DEGREE_B = 10, 20
WHY_DEGREE = "the float kernels and the canonical-class test are made for low degrees"
WHY_COEFFICIENT = "k·a and k²·b of the canonical-class test must stay exact in 64-bit integers"
MAX_DEPTH = 1_000_000  # depth and metrics_depth: float steps per PCF
MAX_SAMPLE = 20_000  # exact convergents: their digits grow like n log n, their cost like n² log n
MAX_UNIT_SIZE = 200_000  # a unit's arrays and results (~32 MB) travel and are lost whole on a crash
# A unit's work, unit_size × (depth + metrics_depth + sample) float steps, at most 50 times the
# default's 20,000 × 4,000: about half an hour of one core, the most a Ctrl-C may cost.
MAX_UNIT_WORK = 4_000_000_000
MAX_WARMUP_UNITS = 100_000  # the triage warm-up's units are listed before the run starts
MAX_CANDIDATES = 2**62
MAX_MINUTES = 1_000_000.0
MAX_GENERATIONS = 10_000_000
MAX_POPULATION = 100_000  # a generation's genomes and their evaluations are held in memory
MAX_OFFSPRING = 100  # children screened per place, per generation
MAX_DIGITS = 5_000  # screening digits (LLL on numbers of that size; as identify --digits)
MAX_CONFIRM_DIGITS = 20_000  # exact convergents to that many digits per identified PCF
# The Möbius table holds about 0.46 (2B + 1)⁴ vectors per constant (48 bytes each) in every worker,
# and its coefficient vectors are built as a Python list of (2B + 1)⁴ tuples first.
MAX_MOBIUS_BOUND = 15
MAX_MOBIUS_ENTRIES = 4_000_000  # ~200 MB of table per worker, ~400 MB while it is sorted
MAX_REPRESENTATIVES = 100  # per cluster, each identified with escalation within budget_seconds
MAX_BUDGET_SECONDS = 3_600.0
MAX_ESCALATION_SECONDS = 86_400.0
MAX_ISLANDS = 256
MAX_MIGRATE_EVERY = 1_000_000
MAX_OPS = 64  # as programs evolve --max-ops


def fraction(v, where):
    return check(v, isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1, where,
                 "a number in (0, 1]")


def boolean(v, where):
    return check(v, isinstance(v, bool), where, "true or false")


def choice(*options):
    def valid(v, where):
        return check(v, v in options, where, "one of " + ", ".join(repr(o) for o in options))

    return valid
