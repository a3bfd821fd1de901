"""Lanes: at most `lanes` campaigns have messages in flight at once, across every engine on the database.

The first `lanes` campaigns of the queue, the first created first, hold the lanes. One of them claims
only while that keeps the campaigns with messages in flight within `lanes`: a campaign created earlier
that is resumed (or queued late) takes its turn at the next claim of the one sending, which stops
claiming, lets what it handed over be answered, gives back the rest and waits its turn again. The
choice and the claim are one transaction under one lock (an advisory lock on PostgreSQL, the write lock
taken at BEGIN on SQLite), so two engines never both decide that their campaign may go.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.claims import LEASE, Claim, claim, recover_expired
from store.clock import utcnow
from store.db import dialect, rows_of, write_transaction
from store.lifecycle import TAKES_BACK_LEASES
from store.message_limits import MessageLimits
from store.models import Campaign, Message
from store.queue import blocking, campaigns_in_flight, in_turn
from store.quiet_hours import QuietHours, quiet_channels

_LANES_LOCK = 7_231_002  # PostgreSQL advisory lock: one lane decision at a time, every channel


@dataclass(frozen=True)
class Turn:
    """A claim made in the campaign's turn."""

    claim: Claim  # `active` False: not its turn (or no longer queued or sending): the run stops
    waits: bool = False  # its turn, once campaigns out of turn have their messages in flight answered
    # Seconds until its channel's next quiet hours, by the database's clock: the run hands over nothing
    # after that (None: no quiet time ahead, or not asked).
    quiet_in: float | None = None


def _lock_lanes() -> None:
    dialect().lock_transaction(_LANES_LOCK, 0)


def _take_back_expired(now: datetime) -> None:
    """Messages whose engine's lease ran out go back now, not at their campaign's next claim: an engine
    that only stalled can then hand none of them over while another campaign has the lane."""
    expired = (
        Message.select(Message.campaign)
        .join(Campaign)
        .where(
            Campaign.state.in_(TAKES_BACK_LEASES) & (Message.state == "sending") & (Message.lease_until < now)
        )
        .distinct()
    )
    for (campaign_id,) in list(rows_of(expired)):
        recover_expired(campaign_id, now)


def claim_in_turn(
    campaign_id: int,
    worker: str,
    limit: int,
    lanes: int = 1,
    window: str = "7d",
    now: datetime | None = None,
    lease: timedelta = LEASE,
    limits: MessageLimits | None = None,
    quiet: Mapping[str, QuietHours] | None = None,
    channel: str = "",
) -> Turn:
    """Claims up to `limit` messages of the campaign if it holds a lane and no campaign out of turn
    still has messages in flight; the claim itself is `store.claims.claim`, in the same transaction.
    With `quiet` (each channel's quiet hours), a campaign of a channel in its quiet hours holds no lane
    and claims nothing; `channel` is the campaign's, whose next quiet hours the Turn says."""
    now = now or utcnow()
    lanes = max(1, lanes)
    rules = quiet or {}
    clock = dialect().now() if rules else now
    resting = quiet_channels(rules, clock)
    # A look without the lock first: a run out of its turn, or waiting for one, polls every half second,
    # and must not take every engine's write lock to hear it waits. Only a claim is decided under it.
    turn = in_turn(lanes, resting)
    if campaign_id not in turn:
        return Turn(Claim(active=False))
    if blocking(campaign_id, turn, campaigns_in_flight(now), lanes):
        return Turn(Claim(), waits=True)
    with write_transaction():
        _lock_lanes()
        _take_back_expired(now)
        turn = in_turn(lanes, resting)
        if campaign_id not in turn:
            return Turn(Claim(active=False))
        if blocking(campaign_id, turn, campaigns_in_flight(now), lanes):
            return Turn(Claim(), waits=True)
        claimed = claim(campaign_id, worker, limit, window, now, lease, limits)
    rest = rules.get(channel)
    starts = rest.next_quiet(clock) if rest is not None else None
    return Turn(claimed, quiet_in=(starts - clock).total_seconds() if starts is not None else None)
