"""One campaign, live: progress, counts per state, send rate and ETA, opens, clicks, conversion, and its
recipients (filtered by state, searched by address or name). Re-target an audience with a new draft."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, ProgressBar, Sparkline, Static

from tui.screens.summary import percent
from tui.screens.summary_actions import pause_key_applies, toggle_pause
from tui.textout import escape, plain, plural

REFRESH_SECONDS = 1.0
SERIES_EVERY = 5  # rounds between two reads of the sends and opens over time
FILTERS = ("all", "pending", "sending", "sent", "delivered", "failed", "skipped", "cancelled")
LIVE_STATES = ("queued", "sending", "paused")
MESSAGE_STYLES = {
    "pending": "dim", "sending": "bold green", "delivered": "green", "failed": "red", "cancelled": "red",
    "skipped_duplicate": "yellow", "skipped_opted_out": "yellow",
}  # fmt: skip
SHORT_STATES = {"skipped_duplicate": "duplicate", "skipped_opted_out": "no consent"}
NAME_WIDTH = 16
# (key, label, width); the address takes what is left of the screen's width
COLUMNS = (("address", "Address", 0), ("name", "Name", NAME_WIDTH), ("state", "State", 11),
           ("when", "Sent", 13), ("detail", "Detail", 14))  # fmt: skip


@dataclass
class DetailLoaded(Message):
    stats: dict[str, Any]
    sends: list[int] | None  # per minute, last 15 minutes; None: not read this round
    opens: list[int] | None  # per hour, last 24 hours
    page: Any  # store.campaign_detail.RecipientPage, or None when the filter did not change
    filter_key: tuple[str, str]


def counts_line(stats: dict[str, Any]) -> str:
    parts = [
        f"pending [b]{stats['pending']:,}[/b]",
        f"sending [b]{stats['sending']:,}[/b]",
        f"sent [b]{stats['sent']:,}[/b]",
    ]
    if stats["channel"] == "sms":
        parts.append(f"delivered [b]{stats['delivered']:,}[/b]")
    parts.append(f"failed [b]{stats['failed']:,}[/b]")
    duplicate, no_consent = stats["skipped_duplicate"], stats["skipped_opted_out"]
    parts.append(f"skipped: [b]{duplicate:,}[/b] duplicate, [b]{no_consent:,}[/b] no consent")
    if stats["cancelled"]:
        parts.append(f"cancelled [b]{stats['cancelled']:,}[/b]")
    if stats["resent_after_crash"]:
        parts.append(f"[b]{stats['resent_after_crash']:,}[/b] may have had it twice (resent after a crash)")
    return " · ".join(parts)


def engagement_line(stats: dict[str, Any]) -> str:
    conversion = stats["conversion"]
    parts = []
    if stats["opened"] is None:
        parts.append(f"opens and clicks are not tracked for {stats['channel'].upper()}")
    else:
        opened = f"opened [b]{stats['opened']:,}[/b] ({percent(stats['open_rate'])})"
        if stats.get("machine_opened"):
            opened += f", {stats['machine_opened']:,} only by mail proxies"
        parts += [opened, f"clicked [b]{stats['clicked']:,}[/b] ({percent(stats['click_rate'])})"]
        if stats.get("unsubscribed"):
            parts.append(f"unsubscribed [b]{stats['unsubscribed']:,}[/b]")
    if conversion["patients"]:
        reservations = plural(conversion["reservations"], "reservation")
        parts.append(
            f"conversion [b]{percent(conversion['rate'])}[/b]: {reservations} "
            f"by {plural(conversion['patients'], 'patient')}"
        )
    else:
        parts.append("conversion: no patient reached yet")
    return " · ".join(parts)


def workers_text(workers: list[dict[str, Any]]) -> str:
    """Who sends it, and any engine that stopped answering while holding some of its messages."""
    if not workers:
        return ""
    alive = [escape(w["name"]) for w in workers if w["state"] == "alive" and w["sending"]]
    silent = [
        f"{escape(w['name'])} silent for {w['silent_for_seconds']} s"
        for w in workers
        if w["state"] == "silent"
    ]
    parts = [f"by {', '.join(alive)}"] if alive else []
    if silent:
        parts.append(f"[b yellow]{'; '.join(silent)}[/b yellow]: its messages go back to the others "
                     "when their lease ends")  # fmt: skip
    return " · ".join(parts)


def status_line(stats: dict[str, Any], rate_per_minute: float | None, workers: str = "") -> str:
    line = _status(stats, rate_per_minute)
    return f"{line} · {workers}" if workers and stats["state"] in LIVE_STATES else line


def _status(stats: dict[str, Any], rate_per_minute: float | None) -> str:
    left = stats["pending"] + stats["sending"]
    if stats.get("waiting_reason"):
        return f"[b yellow]waiting[/b yellow]: {escape(stats['waiting_reason'])}"
    if stats["state"] in ("sending", "queued") and left:
        if rate_per_minute:
            minutes = left / rate_per_minute
            eta = f"{minutes * 60:.0f} s" if minutes < 1 else f"{minutes:.0f} min"
            return f"sending {rate_per_minute:,.0f} a minute · about {eta} left"
        return "queued: it goes out in turn" if stats["state"] == "queued" else "sending…"
    if stats["state"] == "paused":
        return f"paused with {left:,} left: p on the summary resumes it"
    if stats["final"]:
        return "completed: these figures are final"
    if stats["state"] == "sent":
        return "sent · opens, clicks and conversion count until 48 h after the last message"
    return stats["state"]


def recently_sent(stats: dict[str, Any], window: str) -> bool:
    """Whether the campaign's last message went out within the duplicate window."""
    from store.clock import utcnow
    from store.window import parse_window

    last = stats.get("last_sent_at")
    if not last:
        return False
    return utcnow() - datetime.fromisoformat(last.removesuffix("Z")) < parse_window(window)


