"""What differs between SQLite and PostgreSQL, owned by one object that store.db chooses when it opens.

Date arithmetic and time buckets as SQL fragments, the literals and values hand-written SQL takes, how
a writer's transaction starts and what it locks, and how many rows at once go through each driver
(sqlite3's `executemany`, psycopg2's `execute_values` and `execute_batch`). The rest of `store` writes
SQL both engines read alike and asks `store.db.dialect()` for the parts they do not.
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any, Literal

from peewee import Database, DatabaseProxy, DateTimeField, Field, PostgresqlDatabase, chunked

from store.clock import clock_shift, utcnow

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -16000,  # KiB per connection; the engine keeps one per worker thread
    "busy_timeout": 10000,
}
BULK_CACHE_KIB = -64000
SQLITE_MAX_VARIABLES = 32766
SQLITE_ROWS_PER_STATEMENT = 250

Bucket = Literal["minute", "hour", "day"]
Step = Literal["seconds", "days"]
Rows = Sequence[Sequence[Any]]


class Dialect(ABC):
    """One engine's SQL and driver: a fragment or a call where SQLite and PostgreSQL differ."""

    name: str
    writable_with: bool  # INSERT … RETURNING inside WITH: one statement, its own transaction in autocommit

    def __init__(self, db: Database | DatabaseProxy) -> None:
        self.db = db

    # Time, as SQL fragments on a timestamp expression.
    @abstractmethod
    def shifted(self, expr: str, amount: int, step: Step) -> str:
        """The timestamp `expr` moved by `amount` (negative: back) seconds or days."""

    def plus_seconds(self, expr: str, seconds: int) -> str:
        return self.shifted(expr, int(seconds), "seconds")

    def plus_days(self, expr: str, days: int) -> str:
        return self.shifted(expr, int(days), "days")

    @abstractmethod
    def bucket(self, expr: str, unit: Bucket) -> str:
        """The timestamp `expr` cut down to its minute, hour or day: a value to GROUP BY."""

    def now(self) -> datetime:
        """Now by the database's clock, naive UTC: what schedules and quiet hours are decided by, so
        engines on several machines agree (issue 18). SQLite's engines share one machine, and its clock."""
        return utcnow()

    # Values in hand-written SQL.
    @abstractmethod
    def boolean(self, value: bool) -> str:
        """A boolean literal."""

    @abstractmethod
    def value(self, value: Any) -> Any:
        """A value as the engine's driver takes it as a parameter."""

    # Transactions and locks.
    @abstractmethod
    def write_transaction(self) -> Any:
        """A transaction that will write (peewee's `atomic`)."""

    @abstractmethod
    def bulk_settings(self) -> AbstractContextManager[None]:
        """Around a bulk write's transaction: the engine set for rows the caller has checked itself."""

    @abstractmethod
    def driver_transaction(self) -> AbstractContextManager[Any]:
        """A cursor of the driver itself, in a transaction that will write."""

    @abstractmethod
    def lock_transaction(self, key: int, sub: int) -> None:
        """Until this transaction ends, no other holds (`key`, `sub`): one at a time across engines."""

    @abstractmethod
    def for_update(self, query: Any) -> Any:
        """A peewee select that locks the rows it reads until the transaction ends."""

    @abstractmethod
    def skip_locked(self, alias: str) -> str:
        """A clause for the end of a SELECT: lock the rows of `alias` it returns, leave out those locked."""

    # Many rows through the driver.
    @abstractmethod
    def run_many(self, cursor: Any, sql: str, rows: Rows) -> None:
        """`cursor.executemany` (the driver's placeholders), in as few round trips as the driver allows."""

    @abstractmethod
    def execute_many(self, cursor: Any, sql: str, rows: Rows) -> None:
        """One statement with `?` placeholders for many rows of values."""

    @abstractmethod
    def insert_rows(
        self,
        cursor: Any,
        table: str,
        fields: Sequence[Field],
        columns: str,
        rows: Iterable[Sequence[Any]],
        constants: Sequence[Any],
        ignore_conflicts: bool,
        chunk: int,
    ) -> int:
        """Rows of `fields`, then `constants`, into `columns`, `chunk` rows at a time; how many went in."""

    @abstractmethod
    def update_rows(
        self,
        cursor: Any,
        table: str,
        columns: Sequence[str],
        assignments: str,
        rows: Rows,
        where: str,
        casts: Mapping[str, str],
        page: int,
    ) -> None:
        """`store.bulk.update_rows` for this engine."""

    @abstractmethod
    def insert_many(self, cursor: Any, table: str, columns: Sequence[str], rows: Rows, page: int) -> None:
        """`store.bulk.insert_many` for this engine."""


