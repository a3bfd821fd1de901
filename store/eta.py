"""The honest ETA: when a campaign will have sent its last message, as Send Now and the details say it.

"ends tomorrow around 11:40, after 2 quiet-hour pauses": the campaign's messages go at its channel's send
rate, none in the channel's quiet hours (store.quiet_hours), and only once the campaigns ahead of it in
the queue (store.queue: the first created first, `lanes` at once) have sent theirs.

The pure part (`finish`, `estimate`, `says`) knows no database; `channel_rate` and `campaign_eta` read
the rate, the queue and the messages left. Times are naive UTC, as the database keeps them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from peewee import SQL, fn

from store.bulk import stored_time
from store.campaigns import get_campaign
from store.config import Config
from store.db import dialect, rows_of
from store.models import Campaign, Message
from store.queue import ahead_of
from store.quiet_hours import QuietHours

LEFT = ("pending", "sending")  # a message in these states has still to go
MEASURED_MESSAGES = 2_000  # the channel's most recent sends a measured rate is taken from
MEASURED_AT_LEAST = 20  # fewer sends measure nothing
MEASURED_SPAN = timedelta(seconds=5)  # nor do sends closer together than this
MEASURED_GAP = timedelta(minutes=5)  # a longer gap between two sends is no sending: quiet, paused, down
MAX_EVENTS = 20_000  # changes of the lanes played forward (ends, quiet hours) before giving up
ENDLESS = timedelta(days=365)  # a quiet time this long is taken as never ending
ROUNDED_TO = timedelta(minutes=5)  # "around 11:40"
LINE_WIDTH = 70  # what `says` aims at: 80 columns with a prefix of up to 10
UNKNOWN = "no estimate yet: no send rate measured on this channel"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_EPOCH = datetime(2000, 1, 1)


@dataclass(frozen=True)
class Leg:
    """One campaign's remaining work on its channel: its messages left, the channel's rate (None: none
    known) and quiet hours (None: none), and, for a scheduled one, when it joins the queue."""

    messages: int
    per_hour: float | None
    quiet: QuietHours | None
    channel: str = ""  # named when its rate is what is unknown
    not_before: datetime | None = None

    @property
    def unknown(self) -> bool:
        """Work left and no rate to say how long it takes."""
        return self.messages > 0 and not self.per_hour


@dataclass(frozen=True)
class Estimate:
    """When a campaign's first message goes and its last (None: no rate known, or never), and how many
    quiet periods it waits through once started."""

    starts_at: datetime
    ends_at: datetime | None
    pauses: int
    unknown_rate: bool
    unknown_channel: str = ""  # the channel whose rate is unknown, or whose quiet time never ends
    never: bool = False  # its channel's quiet time never ends (quiet every day): it will not finish


# -- the pure part -----------------------------------------------------------------------------------


def estimate(
    start: datetime, ahead: Sequence[Leg], own: Leg, lanes: int = 1, not_before: datetime | None = None
) -> Estimate:
    """The queue played forward from `start` as the engines run it: at each moment the first `lanes`
    legs, in creation order, that have joined the queue (a scheduled one at its time) and whose channel
    is not in its quiet hours send (a quiet channel's campaign holds no lane: those behind it go
    meanwhile, and it takes its lane back when its hours end); `own` not before `not_before` either.
    One step per change of the lanes, whatever the number of messages. Its pauses are the quiet periods
    it waits through once started. Any leg with messages and no rate makes the end unknown."""
    own = replace(own, not_before=max(start, not_before or start, own.not_before or start))
    legs = [*ahead, own]
    for leg in legs:
        if leg.unknown:
            return Estimate(own.not_before or start, None, 0, unknown_rate=True, unknown_channel=leg.channel)
    left = [timedelta(hours=leg.messages / leg.per_hour) if leg.messages > 0 and leg.per_hour else
            timedelta(0) for leg in legs]  # fmt: skip
    mine, moment, started, pauses, was_quiet = len(legs) - 1, start, None, 0, False
    for _ in range(MAX_EVENTS):
        if left[mine] <= timedelta(0):
            return Estimate(started or moment, moment, pauses, unknown_rate=False)
        quiet = [leg.quiet is not None and leg.quiet.is_quiet(moment) for leg in legs]
        if started is not None:
            pauses += quiet[mine] and not was_quiet
            was_quiet = quiet[mine]
        joined = [leg.not_before is None or leg.not_before <= moment for leg in legs]
        sending = [i for i in range(len(legs)) if left[i] > timedelta(0) and not quiet[i] and joined[i]]
        sending = sending[: max(1, lanes)]
        if mine in sending and started is None:
            started = moment
        following = _next_event(moment, legs, left, quiet, sending)
        if following - moment >= ENDLESS:  # nothing changes for a year: it never finishes
            return Estimate(started or moment, None, pauses, False, own.channel, never=True)
        for i in sending:
            left[i] -= following - moment
        moment = following
    return Estimate(started or moment, None, pauses, False, own.channel, never=True)


def _next_event(
    moment: datetime, legs: Sequence[Leg], left: Sequence[timedelta], quiet: Sequence[bool],
    sending: Sequence[int],
) -> datetime:  # fmt: skip
    """The next moment the lanes change: a sending leg ends or its quiet hours begin, a quiet leg's hours
    end, a scheduled leg joins the queue."""
    moments = []
    for i in sending:
        rest = legs[i].quiet
        begins = rest.next_quiet(moment) if rest is not None else None
        moments.append(min(moment + left[i], begins) if begins is not None else moment + left[i])
    for i, leg in enumerate(legs):
        if left[i] <= timedelta(0):
            continue
        if leg.not_before is not None and leg.not_before > moment:
            moments.append(leg.not_before)
        elif quiet[i] and leg.quiet is not None:
            moments.append(leg.quiet.quiet_until(moment) or moment + ENDLESS)
    return min(moments, default=moment + ENDLESS)


def says(estimate: Estimate, now: datetime, zone: ZoneInfo) -> str:
    """The estimate in plain English, in the center's zone: "starts at 09:00, ends tomorrow around 11:40,
    after 2 quiet-hour pauses"; a terser one when that passes `LINE_WIDTH`."""
    if estimate.never:
        channel = estimate.unknown_channel
        return f"it would never end: {channel.upper()} is quiet every day ([{channel}] quiet_days)"
    if estimate.unknown_rate or estimate.ends_at is None:
        channel = estimate.unknown_channel
        if channel:
            return f"no estimate yet: no {channel.upper()} rate measured ([{channel}] rate_per_hour sets one)"
        return UNKNOWN
    line = _line(estimate, estimate.ends_at, now, zone, terse=False)
    return line if len(line) <= LINE_WIDTH else _line(estimate, estimate.ends_at, now, zone, terse=True)


