"""When a channel may send: its quiet hours and quiet days, in the center's time zone (issue 18).

Quiet hours are a nightly window of local wall-clock time ("20:00-09:00", across midnight or not); quiet
days are whole local days: weekdays ("sun") and dates ("2026-12-25", the center's closing days). A moment is
quiet when it falls in either. Every boundary is computed from the local calendar day it belongs to and
only then turned into UTC, so a change of the clocks neither skips a night's window nor makes two of it:
on the last Sunday of March a 20:00-09:00 window is one hour shorter in UTC, on the last Sunday of October
one hour longer, and each night has exactly one. A boundary that falls in the hour the clocks skip (02:30
on the night of the change) is read as the moment the clocks jump to; one that falls twice (02:30 in
October) as its first.

Pure rules and no database: the send engine, the ETA and the Send Now question all ask this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_HORIZON_DAYS = 400  # a center closed for longer than a year has no next moment to send


class QuietHoursError(ValueError):
    """A quiet-hours setting that cannot be read; the message says which and why, in one line."""


@dataclass(frozen=True)
class QuietHours:
    """A channel's quiet time: a nightly window (None: none), and whole quiet days."""

    zone: ZoneInfo
    window: tuple[time, time] | None = None  # local start and end; the end may be on the next day
    weekdays: frozenset[int] = frozenset()  # 0 = Monday
    dates: frozenset[date] = frozenset()

    @property
    def never(self) -> bool:
        """No quiet time at all: the channel may always send."""
        return self.window is None and not self.weekdays and not self.dates

    def is_quiet(self, moment: datetime) -> bool:
        """Whether this moment (naive UTC, as the database keeps times) is quiet."""
        if self.never:
            return False
        local = _local(moment, self.zone)
        if self._quiet_day(local.date()):
            return True
        return any(start <= moment < end for start, end in self._windows_around(local.date()))

    def quiet_until(self, moment: datetime) -> datetime | None:
        """When the quiet time the moment is in ends (naive UTC), consecutive quiet times taken as one
        (Saturday night, a quiet Sunday and Sunday night end on Monday morning); None when it is not
        quiet. The end of the horizon when it never ends."""
        if not self.is_quiet(moment):
            return None
        for boundary in self._boundaries_after(moment):
            if not self.is_quiet(boundary):
                return boundary
        return moment + timedelta(days=_HORIZON_DAYS)

    def next_quiet(self, moment: datetime) -> datetime | None:
        """When the next quiet time starts (naive UTC): the moment itself when it is quiet; None when the
        channel has none."""
        if self.never:
            return None
        if self.is_quiet(moment):
            return moment
        for boundary in self._boundaries_after(moment):
            if self.is_quiet(boundary):
                return boundary
        return None

    def _quiet_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays or day in self.dates

    def _windows_around(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        """The nightly windows that may hold a moment of this local day: the one starting the day before
        (it may run past midnight) and the day's own, as naive UTC."""
        for start_day in (day - timedelta(days=1), day):
            window = self._window_of(start_day)
            if window is not None:
                yield window

    def _window_of(self, start_day: date) -> tuple[datetime, datetime] | None:
        if self.window is None:
            return None
        start, end = self.window
        end_day = start_day + timedelta(days=1) if end <= start else start_day
        return _utc(start_day, start, self.zone), _utc(end_day, end, self.zone)

    def _boundaries_after(self, moment: datetime) -> Iterator[datetime]:
        """Every moment after `moment` where quiet may begin or end, in order, up to the horizon: each local
        day's midnight, and the window edges that fall within that day."""
        first = _local(moment, self.zone).date()
        for offset in range(_HORIZON_DAYS + 1):
            day = first + timedelta(days=offset)
            low, high = _utc(day, time(0), self.zone), _utc(day + timedelta(days=1), time(0), self.zone)
            found = {low}
            for start_day in (day - timedelta(days=1), day):
                window = self._window_of(start_day)
                found.update(edge for edge in window or () if low <= edge < high)
            yield from sorted(edge for edge in found if edge > moment)


def quiet_hours(
    zone: str, window: str = "", days: Iterable[str] = (), where: str = "quiet_hours", days_where: str = ""
) -> QuietHours:
    """Reads the settings: a zone name (`Europe/Rome`), a window (`"20:00-09:00"`, "" for none) and quiet
    days (`"sun"`, `"2026-12-25"`). Raises QuietHoursError naming `where` (`days_where` for a day)."""
    weekdays, dates = set(), set()
    for day in days:
        text = str(day).strip().lower()
        if text[:3] in WEEKDAYS and text in (text[:3], _full_name(text[:3])):
            weekdays.add(WEEKDAYS.index(text[:3]))
            continue
        try:
            dates.add(date.fromisoformat(text))
        except ValueError:
            raise QuietHoursError(
                f"{days_where or where}: {day!r} is neither a weekday (mon … sun) nor a date (2026-12-25)"
            ) from None
    return QuietHours(center_zone(zone), parse_window(window, where), frozenset(weekdays), frozenset(dates))


CHANNELS = ("email", "sms", "push")


class ChannelSettings(Protocol):
    @property
    def quiet_hours(self) -> str: ...
    @property
    def quiet_days(self) -> tuple[str, ...]: ...


class CenterSettings(Protocol):
    @property
    def timezone(self) -> str: ...
    @property
    def email(self) -> ChannelSettings: ...
    @property
    def sms(self) -> ChannelSettings: ...
    @property
    def push(self) -> ChannelSettings: ...


def channel_quiet_hours(config: CenterSettings) -> dict[str, QuietHours]:
    """Each channel's quiet time from the configuration (`[sms] quiet_hours`, `quiet_days`, in
    `[center] timezone`); QuietHoursError names the key that cannot be read."""
    found = {}
    for channel in CHANNELS:
        settings = getattr(config, channel)
        found[channel] = quiet_hours(config.timezone, settings.quiet_hours, settings.quiet_days,
                                     f"[{channel}] quiet_hours", f"[{channel}] quiet_days")  # fmt: skip
    return found


def quiet_channels(rules: Mapping[str, QuietHours], now: datetime) -> frozenset[str]:
    """The channels in quiet time at `now` (naive UTC, the database's clock)."""
    return frozenset(channel for channel, quiet in rules.items() if quiet.is_quiet(now))


def resting_says(quiet: QuietHours, now: datetime) -> str:
    """Why a campaign of a quiet channel waits, as the admin reads it: "quiet hours until 09:00" (today),
    "quiet hours until Wed 2 Dec 09:00"."""
    from store.clock import wall_clock

    until = quiet.quiet_until(now)  # stored and read later: a date rather than "tomorrow"
    return f"quiet hours until {wall_clock(until, now, relative=False)}" if until else "quiet hours"


def test_note(quiet: QuietHours, channel: str, now: datetime) -> str | None:
    """What a test sent during the channel's quiet hours says: it went anyway; a campaign would wait."""
    if not quiet.is_quiet(now):
        return None
    return f"{channel.upper()} quiet hours do not apply to a test: it went now ({resting_says(quiet, now)})."


def quiet_note(config: CenterSettings, channel: str) -> str | None:
    """`test_note` for the channel now, by the database's clock: what a test send says."""
    from store.db import database_now

    return test_note(channel_quiet_hours(config)[channel], channel, database_now())


def parse_window(text: str, where: str = "quiet_hours") -> tuple[time, time] | None:
    """`"20:00-09:00"` as (20:00, 09:00); "" or "none" as None."""
    if not text.strip() or text.strip().lower() == "none":
        return None
    found = _WINDOW.match(text)
    if found is None:
        raise QuietHoursError(f'{where} must be "HH:MM-HH:MM" (e.g. "20:00-09:00"), not {text!r}')
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in found.groups())
    if start_hour > 23 or end_hour > 24 or start_minute > 59 or end_minute > 59:
        raise QuietHoursError(f"{where}: {text!r} is not a time of day")
    if end_hour == 24 and end_minute:
        raise QuietHoursError(f"{where}: {text!r} is not a time of day")
    start, end = time(start_hour, start_minute), time(0) if end_hour == 24 else time(end_hour, end_minute)
    if start == end:
        raise QuietHoursError(f"{where}: {text!r} starts and ends at the same time")
    return start, end


def center_zone(name: str) -> ZoneInfo:
    """The center's time zone by its IANA name; QuietHoursError for a name the system does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QuietHoursError(
            f"[center] timezone: {name!r} is not a time zone name (e.g. Europe/Rome)"
        ) from None


def _full_name(short: str) -> str:
    return {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
            "sat": "saturday", "sun": "sunday"}[short]  # fmt: skip


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """A naive UTC moment as the center's wall clock shows it."""
    return moment.replace(tzinfo=UTC).astimezone(zone)


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The naive UTC moment of a local wall-clock time; one the clocks skip is the moment they jump to,
    one they show twice its first."""
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the first of two, the offset before a gap
    moment = local.astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):  # in the skipped hour
        moment = (local.replace(fold=1)).astimezone(UTC)
        moment = max(moment, _gap_end(local, zone))
    return moment.replace(tzinfo=None)


def _gap_end(local: datetime, zone: ZoneInfo) -> datetime:
    """The UTC moment the clocks jump at, for a local time inside the skipped hour."""
    before = local.replace(fold=0).astimezone(UTC)
    after = local.replace(fold=1).astimezone(UTC)
    low, high = min(before, after), max(before, after)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)
