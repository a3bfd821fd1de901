"""The summary with 10,000 campaigns in its period: from the app's start to the filled table (goal <= 500 ms).

Each campaign has 20 recipients (200,000 messages), a third of them sent; the app runs headless at 80x24
through Textual's test pilot, the engine off. Also the time of one refresh round while it stays open.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

from store.bulk import insert_rows
from store.clock import utcnow
from store.config import load_config
from store.db import bulk_transaction, close_database, open_database
from store.models import Campaign, Message
from store.schema import migrate_schema

GOAL_MS = 500


def fill(campaigns: int, recipients: int) -> None:
    rng = random.Random(5)
    now = utcnow()
    states = ["draft", "sent", "completed", "cancelled", "sent", "completed"]
    with bulk_transaction():
        rows = []
        for i in range(campaigns):
            created = now - timedelta(days=rng.uniform(0, 29))
            state = states[i % len(states)]
            sent = created + timedelta(hours=1) if state != "draft" else None
            rows.append((f"Campagna {i}", "email", "Centro", "Ciao", state, created, created, sent, sent))
        columns = [
            Campaign.name,
            Campaign.channel,
            Campaign.sender,
            Campaign.body,
            Campaign.state,
            Campaign.created_at,
            Campaign.updated_at,
            Campaign.first_sent_at,
            Campaign.last_sent_at,
        ]
        insert_rows(Campaign, columns, rows)
        ids = [row[0] for row in Campaign.select(Campaign.id).tuples()]
        messages = []
        for campaign_id in ids:
            for k in range(recipients):
                sent = k % 3 == 0
                messages.append((campaign_id, f"p{k}@example.org", "sent" if sent else "pending",
                                 now if sent else None, now if sent and k % 2 == 0 else None))  # fmt: skip
        insert_rows(Message, [Message.campaign, Message.address, Message.state, Message.sent_at,
                              Message.opened_at], messages)  # fmt: skip


async def measure(url: str) -> tuple[float, float, int]:
    from tui.app import make_app

    started = time.perf_counter()
    app = make_app(load_config(database_url=url, env={}), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        while not summary.loaded_once:
            await pilot.pause(0.005)
        opened = time.perf_counter() - started
        rows = summary.query_one("#campaigns").row_count
        started = time.perf_counter()
        summary.load()
        before = summary.figures
        while summary.figures is before:
            await pilot.pause(0.005)
        refresh = time.perf_counter() - started
    return opened * 1000, refresh * 1000, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        open_database(url)
        migrate_schema()
        fill(args.campaigns, 20)
        close_database()
        opened, refreshed = [], []
        for _ in range(args.runs):
            open_database(url)
            first, again, rows = asyncio.run(measure(url))
            close_database()
            opened.append(first)
            refreshed.append(again)
    print(f"machine: {machine()}")
    print(f"  {rows:,} rows; a refresh round took {median(refreshed):.0f} ms (median)")
    verdict = "meets" if median(opened) <= GOAL_MS else "MISSES"
    what = f"the summary with {args.campaigns:,} campaigns in its period, from the app's start to the table"
    figure = f"{median(opened):.0f} ms (median of {args.runs}; best {min(opened):.0f} ms)"
    print(f"| {what} | {figure} | <= {GOAL_MS} ms | {verdict} |")


if __name__ == "__main__":
    main()
