"""The peewee models: contacts, campaigns, their messages, reservations, the sent ledger, tracking events.

Every time is a naive UTC datetime.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)

from store.clock import utcnow
from store.db import database
from store.lifecycle import DRAFT, STATES

CHANNELS = ("sms", "email", "push")
CONTACT_KINDS = ("patient", "resource", "user")

CAMPAIGN_STATES = STATES  # store.lifecycle says what each allows
MESSAGE_STATES = (
    "pending",
    "sending",
    "sent",
    "delivered",
    "failed",
    "skipped_duplicate",
    "skipped_opted_out",
    "skipped_suppressed",
    "held_out",  # kept out of the campaign as its control group (store.experiments): never sent
    "cancelled",
)
# Messages the provider accepted: `sent` counts the delivered ones too (docs/cli.md).
ACCEPTED_STATES = ("sent", "delivered")


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Setting(BaseModel):
    """Small key/value facts about this database: the schema version, the generated link secret."""

    key = CharField(primary_key=True, max_length=64)
    value = TextField()


class Contact(BaseModel):
    """A person of the center's registry: patient, resource (doctor, staff) or non-patient user.

    `registry_id` is the registry's own id, opaque text (`P000123`, a UUID); `id` is ours, internal:
    messages and reservations point at it (schema 6).
    """

    id = IntegerField(primary_key=True)
    registry_id = CharField(max_length=64, unique=True)
    kind = CharField(max_length=16, default="patient", index=True)
    first_name = TextField(default="")
    last_name = TextField(default="")
    email = TextField(null=True, index=True)
    phone = TextField(null=True, index=True)  # E.164
    push_token = TextField(null=True, index=True)
    push_token_dead_at = DateTimeField(null=True)
    app_token = TextField(null=True, unique=True)
    consent = BooleanField(default=True)
    consent_changed_at = DateTimeField(null=True)
    consent_note = TextField(null=True)  # why it changed: "unsubscribed from campaign 12"
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class Campaign(BaseModel):
    id = AutoField()
    name = TextField()
    channel = CharField(max_length=8)
    sender = TextField()
    subject = TextField(null=True)  # email subject, push title
    coupon = TextField(null=True)
    body = TextField()
    state = CharField(max_length=16, default=DRAFT, index=True)
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)
    queued_at = DateTimeField(null=True)
    first_sent_at = DateTimeField(null=True)
    last_sent_at = DateTimeField(null=True)
    completed_at = DateTimeField(null=True)
    cancelled_at = DateTimeField(null=True)
    paused_at = DateTimeField(null=True)
    # While its provider is down the campaign waits, holding its place in the queue (schema 2).
    waiting_until = DateTimeField(null=True)
    waiting_reason = TextField(null=True)
    scheduled_at = DateTimeField(null=True)  # a scheduled campaign joins the queue then (schema 8)
    # An A/B test's second subject (push title) and body; at Send Now, the share given B, the share kept
    # out as a hold-out group, and the seed of that draw (schema 9, store.experiments)
    variant_subject = TextField(null=True)
    variant_body = TextField(null=True)
    variant_share = FloatField(null=True)
    holdout_percent = FloatField(null=True)
    draw_seed = BigIntegerField(null=True)
    # Email only (schema 10): the open-tracking image, and the footer's language (null: [email] language)
    open_tracking = BooleanField(default=True, constraints=[SQL("DEFAULT TRUE")])  # another tool's rows too
    language = CharField(max_length=8, null=True)


class Message(BaseModel):
    """One recipient of one campaign, and what became of the message sent to it."""

    id = BigAutoField()
    campaign = ForeignKeyField(Campaign, backref="messages", on_delete="CASCADE")
    contact = ForeignKeyField(Contact, null=True, on_delete="SET NULL")
    address = TextField()  # normalised: email, E.164 phone or device token
    first_name = TextField(default="")
    last_name = TextField(default="")
    source = CharField(max_length=16, default="paste")  # paste, csv, contacts, all_patients
    state = CharField(max_length=20, default="pending")
    attempts = SmallIntegerField(default=0)
    lease_until = DateTimeField(null=True)
    worker = TextField(null=True)
    # Claimed messages are `sending`; those also `handed_at` were given to the provider (schema 2):
    # after a crash only these may have gone out, and go again marked `resent_after_crash`.
    handed_at = DateTimeField(null=True)
    next_attempt_at = DateTimeField(null=True)
    provider_id = TextField(null=True, index=True)  # a status callback names its message by it (schema 7)
    error = TextField(null=True)
    body_hash = CharField(max_length=64, null=True)
    resent_after_crash = BooleanField(default=False)
    added_at = DateTimeField(default=utcnow)
    sent_at = DateTimeField(null=True)
    delivered_at = DateTimeField(null=True)
    opened_at = DateTimeField(null=True)  # first open
    clicked_at = DateTimeField(null=True)  # first click
    read_at = DateTimeField(null=True)  # a push message read in the app's inbox (schema 4)
    variant = CharField(max_length=1, null=True)  # a or b in an A/B test (schema 9)
    held_out_at = DateTimeField(null=True)  # held_out: when the campaign sent its others (schema 9)

    class Meta:
        indexes = (
            (("campaign", "address"), True),
            (("campaign", "state"), False),
            (("contact",), False),
        )


class Reservation(BaseModel):
    """A booking made by a patient; conversion counts those made in the 28 days after a message."""

    id = BigAutoField()
    contact = ForeignKeyField(Contact, on_delete="CASCADE")
    created_at = DateTimeField()

    class Meta:
        indexes = ((("contact", "created_at"), True),)


class SentLedger(BaseModel):
    """Every message a provider accepted: what the one-week window reads."""

    id = BigAutoField()
    channel = CharField(max_length=8)
    address = TextField()
    body_hash = CharField(max_length=64)
    sent_at = DateTimeField()
    message = ForeignKeyField(Message, null=True, on_delete="SET NULL")

    class Meta:
        table_name = "sent_ledger"
        indexes = ((("channel", "address", "body_hash", "sent_at"), False),)


class TrackingEvent(BaseModel):
    """A raw open, click or unsubscribe heard back for a message."""

    id = BigAutoField()
    message = ForeignKeyField(Message, on_delete="CASCADE")
    kind = CharField(max_length=16)  # open, click, unsubscribe
    occurred_at = DateTimeField(default=utcnow)
    url = TextField(null=True)

    class Meta:
        table_name = "tracking_event"
        indexes = ((("message", "kind"), False),)


class OptOut(BaseModel):
    """An address that unsubscribed: no campaign reaches it again, whether or not a contact holds it."""

    address = TextField(primary_key=True)  # normalised, as in `message.address`
    at = DateTimeField()
    campaign_id = IntegerField(null=True)  # the campaign whose link it used

    class Meta:
        table_name = "opt_out"


class SendSchedule(BaseModel):
    """A channel's next free send slot under its `rate_per_hour`, shared by every engine (schema 5)."""

    channel = CharField(max_length=8, primary_key=True)
    next_slot_at = DateTimeField()

    class Meta:
        table_name = "send_schedule"


