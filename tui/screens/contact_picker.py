"""Pick recipients from the contacts: type to filter, select, add."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from store.directory import KINDS, Directory
from tui.widgets.contact_list import ContactList, header_line

KIND_CYCLE = (None, *KINDS)


class DirectoryLoaded(Message):
    """The contacts, read off the loop."""

    def __init__(self, directory: Directory) -> None:
        super().__init__()
        self.directory = directory


class ContactPicker(Screen[list[int] | None]):
    """All contacts, filtered as you type by name, email or phone; dismisses with the chosen ids."""

    BINDINGS = [
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("pagedown", "move(10)", "Page down", show=False, priority=True),
        Binding("pageup", "move(-10)", "Page up", show=False, priority=True),
        Binding("enter", "toggle_contact", "Select", key_display="↵", priority=True),
        Binding("space", "toggle_contact", "Select", show=False),
        Binding("ctrl+a", "select_shown", "All", priority=True),
        Binding("ctrl+u", "clear", "None", priority=True),
        Binding("ctrl+k", "next_kind", "Kind", priority=True),
        Binding("ctrl+s", "done", "Add", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, channel: str | None = None) -> None:
        super().__init__()
        self.channel = channel  # the campaign's: a contact whose address for it is suppressed says so
        self.directory: Directory | None = None
        self.matches: list[int] = []
        self.selected: set[int] = set()
        self.kind_index = 1  # patients first: whom campaigns are mostly for

    def compose(self) -> ComposeResult:
        yield Static("[b]Pick contacts[/b] · type a name, email or phone", id="title")
        yield Input(placeholder="filter", id="filter", compact=True)
        yield Static("Loading the contacts…", id="counts")
        yield Static(header_line(), id="header")
        yield ContactList(id="contacts", channel=self.channel)
        yield Footer(show_command_palette=False, compact=True)  # fits 80 columns; ctrl+p still works

    def on_mount(self) -> None:
        self.query_one("#filter", Input).focus()
        self.load()

    @work(thread=True, exclusive=True, group="picker-load", exit_on_error=False)
    def load(self) -> None:
        """Reads the contacts in a thread, which hands them over in a message and keeps nothing."""
        from store.db import connection
        from store.directory import load_directory

        with connection():
            directory = load_directory()
        self.post_message(DirectoryLoaded(directory))

    @on(DirectoryLoaded)
    def show_directory(self, event: DirectoryLoaded) -> None:
        self.directory = event.directory
        self.apply_filter()

    @property
    def kind(self) -> str | None:
        return KIND_CYCLE[self.kind_index]

    @on(Input.Changed, "#filter")
    def apply_filter(self) -> None:
        if self.directory is None:
            return
        self.matches = self.directory.search(self.query_one("#filter", Input).value, self.kind)
        self.query_one(ContactList).show(self.directory.entries, self.matches, self.selected)
        self.show_counts()

    def show_counts(self) -> None:
        if self.directory is None:
            return
        kind = f"{self.kind}s" if self.kind else "all kinds"
        self.query_one("#counts", Static).update(
            f"{len(self.matches):,} of {len(self.directory):,} contacts ({kind}) · "
            f"[b]{len(self.selected):,} selected[/b] · ^k kind · ^a all {len(self.matches):,} matches"
        )

    def action_move(self, rows: int) -> None:
        self.query_one(ContactList).move(rows)

    def action_toggle_contact(self) -> None:
        contacts = self.query_one(ContactList)
        entry = contacts.highlighted()
        if entry is None:
            return
        if entry.id in self.selected:
            self.selected.discard(entry.id)
        else:
            self.selected.add(entry.id)
        self.show_counts()
        contacts.move(1)

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
