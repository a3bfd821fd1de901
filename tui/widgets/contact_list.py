"""A list of any number of contacts that draws only the lines on screen (toolong's way, not a DataTable).

A DataTable measures and styles every cell it holds; this list formats one line per visible row, so a
filter over 100,000 contacts costs the same to show as one over ten.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from store.directory import Entry
from tui.textout import plain

WIDTHS = (2, 20, 9, 24)  # mark, name, kind, email; the phone (or a note) takes the rest: 23 at 80 columns


def format_line(entry: Entry, selected: bool, channel: str | None = None) -> str:
    """One contact's line: segments, never markup, but a control character would reach the terminal.

    A contact the campaign cannot reach says why in the last column, in place of the phone: no consent,
    or the address the campaign's channel would use is on the suppression list ("suppressed: hard
    bounce")."""
    mark = "✓" if selected else " "
    mark_w, name_w, kind_w, email_w = WIDTHS
    last = entry.phone
    suppressed = entry.suppressed_for(channel)
    if not entry.consent:
        last = "no consent"
    elif suppressed:
        last = f"suppressed: {suppressed}"
    name, email, last = plain(entry.name, name_w - 1), plain(entry.email, email_w - 1), plain(last, 23)
    return f"{mark:<{mark_w}}{name:<{name_w}}{entry.kind:<{kind_w}}{email:<{email_w}}{last}"


def header_line() -> str:
    mark_w, name_w, kind_w, email_w = WIDTHS
    return f"{'':<{mark_w}}{'Name':<{name_w}}{'Kind':<{kind_w}}{'Email':<{email_w}}Phone"


class ContactList(ScrollView, can_focus=True):
    """The filtered contacts, a cursor, and which are selected."""

    COMPONENT_CLASSES = {"contact-list--cursor", "contact-list--selected", "contact-list--no-consent"}
    DEFAULT_CSS = """
    ContactList { height: 1fr; }
    ContactList > .contact-list--cursor { background: $accent 60%; color: $text; text-style: bold; }
    ContactList > .contact-list--selected { color: $success; }
    ContactList > .contact-list--no-consent { color: $text-disabled; }
    """

    def __init__(self, id: str | None = None, channel: str | None = None) -> None:
        super().__init__(id=id)
        self.channel = channel  # of the campaign the contacts are picked for: whose suppression shows
        self.entries: list[Entry] = []
        self.matches: list[int] = []
        self.selected: set[int] = set()
        self.cursor = 0

    def show(self, entries: list[Entry], matches: list[int], selected: set[int]) -> None:
        """Shows these matches (positions in `entries`), the cursor back on the first."""
        self.entries, self.matches, self.selected = entries, matches, selected
        self.cursor = 0
        self.virtual_size = Size(self.size.width, len(matches))
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def highlighted(self) -> Entry | None:
        if not self.matches:
            return None
        return self.entries[self.matches[self.cursor]]

    def move(self, rows: int) -> None:
        if not self.matches:
            return
        self.cursor = max(0, min(len(self.matches) - 1, self.cursor + rows))
        top, height = int(self.scroll_offset.y), max(1, self.scrollable_content_region.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        row = int(self.scroll_offset.y) + y
        width = self.size.width
        if row >= len(self.matches):
            return Strip.blank(width, self.rich_style)
        entry = self.entries[self.matches[row]]
        chosen = entry.id in self.selected
        line = format_line(entry, chosen, self.channel)
        text = line[:width].ljust(width)
        style = self.rich_style
        if not entry.consent or entry.suppressed_for(self.channel):
            style += self.get_component_rich_style("contact-list--no-consent")
        if chosen:
            style += self.get_component_rich_style("contact-list--selected")
        if row == self.cursor:
            style += self.get_component_rich_style("contact-list--cursor")
        return Strip([Segment(text, style)], width)
