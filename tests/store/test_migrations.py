"""The migrations give the schema the models declare: a new database exactly, an older one up to column order.

Each engine is described from its own catalog: tables, columns and their types, indexes, keys.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from store import schema
from store.db import database, is_postgres
from store.migrations import CREATES, LATEST, UPGRADES
from store.models import MODELS

ROOT = Path(__file__).resolve().parents[2]
Description = dict[str, list[tuple[Any, ...]]]


def _sqlite(ordered: bool) -> Description:
    tables = [
        row[0]
        for row in database.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    found: Description = {"tables": [(table,) for table in tables], "columns": [], "indexes": [], "keys": []}
    for table in tables:
        columns = [row[1:] for row in database.execute_sql(f'PRAGMA table_info("{table}")')]
        found["columns"] += [(table, *column) for column in (columns if ordered else sorted(columns))]
        for _, name, unique, origin, partial in database.execute_sql(f'PRAGMA index_list("{table}")'):
            names = [row[2] for row in database.execute_sql(f'PRAGMA index_info("{name}")')]
            found["indexes"].append((table, name, unique, origin, partial, *names))
        found["keys"] += [
            (table, *row[2:]) for row in database.execute_sql(f'PRAGMA foreign_key_list("{table}")')
        ]
    if ordered:  # the statements themselves, as SQLite keeps them
        found["sql"] = database.execute_sql(
            "SELECT type, name, sql FROM sqlite_master ORDER BY name"
        ).fetchall()
    return {key: sorted(rows) if key != "columns" else rows for key, rows in found.items()}


def _postgres(ordered: bool) -> Description:
    columns = database.execute_sql(
        "SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, "
        "is_nullable, column_default FROM information_schema.columns WHERE table_schema = current_schema() "
        f"ORDER BY table_name, {'ordinal_position' if ordered else 'column_name'}"
    ).fetchall()
    indexes = database.execute_sql(
        "SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '') FROM pg_indexes "
        "WHERE schemaname = current_schema() ORDER BY tablename, indexname"
    ).fetchall()
    keys = database.execute_sql(
        "SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = current_schema() ORDER BY 1, 2"
    ).fetchall()
    sequences = database.execute_sql(
        "SELECT sequence_name, data_type FROM information_schema.sequences "
        "WHERE sequence_schema = current_schema() ORDER BY 1"
    ).fetchall()
    tables = sorted({(row[0],) for row in columns})
    return {"tables": tables, "columns": columns, "indexes": indexes, "keys": keys, "sequences": sequences}


def describe(ordered: bool = True) -> Description:
    """The schema as the database has it; `ordered`: the columns in their order, else by name."""
    return _postgres(ordered) if is_postgres() else _sqlite(ordered)


def declared_by_the_models(ordered: bool) -> Description:
    """Empties the database, creates the models' tables and describes them."""
    database.obj.drop_tables(MODELS)
    database.obj.create_tables(MODELS, safe=True)
    return describe(ordered)


def test_a_new_database_gets_exactly_the_schema_the_models_declare(store):
    migrated = describe()
    assert {table for (table,) in migrated["tables"]} >= {model._meta.table_name for model in MODELS}
    assert migrated == declared_by_the_models(ordered=True)


@pytest.mark.parametrize("start", range(1, LATEST))
def test_a_database_of_every_older_version_upgrades_to_the_schema_the_models_declare(
    store, monkeypatch, start
):
    database.obj.drop_tables(MODELS)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", start)
    assert schema.migrate_schema() == start  # built from the whole schema of 1 and the upgrades after it
    database.execute_sql(
        "INSERT INTO campaign (name, channel, sender, body, state, created_at, updated_at) "
        "VALUES ('Old', 'sms', 'Centro', 'hi', 'draft', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    monkeypatch.setattr(schema, "SCHEMA_VERSION", LATEST)
    assert schema.migrate_schema() == LATEST
    assert schema.migrate_schema() == LATEST
    assert database.execute_sql("SELECT name, waiting_until FROM campaign").fetchall() == [("Old", None)]
    migrated = describe(ordered=False)  # columns an upgrade adds come last, as ALTER TABLE puts them
    assert migrated == declared_by_the_models(ordered=False)


def test_the_versions_follow_each_other():
    assert [version for version, _ in UPGRADES] == list(range(2, LATEST + 1))
    assert CREATES[0][0] == 1 and max(version for version, _ in CREATES) <= LATEST
    assert schema.SCHEMA_VERSION == LATEST


def test_no_migration_reads_the_models():
    """A migration that imported the models would change meaning with them."""
    files = [ROOT / "store" / "schema.py", *sorted((ROOT / "store" / "migrations").glob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            assert not any(name == "store.models" for name in names), path
