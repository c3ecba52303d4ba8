"""Reads: the evolve and closing stages' reads and the user-facing :meth:`Reader.query`.

:meth:`Reader.query` returns plain dicts (the JSON and CSV output of ``discovery query`` is made
of them), one record per formula:

PCF record (``kind == "pcf"``)
    ``id``; ``kind``; ``a``, ``b`` (coefficient lists, highest degree first); ``limit`` (the
    float limit at the metric depth); ``delta`` (FR δ) and the other metrics ``naive_delta,
    gamma_prime, eta_prime, eigen_log_ratio, gamma, eta, convergence_class`` (None when not
    measured); the identification, all None when there is none: ``constant`` (the constant's key,
    :attr:`discovery.constants.Constant.key`; None for a rational or quadratic limit),
    ``closed_form`` (sympy-parsable), ``relation`` (integer list), ``digits_verified`` (inf for an
    exact rational), ``verified_depth``; ``cluster`` (its label within the campaign, or None);
    ``campaign`` (the campaign filtered on, else the one that found it first); ``family`` (the
    first family it belongs to, one of the campaign's with a campaign filter, or None);
    ``equivalence_key`` (:func:`discovery.pcf.equivalence.equivalence_key`); ``novelty`` (``known``,
    ``family``, ``classical`` or ``new``; None until labelled) and ``novelty_reason``
    (:mod:`discovery.novelty`).
program record (``kind == "program"``)
    ``id``; ``kind``; ``target``; ``interval`` (``[lo, hi]``); ``ops``; ``max_error`` (scanned);
    ``bound`` (proven; None when not computed, inf when none was proved); ``infinities`` (bool,
    or None when not checked); ``max_ulp`` (float32 error in ULPs, ulp32 error mode, else None);
    ``expression`` (sympy-parsable in ``x``); ``genome`` (:meth:`Program.to_json
    <discovery.programs.graph.Program.to_json>`); ``campaign``.

:meth:`Reader.families` returns family records, described there.
"""

from __future__ import annotations

import json
import math
import sqlite3

from discovery.errors import InputError
from discovery.novelty import NOVELTY_LABELS
from discovery.store.db import METRIC_COLUMNS, Database
from discovery.constants import get

# The orders :meth:`Reader.query` offers (``sort=``), each a fixed ORDER BY: best first, unknown last.
QUERY_SORTS = {
    "constant": "i.digits_verified IS NULL, i.constant, f.target, f.ops, f.id",
    "delta": "m.delta IS NULL, m.delta DESC, f.id",
    "digits": "i.digits_verified IS NULL, i.digits_verified DESC, f.id",
    "id": "f.id",
    "error": "f.max_error IS NULL, f.max_error, f.ops, f.id",
}


