"""Send Now's question: the forecast, when it would end, a time to schedule it for instead of now, and the
groups of an experiment (issue 19): a share kept out as a control group, B's share of the others; for an
email, what spam filters would hold against it (senders.email_check), read while the question is open."""

from __future__ import annotations

import asyncio
import textwrap
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
from store.config import Config
from store.experiments import DEFAULT_B_SHARE
from tui.context import config_of
from tui.dialogs.confirm import ConfirmDialog
from tui.textout import escape

if TYPE_CHECKING:
    from store.eta import SendEstimate
    from store.forecast import Forecast

RECKONING = "working out when it would end…"
NO_ESTIMATE = "no estimate: the database did not answer in time"
CHECKING_EMAIL = "Email check: checking the email…"
# The dialog's text is 76 columns wide at 80 (its border and padding take 4); the check's line takes two
# of its rows at most: the worst finding is told in full by `campaigns check-email ID`.
CHECK_COLUMNS, CHECK_ROWS = 76, 2


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


async def email_check_line(config: Config, campaign_id: int) -> str:
    """The Send Now line of the campaign's email check (senders.email_check), A's and B's the worse: store
    work off the loop, SpamAssassin a process the loop waits for (killed when this is cancelled)."""
    from senders.email_check import check_before_sending
    from store.db import off_loop
    from store.secrets import link_secret

    secret = await off_loop(link_secret, config.feedback.secret)
    return (await check_before_sending(config, campaign_id, secret)).line()


def check_text(line: str) -> str:
    """The check's line as the dialog shows it, markup: cut to its rows, "Email check:" in bold."""
    rows = textwrap.wrap(line, CHECK_COLUMNS, max_lines=CHECK_ROWS, placeholder=" …") or [""]
    text = "\n".join(escape(row) for row in rows)
    head = "Email check:"
    return f"[b]{head}[/b]{text.removeprefix(head)}" if text.startswith(head) else text


def check_failed(exc: BaseException) -> str:
    """The line when the check could not be made: why, in one line."""
    reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
    return f"Email check: not available ({reason})"


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


def share_said(share: float) -> str:
    """B's share of those not held out, in words: "half", "30%"."""
    return "half" if share == 0.5 else f"{share * 100:g}%"


def groups_text(will_send: int, holdout: float, b_share: float | None) -> str:
    """What the draw will do with the `will_send` recipients Send Now reaches: how many are held out and
    how many of the others get B, by the draw's own rounding (store.experiments.quotas): the numbers the
    draw then makes. `holdout` in percent, `b_share` a fraction (None: no variant B). Empty: no groups."""
    from store.experiments import quotas

    held = quotas({"all": will_send}, holdout / 100)["all"]
    others = will_send - held
    parts = []
    if held:
        parts.append(
            f"[b]{holdout:g}%[/b] held out as a control group: [b]{held:,}[/b] of the {will_send:,} below "
            f"never get it, {others:,} do"
        )
    if b_share is not None:
        to_b = quotas({"all": others}, b_share)["all"]
        whom = f"of those {others:,}" if held else f"of the {will_send:,} below"
        parts.append(f"{whom}, {share_said(b_share)} get B ({to_b:,}), the rest A ({others - to_b:,})")
    said = "; ".join(parts)
    return f"{said[:1].upper()}{said[1:]}." if parts else ""


def percent_typed(text: str, low: int, high: int, what: str) -> float:
    """A percentage typed in a field ("10", "12.5", "10 %"), from `low` to `high`; ValueError in one
    line saying why not."""
    cleaned = text.strip().removesuffix("%").strip()
    try:
        value = float(cleaned or "nan")
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN and infinities too
        raise ValueError(f"{what} is a number from {low} to {high}, not {text.strip()!r}"[:76])
    return value


@dataclass(frozen=True)
class SendWhen:
    """The answer to Send Now: now (`at` None), or scheduled at `at` (naive UTC); `holdout` the percent
    kept out as a control group; `b_share` the fraction of the others that get B (None: no B)."""

    at: datetime | None
    holdout: float = 0.0
    b_share: float | None = None


class WhenInput(Input):
    """A field of the dialog (When, Hold-out %, B share %): Escape leaves it for the answers (it does not
    answer the question)."""

    BINDINGS = [Binding("escape", "leave", "Back to the answers", show=False)]

    def action_leave(self) -> None:
        screen = self.screen
        if isinstance(screen, SendNowDialog):
            screen.leave_field(self)


class ShareInput(WhenInput):
    """Hold-out % and B share %: reached by their keys (h, b), not by Tab, which goes from When to the
    answers as it always did."""

    can_focus = False

    def on_blur(self) -> None:
        self.can_focus = False


