"""The send queue's states: Send Now, pause, resume, cancel, and which campaigns go next.

Campaigns go one after another, the first created first (the product manual); `lanes` lets that many
run at once. A campaign whose provider is down keeps its place and waits. Where a campaign stands and
why it waits: `queue_position`; the claim that keeps to the lanes across engines: `store.lanes`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import ModelSelect, fn

from store.bulk import stored_time
from store.campaigns import get_campaign
from store.clock import local, utcnow, zone_name
from store.db import dialect, rows_of, write_transaction
from store.errors import BadInput, InvalidState
from store.experiments import DEFAULT_B_SHARE, draw_groups, stamp_held_out, undraw
from store.lifecycle import (
    CANCELLED,
    COMPLETED,
    DRAFT,
    IN_QUEUE,
    MAY_HAVE_IN_FLIGHT,
    PAUSED,
    QUEUED,
    SCHEDULED,
    SENT,
    can_cancel,
    can_pause,
    can_resume,
    can_send_now,
    can_unschedule,
    resumes_as,
)
from store.message_limits import MessageLimits
from store.models import Campaign, Message, SendJournal
from store.quiet_hours import QuietHours, quiet_channels, resting_says

COMPLETED_AFTER = timedelta(hours=48)


def queue_campaign(
    campaign_id: int,
    now: datetime | None = None,
    at: datetime | None = None,
    holdout: float = 0.0,
    b_share: float | None = None,
    window: str = "7d",
    limits: MessageLimits | None = None,
) -> Campaign:
    """Send Now: a draft with recipients joins the queue; with `at` (naive UTC), it is scheduled to join
    it then (`promote_due`). A time not after the database's clock is refused. With a `holdout` percent
    or a second body, the groups are drawn among the recipients eligible when it joins the queue (now,
    or at its time: store.experiments): `b_share` of the others get B (default half)."""
    if not 0 <= holdout < 100:
        raise BadInput(f"the hold-out is a percentage from 0 to 99, not {holdout:g}")
    if b_share is not None and not 0 < b_share < 1:
        raise BadInput(f"B's share is a percentage from 1 to 99, not {b_share * 100:g}")
    with write_transaction():
        campaign = _locked(campaign_id)  # two Send Nows at once: the second sees it queued, and draws nothing
        if not can_send_now(campaign.state):
            raise InvalidState(f"campaign {campaign_id} is {campaign.state}; only a draft can be sent")
        if not Message.select().where(Message.campaign == campaign).exists():
            raise InvalidState(f"campaign {campaign_id} has no recipients: add some first")
        if b_share is not None and campaign.variant_body is None:
            raise InvalidState(f"campaign {campaign_id} has no variant B to share: edit --variant b first")
        now = now or dialect().now()
        if at is not None and at <= now:
            shown = f"{local(at):%Y-%m-%d %H:%M} ({zone_name()})"
            raise InvalidState(f"{shown} is in the past: a campaign is scheduled for later")
        if at is not None:  # drawn when it joins the queue, among whom is eligible then (promote_due)
            campaign.holdout_percent = holdout or None
            campaign.variant_share = (
                (b_share or DEFAULT_B_SHARE) if campaign.variant_body is not None else None
            )
            campaign.state, campaign.scheduled_at = SCHEDULED, at
        else:
            _draw(campaign, holdout, b_share, window, now, limits)
            campaign.state, campaign.queued_at, campaign.scheduled_at = QUEUED, now, None
        campaign.updated_at = now
        campaign.save()
    return campaign


def unschedule_campaign(campaign_id: int, now: datetime | None = None) -> Campaign:
    """A scheduled campaign back to draft, as it was before Send Now."""
    with write_transaction():
        campaign = _locked(campaign_id)
        if not can_unschedule(campaign.state):
            raise InvalidState(
                f"campaign {campaign_id} is {campaign.state}; only a scheduled one is unscheduled"
            )
        campaign.state, campaign.scheduled_at, campaign.updated_at = DRAFT, None, now or utcnow()
        campaign.save()
        undraw(campaign)  # a draft again: drawn anew at its next Send Now
    return campaign


def promote_due(now: datetime | None = None, window: str = "7d", limits: MessageLimits | None = None) -> int:
    """Scheduled campaigns whose time came join the queue (at their place: the first created first),
    each drawing its hold-out and variants now, among the recipients eligible now (store.experiments).
    Decided by the database's clock, so engines on several machines promote alike; one look without
    the write lock first, as every engine asks every round."""
    now = now or dialect().now()
    due = (Campaign.state == SCHEDULED) & (Campaign.scheduled_at <= now)
    ids = [row[0] for row in rows_of(Campaign.select(Campaign.id).where(due).order_by(Campaign.id))]
    promoted = 0
    for campaign_id in ids:
        with write_transaction():
            campaign = _locked(campaign_id)
            if campaign.state != SCHEDULED:  # another engine, or an unschedule, came first
                continue
            _draw(campaign, campaign.holdout_percent or 0.0, campaign.variant_share, window, now, limits)
            campaign.state, campaign.queued_at, campaign.updated_at = QUEUED, campaign.scheduled_at, now
            campaign.save()
            promoted += 1
    return promoted


def _draw(
    campaign: Campaign, holdout: float, b_share: float | None, window: str, now: datetime,
    limits: MessageLimits | None,
) -> None:  # fmt: skip
    """The hold-out and the variants, when the campaign has either, drawn now."""
    if holdout or campaign.variant_body is not None:
        b = (b_share or DEFAULT_B_SHARE) if campaign.variant_body is not None else None
        draw_groups(campaign, holdout, b, window, now, limits)


def _locked(campaign_id: int) -> Campaign:
    """The campaign, its row locked until the transaction ends (on SQLite the write lock does that).

    A hand-over locks it `FOR KEY SHARE` (store.send_journal): a pause or cancel waits for one under way,
    and one that comes meanwhile waits, then sees the new state."""
    found = dialect().for_update(Campaign.select().where(Campaign.id == campaign_id)).first()
    return found if found is not None else get_campaign(campaign_id)  # get_campaign says it is missing


def pause_campaign(campaign_id: int, now: datetime | None = None) -> Campaign:
    """Stops claiming; messages already with the provider finish."""
    with write_transaction():
        campaign = _locked(campaign_id)
        if not can_pause(campaign.state):
            raise InvalidState(
                f"campaign {campaign_id} is {campaign.state}; only a queued or sending one pauses"
            )
        campaign.state, campaign.paused_at = PAUSED, now or utcnow()
        campaign.save()
    return campaign


def resume_campaign(campaign_id: int) -> Campaign:
    with write_transaction():
        campaign = get_campaign(campaign_id)
        if not can_resume(campaign.state):
            raise InvalidState(f"campaign {campaign_id} is {campaign.state}, not paused")
        campaign.state = resumes_as(has_sent=campaign.first_sent_at is not None)
        campaign.paused_at = None
        if campaign.waiting_until is None:  # its place in the queue is said again by the next engine round
            campaign.waiting_reason = None
        campaign.save()
    return campaign


def cancel_campaign(campaign_id: int, now: datetime | None = None) -> Campaign:
    """No more messages go out; what was still pending is cancelled."""
    now = now or utcnow()
    with write_transaction():
        campaign = _locked(campaign_id)
        if not can_cancel(campaign.state):
            raise InvalidState(f"campaign {campaign_id} is {campaign.state}; it can no longer be cancelled")
        campaign.state, campaign.cancelled_at = CANCELLED, now
        campaign.save()
        # Handed over means with the provider: said by `handed_at`, or by the journal not yet folded.
        journaled = SendJournal.select(SendJournal.message_id).where(SendJournal.kind == "handed")
        never_handed = Message.handed_at.is_null() & Message.id.not_in(journaled)
        unsent = (Message.state == "pending") | ((Message.state == "sending") & never_handed)
        Message.update(state="cancelled", lease_until=None, worker=None).where(
            (Message.campaign == campaign) & unsent
        ).execute()
        stamp_held_out(campaign_id)  # what it sent before the cancel is still compared with its hold-out
    return campaign


def _in_order(*fields: Any, resting: Collection[str] = ()) -> ModelSelect[Campaign]:
    """The queue: queued and sending campaigns, the first created first; those of a channel `resting`
    (in its quiet hours, store.quiet_hours) hold no lane meanwhile: the other channels keep sending."""
    where = Campaign.state.in_(IN_QUEUE)
    if resting:
        where &= Campaign.channel.not_in(sorted(resting))
    return Campaign.select(*fields).where(where).order_by(Campaign.created_at, Campaign.id)


def next_campaigns(lanes: int = 1, resting: Collection[str] = ()) -> list[Campaign]:
    """The campaigns whose turn it is: the oldest queued or sending ones, one per lane, none of a
    channel in its quiet hours."""
    return list(_in_order(resting=resting).limit(max(1, lanes)))


def in_turn(lanes: int = 1, resting: Collection[str] = ()) -> list[int]:
    """The ids of `next_campaigns`: the campaigns that hold the lanes."""
    return [row[0] for row in rows_of(_in_order(Campaign.id, resting=resting).limit(max(1, lanes)))]


def ahead_of(campaign: Campaign) -> list[tuple[int, str, datetime | None]]:
    """The campaigns before it in the queue's order, now or once due: those created before it that are
    queued or sending, or scheduled (with the time they join), the first created first, as (id,
    channel, scheduled_at). What the ETA plays forward and the summary counts a scheduled one's place
    by."""
    before = (Campaign.created_at < campaign.created_at) | (
        (Campaign.created_at == campaign.created_at) & (Campaign.id < campaign.id)
    )
    query = (
        Campaign.select(Campaign.id, Campaign.channel, Campaign.scheduled_at, Campaign.state)
        .where(Campaign.state.in_((*IN_QUEUE, SCHEDULED)) & before)
        .order_by(Campaign.created_at, Campaign.id)
    )
    return [
        (i, channel, stored_time(at) if state == SCHEDULED else None)
        for i, channel, at, state in rows_of(query)
    ]


def ahead_when_due(campaign: Campaign) -> int:
    """How many campaigns will be ahead of a scheduled one when it joins the queue: those created before
    it that are queued or sending now, or scheduled to join no later than it."""
    due = campaign.scheduled_at
    return sum(1 for _i, _channel, at in ahead_of(campaign) if at is None or (due is not None and at <= due))


def finish_if_done(campaign_id: int, now: datetime | None = None) -> bool:
    """Marks a sending campaign `sent` once no message is left to process."""
    with write_transaction():
        left = (
            Message.select()
            .where((Message.campaign == campaign_id) & Message.state.in_(("pending", "sending")))
            .exists()
        )
        if left:
            return False
        updated = (
            Campaign.update(state=SENT, waiting_until=None, waiting_reason=None, updated_at=now or utcnow())
            .where((Campaign.id == campaign_id) & Campaign.state.in_(IN_QUEUE))
            .execute()
        )
        if updated:
            stamp_held_out(campaign_id)  # the hold-out's 28 days count from the campaign's send times
    return bool(updated)


def complete_due(now: datetime | None = None) -> int:
    """`sent` campaigns whose last message is 48 hours old become `completed`: their figures are final."""
    now = now or utcnow()
    due = (Campaign.state == SENT) & (
        (Campaign.last_sent_at <= now - COMPLETED_AFTER)
        | (Campaign.last_sent_at.is_null() & (Campaign.updated_at <= now - COMPLETED_AFTER))
    )
    completed: int = Campaign.update(state=COMPLETED, completed_at=now).where(due).execute()
    return completed


def set_waiting(campaign_id: int, until: datetime | None, reason: str | None) -> None:
    """Records (or clears, with None) why and until when a campaign waits for its provider."""
    Campaign.update(waiting_until=until, waiting_reason=reason).where(Campaign.id == campaign_id).execute()


# -- the lanes: who holds one, who waits for whom ------------------------------------------------------


@dataclass(frozen=True)
class Ahead:
    """Another campaign, as one that waits for it sees it."""

    id: int
    name: str
    left: int  # its messages not processed yet (for `QueuePosition.waits_for`: those in flight)

    def named(self) -> str:
        return f"#{self.id} '{self.name}'"


@dataclass(frozen=True)
class QueuePosition:
    """Where a queued or sending campaign stands: its turn, or behind whom it waits."""

    campaign_id: int
    state: str
    in_turn: bool  # among the first `lanes` of the queue
    ahead: tuple[Ahead, ...]  # the campaigns before it in the queue, the first created first
    # Campaigns out of turn (paused, cancelled, or behind it) that still have messages with a provider:
    # a campaign in turn claims only once they are answered, so no more than `lanes` send at once.
    waits_for: tuple[Ahead, ...] = ()

    @property
    def left_ahead(self) -> int:
        return sum(campaign.left for campaign in self.ahead)

    def says(self) -> str | None:
        """Why it waits, as the admin reads it; None when it may send."""
        if self.waits_for:
            names = " and ".join(campaign.named() for campaign in self.waits_for)
            their = "its" if len(self.waits_for) == 1 else "their"
            return f"waits for {names} to finish {their} messages in flight"
        if self.in_turn or not self.ahead:
            return None
        # A sending campaign out of turn gave way to one created before it (resumed, or queued late).
        after = "queued after" if self.state == QUEUED else "waits after"
        before = self.ahead[-1].named() + ("" if self.state == QUEUED else " (created earlier)")
        if len(self.ahead) == 1:
            return f"{after} {before}, {self.left_ahead:,} left"
        return f"{after} {before}, {len(self.ahead)} campaigns with {self.left_ahead:,} left ahead"


# How `QueuePosition.says` and `store.quiet_hours.resting_says` begin
TURN_REASONS = ("waits for ", "queued after ", "waits after ", "quiet hours")


def waits_for_its_turn(reason: str | None) -> bool:
    """Whether a waiting reason is the queue's (its turn or its hours come), not a provider's (something
    is wrong)."""
    return bool(reason) and reason.startswith(TURN_REASONS)  # type: ignore[union-attr]


def campaigns_in_flight(now: datetime | None = None) -> dict[int, Ahead]:
    """Campaigns with messages claimed by a live engine (lease not over), and how many.

    A message whose lease ran out belongs to an engine presumed gone: it holds no lane, or a crashed
    engine would stop the queue."""
    now = now or utcnow()
    query = (
        Message.select(Message.campaign, Campaign.name, fn.COUNT(Message.id))
        .join(Campaign)
        .where(
            Campaign.state.in_(MAY_HAVE_IN_FLIGHT)
            & (Message.state == "sending")
            & (Message.lease_until >= now)
        )
        .group_by(Message.campaign, Campaign.name)
    )
    return {campaign_id: Ahead(campaign_id, name, count) for campaign_id, name, count in rows_of(query)}


def blocking(campaign_id: int, turn: list[int], in_flight: Collection[int], lanes: int) -> list[int]:
    """The campaigns out of turn whose messages in flight a campaign in turn waits for before it claims:
    none when it already has some in flight, or when claiming keeps the campaigns in flight within `lanes`."""
    flying = set(in_flight)
    if campaign_id in flying or len(flying | {campaign_id}) <= lanes:
        return []
    return sorted(flying - set(turn))


def queue_positions(
    lanes: int = 1, now: datetime | None = None, resting: Collection[str] = ()
) -> dict[int, QueuePosition]:
    """Every queued or sending campaign's place (see `queue_position`), from a few reads; those of a
    channel `resting` have none until their quiet hours end."""
    rows = list(rows_of(_in_order(Campaign.id, Campaign.name, Campaign.state, resting=resting)))
    return _positions(rows, lanes, now)


def _positions(queue: list[tuple[Any, ...]], lanes: int, now: datetime | None) -> dict[int, QueuePosition]:
    """The places of the queue's campaigns, rows (id, name, state, ...) the first created first."""
    lanes = max(1, lanes)
    if not queue:
        return {}
    before_others = [row[0] for row in queue[:-1]]  # the last one's messages are ahead of nobody
    left = dict(
        rows_of(
            Message.select(Message.campaign, fn.COUNT(Message.id))
            .where(Message.campaign.in_(before_others) & Message.state.in_(("pending", "sending")))
            .group_by(Message.campaign)
        )
        if before_others
        else []
    )
    turn = [row[0] for row in queue[:lanes]]
    flying = campaigns_in_flight(now)
    positions = {}
    for place, (campaign_id, _name, state, *_rest) in enumerate(queue):
        ahead = tuple(Ahead(row[0], row[1], left.get(row[0], 0)) for row in queue[:place])
        waits = blocking(campaign_id, turn, flying, lanes) if place < lanes else []
        positions[campaign_id] = QueuePosition(
            campaign_id, state, place < lanes, ahead, tuple(flying[i] for i in waits)
        )
    return positions


