"""Campaign lifecycle and the writes of every kind of record.

The campaign lifecycle: register or resume a campaign (:meth:`Writer.start_campaign`), the units
it has done, its status, its closing results and finished mark (:meth:`Writer.finish_campaign`).
The writes: a work unit's PCFs with their metrics and identifications (:meth:`Writer.write_unit`),
programs, identifications of stored formulas, clusters and families.

A work unit's results and its done mark are written in one transaction, so a killed campaign
loses at most the unit in flight and never stores half of one.  A formula is stored once, under
its canonical key (:func:`pcf_key` for a PCF), and recorded as met by every campaign that meets it.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from typing import Iterable, Sequence

from discovery.errors import InputError
from discovery.pcf.equivalence import equivalence_key
from discovery.pcf.formula import PCF
from discovery.store.db import METRIC_COLUMNS, Database


def _num(x):
    """A float for SQLite: NaN and inf become NULL."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _bound(x):
    """A proven bound for SQLite: kept infinite (no bound proved), unlike a NaN."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        raise ValueError("a proven bound cannot be NaN")
    return x


def pcf_key(a: Sequence[int], b: Sequence[int]) -> str:
    """The canonical key of a PCF row (see :meth:`discovery.pcf.PCF.canonical`).

    Parameters
    ----------
    a, b : sequence of int
        The coefficients, highest degree first.

    Returns
    -------
    str
        ``"pcf:"`` and the canonical form's ``[a, b]`` as compact JSON; equal for PCFs that are
        the same up to the canonical transforms, which the store keeps once.
    """
    canon = PCF(list(a), list(b)).canonical()
    return "pcf:" + json.dumps([list(canon.a), list(canon.b)], separators=(",", ":"))


class Writer(Database):
    """The campaign lifecycle and the writes of :class:`~discovery.store.FormulaStore`."""

    # --- campaigns ---------------------------------------------------------------------------
    def campaign(self, name: str) -> sqlite3.Row | None:
        """The campaign row of that name.

        Parameters
        ----------
        name : str

        Returns
        -------
        sqlite3.Row or None
            The ``campaigns`` row (``id, name, kind, config, config_hash, total_units, created,
            finished``), or None if there is no such campaign.
        """
        with self._guard("reading it"):
            return self.conn.execute("SELECT * FROM campaigns WHERE name=?", (name,)).fetchone()

    def campaigns(self) -> list[sqlite3.Row]:
        """All campaigns.

        Returns
        -------
        list of sqlite3.Row
            The ``campaigns`` rows (as :meth:`campaign`), oldest first.
        """
        with self._guard("reading it"):
            return self.conn.execute("SELECT * FROM campaigns ORDER BY id").fetchall()

    def start_campaign(self, name: str, kind: str, config: dict, config_hash: str, total_units: int) -> int:
        """Register a campaign, or return the id of the same campaign to resume it.

        Parameters
        ----------
        name : str
        kind : {'pcf', 'program'}
        config : dict
            The configuration, stored as JSON.
        config_hash : str
            Its digest: a campaign of the same name resumes only with the same digest.
        total_units : int
            The number of work units of its space (sizes the progress).

        Returns
        -------
        int
            The campaign's id.

        Raises
        ------
        InputError
            If a campaign of that name exists with a different configuration.
        StoreError
            If the database cannot be written.
        """
        # Looked up and registered in one transaction, so two processes starting the same
        # campaign at once share one row.
        with self._transaction(f"registering campaign {name!r}"):
            row = self.campaign(name)
            if row is None:
                cur = self.conn.execute(
                    "INSERT INTO campaigns(name, kind, config, config_hash, total_units, created) VALUES (?,?,?,?,?,?)",
                    # A space of more units than an SQLite integer holds is kept as a float: it only
                    # sizes progress, and its first units start at once like any other's.
                    (name, kind, json.dumps(config, sort_keys=True), config_hash,
                     total_units if total_units < 2**63 else float(total_units), time.time()),
                )
                return int(cur.lastrowid)
        if row["config_hash"] != config_hash:
            raise InputError(
                f"campaign {name!r} already exists in {self.path} with a different configuration; "
                "rename the campaign or use another database"
            )
        return int(row["id"])

    def user_constants(self) -> list[dict]:
        """The user constants campaigns stored with their configurations.

        Returns
        -------
        list of dict
            Each definition (see :func:`discovery.constants.stored_definition`) once, by key, in
            the order the campaigns were started.
        """
        out = {}
        for row in self.campaigns():
            try:
                definitions = json.loads(row["config"]).get("catalog_definitions") or []
            except (ValueError, AttributeError):
                continue
            for d in definitions if isinstance(definitions, list) else []:
                if isinstance(d, dict) and isinstance(d.get("key"), str):
                    out.setdefault(d["key"], d)
        return list(out.values())

    def done_units(self, campaign_id: int) -> set[int]:
        """Units of a campaign already committed.

        Parameters
        ----------
        campaign_id : int

        Returns
        -------
        set of int
        """
        with self._guard("reading it"):
            rows = self.conn.execute("SELECT unit FROM work_units WHERE campaign_id=?", (campaign_id,))
            return {int(r[0]) for r in rows}

    def finish_campaign(self, campaign_id: int, clusters: list[dict] | None = None,
                        identifications: Iterable[tuple[int, dict]] = ()) -> None:
        """Store a campaign's closing results and mark it finished, all in one transaction.

        Parameters
        ----------
        campaign_id : int
        clusters : list of dict, optional
            Replace the campaign's clusters (as :meth:`write_clusters`); None keeps them.
        identifications : iterable of (formula id, dict)
            Identifications of stored formulas (cluster representatives); a formula keeps an
            identification it already has.

        Notes
        -----
        A process stopped before this returns has stored none of it, so rerunning the closing
        stage of a campaign ends with the same database as an uninterrupted run.
        """
        with self._transaction(f"finishing campaign {campaign_id}"):
            if clusters is not None:
                self._replace_clusters(campaign_id, clusters)
            now = time.time()
            for formula_id, ident in identifications:
                self._insert_identification(formula_id, ident, now)
            self.conn.execute("UPDATE campaigns SET finished=? WHERE id=?", (now, campaign_id))

    def status(self, campaign_id: int) -> dict:
        """Progress and counts of a campaign.

        Parameters
        ----------
        campaign_id : int

        Returns
        -------
        dict
            ``name, kind, description, units_done, units_total, candidates, converged, measured,
            dropped, formulas, clusters``, ``identified`` (count per constant key,
            ``"rational/quadratic"`` for none) and ``finished`` (bool).
        """
        with self._guard("reading it"):
            return self._status(campaign_id)

    def _status(self, campaign_id: int) -> dict:
        c = self.conn.execute("SELECT * FROM campaigns WHERE id=?", (campaign_id,)).fetchone()
        units = self.conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(candidates),0), COALESCE(SUM(converged),0), "
            "COALESCE(SUM(COALESCE(measured, converged)),0), COALESCE(SUM(dropped),0) FROM work_units "
            "WHERE campaign_id=?",
            (campaign_id,),
        ).fetchone()
        formulas = self.conn.execute("SELECT COUNT(*) FROM campaign_formulas WHERE campaign_id=?",
                                     (campaign_id,)).fetchone()[0]
        per_constant = self.conn.execute(
            "SELECT i.constant, COUNT(*) FROM identifications i "
            "JOIN campaign_formulas cf ON cf.formula_id=i.formula_id "
            "WHERE cf.campaign_id=? GROUP BY i.constant ORDER BY COUNT(*) DESC",
            (campaign_id,),
        ).fetchall()
        clusters = self.conn.execute("SELECT COUNT(*) FROM clusters WHERE campaign_id=?", (campaign_id,)).fetchone()[0]
        novelty = self.conn.execute(
            "SELECT i.novelty, COUNT(*) FROM identifications i JOIN campaign_formulas cf ON cf.formula_id=i.formula_id "
            "WHERE cf.campaign_id=? AND i.novelty IS NOT NULL GROUP BY i.novelty", (campaign_id,)).fetchall()
        return {
            "name": c["name"],
            "kind": c["kind"],
            "description": self._description(c["config"]),
            "units_done": units[0],
            "units_total": int(c["total_units"]),
            "candidates": units[1],
            "converged": units[2],
            "measured": units[3],
            "dropped": units[4],
            "formulas": formulas,
            "clusters": clusters,
            "identified": {(r[0] or "rational/quadratic"): r[1] for r in per_constant},
            "novelty": {label: count for label, count in novelty},
            "finished": c["finished"] is not None,
        }

    @staticmethod
    def _description(config: str) -> str:
        """The description a campaign was started with ("" for one stored before they were kept)."""
        try:
            campaign = json.loads(config).get("campaign") or {}
        except (ValueError, AttributeError):
            return ""
        return (campaign.get("description") or "") if isinstance(campaign, dict) else ""

    # --- writing -----------------------------------------------------------------------------
    def write_unit(
        self,
        campaign_id: int,
        unit: int,
        candidates: int,
        converged: int,
        pcfs: Iterable[dict],
        measured: int | None = None,
        dropped: int = 0,
    ) -> None:
        """Store one work unit's PCFs (with metrics and identifications) and its done mark, atomically.

        Parameters
        ----------
        campaign_id, unit : int
        candidates, converged : int
            The unit's counts of PCFs tried and of those that converged.
        pcfs : iterable of dict
            Each has ``a``, ``b`` (coefficient lists), ``metrics`` (dict of
            :data:`~discovery.store.db.METRIC_COLUMNS`) and optionally ``identification`` (dict
            with ``constant, kind, basis, relation, closed_form, digits_verified, depth``).
        measured : int, optional
            The unit's exact metric computations (default: ``converged``).
        dropped : int
            What triage skipped.

        Notes
        -----
        A PCF whose canonical key is already stored (by any campaign) is not stored again, but is
        recorded as met by this campaign too; its identification is added if it had none.  A unit
        already done (by a concurrent run of the same campaign) is left as it is.

        Raises
        ------
        StoreError
            If the database cannot be written (full, locked longer than the timeout, read-only);
            nothing of the unit is stored.
        """
        now = time.time()
        with self._transaction(f"storing work unit {unit}"):
            if self.conn.execute("SELECT 1 FROM work_units WHERE campaign_id=? AND unit=?",
                                 (campaign_id, unit)).fetchone():
                return
            for item in pcfs:
                fid = self._insert_formula(
                    "pcf", pcf_key(item["a"], item["b"]),
                    {"a": list(map(int, item["a"])), "b": list(map(int, item["b"]))},
                    campaign_id, unit, now,
                )
                m = item["metrics"]
                self.conn.execute(
                    # Column names are this module's constants and values are bound: no injection.
                    f"INSERT OR IGNORE INTO metrics(formula_id, {', '.join(METRIC_COLUMNS)}) "  # noqa: S608
                    f"VALUES (?, {', '.join('?' * len(METRIC_COLUMNS))})",
                    (fid, *[m.get(k) if k in ("convergence_class", "complex_eigen", "depth") else _num(m.get(k))
                            for k in METRIC_COLUMNS]),
                )
                if item.get("identification"):
                    self._insert_identification(fid, item["identification"], now)
            self.conn.execute(
                "INSERT INTO work_units(campaign_id, unit, candidates, converged, done, measured, dropped) "
                "VALUES (?,?,?,?,?,?,?)",
                (campaign_id, unit, candidates, converged, now, converged if measured is None else measured,
                 dropped),
            )

    def _insert_formula(self, kind, key, genome, campaign_id, unit, now, **program) -> int:
        self.conn.execute(
            "INSERT OR IGNORE INTO formulas(kind, canonical_key, genome, campaign_id, unit, created, "
            "target, interval, ops, max_error, expression, bound, infinities, max_ulp, equivalence_key) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (kind, key, json.dumps(genome), campaign_id, unit, now,
             program.get("target"), json.dumps(program["interval"]) if "interval" in program else None,
             program.get("ops"), _num(program.get("max_error")), program.get("expression"),
             _bound(program.get("bound")),
             None if program.get("infinities") is None else int(bool(program["infinities"])),
             None if program.get("max_ulp") is None else int(program["max_ulp"]),
             equivalence_key(PCF(genome["a"], genome["b"])) if kind == "pcf" else None),
        )
        fid = int(self.conn.execute("SELECT id FROM formulas WHERE canonical_key=?", (key,)).fetchone()[0])
        if campaign_id is not None:
            self.conn.execute("INSERT OR IGNORE INTO campaign_formulas(campaign_id, formula_id, unit) VALUES (?,?,?)",
                              (campaign_id, fid, unit))
        return fid

    def _insert_identification(self, formula_id: int, ident: dict, now: float) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO identifications(formula_id, constant, kind, basis, relation, closed_form, "
            "digits_verified, depth, found) VALUES (?,?,?,?,?,?,?,?,?)",
            (formula_id, ident.get("constant"), ident["kind"], json.dumps(list(ident["basis"])),
             json.dumps([int(c) for c in ident["relation"]]), ident["closed_form"],
             float(ident["digits_verified"]) if math.isfinite(ident["digits_verified"]) else 1e9,
             ident.get("depth"), now),
        )

    def write_programs(
        self, campaign_id: int | None, target: str, interval: Sequence[float], programs: Iterable[dict],
        unit: int | None = None, candidates: int = 0,
    ) -> list[int]:
        """Store evolved programs for a target, in one transaction.

        Parameters
        ----------
        campaign_id : int or None
            The campaign that found them (None: none).
        target : str
        interval : (float, float)
        programs : iterable of dict
            Each has ``genome`` (Program.to_json()), ``ops``, ``max_error`` (the scanned maximum,
            :func:`discovery.programs.verify.max_error`) and ``expression`` (sympy-parsable in x),
            and optionally ``bound`` (proven, :func:`discovery.programs.bound.error_bound`; inf
            when none was proved), ``infinities``
            (:func:`discovery.programs.verify.reaches_infinity`) and ``max_ulp`` (the exhaustive
            float32 ULP error, ulp32 error mode).
        unit : int, optional
            Mark this work unit of the campaign done in the same transaction.
        candidates : int
            The unit's count of programs tried.

        Returns
        -------
        list of int
            The formula ids; the same program for the same target and interval is stored once.
        """
        now = time.time()
        ids = []
        with self._transaction("storing programs"):
            for prog in programs:
                key = "program:" + json.dumps([target, list(map(float, interval)), prog["genome"]], sort_keys=True,
                                              separators=(",", ":"))
                ids.append(self._insert_formula(
                    "program", key, prog["genome"], campaign_id, None, now, target=target,
                    interval=list(map(float, interval)), ops=int(prog["ops"]), max_error=prog["max_error"],
                    expression=prog["expression"], bound=prog.get("bound"), infinities=prog.get("infinities"),
                    max_ulp=prog.get("max_ulp"),
                ))
            if unit is not None:
                self.conn.execute(
                    "INSERT OR IGNORE INTO work_units(campaign_id, unit, candidates, converged, done) "
                    "VALUES (?,?,?,?,?)",
                    (campaign_id, unit, candidates, len(ids), now),
                )
        return ids

    def add_identification(self, formula_id: int, ident: dict) -> None:
        """Store an identification of an already stored formula (kept if one exists).

        Parameters
        ----------
        formula_id : int
        ident : dict
            ``constant, kind, basis, relation, closed_form, digits_verified`` and optionally
            ``depth``.
        """
        with self._transaction("storing an identification"):
            self._insert_identification(formula_id, ident, time.time())

    def write_clusters(self, campaign_id: int, clusters: list[dict]) -> None:
        """Replace a campaign's clusters, in one transaction.

        Parameters
        ----------
        campaign_id : int
        clusters : list of dict
            Each has ``label, plane, size, centroid, spread, constants, members`` (formula ids).
        """
        with self._transaction("storing clusters"):
            self._replace_clusters(campaign_id, clusters)

    def _replace_clusters(self, campaign_id: int, clusters: list[dict]) -> None:
        old = [r[0] for r in self.conn.execute("SELECT id FROM clusters WHERE campaign_id=?", (campaign_id,))]
        for cid in old:
            self.conn.execute("DELETE FROM cluster_members WHERE cluster_id=?", (cid,))
        self.conn.execute("DELETE FROM clusters WHERE campaign_id=?", (campaign_id,))
        for c in clusters:
            cur = self.conn.execute(
                "INSERT INTO clusters(campaign_id, label, plane, size, centroid, spread, constants) "
                "VALUES (?,?,?,?,?,?,?)",
                (campaign_id, c["label"], json.dumps(list(c["plane"])), c["size"], json.dumps(c["centroid"]),
                 json.dumps(c["spread"]), json.dumps(c["constants"])),
            )
            self.conn.executemany(
                "INSERT INTO cluster_members(cluster_id, formula_id) VALUES (?,?)",
                [(cur.lastrowid, int(f)) for f in c["members"]],
            )

    def fill_equivalence_keys(self) -> int:
        """Compute the equivalence key of every stored PCF that has none (rows written before
        schema 6), in one transaction; returns how many were filled."""
        with self._guard("reading it"):
            rows = self.conn.execute(
                "SELECT id, genome FROM formulas WHERE kind='pcf' AND equivalence_key IS NULL").fetchall()
        if not rows:
            return 0
        keys = [(equivalence_key(PCF(**json.loads(r["genome"]))), r["id"]) for r in rows]
        with self._transaction("storing equivalence keys"):
            self.conn.executemany("UPDATE formulas SET equivalence_key=? WHERE id=?", keys)
        return len(keys)

    def write_novelty(self, labels: dict[int, tuple[str, str]]) -> None:
        """Store the novelty label and reason of identified PCFs (formula id -> (label, reason)),
        replacing earlier ones, in one transaction."""
        with self._transaction("storing novelty labels"):
            self.conn.executemany("UPDATE identifications SET novelty=?, novelty_reason=? WHERE formula_id=?",
                                  [(label, reason, int(fid)) for fid, (label, reason) in labels.items()])

    def write_cmf_placements(self, placements: dict[int, dict]) -> None:
        """Store where PCFs sit on conservative matrix fields (formula id -> record with ``cmf,
        direction, start, how, mobius, of_walk, detail``; see :mod:`discovery.cmf.unify`),
        replacing earlier placements of the same formulas, in one transaction."""
        now = time.time()
        with self._transaction("storing CMF placements"):
            self.conn.executemany(
                "INSERT OR REPLACE INTO cmf_placements(formula_id, cmf, direction, start, how, mobius, of_walk, "
                "detail, found) VALUES (?,?,?,?,?,?,?,?,?)",
                [(int(fid), p["cmf"], json.dumps([int(c) for c in p["direction"]]),
                  json.dumps([str(c) for c in p["start"]]), p["how"], json.dumps([int(c) for c in p["mobius"]]),
                  int(bool(p["of_walk"])), p["detail"], now) for fid, p in placements.items()])

    def write_families(self, campaign_id: int | None, families: list[dict], seconds: float = 0.0) -> list[int]:
        """Replace the families of a campaign in one transaction, and record the run.

        Parameters
        ----------
        campaign_id : int or None
            The campaign (None: the whole database).
        families : list of dict
            Each is a :func:`discovery.families.family_record`: ``constants, base, direction,
            closed_form_k, closed_form_verified, fit, members``; each member has ``k, a, b,
            in_box, formula_id`` (None outside the box), ``identification`` (of a, b),
            ``canonical`` and ``canonical_identification`` (of the canonical form, stored with a
            new formula).  Members outside the box are stored as formulas of no campaign.
        seconds : float
            How long the detection took (see :meth:`~discovery.store.reads.Reader.family_run`).

        Returns
        -------
        list of int
            The family ids; a family whose line (base, direction) was stored before for the same
            campaign keeps its id.
        """
        now = time.time()
        ids = []
        with self._transaction("storing families"):
            # A family keeps its id when detection finds its line again (users keep links to it);
            # a new line takes an id above every family stored, the ones replaced here included.
            old = {(r["base"], r["direction"]): r["id"] for r in self.conn.execute(
                "SELECT id, base, direction FROM families WHERE campaign_id IS ?", (campaign_id,))}
            fresh = self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM families").fetchone()[0]
            for fam in old.values():
                self.conn.execute("DELETE FROM family_members WHERE family_id=?", (fam,))
            self.conn.execute("DELETE FROM families WHERE campaign_id IS ?", (campaign_id,))
            self.conn.execute("DELETE FROM family_runs WHERE campaign_id IS ?", (campaign_id,))
            self.conn.execute("INSERT INTO family_runs(campaign_id, seconds, done) VALUES (?,?,?)",
                              (campaign_id, float(seconds), now))
            for f in families:
                line = (json.dumps(f["base"]), json.dumps(f["direction"]))
                fam = old.get(line)
                if fam is None:
                    fam, fresh = fresh, fresh + 1
                self.conn.execute(
                    "INSERT INTO families(id, campaign_id, constants, base, direction, closed_form_k, "
                    "closed_form_verified, fit, created) VALUES (?,?,?,?,?,?,?,?,?)",
                    (fam, campaign_id, json.dumps(f["constants"]), *line,
                     f["closed_form_k"], int(bool(f["closed_form_verified"])), json.dumps(f["fit"]), now),
                )
                ids.append(int(fam))
                for m in f["members"]:
                    fid = m["formula_id"]
                    if fid is None:
                        canon = m["canonical"]
                        fid = self._insert_formula("pcf", pcf_key(canon["a"], canon["b"]), canon, None, None, now)
                    if m.get("canonical_identification"):
                        self._insert_identification(fid, m["canonical_identification"], now)
                    ident = m["identification"]
                    digits = ident["digits_verified"]
                    self.conn.execute(
                        "INSERT INTO family_members(family_id, k, formula_id, a, b, in_box, constant, relation, "
                        "closed_form, digits_verified) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (ids[-1], int(m["k"]), fid, json.dumps(list(m["a"])), json.dumps(list(m["b"])),
                         int(bool(m["in_box"])), ident["constant"], json.dumps([int(c) for c in ident["relation"]]),
                         ident["closed_form"], float(digits) if math.isfinite(digits) else 1e9),
                    )
        return ids
