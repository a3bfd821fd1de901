"""The dialect's date arithmetic and buckets give the same answers on SQLite and on PostgreSQL.

Each test runs on both engines (the `store` fixture; PostgreSQL where CAMPAIGNS_TEST_PG names a server)
and checks the database's answer against the same expectation computed in Python.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from store.db import database, dialect
from store.dialect import Bucket, PostgresDialect, SqliteDialect
from store.models import Contact, SendSchedule
from tests.conftest import NOW

# Whole seconds and milliseconds: SQLite's strftime keeps times to the millisecond.
INSTANTS = [
    NOW,
    datetime(2026, 1, 31, 23, 59, 59),  # a month's end
    datetime(2028, 2, 28, 12, 0, 0),  # a leap year's February
    datetime(2026, 12, 31, 23, 59, 30, 250000),  # a year's end, with a fraction
    datetime(2026, 3, 29, 1, 30, 0),  # the night clocks change in Europe: nothing changes in UTC
]


def as_time(value: Any) -> datetime:
    """A time as either engine returns it: a datetime (PostgreSQL) or its text (SQLite)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def one(sql: str, *params: Any) -> Any:
    return database.execute_sql(sql, [dialect().value(p) for p in params]).fetchone()[0]


def schedule(times: list[datetime]) -> None:
    """Rows of a table with a timestamp column (send_schedule: a short text key and a time)."""
    SendSchedule.insert_many([{"channel": f"c{i}", "next_slot_at": t} for i, t in enumerate(times)]).execute()


def test_the_dialect_is_the_engine_opened(store):
    expected = PostgresDialect if store.startswith("postgres") else SqliteDialect
    assert type(dialect()) is expected


@pytest.mark.parametrize("days", [28, 1, 0, -1, -28])
def test_days_added_to_a_time(store, days):
    for instant in INSTANTS:
        shifted = one(f"SELECT {dialect().plus_days(database.param, days)}", instant)
        assert as_time(shifted) == instant + timedelta(days=days)


@pytest.mark.parametrize("seconds", [10, 1, 0, -30, 86_400, 90_061])
def test_seconds_added_to_a_time(store, seconds):
    for instant in INSTANTS:
        shifted = one(f"SELECT {dialect().plus_seconds(database.param, seconds)}", instant)
        assert as_time(shifted) == instant + timedelta(seconds=seconds)


def test_a_shifted_column_compares_with_a_stored_time_alike(store):
    """As the statistics use it: one row's time against another row's time moved by seconds or days."""
    times = [NOW + timedelta(seconds=s) for s in (0, 3, 9, 11, 25, 3600)] + [
        NOW + timedelta(days=d, seconds=s) for d, s in ((27, 0), (28, -1), (28, 1), (29, 0))
    ]
    schedule(times)
    for amount, within in ((10, dialect().plus_seconds("a.next_slot_at", 10)),
                           (28 * 86_400, dialect().plus_days("a.next_slot_at", 28))):  # fmt: skip
        later = one(f"SELECT COUNT(*) FROM send_schedule a JOIN send_schedule b ON b.next_slot_at > {within}")
        earlier = one(
            "SELECT COUNT(*) FROM send_schedule a JOIN send_schedule b "
            f"ON b.next_slot_at >= a.next_slot_at AND b.next_slot_at < {within}"
        )
        step = timedelta(seconds=amount)
        assert later == sum(1 for a in times for b in times if b > a + step)
        assert earlier == sum(1 for a in times for b in times if a <= b < a + step)


@pytest.mark.parametrize(
    ("unit", "cut"),
    [
        ("minute", lambda t: t.replace(second=0, microsecond=0)),
        ("hour", lambda t: t.replace(minute=0, second=0, microsecond=0)),
        ("day", lambda t: t.replace(hour=0, minute=0, second=0, microsecond=0)),
    ],
)
def test_times_bucketed_by_minute_hour_and_day(store, unit: Bucket, cut):
    times = [
        NOW, NOW + timedelta(seconds=59), NOW + timedelta(seconds=60),
        NOW + timedelta(minutes=59, seconds=59), NOW + timedelta(hours=1),
        NOW + timedelta(hours=13, minutes=59), NOW + timedelta(days=1, minutes=1),
        datetime(2026, 12, 31, 23, 59, 59, 999000), datetime(2027, 1, 1, 0, 0, 0),
    ]  # fmt: skip
    schedule(times)
    bucket = dialect().bucket("next_slot_at", unit)
    rows = database.execute_sql(f"SELECT {bucket}, COUNT(*) FROM send_schedule GROUP BY 1").fetchall()
    expected: dict[datetime, int] = {}
    for t in times:
        expected[cut(t)] = expected.get(cut(t), 0) + 1
    assert {as_time(b): count for b, count in rows} == expected


def test_a_boolean_literal_matches_a_boolean_column(store):
    Contact.insert_many(
        [{"id": 1, "registry_id": "1", "consent": True}, {"id": 2, "registry_id": "2", "consent": False}]
    ).execute()
    for value, contact_id in ((True, 1), (False, 2)):
        assert one(f"SELECT id FROM contact WHERE consent = {dialect().boolean(value)}") == contact_id


def test_now_is_the_database_clock_in_utc_whatever_the_sessions_zone(store):
    from store.clock import utcnow

    if isinstance(dialect(), PostgresDialect):
        database.execute_sql("SET TIME ZONE 'America/Los_Angeles'")  # a careless server's default
    found = dialect().now()
    assert found.tzinfo is None
    assert abs(found - utcnow()) < timedelta(seconds=5)  # the server runs on this machine
