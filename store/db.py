"""The one place that decides the database from a URL: SQLite (WAL) by default, PostgreSQL on request."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlparse

from peewee import Database, DatabaseProxy, PostgresqlDatabase, SqliteDatabase

from store.config import data_dir
from store.dialect import SQLITE_PRAGMAS, Dialect, SqliteDialect, dialect_of
from store.errors import ConfigError
from store.private_files import create_private_file, fixing_command, open_to_others, private_folder

T = TypeVar("T")

database = DatabaseProxy()
_dialect: Dialect = SqliteDialect(database)  # until a database opens, as `is_postgres()` says then


def sqlite_path(url: str) -> Path:
    """`sqlite:///rel.db` is relative to the working directory, `sqlite:////abs.db` absolute."""
    rest = url[len("sqlite:///") :]
    if not rest:
        raise ConfigError(f"database URL {url!r} names no file")
    return Path(unquote(rest)).expanduser()


def _create_owner_only(path: Path) -> None:
    """The database file made 0600 before SQLite opens it: SQLite would create it by the umask, and gives
    its -wal and -shm the database file's mode. An existing file keeps its mode (see `exposure_warning`)."""
    if str(path) == ":memory:":
        return
    private_folder(path.parent)
    create_private_file(path)


def exposure_warning(url: str) -> str | None:
    """One line when other accounts can read the SQLite database (or the default data folder holding it),
    with the command that fixes it; None when only its owner can, and for PostgreSQL."""
    if not url.startswith("sqlite:///"):
        return None
    path = sqlite_path(url).absolute()
    files = open_to_others([path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))])
    folders = open_to_others([path.parent] if path.parent == data_dir().absolute() else [])
    if not files and not folders:
        return None
    return (
        f"other accounts on this machine can read {', '.join(str(p) for p in folders + files)}, "
        "with every recipient's data and the secret that signs links; "
        f"fix it with: {fixing_command(folders, files)}"
    )


def make_database(url: str) -> Database:
    """A peewee database for the URL, not yet connected."""
    if url.startswith("sqlite:///"):
        path = sqlite_path(url)
        _create_owner_only(path)
        return SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=10, autoconnect=True)
    if url.startswith(("postgresql://", "postgres://")):
        parts = urlparse(url)
        name = parts.path.lstrip("/")
        if not name:
            raise ConfigError(f"database URL {redact(url)} names no database")
        options: dict[str, Any] = dict(parse_qsl(parts.query))
        return PostgresqlDatabase(
            unquote(name),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            host=parts.hostname,
            port=parts.port,
            autoconnect=True,
            **options,
        )
    raise ConfigError(f"database URL {redact(url)} is neither sqlite:///PATH nor postgresql://USER@HOST/NAME")


def redact(url: str) -> str:
    """The URL without its password, safe for messages and logs."""
    parts = urlparse(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def open_database(url: str) -> Database:
    """Points every model at the database of this URL and returns it."""
    global _dialect
    real = make_database(url)
    database.initialize(real)
    _dialect = dialect_of(real, database)
    return real


def dialect() -> Dialect:
    """What differs between the engines, for the database `open_database` chose."""
    return _dialect


def database_now() -> datetime:
    """Now by the database's clock, naive UTC: what schedules and quiet hours are decided by."""
    return _dialect.now()


def is_postgres() -> bool:
    """For tests about one engine; the store asks `dialect()` for what differs."""
    return isinstance(database.obj, PostgresqlDatabase)


@contextmanager
def connection() -> Iterator[Database]:
    """This thread's connection, opened when it has none and kept for the thread's next call.

    Worker threads are pooled and reused: opening a SQLite connection (pragmas, schema) costs
    milliseconds, more than most of the statements run on it.
    """
    if database.is_closed():
        database.connect(reuse_if_open=True)
    yield database.obj


def write_transaction() -> Any:
    """A transaction that will write: on SQLite it takes the write lock at BEGIN.

    A deferred SQLite transaction that reads and then writes fails at once with "database is locked"
    when another connection writes meanwhile; one that starts IMMEDIATE waits its turn instead.
    """
    return _dialect.write_transaction()


@contextmanager
def bulk_transaction() -> Iterator[None]:
    """One transaction for a bulk write whose references the caller has checked itself.

    SQLite checks each foreign key of each inserted row, which costs about 40% of a 100,000-row
    insert; the pragma only changes outside a transaction, so it is turned off around this one.
    """
    with _dialect.bulk_settings(), write_transaction():
        yield


def _in_connection(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with connection():
        return function(*args, **kwargs)


async def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Awaits a blocking store call run in a thread with its own connection: the event loop goes on."""
    return await asyncio.to_thread(_in_connection, function, *args, **kwargs)


def rows_of(query: Any) -> Iterator[tuple[Any, ...]]:
    """A query's rows as tuples: peewee's own stubs type the rows of `.tuples()` as models."""
    return iter(query.tuples())


def dicts_of(query: Any) -> Iterator[dict[str, Any]]:
    """A query's rows as dicts: peewee's own stubs type the rows of `.dicts()` as models."""
    return iter(query.dicts())


def close_database() -> None:
    if database.obj is not None and not database.is_closed():
        database.close()
