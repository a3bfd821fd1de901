"""9: hold-out groups and A/B variants (issue 19).

- `campaign.variant_subject`, `variant_body`: the second subject (or push title) and body of an A/B
  test; `variant_share`: the share of the eligible recipients given B, drawn at Send Now;
  `holdout_percent`: the share kept out as a control group; `draw_seed`: the seed of that draw, so it
  can be made again;
- `message.variant`: `a` or `b` (null: the campaign has one body); `message.held_out_at`: for a message
  in state `held_out`, when the campaign sent its others (its 28 days of reservations count from then).
"""

from __future__ import annotations

from peewee import BigIntegerField, CharField, DateTimeField, FloatField, TextField
from playhouse.migrate import SchemaMigrator, migrate

VERSION = 9


def upgrade(migrator: SchemaMigrator) -> None:
    """From version 8: the variant and hold-out columns."""
    migrate(
        migrator.add_column("campaign", "variant_subject", TextField(null=True)),
        migrator.add_column("campaign", "variant_body", TextField(null=True)),
        migrator.add_column("campaign", "variant_share", FloatField(null=True)),
        migrator.add_column("campaign", "holdout_percent", FloatField(null=True)),
        migrator.add_column("campaign", "draw_seed", BigIntegerField(null=True)),
        migrator.add_column("message", "variant", CharField(max_length=1, null=True)),
        migrator.add_column("message", "held_out_at", DateTimeField(null=True)),
    )
