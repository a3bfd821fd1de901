"""Copying a campaign into a new draft, and deleting a draft."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from peewee import Field

from store.bulk import insert_rows
from store.campaign_view import CampaignView
from store.campaigns import create_campaign, get_campaign
from store.clock import utcnow
from store.db import bulk_transaction, database, write_transaction
from store.errors import BadInput, InvalidState
from store.lifecycle import DELETABLE
from store.message_limits import MessageLimits
from store.models import Campaign, Message

COPY_SUFFIX = " (copy)"


def clone_campaign(
    campaign_id: int, now: datetime | None = None, limits: MessageLimits | None = None
) -> tuple[CampaignView, int]:
    """A new draft with the campaign's content and recipients (all of them, pending); (draft, recipients).

    Consent and the one-week window are checked again when the copy is sent, as for any draft."""
    source = get_campaign(campaign_id)
    now = now or utcnow()
    name = source.name[: 200 - len(COPY_SUFFIX)] + COPY_SUFFIX
    rows = database.execute_sql(
        f"SELECT contact_id, address, first_name, last_name, source FROM message WHERE campaign_id = "
        f"{database.param} ORDER BY id",
        [campaign_id],
    ).fetchall()
    return new_draft_from(source, name, rows, now, limits)


def new_draft_from(
    source: Campaign,
    name: str,
    recipients: list[tuple[Any, ...]],
    now: datetime,
    limits: MessageLimits | None = None,
) -> tuple[CampaignView, int]:
    """A draft with the content of `source` and these recipients (contact id, address, first name, last
    name, where they came from), in one transaction; (draft, recipients added)."""
    fields: list[Field] = [
        Message.contact,
        Message.address,
        Message.first_name,
        Message.last_name,
        Message.source,
    ]
    with bulk_transaction():
        draft = create_campaign(
            channel=source.channel, name=name, sender=source.sender, body=source.body,
            subject=source.subject, coupon=source.coupon, open_tracking=source.open_tracking,
            language=source.language, now=now, limits=limits,
        )  # fmt: skip
        if source.variant_body is not None:  # an A/B test's B goes with the content (not the draw)
            draft.variant_body, draft.variant_subject = source.variant_body, source.variant_subject
            draft.save()
        constants: dict[Field, Any] = {
            Message.campaign: draft.id,
            Message.state: "pending",
            Message.added_at: now,
        }
        added = insert_rows(Message, fields, [tuple(r) for r in recipients], constants=constants,
                            ignore_conflicts=True)  # fmt: skip
    return CampaignView.of(draft), added


def delete_draft(campaign_id: int) -> int:
    """Deletes a draft and its recipients; anything else is refused (its history is the ledger)."""
    get_campaign(campaign_id)
    with write_transaction():
        # One conditional statement: a Send Now committed a moment ago must win over this delete.
        Message.delete().where(
            (Message.campaign == campaign_id)
            & Message.campaign.in_(Campaign.select(Campaign.id).where(Campaign.state.in_(DELETABLE)))
        ).execute()
        deleted = (
            Campaign.delete().where((Campaign.id == campaign_id) & Campaign.state.in_(DELETABLE)).execute()
        )
        if not deleted:
            state = Campaign.get_by_id(campaign_id).state
            raise InvalidState(f"campaign {campaign_id} is {state}: only drafts can be deleted")
    return campaign_id


TEST_LIMIT = 20


@dataclass(frozen=True)
class TestTarget:
    given: str  # as typed
    address: str | None  # normalised for the channel; None when it cannot be
    first_name: str = ""
    last_name: str = ""
    problem: str = ""


def test_targets(campaign: Campaign, text: str, default_region: str = "IT") -> list[TestTarget]:
    """The addresses typed for a test, read for the campaign's channel; a known contact lends its names
    (and, for push, its device)."""
    from store.addresses import InvalidAddress, normalise_email, normalise_phone
    from store.phones import is_mobile
    from store.recipients import PASTE_SEPARATORS, _channel_address, _match_contacts

    values = [v.strip() for v in PASTE_SEPARATORS.split(text or "") if v.strip()]
    if not values:
        raise BadInput("no address to send the test to")
    if len(values) > TEST_LIMIT:
        raise BadInput(f"a test goes to at most {TEST_LIMIT} addresses, not {len(values)}")
    found: list[TestTarget] = []
    for value in values:
        try:
            if campaign.channel == "email" or (campaign.channel == "push" and "@" in value):
                key = normalise_email(value)
            elif campaign.channel == "push" and not value.lstrip("+").replace(" ", "").isdigit():
                found.append(TestTarget(value, value))  # a device token as it is
                continue
            else:
                key = normalise_phone(value, default_region)
        except InvalidAddress as exc:
            found.append(TestTarget(value, None, problem=str(exc)))
            continue
        contact = _match_contacts([key]).get(key)
        first, last = (contact["first_name"], contact["last_name"]) if contact else ("", "")
        address: str | None = key
        problem = ""
        if campaign.channel == "sms" and not is_mobile(key):
            address, problem = None, "not a mobile number: an SMS cannot reach it"
        elif campaign.channel == "push":
            address, problem = _channel_address("push", contact) if contact else (None, "no contact has it")
            problem = "" if address else f"no app to reach: {problem}"
        found.append(TestTarget(value, address, first, last, problem))
    return found
