"""What the campaign detail screen shows beside the stats: sends and opens over time, a page of recipients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from store.bulk import sql_value
from store.clock import utcnow
from store.db import database, dialect, dicts_of
from store.dialect import Bucket
from store.models import Message

STATE_FILTERS: dict[str, tuple[str, ...]] = {
    "all": (),
    "pending": ("pending",),
    "sending": ("sending",),
    "sent": ("sent", "delivered"),
    "delivered": ("delivered",),
    "failed": ("failed",),
    "skipped": ("skipped_duplicate", "skipped_opted_out", "skipped_suppressed"),
    "cancelled": ("cancelled",),
}
PAGE = 200


def _series(campaign_id: int, column: str, unit: Bucket, start: datetime, buckets: int) -> list[int]:
    """Messages per minute (or hour) of `column` from `start`, oldest first, `buckets` long."""
    step = timedelta(minutes=1) if unit == "minute" else timedelta(hours=1)
    p = database.param
    rows = database.execute_sql(
        f"SELECT {dialect().bucket(column, unit)}, COUNT(*) FROM message WHERE campaign_id = {p} "
        f"AND {column} >= {p} GROUP BY 1",
        [campaign_id, sql_value(start)],
    ).fetchall()
    counts = [0] * buckets
    for bucket, count in rows:
        when = bucket if isinstance(bucket, datetime) else datetime.fromisoformat(bucket)
        index = int((when - start) / step)
        if 0 <= index < buckets:
            counts[index] += count
    return counts


def sends_per_minute(campaign_id: int, minutes: int = 15, now: datetime | None = None) -> list[int]:
    """Messages sent in each of the last `minutes` minutes, the current one last."""
    now = (now or utcnow()).replace(second=0, microsecond=0)
    return _series(campaign_id, "sent_at", "minute", now - timedelta(minutes=minutes - 1), minutes)


def opens_per_hour(campaign_id: int, hours: int = 24, now: datetime | None = None) -> list[int]:
    """First opens in each of the last `hours` hours, the current one last."""
    now = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    return _series(campaign_id, "opened_at", "hour", now - timedelta(hours=hours - 1), hours)


@dataclass(frozen=True)
class RecipientRow:
    """One recipient of a campaign and what became of its message, as the details' table shows it."""

    id: int
    address: str
    first_name: str
    last_name: str
    state: str
    error: str | None
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    resent_after_crash: bool


@dataclass(frozen=True)
class RecipientPage:
    rows: list[RecipientRow]
    matching: int  # all the recipients the filter and search match


def recipients_page(
    campaign_id: int, state: str = "all", search: str = "", limit: int = PAGE
) -> RecipientPage:
    """The first recipients (in the order they were added) in those states whose address or name
    contains `search`, and how many match in all."""
    condition = Message.campaign == campaign_id
    states = STATE_FILTERS.get(state, ())
    if states:
        condition &= Message.state.in_(states)
    text = search.strip()
    if text:
        # contains() is ILIKE on PostgreSQL, LIKE (case-blind) on SQLite, with `%` `_` `\` escaped: what
        # was typed matches itself, never as a wildcard.
        condition &= (
            Message.address.contains(text)
            | Message.first_name.contains(text)
            | Message.last_name.contains(text)
        )
    query = Message.select(
        Message.id, Message.address, Message.first_name, Message.last_name, Message.state, Message.error,
        Message.sent_at, Message.opened_at, Message.clicked_at, Message.resent_after_crash,
    ).where(condition)  # fmt: skip
    rows = [RecipientRow(**row) for row in dicts_of(query.order_by(Message.id).limit(limit))]
    matching = len(rows) if len(rows) < limit else query.count()
    return RecipientPage(rows, matching)
