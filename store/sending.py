"""Claiming messages to send and recording what became of them: the ledger of the send engine.

A claim (store.claims) takes the next pending messages of a campaign and marks them `sending` under a
lease. Before the provider sees a message it is marked `handed_at` through the journal
(store.send_journal); after a crash, a message still `sending` past its lease went back to `pending` if
it was never handed over, and goes again marked `resent_after_crash` if it was. This module turns the
provider's answers into journal entries, a transient failure tried again after a back-off, and is where
the send engine imports all of it from.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from store.claims import LEASE, Claim, claim, expire_claims_of, release, renew_leases
from store.outgoing import Outcome, Outgoing
from store.send_journal import Entry, fold, journal

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "Claim",
    "Entry",
    "Outcome",
    "Outgoing",
    "claim",
    "entries_of",
    "expire_claims_of",
    "fold",
    "journal",
    "release",
    "renew_leases",
    "retry_at",
]

MAX_ATTEMPTS = 6
RETRY_BASE_SECONDS = 5
RETRY_CAP_SECONDS = 15 * 60
RETRY_AFTER_CAP_SECONDS = 60 * 60  # a provider's Retry-After is honoured up to an hour


def retry_at(attempts: int, now: datetime, rng: random.Random | None = None) -> datetime:
    """Exponential back-off with jitter: 5 s, 10 s, 20 s… up to 15 minutes, ±25%."""
    delay = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.75, 1.25)
    return now + timedelta(seconds=delay * jitter)


def entries_of(results: list[tuple[Outcome, Outgoing]], now: datetime) -> list[Entry]:
    """Answers as journal entries: a transient failure is tried again later, up to MAX_ATTEMPTS."""
    found = []
    for outcome, m in results:
        kind, error, next_attempt_at = outcome.state, outcome.error, None
        if kind == "retry" and m.attempts < MAX_ATTEMPTS:
            kind, next_attempt_at = "pending", retry_at(m.attempts, now)
            if outcome.retry_after:  # the provider's own pause, when longer than ours
                asked = now + timedelta(seconds=min(outcome.retry_after, RETRY_AFTER_CAP_SECONDS))
                next_attempt_at = max(next_attempt_at, asked)
        elif kind == "retry":
            kind, error = "failed", f"gave up after {m.attempts} attempts: {outcome.error}"
        found.append(
            Entry(
                m.id, kind, now, outcome.provider_id, error, next_attempt_at, outcome.maybe_sent,
                outcome.dead_token, m.campaign_id, m.channel, m.address, m.body_hash,
                outcome.suppress if kind == "failed" else None,
            )
        )  # fmt: skip
    return found
