from pathlib import Path

import pytest
from peewee import IntegerField, PostgresqlDatabase, SqliteDatabase
from playhouse.migrate import SchemaMigrator, migrate

from store import schema
from store.campaigns import create_campaign
from store.db import database, make_database, open_database, redact
from store.errors import ConfigError
from store.models import Campaign, OptOut, SendJournal, Setting, Suppression


def test_sqlite_url_gives_a_wal_database_with_foreign_keys(tmp_path: Path):
    db = open_database(f"sqlite:///{tmp_path / 'sub' / 'c.db'}")
    assert isinstance(db, SqliteDatabase)
    assert (tmp_path / "sub").is_dir()
    with database.connection_context():
        assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_postgres_url_is_parsed_without_connecting():
    db = make_database("postgresql://ann:s3cret@db.example:5433/center?connect_timeout=3")
    assert isinstance(db, PostgresqlDatabase)
    assert db.database == "center"
    assert db.connect_params["user"] == "ann"
    assert db.connect_params["port"] == 5433
    assert db.connect_params["connect_timeout"] == "3"
    assert redact("postgresql://ann:s3cret@db.example/center") == "postgresql://ann:***@db.example/center"


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite:///", "postgresql://host/"])
def test_unusable_urls_are_refused(url):
    with pytest.raises(ConfigError):
        make_database(url)


def test_init_creates_the_schema_and_is_idempotent(store):
    assert schema.schema_version() == schema.SCHEMA_VERSION
    create_campaign(channel="sms", name="Keep me", sender="Centro", body="hi")
    assert schema.migrate_schema() == schema.SCHEMA_VERSION
    assert Campaign.select().count() == 1


def test_a_version_1_database_gets_the_sending_columns_the_journal_and_the_feedback_tables(store):
    campaign = create_campaign(channel="sms", name="From v1", sender="Centro", body="hi")
    database.obj.drop_tables([SendJournal, OptOut, Suppression])
    migrator = SchemaMigrator.from_database(database.obj)
    with migrator.migration_context():
        migrate(
            *(
                migrator.drop_column("campaign", c)
                for c in (
                    "paused_at",
                    "waiting_until",
                    "waiting_reason",
                    "scheduled_at",
                    "variant_subject",
                    "variant_body",
                    "variant_share",
                    "holdout_percent",
                    "draw_seed",
                    "open_tracking",
                    "language",
                )
            ),
            *(
                migrator.drop_column("message", c)
                for c in ("handed_at", "next_attempt_at", "read_at", "variant", "held_out_at")
            ),
            migrator.drop_index("contact", "contact_registry_id"),
            migrator.drop_column("contact", "registry_id"),
            migrator.drop_index("message", "message_provider_id"),
        )
    Setting.update(value="1").where(Setting.key == "schema_version").execute()
    assert schema.schema_version() == 1
    assert schema.migrate_schema() == schema.SCHEMA_VERSION
    assert database.table_exists("send_journal") and database.table_exists("opt_out")
    assert database.table_exists("suppression")
    columns = {c.name for c in database.get_columns("message")}
    assert {"handed_at", "next_attempt_at", "read_at"} <= columns
    assert Campaign.get_by_id(campaign.id).waiting_until is None
    assert Campaign.get_by_id(campaign.id).name == "From v1"
    assert Campaign.get_by_id(campaign.id).open_tracking is True  # as every email before version 10


def test_an_older_schema_is_migrated_keeping_its_data(store, monkeypatch):
    campaign = create_campaign(channel="sms", name="Old", sender="Centro", body="hi")

    def add_lane(migrator):
        migrate(migrator.add_column("campaign", "lane", IntegerField(default=0)))

    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", [(schema.SCHEMA_VERSION, add_lane)])
    assert schema.migrate_schema() == schema.SCHEMA_VERSION
    assert schema.migrate_schema() == schema.SCHEMA_VERSION
    rows = database.execute_sql(f"SELECT name, lane FROM campaign WHERE id = {campaign.id}").fetchall()
    assert rows == [("Old", 0)]


def test_a_newer_schema_is_refused(store, monkeypatch):
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 0)
    with pytest.raises(ConfigError, match="newer than this program"):
        schema.migrate_schema()
