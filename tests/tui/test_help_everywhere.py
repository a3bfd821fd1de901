"""Issue 14: `?` lists every key of every screen, from every screen, and each footer shows it (F1 in the
editor, whose fields take `?` as text)."""

from textual.widgets import Input
from textual.widgets._footer import FooterKey

from store.campaigns import create_campaign
from store.recipients import add_pasted
from tests.conftest import NOW
from tests.tui.conftest import wait_until
from tests.tui.test_summary_actions import highlight
from tui.dialogs.help import HelpScreen
from tui.screens.detail import DetailScreen
from tui.screens.editor import EditorScreen
from tui.screens.recipients import RecipientsScreen
from tui.screens.summary import SummaryScreen


async def footer_key(app, pilot, action: str) -> str:
    """How the footer shows the action's key, once it is drawn wholly inside the terminal's width."""

    def shown() -> list[FooterKey]:
        keys = [key for key in app.screen.query(FooterKey) if key.action == action]
        return [key for key in keys if key.region.width > 0 and key.region.right <= app.size.width]

    await wait_until(pilot, lambda: bool(shown()))
    return shown()[0].key_display


async def help_opens_and_closes(app, pilot, key: str) -> None:
    screen = app.screen
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
    await pilot.press("escape")
    await wait_until(pilot, lambda: app.screen is screen)


async def test_question_mark_opens_the_help_on_every_screen(demo_app):
    draft = create_campaign(channel="sms", name="Aiuto", sender="CentroMed", body="Ciao", now=NOW)
    add_pasted(draft.id, "3471234567")
    app = demo_app
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
        assert await footer_key(app, pilot, "help") == "?"
        await help_opens_and_closes(app, pilot, "question_mark")

        highlight(app, draft.id)
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.stats is not None)
        await pilot.pause()
        assert await footer_key(app, pilot, "help") == "?"
        await help_opens_and_closes(app, pilot, "question_mark")
        await pilot.press("escape")

        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, RecipientsScreen) and app.screen.campaign)
        await pilot.pause()
        assert await footer_key(app, pilot, "help") == "?"
        await help_opens_and_closes(app, pilot, "question_mark")
        await pilot.press("escape")

        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and not app.screen.loading_draft)
        editor = app.screen
        await pilot.pause()
        assert await footer_key(app, pilot, "help") == "f1"  # `?` is text in the fields: F1 says so
        await help_opens_and_closes(app, pilot, "f1")
        name = editor.query_one("#name", Input)
        name.focus()
        await pilot.press("end", "question_mark")
        assert name.value == "Aiuto?" and app.screen is editor  # typed, not the help


async def test_the_help_lists_the_keys_of_every_screen_and_dialog(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, HelpScreen))
        text = str(demo_app.screen.query_one("HelpScreen Static").render())
    for line in (
        "Earlier period",  # the summary's hidden keys
        "Re-target",  # the details
        "f2       Recipients",  # the editor
        "v        Last report",  # the recipients
        "y        yes: it is done",  # the questions
        "⏎ n Esc  no: nothing happens",
        "^l       Last 30 days",  # the period dialog
        "^k       Kind",  # the contact picker
        "s x      Save refused rows: s as CSV, x as .xlsx",  # the import report
        "f5 ^r    Refresh",  # every key of a binding
        "F1 where ? is typed",
    ):
        assert line in text, line
