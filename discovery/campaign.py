"""Search campaigns: TOML configuration, work units, executors, checkpoint and resume.

A PCF campaign enumerates a coefficient space (one PCF per canonical class) and splits it into
work units of ``unit_size`` consecutive PCFs.  Each unit runs the pipeline

    float evaluation → convergence filter → dynamics metrics → meet-in-the-middle match against
    Möbius transforms of the chosen constants → exact identification of the matches

in a worker, and the main process stores the unit's results and its done mark in one transaction.
When every unit is done, the whole campaign is clustered by convergence dynamics (with the known
formulas as anchors), a few representatives of every cluster without an identified member are
identified against the catalog, and the clusters, those identifications and the campaign's
finished mark are stored in one transaction.  Stopping at any moment (even kill -9) and rerunning
the same command resumes from the last committed unit and ends with the same results.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import multiprocessing
import os
import time
import tomllib
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

_REQUIRED = object()
_TABLES = ("campaign", "space", "target", "search", "identify", "execution")


class ConfigError(ValueError):
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


def _choice(*options):
    def check(v, where):
        return _check(v, v in options, where, "one of " + ", ".join(repr(o) for o in options))

    return check


def _optional_string(v, where):
    return _check(v, v is None or isinstance(v, str), where, "a string")


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
        return {
            "campaign": {"name": self.name, "kind": self.kind, "seed": self.seed},
            "space": {k: _plain(v) for k, v in self.space.items()},
            "search": self.search,
            "identify": self.identify,
        }

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
        "seed": (0, lambda v, w: _check(v, _int(v), w, "an integer")),
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
        "strategy": ("enumerate", _choice("enumerate", "mitm")),
        "depth": (1000, _positive_int),
        "metrics_depth": (2000, _positive_int),
        "sample": (1000, _positive_int),
        "unit_size": (20_000, _positive_int),
        "max_candidates": (None, _positive_int),
    }, path)
    if search["sample"] >= search["metrics_depth"]:
        raise ConfigError(
            f"{path}: [search] sample ({search['sample']}) must be below metrics_depth ({search['metrics_depth']})"
        )
    if search["metrics_depth"] <= 1000 and search["sample"] == 1000:
        raise ConfigError(f"{path}: [search] metrics_depth must exceed the sample depth 1000")
    identify = _read_table(doc, "identify", {
        "constants": (None, _constants),
        "digits": (30, _positive_int),
        "confirm_digits": (None, _positive_int),
        "mobius_bound": (5, _positive_int),
        "representatives": (3, _non_negative_int),
    }, path)
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
        "scheduler": (None, _optional_string),
    }, path)
    if execution["scheduler"] is not None:
        raise ConfigError(
            f"{path}: [execution] scheduler: the Dask executor is not available in this version; remove "
            "the key to run on this machine's cores"
        )
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
        "error": ("auto", _choice("auto", "relative", "absolute")),
        "max_ops": (10, _positive_int),
        "ops": (["add", "sub", "mul", "div"], _ops),
    }, path)
    try:
        from discovery.programs.targets import make_target

        make_target(target["name"], tuple(target["interval"]),
                    {"auto": None, "relative": True, "absolute": False}[target["error"]])
    except ValueError as err:
        raise ConfigError(f"{path}: [target] {err}") from None
    search = _read_table(doc, "search", {
        "strategy": ("evolve", _choice("evolve")),
        "minutes": (5.0, _positive_number),
        "population": (100, _positive_int),
        "classical_seeds": (True, lambda v, w: _check(v, isinstance(v, bool), w, "true or false")),
    }, path)
    identify = _read_table(doc, "identify", {}, path)
    execution = _read_table(doc, "execution", {
        "workers": (os.cpu_count() or 1, _positive_int),
        "scheduler": (None, _optional_string),
    }, path)
    return CampaignConfig(path, campaign["name"], "program", campaign["seed"], target, search, identify, execution)


# --- the PCF space and its work units -------------------------------------------------------
@lru_cache(maxsize=4)
def _space_rows(space_json: str) -> tuple[np.ndarray, np.ndarray]:
    from discovery.pcf.space import enumerate_box, enumerate_ranges

    space = json.loads(space_json)
    if space.get("a") is not None:
        return enumerate_ranges([tuple(r) for r in space["a"]], [tuple(r) for r in space["b"]])
    return enumerate_box(space["degree_a"], space["degree_b"], space["bound"])


def space_rows(config: CampaignConfig) -> tuple[np.ndarray, np.ndarray]:
    """The campaign's PCFs, in enumeration order (cut at ``max_candidates``)."""
    A, B = _space_rows(json.dumps(config.as_dict()["space"], sort_keys=True))
    top = config.search["max_candidates"]
    return (A[:top], B[:top]) if top else (A, B)