def queue_position(campaign_id: int, lanes: int = 1, now: datetime | None = None) -> QueuePosition | None:
    """Where the campaign stands in the queue with `lanes` lanes: behind which campaigns, with how many
    messages left before it, or whose messages in flight it waits for; None unless queued or sending."""
    return queue_positions(lanes, now).get(campaign_id)


def note_waiting(
    lanes: int = 1, now: datetime | None = None, quiet: Mapping[str, QuietHours] | None = None
) -> int:
    """Writes on each campaign of the queue why it waits for its turn or for its channel's quiet hours
    to end, and clears it from those that may send; a campaign waiting for its provider keeps that
    reason. Returns how many changed. Quiet hours are decided by the database's clock.

    The summary, the details and `campaigns stats` show it as the campaign's waiting reason."""
    rules = quiet or {}
    clock = dialect().now()
    resting = quiet_channels(rules, clock)
    queue = list(
        rows_of(
            _in_order(
                Campaign.id, Campaign.name, Campaign.state, Campaign.waiting_reason, Campaign.waiting_until,
                Campaign.channel,
            )
        )
    )  # fmt: skip
    # A campaign waiting for its provider keeps that reason: it is not in `said`.
    said = {row[0]: row[3] for row in queue if row[4] is None}
    going = [row for row in queue if row[5] not in resting]
    reasons = {
        campaign_id: position.says() for campaign_id, position in _positions(going, lanes, now).items()
    }
    for row in queue:
        if row[5] in resting:
            reasons[row[0]] = resting_says(rules[row[5]], clock)
    changed = 0
    for campaign_id, reason in sorted(reasons.items()):
        if campaign_id not in said or said[campaign_id] == reason:
            continue
        # One row a statement: no lock held on one campaign while waiting for another's.
        changed += (
            Campaign.update(waiting_reason=reason)
            .where((Campaign.id == campaign_id) & Campaign.waiting_until.is_null())
            .execute()
        )
    return changed
