"""2: what the send engine keeps: pauses, provider outages, hand-overs and retries."""

from __future__ import annotations

from peewee import DateTimeField, TextField
from playhouse.migrate import SchemaMigrator, migrate

VERSION = 2


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 1: five nullable columns on `campaign` and `message`."""
    migrate(
        migrator.add_column("campaign", "paused_at", DateTimeField(null=True)),
        migrator.add_column("campaign", "waiting_until", DateTimeField(null=True)),
        migrator.add_column("campaign", "waiting_reason", TextField(null=True)),
        migrator.add_column("message", "handed_at", DateTimeField(null=True)),
        migrator.add_column("message", "next_attempt_at", DateTimeField(null=True)),
    )
