"""The schema's version and its migration path; `campaigns init` runs `migrate_schema`."""

from __future__ import annotations

from collections.abc import Callable

from peewee import Database, DateTimeField, TextField
from playhouse.migrate import SchemaMigrator, migrate

from store.db import database
from store.models import MODELS, OptOut, SendJournal, SendSchedule, Setting, Worker

SCHEMA_VERSION = 5


def _sending_columns(migrator: SchemaMigrator) -> None:
    """2: what the send engine keeps: pauses, provider outages, hand-overs and retries."""
    migrate(
        migrator.add_column("campaign", "paused_at", DateTimeField(null=True)),
        migrator.add_column("campaign", "waiting_until", DateTimeField(null=True)),
        migrator.add_column("campaign", "waiting_reason", TextField(null=True)),
        migrator.add_column("message", "handed_at", DateTimeField(null=True)),
        migrator.add_column("message", "next_attempt_at", DateTimeField(null=True)),
    )


def _send_journal(migrator: SchemaMigrator) -> None:
    """3: the send engine's journal of hand-overs and answers, folded into the messages in batches."""
    migrator.database.create_tables([SendJournal], safe=True)


def _feedback(migrator: SchemaMigrator) -> None:
    """4: what comes back: unsubscribed addresses, push messages read in the app's inbox."""
    migrator.database.create_tables([OptOut], safe=True)
    migrate(migrator.add_column("message", "read_at", DateTimeField(null=True)))


def _workers(migrator: SchemaMigrator) -> None:
    """5: several engines on one database: their shared send schedule, and their heartbeats."""
    migrator.database.create_tables([SendSchedule, Worker], safe=True)


# Each step takes the schema from version N-1 to N: (N, step), with playhouse.migrate.
MIGRATIONS: list[tuple[int, Callable[[SchemaMigrator], None]]] = [
    (2, _sending_columns),
    (3, _send_journal),
    (4, _feedback),
    (5, _workers),
]


def schema_version() -> int:
    """0 for an empty database."""
    if not database.table_exists(Setting._meta.table_name):
        return 0
    row = Setting.get_or_none(Setting.key == "schema_version")
    return int(row.value) if row else 0


def migrate_schema() -> int:
    """Creates the tables of an empty database or brings an older one up to date; idempotent."""
    db: Database = database.obj
    with database.connection_context():
        current = schema_version()
        if current > SCHEMA_VERSION:
            from store.errors import ConfigError

            raise ConfigError(
                f"the database has schema version {current}, newer than this program's "
                f"{SCHEMA_VERSION}: upgrade campaigns"
            )
        if current == 0:
            with database.atomic():
                db.create_tables(MODELS, safe=True)
                _set_version(SCHEMA_VERSION)
            return SCHEMA_VERSION
        migrator = SchemaMigrator.from_database(db)
        for version, step in MIGRATIONS:
            if version <= current:
                continue
            with migrator.migration_context():
                step(migrator)
                _set_version(version)
        return schema_version()


def _set_version(version: int) -> None:
    Setting.insert(key="schema_version", value=str(version)).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: str(version)}
    ).execute()
