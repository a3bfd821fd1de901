"""The summary's rows: each campaign's cells in the table, and the line about the highlighted one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text

from store import lifecycle
from store.clock import center_zone, local, utcnow
from store.figures import CampaignFigures
from tui.dialogs.send_now import when_said
from tui.textout import escape, plain, plural

if TYPE_CHECKING:
    from store.lift import Lift

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
    ("conversion", "Conv.", 7),  # a campaign with a hold-out: its lift, "+3.1pp"
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


def lift_of_a(figures: CampaignFigures) -> Lift | None:
    """The lift of A (the one body) against the hold-out, from the slow figures; None without a hold-out
    or before both groups have patients."""
    lifts: Any = getattr(figures, "lift", None)  # store.figures adds `lift` to the slow figures
    for lift in lifts or ():
        if lift.of == "a" and lift.against == "holdout":
            found: Lift = lift
            return found
    return None


def points(difference: float) -> str:
    """A difference of reservations per patient as points of the conversion percentage: "+3.1pp"."""
    value = difference * 100
    return f"{value:+.1f}pp" if abs(value) < 9.95 else f"{value:+.0f}pp"


def lift_style(lift: Lift) -> str:
    """Bold where the interval says it is real (green up, red down), dim where it does not."""
    if not lift.significant:
        return "dim"
    return "bold green" if lift.difference > 0 else "bold red"


def lift_said(lift: Lift) -> str:
    """The lift as the line under the summary's table says it: "A vs hold-out +3.1 pp, significant"."""
    if lift.low is None:
        verdict = "too few patients for an interval"
    else:
        verdict = "significant" if lift.significant else "not significant"
    return f"A vs hold-out {points(lift.difference)[:-2]} pp, {verdict}"


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
    conversion, lift = figures.conversion, lift_of_a(figures)
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
        "conversion": (
            points(lift.difference)
            if lift is not None
            else percent(conversion.rate)
            if conversion.patients
            else "–"
        ),
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
        if key == "conversion" and lift is not None:
            style = lift_style(lift)
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
        opened = "opens not tracked" if opens.opened is None else f"{opens.opened:,} opened"
        parts.append(f"{opened}, {opens.clicked:,} clicked")
    if conversion.patients:
        booked = plural(conversion.reservations, "reservation")
        parts.append(f"{booked} by {plural(conversion.patients, 'patient')}")
    lift = lift_of_a(f)
    if lift is not None:
        parts.append(lift_said(lift))
    if counts.resent_after_crash:
        parts.append(f"{counts.resent_after_crash:,} may have had it twice (resent after a crash)")
    if f.waiting_reason:
        parts.insert(1, f"waiting: {escape(f.waiting_reason)}")
    if lifecycle.may_have_gone_out(f.state) and not f.final:
        parts.append("figures not final yet")
    return " · ".join(parts)
