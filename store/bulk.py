"""Inserting many rows at once, through the driver: peewee builds SQL value by value, too slowly here.

Rows go in as multi-row INSERTs run with `executemany` on SQLite (a third faster than a row a
statement) and `execute_values` on PostgreSQL, in chunks, inside the caller's transaction.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from peewee import DateTimeField, Field, chunked

from store.db import database, is_postgres
from store.models import BaseModel

SQLITE_MAX_VARIABLES = 32766
SQLITE_ROWS_PER_STATEMENT = 250
ROWS_PER_CHUNK = 5000
UPDATE_PAGE = 500  # rows a statement of `update_rows` takes (and of `insert_many` on PostgreSQL)


def chunk_size(columns: int) -> int:
    """Rows per statement that keep under SQLite's bound-variable limit."""
    return max(1, min(2000, SQLITE_MAX_VARIABLES // max(columns, 1)))


def _sqlite_value(value: Any) -> Any:
    # The text form peewee reads back; sqlite3's implicit datetime adapter is deprecated.
    return value.isoformat(" ") if isinstance(value, datetime) else value


def sql_value(value: Any) -> Any:
    """A value as the engine's driver takes it in hand-written SQL."""
    return value if is_postgres() else _sqlite_value(value)


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
    if is_postgres():
        return _insert_postgres(table, columns, rows, tuple(fixed.values()), ignore_conflicts)
    times = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
    extra = [_sqlite_value(v) for v in fixed.values()]
    verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
    width = len(fields)
    per_statement = min(SQLITE_ROWS_PER_STATEMENT, (SQLITE_MAX_VARIABLES - len(extra)) // max(width, 1))
    statements: dict[int, str] = {}
    cursor = database.cursor()
    inserted = 0
    for batch in chunked(rows, ROWS_PER_CHUNK):
        if times:
            batch = [[_sqlite_value(v) if i in times else v for i, v in enumerate(row)] for row in batch]
        groups: dict[int, list[list[Any]]] = {}
        for start in range(0, len(batch), per_statement):
            group = batch[start : start + per_statement]
            groups.setdefault(len(group), []).append([value for row in group for value in row] + extra)
        for size, params_list in groups.items():
            if size not in statements:
                statements[size] = f'{verb} INTO "{table}" ({columns}) VALUES ' + _sqlite_values(
                    size, width, len(extra)
                )
            cursor.executemany(statements[size], params_list)
            inserted += cursor.rowcount
    return inserted


def _sqlite_values(rows: int, width: int, constants: int) -> str:
    """`(?1, ?2, ?7), (?3, ?4, ?7), (?5, ?6, ?7)`: each row's own values, then the shared constants once."""
    shared = ", ".join(f"?{rows * width + c + 1}" for c in range(constants))
    groups = []
    for r in range(rows):
        own = ", ".join(f"?{r * width + c + 1}" for c in range(width))
        groups.append(f"({own}, {shared})" if own and shared else f"({own or shared})")
    return ", ".join(groups)


def _insert_postgres(
    table: str, columns: str, rows: Iterable[Sequence[Any]], extra: tuple[Any, ...], ignore_conflicts: bool
) -> int:
    from psycopg2.extras import execute_values

    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    sql = f'INSERT INTO "{table}" ({columns}) VALUES %s{conflict}'
    cursor = database.cursor()
    inserted = 0
    for batch in chunked(rows, ROWS_PER_CHUNK):
        execute_values(cursor, sql, [(*row, *extra) for row in batch], page_size=len(batch))
        inserted += cursor.rowcount
    return inserted


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
    if is_postgres():
        run_many(database.cursor(), sql.replace("?", "%s"), rows)
    else:
        database.cursor().executemany(sql, [[_sqlite_value(v) for v in row] for row in rows])


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
    if not is_postgres() and sqlite3.sqlite_version_info < (3, 33):  # UPDATE … FROM came with 3.33
        _update_each(cursor, table, columns, assignments, rows, where)
        return
    head = f"WITH v({', '.join(columns)}) AS (VALUES "
    tail = f") UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id" + (
        f" AND {where}" if where else ""
    )
    if is_postgres():
        from psycopg2.extras import execute_values

        types = casts or {}
        template = "(" + ", ".join(f"%s::{types[c]}" if c in types else "%s" for c in columns) + ")"
        execute_values(cursor, f"{head}%s{tail}", rows, template=template, page_size=UPDATE_PAGE)
        return
    row = "(" + ", ".join("?" * len(columns)) + ")"
    for page in chunked(rows, UPDATE_PAGE):
        values = [_sqlite_value(value) for r in page for value in r]
        cursor.execute(head + ", ".join([row] * len(page)) + tail, values)


def _update_each(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    assignments: str,
    rows: Sequence[Sequence[Any]],
    where: str,
) -> None:
    """`update_rows` for SQLite before 3.33: a statement per row, `v.<column>` as a named parameter."""
    sets = re.sub(r"\bv\.(\w+)", r":\1", assignments)
    condition = re.sub(r"\bv\.(\w+)", r":\1", where)
    sql = f"UPDATE {table} SET {sets} WHERE id = :id" + (f" AND {condition}" if condition else "")
    cursor.executemany(
        sql, [dict(zip(columns, [_sqlite_value(v) for v in row], strict=True)) for row in rows]
    )


def insert_many(cursor: Any, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Rows through the caller's cursor: one multi-row INSERT a page on PostgreSQL, `executemany` on
    SQLite (where a statement costs nothing to send)."""
    if not rows:
        return
    names = ", ".join(columns)
    if is_postgres():
        from psycopg2.extras import execute_values

        execute_values(cursor, f"INSERT INTO {table} ({names}) VALUES %s", rows, page_size=UPDATE_PAGE)
        return
    marks = ", ".join("?" * len(columns))
    cursor.executemany(
        f"INSERT INTO {table} ({names}) VALUES ({marks})", [[_sqlite_value(v) for v in r] for r in rows]
    )


def run_many(cursor: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """`cursor.executemany`, but on PostgreSQL pages of statements in one round trip each: psycopg2's
    own executemany waits for the server once per row."""
    if is_postgres():
        from psycopg2.extras import execute_batch

        execute_batch(cursor, sql, rows, page_size=500)
    else:
        cursor.executemany(sql, rows)
