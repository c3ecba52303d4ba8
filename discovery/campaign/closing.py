"""The closing stage every campaign reaches the same way once its search is complete.

1. Clusters and representatives (strategies with ``clusters``): the campaign's metric rows are
   clustered by convergence dynamics and representatives of clusters with no identified member
   are identified; the clusters, those identifications and the finished mark are stored in one
   transaction.  Nothing is stored before it, so a campaign stopped anywhere in this step redoes
   all of it on rerun and ends as an uninterrupted run would.  A finished campaign is not closed
   again (it would take the representatives' identifications for known ones).
2. Families (strategies with ``families``): detected once; a campaign stopped during detection
   redoes it on rerun.  Then the novelty of every identified PCF of the campaign and its families
   (:mod:`discovery.novelty`), relabelled whenever families are detected.
3. Files (``plots``): the scatter plots written in step 1 and the HTML report
   (:mod:`discovery.report` renders it), rewritten after a family detection and whenever missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

import discovery.plots

from discovery.campaign.config import ConfigError, PcfConfig, run_folder
from discovery.campaign.pcf import fit_points
from discovery.campaign.progress import stage
from discovery.campaign.strategy import CampaignRun, Strategy
from discovery.cluster import DynamicsClusterer, anchor_table, concat_tables
from discovery.families import run_families
from discovery.identify import RepresentativeIdentifier
from discovery.novelty import NOVELTY_LABELS, label_records
from discovery.pcf.dynamics import FIELDS
from discovery.pcf.formula import PCF, to_arrays
from discovery.records import IdentificationRecord
from discovery.report import render_report
from discovery.report.formulas import constant_symbol
from discovery.report import write_report as _write_report

_PLANES = (("delta", "gamma_prime"), ("delta", "eta_prime"))


@dataclass
class Closed:
    """What the closing stage wrote: scatter plots and the report (None when not written)."""

    plots: list[Path] = field(default_factory=list)
    report: Path | None = None


def close_campaign(run: CampaignRun, strategy: Strategy, plots: bool = True) -> Closed:
    """The closing stage of a campaign whose search is complete (see the module docstring)."""
    store, cid, config = run.store, run.campaign_id, run.config
    closed = Closed()
    if store.campaign(config.name)["finished"] is None:
        clusters, identifications = None, []
        if strategy.clusters:
            clusters, identifications, closed.plots = cluster_campaign(store, cid, config, run.db, run.progress,
                                                                       plots)
        store.finish_campaign(cid, clusters, identifications)
    detected = strategy.families and store.family_run(cid) is None
    if detected:
        stage(config.name, "detecting families", run.progress)
        run_families(store, config.name, progress=run.progress)
    if detected or _unlabelled(store, config.name):
        stage(config.name, "novelty labels against the literature", run.progress)
        label_novelty(store, config.name)
    path = run_folder(run.db, config.name) / "index.html"
    if plots and (detected or not path.exists()):
        stage(config.name, "writing the report", run.progress)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_report(store, run.db, config.name, campaign_folder(run.db)), encoding="utf-8")
        closed.report = path
    return closed


def label_novelty(store, campaign: str | None = None) -> dict[str, int]:
    """Label the novelty of every identified PCF of a campaign (None: of the database), the
    members of its families included, and store the labels; returns the count per label."""
    store.fill_equivalence_keys()
    families = store.families(campaign=campaign)
    records = {r["id"]: r for r in store.query(kind="pcf", campaign=campaign, identified=True)}
    for family in families:
        for r in store.query(kind="pcf", family=family["id"], identified=True):
            records.setdefault(r["id"], r)
    labels = label_records(list(records.values()), families)
    store.write_novelty({fid: tuple(n) for fid, n in labels.items()})
    counts = dict.fromkeys(NOVELTY_LABELS, 0)
    for n in labels.values():
        counts[n.label] += 1
    return counts


def _unlabelled(store, campaign: str) -> bool:
    return any(r["novelty"] is None for r in store.query(kind="pcf", campaign=campaign, identified=True))


def cluster_campaign(store, cid: int, config: PcfConfig, db: Path, progress: bool,
                     plots: bool) -> tuple[list, list, list]:
    """Cluster a campaign whose units are all done and identify cluster representatives.

    Nothing goes into the database here (plots go to files).  Returns (clusters, identifications
    as (formula id, record) pairs, plot files written).
    """
    ids, rows = store.metric_table(cid)
    if not ids:
        return [], [], []
    ids, pcfs, table = _metric_table(ids, rows)
    stage(config.name, f"clustering {len(ids):,} fractions by their convergence dynamics", progress)
    anchors = anchor_table(config.search["metrics_depth"], config.search["sample"], shifts=7,
                           fit_points=fit_points(config.search["sample"]))
    full = concat_tables(table, anchors)
    clusterer = DynamicsClusterer(random_state=config.seed).fit(full)
    known = {r["id"]: r["constant"] for r in store.query(campaign=config.name, identified=True)}
    clusters = _clusters(clusterer.reports_, clusterer.labels_[: len(ids)], ids, known)
    todo = _representatives(clusters, ids, pcfs, table["delta"], known, config.identify["representatives"])
    identifications = []
    identify_pcf = RepresentativeIdentifier(config.identify, max_depth=5000)
    for c, fid, pcf in tqdm(todo, desc=f"{config.name}: cluster representatives", unit="PCF", disable=not progress):
        hit = identify_pcf(pcf)
        if hit is not None and hit.digits_verified >= config.identify["confirm_digits"]:
            record = IdentificationRecord.of(hit)
            identifications.append((fid, record.to_json()))
            if record.constant and record.constant not in c["constants"]:
                c["constants"] = sorted(c["constants"] + [record.constant])
    written = []
    if plots:
        folder = run_folder(db, config.name)
        folder.mkdir(parents=True, exist_ok=True)
        for x, y in _PLANES:
            # Through the module, where a test stops a run inside this step.
            path = folder / f"clusters_{x}_{y}.png"
            constants = {c["label"]: c["constants"] for c in clusters}
            named = {n for names in constants.values() for n in names} | set(full.get("anchor", ())) - {""}
            symbols = {name: constant_symbol(name) for name in named}
            written.append(discovery.plots.cluster_scatter(full, clusterer.labels_, path, (x, y), constants, symbols))
    return clusters, identifications, written


def _metric_table(ids: list[int], rows: list[dict]) -> tuple[list[int], list[PCF], dict]:
    """The campaign's metric rows as the clusterer's table, ordered by canonical genome so the
    clustering does not depend on the order units finished.  Returns (ids, PCFs, table) in that order."""
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
    return ids, pcfs, table


def _clusters(reports, labels: np.ndarray, ids: list[int], known: dict) -> list[dict]:
    """The clusters with campaign members (a cluster of anchors alone is left out), with the
    constants of their anchors and identified members."""
    clusters = []
    for report in reports:
        members = [ids[i] for i in np.nonzero(labels == report.label)[0]]
        if not members:
            continue
        constants = sorted(set(report.constants) | {known[m] for m in members if known.get(m)})
        clusters.append({
            "label": report.label, "plane": report.plane, "size": len(members),
            "centroid": report.centroid, "spread": report.spread, "constants": constants,
            "members": members,
        })
    return clusters


def _representatives(clusters: list[dict], ids: list[int], pcfs: list[PCF], delta: np.ndarray, known: dict,
                     count: int) -> list[tuple[dict, int, PCF]]:
    """(cluster, formula id, PCF) of up to ``count`` members of each cluster with no identified
    member, nearest the centroid's δ first."""
    todo = []
    position = {fid: i for i, fid in enumerate(ids)}
    for c in clusters:
        if any(known.get(m) for m in c["members"]) or count == 0:
            continue
        idx = [position[m] for m in c["members"]]
        near = np.abs(np.array([delta[i] for i in idx]) - c["centroid"]["delta"])
        todo.extend((c, c["members"][j], pcfs[idx[j]]) for j in np.argsort(near, kind="stable")[:count])
    return todo


def campaign_folder(db: str | Path):
    """Campaign name -> its run folder, with the scatter plots and an evolve search's checkpoint
    (None for a name stored before names were checked, which has no run folder of its own): the
    ``folder`` of the report."""

    def folder(name: str) -> Path | None:
        try:
            return run_folder(db, name)
        except ConfigError:
            return None

    return folder


def write_report(db: str | Path, out: str | Path, campaign: str | None = None) -> Path:
    """:func:`discovery.report.write_report` with the campaign's scatter plots and search history
    from its run folder (what ``discovery report`` writes)."""
    return _write_report(db, out, campaign, campaign_folder(db))
