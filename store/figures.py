"""A campaign's figures, typed: read by one function (`figures_of`) from the queries of store.stats; drawn
by the summary and the details, printed by `campaigns stats` (`as_document()`: docs/cli.md's stats document).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store import lifecycle
from store.clock import iso
from store.models import ACCEPTED_STATES, MESSAGE_STATES, Campaign
from store.queue import ahead_when_due
from store.stats import conversion_of, failures_of, machine_opened_of, message_counts, unsubscribed_of

if TYPE_CHECKING:
    from store.lift import Groups, Lift


def rate(part: int, whole: int) -> float | None:
    """part / whole to 4 decimals; none of nothing."""
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class MessageCounts:
    """A campaign's messages by state. `sent` is every message the provider accepted, the delivered ones
    included; `resent_after_crash` those sent again after a crash, which may have arrived twice."""

    recipients: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    skipped_duplicate: int = 0
    skipped_opted_out: int = 0
    skipped_suppressed: int = 0
    held_out: int = 0  # kept out as the control group (store.experiments): never sent
    cancelled: int = 0
    resent_after_crash: int = 0

    @classmethod
    def from_states(cls, states: Mapping[str, int]) -> MessageCounts:
        """From a row of store.stats.message_counts: messages per state, and how many were `resent`."""
        return cls(
            recipients=sum(states.get(s, 0) for s in MESSAGE_STATES),
            pending=states.get("pending", 0),
            sending=states.get("sending", 0),
            sent=sum(states.get(s, 0) for s in ACCEPTED_STATES),
            delivered=states.get("delivered", 0),
            failed=states.get("failed", 0),
            skipped_duplicate=states.get("skipped_duplicate", 0),
            skipped_opted_out=states.get("skipped_opted_out", 0),
            skipped_suppressed=states.get("skipped_suppressed", 0),
            held_out=states.get("held_out", 0),
            cancelled=states.get("cancelled", 0),
            resent_after_crash=states.get("resent", 0),
        )


@dataclass(frozen=True)
class Opens:
    """Email only, distinct recipients: who opened it; of them, whose every open came within seconds of
    sending (mail proxies: a hint, not subtracted); who clicked. `opened` (and `machine_opened`) is None
    for a campaign sent without the open-tracking image: not measured, not zero."""

    opened: int | None = 0
    machine_opened: int | None = 0
    clicked: int = 0


@dataclass(frozen=True)
class Conversion:
    """The patients it was sent to, and the reservations they made in the 28 days after their message."""

    patients: int = 0
    reservations: int = 0

    @property
    def rate(self) -> float | None:
        return rate(self.reservations, self.patients)


@dataclass(frozen=True)
class SlowFigures:
    """The figures that cost most to read and move slowly: read less often (store.figure_cache)."""

    conversion: Conversion = Conversion()
    machine_opened: int = 0
    unsubscribed: int = 0
    # A campaign with a hold-out or a B: each group's figures and the lifts between them (store.lift)
    groups: Groups | None = None
    lift: tuple[Lift, ...] = ()


@dataclass(frozen=True)
class Failure:
    """How many of a campaign's messages failed for one reason ("SMTP 550 5.1.1 no such user")."""

    reason: str
    count: int


@dataclass(frozen=True)
class CampaignFigures:
    """One campaign as the screens and `campaigns stats` show it. Times are naive UTC."""

    id: int
    name: str
    channel: str
    state: str
    counts: MessageCounts
    opens: Opens | None  # None: opens and clicks are not tracked for this channel
    unsubscribed: int
    conversion: Conversion
    created_at: datetime | None
    queued_at: datetime | None
    scheduled_at: datetime | None
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    completed_at: datetime | None
    waiting_reason: str | None  # why it waits for its provider, while it is in the queue
    final: bool  # its figures no longer change
    # The failed messages by reason, the most frequent first: read for one campaign (its stats), not
    # for the summary's many. None when not read.
    failures: tuple[Failure, ...] | None = None
    # A scheduled campaign: the campaigns ahead of it when it joins the queue (store.queue.ahead_when_due).
    ahead_when_due: int | None = None
    # A campaign with a hold-out or a B: its groups and their lifts (store.lift), with the slow figures
    groups: Groups | None = None
    lift: tuple[Lift, ...] = ()

    @property
    def open_rate(self) -> float | None:
        if self.opens is None or self.opens.opened is None:
            return None
        return rate(self.opens.opened, self.counts.sent)

    @property
    def click_rate(self) -> float | None:
        return rate(self.opens.clicked, self.counts.sent) if self.opens is not None else None

    @property
    def slow(self) -> SlowFigures:
        machine = (self.opens.machine_opened or 0) if self.opens is not None else 0
        return SlowFigures(self.conversion, machine, self.unsubscribed, self.groups, self.lift)

    def as_document(self) -> dict[str, Any]:
        """The stats document of docs/cli.md, as `campaigns stats --json` prints it."""
        counts, opens, conversion = self.counts, self.opens, self.conversion
        return (
            {
                "id": self.id,
                "name": self.name,
                "channel": self.channel,
                "state": self.state,
                "recipients": counts.recipients,
                "pending": counts.pending,
                "sending": counts.sending,
                "sent": counts.sent,
                "delivered": counts.delivered,
                "failed": counts.failed,
                "skipped_duplicate": counts.skipped_duplicate,
                "skipped_opted_out": counts.skipped_opted_out,
                "skipped_suppressed": counts.skipped_suppressed,
                "held_out": counts.held_out,
                "cancelled": counts.cancelled,
                "resent_after_crash": counts.resent_after_crash,
                "opened": opens.opened if opens is not None else None,
                "machine_opened": opens.machine_opened if opens is not None else None,
                "clicked": opens.clicked if opens is not None else None,
                "unsubscribed": self.unsubscribed,
                "open_rate": self.open_rate,
                "click_rate": self.click_rate,
                "conversion": {
                    "patients": conversion.patients,
                    "reservations": conversion.reservations,
                    "rate": conversion.rate,
                },
                "created_at": iso(self.created_at),
                "queued_at": iso(self.queued_at),
                "scheduled_at": iso(self.scheduled_at),
                "first_sent_at": iso(self.first_sent_at),
                "last_sent_at": iso(self.last_sent_at),
                "completed_at": iso(self.completed_at),
                "waiting_reason": self.waiting_reason,
                "final": self.final,
            }
            | self._failures_document()
            | self._groups_document()
        )

    def _groups_document(self) -> dict[str, Any]:
        """`groups` and `lift`, for a campaign with a hold-out or a B only (docs/cli.md)."""
        if self.groups is None:
            return {}
        return {"groups": self.groups.as_document(), "lift": [found.as_document() for found in self.lift]}

    def _failures_document(self) -> dict[str, Any]:
        if self.failures is None:
            return {}
        return {"failures": [{"reason": f.reason, "count": f.count} for f in self.failures]}


