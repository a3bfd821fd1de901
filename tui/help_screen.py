"""`?`: every key of every screen, in one place, read from the screens' own bindings."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.textout import escape

EVERYWHERE = [
    ("ctrl+p", "the command palette: every action by name"),
    ("ctrl+q", "quit (asks first while this app is sending)"),
]


def _lines(title: str, bindings: list[Binding], key_display: Callable[[Binding], str]) -> list[str]:
    lines = [f"[b]{title}[/b]"]
    seen: set[str] = set()
    for binding in bindings:
        if binding.description in seen or not binding.description:
            continue
        seen.add(binding.description)
        key = f"{key_display(binding):<8}"  # padded before it is escaped: `[` moves the period
        lines.append(f"  {escape(key)} {binding.description}")
    return [*lines, ""]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: 90%; padding: 0 1; border: round $accent; background: $panel;
    }
    """
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close")]

    def compose(self) -> ComposeResult:
        from tui.detail import DetailScreen
        from tui.editor import EditorScreen
        from tui.recipients import RecipientsScreen
        from tui.summary import SummaryScreen

        show = self.app.get_key_display
        lines = [
            *_lines("Summary: the campaigns of a period", SummaryScreen.BINDINGS, show),  # type: ignore[arg-type]
            *_lines("Details (⏎ on the summary)", DetailScreen.BINDINGS, show),  # type: ignore[arg-type]
            *_lines("Editor (n, e)", EditorScreen.BINDINGS, show),  # type: ignore[arg-type]
            *_lines("Recipients of a draft (a)", RecipientsScreen.BINDINGS, show),  # type: ignore[arg-type]
            "[b]Everywhere[/b]",
            *(f"  {key:<8} {what}" for key, what in EVERYWHERE),
            "",
            "Escape, q or ? closes this; ↑ ↓ scroll.",
        ]
        with VerticalScroll():
            yield Static("\n".join(lines))

    def action_close(self) -> None:
        self.dismiss(None)
