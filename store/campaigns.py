"""Campaigns as drafts: create, edit, look up, and the rules that guard them."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from store.clock import utcnow
from store.db import rows_of
from store.errors import BadInput, InvalidState, NotFound
from store.lifecycle import DRAFT, EDITABLE, can_edit
from store.message_limits import MessageLimits, has_line_break
from store.models import CHANNELS, Campaign, Message
from store.period import Period
from store.templates import SAMPLE_PERSON, Personaliser, check_template

_SMS_ALPHA_SENDER = re.compile(r"^[A-Za-z0-9]{1,11}$")
_SMS_NUMBER_SENDER = re.compile(r"^\+?[0-9]{3,15}$")
MAX_NAME = 200


def normalise_channel(channel: str) -> str:
    value = (channel or "").strip().lower()
    if value not in CHANNELS:
        raise BadInput(f"unknown channel {channel!r}: choose sms, email or push")
    return value


def check_sender(channel: str, sender: str) -> str:
    """The sender name, trimmed; an SMS sender is at most 11 letters and digits, or a phone number."""
    value = (sender or "").strip()
    if not value:
        raise BadInput("the sender name is missing")
    if not value.isprintable():  # it becomes the From header's name: no line breaks, no control characters
        raise BadInput("the sender name must be on one line, without control characters")
    if channel == "sms" and not (_SMS_ALPHA_SENDER.match(value) or _SMS_NUMBER_SENDER.match(value)):
        raise BadInput(
            f"SMS sender {value!r} must be at most 11 letters and digits (no spaces), or a phone number"
        )
    if len(value) > 100:
        raise BadInput("the sender name is longer than 100 characters")
    return value


def check_content(fields: dict[str, Any], limits: MessageLimits | None = None) -> dict[str, Any]:
    """Validates a draft's content (`CONTENT_FIELDS`); returns it cleaned. BadInput says why not."""
    return _check_fields(fields, limits)


def _check_fields(fields: dict[str, Any], limits: MessageLimits | None = None) -> dict[str, Any]:
    """Validates the content of a draft; returns it cleaned."""
    clean = dict(fields)
    clean["channel"] = normalise_channel(clean["channel"])
    name = (clean.get("name") or "").strip()
    if not name:
        raise BadInput("the campaign name is missing")
    if len(name) > MAX_NAME:
        raise BadInput(f"the campaign name is longer than {MAX_NAME} characters")
    clean["name"] = name
    clean["sender"] = check_sender(clean["channel"], clean.get("sender") or "")
    body = clean.get("body") or ""
    if not body.strip():
        raise BadInput("the message body is missing")
    check_template(body, "body")
    for key in ("subject", "coupon"):
        value = clean.get(key)
        clean[key] = value.strip() or None if isinstance(value, str) else None
    what = "title" if clean["channel"] == "push" else "subject"
    if clean["subject"] and has_line_break(clean["subject"]):
        raise BadInput(f"the {what} must be on one line")
    if clean["subject"]:
        check_template(clean["subject"], what)
    clean["open_tracking"] = bool(clean.get("open_tracking", True))
    clean["language"] = check_language(clean.get("language"))
    _check_sample(clean, limits or MessageLimits())
    return clean


def check_language(language: str | None) -> str | None:
    """An email's footer language (senders.wording): `it` or `en`; empty or None: the center's."""
    from store.config import LANGUAGES

    value = (language or "").strip().lower()
    if not value:
        return None
    if value not in LANGUAGES:
        choices = " or ".join(LANGUAGES)
        raise BadInput(f"unknown language {language!r}: choose {choices}")
    return value


def _check_sample(clean: dict[str, Any], limits: MessageLimits) -> None:
    """The message as a sample recipient gets it, within its channel's limits (store.message_limits)."""
    personalise = Personaliser(clean["body"], clean["subject"], clean["coupon"], clean["channel"], limits)
    personalise(*SAMPLE_PERSON)  # raises TemplateError with the reason


# What a draft's author sets; `open_tracking` and `language` only change emails (schema 10).
CONTENT_FIELDS = ("channel", "name", "sender", "subject", "coupon", "body", "open_tracking", "language")