def figures_of(
    campaigns: Sequence[Campaign],
    machine_open_seconds: int = 10,
    known: Mapping[int, SlowFigures] | None = None,
) -> list[CampaignFigures]:
    """The figures of many campaigns, a few queries for all, in the order given.

    `known`: slow figures read a moment ago (store.figure_cache says which), not read again."""
    counts = message_counts([c.id for c in campaigns])
    slow = dict(known or {})
    slow.update(slow_figures_of([c for c in campaigns if c.id not in slow], machine_open_seconds))
    return [_placed(_figures(c, counts.get(c.id, {}), slow[c.id]), c) for c in campaigns]


def _placed(figures: CampaignFigures, campaign: Campaign) -> CampaignFigures:
    """A scheduled campaign's figures with how many campaigns will be ahead of it when it joins."""
    if not lifecycle.is_scheduled(figures.state):
        return figures
    return replace(figures, ahead_when_due=ahead_when_due(campaign))


def campaign_figures(campaign: Campaign, machine_open_seconds: int = 10) -> CampaignFigures:
    """One campaign's figures, with its failures by reason."""
    figures = figures_of([campaign], machine_open_seconds)[0]
    found = failures_of(campaign.id) if figures.counts.failed else []
    return replace(figures, failures=tuple(Failure(reason, count) for reason, count in found))


def campaign_document(campaign: Campaign, machine_open_seconds: int = 10) -> dict[str, Any]:
    """The `campaigns stats --json` document of one campaign (docs/cli.md)."""
    return campaign_figures(campaign, machine_open_seconds).as_document()


def slow_figures_of(campaigns: Sequence[Campaign], machine_open_seconds: int = 10) -> dict[int, SlowFigures]:
    """Conversion of each; proxy opens and unsubscribes of the emails (the others track none)."""
    ids = [c.id for c in campaigns]
    conversions = conversion_of(ids)
    emails = [c.id for c in campaigns if c.channel == "email"]
    machine = machine_opened_of(emails, machine_open_seconds)
    unsubscribed = unsubscribed_of(emails)
    found = {
        i: SlowFigures(Conversion(*conversions.get(i, (0, 0))), machine.get(i, 0), unsubscribed.get(i, 0))
        for i in ids
    }
    for campaign in campaigns:  # few: those with a hold-out or a B, each its own query (store.lift)
        if campaign.holdout_percent or campaign.variant_body is not None:
            found[campaign.id] = _with_groups(found[campaign.id], campaign.id)
    return found


def _with_groups(slow: SlowFigures, campaign_id: int) -> SlowFigures:
    from store.lift import group_figures, lift_of

    groups = group_figures(campaign_id)
    if groups is None:
        return slow
    return replace(slow, groups=groups, lift=tuple(lift_of(groups)))


def _figures(campaign: Campaign, states: Mapping[str, int], slow: SlowFigures) -> CampaignFigures:
    email = campaign.channel == "email"
    return CampaignFigures(
        id=campaign.id,
        name=campaign.name,
        channel=campaign.channel,
        state=campaign.state,
        counts=MessageCounts.from_states(states),
        opens=(
            Opens(states.get("opened", 0), slow.machine_opened, states.get("clicked", 0))
            if campaign.open_tracking
            else Opens(None, None, states.get("clicked", 0))
        )
        if email
        else None,
        unsubscribed=slow.unsubscribed,
        conversion=slow.conversion,
        groups=slow.groups,
        lift=slow.lift,
        created_at=campaign.created_at,
        queued_at=campaign.queued_at,
        scheduled_at=campaign.scheduled_at,
        first_sent_at=campaign.first_sent_at,
        last_sent_at=campaign.last_sent_at,
        completed_at=campaign.completed_at,
        waiting_reason=campaign.waiting_reason if lifecycle.is_in_queue(campaign.state) else None,
        final=lifecycle.is_final(campaign.state),
    )
