"""Campaign files: the TOML schema, its validation and the validated configuration.

Every refusal names the file and the key (:class:`ConfigError`, an
:class:`~discovery.errors.InputError`), before any work starts.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

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


def _positive_int(v, where):
    return _check(v, _int(v) and v >= 1, where, "a positive integer")


def _non_negative_int(v, where):
    return _check(v, _int(v) and v >= 0, where, "a non-negative integer")


def _string(v, where):
    return _check(v, isinstance(v, str) and v.strip() != "", where, "a non-empty string")


def _ranges(v, where):
    ok = (
        isinstance(v, list) and v
        and all(isinstance(r, list) and len(r) in (2, 3) and all(_int(x) for x in r) for r in v)
    )
    _check(v, ok, where,
           "a list of [lo, hi] or [lo, hi, step] integer lists, one per coefficient, highest degree first")
    for r in v:
        if r[0] > r[1] or (len(r) == 3 and r[2] < 1):
            raise ConfigError(f"{where}: range {r} is empty")
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


def _load_user_catalog(doc: dict, path: Path) -> None:
    """Load ``[identify] catalog`` before the constants are checked, so they may name its entries."""
    from discovery import constants as catalog

    table = doc.get("identify")
    if not isinstance(table, dict) or "catalog" not in table:
        return
    where = f"{path}: [identify] catalog"
    try:
        catalog.load_catalog(_catalog_path(table["catalog"], where, path))
    except InputError as err:
        raise ConfigError(f"{where}: {err}") from None


def _non_negative_number(v, where):
    return _check(v, isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < float("inf"), where,
                  "a non-negative number of seconds")


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
    """

    path: Path
    name: str
    kind: str
    seed: int
    space: dict
    search: dict
    identify: dict
    execution: dict

    def as_dict(self) -> dict:
        """The configuration as plain data (what identifies the campaign when resuming)."""
        out = {
            "campaign": {"name": self.name, "kind": self.kind, "seed": self.seed},
            "space": {k: _plain(v) for k, v in self.space.items()},
            "search": self._search_digest(),
            "identify": self.identify,
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
        """Hash of everything that decides the results (not the execution settings)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


def load_config(path: str | Path) -> CampaignConfig:
    """Read and validate a campaign file.

    Raises
    ------
    ConfigError
        For a missing file, bad TOML, an unknown or missing key, a wrong type or an impossible
        range; the message names the file and the key.
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such campaign file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    for table in doc:
        if table not in _TABLES:
            close = difflib.get_close_matches(table, _TABLES, n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            raise ConfigError(f"{path}: unknown table [{table}]{hint}")
    campaign = _read_table(doc, "campaign", {
        "name": (_REQUIRED, _string),
        "kind": (_REQUIRED, _choice("pcf", "program")),
        "seed": (0, _non_negative_int),
        "description": ("", lambda v, w: _check(v, isinstance(v, str), w, "a string")),
    }, path)
    if campaign["kind"] == "program":
        return _load_program_config(doc, path, campaign)
    if "target" in doc:
        raise ConfigError(f"{path}: [target] belongs to kind = 'program' campaigns; a PCF campaign has [space]")
    space = _read_table(doc, "space", {
        "degree_a": (None, _non_negative_int),
        "degree_b": (None, _non_negative_int),
        "bound": (None, _positive_int),
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
    search = _read_table(doc, "search", {
        "strategy": ("enumerate", _choice("enumerate", "mitm", "evolve")),
        "depth": (1000, _positive_int),
        "metrics_depth": (2000, _positive_int),
        "sample": (1000, _positive_int),
        "unit_size": (20_000, _positive_int),
        "max_candidates": (None, _positive_int),
        "triage": ("off", _choice(*TRIAGE_MODES)),
        "triage_recall": (0.99, _fraction),
        "triage_warmup": (0.1, _fraction),
        "objectives": (None, _objectives),
        "minutes": (None, _positive_number),
        "generations": (None, _positive_int),
        "population": (None, _positive_int),
        "offspring": (None, _positive_int),
    }, path)
    _check_pcf_search(search, path)
    if search["sample"] >= search["metrics_depth"]:
        raise ConfigError(
            f"{path}: [search] sample ({search['sample']}) must be below metrics_depth ({search['metrics_depth']})"
        )
    if search["metrics_depth"] <= 1000 and search["sample"] == 1000:
        raise ConfigError(f"{path}: [search] metrics_depth must exceed the sample depth 1000")
    _load_user_catalog(doc, path)
    identify = _read_table(doc, "identify", {
        "catalog": (None, lambda v, w: str(_catalog_path(v, w, path))),
        "constants": (None, _constants),
        "digits": (30, _positive_int),
        "confirm_digits": (None, _positive_int),
        "mobius_bound": (5, _positive_int),
        "representatives": (3, _non_negative_int),
        "budget_seconds": (_ESCALATION_DEFAULTS["budget_seconds"], _positive_number),
        "escalation_seconds": (_ESCALATION_DEFAULTS["escalation_seconds"], _non_negative_number),
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
    execution = _read_table(doc, "execution", {
        "workers": (os.cpu_count() or 1, _positive_int),
        "scheduler": (None, _scheduler),
    }, path)
    return CampaignConfig(path, campaign["name"], campaign["kind"], campaign["seed"], space, search, identify,
                          execution)


def _interval(v, where):
    ok = isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    _check(v, ok, where, "[lo, hi]")
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


def _positive_number(v, where):
    return _check(v, isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0, where, "a positive number")


def _load_program_config(doc: dict, path: Path, campaign: dict) -> CampaignConfig:
    if "space" in doc:
        raise ConfigError(f"{path}: [space] belongs to kind = 'pcf' campaigns; a program campaign has [target]")
    target = _read_table(doc, "target", {
        "name": (_REQUIRED, _string),
        "interval": (_REQUIRED, _interval),
        "error": ("auto", _choice("auto", "relative", "absolute", "ulp32")),
        "max_ops": (10, _positive_int),
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
        "minutes": (5.0, _positive_number),
        "generations": (None, _positive_int),
        "population": (100, _positive_int),
        "classical_seeds": (True, lambda v, w: _check(v, isinstance(v, bool), w, "true or false")),
    }, path)
    identify = _read_table(doc, "identify", {}, path)
    execution = _read_table(doc, "execution", {
        "workers": (os.cpu_count() or 1, _positive_int),
        "scheduler": (None, _scheduler),
        "islands": (1, _positive_int),
        "migrate_every": (10, _positive_int),
    }, path)
    return CampaignConfig(path, campaign["name"], "program", campaign["seed"], target, search, identify, execution)
