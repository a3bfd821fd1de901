"""What recipients and providers tell us after the send: opens, clicks and SMS delivery receipts.

Written in batches (the feedback server gathers what arrives in a fraction of a second): raw events are
kept, and each message keeps the time of its first open and first click. A click counts as an open
too: the person read the message, even if their mail program blocked the pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from store.bulk import execute_many, select_in, sql_value
from store.db import database, write_transaction
from store.suppressions import Entered, suppress


@dataclass(frozen=True)
class Hit:
    """An open (`url` None) or a click heard for a message."""

    message_id: int
    at: datetime
    url: str | None = None


@dataclass(frozen=True)
class Receipt:
    reference: str  # "m123", as the transport sent it
    status: str  # delivered or failed
    at: datetime


@dataclass
class ReceiptResult:
    applied: set[str] = field(default_factory=set)  # the references whose message changed
    unknown: list[str] = field(default_factory=list)  # no SMS message has that reference
    early: list[Receipt] = field(default_factory=list)  # its message's answer is not on record yet


def record_hits(hits: Sequence[Hit]) -> int:
    """Records opens and clicks of messages that exist (one transaction); returns how many."""
    if not hits:
        return 0
    with write_transaction():
        known = {row[0] for row in select_in("SELECT id FROM message WHERE id IN ({})", sorted(
            {h.message_id for h in hits}))}  # fmt: skip
        hits = [h for h in hits if h.message_id in known]
        execute_many(
            "INSERT INTO tracking_event (message_id, kind, occurred_at, url) VALUES (?, ?, ?, ?)",
            [(h.message_id, "open" if h.url is None else "click", h.at, h.url) for h in hits],
        )
        execute_many(
            "UPDATE message SET opened_at = ? WHERE id = ? AND (opened_at IS NULL OR opened_at > ?)",
            [(h.at, h.message_id, h.at) for h in hits],
        )
        execute_many(
            "UPDATE message SET clicked_at = ? WHERE id = ? AND (clicked_at IS NULL OR clicked_at > ?)",
            [(h.at, h.message_id, h.at) for h in hits if h.url is not None],
        )
    return len(hits)


def message_of(reference: str) -> int | None:
    """The message id in a reference (`m123`), or None for anything else."""
    digits = reference[1:] if reference.startswith("m") else ""
    return int(digits) if digits.isdigit() and len(digits) < 19 else None


def apply_receipts(receipts: Sequence[Receipt]) -> ReceiptResult:
    """Delivery receipts of SMS messages: `delivered`, or `failed` with the gateway's word for it.

    A receipt may overtake the send engine's record of the answer by a moment: its message is still
    `sending`, and the receipt comes back in `early` to be applied a little later.
    """
    result = ReceiptResult()
    wanted = {r: message_of(r.reference) for r in receipts}
    ids = sorted({i for i in wanted.values() if i is not None})
    with write_transaction():
        states = dict(
            select_in(
                "SELECT m.id, m.state FROM message m JOIN campaign c ON c.id = m.campaign_id "
                "WHERE c.channel = 'sms' AND m.id IN ({})",
                ids,
            )
        )
        delivered, failed = [], []
        for receipt, message_id in wanted.items():
            state = states.get(message_id) if message_id is not None else None
            if state is None:
                result.unknown.append(receipt.reference)
            elif state == "sending":
                result.early.append(receipt)
            elif receipt.status == "delivered" and state == "sent":
                delivered.append((receipt.at, message_id))
                result.applied.add(receipt.reference)
            elif receipt.status == "failed" and state in ("sent", "delivered"):
                failed.append((message_id,))
                result.applied.add(receipt.reference)
        # The state conditions again: on PostgreSQL another writer may have moved the row since the read.
        execute_many(
            "UPDATE message SET state = 'delivered', delivered_at = ? WHERE id = ? AND state = 'sent'",
            delivered,
        )
        execute_many(
            "UPDATE message SET state = 'failed', delivered_at = NULL, error = 'the gateway reports it "
            "was not delivered' WHERE id = ? AND state IN ('sent', 'delivered')",
            failed,
        )
    return result


@dataclass(frozen=True)
class ProviderStatus:
    """A status callback of an SMS provider (Twilio's), naming its message by the provider's id."""

    provider_id: str
    status: str  # delivered or failed
    at: datetime
    error: str | None = None  # failed: the provider's reason, one line without personal data
    suppress: str | None = None  # failed for good: the address goes on the suppression list, for this


@dataclass
class ProviderStatusResult:
    applied: set[str] = field(default_factory=set)  # the provider ids whose message changed
    unknown: list[str] = field(default_factory=list)  # neither a message nor the journal has that id
    early: list[ProviderStatus] = field(default_factory=list)  # the send engine's record is not folded yet


def apply_provider_statuses(statuses: Sequence[ProviderStatus]) -> ProviderStatusResult:
    """Status callbacks of SMS messages, in the order they came, in one transaction.

    Only a `sent` message moves: to `delivered`, or to `failed` (its address suppressed when the
    provider's code says so); a status out of order never moves one back. An id still only in the send
    journal, or whose message is `sending`, comes back in `early`.
    """
    result = ProviderStatusResult()
    ids = sorted({s.provider_id for s in statuses})
    with write_transaction():
        found = {
            provider_id: (message_id, state, address, campaign_id)
            for provider_id, message_id, state, address, campaign_id in select_in(
                "SELECT m.provider_id, m.id, m.state, m.address, m.campaign_id FROM message m "
                "JOIN campaign c ON c.id = m.campaign_id WHERE c.channel = 'sms' AND m.provider_id IN ({})",
                ids,
            )
        }
        missing = [i for i in ids if i not in found]
        journaled = {row[0] for row in select_in(
            "SELECT provider_id FROM send_journal WHERE provider_id IN ({})", missing)}  # fmt: skip
        states = {provider_id: row[1] for provider_id, row in found.items()}
        cursor = database.cursor()
        entered = []
        for status in statuses:
            key = status.provider_id
            state = states.get(key)
            if state is None and key in journaled:
                result.early.append(status)
                continue
            if state is None:
                result.unknown.append(key)
                continue
            if state == "sending":
                result.early.append(status)
                continue
            if state != "sent":  # delivered and failed are final; cancelled and others are not ours to move
                continue
            message_id, _state, address, campaign_id = found[key]
            # The state condition again: on PostgreSQL another writer may have moved the row since the
            # read; only a row this statement moved counts, and only its failure suppresses.
            if status.status == "delivered":
                cursor.execute(
                    _MOVED_DELIVERED.replace("?", database.param), (sql_value(status.at), message_id)
                )
            else:
                why = status.error or "the provider reports it was not delivered"
                cursor.execute(_MOVED_FAILED.replace("?", database.param), (why, message_id))
            if cursor.rowcount != 1:
                continue
            states[key] = status.status
            result.applied.add(key)
            if status.status == "failed" and status.suppress:
                entered.append(
                    Entered(address, "sms", status.suppress, status.error, status.at, campaign_id, message_id)
                )
        suppress(cursor, entered)
    return result


_MOVED_DELIVERED = "UPDATE message SET state = 'delivered', delivered_at = ? WHERE id = ? AND state = 'sent'"
_MOVED_FAILED = (
    "UPDATE message SET state = 'failed', delivered_at = NULL, error = ? WHERE id = ? AND state = 'sent'"
)
