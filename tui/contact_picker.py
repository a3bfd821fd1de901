"""Pick recipients from the contacts: type to filter, select, add."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from store.directory import KINDS, Directory
from tui.background import off_loop

SHOWN = 200  # rows in the table; the filter narrows the rest
KIND_CYCLE = (None, *KINDS)
COLUMNS = (
    ("mark", " ", 1),
    ("name", "Name", 20),
    ("kind", "Kind", 8),
    ("email", "Email", 26),
    ("phone", "Phone", 13),
)
ADDRESS = {"email": "email", "sms": "phone", "push": "app"}


class ContactPicker(Screen[list[int] | None]):
    """All contacts, filtered as you type by name, email or phone; dismisses with the chosen ids."""

    BINDINGS = [
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
        Binding("enter", "toggle", "Select", key_display="↵", priority=True),
        Binding("ctrl+a", "select_shown", "All shown", priority=True),
        Binding("ctrl+u", "clear", "None", priority=True),
        Binding("ctrl+k", "next_kind", "Kind", priority=True),
        Binding("ctrl+s", "done", "Add selected", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel
        self.directory: Directory | None = None
        self.matches: list[int] = []
        self.selected: set[int] = set()
        self.kind_index = 1  # patients first: whom campaigns are mostly for

    def compose(self) -> ComposeResult:
        yield Static("[b]Pick contacts[/b] · type a name, email or phone", id="title")
        yield Input(placeholder="filter", id="filter", compact=True)
        yield Static("Loading the contacts…", id="counts")
        table: DataTable[str] = DataTable(id="contacts", cursor_type="row", zebra_stripes=True)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).focus()
        self.load()

    @work(exclusive=True, group="picker-load", exit_on_error=False)
    async def load(self) -> None:
        from store.directory import load_directory

        self.directory = await off_loop(load_directory)
        self.apply_filter()

    @property
    def kind(self) -> str | None:
        return KIND_CYCLE[self.kind_index]

    @on(Input.Changed, "#filter")
    def apply_filter(self) -> None:
        if self.directory is None:
            return
        self.matches = self.directory.search(self.query_one("#filter", Input).value, self.kind)
        entries = self.directory.entries
        table = self.query_one("#contacts", DataTable)
        with self.app.batch_update():
            table.clear()
            for position in self.matches[:SHOWN]:
                entry = entries[position]
                table.add_row(
                    "✓" if entry.id in self.selected else "",
                    entry.name[:20],
                    entry.kind,
                    entry.email[:26],
                    entry.phone,
                    key=str(entry.id),
                )
        self.show_counts()

    def show_counts(self) -> None:
        if self.directory is None:
            return
        shown = min(len(self.matches), SHOWN)
        kind = f"{self.kind}s" if self.kind else "all kinds"
        more = f", the first {shown:,} shown" if len(self.matches) > shown else ""
        self.query_one("#counts", Static).update(
            f"{len(self.matches):,} of {len(self.directory):,} contacts ({kind}{more}) · "
            f"[b]{len(self.selected):,} selected[/b] · ^k kind · ^a all {len(self.matches):,} matches"
        )

    def highlighted_id(self) -> int | None:
        table = self.query_one("#contacts", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    def action_move(self, rows: int) -> None:
        table = self.query_one("#contacts", DataTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.row_count - 1, table.cursor_row + rows)))

    def action_toggle(self) -> None:
        contact_id = self.highlighted_id()
        if contact_id is None:
            return
        if contact_id in self.selected:
            self.selected.discard(contact_id)
        else:
            self.selected.add(contact_id)
        table = self.query_one("#contacts", DataTable)
        table.update_cell(str(contact_id), "mark", "✓" if contact_id in self.selected else "")
        self.show_counts()
        self.action_move(1)

    def action_select_shown(self) -> None:
        if self.directory is not None:
            self.selected.update(self.directory.entries[p].id for p in self.matches)
            self.apply_filter()

    def action_clear(self) -> None:
        self.selected.clear()
        self.apply_filter()

    def action_next_kind(self) -> None:
        self.kind_index = (self.kind_index + 1) % len(KIND_CYCLE)
        self.apply_filter()

    def action_done(self) -> None:
        if self.selected:
            self.dismiss(sorted(self.selected))
        else:
            self.notify("Nothing selected: ↵ selects the highlighted contact, ^a every match")

    def action_cancel(self) -> None:
        self.dismiss(None)
