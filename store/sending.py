"""Claiming messages to send and recording what became of them: the ledger of the send engine.

A claim is one transaction that takes the next pending messages of a campaign, applies the verdicts of
store.eligibility (the policy the Send Now forecast counts: skipped for consent or the opt-out list,
failed when a recipient's message cannot be made, skipped by the duplicate window), and marks the rest
`sending` under a lease. Engines on one database never claim the same message. Before the provider
sees a message it is marked `handed_at`; after a crash, a message still `sending` past its lease went
back to `pending` if it was never handed over, and goes again marked `resent_after_crash` if it was.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from peewee import chunked, fn

from store.bulk import insert_many, run_many, select_in, sql_value, update_rows
from store.clock import utcnow
from store.db import database, is_postgres, write_transaction
from store.eligibility import (
    DUPLICATE,
    OPTED_OUT,
    PENDING_COLUMNS,
    PENDING_JOINS,
    SEND,
    WILL_FAIL,
    Eligibility,
    Verdict,
    pending_of,
)
from store.message_limits import MessageLimits
from store.models import CHANNELS, Campaign, Message, SentLedger
from store.queue import ACTIVE

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 6
RETRY_BASE_SECONDS = 5
RETRY_CAP_SECONDS = 15 * 60
_CLAIM_LOCK = 7_231_001  # PostgreSQL advisory lock, with the channel: one claim of a channel at a time


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, rendered and ready for its transport."""

    id: int
    campaign_id: int
    channel: str
    address: str
    sender: str
    subject: str | None  # email subject or push title, rendered
    body: str  # rendered
    body_hash: str
    resent: bool  # it was with the provider when an engine stopped: it may arrive twice
    attempts: int = 1  # this one included

    @property
    def reference(self) -> str:
        """The reference providers echo back (delivery receipts)."""
        return f"m{self.id}"


@dataclass(frozen=True)
class Outcome:
    """What the provider said about one message."""

    message_id: int
    state: str  # sent, failed, retry
    provider_id: str | None = None
    error: str | None = None
    dead_token: str | None = None  # a push token the service says is gone
    maybe_sent: bool = False  # the line dropped after the provider had it: if it goes again, say so


@dataclass
class Claim:
    messages: list[Outgoing] = field(default_factory=list)
    skipped: int = 0
    active: bool = True  # False: the campaign is no longer queued or sending
    next_retry_at: datetime | None = None  # when the earliest postponed message is due


def _lock_claims(channel: str) -> None:
    """One claim of a channel at a time across every engine: the one-week window is checked and the
    claimed messages marked in the same transaction, so two campaigns or workers cannot both send the
    same message to the same address. (On SQLite the write lock taken at BEGIN does this.)"""
    if is_postgres():
        database.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (_CLAIM_LOCK, CHANNELS.index(channel)))


def _recover_expired(campaign_id: int, now: datetime) -> None:
    expired = (Message.campaign == campaign_id) & (Message.state == "sending") & (Message.lease_until < now)
    expired_ids = [row[0] for row in Message.select(Message.id).where(expired).tuples()]
    if not expired_ids:
        return
    _fold_left_behind(campaign_id, expired_ids)
    Message.update(state="pending", lease_until=None, worker=None).where(
        expired & Message.handed_at.is_null()
    ).execute()
    Message.update(
        state="pending", lease_until=None, worker=None, handed_at=None, resent_after_crash=True
    ).where(expired & Message.handed_at.is_null(False)).execute()


def claim(
    campaign_id: int,
    worker: str,
    limit: int,
    window: str = "7d",
    now: datetime | None = None,
    lease: timedelta = LEASE,
    limits: MessageLimits | None = None,
) -> Claim:
    """Takes up to `limit` messages of the campaign to send now (one transaction).

    A message that cannot be made for its recipient (a template that fails for that name, a message over
    its channel's limits) fails here with the reason, alone: it is never handed to a provider."""
    now = now or utcnow()
    channel = Campaign.select(Campaign.channel).where(Campaign.id == campaign_id).scalar()
    if channel is None:
        return Claim(active=False)
    with write_transaction():
        _lock_claims(channel)
        campaign = Campaign.get_or_none(Campaign.id == campaign_id)  # read again, under the lock
        if campaign is None or campaign.state not in ACTIVE:
            return Claim(active=False)
        _recover_expired(campaign_id, now)
        p = database.param
        rows = database.execute_sql(
            f"SELECT {PENDING_COLUMNS}, m.resent_after_crash, m.attempts FROM message m {PENDING_JOINS} "
            f"WHERE m.campaign_id = {p} AND m.state = 'pending' "
            f"AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= {p}) ORDER BY m.id LIMIT {p}"
            # Rows another transaction holds (a cancel, a fold) are left for the next claim, not waited on.
            + (" FOR UPDATE OF m SKIP LOCKED" if is_postgres() else ""),
            [campaign_id, sql_value(now), limit],
        ).fetchall()
        result = Claim()
        if not rows:
            result.next_retry_at = (
                Message.select(fn.MIN(Message.next_attempt_at))
                .where((Message.campaign == campaign_id) & (Message.state == "pending"))
                .scalar()
            )
            return result
        verdicts = Eligibility(campaign, window, now, limits).judge([pending_of(r) for r in rows])
        _apply_verdicts(verdicts)
        claimed = [
            _outgoing(campaign, v, address=r[1], resent=r[5], attempts=r[6])
            for r, v in zip(rows, verdicts, strict=True)
            if v.outcome == SEND
        ]
        _mark_sending(claimed, worker, now + lease)
        if campaign.state == "queued":
            Campaign.update(state="sending").where(Campaign.id == campaign_id).execute()
        result.messages = claimed
        result.skipped = len(rows) - len(claimed)
    return result


