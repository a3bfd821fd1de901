"""The summary's rows: each campaign's cells in the table, and the line about the highlighted one."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rich.text import Text

from store import lifecycle
from store.clock import center_zone, local, utcnow
from store.figures import CampaignFigures
from tui.dialogs.send_now import when_said
from tui.textout import escape, plain, plural

STATE_STYLES = {
    lifecycle.DRAFT: "dim",
    lifecycle.SCHEDULED: "magenta",
    lifecycle.QUEUED: "cyan",
    lifecycle.SENDING: "bold green",
    lifecycle.PAUSED: "yellow",
    lifecycle.SENT: "",
    lifecycle.COMPLETED: "green",
    lifecycle.CANCELLED: "red",
}
# (key, label, width); the name column takes what is left of the screen's width.
COLUMNS = (
    ("id", "#", 5),
    ("name", "Name", 0),
    ("channel", "Chan.", 6),
    ("state", "State", 10),
    ("recipients", "Recips", 8),
    ("sent", "Sent", 8),
    ("opened", "Open", 6),
    ("clicked", "Click", 6),
    ("conversion", "Conv.", 6),
    ("created", "Created", 8),  # the rows' order: newest first
)
MIN_NAME_WIDTH = 12


def count(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    return f"{value:,}"


def percent(rate: float | None) -> str:
    if rate is None:
        return "–"
    return f"{rate * 100:.0f}%" if rate >= 0.1 else f"{rate * 100:.1f}%"


def local_day(moment: datetime | None) -> str:
    """A stored (naive UTC) time as the center's day."""
    if moment is None:
        return ""
    return local(moment).strftime("%d %b")


def noon_of(today: date | None) -> datetime | None:
    """A moment (naive UTC) of the center's day `today`: what "today" and "tomorrow" are said from (a
    summary opened on a given day, as the tests do); None: the clock's."""
    if today is None:
        return None
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=center_zone())
    return noon.astimezone(UTC).replace(tzinfo=None)


def goes_at(moment: datetime, now: datetime | None = None) -> str:
    """When a scheduled campaign goes, in 9 characters at most (the State column): "at 09:30" today,
    "Thu 09:30" within the week, "14 Jan" beyond (or before: due, not yet taken by an engine), "14 Jan 27"
    in another year."""
    shown, today = local(moment), local(now or utcnow()).date()
    days = (shown.date() - today).days
    if days == 0:
        return f"at {shown:%H:%M}"
    if 0 < days < 7:
        return f"{shown:%a %H:%M}"
    if shown.year == today.year or days < 200:
        return f"{shown.day} {shown:%b}"
    return f"{shown.day} {shown:%b %y}"


def row_cells(figures: CampaignFigures, name_width: int, now: datetime | None = None) -> list[Text]:
    """The cells of one campaign's row; every cell starts with a space, the table has no padding. `now`
    (naive UTC) says which day is today."""
    conversion = figures.conversion
    values = {
        "id": str(figures.id),
        "name": plain(figures.name),
        "channel": figures.channel.upper(),
        "state": (
            goes_at(figures.scheduled_at, now)
            if lifecycle.is_scheduled(figures.state) and figures.scheduled_at is not None
            else figures.state
        ),
        "recipients": count(figures.counts.recipients),
        "sent": count(figures.counts.sent),
        "opened": percent(figures.open_rate),
        "clicked": percent(figures.click_rate),
        "conversion": percent(conversion.rate) if conversion.patients else "–",
        "created": local_day(figures.created_at),
    }
    cells = []
    for key, _label, width in COLUMNS:
        text = values[key]
        room = (name_width if key == "name" else width) - 1
        if len(text) > room:
            text = text[: room - 1] + "…"
        justify = (
            "right" if key in ("id", "recipients", "sent", "opened", "clicked", "conversion") else "left"
        )
        text = text.rjust(room) if justify == "right" else text.ljust(room)
        style = STATE_STYLES.get(figures.state, "") if key == "state" else ""
        cells.append(Text(" " + text, style=style, no_wrap=True))
    return cells


def describe(f: CampaignFigures, now: datetime | None = None) -> str:
    """The line under the table about the highlighted campaign, as markup; `now`, which day is today."""
    counts, opens, conversion = f.counts, f.opens, f.conversion
    parts = [f"#{f.id} {escape(f.name)}", f"{f.channel.upper()} {f.state}"]
    if lifecycle.is_scheduled(f.state) and f.scheduled_at is not None:
        ahead = f.ahead_when_due or 0
        place = (
            f"joins the queue behind {plural(ahead, 'campaign')}" if ahead else "nothing ahead of it so far"
        )
        parts[1] = f"{f.channel.upper()} scheduled for {when_said(f.scheduled_at, now)}"
        parts.insert(2, place)
    parts.append(plural(counts.recipients, "recipient"))
    if counts.sent or counts.failed:
        parts.append(f"{counts.sent:,} sent")
    if counts.delivered:
        parts.append(f"{counts.delivered:,} delivered")
    if counts.failed:
        parts.append(f"{counts.failed:,} failed")
    if opens is not None and counts.sent:
        parts.append(f"{opens.opened:,} opened, {opens.clicked:,} clicked")
    if conversion.patients:
        booked = plural(conversion.reservations, "reservation")
        parts.append(f"{booked} by {plural(conversion.patients, 'patient')}")
    if counts.resent_after_crash:
        parts.append(f"{counts.resent_after_crash:,} may have had it twice (resent after a crash)")
    if f.waiting_reason:
        parts.insert(1, f"waiting: {escape(f.waiting_reason)}")
    if lifecycle.may_have_gone_out(f.state) and not f.final:
        parts.append("figures not final yet")
    return " · ".join(parts)
