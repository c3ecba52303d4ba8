"""Infinite parametric families of PCFs: detection, extension beyond the box, closed form in k.

A family is an integer line g(k) = base + k·direction in the space of coefficient vectors (a's
coefficients then b's, highest degree first, padded to common degrees) whose members are formulas
for the same constants: the NeurIPS 2024 paper's b(n) = −n(2n + k), a(n) = 3n + k + 2 gives π at
odd k and ln 2 at even k.

1. **Detection.** Among stored formulas identified with one constant (their canonical forms), every
   set of ≥ ``min_members`` on one integer line is a candidate.  The line's direction is primitive
   with its first non-zero entry positive; its base is the point whose coordinate at the last
   non-zero entry of the direction lies in [0, |entry|), so the paper's family has base
   a = 3n + 2, b = −2n² and k equal to the paper's k.
2. **Extension.** Every k between the seeds, then outwards in both directions until ``extend``
   members outside the box are confirmed (or ``patience`` k in a row are not), is identified
   against the line's constants with exact convergents; a member counts only when its relation
   is confirmed to ``confirm_digits`` digits.  A candidate becomes a family only when at least
   ``min_new`` members outside the box are confirmed: three formulas that happen to be collinear
   do not continue, and are not called a family.
3. **Closed form in k.** For each constant, the members' Möbius relations L = −(c₀ + c₁x)/(c₂ + c₃x)
   are scaled so one coefficient is 1, and each other coefficient, a rational sequence in k, is
   fitted (:mod:`discovery.sequences`: polynomial, hypergeometric or partial sum) on a window of
   consecutive members, preferring members in the box.  The resulting formula is evaluated at
   every member outside the window and compared exactly; ``closed_form_verified`` says whether
   every such member agreed (at least :data:`MIN_HELD_OUT` per constant).

``in_box`` means the member is a stored formula of the campaign (or of the database when no
campaign is given).  Members found outside it are stored as formulas of no campaign, with their
identification, so ``discovery query --family ID`` lists every member.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import sympy
from tqdm import tqdm

from discovery import constants as catalog
from discovery.errors import InputError
from discovery.identify import Identification, identify_pcf
from discovery.pcf.formula import PCF
from discovery.records import FamilyMemberRecord, FamilyRecord, IdentificationRecord
from discovery.sequences import fit_sequence, from_json
from discovery.store import pcf_key

MIN_HELD_OUT = 2
FIT_WINDOW = 8
_DIGIT_LADDER = (30, 60, 100, 160)  # screening digits tried in turn: coefficients grow like k!! along a family
_MAX_DEPTH = 5_000  # deepest exact convergent a member is confirmed with, as for cluster representatives
_MAX_STEPS = 4  # a direction tries at most this many times `extend` values of k
K = sympy.Symbol("k", integer=True)


@dataclass(frozen=True)
class Line:
    """An integer line of coefficient vectors with its seed members.

    Attributes
    ----------
    base, direction : tuple of int
        g(k) = base + k·direction.
    seeds : dict
        Constant -> sorted k of the stored identified formulas on the line.
    """

    base: tuple[int, ...]
    direction: tuple[int, ...]
    seeds: dict


@dataclass
class Member:
    """One confirmed member of a family: g(k) and its identification."""

    k: int
    pcf: PCF
    in_box: bool
    identification: Identification
    formula_id: int | None = None


@dataclass
class Family:
    """A detected and extended family (see the module docstring)."""

    constants: tuple[str, ...]
    base: tuple[int, ...]
    direction: tuple[int, ...]
    degrees: tuple[int, int]
    members: list[Member]
    closed_form_k: str | None = None
    closed_form_verified: bool = False
    fit: dict = field(default_factory=dict)

    def split(self, vector: Sequence[int]) -> dict:
        """A coefficient vector as ``{"a": [...], "b": [...]}`` (padded, highest degree first)."""
        da = self.degrees[0] + 1
        return {"a": [int(c) for c in vector[:da]], "b": [int(c) for c in vector[da:]]}


def _vector(a: Sequence[int], b: Sequence[int], degrees: tuple[int, int]) -> tuple[int, ...]:
    da, db = degrees[0] + 1, degrees[1] + 1
    return tuple([0] * (da - len(a)) + list(a) + [0] * (db - len(b)) + list(b))


def _primitive(v: np.ndarray) -> np.ndarray:
    """Rows divided by their gcd, first non-zero entry made positive."""
    g = np.gcd.reduce(np.abs(v), axis=1)
    v = v // g[:, None]
    first = v[np.arange(len(v)), np.argmax(v != 0, axis=1)]
    return v * np.where(first < 0, -1, 1)[:, None]


def line_of(point: Sequence[int], direction: Sequence[int]) -> tuple[tuple[int, ...], int]:
    """(base, k) of ``point`` on the line through it with the primitive ``direction``."""
    p = max(i for i, c in enumerate(direction) if c)
    step = direction[p]
    k = (point[p] - point[p] % abs(step)) // step
    return tuple(int(x - k * d) for x, d in zip(point, direction)), int(k)


def find_lines(points: Mapping[str, Iterable[Sequence[int]]], min_members: int = 3) -> list[Line]:
    """Integer lines holding at least ``min_members`` points of one constant.

    Parameters
    ----------
    points : mapping
        Constant -> coefficient vectors (all of one length) of formulas identified with it.
    min_members : int
        Seeds of one constant a line needs.

    Returns
    -------
    list of Line
        Each line once, with the seeds of every constant that has points on it (those of other
        constants may be fewer than ``min_members``), largest first.
    """
    if min_members < 3:
        raise InputError(f"a family needs at least 3 members to be told from chance, got min_members={min_members}")
    found: set[tuple] = set()
    for vecs in points.values():
        P = np.unique(np.array(list(vecs), dtype=np.int64).reshape(-1, _width(points)), axis=0)
        for i in range(len(P) - 1):
            dirs = _primitive(P[i + 1:] - P[i])
            uniq, counts = np.unique(dirs, axis=0, return_counts=True)
            for d in uniq[counts >= min_members - 1]:
                base, _ = line_of(P[i], d)
                found.add((base, tuple(int(c) for c in d)))
    lines = []
    for base, direction in found:
        seeds = {}
        for constant, vecs in points.items():
            ks = sorted({_k_on(v, base, direction) for v in vecs} - {None})
            if ks:
                seeds[constant] = ks
        lines.append(Line(base, direction, seeds))
    lines.sort(key=lambda ln: (-max(len(v) for v in ln.seeds.values()), ln.base, ln.direction))
    return lines


def _width(points: Mapping[str, Iterable[Sequence[int]]]) -> int:
    return next(len(v) for vecs in points.values() for v in vecs)


def _k_on(vector: Sequence[int], base: Sequence[int], direction: Sequence[int]) -> int | None:
    """k with vector = base + k·direction, or None off the line."""
    p = max(i for i, c in enumerate(direction) if c)
    k, rest = divmod(vector[p] - base[p], direction[p])
    if rest or any(v != b + k * d for v, b, d in zip(vector, base, direction)):
        return None
    return int(k)


def _member_pcf(line: Line, k: int, degrees: tuple[int, int]) -> PCF | None:
    vec = [b + k * d for b, d in zip(line.base, line.direction)]
    da = degrees[0] + 1
    try:
        return PCF(vec[:da], vec[da:])
    except InputError:  # a(n) or b(n) identically zero at this k
        return None


def identify_member(pcf: PCF, constants: Sequence[str], confirm_digits: float,
                    rungs: int = len(_DIGIT_LADDER)) -> Identification | None:
    """The PCF's limit as a Möbius transform of one of ``constants``, confirmed with exact
    convergents to at least ``confirm_digits`` digits (and twice the screening digits), or None.

    Screening digits are raised along the first ``rungs`` steps of :data:`_DIGIT_LADDER`, since
    the relations' coefficients grow along a family; a rational limit ends the search at once.
    """
    return _climb(pcf, constants, confirm_digits, rungs)[0]


def _climb(pcf, constants, confirm_digits, rungs) -> tuple[Identification | None, int]:
    """(identification or None, index of the ladder rung that confirmed it)."""
    for rung, digits in enumerate(_DIGIT_LADDER[:rungs]):
        # The family's own constants, no escalation, no extrapolation of slow members: a line
        # is walked member by member, and a member out of plain convergents' reach ends it.
        hit = identify_pcf(pcf, constants=list(constants), digits=digits, max_depth=_MAX_DEPTH, escalate=False,
                           budget_seconds=0.0, closed_forms=False)
        if hit is not None and hit.constant is None:
            break
        if hit is not None and hit.constant in constants and hit.digits_verified >= confirm_digits:
            return hit, rung
    return None, -1


def extend_line(
    line: Line,
    degrees: tuple[int, int],
    stored: Callable[[PCF], int | None],
    confirm_digits: float = 60,
    extend: int = 10,
    patience: int = 6,
) -> list[Member]:
    """Confirmed members of a line: every k between its seeds, then outwards in both directions.

    Parameters
    ----------
    line : Line
    degrees : (int, int)
        Padded degrees of a and b the line's vectors use.
    stored : callable
        PCF -> id of the stored formula of the same canonical form (in the box), or None.
    confirm_digits : float
        Digits every member's relation must be confirmed to.
    extend : int
        Members outside the box to find in each direction, for each constant of the line.
    patience : int
        Stop a direction after this many k in a row without a confirmed member (or after
        ``4 * extend`` values of k).

    Returns
    -------
    list of Member
        Sorted by k.
    """
    constants = sorted(line.seeds)
    seeds = [k for ks in line.seeds.values() for k in ks]
    members = {}

    # A rung of the digit ladder is tried only once the one below it has confirmed a member of
    # this line: coefficients grow gradually along a family, and a chance line (whose points
    # mostly fail) then costs two cheap attempts per point instead of the whole ladder.
    ceiling = [2]

    def visit(k: int) -> bool:
        pcf = _member_pcf(line, k, degrees)
        if pcf is None:
            return False
        hit, rung = _climb(pcf, constants, confirm_digits, ceiling[0])
        if hit is None:
            return False
        ceiling[0] = max(ceiling[0], rung + 2)
        fid = stored(pcf)
        members[k] = Member(k, pcf, fid is not None, hit, fid)
        return True

    for k in range(min(seeds), max(seeds) + 1):
        visit(k)
    for start, step in ((max(seeds) + 1, 1), (min(seeds) - 1, -1)):
        new = dict.fromkeys(constants, 0)
        misses = 0
        k = start
        # Every constant gets `extend` new members where it continues, so that each class of an
        # alternating family has enough members to fit and to check its closed form on.
        while min(new.values()) < extend and misses < patience and abs(k - start) < _MAX_STEPS * extend:
            if visit(k):
                misses = 0
                new[members[k].identification.constant] += not members[k].in_box
            else:
                misses += 1
            k += step
    return [members[k] for k in sorted(members)]


# --- closed form in k ---------------------------------------------------------------------------
def _normalised(ident: Identification, index: int) -> tuple[Fraction, ...]:
    rel = ident.relation
    return tuple(Fraction(c, rel[index]) for c in rel)


def _window(ks: list[int], in_box: set[int], step: int, size: int) -> list[int]:
    """Consecutive members (of step ``step``) to fit on: the run of ``size`` with the most in-box
    members, earliest first."""
    best: list[int] = []
    for i in range(len(ks)):
        run = [ks[i]]
        while len(run) < size and i + len(run) < len(ks) and ks[i + len(run)] == run[-1] + step:
            run.append(ks[i + len(run)])
        if len(run) > len(best) or (len(run) == len(best) and
                                    sum(k in in_box for k in run) > sum(k in in_box for k in best)):
            best = run
    return best


def fit_class(members: Sequence[Member]) -> dict | None:
    """Fit the Möbius coefficients of one constant's members as sequences in k.

    Returns
    -------
    dict or None
        ``constant, step, residue, normaliser`` (index of the relation entry scaled to 1),
        ``fits`` (one :meth:`SequenceFit.as_json` per relation entry), ``fit_k`` (members used),
        ``held_out_k`` (members checked), ``failed_k`` (members that disagreed) and ``verified``.
        None when the members are not all Möbius relations or no formula fits.
    """
    members = sorted(members, key=lambda m: m.k)
    idents = [m.identification for m in members]
    if len(members) < 4 or any(i.kind != "mobius" or len(i.relation) != 4 for i in idents):
        return None
    index = next((j for j in (3, 2, 1, 0) if all(i.relation[j] for i in idents)), None)
    if index is None:
        return None
    ks = [m.k for m in members]
    step = math.gcd(*[b - a for a, b in zip(ks, ks[1:])])
    room = len(ks) - MIN_HELD_OUT
    window = _window(ks, {m.k for m in members if m.in_box}, step, min(FIT_WINDOW, max(room, 4)))
    if len(window) < 4:
        return None
    values = {m.k: _normalised(m.identification, index) for m in members}
    fits = []
    for j in range(4):
        fit = fit_sequence(window, [values[k][j] for k in window])
        if fit is None:
            return None
        fits.append(fit)
    # State the formula from the smallest k >= 0 of the class where its recurrences can start.
    for origin in sorted(range(ks[0] % step, max(ks) + 1, step)) + [ks[0]]:
        moved = [f.rebased(origin) for f in fits]
        if all(moved):
            fits = moved
            break
    held = [k for k in ks if k not in window]
    failed = [k for k in held if tuple(f.at(k) for f in fits) != values[k]]
    return {
        "constant": members[0].identification.constant, "step": step, "residue": ks[0] % step,
        "normaliser": index, "fits": [f.as_json() for f in fits], "fit_k": window, "held_out_k": held,
        "failed_k": failed, "verified": len(held) >= MIN_HELD_OUT and not failed,
    }


def class_expr(fit: dict) -> sympy.Expr:
    """The limit L(k) of one fitted class as a sympy expression in k."""
    x = catalog.get(fit["constant"]).sympy()
    c = [from_json(f).expr(K) for f in fit["fits"]]
    return -(c[0] + c[1] * x) / (c[2] + c[3] * x)


def class_where(fit: dict) -> str:
    """The k a fitted class holds for, as words: ``" for odd k"``, or ``""`` for every k."""
    step, residue = fit["step"], fit["residue"]
    if step == 1:
        return ""
    if step == 2:
        return " for odd k" if residue else " for even k"
    return f" for k ≡ {residue} (mod {step})"


def closed_form_expr(fit: dict) -> sympy.Expr | None:
    """A family's limit as one expression in k (a Piecewise over residues when the constants
    alternate), from the ``fit`` stored with it; None when some class has no fit."""
    classes = fit.get("classes") or []
    if not classes or any(c is None for c in classes):
        return None
    if len(classes) == 1 and classes[0]["step"] == 1:
        return class_expr(classes[0])
    pieces = [(class_expr(c), sympy.Eq(sympy.Mod(K - c["residue"], c["step"]), 0)) for c in classes]
    return sympy.Piecewise(*pieces)


def _check_expr(expr: sympy.Expr, members: Sequence[Member], fit: dict) -> bool:
    """The expression itself (not only the recurrences) agrees with the members not fitted on."""
    fitted = {(c["constant"], k) for c in fit["classes"] for k in c["fit_k"]}
    for m in members:
        if (m.identification.constant, m.k) in fitted:
            continue
        x = catalog.get(m.identification.constant).sympy()
        c = m.identification.relation
        try:
            value = expr.subs(K, m.k).doit()
            residual = sympy.expand(sympy.numer(sympy.together(c[0] + c[1] * x + (c[2] + c[3] * x) * value)))
        except (ArithmeticError, ValueError, TypeError):
            return False  # the stated form has a pole at this k (its recurrence may not): not verified
        if residual != 0:
            return False
    return True


def fit_closed_form(members: Sequence[Member]) -> tuple[str | None, bool, dict]:
    """(closed form in k or None, verified, fit details) of a family's members."""
    by_constant: dict[str, list[Member]] = {}
    for m in members:
        by_constant.setdefault(m.identification.constant, []).append(m)
    classes = [fit_class(ms) for _, ms in sorted(by_constant.items())]
    fit = {"classes": classes}
    expr = closed_form_expr(fit)
    if expr is None:
        return None, False, fit
    verified = all(c["verified"] for c in classes) and _check_expr(expr, members, fit)
    return str(expr), verified, fit


