"""Inserting many rows at once, through the driver: peewee builds SQL value by value, too slowly here.

Rows go in as multi-row INSERTs run with `executemany` on SQLite (a third faster than a row a
statement) and `execute_values` on PostgreSQL, in chunks, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from peewee import Field

from store.db import database, dialect
from store.dialect import SQLITE_MAX_VARIABLES
from store.models import BaseModel

ROWS_PER_CHUNK = 5000
UPDATE_PAGE = 500  # rows a statement of `update_rows` takes (and of `insert_many` on PostgreSQL)


def chunk_size(columns: int) -> int:
    """Rows per statement that keep under SQLite's bound-variable limit."""
    return max(1, min(2000, SQLITE_MAX_VARIABLES // max(columns, 1)))


def sql_value(value: Any) -> Any:
    """A value as the engine's driver takes it in hand-written SQL."""
    return dialect().value(value)


def stored_time(value: datetime | str | None) -> datetime | None:
    """A time as hand-written SQL gives it back: text on SQLite (`2026-12-01 09:30:00.250`), a datetime on
    PostgreSQL; the inverse of `sql_value`."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def insert_rows(
    model: type[BaseModel],
    fields: Sequence[Field],
    rows: Iterable[Sequence[Any]],
    *,
    constants: Mapping[Field, Any] | None = None,
    ignore_conflicts: bool = False,
) -> int:
    """Inserts tuples in `fields` order; returns how many rows went in. Call inside a transaction.

    `constants` are the same for every row; fields given neither way take their model default.
    """
    fixed = dict(constants or {})
    given = {f.name for f in fields} | {f.name for f in fixed}
    for field in model._meta.sorted_fields:
        if field.name not in given and field.default is not None:
            fixed[field] = field.default() if callable(field.default) else field.default
    all_fields = [*fields, *fixed]
    columns = ", ".join(f'"{f.column_name}"' for f in all_fields)
    table = model._meta.table_name
    extra = tuple(fixed.values())
    return dialect().insert_rows(
        database.cursor(), table, fields, columns, rows, extra, ignore_conflicts, ROWS_PER_CHUNK
    )


def select_in(
    sql: str, values: Sequence[Any], chunk: int = 900, before: Sequence[Any] = ()
) -> Iterator[tuple[Any, ...]]:
    """Rows of `sql` (whose `{}` stands for the placeholders of an IN list) for all values, chunk by chunk.

    `before` are the values of the `?` placeholders ahead of the list. Built by hand: peewee spends far
    longer composing an IN list of 900 values than SQLite running it.
    """
    sql = sql.replace("?", database.param)
    head = [sql_value(v) for v in before]
    for start in range(0, len(values), chunk):
        batch = list(values[start : start + chunk])
        marks = ", ".join([database.param] * len(batch))
        yield from database.execute_sql(sql.format(marks), [*head, *batch]).fetchall()


def execute_many(sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """One statement for many rows (`?` placeholders, turned into the engine's own)."""
    if not rows:
        return
    dialect().execute_many(database.cursor(), sql, rows)


def update_rows(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    assignments: str,
    rows: Sequence[Sequence[Any]],
    *,
    where: str = "",
    casts: Mapping[str, str] | None = None,
) -> None:
    """Each row's own UPDATE, one statement a page: `WITH v(columns) AS (VALUES …) UPDATE table SET
    assignments FROM v WHERE table.id = v.id AND where`; a row's values are `v.<column>`, id first.

    On PostgreSQL a page is one statement instead of a page of them; on SQLite it is a little faster
    than `executemany`. `casts` type columns on PostgreSQL, where a VALUES column holding only NULLs
    would be text. An id twice in `rows` is updated once, with either row: give each id once.
    """
    if not rows:
        return
    dialect().update_rows(cursor, table, columns, assignments, rows, where, casts or {}, UPDATE_PAGE)


def insert_many(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows through the caller's cursor: one multi-row INSERT a page on PostgreSQL, `executemany` on
    SQLite (where a statement costs nothing to send)."""
    if not rows:
        return
    dialect().insert_many(cursor, table, columns, rows, UPDATE_PAGE)


def run_many(cursor: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`cursor.executemany`, but on PostgreSQL pages of statements in one round trip each: psycopg2's
    own executemany waits for the server once per row."""
    dialect().run_many(cursor, sql, rows)
