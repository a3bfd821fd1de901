"""A yes/no question before anything that cannot be undone."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import LoadingIndicator, Static


class ConfirmDialog(ModalScreen[bool]):
    """`y` or Enter confirms, `n` or Escape declines. The question is markup: data goes in it through
    `tui.textout.escape`."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2; border: round $warning; background: $panel;
    }
    ConfirmDialog #keys { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, yes: str = "yes", no: str = "cancel") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="question")
            yield Static(f"[b]y[/b] {self.yes} · [b]n[/b] {self.no}", id="keys")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class WaitScreen(ModalScreen[None]):
    """Says what is being checked while a long read runs; keys wait here, not on the screen behind."""

    DEFAULT_CSS = """
    WaitScreen { align: center middle; }
    WaitScreen > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2; border: round $accent; background: $panel;
    }
    WaitScreen LoadingIndicator { height: 1; }
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.text)
            yield LoadingIndicator()
