"""A campaign as the screens and the command line read it: a frozen copy, safe to hand across threads.

The peewee row stays in `store`; what leaves it is this view, typed, with the `--json` document of a
campaign (docs/cli.md) made from it in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec

from store.clock import iso
from store.db import connection
from store.models import Campaign

P = ParamSpec("P")


@dataclass(frozen=True)
class CampaignView:
    id: int
    name: str
    channel: str
    state: str
    sender: str
    subject: str | None
    coupon: str | None
    body: str
    created_at: datetime | None
    updated_at: datetime | None
    queued_at: datetime | None
    scheduled_at: datetime | None
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    variant_subject: str | None = None
    variant_body: str | None = None
    variant_share: float | None = None
    holdout_percent: float | None = None
    open_tracking: bool = True  # emails: the open-tracking image (schema 10)
    language: str | None = None  # emails: the footer's language; None: [email] language

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignView:
        return cls(
            id=campaign.id,
            name=campaign.name,
            channel=campaign.channel,
            state=campaign.state,
            sender=campaign.sender,
            subject=campaign.subject,
            coupon=campaign.coupon,
            body=campaign.body,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
            queued_at=campaign.queued_at,
            scheduled_at=campaign.scheduled_at,
            first_sent_at=campaign.first_sent_at,
            last_sent_at=campaign.last_sent_at,
            completed_at=campaign.completed_at,
            cancelled_at=campaign.cancelled_at,
            variant_subject=campaign.variant_subject,
            variant_body=campaign.variant_body,
            variant_share=campaign.variant_share,
            holdout_percent=campaign.holdout_percent,
            open_tracking=bool(campaign.open_tracking),
            language=campaign.language,
        )

    def as_document(self) -> dict[str, Any]:
        """The campaign's JSON document (`create`, `edit`, `send`, `clone` with --json)."""
        return {
            "id": self.id,
            "name": self.name,
            "channel": self.channel,
            "state": self.state,
            "sender": self.sender,
            "subject": self.subject,
            "coupon": self.coupon,
            "body": self.body,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "queued_at": iso(self.queued_at),
            "scheduled_at": iso(self.scheduled_at),
            "first_sent_at": iso(self.first_sent_at),
            "last_sent_at": iso(self.last_sent_at),
            "completed_at": iso(self.completed_at),
            "cancelled_at": iso(self.cancelled_at),
            # An A/B test's B (null: one body), and what Send Now drew (store.experiments)
            "variant_b": {"subject": self.variant_subject, "body": self.variant_body}
            if self.variant_body
            else None,
            "b_share": self.variant_share,
            "holdout_percent": self.holdout_percent,
            "open_tracking": self.open_tracking,
            "language": self.language,
        }


def read_campaign(campaign_id: int) -> CampaignView:
    """The campaign, or NotFound with the line the user reads."""
    from store.campaigns import get_campaign

    with connection():
        return CampaignView.of(get_campaign(campaign_id))


def viewed(change: Callable[P, Campaign]) -> Callable[P, CampaignView]:
    """The same store call, handing back a frozen copy of the campaign it returns instead of its row: what
    a screen gets back from the thread that ran it."""

    def call(*args: P.args, **kwargs: P.kwargs) -> CampaignView:
        return CampaignView.of(change(*args, **kwargs))

    return call
