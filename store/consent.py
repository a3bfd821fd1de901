"""Unsubscribes: an address that used a campaign's unsubscribe link is never reached by a campaign again.

The contact (when the address belongs to one) loses its marketing consent, with the time and the
campaign it came from; the address itself goes on the opt-out list, so a pasted or imported address
without a contact is skipped too.
"""

from __future__ import annotations

from datetime import datetime

from store.bulk import select_in
from store.clock import utcnow
from store.db import write_transaction
from store.models import Campaign, Contact, Message, OptOut, TrackingEvent


def unsubscribe(message_id: int, now: datetime | None = None) -> bool:
    """Withdraws the consent of the message's recipient; False when no such message exists."""
    now = now or utcnow()
    with write_transaction():
        found = (
            Message.select(Message.address, Message.contact, Message.campaign)
            .where(Message.id == message_id)
            .tuples()
            .first()
        )
        if found is None:
            return False
        address, contact_id, campaign_id = found
        if OptOut.select().where(OptOut.address == address).exists():
            return True  # unsubscribed already: a second click changes nothing, records nothing
        OptOut.insert(address=address, at=now, campaign_id=campaign_id).on_conflict_ignore().execute()
        if contact_id is not None:
            Contact.update(
                consent=False,
                consent_changed_at=now,
                consent_note=f"unsubscribed from campaign {campaign_id}",
                updated_at=now,
            ).where((Contact.id == contact_id) & (Contact.consent == True)).execute()  # noqa: E712
        TrackingEvent.insert(message=message_id, kind="unsubscribe", occurred_at=now).execute()
    return True


def sender_of(message_id: int) -> tuple[str, str | None] | None:
    """The sender name of the message's campaign (who the mail came from) and the campaign's language
    (None: the center's); None when no such message."""
    row = (
        Campaign.select(Campaign.sender, Campaign.language)
        .join(Message)
        .where(Message.id == message_id)
        .tuples()
        .first()
    )
    return None if row is None else (row[0], row[1])


def opted_out_among(addresses: list[str]) -> set[str]:
    """Those of the normalised addresses that unsubscribed."""
    return {row[0] for row in select_in("SELECT address FROM opt_out WHERE address IN ({})", addresses)}
