"""Campaign files: the TOML schema, its validation and the validated configuration, one type per
campaign kind (:class:`PcfConfig` with a ``[space]``, :class:`ProgramConfig` with a ``[target]``).

Every refusal names the file and the key (:class:`ConfigError`, an
:class:`~discovery.errors.InputError`), before any work starts.  :func:`load_config` is the one
entry point; :func:`run_folder` the one place a campaign's run folder is built.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from discovery import constants as catalog
from discovery.campaign.executors import max_workers, parse_scheduler
from discovery.campaign.schema import (
    MAX_BUDGET_SECONDS, MAX_CANDIDATES, MAX_CONFIRM_DIGITS, MAX_DEGREE_A, MAX_DEGREE_B, MAX_DEPTH, MAX_DIGITS,
    MAX_ESCALATION_SECONDS, MAX_GENERATIONS, MAX_ISLANDS, MAX_MIGRATE_EVERY, MAX_MINUTES, MAX_MOBIUS_BOUND,
    MAX_MOBIUS_ENTRIES, MAX_OFFSPRING, MAX_OPS, MAX_POPULATION, MAX_REPRESENTATIVES, MAX_SAMPLE, MAX_SEED,
    MAX_UNIT_SIZE, MAX_UNIT_WORK, MAX_WARMUP_UNITS, MAX_DESCRIPTION, REQUIRED, WHY_COEFFICIENT, WHY_DEGREE,
    ConfigError, boolean, check, check_campaign_name, choice, fraction, int_in, is_int, number_in, read_table,
    string,
)
from discovery.errors import InputError
from discovery.pcf.space import MAX_COEFFICIENT
from discovery.programs.graph import ARITY
from discovery.programs.targets import make_target

__all__ = ["CampaignConfig", "ConfigError", "PcfConfig", "ProgramConfig", "check_campaign_name", "load_config",
           "load_campaign_catalog", "run_folder"]

UNIT_SCHEME = "raw-grid-1"
_TABLES = ("campaign", "space", "target", "search", "identify", "execution")


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
    ok = (
        isinstance(v, list) and v
        and all(isinstance(r, list) and len(r) in (2, 3) and all(is_int(x) for x in r) for r in v)
    )
    check(v, ok, where,
           "a list of [lo, hi] or [lo, hi, step] integer lists, one per coefficient, highest degree first")
    if len(v) > MAX_DEGREE_B + 1:
        raise ConfigError(f"{where} has {len(v)} ranges; at most {MAX_DEGREE_B + 1} "
                          f"(degree {MAX_DEGREE_B}, {WHY_DEGREE})")
    for r in v:
        if r[0] > r[1] or (len(r) == 3 and r[2] < 1):
            raise ConfigError(f"{where}: range {r} is empty")
        if max(abs(r[0]), abs(r[1])) > MAX_COEFFICIENT or (len(r) == 3 and r[2] > MAX_COEFFICIENT):
            raise ConfigError(f"{where}: range {r} goes past {MAX_COEFFICIENT:,} ({WHY_COEFFICIENT})")
    return [tuple(r) for r in v]


def _constants(v, where):
    if v == "all":
        return None
    check(v, isinstance(v, list) and all(isinstance(c, str) for c in v) and v, where,
           '"all" or a list of catalog names')
    try:
        return [catalog.get(c).name for c in v]
    except ValueError as err:
        raise ConfigError(f"{where}: {err}") from None


def _workers(v, where):
    return int_in(1, max_workers(), f"twice this machine's {os.cpu_count() or 1} cores")(v, where)


# [search] strategy of a PCF campaign (each is a strategy of discovery.campaign.runner.STRATEGIES).
PCF_STRATEGIES = ("enumerate", "mitm", "evolve", "cmf")
TRIAGE_MODES = ("off", "rank", "drop")
OBJECTIVES = ("delta", "factorial_reduction", "convergence", "target", "novelty", "size")
# [search] mode of strategy = "cmf": enumerate the box's trajectories or evolve them
# (discovery.campaign.cmf_evolve); its objectives, defaults and the one it refuses.
CMF_MODES = ("enumerate", "evolve")
_CMF_EVOLVE_OBJECTIVES = ["delta", "novelty"]
_CMF_NO_TARGET = ("every trajectory of a CMF converges to a Möbius image of its one constant; "
                  "use delta, factorial_reduction, convergence, novelty or size")
# Keys of [search] that only an evolve campaign reads, with their defaults there.
_EVOLVE_KEYS = {"objectives": ["delta", "factorial_reduction"], "minutes": 10.0, "generations": None,
                "population": 100, "offspring": 4}


def _objectives(v, where):
    check(v, isinstance(v, list) and v and all(isinstance(o, str) for o in v), where,
           "a list of objective names")
    for o in v:
        if o not in OBJECTIVES:
            close = difflib.get_close_matches(o, OBJECTIVES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown objective {o!r}{hint}; known: {', '.join(OBJECTIVES)}")
    if len(set(v)) != len(v):
        raise ConfigError(f"{where}: objective listed twice in {v!r}")
    return list(v)


def _check_cmf_search(search: dict, path: Path) -> None:
    """``mode`` of strategy = "cmf" (defaulting to enumerate); evolve keys only with mode = "evolve"."""
    if search["mode"] is None:
        search["mode"] = "enumerate"
    for key, off in (("triage", "off"), ("max_candidates", None)):
        if search[key] != off:
            raise ConfigError(f"{path}: [search] {key} cuts a coefficient grid; strategy = 'cmf' walks a CMF")
    if search["mode"] == "enumerate":
        given = [k for k in _EVOLVE_KEYS if search[k] is not None]
        if given:
            raise ConfigError(f"{path}: [search] {given[0]} belongs to strategy = 'evolve' or to strategy = 'cmf' "
                              "with mode = 'evolve', not to mode = 'enumerate'")
        return
    if search["offspring"] is not None:
        raise ConfigError(f"{path}: [search] offspring sets surrogate screening, which strategy = 'cmf' does "
                          "not use (population trajectories are converted per generation)")
    if search["objectives"] is not None and "target" in search["objectives"]:
        raise ConfigError(f"{path}: [search] objectives: 'target' does not apply to strategy = 'cmf': "
                          f"{_CMF_NO_TARGET}")
    for key, default in _EVOLVE_KEYS.items():
        if search[key] is None and key != "offspring":
            search[key] = list(_CMF_EVOLVE_OBJECTIVES) if key == "objectives" else default
    if search["minutes"] is None and search["generations"] is None:
        search["minutes"] = _EVOLVE_KEYS["minutes"]
    if search["population"] < 4:
        raise ConfigError(f"{path}: [search] population must be at least 4, got {search['population']}")


def _check_pcf_search(search: dict, path: Path) -> None:
    """Evolve-only keys refused elsewhere, defaults filled in for evolve."""
    if search["mode"] is not None and search["strategy"] != "cmf":
        raise ConfigError(f"{path}: [search] mode belongs to strategy = 'cmf', not {search['strategy']!r}")
    if search["strategy"] == "cmf":
        _check_cmf_search(search, path)
        return
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
    check(v, isinstance(v, str) and v.strip() != "", where, "the path of a TOML catalog file")
    return (config_path.parent / v).resolve()


def _load_user_catalog(doc: dict, path: Path) -> tuple[str, ...]:
    """Load ``[identify] catalog`` before the constants are checked, so they may name its entries.
    Returns the keys of its constants (name and value digest: what the campaign's digest holds)."""
    table = doc.get("identify")
    if not isinstance(table, dict) or "catalog" not in table:
        return ()
    where = f"{path}: [identify] catalog"
    try:
        loaded = catalog.load_catalog(_catalog_path(table["catalog"], where, path))
    except InputError as err:
        raise ConfigError(f"{where}: {err}") from None
    return tuple(sorted(c.key for c in loaded))


def load_campaign_catalog(config: CampaignConfig) -> None:
    """Load a campaign's user catalog in this process (a worker may not have yet), refusing a file
    whose constants changed since the campaign's configuration was read."""
    path = config.identify.get("catalog")
    if not path:
        return
    keys = tuple(sorted(c.key for c in catalog.load_catalog(path)))
    if keys != config.catalog_keys:
        raise ConfigError(f"{path}: the catalog changed while campaign {config.name!r} ran (constants "
                          f"{', '.join(keys)}, expected {', '.join(config.catalog_keys)}); rerun to start over")


def _scheduler(v, where):
    check(v, isinstance(v, str), where, 'a Dask address ("tcp://host:8786") or "local:N"')
    try:
        return parse_scheduler(v)[0]
    except InputError as err:
        raise ConfigError(f"{where}: {err}") from None


def _plain(v):
    """Tuples to lists, recursively (what JSON gives back)."""
    return [_plain(x) for x in v] if isinstance(v, (list, tuple)) else v



@dataclass(frozen=True, kw_only=True)
class CampaignConfig:
    """A validated campaign file: what every kind has (see :class:`PcfConfig` and :class:`ProgramConfig`).

    Attributes
    ----------
    path : Path
    name, kind : str
    seed : int
    search, identify, execution : dict
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
    search: dict
    identify: dict
    execution: dict
    description: str = ""
    catalog_keys: tuple[str, ...] = field(default=())

    @property
    def strategy(self) -> str:
        """``[search] strategy``."""
        return self.search["strategy"]

    def _searched(self) -> dict:
        """The table of what is searched: ``[space]`` or ``[target]``."""
        raise NotImplementedError

    def as_dict(self) -> dict:
        """The configuration as plain data (what identifies the campaign when resuming).

        A user catalog enters by its constants' keys (names and values), not its path: an
        edited catalog is a different campaign, the same catalog moved is the same one.  The
        searched table is stored as ``space`` for either kind.
        """
        identify = dict(self.identify)
        if identify.get("catalog"):
            identify["catalog"] = list(self.catalog_keys)
        out = {
            "campaign": {"name": self.name, "kind": self.kind, "seed": self.seed},
            "space": {k: _plain(v) for k, v in self._searched().items()},
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
        if out.get("mode") in (None, "enumerate"):  # a cmf campaign from before the modes, or no cmf at all
            out.pop("mode", None)
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
        out = self.as_dict()
        out["campaign"] = {**out["campaign"], "description": self.description}
        if self.catalog_keys:
            out["catalog_definitions"] = [catalog.stored_definition(catalog.get(k)) for k in self.catalog_keys]
        return out


@dataclass(frozen=True, kw_only=True)
class PcfConfig(CampaignConfig):
    """A PCF campaign (``kind = "pcf"``); ``space`` is its ``[space]`` table."""

    space: dict

    def _searched(self) -> dict:
        return self.space


@dataclass(frozen=True, kw_only=True)
class ProgramConfig(CampaignConfig):
    """A program campaign (``kind = "program"``); ``target`` is its ``[target]`` table."""

    target: dict

    def _searched(self) -> dict:
        return self.target


def load_config(path: str | Path) -> PcfConfig | ProgramConfig:
    """Read and validate a campaign file.

    The file is read by :func:`discovery.constants.read_toml` (a regular UTF-8 file of at most
    1 MiB, nested at most 8 deep).  Every numeric setting is checked against its upper bound (the
    ``MAX_*`` constants of :mod:`discovery.campaign.schema`, listed in the README), and a PCF
    campaign's work per unit and Möbius table against theirs.

    Raises
    ------
    ConfigError
        For a missing or unreadable file, bad TOML, an unknown or missing key, a wrong type, a
        value past its bound or an impossible range; the message names the file and the key.
    """
    path = Path(path)
    doc = _read_document(path)
    campaign = read_table(doc, "campaign", {
        "name": (REQUIRED, check_campaign_name),
        "kind": (REQUIRED, choice("pcf", "program")),
        "seed": (0, int_in(0, MAX_SEED, "a 64-bit seed")),
        "description": ("", _description),
    }, path)
    if campaign["kind"] == "program":
        return _load_program_config(doc, path, campaign)
    if "target" in doc:
        raise ConfigError(f"{path}: [target] belongs to kind = 'program' campaigns; a PCF campaign has [space]")
    space = _read_space(doc, path)
    search = _read_pcf_search(doc, path)
    _check_unit_work(search, path)
    catalog_keys = _load_user_catalog(doc, path)
    identify = _read_identify(doc, path)
    execution = read_table(doc, "execution", {
        "workers": (min(os.cpu_count() or 1, max_workers()), _workers),
        "scheduler": (None, _scheduler),
    }, path)
    config = PcfConfig(path=path, name=campaign["name"], kind="pcf", seed=campaign["seed"], space=space,
                       search=search, identify=identify, execution=execution, description=campaign["description"],
                       catalog_keys=catalog_keys)
    _check_triage_warmup(config, path)
    return config


def _read_document(path: Path) -> dict:
    """The TOML document, its tables checked against the known ones."""
    try:
        doc = catalog.read_toml(path, "campaign file")
    except InputError as err:
        raise ConfigError(str(err)) from None
    for table in doc:
        if table not in _TABLES:
            close = difflib.get_close_matches(table, _TABLES, n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            raise ConfigError(f"{path}: unknown table [{table!r}]{hint}" if not table.isprintable()
                              else f"{path}: unknown table [{table}]{hint}")
    return doc


# [space] of strategy = "cmf": trajectories of a shipped CMF (discovery.campaign.cmf).
_CMF_KEYS = {"cmf": None, "max_step": 2, "max_start": 2}
MAX_CMF_STEP, MAX_CMF_START, MAX_CMF_TRAJECTORIES = 10, 100, 10**6


def _cmf_name(v, where):
    from discovery.cmf import known_cmf, known_names  # sympy and flint: only campaigns over a CMF load them

    check(v, isinstance(v, str), where, "the name of a shipped CMF")
    if v not in known_names():
        raise ConfigError(f"{where}: no known CMF {v!r}; known: {', '.join(known_names())}")
    if known_cmf(v).rank != 2:
        raise ConfigError(f"{where}: CMF {v!r} has rank {known_cmf(v).rank}; a PCF comes from a rank-2 field")
    return v


def _read_cmf_space(space: dict, strategy: str, mode: str, path: Path) -> dict:
    """``[space]`` of a campaign over CMF trajectories (only its keys: a box campaign's digest is unchanged)."""
    if strategy != "cmf":
        given = [k for k in _CMF_KEYS if space[k] is not None]
        raise ConfigError(f"{path}: [space] {given[0]} belongs to strategy = 'cmf', not {strategy!r}")
    other = [k for k, v in space.items() if k not in _CMF_KEYS and v is not None]
    if other:
        raise ConfigError(f"{path}: [space] {other[0]} belongs to a coefficient space; strategy = 'cmf' takes "
                          f"{', '.join(_CMF_KEYS)}")
    if space["cmf"] is None:
        raise ConfigError(f"{path}: [space] cmf is missing (strategy = 'cmf' walks a shipped CMF)")
    out = {k: default if space[k] is None else space[k] for k, default in _CMF_KEYS.items()}
    from discovery.cmf import known_cmf

    dim = known_cmf(out["cmf"]).dim
    count = (2 * out["max_step"] + 1) ** dim * out["max_start"] ** dim
    # An evolving search draws trajectories one generation at a time: only enumeration lists the box.
    if count > MAX_CMF_TRAJECTORIES and mode != "evolve":
        raise ConfigError(f"{path}: [space] max_step = {out['max_step']} and max_start = {out['max_start']} give up to "
                          f"{count:,} trajectories; at most {MAX_CMF_TRAJECTORIES:,} (each is converted to a PCF "
                          "with sympy, about 0.1 s)")
    return out


def _read_space(doc: dict, path: Path) -> dict:
    """``[space]``: a box (degrees and bound), coefficient ranges, or a CMF's trajectories."""
    space = read_table(doc, "space", {
        "degree_a": (None, int_in(0, MAX_DEGREE_A, WHY_DEGREE)),
        "degree_b": (None, int_in(0, MAX_DEGREE_B, WHY_DEGREE)),
        "bound": (None, int_in(1, MAX_COEFFICIENT, WHY_COEFFICIENT)),
        "a": (None, _ranges),
        "b": (None, _ranges),
        "cmf": (None, _cmf_name),
        "max_step": (None, int_in(1, MAX_CMF_STEP, "directions grow as (2 max_step + 1)^dimension")),
        "max_start": (None, int_in(1, MAX_CMF_START, "starts grow as max_start^dimension")),
    }, path)
    # [search] is validated later; here its strategy only picks which [space] keys belong.
    search = doc.get("search")
    strategy = search.get("strategy", "enumerate") if isinstance(search, dict) else "enumerate"
    mode = search.get("mode") if isinstance(search, dict) else None
    if strategy == "cmf" or any(space[k] is not None for k in _CMF_KEYS):
        return _read_cmf_space(space, strategy, mode, path)
    space = {k: v for k, v in space.items() if k not in _CMF_KEYS}
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
                          f"(degree {MAX_DEGREE_A}, {WHY_DEGREE})")
    return space


def _read_pcf_search(doc: dict, path: Path) -> dict:
    """``[search]`` of a PCF campaign, evolve-only keys checked and the depths against each other."""
    search = read_table(doc, "search", {
        "strategy": ("enumerate", choice(*PCF_STRATEGIES)),
        "depth": (1000, int_in(1, MAX_DEPTH, "float steps per PCF")),
        "metrics_depth": (2000, int_in(1, MAX_DEPTH, "float steps per PCF")),
        "sample": (1000, int_in(1, MAX_SAMPLE, "exact convergents cost about n² log n")),
        "unit_size": (20_000, int_in(1, MAX_UNIT_SIZE, "a unit is computed, sent and lost on a crash whole")),
        "max_candidates": (None, int_in(1, MAX_CANDIDATES, "a count of grid points")),
        "triage": ("off", choice(*TRIAGE_MODES)),
        "triage_recall": (0.99, fraction),
        "triage_warmup": (0.1, fraction),
        "objectives": (None, _objectives),
        "minutes": (None, number_in(0, MAX_MINUTES, "about two years")),
        "generations": (None, int_in(1, MAX_GENERATIONS, "a budget of generations")),
        "population": (None, int_in(1, MAX_POPULATION, "a generation is held in memory")),
        "offspring": (None, int_in(1, MAX_OFFSPRING, "children screened per place")),
        "mode": (None, choice(*CMF_MODES)),
    }, path)
    _check_pcf_search(search, path)
    if search["sample"] >= search["metrics_depth"]:
        raise ConfigError(
            f"{path}: [search] sample ({search['sample']}) must be below metrics_depth ({search['metrics_depth']})"
        )
    if search["metrics_depth"] <= 1000 and search["sample"] == 1000:
        raise ConfigError(f"{path}: [search] metrics_depth must exceed the sample depth 1000")
    return search


def _read_identify(doc: dict, path: Path) -> dict:
    """``[identify]`` of a PCF campaign (after its user catalog is loaded: constants may name it)."""
    identify = read_table(doc, "identify", {
        "catalog": (None, lambda v, w: str(_catalog_path(v, w, path))),
        "constants": (None, _constants),
        "digits": (30, int_in(1, MAX_DIGITS, "LLL on numbers of that many digits")),
        "confirm_digits": (None, int_in(1, MAX_CONFIRM_DIGITS, "exact convergents per identified PCF")),
        "mobius_bound": (5, int_in(1, MAX_MOBIUS_BOUND, "the Möbius table has about 0.46 (2B + 1)⁴ vectors "
                                   "per constant, in every worker")),
        "representatives": (3, int_in(0, MAX_REPRESENTATIVES, "each is identified with escalation")),
        "budget_seconds": (_ESCALATION_DEFAULTS["budget_seconds"],
                           number_in(0, MAX_BUDGET_SECONDS, "an hour per representative")),
        "escalation_seconds": (_ESCALATION_DEFAULTS["escalation_seconds"],
                               number_in(0, MAX_ESCALATION_SECONDS, "a day per campaign",
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
    return identify


def _description(v, where):
    check(v, isinstance(v, str), where, "a string")
    if len(v) > MAX_DESCRIPTION:
        raise ConfigError(f"{where} has {len(v):,} characters; at most {MAX_DESCRIPTION:,} (a line or a paragraph "
                          "shown by campaign status and the report)")
    return v


def _check_unit_work(search: dict, path: Path) -> None:
    """Refuse units whose work (float steps) would take hours, whatever each setting alone says."""
    if search["strategy"] == "evolve":
        size = search["population"] * search["offspring"]
        what = "population × offspring"
    elif search["mode"] == "evolve":
        size, what = search["population"], "population"
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
    count = len(identify["constants"]) if identify["constants"] else len(catalog.core())
    entries = round(0.46 * (2 * identify["mobius_bound"] + 1) ** 4 * count)
    if entries > MAX_MOBIUS_ENTRIES:
        raise ConfigError(
            f"{path}: [identify] mobius_bound = {identify['mobius_bound']} with {count} constants makes a Möbius table "
            f"of about {entries:,} entries; at most {MAX_MOBIUS_ENTRIES:,} (~200 MB in every worker): lower "
            "mobius_bound or list fewer constants"
        )


def _check_triage_warmup(config: PcfConfig, path: Path) -> None:
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
    check(v, ok, where, "[lo, hi] (finite numbers)")
    if not v[0] < v[1]:
        raise ConfigError(f"{where}: interval {v} is empty")
    return [float(x) for x in v]


def _ops(v, where):
    check(v, isinstance(v, list) and v and all(isinstance(o, str) for o in v), where, "a list of operation names")
    for op in v:
        if op not in ARITY:
            raise ConfigError(f"{where}: unknown operation {op!r} (known: {', '.join(ARITY)})")
    return list(v)


def _load_program_config(doc: dict, path: Path, campaign: dict) -> ProgramConfig:
    if "space" in doc:
        raise ConfigError(f"{path}: [space] belongs to kind = 'pcf' campaigns; a program campaign has [target]")
    target = read_table(doc, "target", {
        "name": (REQUIRED, string),
        "interval": (REQUIRED, _interval),
        "error": ("auto", choice("auto", "relative", "absolute", "ulp32")),
        "max_ops": (10, int_in(1, MAX_OPS, "programs of that many operations")),
        "ops": (["add", "sub", "mul", "div"], _ops),
        "allow_inf": (False, boolean),
    }, path)
    try:
        make_target(target["name"], tuple(target["interval"]), error=target["error"])
    except ValueError as err:
        raise ConfigError(f"{path}: [target] {err}") from None
    search = read_table(doc, "search", {
        "strategy": ("evolve", choice("evolve")),
        "minutes": (5.0, number_in(0, MAX_MINUTES, "about two years")),
        "generations": (None, int_in(1, MAX_GENERATIONS, "a budget of generations")),
        "population": (100, int_in(1, MAX_POPULATION, "a generation is held in memory")),
        "classical_seeds": (True, boolean),
    }, path)
    identify = read_table(doc, "identify", {}, path)
    execution = read_table(doc, "execution", {
        "workers": (min(os.cpu_count() or 1, max_workers()), _workers),
        "scheduler": (None, _scheduler),
        "islands": (1, int_in(1, MAX_ISLANDS, "one population per island, each on a worker")),
        "migrate_every": (10, int_in(1, MAX_MIGRATE_EVERY, "generations between migrations")),
    }, path)
    return ProgramConfig(path=path, name=campaign["name"], kind="program", seed=campaign["seed"], target=target,
                         search=search, identify=identify, execution=execution, description=campaign["description"])
