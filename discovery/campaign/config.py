"""Campaign files: the TOML schema, its validation and the validated configuration.

Every refusal names the file and the key (:class:`ConfigError`, an
:class:`~discovery.errors.InputError`), before any work starts.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from discovery.campaign.executors import max_workers
from discovery.errors import InputError

_REQUIRED = object()
UNIT_SCHEME = "raw-grid-1"
_TABLES = ("campaign", "space", "target", "search", "identify", "execution")


class ConfigError(InputError):
    """A campaign file that cannot be run, with the file and key named."""


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _check(value, ok: bool, where: str, expected: str):
    if not ok:
        raise ConfigError(f"{where} must be {expected}, got {value!r}")
    return value


def _read_table(doc: dict, table: str, spec: dict, path: Path) -> dict:
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
    for key, (default, check) in spec.items():
        where = f"{path}: [{table}] {key}"
        if key not in raw:
            if default is _REQUIRED:
                raise ConfigError(f"{where} is missing")
            out[key] = default
        else:
            out[key] = check(raw[key], where)
    return out


def _int_in(lo: int, hi: int, why: str):
    """A check for an integer in [lo, hi]; ``why`` says what the upper bound protects."""

    expected = {0: "a non-negative integer", 1: "a positive integer"}.get(lo, f"an integer of at least {lo:,}")

    def check(v, where):
        _check(v, _int(v) and v >= lo, where, expected)
        if v > hi:
            raise ConfigError(f"{where} is {v:,}; at most {hi:,} ({why})")
        return v

    return check


def _number_in(lo: float, hi: float, why: str, what: str = "a positive number"):
    """A check for a real number in (lo, hi] (lo itself allowed when it is 0 and ``what`` says
    non-negative)."""

    def check(v, where):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        _check(v, ok and (v > lo or (lo == 0 and v == 0 and "non-negative" in what)), where, what)
        if v > hi:
            raise ConfigError(f"{where} is {v:g}; at most {hi:g} ({why})")
        return v

    return check


def _string(v, where):
    return _check(v, isinstance(v, str) and v.strip() != "", where, "a non-empty string")


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


def run_folder(db: str | Path, name: str) -> Path:
    """The run folder of a campaign, ``<db stem>_runs/<name>/`` beside the database: where its plots,
    its checkpoint and its report go.  The one place that path is built.

    Raises
    ------
    ConfigError
        If ``name`` is not a campaign name (:func:`check_campaign_name`) or the folder would
        not lie inside ``<db stem>_runs/`` (a symbolic link out of it).
    """
    db = Path(db)
    check_campaign_name(name)
    runs = db.parent / f"{db.stem}_runs"
    folder = runs / name
    if not folder.resolve().is_relative_to(runs.resolve()):
        raise ConfigError(f"run folder {folder} of campaign {name!r} leads out of {runs} (a symbolic link?); "
                          "remove the link or use another database")
    return folder


def _ranges(v, where):
    from discovery.pcf.space import MAX_COEFFICIENT

    ok = (
        isinstance(v, list) and v
        and all(isinstance(r, list) and len(r) in (2, 3) and all(_int(x) for x in r) for r in v)
    )
    _check(v, ok, where,
           "a list of [lo, hi] or [lo, hi, step] integer lists, one per coefficient, highest degree first")
    if len(v) > MAX_DEGREE_B + 1:
        raise ConfigError(f"{where} has {len(v)} ranges; at most {MAX_DEGREE_B + 1} "
                          f"(degree {MAX_DEGREE_B}, {_WHY_DEGREE})")
    for r in v:
        if r[0] > r[1] or (len(r) == 3 and r[2] < 1):
            raise ConfigError(f"{where}: range {r} is empty")
        if max(abs(r[0]), abs(r[1])) > MAX_COEFFICIENT or (len(r) == 3 and r[2] > MAX_COEFFICIENT):
            raise ConfigError(f"{where}: range {r} goes past {MAX_COEFFICIENT:,} ({_WHY_COEFFICIENT})")
    return [tuple(r) for r in v]


def _constants(v, where):
    from discovery import constants as catalog

    if v == "all":
        return None
    _check(v, isinstance(v, list) and all(isinstance(c, str) for c in v) and v, where,
           '"all" or a list of catalog names')
    try:
        return [catalog.get(c).name for c in v]
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None


# Upper bounds of the numeric settings, each with what it protects (the README's campaign table
# lists them).  The defaults sit far below: a bound stops a typo (an extra few zeros) from filling
# memory or running for days, before any work.
MAX_SEED = 2**63 - 1
MAX_DEGREE_A, MAX_DEGREE_B = 10, 20
_WHY_DEGREE = "the float kernels and the canonical-class test are made for low degrees"
_WHY_COEFFICIENT = "k·a and k²·b of the canonical-class test must stay exact in 64-bit integers"
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


def _workers(v, where):
    return _int_in(1, max_workers(), f"twice this machine's {os.cpu_count() or 1} cores")(v, where)


TRIAGE_MODES = ("off", "rank", "drop")
OBJECTIVES = ("delta", "factorial_reduction", "convergence", "target", "novelty", "size")
# Keys of [search] that only an evolve campaign reads, with their defaults there.
_EVOLVE_KEYS = {"objectives": ["delta", "factorial_reduction"], "minutes": 10.0, "generations": None,
                "population": 100, "offspring": 4}


def _fraction(v, where):
    return _check(v, isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1, where,
                  "a number in (0, 1]")


def _objectives(v, where):
    _check(v, isinstance(v, list) and v and all(isinstance(o, str) for o in v), where,
           "a list of objective names")
    for o in v:
        if o not in OBJECTIVES:
            close = difflib.get_close_matches(o, OBJECTIVES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown objective {o!r}{hint}; known: {', '.join(OBJECTIVES)}")
    if len(set(v)) != len(v):
        raise ConfigError(f"{where}: objective listed twice in {v!r}")
    return list(v)


def _check_pcf_search(search: dict, path: Path) -> None:
    """Evolve-only keys refused elsewhere, defaults filled in for evolve."""
    if search["strategy"] == "evolve":
        for key, default in _EVOLVE_KEYS.items():
            if search[key] is None:
                search[key] = default
        if search["minutes"] is None and search["generations"] is None:
            search["minutes"] = _EVOLVE_KEYS["minutes"]
        if search["population"] < 4:
            raise ConfigError(f"{path}: [search] population must be at least 4, got {search['population']}")
        return
    given = [k for k in _EVOLVE_KEYS if search[k] is not None]
    if given:
        raise ConfigError(f"{path}: [search] {given[0]} belongs to strategy = 'evolve', not {search['strategy']!r}")
    if search["strategy"] == "mitm" and search["triage"] != "off":
        raise ConfigError(f"{path}: [search] triage needs the exact metrics, which strategy = 'mitm' does not "
                          "compute; use 'enumerate' or 'evolve'")


# The defaults of discovery.identify.RepresentativeIdentifier (not imported here: it loads flint).
_ESCALATION_DEFAULTS = {"catalog": None, "budget_seconds": 0.25, "escalation_seconds": 0.5}


def _catalog_path(v, where, config_path: Path) -> Path:
    _check(v, isinstance(v, str) and v.strip() != "", where, "the path of a TOML catalog file")
    return (config_path.parent / v).resolve()


def _load_user_catalog(doc: dict, path: Path) -> tuple[str, ...]:
    """Load ``[identify] catalog`` before the constants are checked, so they may name its entries.
    Returns the keys of its constants (name and value digest: what the campaign's digest holds)."""
    from discovery import constants as catalog

    table = doc.get("identify")
    if not isinstance(table, dict) or "catalog" not in table:
        return ()
    where = f"{path}: [identify] catalog"
    try:
        loaded = catalog.load_catalog(_catalog_path(table["catalog"], where, path))
    except InputError as err:
        raise ConfigError(f"{where}: {err}") from None
    return tuple(sorted(c.key for c in loaded))


def load_campaign_catalog(config: "CampaignConfig") -> None:
    """Load a campaign's user catalog in this process (a worker may not have yet), refusing a file
    whose constants changed since the campaign's configuration was read."""
    from discovery import constants as catalog

    path = config.identify.get("catalog")
    if not path:
        return
    keys = tuple(sorted(c.key for c in catalog.load_catalog(path)))
    if keys != config.catalog_keys:
        raise ConfigError(f"{path}: the catalog changed while campaign {config.name!r} ran (constants "
                          f"{', '.join(keys)}, expected {', '.join(config.catalog_keys)}); rerun to start over")


def _choice(*options):
    def check(v, where):
        return _check(v, v in options, where, "one of " + ", ".join(repr(o) for o in options))

    return check


def _scheduler(v, where):
    from discovery.campaign.executors import parse_scheduler

    _check(v, isinstance(v, str), where, 'a Dask address ("tcp://host:8786") or "local:N"')
    try:
        return parse_scheduler(v)[0]
    except InputError as err:
        raise ConfigError(f"{where}: {err}") from None


def _plain(v):
    """Tuples to lists, recursively (what JSON gives back)."""
    return [_plain(x) for x in v] if isinstance(v, (list, tuple)) else v


@dataclass(frozen=True)
class CampaignConfig:
    """A validated campaign file.

    Attributes
    ----------
    path : Path
    name, kind : str
    seed : int
    space, search, identify, execution : dict
        The tables with defaults filled in.
    description : str
        The campaign's ``description`` (stored with it, shown by ``campaign status`` and the report).
    catalog_keys : tuple of str
        Keys (name and value digest) of the constants of ``[identify] catalog``.
    """

    path: Path
    name: str
    kind: str
    seed: int
    space: dict
    search: dict
    identify: dict
    execution: dict
    description: str = ""
    catalog_keys: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        """The configuration as plain data (what identifies the campaign when resuming).

        A user catalog enters by its constants' keys (names and values), not its path: an
        edited catalog is a different campaign, the same catalog moved is the same one.
        """
        identify = dict(self.identify)
        if identify.get("catalog"):
            identify["catalog"] = list(self.catalog_keys)
        out = {
            "campaign": {"name": self.name, "kind": self.kind, "seed": self.seed},
            "space": {k: _plain(v) for k, v in self.space.items()},
            "search": self._search_digest(),
            "identify": identify,
        }
        if self.kind == "pcf":
            # Work units are cut from the coefficient grid by index (discovery.pcf.space.Space); a
            # campaign started under the older numbering of canonical rows resumes only there.
            out["units"] = UNIT_SCHEME
        return out

    def _search_digest(self) -> dict:
        # Keys at their "not used" value stay out, so adding options never changes the digest of
        # a campaign started before they existed.
        out = {k: v for k, v in self.search.items() if not (v is None and k in _EVOLVE_KEYS)}
        if out.get("triage") == "off":
            for k in ("triage", "triage_recall", "triage_warmup"):
                out.pop(k, None)
        return out

    def digest(self) -> str:
        """Hash of everything that decides the results (not the execution settings nor the
        description)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def stored(self) -> dict:
        """What the database keeps of the configuration: :meth:`as_dict`, the description and
        the user catalog's definitions (so other campaigns read its identifications back, see
        :func:`discovery.constants.register_stored`)."""
        from discovery import constants as catalog

        out = self.as_dict()
        out["campaign"] = {**out["campaign"], "description": self.description}
        if self.catalog_keys:
            out["catalog_definitions"] = [catalog.stored_definition(catalog.get(k)) for k in self.catalog_keys]
        return out


def load_config(path: str | Path) -> CampaignConfig:
    """Read and validate a campaign file.

    The file is read by :func:`discovery.constants.read_toml` (a regular UTF-8 file of at most
    1 MiB, nested at most 8 deep).  Every numeric setting is checked against its upper bound (the
    ``MAX_*`` constants of this module, listed in the README), and a PCF campaign's work per unit
    and Möbius table against theirs.

    Raises
    ------
    ConfigError
        For a missing or unreadable file, bad TOML, an unknown or missing key, a wrong type, a
        value past its bound or an impossible range; the message names the file and the key.
    """
    from discovery.constants import read_toml

    path = Path(path)
    try:
        doc = read_toml(path, "campaign file")
    except InputError as err:
        raise ConfigError(str(err)) from None
    for table in doc:
        if table not in _TABLES:
            close = difflib.get_close_matches(table, _TABLES, n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            raise ConfigError(f"{path}: unknown table [{table!r}]{hint}" if not table.isprintable()
                              else f"{path}: unknown table [{table}]{hint}")
    campaign = _read_table(doc, "campaign", {
        "name": (_REQUIRED, check_campaign_name),
        "kind": (_REQUIRED, _choice("pcf", "program")),
        "seed": (0, _int_in(0, MAX_SEED, "a 64-bit seed")),
        "description": ("", _description),
    }, path)
    if campaign["kind"] == "program":
        return _load_program_config(doc, path, campaign)
    if "target" in doc:
        raise ConfigError(f"{path}: [target] belongs to kind = 'program' campaigns; a PCF campaign has [space]")
    from discovery.pcf.space import MAX_COEFFICIENT

    space = _read_table(doc, "space", {
        "degree_a": (None, _int_in(0, MAX_DEGREE_A, _WHY_DEGREE)),
        "degree_b": (None, _int_in(0, MAX_DEGREE_B, _WHY_DEGREE)),
        "bound": (None, _int_in(1, MAX_COEFFICIENT, _WHY_COEFFICIENT)),
        "a": (None, _ranges),
        "b": (None, _ranges),
    }, path)
    box = [k for k in ("degree_a", "degree_b", "bound") if space[k] is not None]
    ranges = [k for k in ("a", "b") if space[k] is not None]
    if box and ranges:
        raise ConfigError(
            f"{path}: [space] gives both a box ({', '.join(box)}) and ranges ({', '.join(ranges)}); use one"
        )
    if ranges and len(ranges) != 2:
        raise ConfigError(f"{path}: [space] needs both a and b coefficient ranges")
    if not ranges and len(box) != 3:
        missing = [k for k in ("degree_a", "degree_b", "bound") if space[k] is None]
        raise ConfigError(f"{path}: [space] {', '.join(missing)} missing (or give a and b ranges)")
    if ranges and len(space["a"]) > MAX_DEGREE_A + 1:
        raise ConfigError(f"{path}: [space] a has {len(space['a'])} ranges; at most {MAX_DEGREE_A + 1} "
                          f"(degree {MAX_DEGREE_A}, {_WHY_DEGREE})")
    search = _read_table(doc, "search", {
        "strategy": ("enumerate", _choice("enumerate", "mitm", "evolve")),
        "depth": (1000, _int_in(1, MAX_DEPTH, "float steps per PCF")),
        "metrics_depth": (2000, _int_in(1, MAX_DEPTH, "float steps per PCF")),
        "sample": (1000, _int_in(1, MAX_SAMPLE, "exact convergents cost about n² log n")),
        "unit_size": (20_000, _int_in(1, MAX_UNIT_SIZE, "a unit is computed, sent and lost on a crash whole")),
        "max_candidates": (None, _int_in(1, MAX_CANDIDATES, "a count of grid points")),
        "triage": ("off", _choice(*TRIAGE_MODES)),
        "triage_recall": (0.99, _fraction),
        "triage_warmup": (0.1, _fraction),
        "objectives": (None, _objectives),
        "minutes": (None, _number_in(0, MAX_MINUTES, "about two years")),
        "generations": (None, _int_in(1, MAX_GENERATIONS, "a budget of generations")),
        "population": (None, _int_in(1, MAX_POPULATION, "a generation is held in memory")),
        "offspring": (None, _int_in(1, MAX_OFFSPRING, "children screened per place")),
    }, path)
    _check_pcf_search(search, path)
    if search["sample"] >= search["metrics_depth"]:
        raise ConfigError(
            f"{path}: [search] sample ({search['sample']}) must be below metrics_depth ({search['metrics_depth']})"
        )
    if search["metrics_depth"] <= 1000 and search["sample"] == 1000:
        raise ConfigError(f"{path}: [search] metrics_depth must exceed the sample depth 1000")
    _check_unit_work(space, search, path)
    catalog_keys = _load_user_catalog(doc, path)
    identify = _read_table(doc, "identify", {
        "catalog": (None, lambda v, w: str(_catalog_path(v, w, path))),
        "constants": (None, _constants),
        "digits": (30, _int_in(1, MAX_DIGITS, "LLL on numbers of that many digits")),
        "confirm_digits": (None, _int_in(1, MAX_CONFIRM_DIGITS, "exact convergents per identified PCF")),
        "mobius_bound": (5, _int_in(1, MAX_MOBIUS_BOUND, "the Möbius table has about 0.46 (2B + 1)⁴ vectors "
                                    "per constant, in every worker")),
        "representatives": (3, _int_in(0, MAX_REPRESENTATIVES, "each is identified with escalation")),
        "budget_seconds": (_ESCALATION_DEFAULTS["budget_seconds"],
                           _number_in(0, MAX_BUDGET_SECONDS, "an hour per representative")),
        "escalation_seconds": (_ESCALATION_DEFAULTS["escalation_seconds"],
                               _number_in(0, MAX_ESCALATION_SECONDS, "a day per campaign",
                                          "a non-negative number of seconds")),
    }, path)
    # Keys left at their defaults stay out of the configuration, so a campaign started before they
    # existed has the same digest and resumes.
    for key, default in _ESCALATION_DEFAULTS.items():
        if identify[key] == default:
            del identify[key]
    if identify["digits"] < 15:
        raise ConfigError(f"{path}: [identify] digits must be at least 15, got {identify['digits']}")
    if identify["confirm_digits"] is None:
        identify["confirm_digits"] = 2 * identify["digits"]
    elif identify["confirm_digits"] < 2 * identify["digits"]:
        raise ConfigError(
            f"{path}: [identify] confirm_digits ({identify['confirm_digits']}) must be at least twice "
            f"digits ({identify['digits']})"
        )
    _check_mobius_table(identify, path)
    execution = _read_table(doc, "execution", {
        "workers": (min(os.cpu_count() or 1, max_workers()), _workers),
        "scheduler": (None, _scheduler),
    }, path)
    config = CampaignConfig(path, campaign["name"], campaign["kind"], campaign["seed"], space, search, identify,
                            execution, campaign["description"], catalog_keys)
    _check_triage_warmup(config, path)
    return config


def _description(v, where):
    _check(v, isinstance(v, str), where, "a string")
    if len(v) > MAX_DESCRIPTION:
        raise ConfigError(f"{where} has {len(v):,} characters; at most {MAX_DESCRIPTION:,} (a line or a paragraph "
                          "shown by campaign status and the report)")
    return v


def _check_unit_work(space: dict, search: dict, path: Path) -> None:
    """Refuse units whose work (float steps) would take hours, whatever each setting alone says."""
    if search["strategy"] == "evolve":
        size = search["population"] * search["offspring"]
        what = "population × offspring"
    else:
        size, what = search["unit_size"], "unit_size"
    work = size * (search["depth"] + search["metrics_depth"] + search["sample"])
    if work > MAX_UNIT_WORK:
        raise ConfigError(
            f"{path}: [search] {what} × (depth + metrics_depth + sample) is {work:,} float steps per unit; at most "
            f"{MAX_UNIT_WORK:,} (about half an hour of one core, the most a stop or crash may lose): lower {what} "
            "or the depths"
        )


def _check_mobius_table(identify: dict, path: Path) -> None:
    """Refuse a Möbius table (built in every worker) of more than MAX_MOBIUS_ENTRIES entries."""
    from discovery import constants as catalog

    count = len(identify["constants"]) if identify["constants"] else len(catalog.core())
    entries = round(0.46 * (2 * identify["mobius_bound"] + 1) ** 4 * count)
    if entries > MAX_MOBIUS_ENTRIES:
        raise ConfigError(
            f"{path}: [identify] mobius_bound = {identify['mobius_bound']} with {count} constants makes a Möbius table "
            f"of about {entries:,} entries; at most {MAX_MOBIUS_ENTRIES:,} (~200 MB in every worker): lower "
            "mobius_bound or list fewer constants"
        )


def _check_triage_warmup(config: CampaignConfig, path: Path) -> None:
    """Refuse a triage warm-up of more units than its plan can hold (the runner lists them)."""
    if config.search["triage"] == "off" or config.search["strategy"] != "enumerate":
        return
    s = config.space
    grids = [*s["a"], *s["b"]] if s["a"] is not None else \
        [(-s["bound"], s["bound"])] * (s["degree_a"] + s["degree_b"] + 2)
    points = math.prod((r[1] - r[0]) // (r[2] if len(r) == 3 else 1) + 1 for r in grids)
    if config.search["max_candidates"] is not None:
        points = min(points, config.search["max_candidates"])
    warmup = -(-points // config.search["unit_size"]) * config.search["triage_warmup"]
    if warmup > MAX_WARMUP_UNITS:
        raise ConfigError(
            f"{path}: [search] triage_warmup = {config.search['triage_warmup']:g} of this space is about "
            f"{warmup:.3g} units; at most {MAX_WARMUP_UNITS:,} (the warm-up units are planned in memory): give "
            "max_candidates, a smaller triage_warmup or a larger unit_size"
        )


def _interval(v, where):
    ok = (isinstance(v, list) and len(v) == 2
          and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v))
    _check(v, ok, where, "[lo, hi] (finite numbers)")
    if not v[0] < v[1]:
        raise ConfigError(f"{where}: interval {v} is empty")
    return [float(x) for x in v]


def _ops(v, where):
    from discovery.programs.graph import ARITY

    _check(v, isinstance(v, list) and v and all(isinstance(o, str) for o in v), where, "a list of operation names")
    for op in v:
        if op not in ARITY:
            raise ConfigError(f"{where}: unknown operation {op!r} (known: {', '.join(ARITY)})")
    return list(v)


def _load_program_config(doc: dict, path: Path, campaign: dict) -> CampaignConfig:
    if "space" in doc:
        raise ConfigError(f"{path}: [space] belongs to kind = 'pcf' campaigns; a program campaign has [target]")
    target = _read_table(doc, "target", {
        "name": (_REQUIRED, _string),
        "interval": (_REQUIRED, _interval),
        "error": ("auto", _choice("auto", "relative", "absolute", "ulp32")),
        "max_ops": (10, _int_in(1, MAX_OPS, "programs of that many operations")),
        "ops": (["add", "sub", "mul", "div"], _ops),
        "finite_only": (False, lambda v, w: _check(v, isinstance(v, bool), w, "true or false")),
    }, path)
    try:
        from discovery.programs.targets import make_target

        make_target(target["name"], tuple(target["interval"]), error=target["error"])
    except ValueError as err:
        raise ConfigError(f"{path}: [target] {err}") from None
    search = _read_table(doc, "search", {
        "strategy": ("evolve", _choice("evolve")),
        "minutes": (5.0, _number_in(0, MAX_MINUTES, "about two years")),
        "generations": (None, _int_in(1, MAX_GENERATIONS, "a budget of generations")),
        "population": (100, _int_in(1, MAX_POPULATION, "a generation is held in memory")),
        "classical_seeds": (True, lambda v, w: _check(v, isinstance(v, bool), w, "true or false")),
    }, path)
    identify = _read_table(doc, "identify", {}, path)
    execution = _read_table(doc, "execution", {
        "workers": (min(os.cpu_count() or 1, max_workers()), _workers),
        "scheduler": (None, _scheduler),
        "islands": (1, _int_in(1, MAX_ISLANDS, "one population per island, each on a worker")),
        "migrate_every": (10, _int_in(1, MAX_MIGRATE_EVERY, "generations between migrations")),
    }, path)
    return CampaignConfig(path, campaign["name"], "program", campaign["seed"], target, search, identify, execution,
                          campaign["description"])
