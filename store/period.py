"""The reference period of the summary: whole days of the center's calendar, both ends included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from store.clock import center_today, local_midnight
from store.errors import BadInput

DEFAULT_DAYS = 30


def parse_day(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{what} {text!r} is not a date like 2026-11-27") from None


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, today: date | None = None) -> Period:
        today = today or center_today()
        return cls(today - timedelta(days=days - 1), today)

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date | None = None) -> Period:
        """From optional ISO dates; a missing end is today, a missing start 30 days before the end."""
        last = parse_day(end, "the end") if end else (today or center_today())
        first = parse_day(start, "the start") if start else last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            raise BadInput(f"the period starts ({first}) after it ends ({last})")
        return cls(first, last)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def shifted(self, steps: int) -> Period:
        """The period of the same length, `steps` lengths later (earlier when negative)."""
        delta = timedelta(days=self.days * steps)
        return Period(self.start + delta, self.end + delta)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC, from the center's midnights."""
        return local_midnight(self.start), local_midnight(self.end + timedelta(days=1))

    def label(self) -> str:
        if self.start.year == self.end.year:
            return f"{self.start:%d %b} – {self.end:%d %b %Y}"
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"
