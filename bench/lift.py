"""A campaign's groups and lift: 100,000 patients against 1,000,000 reservations (goal <= 1 s for
store.lift.group_figures + lift_of), on SQLite and, with --db URL (or $CAMPAIGNS_TEST_PG), on PostgreSQL.

The campaign kept 10% of its patients out as a hold-out and sent the rest over an hour, half variant A,
half variant B; the reservations are spread over a year around it, a few thousand of them added by the
campaign in its patients' 28 days. The first call in a process also imports scipy: timed apart.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

from store.bulk import insert_rows
from store.campaigns import create_campaign
from store.db import bulk_transaction, close_database, database, open_database
from store.lift import Groups, curves, group_figures, lift_of
from store.models import Campaign, Contact, Message, Reservation
from store.schema import migrate_schema

GOAL = 1.0
SENT = datetime(2026, 6, 1, 9, 0)
HOLDOUT_SHARE = 0.10
ADDED_BY_THE_CAMPAIGN = 0.06  # extra reservations per patient sent to, in their 28 days


def fill(patients: int, reservations: int) -> Campaign:
    rng = random.Random(19)
    campaign = create_campaign(channel="sms", name="Recall", sender="Centro", body="Ciao", now=SENT)
    held = int(patients * HOLDOUT_SHARE)
    with bulk_transaction():
        people = [(i, f"P{i:06d}", "patient", f"+39347{i:07d}") for i in range(1, patients + 1)]
        insert_rows(Contact, [Contact.id, Contact.registry_id, Contact.kind, Contact.phone], people)
        rows, since = [], {}
        for i in range(1, patients + 1):
            if i <= held:
                since[i] = SENT + timedelta(hours=1)
                rows.append((campaign.id, i, f"+39347{i:07d}", "held_out", None, None, since[i]))
            else:
                since[i] = SENT + timedelta(seconds=i * 3600 / patients)
                variant = "a" if i % 2 else "b"
                rows.append((campaign.id, i, f"+39347{i:07d}", "sent", variant, since[i], None))
        columns = [Message.campaign, Message.contact, Message.address, Message.state, Message.variant,
                   Message.sent_at, Message.held_out_at]  # fmt: skip
        insert_rows(Message, columns, rows)
        start = SENT - timedelta(days=180)
        seen: set[tuple[int, datetime]] = set()
        booked: list[tuple[int, datetime]] = []
        added = int((patients - held) * ADDED_BY_THE_CAMPAIGN)
        while len(booked) < reservations:
            if len(booked) < added:
                contact = rng.randint(held + 1, patients)
                moment = since[contact] + timedelta(seconds=rng.randint(0, 28 * 86400 - 1))
            else:
                contact = rng.randint(1, patients)
                moment = start + timedelta(seconds=rng.randint(0, 365 * 86400))
            if (contact, moment) not in seen:
                seen.add((contact, moment))
                booked.append((contact, moment))
        insert_rows(Reservation, [Reservation.contact, Reservation.created_at], booked)
    return campaign


def measure(url: str, patients: int, reservations: int, runs: int) -> tuple[list[float], dict[str, Any]]:
    open_database(url)
    migrate_schema()
    started = time.perf_counter()
    campaign = fill(patients, reservations)
    print(f"  filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if url.startswith("postgres"):
        database.execute_sql("ANALYZE")
    started = time.perf_counter()
    figures(campaign.id)
    print(f"  first call, scipy imported: {time.perf_counter() - started:.2f} s", file=sys.stderr)
    times, found = [], {}
    for _ in range(runs):
        started = time.perf_counter()
        found = figures(campaign.id)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    chart = curves(campaign.id)
    print(f"  curves {time.perf_counter() - started:.2f} s; day 27: {chart.iloc[-1].round(4).to_dict()}",
          file=sys.stderr)  # fmt: skip
    close_database()
    return times, found


def figures(campaign_id: int) -> dict[str, Any]:
    groups = group_figures(campaign_id)
    assert isinstance(groups, Groups)
    return {"groups": groups.as_document(), "lift": [lift.as_document() for lift in lift_of(groups)]}


def _fresh_pg_schema(base: str) -> tuple[str, Any, str]:
    import uuid
    from urllib.parse import quote

    import psycopg2

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", admin, schema


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--reservations", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", default=os.environ.get("CAMPAIGNS_TEST_PG", ""), help="a PostgreSQL URL")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        times, found = measure(f"sqlite:///{folder}/bench.db", args.patients, args.reservations, args.runs)
        results.append(("SQLite", times, found))
    if args.db:
        url, admin, schema = _fresh_pg_schema(args.db)
        try:
            times, found = measure(url, args.patients, args.reservations, args.runs)
            results.append(("PostgreSQL", times, found))
        finally:
            admin.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')
            admin.close()
    print(f"machine: {machine()}")
    for engine, times, found in results:
        verdict = "meets" if median(times) <= GOAL else "MISSES"
        print(f"  {engine}: groups {found['groups']}")
        for lift in found["lift"]:
            print(f"    lift {lift}")
        print(f"| groups and lift, {args.patients:,} patients, {args.reservations:,} reservations, {engine} "
              f"| {median(times):.2f} s (median of {args.runs}; best {min(times):.2f} s) "
              f"| <= {GOAL} s | {verdict} |")  # fmt: skip


if __name__ == "__main__":
    main()
