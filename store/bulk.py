"""Inserting many rows at once, through the driver: peewee builds SQL value by value, too slowly here.

One prepared INSERT runs with `executemany` on SQLite and `execute_values` on PostgreSQL, in chunks,
inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from peewee import DateTimeField, Field, chunked

from store.db import database, is_postgres
from store.models import BaseModel

SQLITE_MAX_VARIABLES = 32766
MAX_ROWS_PER_STATEMENT = 2000
ROWS_PER_CHUNK = 5000


def chunk_size(columns: int) -> int:
    """Rows per statement that keep under SQLite's bound-variable limit."""
    return max(1, min(MAX_ROWS_PER_STATEMENT, SQLITE_MAX_VARIABLES // max(columns, 1)))


def insert_rows(
    model: type[BaseModel],
    fields: Sequence[Field],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> int:
    """Inserts tuples in `fields` order; returns how many rows went in. Call inside `atomic()`.

    Fields left out take their model default, evaluated once for the whole call.
    """
    table = model._meta.table_name
    given = {f.name for f in fields}
    defaults = [f for f in model._meta.sorted_fields if f.name not in given and f.default is not None]
    if defaults:
        extra = tuple(f.default() if callable(f.default) else f.default for f in defaults)
        fields = [*fields, *defaults]
        rows = (tuple(row) + extra for row in rows)
    columns = ", ".join(f'"{f.column_name}"' for f in fields)
    postgres = is_postgres()
    inserted = 0
    cursor = database.cursor()
    if postgres:
        from psycopg2.extras import execute_values

        conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        sql = f'INSERT INTO "{table}" ({columns}) VALUES %s{conflict}'
        for batch in chunked(rows, ROWS_PER_CHUNK):
            execute_values(cursor, sql, batch, page_size=len(batch))
            inserted += cursor.rowcount
        return inserted
    verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
    marks = ", ".join("?" * len(fields))
    sql = f'{verb} INTO "{table}" ({columns}) VALUES ({marks})'
    times = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
    for batch in chunked(rows, ROWS_PER_CHUNK):
        cursor.executemany(sql, [_sqlite_row(row, times) for row in batch] if times else batch)
        inserted += cursor.rowcount
    return inserted


def _sqlite_row(row: Sequence[Any], times: list[int]) -> list[Any]:
    # The text form peewee reads back; sqlite3's implicit datetime adapter is deprecated.
    values = list(row)
    for i in times:
        moment = values[i]
        if isinstance(moment, datetime):
            values[i] = moment.isoformat(" ")
    return values
