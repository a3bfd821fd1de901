"""A small dialog to type a reference period."""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from store.errors import BadInput
from store.period import Period
from tui.textout import escape


class PeriodDialog(ModalScreen[Period | None]):
    """From and To days, both included; Enter applies, Escape keeps the period as it was."""

    DEFAULT_CSS = """
    PeriodDialog { align: center middle; }
    PeriodDialog > Vertical {
        width: 50; height: auto; padding: 1 2; border: round $accent; background: $panel;
    }
    PeriodDialog Horizontal { height: 1; margin-top: 1; }
    PeriodDialog Label { width: 6; }
    PeriodDialog Input { width: 1fr; }
    PeriodDialog #error { color: $error; height: auto; margin-top: 1; }
    PeriodDialog #hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+l", "last_days(30)", "Last 30 days"),
    ]

    def __init__(self, period: Period, today: date | None = None) -> None:
        super().__init__()
        self.period = period
        self.today = today

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("[b]Reference period[/b]")
            with Horizontal():
                yield Label("From")
                yield Input(self.period.start.isoformat(), placeholder="YYYY-MM-DD", id="start", compact=True)
            with Horizontal():
                yield Label("To")
                yield Input(self.period.end.isoformat(), placeholder="YYYY-MM-DD", id="end", compact=True)
            yield Static("", id="error")
            yield Static("Enter applies · Esc cancels\nctrl+l: the last 30 days", id="hint")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        start = self.query_one("#start", Input).value
        end = self.query_one("#end", Input).value
        try:
            period = Period.parse(start or None, end or None, today=self.today)
        except BadInput as exc:
            self.query_one("#error", Static).update(escape(exc))  # it quotes what was typed
            return
        self.dismiss(period)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_last_days(self, days: int) -> None:
        self.dismiss(Period.last_days(days, today=self.today))