def tail_step(line: Line, degrees: tuple[int, int], max_step: int = 8) -> int | None:
    """The s > 0 with g(k + s) = the tail of g(k) from n = 1 (a(n + 1), b(n + 1)), or None.

    Such a family is the tails of one fraction: its members' limits are Möbius transforms of one
    another by construction, a weaker finding than a family whose members are not.
    """
    k = next(iter(next(iter(line.seeds.values()))))
    pcf = _member_pcf(line, k, degrees)
    if pcf is None:
        return None
    tail = _vector(pcf.shift(1).a, pcf.shift(1).b, degrees)
    got = _k_on(tail, line.base, line.direction)
    return got - k if got is not None and 0 < got - k <= max_step else None


# --- the whole stage ----------------------------------------------------------------------------
def detect_families(
    records: Sequence[dict],
    stored: Callable[[PCF], int | None],
    confirm_digits: float = 60,
    extend: int = 10,
    min_members: int = 3,
    min_new: int = 3,
    progress: bool = False,
) -> list[Family]:
    """Detect, extend and fit the families among identified PCF records.

    Parameters
    ----------
    records : sequence of dict
        Identified PCFs with ``a``, ``b`` and ``constant`` (as :meth:`FormulaStore.query` gives).
    stored : callable
        PCF -> id of the stored formula of the same canonical form in the box, or None.
    confirm_digits, extend : see :func:`extend_line`.
    min_members : int
        Seeds of one constant a candidate line needs.
    min_new : int
        Confirmed members outside the box a candidate needs to be called a family.
    progress : bool
        Show a progress bar over the candidate lines.

    Returns
    -------
    list of Family
        Largest first.
    """
    canon = [(r["constant"], PCF(r["a"], r["b"]).canonical()) for r in records if r.get("constant")]
    canon = [(c, p) for c, p in canon if "," not in c]  # relations in two constants have no line of one
    if not canon:
        return []
    degrees = (max(p.degrees[0] for _, p in canon), max(p.degrees[1] for _, p in canon))
    points: dict[str, list] = {}
    for constant, pcf in canon:
        points.setdefault(constant, []).append(_vector(pcf.a, pcf.b, degrees))
    families = []
    for line in tqdm(find_lines(points, min_members), desc="families: candidate lines", unit="line",
                     disable=not progress):
        members = extend_line(line, degrees, stored, confirm_digits, extend)
        if sum(not m.in_box for m in members) < min_new:
            continue
        closed, verified, fit = fit_closed_form(members)
        fit["tail_step"] = tail_step(line, degrees)
        families.append(Family(
            tuple(sorted({m.identification.constant for m in members})), line.base, line.direction, degrees,
            members, closed, verified, fit,
        ))
    families.sort(key=lambda f: (-len(f.members), f.base, f.direction))
    return families


