"""7: the suppression list, and what the send journal and the provider callbacks need for it.

- `suppression`: addresses never sent to on any channel, with why (a hard bounce, a provider's permanent
  code, a dead push token, by hand) and when;
- `send_journal.suppress`: the reason a provider's answer puts its address on the list, kept with the
  answer until it is folded (a crash in between loses nothing);
- an index on `message.provider_id`: a Twilio status callback names the message by the provider's id.
"""

from __future__ import annotations

from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, TextField
from playhouse.migrate import SchemaMigrator, migrate

from store.migrations.frozen import FrozenModel, create_tables

VERSION = 7


class Suppression(FrozenModel):
    address = TextField(primary_key=True)
    channel = CharField(max_length=8)
    reason = TextField()
    detail = TextField(null=True)
    at = DateTimeField()
    campaign_id = IntegerField(null=True)
    message_id = BigIntegerField(null=True)

    class Meta:
        table_name = "suppression"


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 6: the `suppression` table, `send_journal.suppress`, the index on provider ids."""
    create_tables(migrator.database, [Suppression])
    migrate(
        migrator.add_column("send_journal", "suppress", TextField(null=True)),
        migrator.add_index("message", ("provider_id",), unique=False),
    )
