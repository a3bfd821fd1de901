"""One campaign, live: progress, counts per state, send rate and ETA, opens, clicks, conversion, and its
recipients (filtered by state, searched by address or name). Re-target an audience with a new draft.
A campaign with a hold-out or a variant B shows its groups, their lift and curves (store.lift)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, ProgressBar, Sparkline, Static
from textual.worker import Worker, WorkerState

from store import lifecycle
from store.figure_cache import SlowFigureCache
from store.figures import CampaignFigures, SlowFigures
from tui.context import config_of
from tui.screens.detail_text import (
    NAME_WIDTH,
    counts_line,
    engagement_line,
    eta_line,
    recipient_cells,
    recipient_line,
    status_line,
    workers_text,
)
from tui.screens.summary_actions import confirm_unschedule, pause_key_applies, toggle_pause
from tui.textout import escape, plain, plural
from tui.widgets.groups_pane import GroupsPane

if TYPE_CHECKING:
    from store.campaign_detail import RecipientPage, RecipientRow

REFRESH_SECONDS = 1.0
ETA_SECONDS = 5.0  # the ETA plays the whole queue forward: read again at most this often
SERIES_EVERY = 5  # rounds between two reads of the slow figures, who sends it, sends and opens over time
FILTERS = ("all", "pending", "sending", "sent", "delivered", "failed", "skipped", "cancelled")
# (key, label, width); the address takes what is left of the screen's width
COLUMNS = (("address", "Address", 0), ("name", "Name", NAME_WIDTH), ("state", "State", 11),
           ("when", "Sent", 13), ("detail", "Detail", 14))  # fmt: skip


@dataclass
class DetailLoaded(Message):
    stats: CampaignFigures
    sends: list[int] | None  # per minute, last 15 minutes; None: not read this round
    opens: list[int] | None  # per hour, last 24 hours
    page: RecipientPage | None  # None when the filter did not change
    filter_key: tuple[str, str]
    round: int  # the round it was read in
    workers: str | None  # who sends it; None: not read this round
    ticket: int  # which read it is: one overtaken by a newer read (a key's, the timer's) is not shown
    slow: bool = False  # the slow figures (the groups' too) were read this round: the curves are read too


class DetailScreen(Screen[int | None]):
    """Dismissed with the id of a campaign to highlight on the summary (this one, or a new draft)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("f", "next_filter", "Filter"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("t", "retarget", "Re-target"),
        Binding("g", "toggle_groups", "Groups"),
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("p", "unschedule", "Unschedule"),
    ]

    def __init__(self, campaign_id: int) -> None:
        super().__init__()
        self.campaign_id = campaign_id
        self.stats: CampaignFigures | None = None
        self.filter = "all"
        self.search_text = ""
        self.shown_filter: tuple[str, str] | None = None
        self.rounds = 0
        self.reads = 0  # reads started; only the newest is shown
        self.samples: deque[tuple[float, int]] = deque(maxlen=120)  # (monotonic time, sent)
        self.last_minute_rate: float | None = None
        self.rows: dict[str, RecipientRow] = {}  # the recipients in the table, by key
        self.page: RecipientPage | None = None  # the recipients in the table
        self.refresh_timer: Timer | None = None
        self.workers_line = ""  # who sends it, read with the slow figures
        self.slow_figures = SlowFigureCache(SERIES_EVERY, keep_live=True)  # its age in rounds
        self.eta_read_at: float | None = None  # monotonic time of the last ETA read started
        self.eta_of: tuple[str, datetime | None] | None = None  # the state and time it was read for
        self.eta_reading = False
        self.eta = ""  # markup: the ETA line under the status, while it applies
        self.status = ""
        self.groups_shown = False  # the campaign has groups (a hold-out, a B): g applies
        self.groups_wanted: bool | None = None  # g: groups or the sending charts; None: as fits the state

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
        yield GroupsPane(self.campaign_id, id="groups")
        yield Static(id="table-title")
        yield DataTable(id="recipients", cursor_type="row", cell_padding=0, zebra_stripes=True)
        yield Static(id="recipient")
        yield Input(placeholder="search address or name; Enter applies, Escape clears", id="search")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.lay_out_columns()
        self.query_one("#groups").display = False
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

    def load(self) -> None:
        """Reads a round off the loop, the slow figures given while they are fresh."""
        slow = self.slow_figures.fresh(self.rounds).get(self.campaign_id)
        seconds = config_of(self).feedback.machine_open_seconds
        self.reads += 1
        wanted = (self.filter, self.search_text)
        self.read_round(self.rounds, self.reads, wanted, self.shown_filter, slow, seconds)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def read_round(
        self,
        number: int,
        ticket: int,
        wanted: tuple[str, str],
        shown: tuple[str, str] | None,
        slow: SlowFigures | None,
        seconds: int,
    ) -> None:
        from store.campaign_detail import opens_per_hour, recipients_page, sends_per_minute
        from store.campaigns import get_campaign
        from store.db import connection
        from store.figures import figures_of
        from store.workers import workers_of

        with connection():
            campaign = get_campaign(self.campaign_id)
            stats = figures_of([campaign], seconds, {} if slow is None else {campaign.id: slow})[0]
            live = lifecycle.is_live(stats.state)
            workers = workers_text(workers_of(campaign.id)) if slow is None and live else None
            sends = sends_per_minute(self.campaign_id) if slow is None else None
            opens = opens_per_hour(self.campaign_id) if slow is None and stats.opens is not None else None
            fresh = wanted != shown or (live and number % 3 == 0)
            page = recipients_page(self.campaign_id, *wanted) if fresh else None
        found = DetailLoaded(stats, sends, opens, page, wanted, number, workers, ticket, slow is None)
        self.post_message(found)

    def take_groups(self, stats: CampaignFigures, slow: bool) -> None:
        """The groups' pane drawn from the figures read; the footer's g once the campaign has groups."""
        pane = self.query_one(GroupsPane)
        pane.take(stats, slow)
        if self.groups_shown != (pane.groups is not None):
            self.groups_shown = pane.groups is not None
            self.refresh_bindings()  # g applies
            self.lay_out_panes()

    def lay_out_panes(self) -> None:
        """The groups where the sending charts are: while it sends the charts, then the groups; g swaps."""
        sending = self.stats is not None and lifecycle.is_in_queue(self.stats.state)
        wanted = self.groups_wanted if self.groups_wanted is not None else not sending
        groups = self.groups_shown and wanted
        self.query_one("#groups").display = groups
        self.query_one("#charts").display = not groups

    def arm_refresh(self) -> None:
        """The next round, in a second: re-armed when a round lands or fails, never piling up (a key that
        reloads at once, f or a search, replaces the waiting round instead of starting a second series)."""
        if self.refresh_timer is not None:
            self.refresh_timer.stop()
        self.refresh_timer = self.set_timer(REFRESH_SECONDS, self.load)

    @on(Worker.StateChanged)
    def read_failed(self, event: Worker.StateChanged) -> None:
        """A round whose read failed (the database busy a moment) still arms the next: the details go on
        refreshing."""
        if event.worker.group == "detail" and event.state == WorkerState.ERROR:
            self.arm_refresh()

    @on(DetailLoaded)
    def show(self, event: DetailLoaded) -> None:
        if event.ticket != self.reads:
            return  # overtaken by a newer read, whose round is on its way (a cancelled thread still posts)
        self.rounds += 1
        self.arm_refresh()
        self.slow_figures.keep([event.stats], event.round)
        if event.workers is not None:
            self.workers_line = event.workers
        changed = self.stats is None or self.stats.state != event.stats.state
        stats = self.stats = event.stats
        counts = stats.counts
        if changed:
            self.refresh_bindings()  # Pause or Resume
        self.samples.append((time.monotonic(), counts.sent + counts.failed))
        if event.sends is not None:
            self.query_one("#sends", Sparkline).data = event.sends
            self.last_minute_rate = float(event.sends[-2]) if len(event.sends) > 1 else None
        if event.opens is not None:
            self.query_one("#opens", Sparkline).data = event.opens
        self.query_one("#opens", Sparkline).display = stats.opens is not None
        self.query_one("#opens-label", Static).display = stats.opens is not None
        self.query_one("#detail-title", Static).update(
            f"[b]#{stats.id} {escape(stats.name)}[/b] · {stats.channel.upper()} · {stats.state}"
        )
        to_process = counts.recipients - counts.held_out  # the hold-out is never processed: not progress
        done = to_process - counts.pending - counts.sending
        self.query_one("#progress", ProgressBar).update(total=max(1, to_process), progress=done)
        self.query_one("#progress-label", Static).update(f" {done:,} of {to_process:,} processed")
        self.status = status_line(stats, self.rate_per_minute(), self.workers_line)
        self.read_eta_if_due(stats)
        self.show_status()
        self.query_one("#counts", Static).update(counts_line(stats))
        self.query_one("#engagement", Static).update(engagement_line(stats))
        self.take_groups(stats, event.slow)
        if changed:
            self.lay_out_panes()
        if event.page is not None and event.filter_key == (self.filter, self.search_text):
            self.shown_filter = event.filter_key
            self.fill_table(event.page)

    def read_eta_if_due(self, stats: CampaignFigures) -> None:
        """The ETA of a queued, sending or scheduled campaign, read again every few seconds (the rounds
        come every second), or at once when its state or time changed."""
        if not (lifecycle.is_in_queue(stats.state) or lifecycle.is_scheduled(stats.state)):
            self.eta, self.eta_of = "", None
            return
        now, wanted = time.monotonic(), (stats.state, stats.scheduled_at)
        fresh = self.eta_read_at is not None and now - self.eta_read_at < ETA_SECONDS
        if self.eta_reading or (fresh and wanted == self.eta_of):
            return
        self.eta_reading, self.eta_read_at, self.eta_of = True, now, wanted
        starts_at = stats.scheduled_at if lifecycle.is_scheduled(stats.state) else None
        self.read_eta(wanted, starts_at)

    @work(group="detail-eta", exit_on_error=False)
    async def read_eta(self, wanted: tuple[str, datetime | None], starts_at: datetime | None) -> None:
        from store.db import off_loop
        from store.eta import send_estimate

        try:
            found = await off_loop(send_estimate, config_of(self), self.campaign_id, starts_at)
        finally:
            self.eta_reading = False  # a failed read (the database busy) is tried again next round
        if wanted == self.eta_of:  # still what the campaign is
            self.eta = eta_line(found.line)
            self.show_status()

    def show_status(self) -> None:
        self.query_one("#status", Static).update(f"{self.status}\n{self.eta}" if self.eta else self.status)

    def rate_per_minute(self) -> float | None:
        """Messages a minute over the last half minute of samples, else over the last whole minute."""
        now, latest = self.samples[-1]
        for then, value in self.samples:
            if now - then <= 30:
                if now - then >= 3 and latest > value:
                    return (latest - value) / (now - then) * 60
                break
        return self.last_minute_rate

    def fill_table(self, page: RecipientPage) -> None:
        self.page = page  # drawn again when the terminal's width changes
        table = self.query_one("#recipients", DataTable)
        address_width = table.columns[next(iter(table.columns))].width
        selected = table.cursor_row
        with self.app.batch_update():
            table.clear()
            self.rows = {str(row.id): row for row in page.rows}
            for row in page.rows:
                table.add_row(*recipient_cells(row, address_width), key=str(row.id))
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
        row = self.rows.get(str(event.row_key.value))
        if row is not None:
            self.query_one("#recipient", Static).update(recipient_line(row))

    # -- actions --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer shows Pause, Resume or Unschedule, whichever applies now."""
        if action in ("pause", "resume"):
            return pause_key_applies(action, self.stats.state if self.stats else None)
        if action == "unschedule":
            return lifecycle.can_unschedule(self.stats.state if self.stats else None)
        if action == "toggle_groups":
            return self.groups_shown
        return True

    def action_toggle_groups(self) -> None:
        """Swaps the groups and the sending charts."""
        if self.groups_shown:
            self.groups_wanted = not self.query_one("#groups").display
            self.lay_out_panes()

    def action_pause(self) -> None:
        self.pause_or_resume()

    def action_resume(self) -> None:
        self.pause_or_resume()

    @work(group="detail-action", exit_on_error=False)
    async def pause_or_resume(self) -> None:
        if self.stats is not None and await toggle_pause(self, self.campaign_id, self.stats.state):
            self.load()

    @work(group="detail-action", exit_on_error=False)
    async def action_unschedule(self) -> None:
        stats = self.stats
        if (
            stats is not None
            and lifecycle.can_unschedule(stats.state)
            and await confirm_unschedule(self, stats)
        ):
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
        from store.window import within_window
        from tui.dialogs.audience import AudienceDialog
        from tui.dialogs.confirm import ConfirmDialog

        if self.stats is None:
            return
        who = await self.app.push_screen_wait(AudienceDialog(self.stats))
        if who is None:
            return
        question = (
            f"Create a new draft of [b]{escape(self.stats.name)}[/b] for those who {who.label}?\n\n"
            "It has the same content and channel; those who unsubscribed since are left out. "
            "You can edit it before sending."
        )
        config = config_of(self)
        window = config.dedup.campaign_window
        if within_window(self.stats.last_sent_at, window):
            question += (
                f"\n\n[b]Note[/b]: unchanged, it reaches nobody who got this one in the last {window} "
                "(the same message to the same address is skipped): edit its text first, e on the summary."
            )
        if not await self.app.push_screen_wait(ConfirmDialog(question, yes="create the draft")):
            return
        try:
            draft, added, left_out = await off_loop(retarget, self.campaign_id, who.key, None, config.limits)
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="warning", markup=False)
            return
        without = f"; {left_out:,} who unsubscribed since left out" if left_out else ""
        self.notify(
            f"Draft #{draft.id} created with {plural(added, 'recipient')}{without}", title="Re-target"
        )
        self.dismiss(draft.id)
