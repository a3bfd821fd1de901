"""The honest ETA (issue 18) and the quiet-hours decision, on a busy queue.

Five campaigns of 100,000 recipients each are queued (SMS, email and push, two of them part-sent, the
last channel's rate measured from the 2,000 sends of a campaign that ran before); the ETA of a draft
behind them is what Send Now and the details ask, the quiet-hours decision what every claim and every
engine round asks. Goals: the ETA in <= 250 ms (the Send Now dialog waits for it: a quarter of a second
still feels immediate), the decision in <= 1 ms. `python bench/eta.py [--db URL]`.
"""

from __future__ import annotations

import argparse
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
from store.db import bulk_transaction, close_database, dialect, open_database
from store.eta import send_estimate
from store.models import Campaign, Message
from store.quiet_hours import channel_quiet_hours, quiet_channels
from store.schema import migrate_schema

CAMPAIGNS = (
    ("sms", "queued"),
    ("email", "sending"),
    ("push", "queued"),
    ("sms", "sending"),
    ("email", "queued"),
)
RECIPIENTS = 100_000
ETA_GOAL_MS = 250
DECISION_GOAL_MS = 1


def fill() -> int:
    now = utcnow()
    with bulk_transaction():
        yesterday = now - timedelta(days=1)
        before = Campaign.create(name="Before", channel="sms", sender="C", body="b", state="sent",
                                 created_at=yesterday, first_sent_at=yesterday)  # fmt: skip
        sent = [(before.id, f"+39347{i:07d}", "sent", yesterday + timedelta(seconds=2 * i))
                for i in range(2_000)]  # fmt: skip
        insert_rows(Message, [Message.campaign, Message.address, Message.state, Message.sent_at], sent)
        for position, (channel, state) in enumerate(CAMPAIGNS):
            created = now - timedelta(hours=10 - position)
            campaign = Campaign.create(name=f"Queued {position}", channel=channel, sender="C", body="b",
                                       state=state, created_at=created)  # fmt: skip
            done = RECIPIENTS // 3 if state == "sending" else 0
            rows = [(campaign.id, f"r{position}-{i}@example.org", "sent" if i < done else "pending")
                    for i in range(RECIPIENTS)]  # fmt: skip
            insert_rows(Message, [Message.campaign, Message.address, Message.state], rows)
        draft = Campaign.create(
            name="Ours", channel="sms", sender="C", body="b", state="draft", created_at=now
        )
        insert_rows(
            Message, [Message.campaign, Message.address], [(draft.id, f"o{i}") for i in range(20_000)]
        )
    return int(draft.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a PostgreSQL URL (an empty database); default: a new SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/eta.db"
        open_database(url)
        migrate_schema()
        draft = fill()
        rates = {"CAMPAIGNS_EMAIL_RATE_PER_HOUR": "20000", "CAMPAIGNS_PUSH_RATE_PER_HOUR": "30000"}
        config = load_config(database_url=url, env={"CAMPAIGNS_CENTER_TIMEZONE": "Europe/Rome", **rates})
        print(machine())
        print(f"{len(CAMPAIGNS)} campaigns of {RECIPIENTS:,} queued ahead, {dialect().name}")
        times, said = [], ""
        for _ in range(7):
            started = time.perf_counter()
            said = send_estimate(config, draft).line
            times.append((time.perf_counter() - started) * 1000)
        print(f"ETA of a draft behind them: {median(times):.1f} ms median of 7 (goal <= {ETA_GOAL_MS} ms)")
        print(f"  it says: {said}")
        rules = channel_quiet_hours(config)
        decisions = []
        for _ in range(2_000):
            started = time.perf_counter()
            quiet_channels(rules, dialect().now())
            decisions.append((time.perf_counter() - started) * 1000)
        print(f"quiet-hours decision (database clock + 3 channels): {median(decisions):.3f} ms median "
              f"(goal <= {DECISION_GOAL_MS} ms)")  # fmt: skip
        close_database()


if __name__ == "__main__":
    main()