class Reader(Database):
    """The reads of :class:`~discovery.store.FormulaStore`."""

    def constant_key(self, name: str) -> str:
        """What identifications store for a constant: its key (:attr:`discovery.constants.Constant.key`).

        A name of the catalog (aliases accepted) gives its key; any other name may be a user's
        constant stored here by a campaign, as ``name`` or ``name@digest``; a name stored with
        several values (two catalogs defining it differently) must be given with its digest.

        Parameters
        ----------
        name : str

        Returns
        -------
        str

        Raises
        ------
        InputError
            For a name neither in the catalog nor stored, or stored with several values.
        """
        try:
            return get(name).key
        except ValueError as unknown:
            prefix = f"{name}@"
            with self._guard("reading it"):
                stored = [r[0] for r in self.conn.execute(
                    "SELECT DISTINCT constant FROM identifications WHERE constant=? OR (substr(constant, 1, ?)=? "
                    "AND instr(constant, '*')=0 AND instr(constant, '^')=0) ORDER BY constant",
                    (str(name), len(prefix), prefix))]
            if len(stored) == 1:
                return stored[0]
            if stored:
                raise InputError(f"constant {name!r} is stored in {self.path} with {len(stored)} different values "
                                 f"({', '.join(stored)}); give one of these") from None
            raise unknown

    def metric_table(self, campaign_id: int) -> tuple[list[int], list[dict]]:
        """The metrics of a campaign's PCFs, for clustering.

        Parameters
        ----------
        campaign_id : int

        Returns
        -------
        ids : list of int
            Formula ids of the campaign's PCFs with metrics, ascending.
        rows : list of dict
            For each, ``id``, ``genome`` (JSON) and the :data:`~discovery.store.db.METRIC_COLUMNS`.
        """
        with self._guard("reading it"):
            rows = self.conn.execute(
                f"SELECT f.id, f.genome, {', '.join('m.' + k for k in METRIC_COLUMNS)} FROM formulas f "  # noqa: S608
                "JOIN metrics m ON m.formula_id=f.id JOIN campaign_formulas cf ON cf.formula_id=f.id "
                "WHERE cf.campaign_id=? AND f.kind='pcf' ORDER BY f.id",
                (campaign_id,),
            ).fetchall()
        return [r["id"] for r in rows], [dict(r) for r in rows]

    def labelled(self, campaign_id: int, all_stored: bool = False,
                 units: tuple[int | None, int | None] = (None, None)) -> list[dict]:
        """A campaign's measured PCFs with what triage learns from.

        Parameters
        ----------
        campaign_id : int
        all_stored : bool
            Also those it stored without exact metrics.
        units : (int or None, int or None)
            ``(lo, hi)``: only those met in units lo < unit <= hi (None: unbounded).

        Returns
        -------
        list of dict
            ``genome`` (JSON), ``unit`` (where the campaign met it), ``delta``, ``naive_delta``,
            ``convergence_class`` and ``identified``, by formula id.
        """
        lo, hi = units
        with self._guard("reading it"):
            rows = self.conn.execute(
                "SELECT f.genome, cf.unit, m.delta, m.naive_delta, m.convergence_class, "
                "i.formula_id IS NOT NULL AS identified FROM campaign_formulas cf "
                "JOIN formulas f ON f.id=cf.formula_id JOIN metrics m ON m.formula_id=f.id "
                "LEFT JOIN identifications i ON i.formula_id=f.id "
                "WHERE cf.campaign_id=? AND f.kind='pcf' AND (? OR m.gamma_prime IS NOT NULL) "
                "AND (? IS NULL OR cf.unit > ?) AND (? IS NULL OR cf.unit <= ?) ORDER BY f.id",
                (campaign_id, all_stored, lo, lo, hi, hi),
            ).fetchall()
        return [dict(r) for r in rows]

    def cluster_centroids(self, exclude: int | None = None) -> list[tuple[float, float, float]]:
        """The (δ, γ′, η′) centroids of every stored cluster.

        Parameters
        ----------
        exclude : int, optional
            Leave out this campaign's own clusters.

        Returns
        -------
        list of (float, float, float)
            By cluster id; a centroid lacking one of the three is left out.
        """
        with self._guard("reading it"):
            rows = self.conn.execute("SELECT centroid FROM clusters WHERE campaign_id IS NOT ? ORDER BY id",
                                     (exclude,)).fetchall()
        out = []
        for (text,) in rows:
            c = json.loads(text)
            point = (c.get("delta"), c.get("gamma_prime"), c.get("eta_prime"))
            if all(isinstance(v, (int, float)) for v in point):
                out.append(tuple(float(v) for v in point))
        return out

    def formula_id(self, key: str, campaign_id: int | None = None) -> int | None:
        """The id of the formula with this canonical key.

        Parameters
        ----------
        key : str
            A canonical key (:func:`~discovery.store.writes.pcf_key` for a PCF).
        campaign_id : int, optional
            Only a formula this campaign met.

        Returns
        -------
        int or None
            None if no such formula is stored (or the campaign did not meet it).
        """
        with self._guard("reading it"):
            if campaign_id is None:
                row = self.conn.execute("SELECT id FROM formulas WHERE canonical_key=?", (key,)).fetchone()
            else:
                row = self.conn.execute(
                    "SELECT f.id FROM formulas f JOIN campaign_formulas cf ON cf.formula_id=f.id "
                    "WHERE f.canonical_key=? AND cf.campaign_id=?", (key, campaign_id)).fetchone()
        return None if row is None else int(row[0])

    def family_run(self, campaign_id: int | None) -> dict | None:
        """The last family detection of a campaign.

        Parameters
        ----------
        campaign_id : int or None
            The campaign (None: the whole database).

        Returns
        -------
        dict or None
            ``seconds`` (it took) and ``done`` (time), or None if it never ran.
        """
        with self._guard("reading it"):
            row = self.conn.execute("SELECT seconds, done FROM family_runs WHERE campaign_id IS ?",
                                    (campaign_id,)).fetchone()
        return None if row is None else dict(row)

    def families(self, campaign: str | None = None, family: int | None = None) -> list[dict]:
        """Stored families, largest first, as plain records.

        Parameters
        ----------
        campaign : str, optional
            Only the families detected for this campaign (default: all).
        family : int, optional
            Only this family.

        Returns
        -------
        list of dict
            ``id, campaign, constants, base, direction`` (each ``{"a", "b"}``, highest degree
            first), ``members`` (``k, a, b, in_box, constant, closed_form, relation,
            digits_verified, formula_id``, by k), ``closed_form_k``, ``closed_form_verified`` and
            ``fit``.
        """
        where, args = [], []
        if campaign is not None:
            where.append("k.name=?")
            args.append(campaign)
        if family is not None:
            where.append("fa.id=?")
            args.append(int(family))
        # Fixed clauses with bound values: the text holds no user input.
        sql = ("SELECT fa.*, k.name AS campaign FROM families fa LEFT JOIN campaigns k ON k.id=fa.campaign_id"  # noqa: S608
               + (" WHERE " + " AND ".join(where) if where else ""))
        with self._guard("reading it"):
            rows = self.conn.execute(sql, args).fetchall()
            out = []
            for r in rows:
                members = [{
                    "k": m["k"], "a": json.loads(m["a"]), "b": json.loads(m["b"]), "in_box": bool(m["in_box"]),
                    "constant": m["constant"], "closed_form": m["closed_form"],
                    "relation": json.loads(m["relation"]),
                    "digits_verified": math.inf if m["digits_verified"] >= 1e9 else m["digits_verified"],
                    "formula_id": m["formula_id"],
                } for m in self.conn.execute("SELECT * FROM family_members WHERE family_id=? ORDER BY k", (r["id"],))]
                out.append({
                    "id": r["id"], "campaign": r["campaign"], "constants": json.loads(r["constants"]),
                    "base": json.loads(r["base"]), "direction": json.loads(r["direction"]), "members": members,
                    "closed_form_k": r["closed_form_k"], "closed_form_verified": bool(r["closed_form_verified"]),
                    "fit": json.loads(r["fit"]),
                })
        out.sort(key=lambda f: (-len(f["members"]), f["id"]))
        return out

    def cmf_placements(self) -> dict[int, dict]:
        """The stored CMF placements (see :meth:`~discovery.store.writes.Writer.write_cmf_placements`),
        by formula id; each record has ``cmf, direction, start, how, mobius, of_walk, detail, found``."""
        with self._guard("reading it"):
            rows = self.conn.execute("SELECT * FROM cmf_placements ORDER BY formula_id").fetchall()
        return {r["formula_id"]: {"cmf": r["cmf"], "direction": json.loads(r["direction"]),
                                  "start": json.loads(r["start"]), "how": r["how"], "mobius": json.loads(r["mobius"]),
                                  "of_walk": bool(r["of_walk"]), "detail": r["detail"], "found": r["found"]}
                for r in rows}

    def query(
        self,
        kind: str | None = None,
        constant: str | None = None,
        cluster: int | None = None,
        min_digits: float | None = None,
        delta: tuple[float, float] | None = None,
        target: str | None = None,
        campaign: str | None = None,
        identified: bool | None = None,
        limit: int | None = None,
        family: int | None = None,
        novelty: str | None = None,
        equivalence_key: str | None = None,
        sort: str = "constant",
    ) -> list[dict]:
        """Stored formulas as plain records, filtered.

        Parameters
        ----------
        kind : {'pcf', 'program'}, optional
        constant : str, optional
            Catalog name (aliases accepted) of the identified constant.
        cluster : int, optional
            Cluster label (within its campaign) the formula belongs to.
        min_digits : float, optional
            Minimum digits verified.
        delta : (float, float), optional
            Range of FR δ.
        target : str, optional
            Target function of a program.
        campaign : str, optional
            Campaign name.
        identified : bool, optional
            Only identified (True) or unidentified (False) formulas.
        limit : int, optional
        family : int, optional
            Only the members of this family (see :meth:`families`).
        novelty : {'known', 'family', 'classical', 'new'}, optional
            Only identified PCFs with this novelty label (see :mod:`discovery.novelty`).
        equivalence_key : str, optional
            Only PCFs of this equivalence class (:func:`discovery.pcf.equivalence.equivalence_key`):
            the same formula up to equivalence transforms, inflation and tails.
        sort : str
            A key of :data:`QUERY_SORTS`: ``constant`` (identified formulas first, by constant, then
            by target, operation count and id), ``delta`` (highest first), ``digits`` (most verified
            first), ``id`` or ``error`` (programs, smallest maximum error first); ``limit`` applies
            after sorting.

        Returns
        -------
        list of dict
            PCF and program records, their keys listed in :mod:`discovery.store.reads`, in the
            ``sort`` order.

        Raises
        ------
        InputError
            For an unknown kind, constant or sort key, or an empty delta range.
        """
        where, args = self._filters(kind=kind, constant=constant, cluster=cluster, min_digits=min_digits,
                                    delta=delta, target=target, campaign=campaign, identified=identified,
                                    family=family, novelty=novelty, equivalence_key=equivalence_key)
        sql = _select(by_campaign=campaign is not None)
        if where:
            sql += " WHERE " + " AND ".join(where)
        if sort not in QUERY_SORTS:
            raise InputError(f"sort must be one of {', '.join(QUERY_SORTS)}, got {sort!r}")
        sql += " ORDER BY " + QUERY_SORTS[sort]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with self._guard("reading it"):
            return [_record(r) for r in self.conn.execute(sql, args)]

    def _filters(self, *, kind, constant, cluster, min_digits, delta, target, campaign, identified,
                 family, novelty=None, equivalence_key=None) -> tuple[list[str], list]:
        """The WHERE clauses of :meth:`query` and their bound values, in order."""
        where, args = [], []
        if kind is not None:
            if kind not in ("pcf", "program"):
                raise InputError(f"kind must be 'pcf' or 'program', got {kind!r}")
            where.append("f.kind=?")
            args.append(kind)
        if constant is not None:
            where.append("i.constant=?")
            args.append(self.constant_key(constant))
        if cluster is not None:
            where.append("c.label=?")
            args.append(int(cluster))
        if min_digits is not None:
            where.append("i.digits_verified>=?")
            args.append(float(min_digits))
        if delta is not None:
            lo, hi = delta
            if lo > hi:
                raise InputError(f"delta range is empty: {lo} > {hi}")
            where.append("m.delta BETWEEN ? AND ?")
            args.extend([float(lo), float(hi)])
        if target is not None:
            where.append("f.target=?")
            args.append(target)
        if campaign is not None:
            where.append("k.name=?")
            args.append(campaign)
        if identified is not None:
            where.append("i.formula_id IS NOT NULL" if identified else "i.formula_id IS NULL")
        if family is not None:
            where.append("f.id IN (SELECT formula_id FROM family_members WHERE family_id=?)")
            args.append(int(family))
        if novelty is not None:
            if novelty not in NOVELTY_LABELS:
                raise InputError(f"novelty must be one of {', '.join(NOVELTY_LABELS)}, got {novelty!r}")
            where.append("i.novelty=?")
            args.append(novelty)
        if equivalence_key is not None:
            where.append("f.equivalence_key=?")
            args.append(equivalence_key)
        return where, args


