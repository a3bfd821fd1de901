"""How long a campaign's slow figures stay fresh: one policy for the summary and the details."""

from __future__ import annotations

from collections.abc import Iterable

from store import lifecycle
from store.figures import CampaignFigures, SlowFigures


class SlowFigureCache:
    """The slow figures (conversion, proxy opens, unsubscribes) last read of each campaign.

    They stay fresh for `fresh_for` on the caller's clock: seconds for the summary, refresh rounds for the
    details. With `keep_live` false, those of a campaign still going out are not kept: its patients grow
    by the second. `invalidate` (F5) has everything read again. Kept on the event loop: a read is given
    `fresh()`'s copy, and what it read comes back to `keep`.
    """

    def __init__(self, fresh_for: float, *, keep_live: bool) -> None:
        self.fresh_for = fresh_for
        self.keep_live = keep_live
        self._kept: dict[int, tuple[float, SlowFigures]] = {}

    def fresh(self, now: float) -> dict[int, SlowFigures]:
        """The slow figures still fresh at `now`, by campaign: a read given them does not read them again."""
        return {i: slow for i, (at, slow) in self._kept.items() if now - at < self.fresh_for}

    def keep(self, figures: Iterable[CampaignFigures], read_at: float) -> None:
        """The figures of a read started at `read_at`: those it read start their age; those it was given
        (fresh when it started) keep the age they have."""
        for campaign in figures:
            kept = self._kept.get(campaign.id)
            if kept is not None and read_at - kept[0] < self.fresh_for:
                continue
            if self.keep_live or not lifecycle.is_live(campaign.state):
                self._kept[campaign.id] = (read_at, campaign.slow)

    def invalidate(self) -> None:
        self._kept.clear()
