"""The suppression list: addresses no campaign reaches again, on any channel, until an admin removes them.

An address goes on it when a provider says it can never be reached (an SMTP 5xx at RCPT that names the
address, an SMS provider's permanent code, a push token the service says is gone) or by hand. The send
engine's claim and every forecast skip it with its reason (store.eligibility), and imports leave it out,
naming the reason. The first reason recorded stays: a later failure does not rewrite why an address
was suppressed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from store.bulk import run_many, select_in, sql_value, stored_time
from store.clock import iso, utcnow
from store.db import database, rows_of, write_transaction
from store.errors import BadInput, NotFound
from store.message_limits import one_line
from store.models import Contact, Suppression

# Short: the picker shows "suppressed: <reason>" in a column of 23 characters at 80 columns.
HARD_BOUNCE = "hard bounce"  # the mail server refused the mailbox for good
INVALID_NUMBER = "bad number"  # the SMS provider says the number does not exist
LANDLINE = "landline"  # the SMS provider says the number cannot take SMS
UNSUBSCRIBED_AT_PROVIDER = "sent STOP"  # the recipient unsubscribed at the SMS provider
DEAD_TOKEN = "app removed"  # the push service says the device token is gone
BY_HAND = "by hand"
REASONS = (HARD_BOUNCE, INVALID_NUMBER, LANDLINE, UNSUBSCRIBED_AT_PROVIDER, DEAD_TOKEN, BY_HAND)

REASON_MAX = 200  # a reason typed by hand is one short line
# What only a phone number looks like: digits and the punctuation people write them with. A push token is
# letters and digits, so one of these is never read as a token.
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]*\d[\d\s().\-/]*")


def shown(reason: str) -> str:
    """How reports, the picker and the details name a suppressed address: `suppressed: hard bounce`."""
    return f"suppressed: {reason}"


@dataclass(frozen=True)
class Entered:
    """An address to put on the list, and why."""

    address: str
    channel: str
    reason: str
    detail: str | None = None  # the provider's words, when a provider put it there
    at: datetime | None = None
    campaign_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class SuppressedAddress:
    """An address on the list, as `campaigns suppressions list` shows it."""

    address: str
    channel: str
    reason: str
    detail: str | None
    at: datetime
    campaign_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address, "channel": self.channel, "reason": self.reason, "detail": self.detail,
            "at": iso(self.at), "campaign_id": self.campaign_id,
        }  # fmt: skip


_INSERT = (
    "INSERT INTO suppression (address, channel, reason, detail, at, campaign_id, message_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (address) DO NOTHING"
)


def suppress(cursor: Any, entries: Sequence[Entered]) -> None:
    """Puts addresses on the list in the caller's transaction; one already there keeps its first reason."""
    if not entries:
        return
    now = utcnow()
    run_many(
        cursor,
        _INSERT.replace("?", database.param),
        [
            (e.address, e.channel, e.reason, e.detail, sql_value(e.at or now), e.campaign_id, e.message_id)
            for e in entries
        ],
    )


WHOLE_LIST_MAX = 20_000  # a list this short is read whole: cheaper than asking for 100,000 addresses


def suppressed_among(addresses: Sequence[str]) -> dict[str, str]:
    """Those of the normalised addresses on the list, with their reason."""
    if not addresses:
        return {}
    size = Suppression.select().count()
    if size == 0:
        return {}
    if size <= WHOLE_LIST_MAX or size < len(addresses):
        listed = dict(rows_of(Suppression.select(Suppression.address, Suppression.reason)))
        return {address: listed[address] for address in addresses if address in listed}
    found = select_in("SELECT address, reason FROM suppression WHERE address IN ({})", list(addresses))
    return {address: reason for address, reason in found}


def list_suppressions(channel: str | None = None) -> list[SuppressedAddress]:
    """The list, the newest first."""
    query = _selected().order_by(Suppression.at.desc(), Suppression.address)
    if channel:
        query = query.where(Suppression.channel == channel)
    return _entries(query)


def address_of(text: str, default_region: str = "IT") -> tuple[str, str]:
    """What an admin typed as (normalised address, channel): an email, a phone number, else a push token.

    Raises BadInput with one line when it is none of them."""
    from store.addresses import InvalidAddress, normalise_email, normalise_phone

    value = text.strip()
    if not value:
        raise BadInput("give an email address, a phone number or a push token")
    try:
        if "@" in value:
            return normalise_email(value), "email"
        if _PHONE_LIKE.fullmatch(value):  # (347) 123-4567, 347.123.4567, +39 347 123 4567
            return normalise_phone(value, default_region), "sms"
    except InvalidAddress as exc:
        raise BadInput(f"{value!r} is not an address: {exc}") from None
    if len(value) > 4096 or not value.isprintable() or " " in value:
        raise BadInput(
            f"{value[:60]!r} is neither an email address, a phone number nor a push token (one word, "
            "printable, at most 4,096 characters)"
        )
    return value, "push"


def add_suppression(text: str, reason: str = "", default_region: str = "IT") -> SuppressedAddress:
    """Puts an address on the list by hand; one already there is left as it was and returned."""
    address, channel = address_of(text, default_region)
    why = one_line(reason).strip() or BY_HAND
    if len(why) > REASON_MAX:
        raise BadInput(f"a reason is one line of at most {REASON_MAX} characters")
    with write_transaction():
        suppress(database.cursor(), [Entered(address, channel, why)])
    return next(s for s in _rows_for(address))


def remove_suppression(text: str, default_region: str = "IT") -> SuppressedAddress:
    """Takes an address off the list: campaigns reach it again (a push token is no longer marked dead on
    the contacts that hold it). Raises NotFound when it is not there."""
    address, channel = address_of(text, default_region)
    with write_transaction():
        found = _rows_for(address)
        if not found:
            raise NotFound(f"{address} is not on the suppression list")
        Suppression.delete().where(Suppression.address == address).execute()
        if channel == "push":
            Contact.update(push_token_dead_at=None).where(Contact.push_token == address).execute()
    return found[0]


def _rows_for(address: str) -> list[SuppressedAddress]:
    return _entries(_selected().where(Suppression.address == address))


def _selected() -> Any:
    return Suppression.select(
        Suppression.address, Suppression.channel, Suppression.reason, Suppression.detail,
        Suppression.at, Suppression.campaign_id,
    )  # fmt: skip


def _entries(query: Any) -> list[SuppressedAddress]:
    return [
        SuppressedAddress(address, kind, reason, detail, stored_time(at) or utcnow(), campaign_id)
        for address, kind, reason, detail, at, campaign_id in rows_of(query)
    ]