def local_time(moment: datetime) -> str:
    """A stored (naive UTC) time as the admin's local day and minute."""
    return moment.replace(tzinfo=UTC).astimezone().strftime("%d %b %H:%M")


def recipient_cells(row: dict[str, Any], address_width: int) -> list[Text]:
    name = f"{row['first_name']} {row['last_name']}".strip()
    detail = row["error"] or ""
    if not detail and row["clicked_at"]:
        detail = "clicked"
    elif not detail and row["opened_at"]:
        detail = "opened"
    if row["resent_after_crash"]:
        detail = ("resent after a crash · " + detail).rstrip(" ·")
    sent_at = row["sent_at"]
    when = local_time(sent_at) if isinstance(sent_at, datetime) else ""
    state = SHORT_STATES.get(row["state"], row["state"])
    return [
        Text(" " + plain(row["address"][: address_width - 1]), no_wrap=True),
        Text(" " + plain(name[: NAME_WIDTH - 1]), no_wrap=True),
        Text(" " + state, style=MESSAGE_STYLES.get(row["state"], ""), no_wrap=True),
        Text(" " + when, no_wrap=True),
        Text(" " + plain(detail), no_wrap=True),
    ]


class DetailScreen(Screen[int | None]):
    """Dismissed with the id of a campaign to highlight on the summary (this one, or a new draft)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f", "next_filter", "Filter"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("t", "retarget", "Re-target"),
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
    ]

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.stats: dict[str, Any] | None = None
        self.filter = "all"
        self.search_text = ""
        self.shown_filter: tuple[str, str] | None = None
        self.rounds = 0
        self.samples: deque[tuple[float, int]] = deque(maxlen=120)  # (monotonic time, sent)
        self.last_minute_rate: float | None = None
        self.rows: dict[str, dict[str, Any]] = {}  # the recipients in the table, by key
        self.page: Any = None  # store.campaign_detail.RecipientPage in the table
        self.refresh_timer: Timer | None = None
        self.workers_line = ""  # who sends it, read with the slow figures
        self.slow_figures: tuple[tuple[int, int], int, int] = ((0, 0), 0, 0)  # conversion, proxies, unsubs

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with Horizontal(id="progress-row"):
            yield ProgressBar(id="progress", show_eta=False)
            yield Static(id="progress-label")
        yield Static(id="status")
        yield Static(id="counts")
        yield Static(id="engagement")
        with Horizontal(id="charts"):
            with Vertical():
                yield Static("sent a minute, last 15 min", classes="chart-label")
                yield Sparkline([], id="sends")
            with Vertical():
                yield Static("first opens an hour, last 24 h", classes="chart-label", id="opens-label")
                yield Sparkline([], id="opens")
        yield Static(id="table-title")
        yield DataTable(id="recipients", cursor_type="row", cell_padding=0, zebra_stripes=True)
        yield Static(id="recipient")
        yield Input(placeholder="search address or name; Enter applies, Escape clears", id="search")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.lay_out_columns()
        self.query_one("#search", Input).display = False
        self.query_one("#recipients", DataTable).focus()
        self.load()

    def on_resize(self) -> None:
        self.lay_out_columns()

    def column_widths(self) -> list[int]:
        """The columns' widths at the screen's width now, the scrollbar's column left free."""
        room = max(20, self.size.width - 1 - sum(width for _key, _label, width in COLUMNS))
        address_width = min(room, 44)  # a wide terminal gives the rest to the reasons
        widths = {"address": address_width, "detail": 14 + room - address_width}
        return [widths.get(key, width) for key, _label, width in COLUMNS]

    def lay_out_columns(self) -> None:
        """Columns as wide as the screen allows; the rows drawn again, their cells cut to the new widths."""
        table = self.query_one("#recipients", DataTable)
        widths = self.column_widths()
        if [column.width for column in table.columns.values()] == widths:
            return
        row = table.cursor_row
        table.clear(columns=True)
        for (key, label, _width), width in zip(COLUMNS, widths, strict=True):
            table.add_column(Text(" " + label, style="bold"), key=key, width=width)
        if self.page is not None:
            self.fill_table(self.page)
            if table.row_count:
                table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    # -- data -----------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def load(self) -> None:
        from store.campaign_detail import opens_per_hour, recipients_page, sends_per_minute
        from store.campaigns import get_campaign
        from store.db import connection
        from store.stats import (
            conversion_of,
            machine_opened_of,
            message_counts,
            stats_document,
            unsubscribed_of,
        )
        from store.workers import workers_of

        config = self.app.config  # type: ignore[attr-defined]
        filter_key = (self.filter, self.search_text)
        ids = [self.campaign_id]
        with connection():
            campaign = get_campaign(self.campaign_id)
            series = self.rounds % SERIES_EVERY == 0
            if series:  # conversion, proxy opens, unsubscribes move slowly and cost most: read less often
                machine = machine_opened_of(ids, config.feedback.machine_open_seconds).get(campaign.id, 0)
                gone = unsubscribed_of(ids).get(campaign.id, 0)
                self.slow_figures = (conversion_of(ids).get(campaign.id, (0, 0)), machine, gone)
                if campaign.state in LIVE_STATES:
                    self.workers_line = workers_text(workers_of(campaign.id))
            stats = stats_document(campaign, message_counts(ids).get(campaign.id, {}), *self.slow_figures)
            sends = sends_per_minute(self.campaign_id) if series else None
            opens = opens_per_hour(self.campaign_id) if series and stats["opened"] is not None else None
            live = stats["state"] in LIVE_STATES
            fresh = filter_key != self.shown_filter or (live and self.rounds % 3 == 0)
            page = recipients_page(self.campaign_id, *filter_key) if fresh else None
        self.post_message(DetailLoaded(stats, sends, opens, page, filter_key))

    @on(DetailLoaded)
    def show(self, event: DetailLoaded) -> None:
        self.rounds += 1
        # Re-armed when a round lands, never piling up: a key that reloads at once (f, a search)
        # replaces the waiting round instead of starting a second series.
        if self.refresh_timer is not None:
            self.refresh_timer.stop()
        self.refresh_timer = self.set_timer(REFRESH_SECONDS, self.load)
        changed = self.stats is None or self.stats["state"] != event.stats["state"]
        stats = self.stats = event.stats
        if changed:
            self.refresh_bindings()  # Pause or Resume
        self.samples.append((time.monotonic(), stats["sent"] + stats["failed"]))
        if event.sends is not None:
            self.query_one("#sends", Sparkline).data = event.sends
            self.last_minute_rate = float(event.sends[-2]) if len(event.sends) > 1 else None
        if event.opens is not None:
            self.query_one("#opens", Sparkline).data = event.opens
        self.query_one("#opens", Sparkline).display = stats["opened"] is not None
        self.query_one("#opens-label", Static).display = stats["opened"] is not None
        self.query_one("#detail-title", Static).update(
            f"[b]#{stats['id']} {escape(stats['name'])}[/b] · {stats['channel'].upper()} · {stats['state']}"
        )
        done = stats["recipients"] - stats["pending"] - stats["sending"]
        self.query_one("#progress", ProgressBar).update(total=max(1, stats["recipients"]), progress=done)
        self.query_one("#progress-label", Static).update(f" {done:,} of {stats['recipients']:,} processed")
        self.query_one("#status", Static).update(
            status_line(stats, self.rate_per_minute(), self.workers_line)
        )
        self.query_one("#counts", Static).update(counts_line(stats))
        self.query_one("#engagement", Static).update(engagement_line(stats))
        if event.page is not None and event.filter_key == (self.filter, self.search_text):
            self.shown_filter = event.filter_key
            self.fill_table(event.page)

    def rate_per_minute(self) -> float | None:
        """Messages a minute over the last half minute of samples, else over the last whole minute."""
        now, latest = self.samples[-1]
        for then, value in self.samples:
            if now - then <= 30:
                if now - then >= 3 and latest > value:
                    return (latest - value) / (now - then) * 60
                break
        return self.last_minute_rate

    def fill_table(self, page: Any) -> None:
        self.page = page  # drawn again when the terminal's width changes
        table = self.query_one("#recipients", DataTable)
        address_width = table.columns[next(iter(table.columns))].width
        selected = table.cursor_row
        with self.app.batch_update():
            table.clear()
            self.rows = {str(row["id"]): row for row in page.rows}
            for row in page.rows:
                table.add_row(*recipient_cells(row, address_width), key=str(row["id"]))
            if page.rows:
                table.move_cursor(row=min(selected, len(page.rows) - 1), animate=False)
        what = plural(page.matching, "recipient")
        what = what if self.filter == "all" else f"{what} {self.filter}"
        if self.search_text:
            what += f" matching “{escape(self.search_text)}”"
        shown = f", the first {len(page.rows):,} shown" if page.matching > len(page.rows) else ""
        self.query_one("#table-title", Static).update(f"{what}{shown} · [b]f[/b] filter · [b]/[/b] search")
        if not page.rows:
            self.query_one("#recipient", Static).update("")

    @on(DataTable.RowHighlighted, "#recipients")
    def show_recipient(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted recipient in full (up to SHOWN_CHARACTERS a part): the table's columns cut long
        addresses and reasons."""
        row = self.rows.get(str(event.row_key.value))
        if row is None:
            return
        name = f"{row['first_name']} {row['last_name']}".strip()
        parts = [row["address"], name, SHORT_STATES.get(row["state"], row["state"]), row["error"] or ""]
        for label, moment in (("opened", row["opened_at"]), ("clicked", row["clicked_at"])):
            if isinstance(moment, datetime):
                parts.append(f"{label} {local_time(moment)}")
        self.query_one("#recipient", Static).update(" · ".join(escape(p) for p in parts if p))

    # -- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows Pause or Resume, whichever applies now."""
        if action in ("pause", "resume"):
            return pause_key_applies(action, self.stats["state"] if self.stats else None)
        return True

    def action_pause(self) -> None:
        self.pause_or_resume()

    def action_resume(self) -> None:
        self.pause_or_resume()

    @work(group="detail-action", exit_on_error=False)
    async def pause_or_resume(self) -> None:
        if self.stats is not None and await toggle_pause(self, self.campaign_id, self.stats["state"]):
            self.load()

    def action_back(self) -> None:
        """Escape clears the search first (typed or applied); then goes back to the summary."""
        search = self.query_one("#search", Input)
        if not search.has_focus and not self.search_text:
            self.dismiss(self.campaign_id)
            return
        search.value, search.display, self.search_text = "", False, ""
        self.query_one("#recipients", DataTable).focus()
        self.load()

    def action_next_filter(self) -> None:
        self.filter = FILTERS[(FILTERS.index(self.filter) + 1) % len(FILTERS)]
        self.load()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#search")
    def apply_search(self, event: Input.Submitted) -> None:
        self.search_text = event.value.strip()
        if not self.search_text:
            event.input.display = False
        self.query_one("#recipients", DataTable).focus()
        self.load()

    @work(group="detail-action", exit_on_error=False)
    async def action_retarget(self) -> None:
        from store.audiences import retarget
        from store.db import off_loop
        from store.errors import CampaignsError
        from tui.dialogs.audience import AudienceDialog
        from tui.dialogs.confirm import ConfirmDialog

        if self.stats is None:
            return
        who = await self.app.push_screen_wait(AudienceDialog(self.stats))
        if who is None:
            return
        question = (
            f"Create a new draft of [b]{escape(self.stats['name'])}[/b] for those who {who.label}?\n\n"
            "It has the same content and channel; those who unsubscribed since are left out. "
            "You can edit it before sending."
        )
        window = self.app.config.dedup.campaign_window  # type: ignore[attr-defined]
        if recently_sent(self.stats, window):
            question += (
                f"\n\n[b]Note[/b]: unchanged, it reaches nobody who got this one in the last {window} "
                "(the same message to the same address is skipped): edit its text first, e on the summary."
            )
        if not await self.app.push_screen_wait(ConfirmDialog(question, yes="create the draft")):
            return
        try:
            limits = self.app.config.limits  # type: ignore[attr-defined]
            draft, added, left_out = await off_loop(retarget, self.campaign_id, who.key, None, limits)
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="warning", markup=False)
            return
        without = f"; {left_out:,} who unsubscribed since left out" if left_out else ""
        self.notify(
            f"Draft #{draft.id} created with {plural(added, 'recipient')}{without}", title="Re-target"
        )
        self.dismiss(draft.id)