def unit_count(config: CampaignConfig) -> int:
    """Number of work units of the campaign (one for a program search)."""
    if config.kind == "program":
        return 1
    return math.ceil(len(space_rows(config)[0]) / config.search["unit_size"])


@lru_cache(maxsize=4)
def _table(constants: tuple[str, ...] | None, bound: int):
    from discovery.pcf.mitm import mobius_table

    return mobius_table(list(constants) if constants else None, bound)


def _identification_record(found) -> dict:
    return {
        "constant": found.constant,
        "kind": found.kind,
        "basis": list(found.basis),
        "relation": list(found.relation),
        "closed_form": found.closed_form,
        "digits_verified": found.digits_verified,
        "depth": found.depth,
    }


def run_pcf_unit(config: CampaignConfig, unit: int) -> dict:
    """The pipeline for one work unit (runs in a worker; deterministic for a config and unit).

    Returns
    -------
    dict
        ``unit``, ``candidates``, ``converged`` and ``pcfs``: records ready for
        :meth:`discovery.store.FormulaStore.write_unit`.
    """
    from discovery.identify import identify_pcf
    from discovery.pcf.dynamics import FIELDS, metrics
    from discovery.pcf.formula import PCF
    from discovery.pcf.kernels import Status, evaluate
    from discovery.pcf.mitm import match

    A, B = space_rows(config)
    size = config.search["unit_size"]
    A, B = A[unit * size:(unit + 1) * size], B[unit * size:(unit + 1) * size]
    search, ident = config.search, config.identify
    ev = evaluate(A, B, search["depth"], rtol=1e-12)
    alive = np.nonzero(ev.status == Status.CONVERGED)[0]
    records = []
    if alive.size:
        if search["strategy"] == "enumerate":
            m = metrics((A[alive], B[alive]), depth=search["metrics_depth"], sample=search["sample"], workers=1)
        else:
            m = {k: np.full(alive.size, np.nan) for k in FIELDS}
            m["limit"] = ev.limit[alive]
            m["convergence_class"] = np.full(alive.size, "")
        constants = tuple(ident["constants"]) if ident["constants"] else None
        table = _table(constants, ident["mobius_bound"])
        rows, entries = match(ev.limit[alive], table)
        found = {}
        for r in np.unique(rows):
            names = sorted({table.names[table.constant[e]] for e in entries[rows == r]})
            i = alive[r]
            pcf = PCF([int(c) for c in A[i]], [int(c) for c in B[i]])
            hit = identify_pcf(pcf, constants=names, digits=ident["digits"])
            if hit is not None and hit.digits_verified >= ident["confirm_digits"]:
                found[int(r)] = _identification_record(hit)
        for j, i in enumerate(alive):
            if search["strategy"] == "mitm" and j not in found:
                continue
            metric_row = {k: (m[k][j].item() if hasattr(m[k][j], "item") else m[k][j]) for k in FIELDS}
            metric_row["limit_value"] = metric_row.pop("limit")
            metric_row["complex_eigen"] = (int(bool(metric_row["complex_eigen"])) if search["strategy"] == "enumerate"
                                           else None)
            metric_row["convergence_class"] = metric_row["convergence_class"] or None
            metric_row["depth"] = search["metrics_depth"] if search["strategy"] == "enumerate" else search["depth"]
            records.append({
                "a": A[i].tolist(), "b": B[i].tolist(), "metrics": metric_row,
                "identification": found.get(j),
            })
    return {"unit": unit, "candidates": int(len(A)), "converged": int(alive.size), "pcfs": records}