def run_families(store, campaign: str | None = None, extend: int = 10, confirm_digits: float | None = None,
                 progress: bool = False) -> list[Family]:
    """Detect the families of a campaign (or of the whole database) and store them, replacing
    the ones stored before for the same campaign.

    Parameters
    ----------
    store : discovery.store.FormulaStore
    campaign : str, optional
        Campaign name; None uses every identified PCF in the database.
    extend : int
        Members outside the box to confirm in each direction.
    confirm_digits : float, optional
        Default: the campaign's ``[identify] confirm_digits``, else 60.

    Raises
    ------
    InputError
        For an unknown campaign.
    """
    campaign_id = None
    if campaign is not None:
        row = store.campaign(campaign)
        if row is None:
            names = ", ".join(r["name"] for r in store.campaigns()) or "none"
            raise InputError(f"no campaign {campaign!r} in {store.path} (campaigns: {names})")
        campaign_id = int(row["id"])
        if confirm_digits is None:
            confirm_digits = json.loads(row["config"]).get("identify", {}).get("confirm_digits")
    confirm_digits = 60 if confirm_digits is None else float(confirm_digits)
    records = store.query(kind="pcf", campaign=campaign, identified=True)

    def stored(pcf: PCF) -> int | None:
        return store.formula_id(pcf_key(pcf.a, pcf.b), campaign_id)

    start = time.time()
    families = detect_families(records, stored, confirm_digits, extend, progress=progress)
    store.write_families(campaign_id, [family_record(f) for f in families], time.time() - start)
    return families