def _select(by_campaign: bool) -> str:
    """The SELECT and FROM of :meth:`Reader.query`, with or without a campaign filter."""
    # Every filter is a fixed clause with its value bound, so the text holds no user input.
    return (
        "SELECT f.id, f.kind, f.genome, f.target, f.interval, f.ops, f.max_error, f.bound, "  # noqa: S608
        "f.infinities, f.max_ulp, f.expression, "
        f"k.name AS campaign, {', '.join('m.' + c for c in METRIC_COLUMNS)}, "
        "i.constant, i.kind AS identification_kind, i.relation, i.closed_form, i.digits_verified, "
        "i.novelty, i.novelty_reason, f.equivalence_key, "
        "i.depth AS verified_depth, c.label AS cluster, "
        # With a campaign filter, the family is one detected for that campaign.
        "(SELECT MIN(fm.family_id) FROM family_members fm JOIN families fa ON fa.id=fm.family_id "
        "WHERE fm.formula_id=f.id" + (" AND fa.campaign_id=k.id" if by_campaign else "") + ") AS family "
        # A campaign filter reports the formula as that campaign met it (its cluster there);
        # without one, as the campaign that found it first.
        + ("FROM formulas f JOIN campaign_formulas cf ON cf.formula_id=f.id "
           "JOIN campaigns k ON k.id=cf.campaign_id "
           if by_campaign else "FROM formulas f LEFT JOIN campaigns k ON k.id=f.campaign_id ")
        + "LEFT JOIN metrics m ON m.formula_id=f.id LEFT JOIN identifications i ON i.formula_id=f.id "
        "LEFT JOIN clusters c ON c.campaign_id=k.id "
        "AND c.id IN (SELECT cluster_id FROM cluster_members WHERE formula_id=f.id)"
    )


