"""Where to send a test of a draft: addresses typed on the spot."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from store.figures import CampaignFigures
from tui.textout import escape

WHAT = {
    "email": "email addresses",
    "sms": "mobile numbers",
    "push": "emails or phones of contacts who have the app",
}
EXAMPLE = {
    "email": "e.g. me@centromedico.it, collega@centromedico.it",
    "sms": "e.g. +39 347 123 4567, 333 765 4321",
    "push": "e.g. me@centromedico.it, +39 347 123 4567",
}


class TestDialog(ModalScreen[str | None]):
    """Dismissed with the addresses as typed, or None."""

    DEFAULT_CSS = """
    TestDialog { align: center middle; }
    TestDialog > Vertical {
        width: 64; max-width: 95%; height: auto; padding: 1 2; border: round $accent; background: $panel;
    }
    TestDialog Input { margin-top: 1; }
    TestDialog #keys { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, draft: CampaignFigures) -> None:
        super().__init__()
        self.draft = draft

    def compose(self) -> ComposeResult:
        channel = self.draft.channel
        with Vertical():
            yield Static(
                f"Send a test of [b]{escape(self.draft.name)}[/b] ({channel.upper()}) now, "
                f"to {WHAT[channel]}, separated by , or ;. It is marked \\[TEST] and counts nowhere."
            )
            yield Input(placeholder=EXAMPLE[channel], id="addresses")
            yield Static("[b]Enter[/b] sends · [b]Escape[/b] cancels", id="keys")

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
