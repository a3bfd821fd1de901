"""10: a campaign's email options (issue 20).

- `campaign.open_tracking`: whether its emails carry the open-tracking image (true for every campaign
  before this version, as they did);
- `campaign.language`: the language of the footer and of the unsubscribe pages (`it`, `en`); null: the
  center's `[email] language`.
"""

from __future__ import annotations

from peewee import CharField
from playhouse.migrate import PostgresqlMigrator, SchemaMigrator, migrate

VERSION = 10


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 9: the two option columns. `open_tracking` is added NOT NULL with a database default
    in one statement (both engines fill the rows there are), and so a row another tool inserts, knowing
    nothing of it, is tracked as every campaign was before."""
    kind = "BOOLEAN" if isinstance(migrator, PostgresqlMigrator) else "INTEGER"  # as BooleanField on each
    migrator.database.execute_sql(
        f'ALTER TABLE "campaign" ADD COLUMN "open_tracking" {kind} NOT NULL DEFAULT TRUE'
    )
    migrate(migrator.add_column("campaign", "language", CharField(max_length=8, null=True)))