def _record(r: sqlite3.Row) -> dict:
    """A row of :meth:`Reader.query` as a PCF or program record (see the module docstring)."""
    genome = json.loads(r["genome"])
    return _program_record(r, genome) if r["kind"] == "program" else _pcf_record(r, genome)


def _program_record(r: sqlite3.Row, genome) -> dict:
    return {
        "id": r["id"], "kind": "program", "target": r["target"],
        "interval": json.loads(r["interval"]) if r["interval"] else None,
        "ops": r["ops"], "max_error": r["max_error"], "bound": r["bound"],
        "infinities": None if r["infinities"] is None else bool(r["infinities"]),
        "max_ulp": r["max_ulp"], "expression": r["expression"], "genome": genome, "campaign": r["campaign"],
    }


def _pcf_record(r: sqlite3.Row, genome) -> dict:
    digits = r["digits_verified"]
    return {
        "id": r["id"],
        "kind": "pcf",
        "a": genome["a"],
        "b": genome["b"],
        "limit": r["limit_value"],
        "constant": r["constant"],
        "closed_form": r["closed_form"],
        "relation": json.loads(r["relation"]) if r["relation"] else None,
        "digits_verified": (math.inf if digits is not None and digits >= 1e9 else digits),
        "verified_depth": r["verified_depth"],
        "delta": r["delta"],
        "cluster": r["cluster"],
        "campaign": r["campaign"],
        "family": r["family"],
        "equivalence_key": r["equivalence_key"],
        "novelty": r["novelty"],
        "novelty_reason": r["novelty_reason"],
        "naive_delta": r["naive_delta"],
        "gamma_prime": r["gamma_prime"],
        "eta_prime": r["eta_prime"],
        "eigen_log_ratio": r["eigen_log_ratio"],
        "gamma": r["gamma"],
        "eta": r["eta"],
        "convergence_class": r["convergence_class"],
    }
