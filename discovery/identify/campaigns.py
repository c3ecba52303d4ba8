"""Identification inside campaigns: cluster representatives under a campaign-level cap, and the PCFs
whose float limits matched a Möbius table."""

from __future__ import annotations

import time

import numpy as np

from discovery import constants as catalog
from discovery.identify.escalation import Identification
from discovery.pcf.formula import PCF
from discovery.pcf.kernels import Status, evaluate
from discovery.pcf.mitm import match

REPRESENTATIVE_BUDGET = 0.25  # seconds per campaign cluster representative
ESCALATION_SECONDS = 0.5  # seconds of escalation per campaign (then the plain screen)


def _identify_pcf(*args, **kwargs):
    """:func:`discovery.identify.identify_pcf`, looked up on the package at each call."""
    # Through the package rather than its module: whoever replaces the public
    # discovery.identify.identify_pcf (the campaign kill tests wrap it to stop a campaign right after a
    # representative is identified) reaches the campaigns' identifications too.
    import discovery.identify as package

    # A campaign's identifications name a constant of its catalog: no bare hypergeometric forms.
    return package.identify_pcf(*args, closed_forms=False, **kwargs)


class RepresentativeIdentifier:
    """Escalated identification of a campaign's cluster representatives, under a campaign-level cap.

    Each representative gets :func:`identify_pcf` with escalation and ``budget_seconds``; once the
    campaign has spent ``escalation_seconds`` on them, the rest get the plain screen (rational and
    Möbius in the core catalog, no extrapolation), so a campaign with many unidentified clusters
    is not slowed down by much.

    Parameters
    ----------
    config : dict
        A campaign's ``[identify]`` table: ``constants``, ``digits``, ``budget_seconds``,
        ``escalation_seconds`` (and optionally ``catalog``, a TOML catalog file to load).
    max_depth : int
        Deepest plain convergent.

    Attributes
    ----------
    spent_ : float
        Seconds spent on escalated identifications so far.
    """

    def __init__(self, config: dict, max_depth: int = 5000):
        self.config = config
        self.max_depth = max_depth
        self.spent_ = 0.0
        if config.get("catalog"):
            catalog.load_catalog(config["catalog"])

    def __call__(self, pcf: PCF) -> Identification | None:
        """The confirmed identification of one representative, or None."""
        cfg = self.config
        left = cfg.get("escalation_seconds", ESCALATION_SECONDS) - self.spent_
        if left <= 0:
            return _identify_pcf(pcf, cfg["constants"], cfg["digits"], max_depth=self.max_depth, escalate=False,
                                 budget_seconds=0.0)
        started = time.perf_counter()
        try:
            return _identify_pcf(pcf, cfg["constants"], cfg["digits"], max_depth=self.max_depth,
                                 budget_seconds=min(cfg.get("budget_seconds", REPRESENTATIVE_BUDGET), left))
        finally:
            self.spent_ += time.perf_counter() - started


def confirm_matches(
    A: np.ndarray,
    B: np.ndarray,
    rows: np.ndarray,
    entries: np.ndarray,
    table,
    digits: int = 30,
    confirm_digits: float | None = None,
) -> dict[int, Identification]:
    """Identify and confirm the PCFs whose float limits matched a Möbius table.

    The one loop from table hits to confirmed identifications, used by campaigns and by
    :func:`mitm_sweep`: each matched row is identified against the constants its hits name, and
    kept when confirmation reaches ``confirm_digits`` (rational and quadratic limits included).

    Parameters
    ----------
    A, B : ndarray of int
        The PCFs (rows), as for :func:`discovery.pcf.evaluate`.
    rows, entries : ndarray of int
        Hits from :func:`discovery.pcf.mitm.match`: (row of A/B, table entry) pairs.
    table : discovery.pcf.mitm.MobiusTable
    digits : int
        Screening digits.
    confirm_digits : float, optional
        Digits a kept identification must be verified to (default: twice ``digits``).

    Returns
    -------
    dict
        Row index -> :class:`Identification`, for the confirmed rows.
    """
    need = 2 * digits if confirm_digits is None else confirm_digits
    found = {}
    for row in np.unique(rows):
        if not A[row].any() or not B[row].any():
            continue
        names = sorted({table.names[table.constant[e]] for e in entries[rows == row]})
        pcf = PCF([int(c) for c in A[row]], [int(c) for c in B[row]])
        hit = _identify_pcf(pcf, constants=names, digits=digits, escalate=False, budget_seconds=0.0)
        if hit is not None and hit.digits_verified >= need:
            found[int(row)] = hit
    return found


def mitm_sweep(A: np.ndarray, B: np.ndarray, table, depth: int = 1000, rtol: float = 1e-9, digits: int = 30):
    """Evaluate a batch of PCFs, match their limits in a Möbius table, confirm the matches.

    Parameters
    ----------
    A, B : ndarray of int
        The PCFs, as for :func:`discovery.pcf.evaluate`.
    table : discovery.pcf.mitm.MobiusTable
    depth : int
        Depth of the float evaluation.
    rtol : float
        Matching tolerance.
    digits : int
        Screening digits of the confirmation (it confirms at twice as many).

    Returns
    -------
    hits : dict
        Row index -> confirmed :class:`Identification`, in row order.
    stats : dict
        ``evaluated``, ``converged``, ``matched`` (rows with a table hit) and ``confirmed``.
    """
    ev = evaluate(A, B, depth, rtol=1e-12)
    limits = np.where(ev.status == Status.CONVERGED, ev.limit, np.nan)
    rows, entries = match(limits, table, rtol)
    hits = dict(sorted(confirm_matches(A, B, rows, entries, table, digits).items()))
    stats = {
        "evaluated": int(len(A)),
        "converged": int(np.isfinite(limits).sum()),
        "matched": int(len(np.unique(rows))),
        "confirmed": len(hits),
    }
    return hits, stats

