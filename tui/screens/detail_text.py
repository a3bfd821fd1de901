"""What the details screen writes about a campaign: its status, counts, engagement, who sends it, and the
cells of its recipients. Pure text from what was read; the screen draws it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from store import lifecycle
from store.clock import local, zone_name
from store.figures import CampaignFigures
from tui.dialogs.send_now import when_said
from tui.lift_words import GROUP_NAMES, lift_line
from tui.screens.summary_rows import percent
from tui.textout import escape, plain, plural

if TYPE_CHECKING:
    from store.campaign_detail import RecipientRow
    from store.lift import Groups, Lift
    from store.workers import WorkerState

MESSAGE_STYLES = {
    "pending": "dim", "sending": "bold green", "delivered": "green", "failed": "red", "cancelled": "red",
    "skipped_duplicate": "yellow", "skipped_opted_out": "yellow", "skipped_suppressed": "yellow",
    "held_out": "magenta",
}  # fmt: skip
SHORT_STATES = {
    "skipped_duplicate": "duplicate", "skipped_opted_out": "no consent", "skipped_suppressed": "suppressed",
    "held_out": "held out",
}  # fmt: skip
NAME_WIDTH = 16


def counts_line(stats: CampaignFigures) -> str:
    counts = stats.counts
    parts = [
        f"pending [b]{counts.pending:,}[/b]",
        f"sending [b]{counts.sending:,}[/b]",
        f"sent [b]{counts.sent:,}[/b]",
    ]
    if stats.channel == "sms":
        parts.append(f"delivered [b]{counts.delivered:,}[/b]")
    parts.append(f"failed [b]{counts.failed:,}[/b]")
    duplicate, no_consent = counts.skipped_duplicate, counts.skipped_opted_out
    skipped = f"skipped: [b]{duplicate:,}[/b] duplicate, [b]{no_consent:,}[/b] no consent"
    if counts.skipped_suppressed:
        skipped += f", [b]{counts.skipped_suppressed:,}[/b] suppressed"
    parts.append(skipped)
    if counts.held_out:
        parts.append(f"held out [b]{counts.held_out:,}[/b]")
    if counts.cancelled:
        parts.append(f"cancelled [b]{counts.cancelled:,}[/b]")
    if counts.resent_after_crash:
        parts.append(f"[b]{counts.resent_after_crash:,}[/b] may have had it twice (resent after a crash)")
    return " · ".join(parts)


def engagement_line(stats: CampaignFigures) -> str:
    conversion, opens = stats.conversion, stats.opens
    parts = []
    if opens is None:
        parts.append(f"opens and clicks are not tracked for {stats.channel.upper()}")
    else:
        if opens.opened is None:
            opened = "opens not tracked"
        else:
            opened = f"opened [b]{opens.opened:,}[/b] ({percent(stats.open_rate)})"
        if opens.machine_opened:
            opened += f", {opens.machine_opened:,} only by mail proxies"
        parts += [opened, f"clicked [b]{opens.clicked:,}[/b] ({percent(stats.click_rate)})"]
        if stats.unsubscribed:
            parts.append(f"unsubscribed [b]{stats.unsubscribed:,}[/b]")
    if conversion.patients:
        reservations = plural(conversion.reservations, "reservation")
        parts.append(
            f"conversion [b]{percent(conversion.rate)}[/b]: {reservations} "
            f"by {plural(conversion.patients, 'patient')}"
        )
    else:
        parts.append("conversion: no patient reached yet")
    return " · ".join(parts)


def workers_text(workers: Sequence[WorkerState]) -> str:
    """Who sends it, and any engine that stopped answering while holding some of its messages."""
    if not workers:
        return ""
    alive = [escape(w.name) for w in workers if w.state == "alive" and w.sending]
    silent = [f"{escape(w.name)} silent for {w.silent_for_seconds} s" for w in workers if w.state == "silent"]
    parts = [f"by {', '.join(alive)}"] if alive else []
    if silent:
        parts.append(f"[b yellow]{'; '.join(silent)}[/b yellow]: its messages go back to the others "
                     "when their lease ends")  # fmt: skip
    return " · ".join(parts)


def status_line(stats: CampaignFigures, rate_per_minute: float | None, workers: str = "") -> str:
    line = _status(stats, rate_per_minute)
    return f"{line} · {workers}" if workers and lifecycle.is_live(stats.state) else line


def _status(stats: CampaignFigures, rate_per_minute: float | None) -> str:
    left = stats.counts.pending + stats.counts.sending
    if stats.waiting_reason:
        return f"[b yellow]waiting[/b yellow]: {escape(stats.waiting_reason)}"
    if lifecycle.is_in_queue(stats.state) and left:
        if rate_per_minute:
            minutes = left / rate_per_minute
            eta = f"{minutes * 60:.0f} s" if minutes < 1 else f"{minutes:.0f} min"
            return f"sending {rate_per_minute:,.0f} a minute · about {eta} left"
        return "queued: it goes out in turn" if stats.state == lifecycle.QUEUED else "sending…"
    if lifecycle.is_scheduled(stats.state) and stats.scheduled_at is not None:
        return f"scheduled for {when_said(stats.scheduled_at)} ({zone_name()}) · [b]p[/b] unschedules"
    if stats.state == lifecycle.PAUSED:
        return f"paused with {left:,} left: p on the summary resumes it"
    if stats.final:
        return "completed: these figures are final"
    if stats.state == lifecycle.SENT:
        return "sent · opens, clicks and conversion count until 48 h after the last message"
    return stats.state


def local_time(moment: datetime) -> str:
    """A stored (naive UTC) time as the center's day and minute."""
    return local(moment).strftime("%d %b %H:%M")


