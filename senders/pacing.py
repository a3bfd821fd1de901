"""The per-channel `rate_per_hour`: messages spaced evenly across every engine on the database.

Slots come from the shared schedule (`store.schedule`) a few at a time, off the event loop; a rate of
0 means no limit and no database work at all.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta

from store.clock import utcnow
from store.db import off_loop

# Slots reserved at a time: a tenth of a second's worth. More would make engines take turns (one holds
# the next second while the others wait) and waste what a stopping engine held.
SLOTS_AHEAD_SECONDS = 0.1


class Pacer:
    def __init__(self, channel: str, rate_per_hour: int) -> None:
        self.channel = channel
        self.rate_per_hour = max(0, rate_per_hour)
        self.interval = 3600 / rate_per_hour if rate_per_hour > 0 else 0.0
        self._slots: deque[datetime] = deque()
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            # A slot already past (this engine was slow to use it) is dropped, not used late: late
            # slots used together would be a burst the provider sees.
            stale = utcnow() - timedelta(seconds=self.interval)
            while self._slots and self._slots[0] < stale:
                self._slots.popleft()
            if not self._slots:
                from store.schedule import reserve_slots

                count = max(1, int(SLOTS_AHEAD_SECONDS / self.interval))
                self._slots.extend(await off_loop(reserve_slots, self.channel, count, self.interval))
            slot = self._slots.popleft()
        delay = (slot - utcnow()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