def _line(estimate: Estimate, ends_at: datetime, now: datetime, zone: ZoneInfo, terse: bool) -> str:
    """One wording; the `terse` one names no weekdays and says "after 3 pauses"."""
    weekdays = not terse
    starts = ""
    later = estimate.starts_at - now > timedelta(minutes=1)
    if later and _rounded(estimate.starts_at) != _rounded(ends_at):  # "starts at 10:00, ends around 10:00"
        day, clock = _when(estimate.starts_at, now, zone, weekdays)
        starts = f"starts {day} at {clock}, " if day else f"starts at {clock}, "
    day, clock = _when(ends_at, now, zone, weekdays)
    ends = f"ends {day} around {clock}" if day else f"ends around {clock}"
    return starts + ends + _pauses(estimate.pauses, terse)


def _pauses(count: int, terse: bool) -> str:
    if count <= 0:
        return ""
    kind = "" if terse else "quiet-hour "
    return f", after {count} {kind}pause{'' if count == 1 else 's'}"


def _when(moment: datetime, now: datetime, zone: ZoneInfo, weekdays: bool) -> tuple[str, str]:
    """A moment as its local day ("" today, "tomorrow", "on Thu 3 Dec", "on 14 Jan") and clock ("11:40"),
    rounded to the nearest five minutes."""
    local = _local(_rounded(moment), zone)
    days = (local.date() - _local(now, zone).date()).days
    clock = f"{local:%H:%M}"
    if days == 0:
        return "", clock
    if days == 1:
        return "tomorrow", clock
    date = f"{local.day} {_MONTHS[local.month - 1]}"
    if 1 < days <= 6:
        return (f"on {_DAYS[local.weekday()]} {date}" if weekdays else f"on {date}"), clock
    return (f"on {date} {local.year}" if days > 300 or days < 0 else f"on {date}"), clock


def _rounded(moment: datetime) -> datetime:
    """To the nearest five minutes (half way up); every zone's offset is a multiple of five minutes."""
    steps = math.floor((moment - _EPOCH) / ROUNDED_TO + 0.5)
    return _EPOCH + steps * ROUNDED_TO


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone)


# -- from the database ----------------------------------------------------------------------------------