def _apply_verdicts(verdicts: list[Verdict]) -> None:
    """The states of the messages that do not go: skipped with why, or failed with the reason."""
    opted_out = [v.message_id for v in verdicts if v.outcome == OPTED_OUT]
    if opted_out:
        Message.update(state="skipped_opted_out", lease_until=None).where(Message.id.in_(opted_out)).execute()
    update_rows(database.cursor(), "message", ("id", "body_hash", "error"),
        "state = 'skipped_duplicate', body_hash = v.body_hash, error = v.error",
        [(v.message_id, v.body_hash, f"the same message reached this address on {v.when:%Y-%m-%d %H:%M} UTC")
         for v in verdicts if v.outcome == DUPLICATE],
    )  # fmt: skip
    update_rows(database.cursor(), "message", ("id", "error"),
        "state = 'failed', error = v.error, lease_until = NULL, attempts = message.attempts + 1",
        [(v.message_id, v.reason) for v in verdicts if v.outcome == WILL_FAIL], casts={"error": "text"},
    )  # fmt: skip


def _outgoing(campaign: Campaign, verdict: Verdict, address: str, resent: Any, attempts: int) -> Outgoing:
    """A message to send, as its transport takes it."""
    subject = verdict.subject
    if campaign.channel == "push" and not subject:
        subject = campaign.sender
    return Outgoing(
        id=verdict.message_id, campaign_id=campaign.id, channel=campaign.channel, address=address,
        sender=campaign.sender, subject=subject, body=verdict.body or "", body_hash=verdict.body_hash or "",
        resent=bool(resent), attempts=attempts + 1,
    )  # fmt: skip


def _as_time(value: datetime | str | None) -> datetime | None:
    return SentLedger.sent_at.python_value(value) if value is not None else None


def _mark_sending(messages: list[Outgoing], worker: str, lease_until: datetime) -> None:
    update_rows(database.cursor(), "message", ("id", "worker", "lease_until", "body_hash"),
        "state = 'sending', worker = v.worker, lease_until = v.lease_until, attempts = message.attempts + 1, "
        "body_hash = v.body_hash, next_attempt_at = NULL, handed_at = NULL",
        [(m.id, worker, lease_until, m.body_hash) for m in messages],
        casts={"lease_until": "timestamp"},
    )  # fmt: skip


def retry_at(attempts: int, now: datetime, rng: random.Random | None = None) -> datetime:
    """Exponential back-off with jitter: 5 s, 10 s, 20 s… up to 15 minutes, ±25%."""
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.75, 1.25)
    return now + timedelta(seconds=delay * jitter)


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


def entries_of(results: list[tuple[Outcome, Outgoing]], now: datetime) -> list[Entry]:
    """Answers as journal entries: a transient failure is tried again later, up to MAX_ATTEMPTS."""
    found = []
    for outcome, m in results:
        kind, error, next_attempt_at = outcome.state, outcome.error, None
        if kind == "retry" and m.attempts < MAX_ATTEMPTS:
            kind, next_attempt_at = "pending", retry_at(m.attempts, now)
        elif kind == "retry":
            kind, error = "failed", f"gave up after {m.attempts} attempts: {outcome.error}"
        found.append(
            Entry(
                m.id, kind, now, outcome.provider_id, error, next_attempt_at, outcome.maybe_sent,
                outcome.dead_token, m.campaign_id, m.channel, m.address, m.body_hash,
            )
        )  # fmt: skip
    return found