def family_polynomials(base: Mapping, direction: Mapping) -> tuple[sympy.Expr, sympy.Expr]:
    """a(n) and b(n) of a family as sympy expressions in n and k, from its stored ``base`` and
    ``direction`` (``{"a": [...], "b": [...]}``, highest degree first)."""
    n = sympy.Symbol("n")

    def poly(key):
        cs = [b + K * d for b, d in zip(base[key], direction[key])]
        return sympy.factor(sympy.Add(*[c * n**e for e, c in enumerate(reversed(cs))]))

    return poly("a"), poly("b")


def tail_note(family: Mapping) -> str | None:
    """One sentence saying that a stored family's members are tails of one another (see
    :func:`tail_step`), or None when they are not: what the report and ``discovery families`` print."""
    step = (family.get("fit") or {}).get("tail_step")
    if not step:
        return None
    return (f"Its members are tails of one another: the member at k + {step} is the one at k started from n = 1, "
            "so their limits are Möbius transforms of one another by construction.")


def family_record(family: Family) -> dict:
    """What :meth:`discovery.store.FormulaStore.write_families` stores of a family
    (:class:`~discovery.records.FamilyRecord` as JSON)."""
    members = []
    for m in family.members:
        canon = m.pcf.canonical()
        canonical_ident = m.identification
        if canon != m.pcf:
            # The stored formula is the canonical form, whose limit is a multiple of this one's
            # (the sign flips with a's leading coefficient): it gets its own identification.
            canonical_ident = identify_member(canon, [m.identification.constant], 0)
        members.append(FamilyMemberRecord(
            m.k, list(m.pcf.a), list(m.pcf.b), m.in_box, m.formula_id, IdentificationRecord.of(m.identification),
            {"a": list(canon.a), "b": list(canon.b)},
            IdentificationRecord.of(canonical_ident) if canonical_ident else None,
        ))
    return FamilyRecord(list(family.constants), family.split(family.base), family.split(family.direction),
                        family.closed_form_k, family.closed_form_verified, family.fit, tuple(members)).to_json()
