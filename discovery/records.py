"""Typed records: what the pipeline hands to the formula store, and reads back, in one place each.

Each record is a frozen dataclass with ``to_json()`` (the plain dict the store's writers take and
the JSON files and workers carry) and ``from_row(mapping)`` (the same dict back).  The dicts are
exactly those the store took before these types existed, so its query output and the JSON of the
command line do not change.

- :class:`IdentificationRecord`: a confirmed closed form of a formula's limit
  (:meth:`IdentificationRecord.of` converts a :class:`discovery.identify.Identification`).
- :class:`PcfRecord`: one PCF a work unit met, with its metrics and identification.
- :class:`UnitResult`: the counts and PCFs of one work unit (enumeration) or generation (evolution).
- :class:`ProgramRecord`: a program of a program campaign's front.
- :class:`FamilyMemberRecord`, :class:`FamilyRecord`: a family of PCFs with its members.

This module sits below the campaign layer and :mod:`discovery.families`, beside
:mod:`discovery.identify`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from discovery.constants import CATALOG
from discovery.identify import Identification


def _stored_constant(name: str | None) -> str | None:
    """The stored name of a constant or a product of constants (``myk^2*pi``): each factor by
    its key (name and value digest for a user's constant)."""
    if not name:
        return name
    factors = []
    for factor in name.split("*"):
        base, caret, power = factor.partition("^")
        entry = CATALOG.get(base)
        factors.append((entry.key if entry is not None else base) + caret + power)
    return "*".join(factors)


@dataclass(frozen=True)
class IdentificationRecord:
    """What the store keeps of an identification.

    A user's constant is stored by its key (name and value digest), so campaigns giving one name
    different values never mix.
    """

    constant: str | None
    kind: str
    basis: tuple[str, ...]
    relation: tuple[int, ...]
    closed_form: str
    digits_verified: float
    depth: int | None = None

    @classmethod
    def of(cls, found: Identification) -> IdentificationRecord:
        """The record of an identification (its constant by its stored key)."""
        return cls(_stored_constant(found.constant), found.kind, tuple(found.basis), tuple(found.relation),
                   found.closed_form, found.digits_verified, found.depth)

    def to_json(self) -> dict:
        return {
            "constant": self.constant,
            "kind": self.kind,
            "basis": list(self.basis),
            "relation": list(self.relation),
            "closed_form": self.closed_form,
            "digits_verified": self.digits_verified,
            "depth": self.depth,
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> IdentificationRecord:
        return cls(row["constant"], row["kind"], tuple(row["basis"]), tuple(row["relation"]), row["closed_form"],
                   row["digits_verified"], row.get("depth"))


def identification_record(found: Identification) -> dict:
    """The stored form (``to_json``) of an identification: see :class:`IdentificationRecord`."""
    return IdentificationRecord.of(found).to_json()


def _identification(row) -> IdentificationRecord | None:
    return None if not row else IdentificationRecord.from_row(row)


@dataclass(frozen=True)
class PcfRecord:
    """One PCF a work unit stores: ``row`` (its index in the unit's arrays), coefficients
    (highest degree first), ``metrics`` (a row of :data:`discovery.store.METRIC_COLUMNS`) and its
    identification, if any."""

    row: int
    a: list[int]
    b: list[int]
    metrics: dict
    identification: IdentificationRecord | None = None

    def to_json(self) -> dict:
        return {"row": self.row, "a": self.a, "b": self.b, "metrics": self.metrics,
                "identification": None if self.identification is None else self.identification.to_json()}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PcfRecord:
        return cls(int(row["row"]), list(row["a"]), list(row["b"]), dict(row["metrics"]),
                   _identification(row.get("identification")))

    def shifted(self, offset: int) -> PcfRecord:
        """The same record with its row moved by ``offset`` (a chunk's rows in the whole batch)."""
        return PcfRecord(self.row + offset, self.a, self.b, self.metrics, self.identification)


@dataclass(frozen=True)
class UnitResult:
    """What one work unit computed: ``candidates`` evaluated, ``converged``, ``measured`` (exact
    metric computations), ``dropped`` (by triage) and the ``pcfs`` to store.  ``unit`` is None for
    a batch that is not a unit of its own (a chunk of an evolution's generation)."""

    candidates: int
    converged: int
    measured: int = 0
    dropped: int = 0
    pcfs: tuple[PcfRecord, ...] = field(default=())
    unit: int | None = None

    @property
    def identified(self) -> int:
        """How many of its PCFs were identified."""
        return sum(1 for p in self.pcfs if p.identification is not None)

    def to_json(self) -> dict:
        out = {"unit": self.unit} if self.unit is not None else {}
        out.update(candidates=self.candidates, converged=self.converged, measured=self.measured,
                   dropped=self.dropped, pcfs=[p.to_json() for p in self.pcfs])
        return out

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> UnitResult:
        return cls(row["candidates"], row["converged"], row["measured"], row["dropped"],
                   tuple(PcfRecord.from_row(p) for p in row["pcfs"]), row.get("unit"))

    @classmethod
    def merged(cls, parts: list[UnitResult], offsets: list[int], unit: int | None = None) -> UnitResult:
        """Batches of one unit as one result: counts summed, rows moved by each part's offset."""
        return cls(sum(p.candidates for p in parts), sum(p.converged for p in parts),
                   sum(p.measured for p in parts), sum(p.dropped for p in parts),
                   tuple(r.shifted(o) for p, o in zip(parts, offsets) for r in p.pcfs), unit)

    def write(self, store, campaign_id: int, unit: int) -> None:
        """Store the unit's PCFs and its done mark (one transaction of the store)."""
        store.write_unit(campaign_id, unit, self.candidates, self.converged, [p.to_json() for p in self.pcfs],
                         self.measured, self.dropped)


@dataclass(frozen=True)
class ProgramRecord:
    """A program of a front as :meth:`discovery.store.FormulaStore.write_programs` takes it:
    ``genome`` (``Program.to_json()``), ``ops``, the scanned ``max_error``, the proven ``bound``,
    ``infinities``, the ``expression`` and, under the ``ulp32`` error mode, ``max_ulp``."""

    genome: Any
    ops: int
    max_error: float
    bound: float | None
    infinities: Any
    expression: str
    max_ulp: float | None = None
    ulp32: bool = False

    def to_json(self) -> dict:
        out = {"genome": self.genome, "ops": self.ops, "max_error": self.max_error, "bound": self.bound,
               "infinities": self.infinities, "expression": self.expression}
        if self.ulp32:
            out["max_ulp"] = self.max_ulp
        return out

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ProgramRecord:
        return cls(row["genome"], row["ops"], row["max_error"], row.get("bound"), row.get("infinities"),
                   row["expression"], row.get("max_ulp"), "max_ulp" in row)


@dataclass(frozen=True)
class FamilyMemberRecord:
    """A member of a family: its k, coefficients, whether it is a stored formula of the campaign
    (``in_box``, with ``formula_id``), its identification, and its canonical form with that
    form's own identification."""

    k: int
    a: list[int]
    b: list[int]
    in_box: bool
    formula_id: int | None
    identification: IdentificationRecord
    canonical: dict
    canonical_identification: IdentificationRecord | None

    def to_json(self) -> dict:
        return {
            "k": self.k, "a": self.a, "b": self.b, "in_box": self.in_box, "formula_id": self.formula_id,
            "identification": self.identification.to_json(), "canonical": self.canonical,
            "canonical_identification": (None if self.canonical_identification is None
                                         else self.canonical_identification.to_json()),
        }

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FamilyMemberRecord:
        return cls(row["k"], list(row["a"]), list(row["b"]), row["in_box"], row["formula_id"],
                   IdentificationRecord.from_row(row["identification"]), dict(row["canonical"]),
                   _identification(row.get("canonical_identification")))


@dataclass(frozen=True)
class FamilyRecord:
    """What :meth:`discovery.store.FormulaStore.write_families` stores of a family."""

    constants: list[str]
    base: dict
    direction: dict
    closed_form_k: str | None
    closed_form_verified: bool
    fit: dict
    members: tuple[FamilyMemberRecord, ...]

    def to_json(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["members"] = [m.to_json() for m in self.members]
        return out

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FamilyRecord:
        return cls(list(row["constants"]), row["base"], row["direction"], row["closed_form_k"],
                   row["closed_form_verified"], row["fit"],
                   tuple(FamilyMemberRecord.from_row(m) for m in row["members"]))


# --- the history of an evolution -----------------------------------------------------------------
_BEST_KEPT = 5


@dataclass(frozen=True)
class GenerationRecord:
    """One generation of a PCF evolution: how far the search got and the best (smallest,
    objectives being minimised) value of each objective in its population."""

    generation: int
    evaluations: int
    seconds: float
    best: tuple[float, ...]

    def to_json(self) -> tuple:
        return (self.generation, self.evaluations, self.seconds, *self.best)

    @classmethod
    def from_row(cls, row) -> GenerationRecord:
        return cls(int(row[0]), int(row[1]), float(row[2]), tuple(float(v) for v in row[3:]))


def record_generation(state, coefficients, keep: int = _BEST_KEPT) -> None:
    """Add the generation just finished to the search's history, in its state's ``extra``.

    The history lives in the checkpoint the engine saves after this call (``extra["history"]``,
    one :class:`GenerationRecord` a generation, and ``extra["best"]``, the ``keep`` best distinct
    PCFs met per objective as (value, a, b)), so a resumed run neither loses nor repeats a row:
    a generation computed again after a crash replaces its row.

    Parameters
    ----------
    state : discovery.checkpoints.EvolutionState
        After a generation (``population``, ``objectives``, ``generation``, ``evaluations``,
        ``extra["seconds"]``).
    coefficients : callable
        Genome -> (a, b) coefficient lists.
    keep : int
        Best PCFs kept per objective.
    """
    F = [[float(v) for v in row] for row in state.objectives]
    history = [r for r in state.extra.get("history", ()) if r[0] < state.generation]
    best_now = tuple(min(col) for col in zip(*F)) if F else ()
    row = GenerationRecord(int(state.generation), int(state.evaluations),
                           float(state.extra.get("seconds", 0.0)), best_now)
    state.extra["history"] = tuple(history) + (row.to_json(),)
    pcfs = [tuple(tuple(int(c) for c in side) for side in coefficients(g)) for g in state.population]
    previous = state.extra.get("best", ())
    best = []
    for j in range(len(best_now)):
        seen = {(tuple(a), tuple(b)): v for v, a, b in (previous[j] if j < len(previous) else ())}
        for (a, b), f in zip(pcfs, F):
            seen[(a, b)] = min(f[j], seen.get((a, b), f[j]))
        ranked = sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))[:keep]
        best.append(tuple((v, a, b) for (a, b), v in ranked))
    state.extra["best"] = tuple(best)


def evolution_history(extra: Mapping) -> tuple[list[GenerationRecord], list[list[tuple[float, list, list]]]]:
    """(history rows, best PCFs per objective as (value, a, b)) recorded by
    :func:`record_generation` in an evolution state's ``extra``; empty for a search that kept none."""
    rows = [GenerationRecord.from_row(r) for r in extra.get("history", ())]
    best = [[(float(v), list(a), list(b)) for v, a, b in per] for per in extra.get("best", ())]
    return rows, best