_JOURNAL_COLUMNS = "message_id, kind, at, provider_id, error, next_attempt_at, maybe_sent, dead_token"
_JOURNAL_MARKS = "?, ?, ?, ?, ?, ?, ?, ?"


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
    if is_postgres() and not database.in_transaction():
        return _journal_postgres(entries, handed, at, worker)
    allowed: set[int] = set()
    with _driver_transaction() as cursor:
        if handed:
            mine = f" AND worker = {database.param}" if worker else ""
            cursor.execute(
                _sql(
                    "SELECT id FROM message WHERE id IN ({}) AND state = 'sending' "
                    "AND campaign_id IN (SELECT id FROM campaign WHERE state IN ('queued', 'sending'))",
                    len(handed),
                )
                + mine,
                [*handed, worker] if worker else handed,
            )
            allowed = {row[0] for row in cursor.fetchall()}
        rows = _journal_rows(entries) + [
            (i, "handed", at, None, None, None, False, None) for i in handed if i in allowed
        ]
        if rows:
            run_many(
                cursor, _sql(f"INSERT INTO send_journal ({_JOURNAL_COLUMNS}) VALUES ({_JOURNAL_MARKS})"), rows
            )
    return allowed


def _journal_rows(entries: list[Entry]) -> list[tuple[Any, ...]]:
    return [
        (e.message_id, e.kind, sql_value(e.at), e.provider_id, e.error, sql_value(e.next_attempt_at),
         e.maybe_sent, e.dead_token)
        for e in entries
    ]  # fmt: skip


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
        values = ", ".join(["(%s, %s, %s, %s, %s, %s::timestamp, %s, %s)"] * len(rows))
        parts.append(f"answers AS (INSERT INTO send_journal ({_JOURNAL_COLUMNS}) VALUES {values})")
        params += [value for row in rows for value in row]
    if handed:
        parts.append(
            "handed AS (INSERT INTO send_journal (message_id, kind, at, maybe_sent) "
            "SELECT m.id, 'handed', %s, false FROM message m JOIN campaign c ON c.id = m.campaign_id "
            "WHERE m.id = ANY(%s) AND m.state = 'sending' AND c.state IN ('queued', 'sending')"
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
    with _driver_transaction() as cursor:
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


def _fold_left_behind(campaign_id: int, expired: list[int]) -> None:
    """What a stopped engine journaled for these messages and never folded: folded now."""
    rows = list(
        select_in(
            "SELECT j.message_id, j.kind, j.at, j.provider_id, j.error, j.next_attempt_at, j.maybe_sent, "
            "j.dead_token, m.address, m.body_hash FROM send_journal j JOIN message m ON m.id = j.message_id "
            "WHERE j.message_id IN ({}) ORDER BY j.id",
            expired,
        )
    )
    if not rows:
        return
    channel = Campaign.select(Campaign.channel).where(Campaign.id == campaign_id).scalar()
    handed = [(r[0], r[2]) for r in rows if r[1] == "handed"]
    entries = [
        Entry(r[0], r[1], _as_time(r[2]) or utcnow(), r[3], r[4], _as_time(r[5]), bool(r[6]), r[7],
              campaign_id, channel, r[8], r[9])
        for r in rows
        if r[1] != "handed"
    ]  # fmt: skip
    with _driver_transaction() as cursor:
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


@contextmanager
def _driver_transaction() -> Iterator[Any]:
    """A cursor of the driver itself, in a transaction that takes SQLite's write lock at once."""
    if is_postgres() or database.in_transaction():
        with write_transaction():
            yield database.cursor()
        return
    cursor = database.connection().cursor()
    cursor.execute("BEGIN IMMEDIATE")
    try:
        yield cursor
    except BaseException:
        cursor.execute("ROLLBACK")
        raise
    cursor.execute("COMMIT")


def expire_claims_of(worker: str, now: datetime | None = None) -> int:
    """A worker starting under a name frees what an earlier process of that name left claimed."""
    with write_transaction():
        return (
            Message.update(lease_until=(now or utcnow()) - timedelta(seconds=1))
            .where((Message.worker == worker) & (Message.state == "sending"))
            .execute()
        )


def release(message_ids: list[int]) -> None:
    """Claimed messages never handed to the provider go back to `pending`, the attempt not counted."""
    for batch in chunked(message_ids, 900):
        Message.update(
            state="pending", lease_until=None, worker=None, handed_at=None, attempts=Message.attempts - 1
        ).where(Message.id.in_(batch) & (Message.state == "sending")).execute()


def renew_leases(message_ids: list[int], now: datetime | None = None, lease: timedelta = LEASE) -> None:
    """Keeps the engine's claims while it works on them (a slow provider must not look like a crash)."""
    until = (now or utcnow()) + lease
    for batch in chunked(message_ids, 900):
        Message.update(lease_until=until).where(
            Message.id.in_(batch) & (Message.state == "sending")
        ).execute()
