"""1: contacts, campaigns, their messages, reservations, the sent ledger and tracking events.

No database starts from here any more (an empty one takes the newest whole schema); the tests build
databases of every older version from it.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigAutoField,
    BooleanField,
    CharField,
    Database,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    SmallIntegerField,
    TextField,
)

from store.migrations.frozen import FrozenModel, create_tables

VERSION = 1


class Setting(FrozenModel):
    key = CharField(primary_key=True, max_length=64)
    value = TextField()


class Contact(FrozenModel):
    id = IntegerField(primary_key=True)
    kind = CharField(max_length=16, index=True)
    first_name = TextField()
    last_name = TextField()
    email = TextField(null=True, index=True)
    phone = TextField(null=True, index=True)
    push_token = TextField(null=True, index=True)
    push_token_dead_at = DateTimeField(null=True)
    app_token = TextField(null=True, unique=True)
    consent = BooleanField()
    consent_changed_at = DateTimeField(null=True)
    consent_note = TextField(null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()


class Campaign(FrozenModel):
    id = AutoField()
    name = TextField()
    channel = CharField(max_length=8)
    sender = TextField()
    subject = TextField(null=True)
    coupon = TextField(null=True)
    body = TextField()
    state = CharField(max_length=16, index=True)
    created_at = DateTimeField(index=True)
    updated_at = DateTimeField()
    queued_at = DateTimeField(null=True)
    first_sent_at = DateTimeField(null=True)
    last_sent_at = DateTimeField(null=True)
    completed_at = DateTimeField(null=True)
    cancelled_at = DateTimeField(null=True)


class Message(FrozenModel):
    id = BigAutoField()
    campaign = ForeignKeyField(Campaign, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    address = TextField()
    first_name = TextField()
    last_name = TextField()
    source = CharField(max_length=16)
    state = CharField(max_length=20)
    attempts = SmallIntegerField()
    lease_until = DateTimeField(null=True)
    worker = TextField(null=True)
    provider_id = TextField(null=True)
    error = TextField(null=True)
    body_hash = CharField(max_length=64, null=True)
    resent_after_crash = BooleanField()
    added_at = DateTimeField()
    sent_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    opened_at = DateTimeField(null=True)
    clicked_at = DateTimeField(null=True)

    class Meta:
        indexes = (
            (("campaign", "address"), True),
            (("campaign", "state"), False),
            (("contact",), False),
        )


class Reservation(FrozenModel):
    id = BigAutoField()
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    created_at = DateTimeField()

    class Meta:
        indexes = ((("contact", "created_at"), True),)


class SentLedger(FrozenModel):
    id = BigAutoField()
    channel = CharField(max_length=8)
    address = TextField()
    body_hash = CharField(max_length=64)
    sent_at = DateTimeField()
    message = ForeignKeyField(Message, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "sent_ledger"
        indexes = ((("channel", "address", "body_hash", "sent_at"), False),)


class TrackingEvent(FrozenModel):
    id = BigAutoField()
    message = ForeignKeyField(Message, on_delete="CASCADE")
    kind = CharField(max_length=16)
    occurred_at = DateTimeField()
    url = TextField(null=True)

    class Meta:
        table_name = "tracking_event"
        indexes = ((("message", "kind"), False),)


def create(db: Database) -> None:
    """The tables of version 1 in an empty database."""
    create_tables(db, [Setting, Contact, Campaign, Message, Reservation, SentLedger, TrackingEvent])