# --- executors ------------------------------------------------------------------------------
class Executor:
    """Runs work units and yields their results as they complete (any order)."""

    def map_unordered(self, fn: Callable, items: Iterable) -> Iterator:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self, cancel: bool = False) -> None:
        """Release the workers; with ``cancel``, drop work not yet started."""


def _worker_init() -> None:
    # One numba thread per worker process: the processes already fill the cores.
    import numba

    numba.set_num_threads(1)


class LocalExecutor(Executor):
    """A pool of ``workers`` processes on this machine (in-process when ``workers`` is 1)."""

    def __init__(self, workers: int):
        self.workers = workers
        self._pool = None
        if workers > 1:
            # Not fork: a process that has run numba's parallel kernels cannot safely fork their
            # thread pool.  The fork server is a fresh process that children fork from cheaply.
            method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context(method), initializer=_worker_init
            )

    def map_unordered(self, fn, items):
        items = list(items)
        if self._pool is None:
            for item in items:
                yield fn(item)
            return
        pending = set()
        queue = iter(items)
        # Keep a couple of units per worker in flight so results stream back steadily.
        for item in queue:
            pending.add(self._pool.submit(fn, item))
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(self._pool.submit(fn, nxt))

    def close(self, cancel: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)


# --- running --------------------------------------------------------------------------------
@dataclass
class CampaignResult:
    """Summary of a run (also what ``discovery campaign run`` prints)."""

    name: str
    campaign_id: int
    candidates: int
    converged: int
    formulas: int
    clusters: int
    identified: dict
    wall_time: float
    complete: bool
    plots: list = field(default_factory=list)
    kind: str = "pcf"


class _UnitRunner:
    """Picklable bound call of run_pcf_unit for process pools."""

    def __init__(self, config: CampaignConfig):
        self.config = config

    def __call__(self, unit: int) -> dict:
        return run_pcf_unit(self.config, unit)


def run_campaign(
    config: CampaignConfig | str | Path,
    db: str | Path,
    executor: Executor | None = None,
    max_units: int | None = None,
    progress: bool = True,
    plots: bool = True,
) -> CampaignResult:
    """Run (or resume) a campaign into the database at ``db``.

    Parameters
    ----------
    config : CampaignConfig or path
    db : path of the SQLite database
    executor : Executor, optional
        Default: a :class:`LocalExecutor` with the configured number of workers.
    max_units : int, optional
        Stop after this many new units (the campaign stays resumable).
    progress : bool
        Show tqdm progress bars.
    plots : bool
        Write cluster plots into a run folder beside the database when the campaign completes.

    Raises
    ------
    discovery.errors.StoreError
        If the database cannot be opened or written (a full disk, say); everything committed
        before is kept, and rerunning resumes after the last committed unit.
    """
    from tqdm import tqdm

    from discovery.store import FormulaStore

    if not isinstance(config, CampaignConfig):
        config = load_config(config)
    if config.kind == "program":
        return _run_program_campaign(config, Path(db), progress)
    start = time.time()
    total = unit_count(config)
    store = FormulaStore(db)
    own_executor = executor is None
    try:
        cid = store.start_campaign(config.name, config.kind, config.as_dict(), config.digest(), total)
        done_before = store.done_units(cid)
        todo = sorted(set(range(total)) - done_before)
        if max_units is not None:
            todo = todo[:max_units]
        if todo:
            executor = executor or LocalExecutor(config.execution["workers"])
            bar = tqdm(total=total, initial=len(done_before), unit="unit",
                       desc=f"{config.name}: units", disable=not progress)
            found = 0
            try:
                for result in executor.map_unordered(_UnitRunner(config), todo):
                    store.write_unit(cid, result["unit"], result["candidates"], result["converged"], result["pcfs"])
                    found += sum(1 for r in result["pcfs"] if r["identification"])
                    bar.update(1)
                    bar.set_postfix(identified=found)
            except BaseException:
                # Ctrl-C or a store error (a full disk): units still queued would be computed only
                # to be thrown away; a rerun resumes after the last committed unit.
                executor.close(cancel=True)
                raise
            else:
                if own_executor:
                    executor.close()
            finally:
                bar.close()
        complete = len(store.done_units(cid)) == total
        written = []
        # The closing stage of a finished campaign is not redone: it would take the
        # representatives' identifications for known ones and store different clusters.
        if complete and store.campaign(config.name)["finished"] is None:
            clusters, identifications = None, []
            if config.search["strategy"] == "enumerate":
                clusters, identifications, written = _cluster_campaign(store, cid, config, Path(db), progress, plots)
            store.finish_campaign(cid, clusters, identifications)
        status = store.status(cid)
        return CampaignResult(
            config.name, cid, status["candidates"], status["converged"], status["formulas"],
            status["clusters"], status["identified"], time.time() - start, complete, written,
        )
    finally:
        store.close()