def channel_rate(channel: str, configured_per_hour: int) -> float | None:
    """Messages an hour on the channel: its configured `rate_per_hour` when set, else measured on the
    last 2,000 sends of its campaign that sent last (through the index on the message's campaign; a
    campaign's messages go at one pace), counting only the time it was sending: a gap of over
    `MEASURED_GAP` (a quiet night, a pause, an outage) is left out. None when too few or too close
    together to say."""
    if configured_per_hour > 0:
        return float(configured_per_hour)
    latest = (
        Campaign.select(Campaign.id)
        .where((Campaign.channel == channel) & Campaign.first_sent_at.is_null(False))
        .order_by(Campaign.first_sent_at.desc(), Campaign.id.desc())
        .limit(1)
        .scalar()
    )
    if latest is None:
        return None
    recent = (
        Message.select(Message.sent_at)
        .where((Message.campaign == latest) & Message.sent_at.is_null(False))
        .order_by(Message.sent_at.desc())
        .limit(MEASURED_MESSAGES)
    )
    times = sorted(moment for (value,) in rows_of(recent) if (moment := stored_time(value)) is not None)
    gaps = [later - earlier for earlier, later in pairwise(times)]
    sending = [gap for gap in gaps if gap <= MEASURED_GAP]
    spent = sum(sending, timedelta(0))
    if len(sending) + 1 < MEASURED_AT_LEAST or spent < MEASURED_SPAN:
        return None
    return len(sending) / spent.total_seconds() * 3600


def campaign_eta(
    campaign_id: int,
    rates: Mapping[str, float | None],
    quiet: Mapping[str, QuietHours],
    lanes: int = 1,
    now: datetime | None = None,
    starts_at: datetime | None = None,
) -> Estimate:
    """The campaign's ETA behind the campaigns before it in the queue's order (`store.queue.ahead_of`:
    queued and sending ones, and scheduled ones from their time), with the rates and quiet hours of each
    one's channel. From `now` (the database's clock by default); the campaign itself not before
    `starts_at` (a scheduled one)."""
    campaign = get_campaign(campaign_id)
    now = now if now is not None else dialect().now()
    ahead = ahead_of(campaign)
    left = _left({campaign_id, *(row[0] for row in ahead)})

    def leg(of: int, channel: str, joins: datetime | None = None) -> Leg:
        return Leg(left.get(of, 0), rates.get(channel), quiet.get(channel), channel, joins)

    legs = [leg(of, channel, joins) for of, channel, joins in ahead]
    return estimate(now, legs, leg(campaign_id, campaign.channel), lanes, not_before=starts_at)


def _left(campaign_ids: set[int]) -> dict[int, int]:
    """Each campaign's messages still to go (pending or sending), in one query."""
    query = (
        Message.select(Message.campaign, fn.COUNT(SQL("*")))  # the (campaign, state) index alone answers
        .where(Message.campaign.in_(sorted(campaign_ids)) & Message.state.in_(LEFT))
        .group_by(Message.campaign)
    )
    return {int(of): int(count) for of, count in rows_of(query)}


# -- as Send Now and the details say it ---------------------------------------------------------------


@dataclass(frozen=True)
class SendEstimate:
    """The ETA of a campaign as the admin reads it, with a warning when it waits through more quiet
    periods than `[center] max_quiet_pauses`."""

    estimate: Estimate
    line: str  # "ends tomorrow around 11:40, after 2 quiet-hour pauses"
    warning: str | None

    def as_document(self) -> dict[str, object]:
        from store.clock import iso

        return {"starts_at": iso(self.estimate.starts_at), "ends_at": iso(self.estimate.ends_at),
                "quiet_pauses": self.estimate.pauses, "says": self.line, "warning": self.warning}  # fmt: skip


def send_estimate(config: Config, campaign_id: int, starts_at: datetime | None = None) -> SendEstimate:
    """The campaign's ETA from the configuration's rates, quiet hours and lanes, by the database's clock:
    what the Send Now dialog, the details and `campaigns send` say."""
    from store.quiet_hours import CHANNELS, center_zone, channel_quiet_hours

    rates = {channel: channel_rate(channel, getattr(config, channel).rate_per_hour) for channel in CHANNELS}
    now = dialect().now()
    found = campaign_eta(campaign_id, rates, channel_quiet_hours(config), config.engine.lanes, now, starts_at)
    line = says(found, now, center_zone(config.timezone))
    warning = None
    if found.never:
        warning = (
            f"its channel never leaves its quiet time: change [{found.unknown_channel}] quiet_days first."
        )
    elif found.ends_at is not None and found.pauses > config.center.max_quiet_pauses:
        warning = (
            f"it waits through {found.pauses} quiet periods before its last message: recipients get it "
            "days apart. Consider a smaller audience, or a higher rate."
        )
    return SendEstimate(found, line, warning)
