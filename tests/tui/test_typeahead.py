"""Keys typed ahead in one burst (as they arrive over a slow SSH link) land where they were meant to, in
order: never on the screen behind, never lost. The burst is posted to the app at once, as Textual's
driver does with what it reads in one go; `pilot.press` would wait between keys and hide the problem."""

from __future__ import annotations

import asyncio

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from store.models import Campaign
from tests.tui.conftest import wait_until
from tui.dialogs.confirm import ConfirmDialog, WaitScreen, typed_before_the_question
from tui.screens.editor import EditorScreen
from tui.screens.summary import SummaryScreen
from tui.typeahead import TypeAhead

NAMED_KEYS = {"/": "slash", " ": "space"}


def burst(app, *keys: str) -> None:
    """Posts the keys to the app in one go; a key is a character, or a name such as "tab"."""
    for key in keys:
        if len(key) == 1:
            app.post_message(events.Key(NAMED_KEYS.get(key, key), key))
        else:
            app.post_message(events.Key(key, {"tab": "\t", "enter": "\r"}.get(key)))


def settled(app) -> bool:
    """Every key the app has read has gone in and done its work (wait first for a sign that the last key
    of the burst was read: the burst may still be on its way to the app)."""
    return app.typeahead.task is None and not app.typeahead.waiting


def campaigns() -> int:
    return Campaign.select().count()


async def summary_ready(app, pilot) -> SummaryScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
    return app.screen


def highlight_a_draft(summary: SummaryScreen) -> int:
    table = summary.query_one("#campaigns", DataTable)
    draft = next(f.id for f in summary.figures.values() if f.state == "draft")
    table.move_cursor(row=[str(k.value) for k in table.rows].index(str(draft)))
    return draft


async def test_slash_and_a_name_in_one_burst_filter_the_summary_and_run_no_command(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        summary = await summary_ready(demo_app, pilot)
        before = campaigns()
        burst(demo_app, *"/check")  # c clones, e edits, k nothing: here they are a name
        box = summary.query_one("#name-filter", Input)
        await wait_until(pilot, lambda: "named “check”" in str(summary.query_one("#title").render()))
        await wait_until(pilot, lambda: settled(demo_app))  # a clone or an editor would be done by now
        assert box.value == "check" and box.has_focus
        assert demo_app.screen is summary
        assert campaigns() == before
        assert all("check" in f.name.lower() for f in summary.figures.values())


async def test_new_tab_and_a_name_in_one_burst_fill_the_name(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await summary_ready(demo_app, pilot)
        before = campaigns()
        for attempt in range(3):
            burst(demo_app, "n", "tab", *"Prova")
            await wait_until(pilot, lambda: isinstance(demo_app.screen, EditorScreen))
            editor = demo_app.screen
            name = editor.query_one("#name", Input)
            await wait_until(pilot, lambda name=name: name.value == "Prova", timeout=5)
            assert name.has_focus
            burst(demo_app, "escape")  # unsaved: it asks first
            await wait_until(pilot, lambda: isinstance(demo_app.screen, ConfirmDialog))
            await pilot.press("y")  # typed once the question shows: a `y` typed ahead would not count
            await wait_until(pilot, lambda: isinstance(demo_app.screen, SummaryScreen), timeout=5)
            await wait_until(pilot, lambda: settled(demo_app))
            assert campaigns() == before, attempt


async def test_fields_typed_one_after_the_other_in_one_burst_each_get_their_own_text(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await summary_ready(demo_app, pilot)
        burst(demo_app, "n", "tab", *"Flu shots", "tab", *"CentroMed", "tab", *"FLU10")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, EditorScreen))
        editor = demo_app.screen
        await wait_until(pilot, lambda: editor.query_one("#coupon", Input).value == "FLU10")
        fields = {field: editor.query_one(f"#{field}", Input).value for field in ("name", "sender", "coupon")}
        assert fields == {"name": "Flu shots", "sender": "CentroMed", "coupon": "FLU10"}


async def test_keys_after_send_now_wait_for_the_question_and_never_act_on_the_summary(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        summary = await summary_ready(demo_app, pilot)
        draft = highlight_a_draft(summary)
        await pilot.pause()
        before = campaigns()
        # c clones, e edits, d deletes, x cancels, p pauses on the summary; Enter would open the details
        burst(demo_app, "s", *"cedxp", "enter", "y")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, ConfirmDialog))
        await wait_until(pilot, lambda: settled(demo_app))
        # None reached the summary, and none answered the question: typed before it showed, even `y`.
        assert isinstance(demo_app.screen, ConfirmDialog)
        assert campaigns() == before
        assert Campaign.get_by_id(draft).state == "draft"
        await pilot.press("escape")
        await wait_until(pilot, lambda: demo_app.screen is summary)
        assert Campaign.get_by_id(draft).state == "draft"


