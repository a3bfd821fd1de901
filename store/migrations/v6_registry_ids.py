"""6: registry ids as opaque text: `contact.registry_id`, unique; the integer `id` stays internal.

An existing contact's registry id is its old integer id as text, so the ids the center used still find
it. Also the whole schema of version 6, which an empty database starts from.
"""

from __future__ import annotations

from peewee import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    Database,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    SmallIntegerField,
    TextField,
)
from playhouse.migrate import SchemaMigrator, migrate

from store.migrations.frozen import FrozenModel, create_tables

VERSION = 6


class Setting(FrozenModel):
    key = CharField(primary_key=True, max_length=64)
    value = TextField()


class Contact(FrozenModel):
    id = IntegerField(primary_key=True)
    registry_id = CharField(max_length=64, unique=True)
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
    paused_at = DateTimeField(null=True)
    waiting_until = DateTimeField(null=True)
    waiting_reason = TextField(null=True)


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
    handed_at = DateTimeField(null=True)
    next_attempt_at = DateTimeField(null=True)
    provider_id = TextField(null=True)
    error = TextField(null=True)
    body_hash = CharField(max_length=64, null=True)
    resent_after_crash = BooleanField()
    added_at = DateTimeField()
    sent_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    opened_at = DateTimeField(null=True)
    clicked_at = DateTimeField(null=True)
    read_at = DateTimeField(null=True)

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


class OptOut(FrozenModel):
    address = TextField(primary_key=True)
    at = DateTimeField()
    campaign_id = IntegerField(null=True)

    class Meta:
        table_name = "opt_out"


class SendSchedule(FrozenModel):
    channel = CharField(max_length=8, primary_key=True)
    next_slot_at = DateTimeField()

    class Meta:
        table_name = "send_schedule"


class Worker(FrozenModel):
    name = TextField(primary_key=True)
    host = TextField()
    pid = IntegerField()
    started_at = DateTimeField()
    heartbeat_at = DateTimeField()
    sending = TextField(null=True)
    sent = BigIntegerField()
    stopped_at = DateTimeField(null=True)


class SendJournal(FrozenModel):
    id = BigAutoField()
    message_id = BigIntegerField()
    kind = CharField(max_length=8)
    at = DateTimeField()
    provider_id = TextField(null=True)
    error = TextField(null=True)
    next_attempt_at = DateTimeField(null=True)
    maybe_sent = BooleanField()
    dead_token = TextField(null=True)

    class Meta:
        table_name = "send_journal"


TABLES: list[type[FrozenModel]] = [
    Setting,
    Contact,
    Campaign,
    Message,
    Reservation,
    SentLedger,
    TrackingEvent,
    OptOut,
    SendSchedule,
    Worker,
    SendJournal,
]


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 5: `contact.registry_id`, each existing contact's integer id as text."""
    migrate(migrator.add_column("contact", "registry_id", CharField(max_length=64, null=True)))
    migrator.database.execute_sql("UPDATE contact SET registry_id = CAST(id AS TEXT)")
    migrate(
        migrator.add_not_null("contact", "registry_id"),
        migrator.add_index("contact", ("registry_id",), unique=True),
    )


def create(db: Database) -> None:
    """The tables of version 6 in an empty database."""
    create_tables(db, TABLES)
