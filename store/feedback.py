"""What recipients and providers tell us after the send: opens, clicks and SMS delivery receipts.

Written in batches (the feedback server gathers what arrives in a fraction of a second): raw events are
kept, and each message keeps the time of its first open and first click. A click counts as an open
too: the person read the message, even if their mail program blocked the pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from store.bulk import execute_many, select_in
from store.db import write_transaction


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
