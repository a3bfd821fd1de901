"""8: scheduled campaigns (issue 18): `campaign.scheduled_at`, when a scheduled campaign joins the queue."""

from __future__ import annotations

from peewee import DateTimeField
from playhouse.migrate import SchemaMigrator, migrate

VERSION = 8


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 7: the campaign's scheduled time (naive UTC, null unless scheduled)."""
    migrate(migrator.add_column("campaign", "scheduled_at", DateTimeField(null=True)))
