"""Campaign statistics, set-based in SQL: counts per state, opens, clicks and conversion."""

from __future__ import annotations

from collections import defaultdict

from peewee import chunked

from store.db import database, dialect
from store.models import ACCEPTED_STATES, MESSAGE_STATES

CONVERSION_DAYS = 28
_IDS_PER_QUERY = 900


def _placeholders(count: int) -> str:
    return ", ".join([database.param] * count)


def message_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per campaign: messages per state, and how many were opened and clicked."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MESSAGE_STATES, 0))
    for batch in chunked(campaign_ids, _IDS_PER_QUERY):
        sql = (
            "SELECT campaign_id, state, COUNT(*), COUNT(opened_at), COUNT(clicked_at), "
            "SUM(CASE WHEN resent_after_crash THEN 1 ELSE 0 END) "
            f"FROM message WHERE campaign_id IN ({_placeholders(len(batch))}) "
            "GROUP BY campaign_id, state"
        )
        for campaign_id, state, total, opened, clicked, resent in database.execute_sql(sql, batch):
            row = counts[campaign_id]
            row[state] = total
            row["opened"] = row.get("opened", 0) + opened
            row["clicked"] = row.get("clicked", 0) + clicked
            row["resent"] = row.get("resent", 0) + int(resent or 0)
    return counts


FAILURE_REASONS_SHOWN = 10


def failures_of(campaign_id: int, shown: int = FAILURE_REASONS_SHOWN) -> list[tuple[str, int]]:
    """The campaign's failed messages counted by reason, the most frequent first; past the first
    `shown` reasons, the rest together as "other reasons"."""
    p = database.param
    rows = database.execute_sql(
        f"SELECT COALESCE(error, ''), COUNT(*) FROM message WHERE campaign_id = {p} AND state = 'failed' "
        "GROUP BY COALESCE(error, '') ORDER BY COUNT(*) DESC, COALESCE(error, '')",
        [campaign_id],
    ).fetchall()
    found = [(reason or "no reason recorded", count) for reason, count in rows[:shown]]
    rest = sum(count for _reason, count in rows[shown:])
    if rest:
        found.append(("other reasons", rest))
    return found


def conversion_of(campaign_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per campaign: (patients it was sent to, reservations they made in the 28 days after their message)."""
    window_end = dialect().plus_days("t.sent_at", CONVERSION_DAYS)
    last_end = dialect().plus_days("MAX(sent_at)", CONVERSION_DAYS)
    accepted = ", ".join(f"'{s}'" for s in ACCEPTED_STATES)
    found: dict[int, tuple[int, int]] = {}
    for batch in chunked(campaign_ids, _IDS_PER_QUERY):
        sql = f"""
            WITH targets AS (
                SELECT m.campaign_id, m.contact_id, MIN(m.sent_at) AS sent_at
                FROM message m JOIN contact c ON c.id = m.contact_id
                WHERE m.campaign_id IN ({_placeholders(len(batch))})
                  AND m.state IN ({accepted}) AND m.sent_at IS NOT NULL AND c.kind = 'patient'
                GROUP BY m.campaign_id, m.contact_id
            )
            SELECT t.campaign_id, COUNT(DISTINCT t.contact_id), COUNT(r.id)
            FROM targets t
            LEFT JOIN reservation r ON r.contact_id = t.contact_id
                 AND r.created_at >= t.sent_at AND r.created_at < {window_end}
                 -- the same bounds for all: lets PostgreSQL drop most reservations before the join
                 AND r.created_at >= (SELECT MIN(sent_at) FROM targets)
                 AND r.created_at < (SELECT {last_end} FROM targets)
            GROUP BY t.campaign_id
        """
        for campaign_id, patients, reservations in database.execute_sql(sql, batch):
            found[campaign_id] = (patients, reservations)
    return found


def machine_opened_of(campaign_ids: list[int], seconds: int) -> dict[int, int]:
    """Per campaign: recipients whose every open came within `seconds` of sending and who never
    clicked: mail proxies fetching images on delivery, not people."""
    late = f"e.occurred_at > {dialect().plus_seconds('m.sent_at', seconds)}"
    found: dict[int, int] = {}
    for batch in chunked(campaign_ids, _IDS_PER_QUERY):
        sql = f"""
            SELECT m.campaign_id, COUNT(*) FROM message m
            WHERE m.campaign_id IN ({_placeholders(len(batch))})
              AND m.opened_at IS NOT NULL AND m.sent_at IS NOT NULL
              AND EXISTS (SELECT 1 FROM tracking_event e WHERE e.message_id = m.id AND e.kind = 'open')
              AND NOT EXISTS (SELECT 1 FROM tracking_event e  -- a later open or any click: a person
                              WHERE e.message_id = m.id AND e.kind IN ('open', 'click') AND {late})
            GROUP BY m.campaign_id
        """
        found.update(dict(database.execute_sql(sql, batch).fetchall()))
    return found


def unsubscribed_of(campaign_ids: list[int]) -> dict[int, int]:
    """Per campaign: recipients who unsubscribed through its links."""
    found: dict[int, int] = {}
    for batch in chunked(campaign_ids, _IDS_PER_QUERY):
        sql = (
            "SELECT m.campaign_id, COUNT(DISTINCT e.message_id) FROM tracking_event e "
            "JOIN message m ON m.id = e.message_id "
            f"WHERE e.kind = 'unsubscribe' AND m.campaign_id IN ({_placeholders(len(batch))}) "
            "GROUP BY m.campaign_id"
        )
        found.update(dict(database.execute_sql(sql, batch).fetchall()))
    return found
