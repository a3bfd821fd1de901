"""The send queue's states: Send Now, pause, resume, cancel, and which campaigns go next.

Campaigns go one after another, the first created first (the product manual); `lanes` lets that many
run at once. A campaign whose provider is down keeps its place and waits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from store.campaigns import get_campaign
from store.clock import utcnow
from store.db import is_postgres, write_transaction
from store.errors import InvalidState
from store.models import Campaign, Message, SendJournal

ACTIVE = ("queued", "sending")
COMPLETED_AFTER = timedelta(hours=48)


def queue_campaign(campaign_id: int, now: datetime | None = None) -> Campaign:
    """Send Now: a draft with recipients joins the queue."""
    with write_transaction():
        campaign = get_campaign(campaign_id)
        if campaign.state != "draft":
            raise InvalidState(f"campaign {campaign_id} is {campaign.state}; only a draft can be sent")
        if not Message.select().where(Message.campaign == campaign).exists():
            raise InvalidState(f"campaign {campaign_id} has no recipients: add some first")
        campaign.state, campaign.queued_at = "queued", now or utcnow()
        campaign.save()
    return campaign


def _locked(campaign_id: int) -> Campaign:
    """The campaign, its row locked until the transaction ends (on SQLite the write lock does that).

    A hand-over locks it `FOR KEY SHARE` (store.sending): a pause or cancel waits for one under way,
    and one that comes meanwhile waits, then sees the new state."""
    if not is_postgres():
        return get_campaign(campaign_id)
    found = Campaign.select().where(Campaign.id == campaign_id).for_update().first()
    return found if found is not None else get_campaign(campaign_id)  # get_campaign says it is missing


def pause_campaign(campaign_id: int, now: datetime | None = None) -> Campaign:
    """Stops claiming; messages already with the provider finish."""
    with write_transaction():
        campaign = _locked(campaign_id)
        if campaign.state not in ACTIVE:
            raise InvalidState(
                f"campaign {campaign_id} is {campaign.state}; only a queued or sending one pauses"
            )
        campaign.state, campaign.paused_at = "paused", now or utcnow()
        campaign.save()
    return campaign


def resume_campaign(campaign_id: int) -> Campaign:
    with write_transaction():
        campaign = get_campaign(campaign_id)
        if campaign.state != "paused":
            raise InvalidState(f"campaign {campaign_id} is {campaign.state}, not paused")
        campaign.state = "sending" if campaign.first_sent_at else "queued"
        campaign.paused_at = None
        campaign.save()
    return campaign


def cancel_campaign(campaign_id: int, now: datetime | None = None) -> Campaign:
    """No more messages go out; what was still pending is cancelled."""
    now = now or utcnow()
    with write_transaction():
        campaign = _locked(campaign_id)
        if campaign.state not in ("draft", "queued", "sending", "paused"):
            raise InvalidState(f"campaign {campaign_id} is {campaign.state}; it can no longer be cancelled")
        campaign.state, campaign.cancelled_at = "cancelled", now
        campaign.save()
        # Handed over means with the provider: said by `handed_at`, or by the journal not yet folded.
        journaled = SendJournal.select(SendJournal.message_id).where(SendJournal.kind == "handed")
        never_handed = Message.handed_at.is_null() & Message.id.not_in(journaled)
        unsent = (Message.state == "pending") | ((Message.state == "sending") & never_handed)
        Message.update(state="cancelled", lease_until=None, worker=None).where(
            (Message.campaign == campaign) & unsent
        ).execute()
    return campaign


def next_campaigns(lanes: int = 1) -> list[Campaign]:
    """The campaigns whose turn it is: the oldest queued or sending ones, one per lane."""
    query = (
        Campaign.select()
        .where(Campaign.state.in_(ACTIVE))
        .order_by(Campaign.created_at, Campaign.id)
        .limit(max(1, lanes))
    )
    return list(query)


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
            Campaign.update(state="sent", waiting_until=None, waiting_reason=None, updated_at=now or utcnow())
            .where((Campaign.id == campaign_id) & Campaign.state.in_(ACTIVE))
            .execute()
        )
    return bool(updated)


def complete_due(now: datetime | None = None) -> int:
    """`sent` campaigns whose last message is 48 hours old become `completed`: their figures are final."""
    now = now or utcnow()
    due = (Campaign.state == "sent") & (
        (Campaign.last_sent_at <= now - COMPLETED_AFTER)
        | (Campaign.last_sent_at.is_null() & (Campaign.updated_at <= now - COMPLETED_AFTER))
    )
    return Campaign.update(state="completed", completed_at=now).where(due).execute()


def set_waiting(campaign_id: int, until: datetime | None, reason: str | None) -> None:
    """Records (or clears, with None) why and until when a campaign waits for its provider."""
    Campaign.update(waiting_until=until, waiting_reason=reason).where(Campaign.id == campaign_id).execute()
