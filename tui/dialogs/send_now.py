"""Send Now's question: the forecast, when it would end, and a time to schedule it for instead of now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual._time import get_time  # the clock of `Message.time`, as ConfirmDialog's
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Static

from store.clock import WhenError, local, parse_when, utcnow, wall_clock, zone_name
from tui.context import config_of
from tui.dialogs.confirm import ConfirmDialog
from tui.textout import escape

if TYPE_CHECKING:
    from store.eta import SendEstimate
    from store.forecast import Forecast

RECKONING = "working out when it would end…"
NO_ESTIMATE = "no estimate: the database did not answer in time"


def when_said(moment: datetime, now: datetime | None = None) -> str:
    """A stored (naive UTC) time as the admin reads it, in the center's zone: "today 14:30",
    "tomorrow 09:00", "Thu 3 Dec 09:30", "14 Jan 09:00"."""
    said = wall_clock(moment, now)
    return f"today {said}" if said[:1].isdigit() and len(said) == 5 else said


def eta_text(found: SendEstimate | None) -> str:
    """The ETA as the dialog and the details show it, its warning as a note; markup."""
    if found is None:
        return f"[b]ETA[/b] {NO_ESTIMATE}"
    text = f"[b]ETA[/b] {escape(found.line)}"
    if found.warning:
        text += f"\n[b]Note[/b]: {escape(found.warning)}"
    return text


def forecast_text(found: Forecast, body: str | None, subject: str | None) -> str:
    """What Send Now would do, with its notes, as markup: the question's body under its first line."""
    from store.templates import unknown_names_note

    text = (
        f"{found.will_send:,} of {found.pending:,} recipients get it; "
        f"{found.skipped_window:,} had the same message in the last {found.window} and "
        f"{found.skipped_opted_out:,} have no consent or unsubscribed, so they are skipped."
    )
    if found.skipped_suppressed:
        text += f"\n\n[b]Note[/b]: {escape(found.suppressed_note())}"
    if found.will_fail:
        text += f"\n\n[b]Note[/b]: {found.will_fail_note()}"
    if found.blank_names:
        text += f"\n\n[b]Note[/b]: {found.blank_names_note()}"
    unknown = unknown_names_note(body, subject)
    if unknown:
        text += f"\n\n[b]Note[/b]: {escape(unknown)}"
    return text


@dataclass(frozen=True)
class SendWhen:
    """The answer to Send Now: now (`at` None), or scheduled at `at` (naive UTC)."""

    at: datetime | None


class WhenInput(Input):
    """The When field: Escape leaves it for the answers (it does not answer the question)."""

    BINDINGS = [Binding("escape", "leave", "Back to the answers", show=False)]

    def action_leave(self) -> None:
        screen = self.screen
        if isinstance(screen, SendNowDialog):
            screen.leave_when()


