"""Claiming a campaign's next messages to send, and the leases that keep them the claiming engine's.

A claim is one transaction that takes the next pending messages of a campaign, applies the verdicts of
store.eligibility (the policy the Send Now forecast counts: skipped for consent or the opt-out list,
failed when a recipient's message cannot be made, skipped by the duplicate window), and marks the rest
`sending` under a lease. Engines on one database never claim the same message. A message still
`sending` past its lease goes back to `pending` (store.sending says what becomes of it then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from peewee import chunked, fn

from store.bulk import sql_value, update_rows
from store.clock import local, utcnow, zone_name
from store.db import database, dialect, rows_of, write_transaction
from store.eligibility import (
    DUPLICATE,
    OPTED_OUT,
    PENDING_COLUMNS,
    PENDING_JOINS,
    PENDING_WIDTH,
    SEND,
    SUPPRESSED,
    WILL_FAIL,
    Eligibility,
    Verdict,
    pending_of,
)
from store.lifecycle import QUEUED, SENDING, is_in_queue
from store.message_limits import MessageLimits
from store.models import CHANNELS, Campaign, Message
from store.outgoing import Outgoing
from store.send_journal import fold_left_behind
from store.suppressions import shown

LEASE = timedelta(seconds=60)
_CLAIM_LOCK = 7_231_001  # PostgreSQL advisory lock, with the channel: one claim of a channel at a time


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
    dialect().lock_transaction(_CLAIM_LOCK, CHANNELS.index(channel))


def recover_expired(campaign_id: int, now: datetime) -> None:
    """The campaign's messages whose engine's lease ran out go back to `pending`: those never handed
    over as they were, those handed over marked `resent_after_crash`."""
    expired = (Message.campaign == campaign_id) & (Message.state == "sending") & (Message.lease_until < now)
    expired_ids = [row[0] for row in rows_of(Message.select(Message.id).where(expired))]
    if not expired_ids:
        return
    fold_left_behind(campaign_id, expired_ids)
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
        if campaign is None or not is_in_queue(campaign.state):
            return Claim(active=False)
        recover_expired(campaign_id, now)
        p = database.param
        rows = database.execute_sql(
            f"SELECT {PENDING_COLUMNS}, m.resent_after_crash, m.attempts FROM message m {PENDING_JOINS} "
            f"WHERE m.campaign_id = {p} AND m.state = 'pending' "
            f"AND (m.next_attempt_at IS NULL OR m.next_attempt_at <= {p}) ORDER BY m.id LIMIT {p}"
            # Rows another transaction holds (a cancel, a fold) are left for the next claim, not waited on.
            + dialect().skip_locked("m"),
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
            _outgoing(campaign, v, address=r[1], resent=r[PENDING_WIDTH], attempts=r[PENDING_WIDTH + 1])
            for r, v in zip(rows, verdicts, strict=True)
            if v.outcome == SEND
        ]
        _mark_sending(claimed, worker, now + lease)
        if campaign.state == QUEUED:  # its first claim: it is sending from now on
            Campaign.update(state=SENDING).where(Campaign.id == campaign_id).execute()
        result.messages = claimed
        result.skipped = len(rows) - len(claimed)
    return result


def _apply_verdicts(verdicts: list[Verdict]) -> None:
    """The states of the messages that do not go: skipped with why, or failed with the reason."""
    opted_out = [v.message_id for v in verdicts if v.outcome == OPTED_OUT]
    if opted_out:
        Message.update(state="skipped_opted_out", lease_until=None).where(Message.id.in_(opted_out)).execute()
    update_rows(database.cursor(), "message", ("id", "error"),
        "state = 'skipped_suppressed', error = v.error, lease_until = NULL",
        [(v.message_id, shown(v.reason or "")) for v in verdicts if v.outcome == SUPPRESSED],
        casts={"error": "text"},
    )  # fmt: skip
    update_rows(database.cursor(), "message", ("id", "body_hash", "error"),
        "state = 'skipped_duplicate', body_hash = v.body_hash, error = v.error",
        [(v.message_id, v.body_hash, f"the same message reached this address on {_stamp(v.when)}")
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


def _mark_sending(messages: list[Outgoing], worker: str, lease_until: datetime) -> None:
    update_rows(database.cursor(), "message", ("id", "worker", "lease_until", "body_hash"),
        "state = 'sending', worker = v.worker, lease_until = v.lease_until, attempts = message.attempts + 1, "
        "body_hash = v.body_hash, next_attempt_at = NULL, handed_at = NULL",
        [(m.id, worker, lease_until, m.body_hash) for m in messages],
        casts={"lease_until": "timestamp"},
    )  # fmt: skip


def expire_claims_of(worker: str, now: datetime | None = None) -> int:
    """A worker starting under a name frees what an earlier process of that name left claimed."""
    with write_transaction():
        freed: int = (
            Message.update(lease_until=(now or utcnow()) - timedelta(seconds=1))
            .where((Message.worker == worker) & (Message.state == "sending"))
            .execute()
        )
    return freed


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


def _stamp(moment: datetime | None) -> str:
    """When, on the center's wall clock, naming its zone: the reason is stored, and read anywhere."""
    return f"{local(moment):%Y-%m-%d %H:%M} ({zone_name()})" if moment else "an earlier send"
