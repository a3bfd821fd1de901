"""10: a campaign's email options (issue 20).

- `campaign.open_tracking`: whether its emails carry the open-tracking image (true for every campaign
  before this version, as they did);
- `campaign.language`: the language of the footer and of the unsubscribe pages (`it`, `en`); null: the
  center's `[email] language`.
"""

from __future__ import annotations

from peewee import BooleanField, CharField
from playhouse.migrate import SchemaMigrator, migrate

VERSION = 10


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 9: the two option columns."""
    migrate(
        migrator.add_column("campaign", "open_tracking", BooleanField(default=True)),
        migrator.add_column("campaign", "language", CharField(max_length=8, null=True)),
    )
