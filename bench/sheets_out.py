"""Exporting a 100,000-recipient campaign: `campaigns export ID --who all --out x.xlsx`, the whole command in
its own process (goal <= 3 s), and the same to `x.csv` beside it for comparison.

The campaign is an email one sent over an hour: every message sent and delivered, 40% opened, 5% clicked,
1% failed with a reason; names with accents, a few that look like formulas. Its rows are written straight
into the message table (no contacts: the export reads the message rows only).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
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
from store.models import Campaign, Message
from store.schema import migrate_schema

GOAL = 3.0
SENT = datetime(2026, 6, 1, 9, 0)
FIRST = ["Maria", "Luca", "Giulia", "Nicolò", "Zoë", "Anna", "=1+1", "Francesco"]
LAST = ["Rossi", "Bianchi", "D'Angelo", "Esposito", "Romano", "Colombo", "Ricci", "Marino"]


def fill(recipients: int) -> Campaign:
    rng = random.Random(5)
    campaign = create_campaign(channel="email", name="Check-up", sender="Centro", body="Ciao", now=SENT)
    rows = []
    for i in range(recipients):
        sent = SENT + timedelta(seconds=i * 3600 / recipients)
        if rng.random() < 0.01:
            rows.append((campaign.id, f"p{i}@example.org", rng.choice(FIRST), rng.choice(LAST), "failed",
                         "SMTP 550 5.1.1 no such user", None, None, None, None))  # fmt: skip
            continue
        opened = sent + timedelta(minutes=rng.randint(1, 3000)) if rng.random() < 0.4 else None
        clicked = opened + timedelta(minutes=1) if opened and rng.random() < 0.12 else None
        rows.append((campaign.id, f"p{i}@example.org", rng.choice(FIRST), rng.choice(LAST), "delivered", None,
                     sent, sent + timedelta(seconds=3), opened, clicked))  # fmt: skip
    columns = [Message.campaign, Message.address, Message.first_name, Message.last_name, Message.state,
               Message.error, Message.sent_at, Message.delivered_at, Message.opened_at,
               Message.clicked_at]  # fmt: skip
    with bulk_transaction():
        insert_rows(Message, columns, rows)
    return campaign


def export(url: str, campaign_id: int, out: Path) -> float:
    command = [
        sys.executable,
        "-m",
        "tui",
        "export",
        str(campaign_id),
        "--who",
        "all",
        "--out",
        str(out),
        "--json",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, "CAMPAIGNS_DB": url}, capture_output=True, text=True,
                          check=True)  # fmt: skip
    elapsed = time.perf_counter() - started
    assert json.loads(done.stdout)["rows"] > 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"xlsx": [], "csv": []}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        open_database(url)
        migrate_schema()
        campaign = fill(args.recipients)
        close_database()
        for _ in range(args.runs):
            for kind in results:  # alternately, so that a noisy moment hits both
                out = Path(folder) / f"export.{kind}"
                results[kind].append(export(url, campaign.id, out))
                sizes[kind] = out.stat().st_size
    print(f"machine: {machine()}")
    for kind, times in results.items():
        best, size = min(times), sizes[kind] / 1e6
        figure = f"{median(times):.2f} s (median of {args.runs}; best {best:.2f} s; {size:.1f} MB)"
        what = (
            f"`campaigns export --who all --out x.{kind}`, {args.recipients:,} recipients, the whole command"
        )
        if kind == "xlsx":
            verdict = "meets" if median(times) <= GOAL else "MISSES"
            print(f"| {what} | `bench/sheets_out.py` | {figure} | <= {GOAL} s | {verdict} |")
        else:
            print(f"| {what} (for comparison) | `bench/sheets_out.py` | {figure} | - | |")


if __name__ == "__main__":
    main()
