"""What a campaign run returns (:class:`CampaignResult`) and the lines that summarise it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from discovery.novelty import NOVELTY_LABELS


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
    measured: int = 0
    dropped: int = 0
    report: Path | None = None
    novelty: dict = field(default_factory=dict)

    @classmethod
    def from_status(cls, status: dict, campaign_id: int, wall_time: float, complete: bool, plots: list,
                    report: Path | None) -> CampaignResult:
        """The result of a run from the campaign's :meth:`~discovery.store.FormulaStore.status`
        (a program campaign has no clusters, identifications or triage counts)."""
        if status["kind"] == "program":
            return cls(status["name"], campaign_id, status["candidates"], status["converged"], status["formulas"], 0,
                       {}, wall_time, complete, plots, kind="program", report=report)
        return cls(status["name"], campaign_id, status["candidates"], status["converged"], status["formulas"],
                   status["clusters"], status["identified"], wall_time, complete, plots,
                   measured=status["measured"], dropped=status["dropped"], report=report,
                   novelty=status.get("novelty", {}))


def novelty_line(counts: dict) -> str:
    """Identified formulas per novelty label (:mod:`discovery.novelty`), in the labels' order."""
    return ", ".join(f"{label} {counts[label]}" for label in NOVELTY_LABELS if counts.get(label))


def triage_line(measured: int, converged: int, dropped: int) -> str | None:
    """The triage line of a summary (None when triage dropped nothing)."""
    if not dropped:
        return None
    return f"  triage: exact metrics for {measured:,} of {converged:,} converging PCFs ({dropped:,} dropped)"


def summary_lines(result: CampaignResult, already_complete: bool = False) -> list[str]:
    """Human-readable summary of a run (``already_complete``: the campaign was finished before
    this run, which had nothing to do)."""
    if already_complete:
        lines = [f"campaign {result.name}: already complete (its results follow; a new campaign name or --db "
                 "searches again)"]
    else:
        lines = [f"campaign {result.name}: {'complete' if result.complete else 'stopped (rerun to resume)'} "
                 f"in {result.wall_time:.1f} s"]
    if result.kind == "program":
        lines.append(f"  programs evaluated {result.candidates:,}, Pareto front stored: {result.formulas} programs")
        return lines + ([f"  report: {result.report}"] if result.report else [])
    lines.append(
        f"  candidates {result.candidates:,}, converging {result.converged:,}, stored {result.formulas:,}, "
        f"clusters {result.clusters}"
    )
    triage = triage_line(result.measured, result.converged, result.dropped)
    if triage:
        lines.append(triage)
    if result.identified:
        counts = ", ".join(f"{k} {v}" for k, v in Counter(result.identified).most_common())
        lines.append(f"  identified formulas per constant: {counts}")
    elif result.complete:
        lines.append("  identified 0: no formula of this campaign was confirmed")
    if result.novelty:
        lines.append(f"  novelty: {novelty_line(result.novelty)} (discovery query --novelty new lists the new ones)")
    for p in result.plots:
        lines.append(f"  plot: {p}")
    if result.report:
        lines.append(f"  report: {result.report}")
    return lines
