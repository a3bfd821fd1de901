"""The app's inbox: every push message a patient received, readable there after the notification is gone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.clock import iso, utcnow
from store.db import write_transaction
from store.errors import TemplateError
from store.models import ACCEPTED_STATES, Campaign, Contact, Message
from store.templates import Personaliser

INBOX_LIMIT = 500


def owner_of(app_token: str) -> int | None:
    """The contact whose app session holds this token."""
    if not app_token:
        return None
    contact_id: int | None = Contact.select(Contact.id).where(Contact.app_token == app_token).scalar()
    return contact_id


def inbox_of(contact_id: int, limit: int = INBOX_LIMIT) -> list[dict[str, Any]]:
    """The contact's push messages, newest first, with their title and body as the patient got them."""
    rows = (
        Message.select(Message, Campaign)
        .join(Campaign)
        .where(
            (Message.contact == contact_id)
            & (Campaign.channel == "push")
            & (Message.state.in_(ACCEPTED_STATES))
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(limit)
    )
    found = []
    for message in rows:
        campaign = message.campaign
        try:
            body, title = Personaliser(campaign.body, campaign.subject, campaign.coupon)(
                message.first_name, message.last_name
            )
        except TemplateError:  # its template was checked when it was sent; this cannot happen twice
            body, title = campaign.body, campaign.subject
        found.append(
            {
                "id": message.id,
                "campaign_id": campaign.id,
                "title": title or campaign.sender,
                "body": body,
                "sent_at": iso(message.sent_at),
                "read": message.read_at is not None,
            }
        )
    return found


def mark_read(contact_id: int, message_id: int, now: datetime | None = None) -> bool:
    """Marks one of the contact's push messages read; False when it is not theirs (or not a message)."""
    with write_transaction():
        mine = (
            Message.select(Message.id)
            .join(Campaign)
            .where(
                (Message.id == message_id)
                & (Message.contact == contact_id)
                & (Campaign.channel == "push")
                & (Message.state.in_(ACCEPTED_STATES))
            )
            .exists()
        )
        if mine:
            Message.update(read_at=now or utcnow()).where(
                (Message.id == message_id) & Message.read_at.is_null()
            ).execute()
    return mine
