"""What the summary's keys do: everything an admin does to a campaign, each asked first when it cannot
be undone. Mixed into `SummaryScreen`, which holds the campaigns (`docs`) and draws them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.screen import Screen
from textual.widgets import DataTable, Input

from store.period import Period
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
        (found.will_fail, "would fail (their own message cannot be made)"),
    ]
    why = "; ".join(f"{n:,} {what}" for n, what in reasons if n)
    who = plural(found.pending, "recipient")
    return f"It would reach none of its {who}: {why}. Nothing was sent; it stays a draft."


def pause_key_applies(action: str, state: str | None) -> bool:
    """`p` is Pause while a campaign can go out and Resume while it is paused (summary and details)."""
    return state in ("queued", "sending") if action == "pause" else state == "paused"


async def toggle_pause(screen: Screen[Any], campaign_id: int, state: str) -> bool:
    """Pauses or resumes the campaign as its `state` says; a refusal is one warning. True if done."""
    from store.db import off_loop
    from store.errors import CampaignsError
    from store.queue import pause_campaign, resume_campaign

    change = resume_campaign if state == "paused" else pause_campaign
    try:
        campaign = await off_loop(change, campaign_id)
    except CampaignsError as exc:
        screen.notify(plain(exc, lines=True), severity="warning", markup=False)
        return False
    screen.notify(f"#{campaign.id} is {campaign.state}")
    return True


class SummaryActions(Screen[None]):
    """The actions; `check_action` keeps the footer to those that apply to the highlighted campaign.

    A Screen itself, so that Textual registers its `@on` handlers."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        typing = self.query_one("#name-filter", Input).has_focus
        if typing and action in (*self.DRAFT_ONLY, *self.NEEDS_A_CAMPAIGN):
            return False  # Enter and letters belong to the filter being typed
        doc = self.highlighted_doc()
        state = doc["state"] if doc else None
        if action in self.DRAFT_ONLY:
            return state == "draft"
        if action in self.NEEDS_A_CAMPAIGN:
            return doc is not None
        if action in ("pause", "resume"):
            return pause_key_applies(action, state)
        if action == "cancel_campaign":
            return state in ("queued", "sending", "paused")
        if action == "cancel_draft":
            return state == "draft"
        return True

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

    def action_refresh(self) -> None:
        self.conversions = {}  # asked for: every figure read again, conversion too
        self.load()

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

    def selected_draft(self, doing: str) -> int | None:
        """The highlighted campaign when it is a draft; otherwise says why not."""
        selected = self.selected_id()
        doc = self.docs.get(selected) if selected is not None else None
        if doc is None:
            self.notify("No campaign here: n creates one")
            return None
        if doc["state"] != "draft":
            self.notify(f"#{doc['id']} is {doc['state']}: only drafts can be {doing}", severity="warning")
            return None
        return selected

    def action_edit(self) -> None:
        from tui.screens.editor import EditorScreen

        draft = self.selected_draft("edited")
        if draft is not None:
            self.app.push_screen(EditorScreen(draft), self.back_from)

    def highlighted_doc(self) -> dict[str, Any] | None:
        selected = self.selected_id()
        return self.docs.get(selected) if selected is not None else None

    @work(group="summary-action", exit_on_error=False)
    async def action_send_now(self) -> None:
        from store.campaigns import get_campaign
        from store.db import off_loop
        from store.errors import CampaignsError
        from store.forecast import forecast
        from store.queue import queue_campaign
        from store.templates import unknown_names_note
        from tui.dialogs.confirm import ConfirmDialog, WaitScreen

        draft = self.selected_draft("sent")
        if draft is None:
            return
        doc = self.docs[draft]
        window = self.app.config.dedup.campaign_window  # type: ignore[attr-defined]
        waiting = None
        if doc["recipients"] > 20_000:  # seconds of checking: keys typed meanwhile must not act behind
            waiting = WaitScreen(f"Checking what Send Now would do for {doc['recipients']:,} recipients…")
            await self.app.push_screen(waiting)
        try:
            campaign = await off_loop(get_campaign, draft)
            found = await off_loop(forecast, campaign, window, None, self.app.config.limits)
        finally:
            if waiting is not None:
                await waiting.finish()

        if not found.pending:
            self.notify(f"#{draft} has no recipients yet: a adds them", severity="warning")
            return
        if not found.will_send:  # nothing to say yes to: a yes would only make a campaign of nobody
            self.notify(reaches_nobody(found), title=f"Send Now of #{draft}", severity="warning", timeout=12,
                        markup=False)  # fmt: skip
            return
        question = (
            f"Send [b]{escape(doc['name'])}[/b] now, by {doc['channel'].upper()}?\n\n"
            f"{found.will_send:,} of {found.pending:,} recipients get it; "
            f"{found.skipped_window:,} had the same message in the last {found.window} and "
            f"{found.skipped_opted_out:,} have no consent or unsubscribed, so they are skipped."
        )
        if found.will_fail:
            question += f"\n\n[b]Note[/b]: {found.will_fail_note()}"
        if found.blank_names:
            question += f"\n\n[b]Note[/b]: {found.blank_names_note()}"
        unknown = unknown_names_note(campaign.body, campaign.subject)
        if unknown:
            question += f"\n\n[b]Note[/b]: {escape(unknown)}"
        if not await self.app.push_screen_wait(ConfirmDialog(question, yes="send now", no="keep it a draft")):
            return
        try:
            await off_loop(queue_campaign, draft)
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="error", markup=False)
            return
        self.notify(f"#{draft} is queued: it goes out in turn", title="Send Now")
        self.load()

    def action_pause(self) -> None:
        self.pause_or_resume()

    def action_resume(self) -> None:
        self.pause_or_resume()

    @work(group="summary-action", exit_on_error=False)
    async def pause_or_resume(self) -> None:
        doc = self.highlighted_doc()
        if doc is not None and await toggle_pause(self, doc["id"], doc["state"]):
            self.load()

    def action_cancel_draft(self) -> None:
        self.action_cancel_campaign()

    @work(group="summary-action", exit_on_error=False)
    async def action_cancel_campaign(self) -> None:
        from store.db import off_loop
        from store.errors import CampaignsError
        from store.queue import cancel_campaign
        from tui.dialogs.confirm import ConfirmDialog

        doc = self.highlighted_doc()
        if doc is None:
            return
        if doc["state"] not in ("draft", "queued", "sending", "paused"):
            self.notify(f"#{doc['id']} is {doc['state']}: it can no longer be cancelled", severity="warning")
            return
        left = doc["pending"] + doc["sending"]
        question = (
            f"Cancel [b]{escape(doc['name'])}[/b]? The {left:,} messages not sent yet will never go. "
            "This cannot be undone."
        )
        if not await self.app.push_screen_wait(
            ConfirmDialog(question, yes="cancel the campaign", no="keep it")
        ):
            return
        try:
            await off_loop(cancel_campaign, doc["id"])
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="error", markup=False)
            return
        self.notify(f"#{doc['id']} is cancelled")
        self.load()

    def action_recipients(self) -> None:
        from tui.screens.recipients import RecipientsScreen

        draft = self.selected_draft("given recipients")
        if draft is not None:
            self.app.push_screen(RecipientsScreen(draft), lambda _result: self.back_from(draft))

    def action_help(self) -> None:
        from tui.dialogs.help import HelpScreen

        self.app.push_screen(HelpScreen())

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

    @work(group="summary-action", exit_on_error=False)
    async def action_test(self) -> None:
        from senders.trial_send import send_test
        from store.errors import CampaignsError
        from tui.dialogs.test_send import TestDialog

        draft = self.selected_draft("tested")
        if draft is None:
            return
        doc = self.docs[draft]
        addresses = await self.app.push_screen_wait(TestDialog(doc))
        if not addresses:
            return
        self.notify(f"Sending a test of #{draft}…", timeout=3)
        try:
            results = await send_test(self.app.config, draft, addresses)  # type: ignore[attr-defined]
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="error", markup=False)
            return
        # markup off: the addresses as typed and the providers' answers
        sent = [plain(r["to"]) for r in results if r["state"] == "sent"]
        other = [f"{plain(r['to'])} ({plain(r['error'])})" for r in results if r["state"] != "sent"]
        lines = [f"sent to {', '.join(sent)}"] if sent else []
        lines += [f"not sent: {'; '.join(other)}"] if other else []
        self.notify("\n".join(lines), title=f"Test of #{draft}", severity="information" if sent else "error",
                    timeout=10, markup=False)  # fmt: skip

    @work(group="summary-action", exit_on_error=False)
    async def action_clone(self) -> None:
        from store.db import off_loop
        from store.drafts import clone_campaign

        doc = self.highlighted_doc()
        if doc is None:
            return
        limits = self.app.config.limits  # type: ignore[attr-defined]
        draft, recipients = await off_loop(clone_campaign, doc["id"], None, limits)
        self.notify(f"Draft #{draft.id} created: a copy of #{doc['id']} with {recipients:,} recipients",
                    title="Clone")  # fmt: skip
        self.back_from(draft.id)

    @work(group="summary-action", exit_on_error=False)
    async def action_delete(self) -> None:
        from store.db import off_loop
        from store.drafts import delete_draft
        from store.errors import CampaignsError
        from tui.dialogs.confirm import ConfirmDialog

        draft = self.selected_draft("deleted")
        if draft is None:
            return
        doc = self.docs[draft]
        question = (
            f"Delete the draft [b]{escape(doc['name'])}[/b] and its {doc['recipients']:,} recipients? "
            "This cannot be undone."
        )
        if not await self.app.push_screen_wait(ConfirmDialog(question, yes="delete", no="keep it")):
            return
        try:
            await off_loop(delete_draft, draft)
        except CampaignsError as exc:
            self.notify(plain(exc, lines=True), severity="error", markup=False)
            return
        self.notify(f"Draft #{draft} deleted")
        self.load()
