"""Shared fixtures: an isolated environment, and a real database per test on SQLite and PostgreSQL.

PostgreSQL tests run where CAMPAIGNS_TEST_PG names a server (`.ci/run` starts one); each test gets a
schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from store.clock import shift_clock, use_center_zone
from store.config import Config
from store.db import close_database, open_database
from store.schema import migrate_schema

TEST_PG = os.environ.get("CAMPAIGNS_TEST_PG", "")
PG_SKIP_REASON = (
    "PostgreSQL tests need a server: set CAMPAIGNS_TEST_PG=postgresql://USER@HOST:PORT/DB "
    "(bash .ci/run starts one and sets it)"
)
# A fixed instant for tests that place data in time.
NOW = datetime(2026, 11, 20, 10, 0, 0)


def without_quiet_hours(config: Config) -> Config:
    """The configuration with no quiet hours on any channel: a test that sends at any hour."""
    return replace(
        config,
        sms=replace(config.sms, quiet_hours="", quiet_days=()),
        push=replace(config.push, quiet_hours="", quiet_days=()),
    )


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads the developer's config, data dir or CAMPAIGNS_* variables; none depends on the hour
    it runs at (SMS and push have quiet hours by default: tests/store and tests/senders set their own)
    or inherits another's clock or time zone."""
    for key in list(os.environ):
        if key.startswith("CAMPAIGNS_") and key != "CAMPAIGNS_TEST_PG":
            monkeypatch.delenv(key)
    monkeypatch.setenv("CAMPAIGNS_SMS_QUIET_HOURS", "")
    monkeypatch.setenv("CAMPAIGNS_PUSH_QUIET_HOURS", "")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.chdir(tmp_path)
    yield
    shift_clock(timedelta(0))
    use_center_zone("UTC")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'campaigns.db'}"


def _postgres_schema_url() -> Iterator[str]:
    import psycopg2

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(TEST_PG)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in TEST_PG else "?"
    try:
        yield f"{TEST_PG}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'campaigns.db'}"
        return
    if not TEST_PG:
        pytest.skip(PG_SKIP_REASON)
    yield from _postgres_schema_url()


def _bound(url: str) -> Iterator[str]:
    open_database(url)
    migrate_schema()
    try:
        yield url
    finally:
        close_database()


@pytest.fixture
def store(database_url: str) -> Iterator[str]:
    """The models bound to a fresh database of each engine, schema created; yields its URL."""
    yield from _bound(database_url)


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[str]:
    """The models bound to a fresh SQLite database, for tests about something else than the engine."""
    yield from _bound(sqlite_url)


@pytest.fixture
def write_csv(tmp_path: Path):
    """Writes text (or bytes) to a CSV file under the test's folder and returns its path."""

    def write(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode(encoding))
        return path

    return write