class SendNowDialog(ConfirmDialog):
    """ConfirmDialog's rules (only `y` or the Yes button chosen on purpose answers yes; Enter on its own,
    `n` and Escape say no; keys typed before the question showed answer nothing), plus a When field:
    empty sends now; `t` (or Tab) goes to it, Enter takes the time typed, rewords the question and gives
    the focus back to No, so a yes to the new question is a `y` of its own. Dismissed with True for yes:
    `at` says when (`ask_send_now` gives both as one answer)."""

    # Wider than ConfirmDialog's, and no blank lines inside the frame: the ETA line (up to 70 characters)
    # stays on one line, and the question, the ETA with its note, When and the answers fit in 24 lines.
    DEFAULT_CSS = """
    SendNowDialog > Vertical { width: 80; max-width: 100%; padding: 0 1; }
    SendNowDialog #question-box { max-height: 40vh; }
    SendNowDialog #eta { height: auto; margin-top: 1; }
    SendNowDialog #when-row { height: 1; margin-top: 1; }
    SendNowDialog #when-row Label { width: 6; }
    SendNowDialog #when { width: 1fr; }
    SendNowDialog #when-error { height: auto; color: $error; }
    """
    BINDINGS = [Binding("t", "type_time", "Type a time")]

    def __init__(
        self, campaign_id: int, name: str, channel: str, forecast: str, estimate: SendEstimate | None
    ) -> None:
        self.campaign_id = campaign_id
        self.name_shown = name
        self.channel = channel
        self.forecast = forecast  # markup: what Send Now would do, and its notes
        self.at: datetime | None = None  # None: now
        self.taken = ""  # the text of the When field the question says
        self.asked = self.landed = 0  # ETAs asked for and the last one shown: a yes waits for it
        self.eta = eta_text(estimate)
        super().__init__(self.wording(), yes="send now", no="keep it a draft")

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="question-box", can_focus=False):
                yield Static(self.question, id="question")
            yield Static(self.eta, id="eta")
            with Horizontal(id="when-row"):
                yield Label("When")
                tomorrow = (local(utcnow()) + timedelta(days=1)).date()
                example = f"now · or a time, e.g. {tomorrow.isoformat()} 09:30"
                yield WhenInput(placeholder=example, id="when", compact=True)
            yield Static(id="when-error")
            with Horizontal(id="answers"):
                yield Button(self.no[:1].upper() + self.no[1:], id="no", variant="primary", compact=True)
                yield Button(self.yes[:1].upper() + self.yes[1:], id="yes", variant="warning", compact=True)
            yield Static(id="keys")

    def on_mount(self) -> None:
        self.query_one("#when-error", Static).display = False
        super().on_mount()

    def wording(self) -> str:
        name, channel = escape(self.name_shown), self.channel.upper()
        if self.at is None:
            return f"Send [b]{name}[/b] now, by {channel}?\n\n{self.forecast}"
        when = f"{when_said(self.at)} ({zone_name()})"
        return f"Schedule [b]{name}[/b] for [b]{escape(when)}[/b], by {channel}?\n\n{self.forecast}"

    @property
    def reckoning(self) -> bool:
        """An ETA for the time taken is on its way: the question is not all there yet."""
        return self.landed != self.asked

    # -- the When field ----------------------------------------------------------------------------

    def action_type_time(self) -> None:
        self.query_one("#when", Input).focus()

    def leave_when(self) -> None:
        """Escape in the field: what was typed and not taken goes; the answers have the focus."""
        field = self.query_one("#when", Input)
        field.value = self.taken
        self.say_error("")
        self.query_one("#no", Button).focus()

    def say_error(self, text: str) -> None:
        error = self.query_one("#when-error", Static)
        error.update(escape(text))
        error.display = bool(text)

    @on(Input.Submitted, "#when")
    def time_typed(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        at = None
        if text:
            try:
                at = parse_when(text)
            except WhenError as exc:
                self.say_error(str(exc))
                return
            if at <= utcnow():
                self.say_error(f"{when_said(at)} ({zone_name()}) is in the past: type a later time")
                return
        self.say_error("")
        self.taken, self.at = event.value, at
        self.yes = "send now" if at is None else "schedule"
        self.query_one("#yes", Button).label = self.yes[:1].upper() + self.yes[1:]
        self.question = self.wording()
        self.query_one("#question", Static).update(self.question)
        self.query_one("#eta", Static).update(f"[b]ETA[/b] {RECKONING}")
        self.query_one("#no", Button).focus()
        self.asked += 1
        self.reckon(self.asked, at)

    @work(group="send-now-eta", exit_on_error=False)
    async def reckon(self, ticket: int, at: datetime | None) -> None:
        """The ETA from the time taken, read off the loop; only the newest one asked is shown."""
        from store.db import off_loop
        from store.eta import send_estimate

        found: SendEstimate | None
        try:
            found = await off_loop(send_estimate, config_of(self), self.campaign_id, at)
        except Exception:  # an estimate that cannot be read must not stop the question
            found = None
        if ticket != self.asked:
            return
        self.eta = eta_text(found)
        self.query_one("#eta", Static).update(self.eta)
        self.landed = ticket
        # Keys typed before the new question was all there do not answer it (ConfirmDialog.takes_key).
        self.opened_at, self.said_early = get_time(), False
        self.show_keys()

    # -- the answers --------------------------------------------------------------------------------

    def show_keys(self) -> None:
        """What each key does now: in the field, Enter takes the time; elsewhere ConfirmDialog's keys."""
        if self.focused is not None and self.focused.id == "when":
            keys = "[b]Enter[/b] takes the time (empty: now) · [b]Esc[/b] back to the answers"
        else:
            yes, no = escape(self.yes), escape(self.no)
            if self.focused is not None and self.focused.id == "yes":
                keys = f"[b]y[/b] or [b]Enter[/b] {yes} · [b]Esc[/b] {no}"
            else:
                keys = f"[b]y[/b] {yes} · [b]Enter[/b] or [b]Esc[/b] {no}"
            keys += f" · [b]t[/b] {'another time' if self.at is not None else 'a time'}"
        self.query_one("#keys", Static).update(keys)

    def action_answer(self, answer: bool) -> None:
        if answer and self.reckoning:
            self.notify("A moment: the question is being reworded for the time taken.", markup=False)
            return
        if answer and self.query_one("#when", Input).value != self.taken:
            self.say_error("Enter in When takes the time typed (Esc there drops it); then y")
            self.query_one("#when", Input).focus()
            return
        super().action_answer(answer)


async def ask_send_now(app: App[Any], dialog: SendNowDialog) -> SendWhen | None:
    """Asks; None for no, else when to send."""
    if not await app.push_screen_wait(dialog):
        return None
    return SendWhen(dialog.at)
