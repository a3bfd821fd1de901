"""Who gets a campaign's message: one policy for the Send Now forecast and for the send engine's claim.

A pending message is judged, in this order:

- `skipped_opted_out`: its contact withdrew consent, or its address is on the opt-out list (an
  unsubscribe through any campaign's link, with or without a contact behind the address);
- `skipped_suppressed`: its address is on the suppression list (store.suppressions: a hard bounce, a
  provider's permanent code, a dead push token, or by hand);
- `will_fail`: its own message cannot be made (store.templates.Personaliser says why);
- `skipped_duplicate`: the same rendered body went to the same address within the window, by the sent
  ledger or by a message of the channel in flight (claimed, no answer yet);
- `send`.

The forecast counts the verdicts, read-only; the claim applies them under its lock. Both read the same
facts the same way, so what Send Now says is what the engine does, unless the facts change in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from store.bulk import select_in, sql_value, stored_time
from store.db import database
from store.errors import TemplateError
from store.message_limits import MessageLimits
from store.models import Campaign
from store.templates import Personaliser
from store.window import body_hash, parse_window

SEND = "send"
OPTED_OUT = "skipped_opted_out"
SUPPRESSED = "skipped_suppressed"
DUPLICATE = "skipped_duplicate"
WILL_FAIL = "will_fail"

# What a pending message is judged by, for a query over `message m` (see `pending_of`). The opt-out list
# holds unsubscribes whose message had no contact (a pasted address), which no consent flag records.
PENDING_COLUMNS = (
    "m.id, m.address, m.first_name, m.last_name, "
    "CASE WHEN o.address IS NOT NULL THEN 1 WHEN c.consent IS NULL OR c.consent THEN 0 ELSE 1 END, "
    "s.reason, m.variant"
)
PENDING_JOINS = (
    "LEFT JOIN contact c ON c.id = m.contact_id LEFT JOIN opt_out o ON o.address = m.address "
    "LEFT JOIN suppression s ON s.address = m.address"
)
PENDING_WIDTH = 7  # the columns of PENDING_COLUMNS: what a query selects after them starts here

Key = tuple[str, str | None]  # (address, body hash): what the window compares


@dataclass(frozen=True)
class Pending:
    """A pending message as the policy sees it."""

    id: int
    address: str
    first_name: str
    last_name: str
    opted_out: bool  # consent withdrawn, or the address unsubscribed
    suppressed: str | None = None  # why the address is on the suppression list
    variant: str | None = None  # b: it gets the campaign's second body (store.experiments)


def pending_of(row: Sequence[Any]) -> Pending:
    """The `Pending` of a row whose first columns are `PENDING_COLUMNS`."""
    message_id, address, first_name, last_name, opted_out, suppressed, variant = row[:PENDING_WIDTH]
    return Pending(
        message_id, address, first_name or "", last_name or "", bool(opted_out), suppressed, variant
    )


@dataclass(frozen=True)
class Verdict:
    """What becomes of one pending message now."""

    message_id: int
    outcome: str  # SEND, OPTED_OUT, SUPPRESSED, DUPLICATE, WILL_FAIL
    body: str | None = None  # rendered: SEND and DUPLICATE
    subject: str | None = None  # rendered email subject or push title, when the campaign has one
    body_hash: str | None = None
    when: datetime | None = None  # DUPLICATE: when the same message went out (or is going)
    reason: str | None = None  # WILL_FAIL: why this recipient's message cannot be made; SUPPRESSED: why


class Eligibility:
    """The policy for one campaign at one moment: `judge` gives each pending message its verdict."""

    def __init__(
        self, campaign: Campaign, window: str, now: datetime, limits: MessageLimits | None = None
    ) -> None:
        self.channel = campaign.channel
        self.now = now
        self.span = parse_window(window)
        self.personalise = Personaliser(
            campaign.body, campaign.subject, campaign.coupon, campaign.channel, limits
        )
        self.personalise_b = self.personalise
        if campaign.variant_body is not None:  # an A/B test: B's own body, and subject when it has one
            subject = campaign.variant_subject if campaign.variant_subject is not None else campaign.subject
            self.personalise_b = Personaliser(
                campaign.variant_body, subject, campaign.coupon, campaign.channel, limits
            )

    def judge(self, pending: Sequence[Pending]) -> list[Verdict]:
        """A verdict for each message, in the order given. Reads the ledger and the messages in flight."""
        verdicts = [self._made(p) for p in pending]
        made = {
            (p.address, v.body_hash): i
            for i, (p, v) in enumerate(zip(pending, verdicts, strict=True))
            if v.outcome == SEND
        }
        for key, when in self._already_sent(made).items():
            verdicts[made[key]] = replace(verdicts[made[key]], outcome=DUPLICATE, when=when)
        return verdicts

    def _made(self, pending: Pending) -> Verdict:
        """The verdict before the window: opted out, or its message made, or why it cannot be."""
        if pending.opted_out:
            return Verdict(pending.id, OPTED_OUT)
        if pending.suppressed:
            return Verdict(pending.id, SUPPRESSED, reason=pending.suppressed)
        try:
            personalise = self.personalise_b if pending.variant == "b" else self.personalise
            body, subject = personalise(pending.first_name, pending.last_name)
        except TemplateError as exc:
            return Verdict(pending.id, WILL_FAIL, reason=str(exc))
        return Verdict(pending.id, SEND, body, subject, body_hash(body))

    def _already_sent(self, wanted: dict[Key, int]) -> dict[Key, datetime]:
        """Of these (address, body hash) pairs, those the window forbids, with when the same message went
        out (or is going)."""
        if self.span <= timedelta(0) or not wanted:
            return {}
        sent = select_in(
            "SELECT address, body_hash, sent_at FROM sent_ledger WHERE channel = ? AND sent_at >= ? "
            "AND address IN ({})",
            sorted({address for address, _digest in wanted}),
            before=(self.channel, self.now - self.span),
        )
        # In flight: claimed by an engine, no answer yet. Few rows, found campaign by campaign through the
        # (campaign, state) index; an address list here would make SQLite scan every message ever sent.
        # Past its lease a message is an engine's that stopped: the claim takes it back (and sends it again),
        # so neither counts it.
        p = database.param
        in_flight = database.execute_sql(
            "SELECT address, body_hash, lease_until FROM message WHERE state = 'sending' AND campaign_id IN "
            f"(SELECT id FROM campaign WHERE channel = {p}) AND lease_until >= {p}",
            [self.channel, sql_value(self.now)],
        )
        seen: dict[Key, datetime] = {}
        for address, digest, when in [*sent, *in_flight]:
            if (address, digest) in wanted and (address, digest) not in seen:
                seen[address, digest] = stored_time(when) or self.now
        return seen
