"""Progress of a campaign: its bars, and the time budget of a resumable search.

The one place campaign progress bars are made (:func:`progress_bar`) and the one rule for a
search's time budget across runs (:class:`TimeBudget`): the seconds of earlier runs, read from
the search's checkpoint, plus this run's.
"""

from __future__ import annotations

import math
import sys
import time

from tqdm import tqdm


def progress_bar(campaign: str, what: str, total: int | None, unit: str, progress: bool, initial: int = 0) -> tqdm:
    """A bar labelled ``<campaign>: <what>`` (hidden when ``progress`` is false)."""
    return tqdm(total=total, initial=initial, unit=unit, desc=f"{campaign}: {what}", disable=not progress)


def stage(campaign: str, what: str, progress: bool) -> None:
    """Say on stderr that a stage without a bar of its own starts (nothing when ``progress`` is false),
    so that no step of a campaign runs silently."""
    if progress:
        print(f"{campaign}: {what}", file=sys.stderr, flush=True)


class TimeBudget:
    """The time budget of a resumable search.

    Parameters
    ----------
    minutes : float or None
        The budget; None for no limit.
    spent : float
        Seconds spent by earlier runs (from the checkpoint).
    """

    def __init__(self, minutes: float | None, spent: float = 0.0):
        self.seconds = math.inf if minutes is None else minutes * 60
        self.before = spent
        self.resumed_at = time.time()

    def spent(self) -> float:
        """Seconds spent so far, earlier runs included."""
        return self.before + time.time() - self.resumed_at

    def left(self) -> float:
        """Seconds left when this run started."""
        return max(0.0, self.seconds - self.before)

    def exhausted(self, spent: float | None = None) -> bool:
        """Whether ``spent`` (default: :meth:`spent`) has reached the budget."""
        return (self.spent() if spent is None else spent) >= self.seconds

    def bar(self, campaign: str, what: str, progress: bool) -> tqdm:
        """A bar over the budget's seconds, starting at those spent before (see :meth:`show`)."""
        total = None if math.isinf(self.seconds) else int(self.seconds)
        return progress_bar(campaign, what, total, "s", progress, initial=int(self.before))

    def show(self, bar: tqdm, spent: float, **postfix) -> None:
        """Move a :meth:`bar` to ``spent`` seconds (at most the budget), with ``postfix`` values."""
        bar.n = int(min(spent, self.seconds))
        if postfix:
            bar.set_postfix(**postfix)
        else:
            bar.refresh()
