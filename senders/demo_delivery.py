"""The demo's make-believe recipients: with the outbox transports nothing reaches a person, so in
`campaigns tui --demo` they open, click and receive what was just sent, and the numbers move.

Written through the same store functions as the feedback server, so the screens show exactly what
real opens, clicks and delivery receipts would show. Never used outside the demo.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

from store.clock import utcnow
from store.db import off_loop
from store.demo_delivery import sent_unclicked_since

ROUND_SECONDS = 1.0
OPEN_SHARE, CLICK_SHARE, DELIVERED_SHARE = 0.4, 0.2, 0.95  # clicks: of those who open
OPEN_WITHIN, RECEIPT_WITHIN = 300.0, 20.0  # seconds after sending


def _fate(message_id: int) -> tuple[float | None, float | None, float, bool]:
    """When this recipient opens and clicks (None: never), when its receipt comes, and if delivered."""
    rng = random.Random(message_id)
    opens = rng.uniform(3, OPEN_WITHIN) if rng.random() < OPEN_SHARE else None
    clicks = opens + rng.uniform(3, 60) if opens is not None and rng.random() < CLICK_SHARE else None
    return opens, clicks, rng.uniform(1, RECEIPT_WITHIN), rng.random() < DELIVERED_SHARE


def simulate_round(now: datetime | None = None, since_minutes: int = 30) -> int:
    """One round: what is due among the messages sent lately is opened, clicked or received."""
    from store.feedback import Hit, Receipt, apply_receipts, record_hits

    now = now or utcnow()
    hits, receipts = [], []
    for message_id, channel, sent_at, opened in sent_unclicked_since(now - timedelta(minutes=since_minutes)):
        age = (now - sent_at).total_seconds()
        opens, clicks, receipt, delivered = _fate(message_id)
        if channel == "sms" and age >= receipt:
            receipts.append(Receipt(f"m{message_id}", "delivered" if delivered else "failed", now))
        elif channel == "email" and not opened and opens is not None and age >= opens:
            hits.append(Hit(message_id, now))
        elif channel == "email" and opened and clicks is not None and age >= clicks:
            hits.append(Hit(message_id, now, "https://centromedico.example/prenota"))
    record_hits(hits)
    apply_receipts(receipts)
    return len(hits) + len(receipts)


async def simulate_delivery() -> None:
    """Runs until cancelled: a round a second, off the event loop."""
    while True:
        await off_loop(simulate_round)
        await asyncio.sleep(ROUND_SECONDS)
