"""A channel's `rate_per_hour` shared by every engine on the database: one schedule of send slots.

Each engine reserves the next few slots in one short transaction (the row is locked meanwhile), so a
limit of 6,000 an hour stays 6,000 an hour with four workers, and a restart picks the pace up again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from store.clock import utcnow
from store.db import dialect, write_transaction
from store.models import SendSchedule


def reserve_slots(channel: str, count: int, interval: float, now: datetime | None = None) -> list[datetime]:
    """The next `count` free slots of the channel, `interval` seconds apart, none before `now`."""
    now = now or utcnow()
    step = timedelta(seconds=interval)
    with write_transaction():
        SendSchedule.insert(channel=channel, next_slot_at=now).on_conflict_ignore().execute()
        query = dialect().for_update(
            SendSchedule.select(SendSchedule.next_slot_at).where(SendSchedule.channel == channel)
        )
        first = max(query.scalar(), now)
        slots = [first + step * k for k in range(count)]
        SendSchedule.update(next_slot_at=first + step * count).where(
            SendSchedule.channel == channel
        ).execute()
    return slots
