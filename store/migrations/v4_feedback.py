"""4: what comes back: unsubscribed addresses, push messages read in the app's inbox."""

from __future__ import annotations

from peewee import DateTimeField, IntegerField, TextField
from playhouse.migrate import SchemaMigrator, migrate

from store.migrations.frozen import FrozenModel, create_tables

VERSION = 4


class OptOut(FrozenModel):
    address = TextField(primary_key=True)
    at = DateTimeField()
    campaign_id = IntegerField(null=True)

    class Meta:
        table_name = "opt_out"


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 3: the `opt_out` table and `message.read_at`."""
    create_tables(migrator.database, [OptOut])
    migrate(migrator.add_column("message", "read_at", DateTimeField(null=True)))
