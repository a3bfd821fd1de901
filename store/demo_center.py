"""The demo center's bulk writes: its contacts, past campaigns with their messages, and reservations.

`fixtures.center` plans every row in memory, deterministically; these functions only write them, into an
empty database, inside the caller's `bulk_transaction`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from store.bulk import insert_rows
from store.db import database
from store.models import (
    ACCEPTED_STATES,
    Campaign,
    Contact,
    Message,
    Reservation,
    SentLedger,
    Suppression,
    TrackingEvent,
)
from store.suppressions import Entered, suppress

# A contact row's values, in this order.
CONTACT_COLUMNS = (
    "id", "registry_id", "kind", "first_name", "last_name", "email", "phone", "push_token", "app_token",
    "consent", "created_at", "updated_at",
)  # fmt: skip
# The keys a past message may have; a missing one is NULL (`attempts`: 0). Its campaign is given apart.
MESSAGE_COLUMNS = (
    "contact", "address", "first_name", "last_name", "source", "state", "attempts", "provider_id",
    "error", "body_hash", "added_at", "sent_at", "delivered_at", "opened_at", "clicked_at", "variant",
    "held_out_at",
)  # fmt: skip
CLICKED_URL = "https://centromedico.example/"


def holds_data() -> bool:
    """True when the database has a contact or a campaign: the demo center loads only into an empty one."""
    return Contact.select().exists() or Campaign.select().exists()


def insert_contacts(rows: Iterable[Sequence[Any]]) -> None:
    """Contacts, each a tuple in `CONTACT_COLUMNS` order, ids included."""
    insert_rows(Contact, [getattr(Contact, name) for name in CONTACT_COLUMNS], rows)


def insert_past_campaigns(campaigns: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Each campaign (its `Campaign` fields) with its messages (dicts of `MESSAGE_COLUMNS`), then the sent
    ledger of the messages the provider accepted, the tracking events of their opens and clicks, and the
    suppression list their permanent failures made (a message's `suppressed`: the reason and when)."""
    owned: list[tuple[int, str, dict[str, Any]]] = []
    for fields, messages in campaigns:
        campaign = Campaign.create(**fields)
        owned.extend((campaign.id, campaign.channel, m) for m in messages)
    defaults = {"attempts": 0}
    insert_rows(
        Message,
        [Message.campaign, *(getattr(Message, name) for name in MESSAGE_COLUMNS)],
        ([campaign_id, *(m.get(f, defaults.get(f)) for f in MESSAGE_COLUMNS)] for campaign_id, _, m in owned),
    )
    # Rows went in in this order into an empty table, so ascending ids match them one to one.
    ids: list[int] = list(Message.select(Message.id).order_by(Message.id).scalars())
    stored = [(message_id, channel, m) for (_, channel, m), message_id in zip(owned, ids, strict=True)]
    insert_rows(
        SentLedger,
        [SentLedger.channel, SentLedger.address, SentLedger.body_hash, SentLedger.sent_at,
         SentLedger.message],
        (
            (channel, m["address"], m["body_hash"], m["sent_at"], message_id)
            for message_id, channel, m in stored
            if m["state"] in ACCEPTED_STATES
        ),
    )  # fmt: skip
    events: list[tuple[int, str, datetime, str | None]] = []
    for message_id, _, m in stored:
        if m.get("opened_at"):
            events.append((message_id, "open", m["opened_at"], None))
        if m.get("clicked_at"):
            events.append((message_id, "click", m["clicked_at"], CLICKED_URL))
    insert_rows(
        TrackingEvent,
        [TrackingEvent.message, TrackingEvent.kind, TrackingEvent.occurred_at, TrackingEvent.url],
        events,
    )
    suppressed = [
        Entered(
            m["address"], channel, m["suppressed"][0], m["error"], m["suppressed"][1], campaign_id, message_id
        )
        for (campaign_id, channel, m), message_id in zip(owned, ids, strict=True)
        if m.get("suppressed")
    ]
    # The oldest failure first: an address keeps the reason it first got.
    suppress(database.cursor(), sorted(suppressed, key=lambda e: (e.at, e.message_id or 0)))


def insert_reservations(rows: Iterable[tuple[int, datetime]]) -> None:
    """Reservations as (contact id, created_at)."""
    insert_rows(Reservation, [Reservation.contact, Reservation.created_at], rows)


def row_counts() -> dict[str, int]:
    """How many reservations, messages, ledger rows, tracking events and suppressed addresses the
    database holds."""
    return {
        "reservations": Reservation.select().count(),
        "messages": Message.select().count(),
        "sent_ledger": SentLedger.select().count(),
        "tracking_events": TrackingEvent.select().count(),
        "suppressions": Suppression.select().count(),
    }
