"""The Summary screen: the campaigns of a reference period, one row each, refreshed while it is open."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from store.period import Period
from store.queue import waits_for_its_turn
from tui.screens.summary_actions import PAGE, SummaryActions
from tui.textout import escape, plain, plural

REFRESH_SECONDS = 2.0
# A sent campaign's reservations come over weeks: its costliest figure is read less often.
CONVERSION_SECONDS = 30.0
STATE_STYLES = {
    "draft": "dim",
    "queued": "cyan",
    "sending": "bold green",
    "paused": "yellow",
    "sent": "",
    "completed": "green",
    "cancelled": "red",
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


def local_day(stamp: str | None) -> str:
    if not stamp:
        return ""
    return datetime.fromisoformat(stamp).astimezone().strftime("%d %b")


def row_cells(doc: dict[str, Any], name_width: int) -> list[Text]:
    """The cells of one campaign's row; every cell starts with a space, the table has no padding."""
    values = {
        "id": str(doc["id"]),
        "name": plain(doc["name"]),
        "channel": doc["channel"].upper(),
        "state": doc["state"],
        "recipients": count(doc["recipients"]),
        "sent": count(doc["sent"]),
        "opened": percent(doc["open_rate"]),
        "clicked": percent(doc["click_rate"]),
        "conversion": percent(doc["conversion"]["rate"]) if doc["conversion"]["patients"] else "–",
        "created": local_day(doc["created_at"]),
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
        style = STATE_STYLES.get(doc["state"], "") if key == "state" else ""
        cells.append(Text(" " + text, style=style, no_wrap=True))
    return cells


def describe(doc: dict[str, Any]) -> str:
    """The line under the table about the highlighted campaign, as markup."""
    parts = [f"#{doc['id']} {escape(doc['name'])}", f"{doc['channel'].upper()} {doc['state']}"]
    parts.append(f"{doc['recipients']:,} recipients")
    if doc["sent"] or doc["failed"]:
        parts.append(f"{doc['sent']:,} sent")
    if doc["delivered"]:
        parts.append(f"{doc['delivered']:,} delivered")
    if doc["failed"]:
        parts.append(f"{doc['failed']:,} failed")
    if doc["opened"] is not None and doc["sent"]:
        parts.append(f"{doc['opened']:,} opened, {doc['clicked']:,} clicked")
    conversion = doc["conversion"]
    if conversion["patients"]:
        booked = plural(conversion["reservations"], "reservation")
        parts.append(f"{booked} by {plural(conversion['patients'], 'patient')}")
    if doc.get("resent_after_crash"):
        parts.append(f"{doc['resent_after_crash']:,} may have had it twice (resent after a crash)")
    if doc.get("waiting_reason"):
        parts.insert(1, f"waiting: {escape(doc['waiting_reason'])}")
    if doc["state"] in ("sent", "paused", "sending", "cancelled") and not doc["final"]:
        parts.append("figures not final yet")
    return " · ".join(parts)


@dataclass
class SummaryLoaded(Message):
    """The first campaigns of a period (those the name filter lets through), read off the event loop."""

    period: Period
    docs: list[dict[str, Any]]
    matching: int  # campaigns the filter lets through; more than `docs` when paged
    total: int  # campaigns in the period
    name_filter: str
    number: int  # which read: an older one that finishes late is not shown
    read_at: float  # monotonic time the read started
    known: frozenset[int]  # campaigns whose conversion it did not read again


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
    DRAFT_ONLY = ("edit", "recipients", "send_now", "test", "delete")
    NEEDS_A_CAMPAIGN = ("details", "clone")

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self.today = today
        self.period = Period.last_days(today=today)
        self.docs: dict[int, dict[str, Any]] = {}
        self.loaded_once = False
        self.refresh_timer: Timer | None = None
        self.filter_timer: Timer | None = None  # the read after the name filter's last key
        self.highlight_next: int | None = None  # the campaign to highlight when the next rows land
        self.name_filter = ""
        self.shown = PAGE  # how many of the period's campaigns the table holds (more as one scrolls)
        self.loads = 0  # reads started; only the newest is shown
        self.cursor_row_next: int | None = None  # where the cursor goes when the next rows land
        self.matching = 0
        self.total = 0
        # Conversion read at most every CONVERSION_SECONDS per campaign (read and kept on the event loop).
        self.conversions: dict[int, tuple[float, tuple[int, int]]] = {}

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
        known = {i: value for i, (at, value) in self.conversions.items() if now - at < CONVERSION_SECONDS}
        self.read_campaigns(self.loads, self.period, self.name_filter, self.shown, now, known)

    @work(thread=True, exclusive=True, group="summary", exit_on_error=False)
    def read_campaigns(
        self, number: int, period: Period, name_filter: str, shown: int, now: float, known: dict[int, Any]
    ) -> None:
        """In a thread of its own, with its own copy of what it needs: a read overtaken by a newer one
        still runs to its end, and must not touch what the newer one uses."""
        from store.campaigns import campaign_listing, campaigns_by_ids
        from store.db import connection
        from store.stats import stats_of

        seconds = self.app.config.feedback.machine_open_seconds  # type: ignore[attr-defined]
        with connection():
            ids, total = campaign_listing(period, name_filter)
            docs = stats_of(campaigns_by_ids(ids[:shown]), seconds, known)
        self.post_message(
            SummaryLoaded(period, docs, len(ids), total, name_filter, number, now, frozenset(known))
        )

    def refresh_if_visible(self) -> None:
        if self.app.screen is self:
            self.load()
        else:
            self.set_timer(REFRESH_SECONDS, self.refresh_if_visible)

    @on(SummaryLoaded)
    def show(self, event: SummaryLoaded) -> None:
        # The next round is armed when this one lands: slow rounds never pile up (dolphie's way).
        if self.refresh_timer is not None:
            self.refresh_timer.stop()
        self.refresh_timer = self.set_timer(REFRESH_SECONDS, self.refresh_if_visible)
        if event.number < self.loads or event.period != self.period or event.name_filter != self.name_filter:
            return  # a read overtaken by a newer one (the thread of a cancelled worker still posts)
        self.keep_conversions(event)
        if self.loaded_once:
            self.announce_changes(self.docs, event.docs)
        self.loaded_once = True
        self.docs = {doc["id"]: doc for doc in event.docs}
        self.matching, self.total = event.matching, event.total
        self.fill_table(self.visible_docs())
        self.show_title()

    def keep_conversions(self, event: SummaryLoaded) -> None:
        """The conversions just read, kept for CONVERSION_SECONDS; not those of campaigns still going
        out, whose patients grow by the second."""
        for doc in event.docs:
            if doc["id"] not in event.known and doc["state"] not in ("queued", "sending", "paused"):
                conversion = doc["conversion"]
                self.conversions[doc["id"]] = (
                    event.read_at,
                    (conversion["patients"], conversion["reservations"]),
                )

    def visible_docs(self) -> list[dict[str, Any]]:
        """The campaigns in the table, in the period's order (the name filter applied when read)."""
        return list(self.docs.values())

    def announce_changes(self, before: dict[int, dict[str, Any]], now: list[dict[str, Any]]) -> None:
        """A toast when a campaign finishes, waits for its provider, or completes (whoever sends it); the
        toasts' markup is off, the names and reasons in them are data."""
        for doc in now:
            old = before.get(doc["id"])
            if old is None:
                continue
            name = f"#{doc['id']} {plain(doc['name'])}"
            if doc["state"] == "sent" and old["state"] in ("queued", "sending", "paused"):
                failed = f", {doc['failed']:,} failed" if doc["failed"] else ""
                self.notify(f"{name}: {doc['sent']:,} sent{failed}", title="Campaign sent", timeout=8,
                            markup=False)  # fmt: skip
            elif doc["state"] == "completed" and old["state"] != "completed":
                self.notify(f"{name}: its figures are final", title="Campaign completed", timeout=8,
                            markup=False)  # fmt: skip
            elif (
                doc.get("waiting_reason")
                and not old.get("waiting_reason")
                and not waits_for_its_turn(doc["waiting_reason"])  # its turn comes: nothing is wrong
            ):
                self.notify(f"{name} waits: {plain(doc['waiting_reason'])}", title="Provider unavailable",
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
        self.fill_table(self.visible_docs())

    def fill_table(self, docs: list[dict[str, Any]]) -> None:
        table = self.query_one("#campaigns", DataTable)
        selected = self.highlight_next if self.highlight_next is not None else self.selected_id()
        self.highlight_next = None
        name_width = self.name_width()
        more = self.matching - len(docs)
        wanted = [str(doc["id"]) for doc in docs] + (["more"] if more > 0 else [])
        current = [str(key.value) for key in table.rows]
        with self.app.batch_update():
            if wanted != current:
                table.clear()
                for doc in docs:
                    table.add_row(*row_cells(doc, name_width), key=str(doc["id"]))
                if more > 0:
                    label = f" … {more:,} more: move here to see the next {min(more, PAGE):,}"
                    table.add_row(Text(""), Text(label, style="dim", no_wrap=True),
                                  *(Text("") for _ in COLUMNS[2:]), key="more")  # fmt: skip
            else:
                for doc in docs:
                    cells = row_cells(doc, name_width)
                    for (key, _label, _width), cell in zip(COLUMNS, cells, strict=True):
                        if table.get_cell(str(doc["id"]), key) != cell:
                            table.update_cell(str(doc["id"]), key, cell)
            if self.cursor_row_next is not None and docs:
                table.move_cursor(row=min(self.cursor_row_next, len(docs) - 1), animate=False)
                self.cursor_row_next = None
            elif selected is not None and str(selected) in wanted:
                table.move_cursor(row=wanted.index(str(selected)), animate=False)
        empty = self.query_one("#empty", Static)
        table.display = bool(docs) or not self.loaded_once or bool(self.name_filter)
        empty.display = not table.display
        if table.display and self.focused is None:
            table.focus()
        if not docs:
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

    def selected_id(self) -> int | None:
        table = self.query_one("#campaigns", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value and row_key.value.isdigit() else None

    def show_selected(self) -> None:
        selected = self.selected_id()
        doc = self.docs.get(selected) if selected is not None else None
        self.query_one("#selected", Static).update(describe(doc) if doc else "")

    @on(DataTable.RowHighlighted)
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value == "more":  # the end of what was read: read the next page
            self.shown += PAGE
            self.cursor_row_next = event.cursor_row  # the first of the next page lands here
            self.load()
        self.show_selected()
        self.refresh_bindings()  # the footer shows what applies to this campaign
