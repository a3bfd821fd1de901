"""Time in the store: naive UTC datetimes, and the center's time zone every time is shown and typed in.

The database keeps naive UTC. What an admin reads or types is in the center's zone (`[center] timezone`,
issue 18), set once when the configuration is loaded (`use_center_zone`); `--json` prints ISO 8601 with
that zone's offset. Tests move the clock with `shift_clock` instead of sleeping for hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

HORIZON = timedelta(days=366)  # the furthest ahead a campaign is scheduled
_center: tzinfo = UTC
_shift = timedelta(0)


class WhenError(ValueError):
    """A time typed by the admin that cannot be read; the message says why in one line."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) + _shift


def shift_clock(by: timedelta) -> None:
    """Moves this process's clock (and, for PostgreSQL, what it reads of the database's) by `by`:
    a test's way to reach 20:00 or next Monday without waiting for it."""
    global _shift
    _shift = by


def clock_shift() -> timedelta:
    return _shift


def use_center_zone(name: str) -> None:
    """Every time shown or typed from now on is in this IANA zone (checked by the configuration)."""
    global _center
    _center = UTC if name in ("UTC", "Etc/UTC") else ZoneInfo(name)


def center_zone() -> tzinfo:
    return _center


def to_utc(moment: datetime) -> datetime:
    """A zone-aware time as naive UTC; a naive one is taken as UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def local(moment: datetime) -> datetime:
    """A stored (naive UTC) time as the center's wall clock shows it, zone-aware."""
    return moment.replace(tzinfo=UTC).astimezone(_center)


def center_today() -> date:
    """Today's date on the center's wall clock."""
    return local(utcnow()).date()


def local_midnight(day: date) -> datetime:
    """The naive UTC moment the center's day begins."""
    return to_utc(datetime.combine(day, time.min, tzinfo=_center))


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in the center's zone with its offset, as --json prints times (`Z` when it is UTC)."""
    if moment is None:
        return None
    return local(moment).isoformat().replace("+00:00", "Z")


def parse_when(text: str) -> datetime:
    """A time the admin typed, ISO 8601 (`2026-12-02T09:30`, `2026-12-02 09:30`, with seconds, with an
    offset or `Z`), as naive UTC: without an offset it is the center's wall clock. A wall-clock time the
    clocks skip (02:30 on the last Sunday of March) is refused; one they show twice is the first."""
    given = text.strip()
    try:
        moment = datetime.fromisoformat(given.replace("z", "Z"))
    except ValueError:
        raise WhenError(f"{given!r} is not a date and time (e.g. 2026-12-02T09:30)") from None
    if len(given) <= 10:  # a date alone is midnight: almost never what an admin means
        raise WhenError(f"{given!r} has no time of day (e.g. {given}T09:30)")
    try:
        if moment.tzinfo is not None:
            found = to_utc(moment)
        else:
            utc = moment.replace(tzinfo=_center).astimezone(UTC)
            if utc.astimezone(_center).replace(tzinfo=None) != moment:
                raise WhenError(f"{given} does not exist in {zone_name()}: the clocks skip it")
            found = utc.replace(tzinfo=None)
    except OverflowError:  # year 1 or 9999 moved across an offset
        raise WhenError(f"{given!r} is out of range") from None
    if found - utcnow() > HORIZON:
        raise WhenError(f"{given} is more than a year ahead: schedule it nearer the time")
    return found


def zone_name() -> str:
    return str(getattr(_center, "key", None) or "UTC")


def wall_clock(moment: datetime, now: datetime | None = None, relative: bool = True) -> str:
    """A stored time as the admin reads it: `14:30` today, `tomorrow 09:00`, `Thu 3 Dec 09:00` within a
    week, `14 Jan 2027 09:00` beyond; `now` (naive UTC) says which day today is. Not `relative`: no
    "tomorrow" or "yesterday", for a text stored and read later (still right after midnight)."""
    shown, today = local(moment), local(now or utcnow()).date()
    days = (shown.date() - today).days
    if days == 0:
        return f"{shown:%H:%M}"
    if days == 1 and relative:
        return f"tomorrow {shown:%H:%M}"
    if days == -1 and relative:
        return f"yesterday {shown:%H:%M}"
    if 0 < days < 7:
        return f"{shown:%a} {shown.day} {shown:%b %H:%M}"
    if shown.year == today.year:
        return f"{shown.day} {shown:%b %H:%M}"
    return f"{shown.day} {shown:%b %Y %H:%M}"