class SendNowDialog(ConfirmDialog):
    """ConfirmDialog's rules (only `y` or the Yes button chosen on purpose answers yes; Enter on its own,
    `n` and Escape say no; keys typed before the question showed answer nothing), plus a When field:
    empty sends now; `t` (or Tab) goes to it, Enter takes the time typed, rewords the question and gives
    the focus back to No, so a yes to the new question is a `y` of its own. Dismissed with True for yes:
    `at` says when (`ask_send_now` gives both as one answer)."""

    # Wider than ConfirmDialog's, and no blank lines inside the frame: the ETA line (up to 70 characters)
    # stays on one line, and the question, the ETA with its note, an email's check, When and the answers
    # fit in 24 lines.
    DEFAULT_CSS = """
    SendNowDialog > Vertical { width: 80; max-width: 100%; padding: 0 1; }
    SendNowDialog #question-box { max-height: 40vh; }
    SendNowDialog.email #question-box { max-height: 35vh; }
    SendNowDialog #eta { height: auto; margin-top: 1; }
    SendNowDialog #email-check { height: auto; max-height: 2; text-wrap: nowrap; text-overflow: ellipsis; }
    SendNowDialog #when-row { height: 1; margin-top: 1; }
    SendNowDialog #when-row Label { width: 6; }
    SendNowDialog #when { width: 1fr; }
    SendNowDialog #when-error { height: auto; color: $error; }
    SendNowDialog #groups-row { height: 1; }
    SendNowDialog #groups-row Label { width: auto; margin-right: 1; }
    SendNowDialog #holdout, SendNowDialog #b-share { width: 8; margin-right: 3; }
    """
    BINDINGS = [
        Binding("t", "type_time", "Type a time"),
        Binding("h", "type_holdout", "Hold-out %"),
        Binding("b", "type_b_share", "B share %"),
    ]

    def __init__(
        self,
        campaign_id: int,
        name: str,
        channel: str,
        forecast: str,
        estimate: SendEstimate | None,
        will_send: int = 0,
        has_b: bool = False,
    ) -> None:
        self.campaign_id = campaign_id
        self.name_shown = name
        self.channel = channel
        self.forecast = forecast  # markup: what Send Now would do, and its notes
        self.will_send = will_send  # the forecast's: who the hold-out and B are drawn among
        self.has_b = has_b  # the draft has a variant B: the others are split between A and B
        self.at: datetime | None = None  # None: now
        self.taken = ""  # the text of the When field the question says
        self.holdout = 0.0  # percent held out, as the question says
        self.b_share: float | None = DEFAULT_B_SHARE if has_b else None
        # The text of each field the question says: typed and not taken (no Enter yet) answers nothing
        self.fields_taken = {"holdout": "0", "b-share": "50"}
        self.asked = self.landed = 0  # ETAs asked for and the last one shown: a yes waits for it
        self.eta = eta_text(estimate)
        self.checking: asyncio.Task[None] | None = None  # the email check on its way
        super().__init__(self.wording(), yes="send now", no="keep it a draft")
        # The check's two rows come off the question's, which scrolls: the answers stay on 24 lines.
        self.set_class(channel == "email", "email")

    def compose(self) -> ComposeResult:
        with Vertical():
            with VerticalScroll(id="question-box", can_focus=False):
                yield Static(self.question, id="question")
            yield Static(self.eta, id="eta")
            if self.channel == "email":
                yield Static(check_text(CHECKING_EMAIL), id="email-check")
            with Horizontal(id="when-row"):
                yield Label("When")
                tomorrow = (local(utcnow()) + timedelta(days=1)).date()
                example = f"now · or a time, e.g. {tomorrow.isoformat()} 09:30"
                yield WhenInput(placeholder=example, id="when", compact=True)
            with Horizontal(id="groups-row"):
                yield Label("[b]h[/b] Hold-out %")
                yield ShareInput(self.fields_taken["holdout"], id="holdout", compact=True, max_length=6)
                if self.has_b:
                    yield Label("[b]b[/b] B share %")
                    yield ShareInput(self.fields_taken["b-share"], id="b-share", compact=True, max_length=6)
            yield Static(id="when-error")
            with Horizontal(id="answers"):
                yield Button(self.no[:1].upper() + self.no[1:], id="no", variant="primary", compact=True)
                yield Button(self.yes[:1].upper() + self.yes[1:], id="yes", variant="warning", compact=True)
            yield Static(id="keys")

    def on_mount(self) -> None:
        self.query_one("#when-error", Static).display = False
        super().on_mount()
        if self.channel == "email":
            # A task, not a worker: the app's type-ahead holds the keys while a worker of the screen on
            # top runs, and the answer must never wait for a check that only informs it.
            self.checking = asyncio.create_task(self.check_the_email())

    def on_unmount(self) -> None:
        if self.checking is not None:
            self.checking.cancel()

    async def check_the_email(self) -> None:
        """The email check's line in place of "checking…" when it comes; why not, if it cannot be made.
        It changes nothing the keys do: the question is all there without it."""
        try:
            line = await email_check_line(config_of(self), self.campaign_id)
        except Exception as exc:  # never the question's end: it is asked all the same
            line = check_failed(exc)
        if self.is_attached:
            self.query_one("#email-check", Static).update(check_text(line))

    def wording(self) -> str:
        name, channel = escape(self.name_shown), self.channel.upper()
        groups = groups_text(self.will_send, self.holdout, self.b_share)
        forecast = f"{groups}\n\n{self.forecast}" if groups else self.forecast
        if self.at is None:
            return f"Send [b]{name}[/b] now, by {channel}?\n\n{forecast}"
        when = f"{when_said(self.at)} ({zone_name()})"
        return f"Schedule [b]{name}[/b] for [b]{escape(when)}[/b], by {channel}?\n\n{forecast}"

    @property
    def reckoning(self) -> bool:
        """An ETA for the time taken is on its way: the question is not all there yet."""
        return self.landed != self.asked

    # -- the When field ----------------------------------------------------------------------------

    def action_type_time(self) -> None:
        self.query_one("#when", Input).focus()

    def action_type_holdout(self) -> None:
        self.type_share("#holdout")

    def action_type_b_share(self) -> None:
        if self.has_b:
            self.type_share("#b-share")

    def type_share(self, selector: str) -> None:
        field = self.query_one(selector, Input)
        field.can_focus = True
        field.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.has_b if action == "type_b_share" else True

    def leave_field(self, field: Input) -> None:
        """Escape in a field: what was typed and not taken goes; the answers have the focus."""
        field.value = self.taken if field.id == "when" else self.fields_taken[str(field.id)]
        self.say_error("")
        self.query_one("#no", Button).focus()

    def leave_when(self) -> None:
        self.leave_field(self.query_one("#when", Input))

    def untaken(self) -> Input | None:
        """A field whose text was typed and not taken with Enter: a yes must not go with what it does not
        say."""
        if self.query_one("#when", Input).value != self.taken:
            return self.query_one("#when", Input)
        for field in self.query("#holdout, #b-share").results(Input):
            if field.value != self.fields_taken[str(field.id)]:
                return field
        return None

    @on(Input.Submitted, "#holdout, #b-share")
    def share_typed(self, event: Input.Submitted) -> None:
        """Enter in Hold-out % or B share %: a number in range rewords the question (keys typed before
        it was reworded answer nothing), and the focus goes back to No; else one line says why not."""
        event.stop()
        field = event.input
        try:
            if field.id == "holdout":
                holdout = percent_typed(event.value, 0, 99, "the hold-out")
            else:
                share = percent_typed(event.value, 1, 99, "B's share") / 100
        except ValueError as exc:
            self.say_error(str(exc))
            return
        self.say_error("")
        self.fields_taken[str(field.id)] = event.value
        if field.id == "holdout":
            self.holdout = holdout
        else:
            self.b_share = share
        self.question = self.wording()
        self.query_one("#question", Static).update(self.question)
        self.query_one("#no", Button).focus()
        # Keys typed before the new question showed do not answer it (ConfirmDialog.takes_key).
        self.opened_at, self.said_early = get_time(), False

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
        elif self.focused is not None and self.focused.id in ("holdout", "b-share"):
            keys = "[b]Enter[/b] takes the percentage · [b]Esc[/b] back to the answers"
        else:
            yes, no = escape(self.yes), escape(self.no)
            if self.focused is not None and self.focused.id == "yes":
                keys = f"[b]y[/b] or [b]Enter[/b] {yes} · [b]Esc[/b] {no}"
            else:
                keys = f"[b]y[/b] {yes} · [b]Enter[/b] or [b]Esc[/b] {no}"
            keys += f" · [b]t[/b] {'another time' if self.at is not None else 'a time'}"  # h, b: their labels
        self.query_one("#keys", Static).update(keys)

    def action_answer(self, answer: bool) -> None:
        if answer and self.reckoning:
            self.notify("A moment: the question is being reworded for the time taken.", markup=False)
            return
        field = self.untaken() if answer else None
        if field is not None:
            what = {"when": "When takes the time", "holdout": "Hold-out % takes the number"}.get(
                str(field.id), "B share % takes the number"
            )
            self.say_error(f"Enter in {what} typed (Esc there drops it); then y")
            field.can_focus = True
            field.focus()
            return
        super().action_answer(answer)


async def ask_send_now(app: App[Any], dialog: SendNowDialog) -> SendWhen | None:
    """Asks; None for no, else when to send, and the groups to draw."""
    if not await app.push_screen_wait(dialog):
        return None
    return SendWhen(dialog.at, dialog.holdout, dialog.b_share)
