"""3: the send engine's journal of hand-overs and answers, folded into the messages in batches."""

from __future__ import annotations

from peewee import BigAutoField, BigIntegerField, BooleanField, CharField, DateTimeField, TextField
from playhouse.migrate import SchemaMigrator

from store.migrations.frozen import FrozenModel, create_tables

VERSION = 3


class SendJournal(FrozenModel):
    id = BigAutoField()
    message_id = BigIntegerField()  # no foreign key and no index: an append must stay cheap
    kind = CharField(max_length=8)
    at = DateTimeField()
    provider_id = TextField(null=True)
    error = TextField(null=True)
    next_attempt_at = DateTimeField(null=True)
    maybe_sent = BooleanField()
    dead_token = TextField(null=True)

    class Meta:
        table_name = "send_journal"


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 2: the `send_journal` table."""
    create_tables(migrator.database, [SendJournal])
