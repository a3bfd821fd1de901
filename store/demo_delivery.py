"""What the demo's make-believe recipients may still answer: the SMS and email messages sent lately."""

from __future__ import annotations

from datetime import datetime

from store.bulk import sql_value, stored_time
from store.db import database

# (message id, channel, sent_at, whether it was opened)
SentMessage = tuple[int, str, datetime, bool]


def sent_unclicked_since(since: datetime, limit: int = 50_000) -> list[SentMessage]:
    """SMS and email messages sent (not yet delivered) since `since` and not clicked, at most `limit`."""
    p = database.param
    rows = database.execute_sql(
        "SELECT m.id, c.channel, m.sent_at, m.opened_at FROM message m "
        f"JOIN campaign c ON c.id = m.campaign_id WHERE m.state = 'sent' AND m.sent_at >= {p} "
        "AND m.clicked_at IS NULL "
        f"AND c.channel IN ('sms', 'email') LIMIT {int(limit)}",
        [sql_value(since)],
    ).fetchall()
    return [
        (message_id, channel, stored_time(sent_at) or since, opened_at is not None)
        for message_id, channel, sent_at, opened_at in rows
    ]
