"""What Send Now would do with a campaign's pending recipients: sent, or skipped and why.

The verdicts are the claim's own (store.eligibility), counted without changing anything."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from store.clock import utcnow
from store.db import database
from store.eligibility import (
    DUPLICATE,
    OPTED_OUT,
    PENDING_COLUMNS,
    PENDING_JOINS,
    SEND,
    SUPPRESSED,
    WILL_FAIL,
    Eligibility,
    Pending,
    pending_of,
)
from store.message_limits import MessageLimits
from store.models import Campaign
from store.templates import bare_names

if TYPE_CHECKING:
    from store.campaign_view import CampaignView


@dataclass(frozen=True)
class Forecast:
    pending: int
    will_send: int
    skipped_window: int  # the same body went to the same address within the window
    skipped_opted_out: int  # consent withdrawn, or the address unsubscribed, since they were added
    window: str
    will_fail: int = 0  # their own message cannot be made: over the channel's limits, or does not render
    blank_names: int = 0  # of those sent, how many lack a name the message prints bare ("Ciao ,")
    bare_names: tuple[str, ...] = ()  # the name placeholders the message prints bare
    skipped_suppressed: int = 0  # on the suppression list (a hard bounce, a provider's code, by hand)
    suppressed_by_reason: dict[str, int] = field(default_factory=dict)

    def will_fail_note(self) -> str:
        """One line about recipients whose own message cannot go, or nothing."""
        if not self.will_fail:
            return ""
        who = "one recipient's message" if self.will_fail == 1 else f"{self.will_fail:,} recipients' messages"
        return (
            f"{who} cannot be made (too long for the channel once their names are in, or a template "
            "that fails for them): each fails alone, with the reason, when the campaign is sent."
        )

    def suppressed_note(self) -> str:
        """One line about recipients on the suppression list, with why, or nothing."""
        if not self.skipped_suppressed:
            return ""
        why = ", ".join(f"{count:,} {reason}" for reason, count in self.suppressed_by_reason.items())
        who = "one is" if self.skipped_suppressed == 1 else f"{self.skipped_suppressed:,} are"
        return f"{who} on the suppression list ({why}), so skipped: campaigns suppressions list shows them."

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


_PAGE = 10_000  # pending messages judged at a time: a draft may hold 100,000 or more


def forecast(
    campaign: Campaign, window: str = "7d", now: datetime | None = None, limits: MessageLimits | None = None
) -> Forecast:
    """What a claim would do now with each of the campaign's pending messages (store.eligibility)."""
    policy = Eligibility(campaign, window, now or utcnow(), limits)
    used = bare_names(campaign.body) | (bare_names(campaign.subject) if campaign.subject else frozenset())
    counts: Counter[str] = Counter()
    suppressed: Counter[str] = Counter()
    blank = 0
    for page in pending_pages(campaign.id):
        verdicts = policy.judge(page)
        counts.update(v.outcome for v in verdicts)
        suppressed.update(v.reason or "" for v in verdicts if v.outcome == SUPPRESSED)
        blank += _blank_names(used, [p for p, v in zip(page, verdicts, strict=True) if v.outcome == SEND])
    return Forecast(
        pending=counts.total(),
        will_send=counts[SEND],
        skipped_window=counts[DUPLICATE],
        skipped_opted_out=counts[OPTED_OUT],
        window=window,
        will_fail=counts[WILL_FAIL],
        blank_names=blank,
        bare_names=tuple(sorted(used)),
        skipped_suppressed=counts[SUPPRESSED],
        suppressed_by_reason=dict(suppressed.most_common()),
    )


def pending_pages(campaign_id: int) -> Iterator[list[Pending]]:
    """The campaign's pending messages, a page at a time, by id (the claim's order)."""
    p = database.param
    after = 0
    while True:
        rows = database.execute_sql(
            f"SELECT {PENDING_COLUMNS} FROM message m {PENDING_JOINS} WHERE m.campaign_id = {p} "
            f"AND m.state = 'pending' AND m.id > {p} ORDER BY m.id LIMIT {p}",
            [campaign_id, after, _PAGE],
        ).fetchall()
        if not rows:
            return
        yield [pending_of(r) for r in rows]
        after = rows[-1][0]


def _blank_names(used: frozenset[str], sent: list[Pending]) -> int:
    first, last = "first_name" in used, "last_name" in used
    return sum(1 for p in sent if (first and not p.first_name.strip()) or (last and not p.last_name.strip()))


def send_now_check(
    campaign_id: int, window: str = "7d", limits: MessageLimits | None = None
) -> tuple[CampaignView, Forecast]:
    """The draft and what Send Now would do with it now: what the Send Now question says, read at once."""
    from store.campaign_view import CampaignView
    from store.campaigns import get_campaign

    campaign = get_campaign(campaign_id)
    return CampaignView.of(campaign), forecast(campaign, window, None, limits)
