"""The paste and file (CSV, TSV, .xlsx, .ods) dialogs of the recipients screen."""

from __future__ import annotations

import os
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static, TextArea

from store.recipients import PASTE_LIMIT, PASTE_SEPARATORS
from tui.textout import escape

IMPORTABLE = (".csv", ".tsv", ".txt", ".xlsx", ".ods")  # what store.sheets reads (it tells them by content)
SHOWN_FILES = 4

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 76; max-width: 100%; height: auto; max-height: 100%; padding: 0 1; border: round $accent;
    background: $panel;
}}
{name} .hint {{ color: $text-muted; }}
{name} .error {{ color: $error; }}
"""


def count_addresses(text: str) -> int:
    return sum(1 for part in PASTE_SEPARATORS.split(text) if part.strip())


class PasteDialog(ModalScreen[str | None]):
    """A box to paste addresses into; ctrl+s adds them."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PasteDialog") + "PasteDialog TextArea { height: 12; }"
    BINDINGS = [
        Binding("ctrl+s", "add", "Add", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Paste addresses[/b] separated by , or ; or new lines")
            yield TextArea(id="addresses", soft_wrap=True, compact=True)
            yield Static("0 addresses", id="count")
            yield Static("ctrl+s adds · Esc cancels", classes="hint")

    @on(TextArea.Changed)
    def counted(self) -> None:
        found = count_addresses(self.query_one(TextArea).text)
        label = self.query_one("#count", Static)
        over = found > PASTE_LIMIT
        label.set_class(over, "error")
        label.update(
            f"{found:,} addresses"
            + (f": at most {PASTE_LIMIT:,} at once, paste the rest next" if over else "")
        )

    def action_add(self) -> None:
        text = self.query_one(TextArea).text
        found = count_addresses(text)
        if found > PASTE_LIMIT:  # refused here, the text kept: cut it and add the rest next
            self.notify(
                f"{found:,} addresses: at most {PASTE_LIMIT:,} at once. Nothing added; the text is kept",
                severity="error",
            )
        elif found:
            self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PathSuggester(Suggester):
    """Completes file and folder names as you type a path; → accepts."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        typed = os.path.expanduser(value)
        folder, start = os.path.split(typed)
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            return None
        matching = [n for n in names if n.startswith(start) and n != start and not n.startswith(".")]
        # Folders and files an import reads come first: "lista" completes to lista.xlsx, not lista.pdf.
        matching.sort(key=lambda n: not (is_importable(n) or os.path.isdir(os.path.join(folder, n))))
        if not matching:
            return None
        name = matching[0]
        completed = value[: len(value) - len(start)] + name
        return completed + ("/" if os.path.isdir(os.path.join(folder, name)) else "")


def is_importable(name: str) -> bool:
    return name.lower().endswith(IMPORTABLE)


def importable_here(folder: Path) -> str:
    """A few of the files in `folder` an import reads, for the dialog's hint."""
    try:
        names = sorted(e.name for e in os.scandir(folder) if is_importable(e.name) and e.is_file())
    except OSError:
        return ""
    more = len(names) - SHOWN_FILES
    return ", ".join(names[:SHOWN_FILES]) + (f" and {more:,} more" if more > 0 else "")


class CsvDialog(ModalScreen[str | None]):
    """The path of a CSV, TSV, .xlsx or .ods file to import (its first sheet); Enter imports."""

    DEFAULT_CSS = DIALOG_CSS.format(name="CsvDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Import a CSV or spreadsheet file[/b] (at most 100,000 rows at once)")
            yield Input(placeholder="path/to/recipients.xlsx", suggester=PathSuggester(), id="path")
            yield Static("", id="error", classes="error")
            here = importable_here(Path.cwd())
            yield Static(
                f"In {escape(Path.cwd())}" + (f": {escape(here)}" if here else "") + "\n"
                "→ completes the name · Enter imports · Esc cancels\n"
                ".csv, .tsv, .xlsx or .ods (its first sheet); columns: first_name, last_name, email, phone "
                "(t writes the template)",
                classes="hint",
            )

    @on(Input.Submitted)
    def chosen(self, event: Input.Submitted) -> None:
        path = Path(os.path.expanduser(event.value.strip()))
        if not event.value.strip():
            return
        if not path.is_file():
            self.query_one("#error", Static).update(f"{escape(path)} is not a file")
            return
        self.dismiss(str(path))

    def action_cancel(self) -> None:
        self.dismiss(None)
