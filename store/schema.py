"""The schema's version and its migration path; `campaigns init` runs `migrate_schema`.

The steps, each with the tables as they were at its version, are in `store.migrations`.
"""

from __future__ import annotations

from peewee import CharField, Database, Model, TextField
from playhouse.migrate import SchemaMigrator

from store.db import database
from store.migrations import CREATES, LATEST, UPGRADES, Create, Upgrade

SCHEMA_VERSION = LATEST

# Each step takes the schema from version N-1 to N: (N, step), with playhouse.migrate.
MIGRATIONS: list[tuple[int, Upgrade]] = UPGRADES


class _Setting(Model):
    """Where every version keeps the schema's version: the `setting` table, frozen."""

    key = CharField(primary_key=True, max_length=64)
    value = TextField()

    class Meta:
        database = database
        table_name = "setting"


def schema_version() -> int:
    """0 for an empty database."""
    if not database.table_exists(_Setting._meta.table_name):
        return 0
    row = _Setting.get_or_none(_Setting.key == "schema_version")
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
            version, create = _newest_whole_schema()
            with database.atomic():
                create(db)
                _set_version(version)
            if version == SCHEMA_VERSION:
                return SCHEMA_VERSION
            current = version
        migrator = SchemaMigrator.from_database(db)
        for version, step in MIGRATIONS:
            if version <= current or version > SCHEMA_VERSION:
                continue
            with migrator.migration_context():
                step(migrator)
                _set_version(version)
        return schema_version()


def _newest_whole_schema() -> tuple[int, Create]:
    """What an empty database starts from: the newest whole schema not past `SCHEMA_VERSION`."""
    return max((entry for entry in CREATES if entry[0] <= SCHEMA_VERSION), key=lambda entry: entry[0])


def _set_version(version: int) -> None:
    _Setting.insert(key="schema_version", value=str(version)).on_conflict(
        conflict_target=[_Setting.key], update={_Setting.value: str(version)}
    ).execute()
