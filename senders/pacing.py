"""The per-channel `rate_per_hour`: messages spaced evenly, the pace picked up again after a restart."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime


class Pacer:
    """Hands out send slots `3600 / rate` seconds apart; a rate of 0 means no limit."""

    def __init__(
        self, rate_per_hour: int, last_sent_at: datetime | None = None, now: datetime | None = None
    ) -> None:
        self.interval = 3600 / rate_per_hour if rate_per_hour > 0 else 0.0
        self._next = time.monotonic()
        if self.interval and last_sent_at is not None and now is not None:
            # The last message the ledger holds sets the next slot, so a restart does not burst.
            since = (now - last_sent_at).total_seconds()
            self._next += max(0.0, self.interval - since)
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            slot = max(self._next, time.monotonic())
            self._next = slot + self.interval
            delay = slot - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