async def test_a_key_typed_ahead_neither_answers_the_question_nor_moves_in_it(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        summary = await summary_ready(demo_app, pilot)
        draft = highlight_a_draft(summary)
        await pilot.pause()
        burst(demo_app, "s", "tab", "enter")  # to "send now" and press it, all before the question showed
        await wait_until(pilot, lambda: isinstance(demo_app.screen, ConfirmDialog))
        dialog = demo_app.screen
        await wait_until(pilot, lambda: settled(demo_app))
        assert dialog.focused is not None and dialog.focused.id == "no"
        assert Campaign.get_by_id(draft).state == "draft"
        await pilot.press("tab")  # typed once the question is there: it counts
        await wait_until(pilot, lambda: dialog.focused is not None and dialog.focused.id == "yes")
        await pilot.press("escape")
        await wait_until(pilot, lambda: demo_app.screen is summary)


async def test_keys_typed_while_a_draft_loads_are_added_to_its_name_not_overwritten(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        summary = await summary_ready(demo_app, pilot)
        draft = highlight_a_draft(summary)
        await pilot.pause()
        burst(demo_app, "e", *" bis")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, EditorScreen))
        name = demo_app.screen.query_one("#name", Input)
        loaded = Campaign.get_by_id(draft).name
        await wait_until(pilot, lambda: name.value == loaded + " bis", timeout=5)


async def test_a_burst_typed_as_the_app_opens_waits_for_the_summary(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        burst(demo_app, "/", *"flu")
        summary = await summary_ready(demo_app, pilot)
        await wait_until(pilot, lambda: summary.name_filter == "flu")
        assert demo_app.screen is summary


class Behind(Screen[None]):
    """A screen whose `s` checks at length behind a "please wait", then asks; `x` must not run behind."""

    BINDINGS = [Binding("s", "ask", "Ask"), Binding("x", "act", "Act")]

    def __init__(self) -> None:
        super().__init__()
        self.checked = asyncio.Event()
        self.acted = 0
        self.answer: bool | None = None

    def compose(self) -> ComposeResult:
        yield Static("behind")

    def action_act(self) -> None:
        self.acted += 1

    @work
    async def action_ask(self) -> None:
        waiting = WaitScreen("Checking…")
        await self.app.push_screen(waiting)
        await self.checked.wait()
        await waiting.dismiss()
        self.answer = await self.app.push_screen_wait(ConfirmDialog("Go?"))


class Harness(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.typeahead = TypeAhead(self)

    async def on_event(self, event: events.Event) -> None:
        if self.typeahead.keeps(event) or typed_before_the_question(self, event):
            return
        await super().on_event(event)

    def get_default_screen(self) -> Behind:
        return Behind()


async def test_keys_typed_at_a_please_wait_go_to_the_question_after_it():
    app = Harness()
    async with app.run_test(size=(80, 24)) as pilot:
        behind = app.screen
        burst(app, "s", "x", "y")
        await wait_until(
            pilot, lambda: isinstance(app.screen, WaitScreen) and len(app.typeahead.waiting) == 2
        )
        await pilot.pause(0.1)
        assert behind.acted == 0 and len(app.typeahead.waiting) == 2  # held while it checks
        behind.checked.set()
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and settled(app))
        # x did nothing behind; neither x nor y answered a question that was not there when they were typed
        assert behind.answer is None and behind.acted == 0
        await pilot.press("y")
        await wait_until(pilot, lambda: behind.answer is not None)
        assert behind.answer is True and behind.acted == 0