def _update_statement(table: str, columns: Sequence[str], assignments: str, where: str) -> tuple[str, str]:
    """`WITH v(columns) AS (VALUES ` and `) UPDATE table SET … FROM v WHERE …`, the rows between them."""
    head = f"WITH v({', '.join(columns)}) AS (VALUES "
    tail = f") UPDATE {table} SET {assignments} FROM v WHERE {table}.id = v.id" + (
        f" AND {where}" if where else ""
    )
    return head, tail


def _text_time(value: Any) -> Any:
    # The text form peewee reads back; sqlite3's implicit datetime adapter is deprecated.
    return value.isoformat(" ") if isinstance(value, datetime) else value


class SqliteDialect(Dialect):
    """SQLite: times are text, and one writer at a time holds the file's write lock from BEGIN."""

    name = "sqlite"
    writable_with = False

    def shifted(self, expr: str, amount: int, step: Step) -> str:
        # The same text form as the stored times, to the millisecond, so that they compare as text.
        return f"strftime('%Y-%m-%d %H:%M:%f', {expr}, '{amount:+d} {step}')"

    def bucket(self, expr: str, unit: Bucket) -> str:
        form = {"minute": "%Y-%m-%d %H:%M", "hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d"}[unit]
        return f"strftime('{form}', {expr})"

    def boolean(self, value: bool) -> str:
        return "1" if value else "0"

    def value(self, value: Any) -> Any:
        return _text_time(value)

    def write_transaction(self) -> Any:
        return self.db.atomic("IMMEDIATE")  # the write lock at BEGIN: see store.db.write_transaction

    @contextmanager
    def bulk_settings(self) -> Iterator[None]:
        if self.db.in_transaction():  # the pragmas change only outside one
            yield
            return
        self.db.execute_sql("PRAGMA foreign_keys = OFF")
        self.db.execute_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")  # big indexes stay in memory
        try:
            yield
        finally:
            self.db.execute_sql("PRAGMA foreign_keys = ON")
            self.db.execute_sql(f"PRAGMA cache_size = {SQLITE_PRAGMAS['cache_size']}")

    @contextmanager
    def driver_transaction(self) -> Iterator[Any]:
        if self.db.in_transaction():
            with self.write_transaction():
                yield self.db.cursor()
            return
        cursor = self.db.connection().cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def lock_transaction(self, key: int, sub: int) -> None:
        pass  # the write lock taken at BEGIN IMMEDIATE is held already

    def for_update(self, query: Any) -> Any:
        return query

    def skip_locked(self, alias: str) -> str:
        return ""

    def run_many(self, cursor: Any, sql: str, rows: Rows) -> None:
        cursor.executemany(sql, rows)

    def execute_many(self, cursor: Any, sql: str, rows: Rows) -> None:
        cursor.executemany(sql, [[_text_time(v) for v in row] for row in rows])

    def insert_rows(
        self,
        cursor: Any,
        table: str,
        fields: Sequence[Field],
        columns: str,
        rows: Iterable[Sequence[Any]],
        constants: Sequence[Any],
        ignore_conflicts: bool,
        chunk: int,
    ) -> int:
        # Multi-row INSERTs run with `executemany`: a third faster than a row a statement.
        times = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
        extra = [_text_time(v) for v in constants]
        verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
        width = len(fields)
        per_statement = min(SQLITE_ROWS_PER_STATEMENT, (SQLITE_MAX_VARIABLES - len(extra)) // max(width, 1))
        statements: dict[int, str] = {}
        inserted = 0
        for batch in chunked(rows, chunk):
            if times:
                batch = [[_text_time(v) if i in times else v for i, v in enumerate(row)] for row in batch]
            groups: dict[int, list[list[Any]]] = {}
            for start in range(0, len(batch), per_statement):
                group = batch[start : start + per_statement]
                groups.setdefault(len(group), []).append([value for row in group for value in row] + extra)
            for size, params_list in groups.items():
                if size not in statements:
                    statements[size] = f'{verb} INTO "{table}" ({columns}) VALUES ' + _numbered_values(
                        size, width, len(extra)
                    )
                cursor.executemany(statements[size], params_list)
                inserted += cursor.rowcount
        return inserted

    def update_rows(
        self,
        cursor: Any,
        table: str,
        columns: Sequence[str],
        assignments: str,
        rows: Rows,
        where: str,
        casts: Mapping[str, str],
        page: int,
    ) -> None:
        if sqlite3.sqlite_version_info < (3, 33):  # UPDATE … FROM came with 3.33
            _update_each(cursor, table, columns, assignments, rows, where)
            return
        head, tail = _update_statement(table, columns, assignments, where)
        row = "(" + ", ".join("?" * len(columns)) + ")"
        for part in chunked(rows, page):
            values = [_text_time(value) for r in part for value in r]
            cursor.execute(head + ", ".join([row] * len(part)) + tail, values)

    def insert_many(self, cursor: Any, table: str, columns: Sequence[str], rows: Rows, page: int) -> None:
        # A statement costs nothing to send: `executemany` of a row each.
        marks = ", ".join("?" * len(columns))
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [[_text_time(v) for v in r] for r in rows],
        )