class Worker(BaseModel):
    """An engine (a TUI or `campaigns worker`) and when it last said it was alive (schema 5)."""

    name = TextField(primary_key=True)
    host = TextField()
    pid = IntegerField()
    started_at = DateTimeField()
    heartbeat_at = DateTimeField()
    sending = TextField(null=True)  # the campaigns it sends now, "12,14"
    sent = BigIntegerField(default=0)  # messages it sent since it started
    stopped_at = DateTimeField(null=True)


class SendJournal(BaseModel):
    """Hand-overs and provider answers, on disk before the same connection hands over its next message.

    The send engine's hot path only appends here (a row at the end of a small table); every fraction of
    a second it folds the rows into `message` and `sent_ledger` and deletes them. Rows a crash left
    behind are folded by the claim that takes the crashed engine's messages back.
    """

    id = BigAutoField()
    message_id = BigIntegerField()  # no foreign key and no index: an append must stay cheap
    kind = CharField(max_length=8)  # handed, sent, pending (to try again later), failed
    at = DateTimeField()
    provider_id = TextField(null=True)
    error = TextField(null=True)
    next_attempt_at = DateTimeField(null=True)
    maybe_sent = BooleanField(default=False)
    dead_token = TextField(null=True)
    suppress = TextField(null=True)  # the answer puts the address on the suppression list, for this reason

    class Meta:
        table_name = "send_journal"


class Suppression(BaseModel):
    """An address never sent to again, on any channel, until removed (schema 7): store.suppressions."""

    address = TextField(primary_key=True)  # normalised, as in `message.address`
    channel = CharField(max_length=8)  # the channel whose kind of address it is
    reason = TextField()  # store.suppressions.REASONS
    detail = TextField(null=True)  # the provider's words: "550 5.1.1 no such user", "Twilio 21211"
    at = DateTimeField()
    campaign_id = IntegerField(null=True)  # the campaign whose message failed, if one did
    message_id = BigIntegerField(null=True)

    class Meta:
        table_name = "suppression"


MODELS: list[type[BaseModel]] = [
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
    Suppression,
]
