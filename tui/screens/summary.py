"""The Summary screen: the campaigns of a reference period, one row each, refreshed while it is open."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from store import lifecycle
from store.figure_cache import SlowFigureCache
from store.figures import CampaignFigures, SlowFigures
from store.period import Period
from store.queue import waits_for_its_turn
from tui.context import config_of
from tui.screens.summary_actions import PAGE, SummaryActions
from tui.screens.summary_rows import COLUMNS, MIN_NAME_WIDTH, describe, noon_of, row_cells
from tui.textout import escape, plain

REFRESH_SECONDS = 2.0
# A sent campaign's reservations come over weeks: its slow figures (conversion, proxy opens,
# unsubscribes) are read less often.
SLOW_FIGURES_SECONDS = 30.0


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
        shown = describe(figures, noon_of(self.today)) if figures else ""
        self.query_one("#selected", Static).update(shown)

    @on(DataTable.RowHighlighted)
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value == "more":  # the end of what was read: read the next page
            self.shown += PAGE
            self.cursor_row_next = event.cursor_row  # the first of the next page lands here
            self.load()
        self.show_selected()
        self.refresh_bindings()  # the footer shows what applies to this campaign