def _numbered_values(rows: int, width: int, constants: int) -> str:
    """`(?1, ?2, ?7), (?3, ?4, ?7), (?5, ?6, ?7)`: each row's own values, then the shared constants once."""
    shared = ", ".join(f"?{rows * width + c + 1}" for c in range(constants))
    groups = []
    for r in range(rows):
        own = ", ".join(f"?{r * width + c + 1}" for c in range(width))
        groups.append(f"({own}, {shared})" if own and shared else f"({own or shared})")
    return ", ".join(groups)


def _update_each(
    cursor: Any,
    table: str,
    columns: Sequence[str],
    assignments: str,
    rows: Rows,
    where: str,
) -> None:
    """`update_rows` for SQLite before 3.33: a statement per row, `v.<column>` as a named parameter."""
    sets = re.sub(r"\bv\.(\w+)", r":\1", assignments)
    condition = re.sub(r"\bv\.(\w+)", r":\1", where)
    sql = f"UPDATE {table} SET {sets} WHERE id = :id" + (f" AND {condition}" if condition else "")
    cursor.executemany(sql, [dict(zip(columns, [_text_time(v) for v in row], strict=True)) for row in rows])


class PostgresDialect(Dialect):
    """PostgreSQL: typed timestamps, row locks and advisory locks, a round trip per page of rows."""

    name = "postgresql"
    writable_with = True

    def shifted(self, expr: str, amount: int, step: Step) -> str:
        return f"{expr} + interval '{amount} {step}'"

    def bucket(self, expr: str, unit: Bucket) -> str:
        return f"date_trunc('{unit}', {expr})"

    def boolean(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    def now(self) -> datetime:
        """The server's clock, whatever the session's time zone."""
        found: datetime = self.db.execute_sql("SELECT statement_timestamp() AT TIME ZONE 'UTC'").fetchone()[0]
        return found + clock_shift()  # a test's shifted clock, as utcnow() has it

    def value(self, value: Any) -> Any:
        return value

    def write_transaction(self) -> Any:
        return self.db.atomic()

    @contextmanager
    def bulk_settings(self) -> Iterator[None]:
        yield

    @contextmanager
    def driver_transaction(self) -> Iterator[Any]:
        with self.write_transaction():
            yield self.db.cursor()

    def lock_transaction(self, key: int, sub: int) -> None:
        self.db.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (key, sub))

    def for_update(self, query: Any) -> Any:
        return query.for_update()

    def skip_locked(self, alias: str) -> str:
        return f" FOR UPDATE OF {alias} SKIP LOCKED"

    def run_many(self, cursor: Any, sql: str, rows: Rows) -> None:
        # psycopg2's own executemany waits for the server once per row.
        from psycopg2.extras import execute_batch

        execute_batch(cursor, sql, rows, page_size=500)

    def execute_many(self, cursor: Any, sql: str, rows: Rows) -> None:
        self.run_many(cursor, sql.replace("?", "%s"), rows)

    def insert_rows(
        self,
        cursor: Any,
        table: str,
        fields: Sequence[Field],
        columns: str,
        rows: Iterable[Sequence[Any]],
        constants: Sequence[Any],
        ignore_conflicts: bool,
        chunk: int,
    ) -> int:
        from psycopg2.extras import execute_values

        extra = tuple(constants)
        conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
        sql = f'INSERT INTO "{table}" ({columns}) VALUES %s{conflict}'
        inserted = 0
        for batch in chunked(rows, chunk):
            execute_values(cursor, sql, [(*row, *extra) for row in batch], page_size=len(batch))
            inserted += cursor.rowcount
        return inserted

    def update_rows(
        self,
        cursor: Any,
        table: str,
        columns: Sequence[str],
        assignments: str,
        rows: Rows,
        where: str,
        casts: Mapping[str, str],
        page: int,
    ) -> None:
        from psycopg2.extras import execute_values

        head, tail = _update_statement(table, columns, assignments, where)
        template = "(" + ", ".join(f"%s::{casts[c]}" if c in casts else "%s" for c in columns) + ")"
        execute_values(cursor, f"{head}%s{tail}", rows, template=template, page_size=page)

    def insert_many(self, cursor: Any, table: str, columns: Sequence[str], rows: Rows, page: int) -> None:
        from psycopg2.extras import execute_values

        execute_values(cursor, f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s", rows, page_size=page)


def dialect_of(db: Database, handle: Database | DatabaseProxy) -> Dialect:
    """The dialect of the engine `db` is, working through `handle` (the proxy every model uses)."""
    return PostgresDialect(handle) if isinstance(db, PostgresqlDatabase) else SqliteDialect(handle)
