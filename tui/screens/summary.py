"""The Summary screen: the campaigns of a reference period, one row each, refreshed while it is open."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from store import lifecycle
from store.clock import center_zone, local, utcnow
from store.figure_cache import SlowFigureCache
from store.figures import CampaignFigures, SlowFigures
from store.period import Period
from store.queue import waits_for_its_turn
from tui.context import config_of
from tui.dialogs.send_now import when_said
from tui.screens.summary_actions import PAGE, SummaryActions
from tui.textout import escape, plain, plural

REFRESH_SECONDS = 2.0
# A sent campaign's reservations come over weeks: its slow figures (conversion, proxy opens,
# unsubscribes) are read less often.
SLOW_FIGURES_SECONDS = 30.0
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


def joins_behind(f: CampaignFigures, others: Iterable[CampaignFigures]) -> int:
    """How many of `others` will be ahead of a scheduled campaign when it joins the queue, as far as
    they tell: those created before it (the queue's order) that are queued or sending now, or scheduled
    to join before it."""
    when = f.scheduled_at
    if when is None:
        return 0

    def before(other: CampaignFigures) -> bool:
        if other.created_at is None or f.created_at is None:
            return other.id < f.id
        return (other.created_at, other.id) < (f.created_at, f.id)

    def there_first(other: CampaignFigures) -> bool:
        if lifecycle.is_in_queue(other.state):
            return True
        at = other.scheduled_at
        return lifecycle.is_scheduled(other.state) and at is not None and at <= when

    return sum(1 for other in others if other.id != f.id and before(other) and there_first(other))


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


def describe(f: CampaignFigures, others: Iterable[CampaignFigures] = (), now: datetime | None = None) -> str:
    """The line under the table about the highlighted campaign, as markup; `others`, the campaigns in
    the table, say a scheduled one's place when it joins the queue; `now`, which day is today."""
    counts, opens, conversion = f.counts, f.opens, f.conversion
    parts = [f"#{f.id} {escape(f.name)}", f"{f.channel.upper()} {f.state}"]
    if lifecycle.is_scheduled(f.state) and f.scheduled_at is not None:
        ahead = joins_behind(f, others)
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


@dataclass
class SummaryLoaded(Message):
    """The first campaigns of a period (those the name filter lets through), read off the event loop."""

    period: Period
    figures: list[CampaignFigures]
    matching: int  # campaigns the filter lets through; more than `figures` when paged
    total: int  # campaigns in the period
    name_filter: str
    number: int  # which read: an older one that finishes late is not shown
    read_at: float  # monotonic time the read started


class SummaryScreen(SummaryActions):
    """Which campaigns were created or sent in the reference period, and how they did."""

    # The footer shows what applies to the highlighted campaign (check_action); `?` lists them all.
    BINDINGS = [
        Binding("enter", "details", "Open", key_display="⏎", priority=True),  # shown over the table's
        Binding("n", "new", "New"),
        Binding("e", "edit", "Edit"),
        Binding("a", "recipients", "Recipients"),
        Binding("s", "send_now", "Send"),
        Binding("t", "test", "Test"),
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("p", "unschedule", "Unschedule"),
        Binding("x", "cancel_campaign", "Cancel"),
        Binding("x", "cancel_draft", "Cancel", show=False),  # d deletes a draft: the footer shows that
        Binding("c", "clone", "Clone"),
        Binding("d", "delete", "Delete"),
        Binding("slash", "filter", "Filter by name", key_display="/", show=False),
        Binding("left_square_bracket,less_than_sign", "shift_period(-1)", "Earlier period", key_display="[",
                show=False),
        Binding("right_square_bracket,greater_than_sign", "shift_period(1)", "Later period", key_display="]",
                show=False),
        Binding("r", "choose_period", "Type a period", show=False),
        Binding("f5,ctrl+r", "refresh", "Refresh", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]  # fmt: skip

    def __init__(self, today: date | None = None) -> None:
        super().__init__(today)  # the period, the name filter, the campaigns in the table
        self.loaded_once = False
        self.refresh_timer: Timer | None = None
        self.loads = 0  # reads started; only the newest is shown
        self.cursor_row_next: int | None = None  # where the cursor goes when the next rows land
        self.matching = 0
        self.total = 0
        self.slow_figures = SlowFigureCache(SLOW_FIGURES_SECONDS, keep_live=False)

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        table: DataTable[Text] = DataTable(
            id="campaigns", cursor_type="row", cell_padding=0, zebra_stripes=True
        )
        yield table
        yield Static(id="empty")
        yield Static(id="selected")
        yield Input(placeholder="filter by name; Enter keeps it, Escape clears", id="name-filter")
        yield Footer(show_command_palette=False, compact=True)

    def on_mount(self) -> None:
        self.query_one("#name-filter", Input).display = False
        self.query_one("#campaigns", DataTable).focus()
        self.build_columns()
        self.show_title()
        self.load()

    # -- data -----------------------------------------------------------------------------------

    def load(self) -> None:
        """Reads the campaigns again, off the loop; only the newest read is shown."""
        self.loads += 1
        now = time.monotonic()
        known = self.slow_figures.fresh(now)
        seconds = config_of(self).feedback.machine_open_seconds
        self.read_campaigns(self.loads, self.period, self.name_filter, self.shown, now, known, seconds)

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def read_campaigns(
        self,
        number: int,
        period: Period,
        name_filter: str,
        shown: int,
        now: float,
        known: dict[int, SlowFigures],
        seconds: int,
    ) -> None:
        """In a thread of its own, with its own copy of what it needs: a read overtaken by a newer one
        still runs to its end, and must not touch what the newer one uses."""
        from store.campaigns import campaign_listing, campaigns_by_ids
        from store.db import connection
        from store.figures import figures_of

        with connection():
            ids, total = campaign_listing(period, name_filter)
            figures = figures_of(campaigns_by_ids(ids[:shown]), seconds, known)
        self.post_message(SummaryLoaded(period, figures, len(ids), total, name_filter, number, now))

    def refresh_if_visible(self) -> None:
        if self.app.screen is self:
            self.load()
        else:
            self.set_timer(REFRESH_SECONDS, self.refresh_if_visible)

    def arm_refresh(self) -> None:
        """The next round, armed when this one lands or fails: slow rounds never pile up (dolphie's way)."""
        if self.refresh_timer is not None:
            self.refresh_timer.stop()
        self.refresh_timer = self.set_timer(REFRESH_SECONDS, self.refresh_if_visible)

    @on(Worker.StateChanged)
    def read_failed(self, event: Worker.StateChanged) -> None:
        """A read that failed (the database busy a moment) still arms the next: the summary goes on."""
        if event.worker.group == "summary" and event.state == WorkerState.ERROR:
            self.arm_refresh()

    @on(SummaryLoaded)
    def show(self, event: SummaryLoaded) -> None:
        self.arm_refresh()
        if event.number < self.loads or event.period != self.period or event.name_filter != self.name_filter:
            return  # a read overtaken by a newer one (the thread of a cancelled worker still posts)
        self.slow_figures.keep(event.figures, event.read_at)
        if self.loaded_once:
            self.announce_changes(self.figures, event.figures)
        self.loaded_once = True
        self.figures = {f.id: f for f in event.figures}
        self.matching, self.total = event.matching, event.total
        self.fill_table(self.visible_figures())
        self.show_title()

    def action_refresh(self) -> None:
        """F5: every figure read again at once, conversion too."""
        self.slow_figures.invalidate()
        self.load()

    def visible_figures(self) -> list[CampaignFigures]:
        """The campaigns in the table, in the period's order (the name filter applied when read)."""
        return list(self.figures.values())

    def announce_changes(self, before: dict[int, CampaignFigures], now: list[CampaignFigures]) -> None:
        """A toast when a campaign finishes, waits for its provider, or completes (whoever sends it); the
        toasts' markup is off, the names and reasons in them are data."""
        for f in now:
            old = before.get(f.id)
            if old is None:
                continue
            name = f"#{f.id} {plain(f.name)}"
            if f.state == lifecycle.SENT and lifecycle.is_live(old.state):
                failed = f", {f.counts.failed:,} failed" if f.counts.failed else ""
                self.notify(f"{name}: {f.counts.sent:,} sent{failed}", title="Campaign sent", timeout=8,
                            markup=False)  # fmt: skip
            elif lifecycle.is_final(f.state) and not lifecycle.is_final(old.state):
                self.notify(f"{name}: its figures are final", title="Campaign completed", timeout=8,
                            markup=False)  # fmt: skip
            elif (
                f.waiting_reason
                and not old.waiting_reason
                and not waits_for_its_turn(f.waiting_reason)  # its turn comes: nothing is wrong
            ):
                self.notify(f"{name} waits: {plain(f.waiting_reason)}", title="Provider unavailable",
                            severity="warning", timeout=12, markup=False)  # fmt: skip

    # -- drawing --------------------------------------------------------------------------------

    def name_width(self) -> int:
        fixed = sum(width for _key, _label, width in COLUMNS)
        return max(MIN_NAME_WIDTH, self.size.width - fixed - 1)  # - the scrollbar

    def build_columns(self) -> None:
        table = self.query_one("#campaigns", DataTable)
        table.clear(columns=True)
        name_width = self.name_width()
        for key, label, width in COLUMNS:
            room = name_width if key == "name" else width
            right = key in ("id", "recipients", "sent", "opened", "clicked", "conversion")
            header = (" " + (label.rjust(room - 1) if right else label.ljust(room - 1)))[:room]
            table.add_column(Text(header, style="bold"), key=key, width=room)

    def on_resize(self) -> None:
        self.build_columns()
        self.fill_table(self.visible_figures())

    def fill_table(self, campaigns: list[CampaignFigures]) -> None:
        table = self.query_one("#campaigns", DataTable)
        selected = self.highlight_next if self.highlight_next is not None else self.selected_id()
        self.highlight_next = None
        name_width = self.name_width()
        more = self.matching - len(campaigns)
        wanted = [str(f.id) for f in campaigns] + (["more"] if more > 0 else [])
        current = [str(key.value) for key in table.rows]
        with self.app.batch_update():
            if wanted != current:
                table.clear()
                for f in campaigns:
                    table.add_row(*row_cells(f, name_width, noon_of(self.today)), key=str(f.id))
                if more > 0:
                    label = f" … {more:,} more: move here to see the next {min(more, PAGE):,}"
                    table.add_row(Text(""), Text(label, style="dim", no_wrap=True),
                                  *(Text("") for _ in COLUMNS[2:]), key="more")  # fmt: skip
            else:
                for f in campaigns:
                    cells = row_cells(f, name_width, noon_of(self.today))
                    for (key, _label, _width), cell in zip(COLUMNS, cells, strict=True):
                        if table.get_cell(str(f.id), key) != cell:
                            table.update_cell(str(f.id), key, cell)
            if self.cursor_row_next is not None and campaigns:
                table.move_cursor(row=min(self.cursor_row_next, len(campaigns) - 1), animate=False)
                self.cursor_row_next = None
            elif selected is not None and str(selected) in wanted:
                table.move_cursor(row=wanted.index(str(selected)), animate=False)
        empty = self.query_one("#empty", Static)
        table.display = bool(campaigns) or not self.loaded_once or bool(self.name_filter)
        empty.display = not table.display
        if table.display and self.focused is None:
            table.focus()
        if not campaigns:
            empty.update(self.empty_text())
        self.show_selected()
        self.refresh_bindings()

    def empty_text(self) -> str:
        return (
            f"No campaigns were created or sent in {self.period.label()}.\n\n"
            "Press [b]\\[[/b] or [b]][/b] to move the period, [b]r[/b] to type one.\n\n"
            "Press [b]n[/b] to create a campaign, or from the shell:\n"
            '  campaigns create --channel sms --name "Flu shots" --sender CentroMed \\\n'
            '      --body "Hi {{ first_name }}, flu shots are open"'
        )

    def show_title(self) -> None:
        default = self.period == Period.last_days(today=self.today)
        label = self.period.label() + (" (last 30 days)" if default else "")
        shown = f" · {self.total:,} campaign{'s' if self.total != 1 else ''}" if self.loaded_once else ""
        filtered = (
            f" · [b]{self.matching:,}[/b] named “{escape(self.name_filter)}”" if self.name_filter else ""
        )
        watching = " · [b]watch only[/b]" if getattr(self.app, "watch_only", False) else ""
        self.query_one("#title", Static).update(f"[b]Campaigns[/b]{watching} · {label}{shown}{filtered}")

    def show_selected(self) -> None:
        figures = self.highlighted()
        shown = describe(figures, self.figures.values(), noon_of(self.today)) if figures else ""
        self.query_one("#selected", Static).update(shown)

    @on(DataTable.RowHighlighted)
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value == "more":  # the end of what was read: read the next page
            self.shown += PAGE
            self.cursor_row_next = event.cursor_row  # the first of the next page lands here
            self.load()
        self.show_selected()
        self.refresh_bindings()  # the footer shows what applies to this campaign
