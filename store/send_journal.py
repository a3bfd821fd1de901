"""The send journal: hand-overs and provider answers appended on the hot path, folded later in bulk.

`journal` only appends (a few rows at the end of a small table) and says which messages may still go;
`fold` writes the messages, the sent ledger and the campaigns' send times many at a time and forgets the
rows. What a stopped engine journaled and never folded is folded by the claim that takes its messages
back (`fold_left_behind`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from peewee import chunked

from store.bulk import insert_many, run_many, select_in, sql_value, stored_time, update_rows
from store.clock import utcnow
from store.db import database, dialect
from store.lifecycle import IN_QUEUE
from store.models import Campaign
from store.suppressions import Entered, suppress

# A hand-over goes only while its campaign is in the queue (store.lifecycle), as SQL: ('queued', 'sending')
_IN_QUEUE = "(" + ", ".join(f"'{state}'" for state in IN_QUEUE) + ")"


@dataclass(frozen=True)
class Entry:
    """What becomes of a message after its provider answered: a row of the journal, then of `message`."""

    message_id: int
    kind: str  # sent, pending (to try again at next_attempt_at), failed
    at: datetime
    provider_id: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    maybe_sent: bool = False
    dead_token: str | None = None
    # for the sent ledger
    campaign_id: int = 0
    channel: str = ""
    address: str = ""
    body_hash: str | None = None
    suppress: str | None = None  # failed for good: the address goes on the suppression list, for this


_JOURNAL_COLUMNS = (
    "message_id, kind, at, provider_id, error, next_attempt_at, maybe_sent, dead_token, suppress"
)
_JOURNAL_MARKS = "?, ?, ?, ?, ?, ?, ?, ?, ?"


def journal(
    entries: list[Entry], handed: list[int], now: datetime | None = None, worker: str | None = None
) -> set[int]:
    """One short transaction on the hot path: answers, and the messages about to be handed over.

    Returns those of `handed` that may go to the provider: not those cancelled, or whose campaign
    was paused, since they were claimed, nor (with `worker`) those another engine took back after
    this one's lease ran out. Only appends to the journal (a few rows at the end of a small table):
    `fold` writes the messages and the ledger later, many at a time.
    """
    at = sql_value(now or utcnow())
    if not database.in_transaction():
        if dialect().writable_with:
            return _journal_postgres(entries, handed, at, worker)
        return _journal_sqlite(entries, handed, at, worker)
    allowed: set[int] = set()
    with dialect().driver_transaction() as cursor:
        if handed:
            mine = f" AND worker = {database.param}" if worker else ""
            cursor.execute(
                _sql(
                    "SELECT id FROM message WHERE id IN ({}) AND state = 'sending' "
                    f"AND campaign_id IN (SELECT id FROM campaign WHERE state IN {_IN_QUEUE})",
                    len(handed),
                )
                + mine,
                [*handed, worker] if worker else handed,
            )
            allowed = {row[0] for row in cursor.fetchall()}
        rows = _journal_rows(entries) + [
            (i, "handed", at, None, None, None, False, None, None) for i in handed if i in allowed
        ]
        if rows:
            run_many(
                cursor, _sql(f"INSERT INTO send_journal ({_JOURNAL_COLUMNS}) VALUES ({_JOURNAL_MARKS})"), rows
            )
    return allowed


def _journal_rows(entries: list[Entry]) -> list[tuple[Any, ...]]:
    return [
        (e.message_id, e.kind, sql_value(e.at), e.provider_id, e.error, sql_value(e.next_attempt_at),
         e.maybe_sent, e.dead_token, e.suppress)
        for e in entries
    ]  # fmt: skip


def journal_on(
    cursor: Any, entries: list[Entry], handed: list[int], now: datetime, worker: str | None = None
) -> set[int]:
    """`journal` on a SQLite connection of the caller's own, outside any transaction (the recorder's on
    the event loop, which waits for no lock: senders.recorder)."""
    return _journal_sqlite(entries, handed, sql_value(now), worker, cursor)


def _journal_sqlite(
    entries: list[Entry], handed: list[int], at: Any, worker: str | None, cursor: Any = None
) -> set[int]:
    """The same as one statement, its own transaction (autocommit: nothing open on the connection).

    A statement that writes takes SQLite's write lock before it reads, as `BEGIN IMMEDIATE` does, so
    the check and the appends are one atomic step, as in the transaction above. One statement instead of
    four, and no row to fetch when every hand-over may go: the recorder's thread gives up Python's lock
    for each call into SQLite, the event loop takes it each time, and the thread waits to get it back
    (that wait, not SQLite, was most of a commit's time in bench/send.py)."""
    rows = _journal_rows(entries)
    parts, params = [], [value for row in rows for value in row]
    if rows:
        parts.append("SELECT * FROM (VALUES " + ", ".join([f"({_JOURNAL_MARKS})"] * len(rows)) + ")")
    if handed:
        parts.append(
            "SELECT id, 'handed', ?, NULL, NULL, NULL, 0, NULL, NULL FROM message "
            f"WHERE id IN ({', '.join('?' * len(handed))}) AND state = 'sending' "
            f"AND campaign_id IN (SELECT id FROM campaign WHERE state IN {_IN_QUEUE})"
            + (" AND worker = ?" if worker else "")
        )
        params += [at, *handed, *([worker] if worker else [])]
    if not parts:
        return set()
    cursor = cursor or database.cursor()
    insert = f"INSERT INTO send_journal ({_JOURNAL_COLUMNS}) {' UNION ALL '.join(parts)}"
    if handed and returns_rows():
        # One statement, its rows computed and written at its first step: it fails whole or not at all,
        # and says which hand-overs it wrote.
        cursor.execute(insert + " RETURNING message_id, kind", params)
        return {message_id for message_id, kind in cursor.fetchall() if kind == "handed"}
    cursor.execute(insert, params)
    added = cursor.rowcount - len(rows)
    if not handed or added <= 0:
        return set()
    if added == len(handed):  # all may go: no second call, no row fetched
        return set(handed)
    # Some may not: the rows this statement appended have the ids just below the last one.
    cursor.execute(
        "SELECT message_id FROM send_journal WHERE id > ? AND id <= ? AND kind = 'handed'",
        (cursor.lastrowid - cursor.rowcount, cursor.lastrowid),
    )
    return {row[0] for row in cursor.fetchall()}


def returns_rows() -> bool:
    """Whether this SQLite knows `INSERT … RETURNING` (3.35, 2021)."""
    return sqlite3.sqlite_version_info >= (3, 35)


def _journal_postgres(entries: list[Entry], handed: list[int], at: Any, worker: str | None) -> set[int]:
    """The same as one statement, its own transaction (autocommit, nothing open on the connection):
    one round trip to the server instead of four (BEGIN, the check, the insert, COMMIT).

    The campaign row is locked `FOR KEY SHARE`: a pause or a cancel (which lock it `FOR UPDATE`) waits
    for a hand-over under way, and a hand-over waits for a pause or cancel under way and then sees it.
    Folds, which update the campaign's send times, do not conflict with it."""
    if not entries and not handed:
        return set()
    parts, params = [], []
    rows = _journal_rows(entries)
    if rows:
        values = ", ".join(["(%s, %s, %s, %s, %s, %s::timestamp, %s, %s, %s)"] * len(rows))
        parts.append(f"answers AS (INSERT INTO send_journal ({_JOURNAL_COLUMNS}) VALUES {values})")
        params += [value for row in rows for value in row]
    if handed:
        parts.append(
            "handed AS (INSERT INTO send_journal (message_id, kind, at, maybe_sent) "
            "SELECT m.id, 'handed', %s, false FROM message m JOIN campaign c ON c.id = m.campaign_id "
            f"WHERE m.id = ANY(%s) AND m.state = 'sending' AND c.state IN {_IN_QUEUE}"
            + (" AND m.worker = %s" if worker else "")
            + " FOR KEY SHARE OF c RETURNING message_id)"
        )
        params += [at, list(handed), *([worker] if worker else [])]
    cursor = database.cursor()
    cursor.execute(f"WITH {', '.join(parts)} SELECT {'message_id FROM handed' if handed else '1'}", params)
    return {row[0] for row in cursor.fetchall()} if handed else set()


def fold(entries: list[Entry], handed: list[tuple[int, datetime]]) -> None:
    """Journal entries into `message`, `sent_ledger` and `campaign` (one transaction); their rows go."""
    if not entries and not handed:
        return
    with dialect().driver_transaction() as cursor:
        _apply(cursor, entries, handed)
        _forget(cursor, {e.message_id for e in entries} | {message_id for message_id, _at in handed})


def _apply(cursor: Any, entries: list[Entry], handed: list[tuple[Any, Any]]) -> None:
    answered = {e.message_id for e in entries}
    handed = list(dict(handed).items())  # one time per message (left-behind rows may repeat one): the last
    # A message answered in the same fold needs no hand-over time: it is no longer `sending`.
    update_rows(cursor, "message", ("id", "at"), "handed_at = v.at",
        [(message_id, sql_value(at)) for message_id, at in handed if message_id not in answered],
        where="message.state = 'sending'", casts={"at": "timestamp"},
    )  # fmt: skip
    sent = [e for e in entries if e.kind == "sent"]
    if sent:
        update_rows(cursor, "message", ("id", "provider_id", "at"),
            "state = 'sent', provider_id = v.provider_id, sent_at = v.at, lease_until = NULL, error = NULL",
            [(e.message_id, e.provider_id, sql_value(e.at)) for e in sent],
            casts={"provider_id": "text", "at": "timestamp"},
        )  # fmt: skip
        insert_many(cursor, "sent_ledger", ("channel", "address", "body_hash", "sent_at", "message_id"),
            [(e.channel, e.address, e.body_hash, sql_value(e.at), e.message_id) for e in sent],
        )  # fmt: skip
        spans: dict[int, tuple[datetime, datetime]] = {}
        for e in sent:
            first, last = spans.get(e.campaign_id, (e.at, e.at))
            spans[e.campaign_id] = (min(first, e.at), max(last, e.at))
        run_many(cursor,
            _sql("UPDATE campaign SET first_sent_at = COALESCE(first_sent_at, ?), last_sent_at = CASE "
                 "WHEN last_sent_at IS NULL OR last_sent_at < ? THEN ? ELSE last_sent_at END WHERE id = ?"),
            [(sql_value(first), sql_value(last), sql_value(last), campaign_id)
             for campaign_id, (first, last) in spans.items()],
        )  # fmt: skip
    if len(sent) == len(entries):
        return
    update_rows(cursor, "message", ("id", "next_attempt_at", "error", "maybe_sent"),
        "state = 'pending', next_attempt_at = v.next_attempt_at, error = v.error, lease_until = NULL, "
        "handed_at = NULL, resent_after_crash = (message.resent_after_crash OR v.maybe_sent)",
        [(e.message_id, sql_value(e.next_attempt_at), e.error, e.maybe_sent)
         for e in entries if e.kind == "pending"],
        casts={"next_attempt_at": "timestamp", "error": "text", "maybe_sent": "boolean"},
    )  # fmt: skip
    update_rows(cursor, "message", ("id", "error"), "state = 'failed', error = v.error, lease_until = NULL",
        [(e.message_id, e.error) for e in entries if e.kind == "failed"], casts={"error": "text"},
    )  # fmt: skip
    dead = [(sql_value(e.at), e.dead_token) for e in entries if e.dead_token]
    if dead:
        run_many(cursor, _sql("UPDATE contact SET push_token_dead_at = ? WHERE push_token = ?"), dead)
    suppress(cursor, [
        Entered(e.address, e.channel, e.suppress, e.error, e.at, e.campaign_id or None, e.message_id)
        for e in entries if e.kind == "failed" and e.suppress
    ])  # fmt: skip


def fold_left_behind(campaign_id: int, expired: list[int]) -> None:
    """What a stopped engine journaled for these messages and never folded: folded now."""
    rows = list(
        select_in(
            "SELECT j.message_id, j.kind, j.at, j.provider_id, j.error, j.next_attempt_at, j.maybe_sent, "
            "j.dead_token, m.address, m.body_hash, j.suppress "
            "FROM send_journal j JOIN message m ON m.id = j.message_id "
            "WHERE j.message_id IN ({}) ORDER BY j.id",
            expired,
        )
    )
    if not rows:
        return
    channel = Campaign.select(Campaign.channel).where(Campaign.id == campaign_id).scalar()
    handed = [(r[0], r[2]) for r in rows if r[1] == "handed"]
    entries = [
        Entry(r[0], r[1], stored_time(r[2]) or utcnow(), r[3], r[4], stored_time(r[5]), bool(r[6]), r[7],
              campaign_id, channel, r[8], r[9], r[10])
        for r in rows
        if r[1] != "handed"
    ]  # fmt: skip
    with dialect().driver_transaction() as cursor:
        _apply(cursor, entries, handed)
        _forget(cursor, {r[0] for r in rows})


def _forget(cursor: Any, message_ids: set[int]) -> None:
    """The journal rows of these messages, once folded."""
    for batch in chunked(sorted(message_ids), 500):
        cursor.execute(_sql("DELETE FROM send_journal WHERE message_id IN ({})", len(batch)), batch)


def _sql(text: str, listed: int = 0) -> str:
    """`?` placeholders as the engine's driver wants them, and `{}` as an IN list of `listed` of them."""
    return _placeholders(text, listed, database.param)


@lru_cache(maxsize=128)
def _placeholders(text: str, listed: int, param: str) -> str:
    if listed:
        text = text.format(", ".join("?" * listed))
    return text.replace("?", param)