def _cluster_campaign(store, cid: int, config: CampaignConfig, db: Path, progress: bool,
                      plots: bool) -> tuple[list, list, list]:
    """Cluster a campaign whose units are all done and identify cluster representatives.

    Nothing goes into the database here (plots go to files): the caller stores the clusters, the
    identifications and the finished mark in one transaction, so a campaign stopped anywhere in
    this stage redoes all of it on rerun and ends as an uninterrupted run would.  Returns (clusters, identifications as
    (formula id, record) pairs, plot files written).
    """
    from tqdm import tqdm

    from discovery.cluster import DynamicsClusterer, anchor_table, concat_tables
    from discovery.identify import identify_pcf
    from discovery.pcf.dynamics import FIELDS
    from discovery.pcf.formula import PCF, to_arrays

    ids, rows = store.metric_table(cid)
    if not ids:
        return [], [], []
    # Order by canonical genome so the clustering does not depend on the order units finished.
    order = sorted(range(len(ids)), key=lambda i: rows[i]["genome"])
    ids = [ids[i] for i in order]
    rows = [rows[i] for i in order]
    pcfs = [PCF(**json.loads(r["genome"])) for r in rows]
    A, B = to_arrays(pcfs)
    table = {k: np.array([np.nan if r.get(k) is None else r[k] for r in rows], dtype=float)
             for k in FIELDS if k not in ("convergence_class", "complex_eigen", "limit")}
    table["limit"] = np.array([np.nan if r["limit_value"] is None else r["limit_value"] for r in rows])
    table["complex_eigen"] = np.array([bool(r["complex_eigen"]) for r in rows])
    table["convergence_class"] = np.array([r["convergence_class"] or "" for r in rows])
    table.update(A=A, B=B, anchor=np.full(len(ids), ""), name=np.full(len(ids), ""))
    anchors = anchor_table(config.search["metrics_depth"], config.search["sample"], shifts=7)
    full = concat_tables(table, anchors)
    clusterer = DynamicsClusterer(random_state=config.seed).fit(full)
    labels = clusterer.labels_[: len(ids)]

    known = {r["id"]: r["constant"] for r in store.query(campaign=config.name, identified=True)}
    clusters = []
    for report in clusterer.reports_:
        members = [ids[i] for i in np.nonzero(labels == report.label)[0]]
        if not members:
            continue  # a cluster of anchors alone
        constants = sorted(set(report.constants) | {known[m] for m in members if known.get(m)})
        clusters.append({
            "label": report.label, "plane": report.plane, "size": len(members),
            "centroid": report.centroid, "spread": report.spread, "constants": constants,
            "members": members,
        })

    # Representatives of clusters with no identified member: nearest the centroid first.
    reps = config.identify["representatives"]
    todo = []
    position = {fid: i for i, fid in enumerate(ids)}
    for c in clusters:
        if any(known.get(m) for m in c["members"]) or reps == 0:
            continue
        idx = [position[m] for m in c["members"]]
        delta = np.array([table["delta"][i] for i in idx])
        nearest = np.argsort(np.abs(delta - c["centroid"]["delta"]), kind="stable")[:reps]
        todo.extend((c, c["members"][j], pcfs[idx[j]]) for j in nearest)
    identifications = []
    for c, fid, pcf in tqdm(todo, desc=f"{config.name}: cluster representatives", unit="PCF", disable=not progress):
        hit = identify_pcf(pcf, constants=config.identify["constants"], digits=config.identify["digits"],
                           max_depth=5000)
        if hit is not None and hit.digits_verified >= config.identify["confirm_digits"]:
            identifications.append((fid, _identification_record(hit)))
            if hit.constant and hit.constant not in c["constants"]:
                c["constants"] = sorted(c["constants"] + [hit.constant])

    written = []
    if plots:
        from discovery.plots import cluster_scatter

        folder = db.parent / f"{db.stem}_runs" / config.name
        folder.mkdir(parents=True, exist_ok=True)
        for plane in (("delta", "gamma_prime"), ("delta", "eta_prime")):
            written.append(
                cluster_scatter(full, clusterer.labels_, folder / f"clusters_{plane[0]}_{plane[1]}.png", plane)
            )
    return clusters, identifications, written


