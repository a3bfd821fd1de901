"""A campaign's statistics with conversion: 100,000 recipients against 1,000,000 reservations (goal <= 1 s),
on SQLite and, with --pg URL (or $CAMPAIGNS_TEST_PG), on PostgreSQL.

The campaign went to 100,000 patients over an hour; 40% opened it (30,000 raw opens more from proxies
and repeats), 5% clicked; the reservations are spread over a year around it.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

from store.bulk import insert_rows
from store.campaigns import create_campaign
from store.db import bulk_transaction, close_database, open_database
from store.figures import campaign_document
from store.models import Campaign, Contact, Message, Reservation, TrackingEvent
from store.schema import migrate_schema

GOAL = 1.0
SENT = datetime(2026, 6, 1, 9, 0)


def fill(recipients: int, reservations: int) -> Campaign:
    rng = random.Random(7)
    campaign = create_campaign(channel="email", name="Check-up", sender="Centro", body="Ciao", now=SENT)
    with bulk_transaction():
        people = [(i, f"P{i:06d}", "patient", f"p{i}@example.org") for i in range(1, recipients + 1)]
        insert_rows(Contact, [Contact.id, Contact.registry_id, Contact.kind, Contact.email], people)
        rows, opens = [], []
        for i in range(1, recipients + 1):
            sent = SENT + timedelta(seconds=i * 3600 / recipients)
            person = sent + timedelta(minutes=rng.randint(1, 3000)) if rng.random() < 0.4 else None
            proxy = sent + timedelta(seconds=2) if i <= 30_000 else None  # a mail proxy fetched the pixel
            opens += [(i, moment) for moment in (proxy, person) if moment]
            opened = min(m for m in (proxy, person) if m) if proxy or person else None
            clicked = person + timedelta(minutes=1) if person and rng.random() < 0.12 else None
            rows.append((campaign.id, i, f"p{i}@example.org", "sent", sent, opened, clicked))
        columns = [Message.campaign, Message.contact, Message.address, Message.state, Message.sent_at,
                   Message.opened_at, Message.clicked_at]  # fmt: skip
        insert_rows(Message, columns, rows)
        ids = dict(
            Message.select(Message.contact, Message.id).where(Message.campaign == campaign.id).tuples()
        )
        events = [(ids[contact], "open", moment) for contact, moment in opens]
        event_columns = [TrackingEvent.message, TrackingEvent.kind, TrackingEvent.occurred_at]
        insert_rows(TrackingEvent, event_columns, events)
        start = SENT - timedelta(days=180)
        seen: set[tuple[int, int]] = set()
        booked = []
        while len(booked) < reservations:
            contact, second = rng.randint(1, recipients), rng.randint(0, 365 * 86400)
            if (contact, second) not in seen:
                seen.add((contact, second))
                booked.append((contact, start + timedelta(seconds=second)))
        insert_rows(Reservation, [Reservation.contact, Reservation.created_at], booked)
    return campaign


def measure(url: str, recipients: int, reservations: int, runs: int) -> tuple[list[float], dict]:
    open_database(url)
    migrate_schema()
    started = time.perf_counter()
    campaign = fill(recipients, reservations)
    print(f"  filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if url.startswith("postgres"):
        from store.db import database

        database.execute_sql("ANALYZE")
    times, doc = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        doc = campaign_document(campaign)
        times.append(time.perf_counter() - started)
    from store.stats import conversion_of, machine_opened_of, message_counts

    parts = []
    for name, part in (("counts", message_counts), ("conversion", conversion_of),
                       ("machine opens", lambda ids: machine_opened_of(ids, 10))):  # fmt: skip
        started = time.perf_counter()
        part([campaign.id])
        parts.append(f"{name} {time.perf_counter() - started:.2f} s")
    print(f"  {', '.join(parts)}", file=sys.stderr)
    close_database()
    return times, doc


def _fresh_pg_schema(base: str) -> tuple[str, object]:
    import uuid
    from urllib.parse import quote

    import psycopg2

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", (admin, schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--reservations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pg", default=os.environ.get("CAMPAIGNS_TEST_PG", ""), help="a PostgreSQL URL")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        times, doc = measure(f"sqlite:///{folder}/bench.db", args.recipients, args.reservations, args.runs)
        results.append(("SQLite", times, doc))
    if args.pg:
        url, (admin, schema) = _fresh_pg_schema(args.pg)
        try:
            times, doc = measure(url, args.recipients, args.reservations, args.runs)
            results.append(("PostgreSQL", times, doc))
        finally:
            admin.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')  # type: ignore[attr-defined]
    print(f"machine: {machine()}")
    for engine, times, doc in results:
        verdict = "meets" if median(times) <= GOAL else "MISSES"
        print(f"  {engine}: opened {doc['opened']:,} (machine {doc['machine_opened']:,}), clicked "
              f"{doc['clicked']:,}, conversion {doc['conversion']}")  # fmt: skip
        print(f"| stats with conversion, {args.recipients:,} recipients, {args.reservations:,} reservations, "
              f"{engine} | {median(times):.2f} s (median of {args.runs}; best {min(times):.2f} s) "
              f"| <= {GOAL} s | {verdict} |")  # fmt: skip


if __name__ == "__main__":
    main()