def create_campaign(
    *,
    channel: str,
    name: str,
    sender: str,
    body: str,
    subject: str | None = None,
    coupon: str | None = None,
    open_tracking: bool = True,
    language: str | None = None,
    now: datetime | None = None,
    limits: MessageLimits | None = None,
) -> Campaign:
    """A new draft."""
    fields = _check_fields(
        {
            "channel": channel,
            "name": name,
            "sender": sender,
            "body": body,
            "subject": subject,
            "coupon": coupon,
            "open_tracking": open_tracking,
            "language": language,
        },
        limits,
    )
    now = now or utcnow()
    return Campaign.create(**fields, state=DRAFT, created_at=now, updated_at=now)


def get_campaign(campaign_id: int) -> Campaign:
    campaign = Campaign.get_or_none(Campaign.id == campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign has id {campaign_id}")
    return campaign


def edit_campaign(campaign_id: int, limits: MessageLimits | None = None, **changes: Any) -> Campaign:
    """Changes the given content fields of a draft; refused once the campaign is queued."""
    campaign = editable_draft(campaign_id)
    given = {k: v for k, v in changes.items() if k in CONTENT_FIELDS and v is not None}
    if not given:
        raise BadInput(
            "nothing to change: give --name, --sender, --subject, --coupon, --body, --language "
            "or --open-tracking / --no-open-tracking"
        )
    changes_channel = "channel" in given and normalise_channel(given["channel"]) != campaign.channel
    if changes_channel and Message.select().where(Message.campaign == campaign).exists():
        raise InvalidState(
            f"campaign {campaign_id} already has recipients for {campaign.channel.upper()}; "
            "its channel cannot change"
        )
    merged = {f: getattr(campaign, f) for f in CONTENT_FIELDS} | given
    clean = _check_fields(merged, limits)
    if campaign.variant_body is not None:  # B goes by the same channel, sender and coupon: checked again
        b = clean | {"body": campaign.variant_body}
        if campaign.variant_subject is not None:
            b["subject"] = campaign.variant_subject
        try:
            _check_fields(b, limits)
        except BadInput as exc:
            raise type(exc)(f"variant B: {exc} (edit --variant b, or --variant b --remove)") from None
    return save_draft(campaign_id, clean)


def editable_draft(campaign_id: int) -> Campaign:
    """The campaign, when it may be edited: a draft; InvalidState says why not."""
    campaign = get_campaign(campaign_id)
    if not can_edit(campaign.state):
        raise InvalidState(
            f"campaign {campaign_id} is {campaign.state}; only drafts can be edited "
            f"(clone it to make a new draft)"
        )
    return campaign


def save_draft(campaign_id: int, fields: dict[str, Any]) -> Campaign:
    """Writes checked fields of a draft, only while it is still one: a Send Now in between must not be
    undone by the edit."""
    changed = (
        Campaign.update(**fields, updated_at=utcnow())
        .where((Campaign.id == campaign_id) & Campaign.state.in_(EDITABLE))
        .execute()
    )
    if not changed:
        raise InvalidState(f"campaign {campaign_id} was queued meanwhile; only drafts can be edited")
    return get_campaign(campaign_id)


def campaigns_in_period(period: Period) -> list[Campaign]:
    """The campaigns created, or sending or sent, in the period; newest first."""
    query = Campaign.select().where(_in_period(period))
    return list(query.order_by(Campaign.created_at.desc(), Campaign.id.desc()))


def _in_period(period: Period) -> Any:
    start, end = period.utc_bounds()
    created = (Campaign.created_at >= start) & (Campaign.created_at < end)
    sent = (
        Campaign.first_sent_at.is_null(False)
        & (Campaign.first_sent_at < end)
        & (Campaign.last_sent_at.is_null() | (Campaign.last_sent_at >= start))
    )
    return created | sent


def campaign_listing(period: Period, name_filter: str = "") -> tuple[list[int], int]:
    """The ids of the period's campaigns whose name holds `name_filter` (any case), newest first, and
    how many campaigns the period has in all: cheap for 10,000, so the summary pages the rest."""
    query = (
        Campaign.select(Campaign.id, Campaign.name)
        .where(_in_period(period))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    )
    found = list(rows_of(query))
    wanted = name_filter.strip().casefold()
    return [i for i, name in found if wanted in name.casefold()], len(found)


def campaigns_by_ids(ids: list[int]) -> list[Campaign]:
    """The campaigns, in the order of `ids`."""
    if not ids:
        return []
    found = {c.id: c for c in Campaign.select().where(Campaign.id.in_(ids))}
    return [found[i] for i in ids if i in found]