def eta_line(line: str) -> str:
    """The ETA of store.eta (`SendEstimate.line`) as the details show it, markup."""
    return f"[b]ETA[/b] {escape(line)}"


def recipient_cells(row: RecipientRow, address_width: int) -> list[Text]:
    """The cells of one recipient's row in the table."""
    name = f"{row.first_name} {row.last_name}".strip()
    detail = row.error or ""
    if not detail and row.clicked_at:
        detail = "clicked"
    elif not detail and row.opened_at:
        detail = "opened"
    if row.resent_after_crash:
        detail = ("resent after a crash · " + detail).rstrip(" ·")
    when = local_time(row.sent_at) if isinstance(row.sent_at, datetime) else ""
    state = SHORT_STATES.get(row.state, row.state)
    return [
        Text(" " + plain(row.address[: address_width - 1]), no_wrap=True),
        Text(" " + plain(name[: NAME_WIDTH - 1]), no_wrap=True),
        Text(" " + state, style=MESSAGE_STYLES.get(row.state, ""), no_wrap=True),
        Text(" " + when, no_wrap=True),
        Text(" " + plain(detail), no_wrap=True),
    ]


def recipient_line(row: RecipientRow) -> str:
    """The highlighted recipient in full, as markup: the table's columns cut long addresses and reasons."""
    name = f"{row.first_name} {row.last_name}".strip()
    parts = [row.address, name, SHORT_STATES.get(row.state, row.state), row.error or ""]
    for label, moment in (("opened", row.opened_at), ("clicked", row.clicked_at)):
        if isinstance(moment, datetime):
            parts.append(f"{label} {local_time(moment)}")
    return " · ".join(escape(p) for p in parts if p)


# -- the groups of an experiment (issue 19): hold-out, variants A and B --------------------------------

GROUP_STYLES = {"a": "cyan", "b": "magenta", "holdout": "yellow"}
BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], top: float) -> str:
    """Values as a line of block characters, one a value, on a scale from 0 to `top` (shared by every
    group's line, so the lines compare): nothing yet is a blank."""
    cells = []
    for value in values:
        level = max(1, round(value / top * len(BLOCKS))) if top > 0 and value > 0 else 0
        cells.append(BLOCKS[min(level, len(BLOCKS)) - 1] if level > 0 else " ")
    return "".join(cells)


def groups_table(groups: Groups, curves: Mapping[str, Sequence[float]]) -> str:
    """Each group's patients, their reservations in their 28 days and reservations per patient, with a
    line of its cumulative reservations per patient, day 0 to 27 (one character a day); markup."""
    top = max((max(values, default=0.0) for values in curves.values()), default=0.0)
    # 10 + 9 + 13 + 12 + 2 + 28 days: 74 columns, within 80 less the padding
    header = f"{'Groups':<10}{'patients':>9}{'reservations':>13}{'per patient':>12}"
    lines = [f"[b]{header}[/b]  [dim]day 0 ▸ 27, cumulative[/dim]"]
    for name, group in groups.present():
        rate = f"{group.rate:.3f}" if group.rate is not None else "–"
        line = sparkline(curves.get(name, ()), top)
        style = GROUP_STYLES[name]
        lines.append(
            f"[{style}]{GROUP_NAMES[name]:<10}[/{style}]{group.patients:>9,}{group.reservations:>13,}"
            f"{rate:>12}  [{style}]{line}[/{style}]"
        )
    return "\n".join(lines)


def lift_text(groups: Groups, lifts: Sequence[Lift]) -> str:
    """The lift lines under the groups' table; before any group has patients, when they will come."""
    if lifts:
        return "\n".join(lift_line(lift, groups) for lift in lifts)
    if groups.holdout is not None:
        return "[dim]the lift shows once it has sent: the hold-out's 28 days count from then[/dim]"
    return "[dim]the lift of B against A shows once both have gone out[/dim]"
