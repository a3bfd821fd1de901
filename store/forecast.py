"""What Send Now would do with a campaign's pending recipients: sent, or skipped and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import JOIN, chunked

from store.clock import utcnow
from store.errors import TemplateError
from store.message_limits import MessageLimits
from store.models import Campaign, Contact, Message, SentLedger
from store.templates import Personaliser, bare_names
from store.window import body_hash, parse_window

_ADDRESSES_PER_QUERY = 900


@dataclass(frozen=True)
class Forecast:
    pending: int
    will_send: int
    skipped_window: int  # the same body went to the same address within the window
    skipped_opted_out: int  # consent withdrawn since they were added
    window: str
    will_fail: int = 0  # their own message cannot be made: over the channel's limits, or does not render
    blank_names: int = 0  # of those sent, how many lack a name the message prints bare ("Ciao ,")
    bare_names: tuple[str, ...] = ()  # the name placeholders the message prints bare

    def will_fail_note(self) -> str:
        """One line about recipients whose own message cannot go, or nothing."""
        if not self.will_fail:
            return ""
        who = "one recipient's message" if self.will_fail == 1 else f"{self.will_fail:,} recipients' messages"
        return (
            f"{who} cannot be made (too long for the channel once their names are in, or a template "
            "that fails for them): each fails alone, with the reason, when the campaign is sent."
        )

    def blank_names_note(self) -> str:
        """One line about recipients whose greeting reads empty, or nothing."""
        if not self.blank_names:
            return ""
        shown = " or ".join(f"{{{{ {name} }}}}" for name in self.bare_names)
        who = "one has" if self.blank_names == 1 else f"{self.blank_names:,} have"
        return (
            f'{who} no name for {shown}, which reads empty for them ("Ciao ,"); '
            f"{{{{ {self.bare_names[0]} or 'Gentile paziente' }}}} gives a fallback."
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rendered_hashes(
    campaign: Campaign, people: list[tuple[str, str]], limits: MessageLimits | None = None
) -> list[str | None]:
    """The body hash each (first_name, last_name) gets, as the send engine will compute it; None for
    those whose message the engine will fail instead (store.message_limits)."""
    personalise = Personaliser(campaign.body, campaign.subject, campaign.coupon, campaign.channel, limits)
    found: list[str | None] = []
    for first, last in people:
        try:
            found.append(body_hash(personalise(first, last)[0]))
        except TemplateError:
            found.append(None)
    return found


def recently_sent(channel: str, addresses: list[str], since: datetime) -> set[tuple[str, str]]:
    """(address, body hash) pairs the ledger holds for these addresses since `since`."""
    found: set[tuple[str, str]] = set()
    for batch in chunked(addresses, _ADDRESSES_PER_QUERY):
        query = SentLedger.select(SentLedger.address, SentLedger.body_hash).where(
            (SentLedger.channel == channel) & (SentLedger.sent_at >= since) & SentLedger.address.in_(batch)
        )
        found.update(query.tuples())
    return found


def forecast(
    campaign: Campaign, window: str = "7d", now: datetime | None = None, limits: MessageLimits | None = None
) -> Forecast:
    now = now or utcnow()
    rows = list(
        Message.select(Message.address, Message.first_name, Message.last_name, Contact.consent)
        .join(Contact, JOIN.LEFT_OUTER, on=(Message.contact == Contact.id))
        .where((Message.campaign == campaign.id) & (Message.state == "pending"))
        .tuples()
    )
    reachable = [row for row in rows if row[3] is not False]  # None: no contact behind the address
    opted_out = len(rows) - len(reachable)
    span = parse_window(window)
    hashes = rendered_hashes(campaign, [(r[1], r[2]) for r in reachable], limits)
    failing = sum(1 for h in hashes if h is None)
    reachable_hashes = [(r, h) for r, h in zip(reachable, hashes, strict=True) if h is not None]
    reachable = [r for r, _h in reachable_hashes]
    if span > timedelta(0) and reachable:
        sent = recently_sent(campaign.channel, [r[0] for r in reachable], now - span)
        windowed = {r[0] for r, h in reachable_hashes if (r[0], h) in sent}
        reachable = [r for r in reachable if r[0] not in windowed]
    used = bare_names(campaign.body) | (bare_names(campaign.subject) if campaign.subject else frozenset())
    return Forecast(
        pending=len(rows),
        will_send=len(reachable),
        skipped_window=len(rows) - opted_out - failing - len(reachable),
        skipped_opted_out=opted_out,
        window=window,
        will_fail=failing,
        blank_names=_blank_names(used, reachable),
        bare_names=tuple(sorted(used)),
    )


def _blank_names(used: frozenset[str], rows: list[tuple[Any, ...]]) -> int:
    first, last = "first_name" in used, "last_name" in used
    return sum(1 for r in rows if (first and not (r[1] or "").strip()) or (last and not (r[2] or "").strip()))
