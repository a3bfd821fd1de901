"""What the summary's keys do: everything an admin does to a campaign, each asked first when it cannot
be undone; the period and the name filter. The base of `SummaryScreen`, which reads and draws campaigns."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input

from store import lifecycle
from store.figures import CampaignFigures
from store.period import Period
from tui.context import config_of
from tui.dialogs.period import PeriodDialog
from tui.textout import escape, plain, plural

if TYPE_CHECKING:
    from store.forecast import Forecast

PAGE = 200  # campaigns read and drawn at a time: the table holds what a person scrolls through
FILTER_PAUSE_SECONDS = 0.15


def reaches_nobody(found: Forecast) -> str:
    """Why Send Now would send no message at all, from the forecast."""
    reasons = [
        (found.skipped_window, f"had the same message in the last {found.window}"),
        (found.skipped_opted_out, "without consent"),
        (found.skipped_suppressed, "on the suppression list"),
        (found.will_fail, "would fail (their own message cannot be made)"),
    ]
    why = "; ".join(f"{n:,} {what}" for n, what in reasons if n)
    who = plural(found.pending, "recipient")
    return f"It would reach none of its {who}: {why}. Nothing was sent; it stays a draft."


def pause_key_applies(action: str, state: str | None) -> bool:
    """`p` is Pause while a campaign can go out and Resume while it is paused (summary and details)."""
    return lifecycle.can_pause(state) if action == "pause" else lifecycle.can_resume(state)


async def toggle_pause(screen: Screen[Any], campaign_id: int, state: str) -> bool:
    """Pauses or resumes the campaign as its `state` says; a refusal is one warning. True if done."""
    from store.campaign_view import viewed
    from store.db import off_loop
    from store.errors import CampaignsError
    from store.queue import pause_campaign, resume_campaign

    change = resume_campaign if lifecycle.can_resume(state) else pause_campaign
    try:
        campaign = await off_loop(viewed(change), campaign_id)
    except CampaignsError as exc:
        screen.notify(plain(exc, lines=True), severity="warning", markup=False)
        return False
    screen.notify(f"#{campaign.id} is {campaign.state}")
    return True


async def confirm_unschedule(screen: Screen[Any], campaign: CampaignFigures) -> bool:
    """`p` on a scheduled campaign: asks, then takes it back to draft; a refusal is one warning. True if
    done."""
    from store.campaign_view import viewed
    from store.db import off_loop
    from store.errors import CampaignsError
    from store.queue import unschedule_campaign
    from tui.dialogs.confirm import ConfirmDialog
    from tui.dialogs.send_now import when_said

    at = f" at {when_said(campaign.scheduled_at)}" if campaign.scheduled_at else " at its time"
    question = (
        f"Unschedule [b]#{campaign.id} {escape(campaign.name)}[/b]? "
        f"It goes back to draft and will not go{escape(at)}."
    )
    if not await screen.app.push_screen_wait(
        ConfirmDialog(question, yes="unschedule", no="keep it scheduled")
    ):
        return False
    try:
        changed = await off_loop(viewed(unschedule_campaign), campaign.id)
    except CampaignsError as exc:
        screen.notify(plain(exc, lines=True), severity="warning", markup=False)
        return False
    screen.notify(f"#{changed.id} is a draft again: it will not go{at}", markup=False)
    return True


# The keys that act on the highlighted campaign, and the rule of its state each asks (store.lifecycle).
ALLOWED_IN_STATE: dict[str, Callable[[str | None], bool]] = {
    "edit": lifecycle.can_edit,
    "recipients": lifecycle.can_add_recipients,
    "send_now": lifecycle.can_send_now,
    "test": lifecycle.can_test,
    "delete": lifecycle.can_delete,
    "pause": lifecycle.can_pause,
    "resume": lifecycle.can_resume,
    "unschedule": lifecycle.can_unschedule,  # p too: the footer says Unschedule for a scheduled campaign
    # One x, two bindings: the footer's Cancel for a campaign under way; a draft's is hidden (d deletes it).
    "cancel_campaign": lambda state: lifecycle.can_cancel(state) and not lifecycle.is_draft(state),
    "cancel_draft": lambda state: lifecycle.can_cancel(state) and lifecycle.is_draft(state),
}


class SummaryActions(Screen[None]):
    """The summary's keys and the state they share with the screen that draws it (`SummaryScreen`): the
    period, the name filter, the campaigns in the table. `check_action` keeps the footer to the keys that
    apply to the highlighted campaign. A Screen itself, so that Textual registers its `@on` handlers.

    `load` and `show_title` are the screen's: abstract to mypy only, Textual's metaclass is no ABCMeta."""

    DRAFT_ONLY = ("edit", "recipients", "send_now", "test", "delete")
    NEEDS_A_CAMPAIGN = ("details", "clone")

    def __init__(self, today: date | None = None) -> None:
        super().__init__()
        self.today = today
        self.period = Period.last_days(today=today)
        self.figures: dict[int, CampaignFigures] = {}  # the campaigns in the table, by id
        self.name_filter = ""
        self.filter_timer: Timer | None = None  # the read after the name filter's last key
        self.shown = PAGE  # how many of the period's campaigns the table holds (more as one scrolls)
        self.highlight_next: int | None = None  # the campaign to highlight when the next rows land

    @abstractmethod
    def load(self) -> None:
        """Reads the campaigns of the period again, those the name filter lets through."""
        raise NotImplementedError

    @abstractmethod
    def show_title(self) -> None:
        """Writes the period and the filter in the title."""
        raise NotImplementedError

    # -- the highlighted campaign ---------------------------------------------------------------

    def selected_id(self) -> int | None:
        table = self.query_one("#campaigns", DataTable)
        if not table.row_count:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value and row_key.value.isdigit() else None

    def highlighted(self) -> CampaignFigures | None:
        selected = self.selected_id()
        return self.figures.get(selected) if selected is not None else None

    def selected_draft(self, doing: str, allowed: Callable[[str | None], bool]) -> CampaignFigures | None:
        """The highlighted campaign when `allowed` (a store.lifecycle rule: a draft's) lets its state be
        `doing`; otherwise says why not."""
        campaign = self.highlighted()
        if campaign is None:
            self.notify("No campaign here: n creates one")
            return None
        if not allowed(campaign.state):
            self.notify(f"#{campaign.id} is {campaign.state}: only drafts can be {doing}", severity="warning")
            return None
        return campaign

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = self.query_one("#name-filter", Input).has_focus
        if typing and action in (*self.DRAFT_ONLY, *self.NEEDS_A_CAMPAIGN):
            return False  # Enter and letters belong to the filter being typed
        campaign = self.highlighted()
        if action in ALLOWED_IN_STATE:
            return ALLOWED_IN_STATE[action](campaign.state if campaign else None)
        if action in self.NEEDS_A_CAMPAIGN:
            return campaign is not None
        return True

    # -- the period and the name filter ---------------------------------------------------------

    def change_period(self, period: Period) -> None:
        self.period = period
        self.shown = PAGE
        self.show_title()
        self.load()

    def action_shift_period(self, steps: int) -> None:
        self.change_period(self.period.shifted(steps))

    def action_choose_period(self) -> None:
        def chosen(period: Period | None) -> None:
            if period is not None:
                self.change_period(period)

        self.app.push_screen(PeriodDialog(self.period, today=self.today), chosen)

    def action_filter(self) -> None:
        box = self.query_one("#name-filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#name-filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.name_filter = event.value.strip()
        self.shown = PAGE
        # Read once typing pauses, not on every key: each read of 10,000 campaigns takes a thread.
        if self.filter_timer is not None:
            self.filter_timer.stop()
        self.filter_timer = self.set_timer(FILTER_PAUSE_SECONDS, self.load)

    @on(Input.Submitted, "#name-filter")
    def filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.display = False
        self.query_one("#campaigns", DataTable).focus()

    def key_escape(self) -> None:
        """Escape clears the name filter."""
        box = self.query_one("#name-filter", Input)
        if box.display:
            box.value, box.display, self.name_filter = "", False, ""  # the change reads them again
            self.query_one("#campaigns", DataTable).focus()

    # -- to other screens -----------------------------------------------------------------------

    def back_from(self, campaign_id: int | None) -> None:
        """Back from a screen about one campaign: that campaign is the highlighted one."""
        self.highlight_next = campaign_id if campaign_id is not None else self.selected_id()
        self.load()

    @on(DataTable.RowSelected)
    def action_details(self) -> None:
        from tui.screens.detail import DetailScreen

        selected = self.selected_id()
        if selected is not None:
            self.app.push_screen(DetailScreen(selected), self.back_from)

    def action_new(self) -> None:
        from tui.screens.editor import EditorScreen

        self.app.push_screen(EditorScreen(), self.back_from)

    def action_edit(self) -> None:
        from tui.screens.editor import EditorScreen

        draft = self.selected_draft("edited", lifecycle.can_edit)
        if draft is not None:
            self.app.push_screen(EditorScreen(draft.id), self.back_from)

    def action_recipients(self) -> None:
        from tui.screens.recipients import RecipientsScreen

        draft = self.selected_draft("given recipients", lifecycle.can_add_recipients)
        if draft is not None:
            self.app.push_screen(RecipientsScreen(draft.id), lambda _result: self.back_from(draft.id))

    def action_help(self) -> None:
        from tui.dialogs.help import HelpScreen

        self.app.push_screen(HelpScreen())

    # -- what changes a campaign ----------------------------------------------------------------

    @work(group="summary-action", exit_on_error=False)
    async def action_send_now(self) -> None:
        from store.db import off_loop
        from store.errors import CampaignsError
        from store.eta import SendEstimate, send_estimate
        from store.forecast import send_now_check
        from store.queue import queue_campaign
        from tui.dialogs.confirm import WaitScreen
        from tui.dialogs.send_now import SendNowDialog, ask_send_now, forecast_text, when_said

        draft = self.selected_draft("sent", lifecycle.can_send_now)
        if draft is None:
            return
        config = config_of(self)
        waiting = None
        recipients = draft.counts.recipients
        if recipients > 20_000:  # seconds of checking: keys typed meanwhile must not act behind
            waiting = WaitScreen(f"Checking what Send Now would do for {recipients:,} recipients…")
            await self.app.push_screen(waiting)
        estimate: SendEstimate | None = None
        try:
            campaign, found = await off_loop(
                send_now_check, draft.id, config.dedup.campaign_window, config.limits
            )
            if found.will_send:
                try:
                    estimate = await off_loop(send_estimate, config, draft.id)
                except Exception:  # an ETA that cannot be read must not stop Send Now: the dialog says so
                    estimate = None
        finally:
            if waiting is not None:
                await waiting.finish()

        if not found.pending:
            self.notify(f"#{draft.id} has no recipients yet: a adds them", severity="warning")
            return
        if not found.will_send:  # nothing to say yes to: a yes would only make a campaign of nobody
            self.notify(reaches_nobody(found), title=f"Send Now of #{draft.id}", severity="warning",
                        timeout=12, markup=False)  # fmt: skip
            return
        forecast = forecast_text(found, campaign.body, campaign.subject)
        has_b = campaign.variant_body is not None  # the draw splits the others between A and B
        dialog = SendNowDialog(
            draft.id, draft.name, draft.channel, forecast, estimate, found.will_send, has_b
        )
        when = await ask_send_now(self.app, dialog)
        if when is None:
            return
        try:
            await off_loop(queue_campaign, draft.id, at=when.at, window=config.dedup.campaign_window,
                           limits=config.limits, holdout=when.holdout, b_share=when.b_share)  # fmt: skip
        except CampaignsError as exc:  # the time passed while the question was open, say
            self.notify(plain(exc), severity="warning", markup=False)
            return
        if when.at is not None:
            self.notify(f"#{draft.id} is scheduled for {when_said(when.at)}", title="Send Now", markup=False)
        else:
            self.notify(f"#{draft.id} is queued: it goes out in turn", title="Send Now")
        self.load()

    def action_pause(self) -> None:
        self.pause_or_resume()

    def action_resume(self) -> None:
        self.pause_or_resume()

    @work(group="summary-action", exit_on_error=False)
    async def action_unschedule(self) -> None:
        campaign = self.highlighted()
        if campaign is None or not lifecycle.can_unschedule(campaign.state):
            return
        if await confirm_unschedule(self, campaign):
            self.load()

    @work(group="summary-action", exit_on_error=False)
    async def pause_or_resume(self) -> None:
        campaign = self.highlighted()
        if campaign is not None and await toggle_pause(self, campaign.id, campaign.state):
            self.load()

    def action_cancel_draft(self) -> None:
        self.action_cancel_campaign()

    @work(group="summary-action", exit_on_error=False)
    async def action_cancel_campaign(self) -> None:
        from store.db import off_loop
        from store.errors import CampaignsError
        from store.queue import cancel_campaign
        from tui.dialogs.confirm import ConfirmDialog

        campaign = self.highlighted()
        if campaign is None:
            return
        if not lifecycle.can_cancel(campaign.state):
            self.notify(
                f"#{campaign.id} is {campaign.state}: it can no longer be cancelled", severity="warning"
            )
            return
        left = campaign.counts.pending + campaign.counts.sending
        question = (
            f"Cancel [b]{escape(campaign.name)}[/b]? The {left:,} messages not sent yet will never go. "
            "This cannot be undone."
        )
        if lifecycle.is_scheduled(campaign.state):  # p takes it back to draft instead, to send later
            question += "\n\n[b]Note[/b]: it is scheduled; p unschedules it instead (back to draft)."
        if not await self.app.push_screen_wait(
            ConfirmDialog(question, yes="cancel the campaign", no="keep it")
        ):
            return
        try:
            await off_loop(cancel_campaign, campaign.id)
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="error", markup=False)
            return
        self.notify(f"#{campaign.id} is cancelled")
        self.load()

    @work(group="summary-action", exit_on_error=False)
    async def action_test(self) -> None:
        from senders.trial_send import send_test
        from store.db import off_loop
        from store.errors import CampaignsError
        from store.quiet_hours import quiet_note
        from tui.dialogs.test_send import TestDialog

        draft = self.selected_draft("tested", lifecycle.can_test)
        if draft is None:
            return
        addresses = await self.app.push_screen_wait(TestDialog(draft))
        if not addresses:
            return
        self.notify(f"Sending a test of #{draft.id}…", timeout=3)
        try:
            results = await send_test(config_of(self), draft.id, addresses)
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="error", markup=False)
            return
        # markup off: the addresses as typed and the providers' answers
        sent = [plain(r.to) for r in results if r.state == "sent"]
        other = [f"{plain(r.to)} ({plain(r.error)})" for r in results if r.state != "sent"]
        lines = [f"sent to {', '.join(sent)}"] if sent else []
        lines += [f"not sent: {'; '.join(other)}"] if other else []
        note = await off_loop(quiet_note, config_of(self), draft.channel)
        if sent and note:
            lines.append(note)
        self.notify("\n".join(lines), title=f"Test of #{draft.id}",
                    severity="information" if sent else "error", timeout=10, markup=False)  # fmt: skip

    @work(group="summary-action", exit_on_error=False)
    async def action_clone(self) -> None:
        from store.db import off_loop
        from store.drafts import clone_campaign

        campaign = self.highlighted()
        if campaign is None:
            return
        limits = config_of(self).limits
        draft, recipients = await off_loop(clone_campaign, campaign.id, None, limits)
        self.notify(f"Draft #{draft.id} created: a copy of #{campaign.id} with {recipients:,} recipients",
                    title="Clone")  # fmt: skip
        self.back_from(draft.id)

    @work(group="summary-action", exit_on_error=False)
    async def action_delete(self) -> None:
        from store.db import off_loop
        from store.drafts import delete_draft
        from store.errors import CampaignsError
        from tui.dialogs.confirm import ConfirmDialog

        draft = self.selected_draft("deleted", lifecycle.can_delete)
        if draft is None:
            return
        question = (
            f"Delete the draft [b]{escape(draft.name)}[/b] and its {draft.counts.recipients:,} recipients? "
            "This cannot be undone."
        )
        if not await self.app.push_screen_wait(ConfirmDialog(question, yes="delete", no="keep it")):
            return
        try:
            await off_loop(delete_draft, draft.id)
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="error", markup=False)
            return
        self.notify(f"Draft #{draft.id} deleted")
        self.load()
