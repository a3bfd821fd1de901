"""`?`: every key of every screen, in one place, read from the screens' own bindings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.textout import escape

EVERYWHERE = [
    ("?", "this list (F1 where ? is typed: the editor's fields, a search)"),
    ("ctrl+p", "the command palette: every action by name"),
    ("ctrl+q", "quit (asks first while this app is sending)"),
]
QUESTIONS = [
    ("y", "yes: it is done"),
    ("Tab ⏎", "Tab to the Yes button, then Enter: yes too (a click as well)"),
    ("⏎ n Esc", "no: nothing happens (No has the focus when the question opens)"),
    ("", "a key typed before the question showed answers nothing"),
]
# What the dialogs do with Enter and the arrows, which their own bindings do not say.
SEND_NOW = [
    ("y", "send now, or schedule it for the time taken in When"),
    ("t Tab", "to When: a time, e.g. 2026-12-03 09:30, in the center's zone"),
    ("⏎", "in When: takes the time (empty: now); then y schedules"),
    ("Esc", "in a field: drops what was typed, back to the answers"),
    ("h", "to Hold-out %: a share kept out as a control group,"),
    ("", "never sent: the details then show what the campaign added"),
    ("b", "to B share % (a draft with a B): of the others, who get B"),
    ("⏎", "in a % field: takes it; the question says how many"),
    ("p", "a scheduled campaign back to draft (summary, details)"),
    ("x", "cancels a scheduled campaign as a queued one"),
    ("", "SMS and push wait out their quiet hours (e.g. 20:00-09:00);"),
    ("", "the ETA says when it ends, after how many quiet-hour pauses"),
]
PERIOD = [("⏎", "applies the period typed")]
# An A/B test: B's body and subject in the same fields as A's (store.experiments)
EDITOR = [
    ("", "f3: B of an A/B test, or A again; ctrl+s saves both"),
    ("Tab", "an email: to Language (⏎ opens it) and Open tracking (space)"),
]
DETAILS = [
    ("", "g: the groups of a hold-out or a B, their lift and 28-day"),
    ("", "curves, in place of the sending charts (g again: back)"),
]
PASTE = [("⏎", "a new line: ctrl+s adds")]
CSV_FILE = [("→", "completes the file or folder name"), ("⏎", "imports the file")]
TEST = [("⏎", "sends the test to the addresses typed")]
RETARGET = [("↑ ↓", "choose who"), ("⏎", "next: a question before the draft is made")]


def _lines(
    title: str, bindings: list[Binding], before: list[tuple[str, str]], key_display: Callable[[Binding], str]
) -> list[str]:
    """A section of the list: the keys in `before`, then those of the bindings that say what they do."""
    lines = [f"[b]{title}[/b]"]
    pairs = list(before)
    seen: set[str] = set()
    for binding in bindings:
        if binding.description in seen or not binding.description:
            continue
        seen.add(binding.description)
        # Each key of a binding as the footer draws it (`f5,ctrl+r` reads "f5 ^r").
        keys = binding.key_display or " ".join(
            key_display(Binding(key.strip(), binding.action)) for key in binding.key.split(",")
        )
        pairs.append((keys, binding.description))
    for key, what in pairs:
        lines.append(f"  {escape(f'{key:<8}')} {what}")  # padded before it is escaped: `[` moves the period
    return [*lines, ""]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: 90%; padding: 0 1; border: round $accent; background: $panel;
    }
    """
    BINDINGS = [Binding("escape,question_mark,f1,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        from tui.dialogs.audience import AudienceDialog
        from tui.dialogs.imports import CsvDialog, PasteDialog
        from tui.dialogs.period import PeriodDialog
        from tui.dialogs.report import ReportScreen
        from tui.dialogs.test_send import TestDialog
        from tui.screens.contact_picker import ContactPicker
        from tui.screens.detail import DetailScreen
        from tui.screens.editor import EditorScreen
        from tui.screens.recipients import RecipientsScreen
        from tui.screens.summary import SummaryScreen

        show = self.app.get_key_display
        sections: list[tuple[str, list[Any], list[tuple[str, str]]]] = [
            ("Summary: the campaigns of a period", SummaryScreen.BINDINGS, []),
            ("Details (⏎ on the summary)", DetailScreen.BINDINGS, DETAILS),
            ("Editor (n, e)", EditorScreen.BINDINGS, EDITOR),
            ("Recipients of a draft (a)", RecipientsScreen.BINDINGS, []),
            ("Questions: send, cancel, delete, leave unsaved, quit", [], QUESTIONS),
            ("Send Now (s on the summary): now, or scheduled for later", [], SEND_NOW),
            ("Type a period (r on the summary)", PeriodDialog.BINDINGS, PERIOD),
            ("Send a test (t on the summary)", TestDialog.BINDINGS, TEST),
            ("Re-target (t in the details)", AudienceDialog.BINDINGS, RETARGET),
            ("Paste addresses (p on the recipients)", PasteDialog.BINDINGS, PASTE),
            ("Import a CSV or spreadsheet file (f on the recipients)", CsvDialog.BINDINGS, CSV_FILE),
            ("Pick contacts (c on the recipients): type to filter", ContactPicker.BINDINGS, []),
            ("The report after an add, or why nothing was added", ReportScreen.BINDINGS, []),
        ]
        lines = [line for section in sections for line in _lines(*section, show)]
        lines += [
            "[b]Everywhere[/b]",
            *(f"  {key:<8} {what}" for key, what in EVERYWHERE),
            "",
            "Escape, q, ? or F1 closes this; ↑ ↓ scroll.",
        ]
        with VerticalScroll():
            yield Static("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