def _run_program_campaign(config: CampaignConfig, db: Path, progress: bool) -> CampaignResult:
    """Evolve programs for the target; the search checkpoints beside the database and resumes."""
    from tqdm import tqdm

    from discovery.programs.search import ProgramSearch
    from discovery.programs.targets import make_target
    from discovery.programs.verify import max_error
    from discovery.store import FormulaStore

    start = time.time()
    t = config.space
    target = make_target(t["name"], tuple(t["interval"]),
                         {"auto": None, "relative": True, "absolute": False}[t["error"]])
    folder = db.parent / f"{db.stem}_runs" / config.name
    folder.mkdir(parents=True, exist_ok=True)
    store = FormulaStore(db)
    try:
        cid = store.start_campaign(config.name, "program", config.as_dict(), config.digest(), 1)
        if not store.done_units(cid):
            search = ProgramSearch(target, t["max_ops"], ops=t["ops"], population_size=config.search["population"],
                                   seed=config.seed, checkpoint=folder / "evolution.pkl")
            budget = config.search["minutes"] * 60
            state = search.engine.start(search.seeds(config.search["population"], config.search["classical_seeds"]))
            spent = state.extra.get("seconds", 0.0)
            bar = tqdm(total=int(budget), initial=int(spent), unit="s", desc=f"{config.name}: evolving",
                       disable=not progress)
            resumed_at = time.time()

            def tick(st):
                st.extra["seconds"] = spent + time.time() - resumed_at
                bar.n = min(int(st.extra["seconds"]), int(budget))
                bar.refresh()

            result = search.run(state.population, seconds=max(0.0, budget - spent), progress=tick)
            bar.close()
            rows = [{"genome": p.to_json(), "ops": cost, "max_error": max_error(p, target),
                     "expression": p.expression()}
                    for cost, (p, _) in sorted(result.best.items())]
            store.write_programs(cid, target.name, target.interval, rows, unit=0, candidates=result.evaluations)
        # Outside the branch above: a run stopped between storing the front and this mark
        # finishes on rerun.
        if store.campaign(config.name)["finished"] is None:
            store.finish_campaign(cid)
        status = store.status(cid)
        return CampaignResult(config.name, cid, status["candidates"], status["converged"], status["formulas"],
                              0, {}, time.time() - start, True, [], kind="program")
    finally:
        store.close()


def summary_lines(result: CampaignResult) -> list[str]:
    """Human-readable summary of a run."""
    lines = [
        f"campaign {result.name}: {'complete' if result.complete else 'stopped (rerun to resume)'} "
        f"in {result.wall_time:.1f} s",
    ]
    if result.kind == "program":
        lines.append(f"  programs evaluated {result.candidates:,}, Pareto front stored: {result.formulas} programs")
        return lines
    lines.append(
        f"  candidates {result.candidates:,}, converging {result.converged:,}, stored {result.formulas:,}, "
        f"clusters {result.clusters}"
    )
    if result.identified:
        counts = ", ".join(f"{k} {v}" for k, v in Counter(result.identified).most_common())
        lines.append(f"  identified formulas per constant: {counts}")
    for p in result.plots:
        lines.append(f"  plot: {p}")
    return lines
