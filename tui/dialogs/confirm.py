"""A yes/no question before anything that cannot be undone."""

from __future__ import annotations

from typing import Any

from textual import events, on
from textual._time import get_time  # the clock of `Message.time`
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, LoadingIndicator, Static

from tui.textout import escape


class ConfirmDialog(ModalScreen[bool]):
    """Only a deliberate yes does it: `y`, or the Yes button chosen on purpose (Tab to it and Enter, or a
    click). No has the focus, so an Enter typed on its own, or ahead while the dialog opened, keeps things
    as they are; `n` and Escape say no too. The question is markup: data goes in it through
    `tui.textout.escape`; `yes` and `no` say what each answer does ("send now", "keep it a draft")."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; max-width: 95%; height: auto; max-height: 100%; padding: 1 2; border: round $warning;
        background: $panel;
    }
    ConfirmDialog #question-box { height: auto; max-height: 65vh; }
    ConfirmDialog #answers { height: auto; margin-top: 1; }
    ConfirmDialog #answers Button { width: auto; min-width: 12; margin-right: 2; }
    ConfirmDialog #keys { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
        # Reached only when no button has the focus (a click beside them): Enter is still no.
        Binding("enter", "answer(False)", "No", show=False),
        Binding("up", "scroll_question(-1)", "Scroll up", show=False),
        Binding("down", "scroll_question(1)", "Scroll down", show=False),
        Binding("pageup", "scroll_question(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_question(10)", "Page down", show=False),
    ]
    AUTO_FOCUS = "#no"

    def __init__(self, question: str, yes: str = "yes", no: str = "go back") -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.no = no
        self.answered = False
        self.said_early = False
        # Asked now: what it asks (Send Now's forecast) is known by the time it is made, and it shows at
        # once. Keys typed before it cannot answer it; those typed from here on can.
        self.opened_at = get_time()

    def compose(self) -> ComposeResult:
        with Vertical():
            # A long question scrolls; the buttons and keys below it stay in sight on 24 lines.
            with VerticalScroll(id="question-box", can_focus=False):
                yield Static(self.question, id="question")
            with Horizontal(id="answers"):
                yield Button(self.no[:1].upper() + self.no[1:], id="no", variant="primary", compact=True)
                yield Button(self.yes[:1].upper() + self.yes[1:], id="yes", variant="warning", compact=True)
            yield Static(id="keys")

    def on_mount(self) -> None:
        self.show_keys()

    def takes_key(self, event: events.Key) -> bool:
        """Whether a key may answer: not one typed before the question showed (a burst over SSH, a `y`
        meant for something else). Those are dropped, and the dialog says so once."""
        if event.time >= self.opened_at:
            return True
        if not self.said_early:
            self.said_early = True
            self.notify("Keys typed before this question showed are not taken as an answer.", markup=False)
        return False

    def on_descendant_focus(self) -> None:
        self.show_keys()

    def on_descendant_blur(self) -> None:
        self.show_keys()

    def show_keys(self) -> None:
        """What each key does now: Enter presses the focused button."""
        yes, no = escape(self.yes), escape(self.no)
        if self.focused is not None and self.focused.id == "yes":
            keys = f"[b]y[/b] or [b]Enter[/b] {yes} · [b]Esc[/b] {no}"
        else:
            keys = f"[b]y[/b] {yes} · [b]Enter[/b] or [b]Esc[/b] {no}"
        self.query_one("#keys", Static).update(keys)

    def action_scroll_question(self, lines: int) -> None:
        self.query_one("#question-box", VerticalScroll).scroll_relative(y=lines, animate=False)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        if self.answered:  # a second key before the dialog is gone must not answer twice
            return
        self.answered = True
        self.dismiss(answer)


def typed_before_the_question(app: App[Any], event: events.Event) -> bool:
    """True for a key typed before the question on top showed: a burst over SSH, a `y` or an Enter meant
    for the screen behind. The app drops it rather than let it answer (type-ahead delivers every other
    key where it was meant to go: tui.typeahead)."""
    if not isinstance(event, events.Key):
        return False
    try:
        screen = app.screen
    except ScreenStackError:
        return False
    return isinstance(screen, ConfirmDialog) and not screen.takes_key(event)


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
        self.done = False

    async def finish(self) -> None:
        """Closes it, and only it: under a screen opened on top meanwhile (the command palette), it
        closes itself once that one is gone."""
        self.done = True
        if self.app.screen is self:
            await self.dismiss()

    def on_screen_resume(self) -> None:
        if self.done:
            self.dismiss()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.text)
            yield LoadingIndicator()
