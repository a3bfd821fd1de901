"""An email's own options in the app (schema 10): open tracking and the footer's language set in the
editor from the keyboard, and the email check's line in the Send Now question."""

import asyncio

import pytest
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from store.campaigns import create_campaign
from store.config import load_config
from store.errors import BadInput
from store.models import Campaign
from store.recipients import add_pasted
from tests.conftest import NOW
from tests.tui.conftest import wait_until
from tests.tui.test_deliberate_answers import ask, back_on, state_of
from tui.app import make_app
from tui.dialogs import send_now
from tui.dialogs.send_now import SendNowDialog, check_failed, check_text
from tui.screens.editor import EditorScreen
from tui.screens.summary import SummaryScreen


def an_app(sqlite_store, **env: str):
    # The links go to 127.0.0.1: the check has a problem to report whatever else it finds.
    env = {"CAMPAIGNS_FEEDBACK_PUBLIC_URL": "http://127.0.0.1:8080", **env}
    return make_app(load_config(database_url=sqlite_store, env=env), today=NOW.date(), send=False)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def an_email_draft(recipients: int = 3, **options) -> Campaign:
    draft = create_campaign(
        channel="email", name="Richiamo", sender="CentroMed", body="Ciao", now=NOW, **options
    )
    add_pasted(draft.id, ", ".join(f"paziente{i}@example.org" for i in range(recipients)))
    return draft


async def new_draft(app, pilot) -> EditorScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and not app.screen.loading_draft)
    return app.screen


async def open_draft(app, pilot, campaign_id: int) -> EditorScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
    app.push_screen(EditorScreen(campaign_id))
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and not app.screen.loading_draft)
    return app.screen


def options_of(editor: EditorScreen) -> tuple[bool, object]:
    return editor.query_one("#open-tracking", Checkbox).value, editor.query_one("#language", Select).value


# -- the editor ---------------------------------------------------------------------------------------


async def test_a_new_email_draft_with_open_tracking_off_and_an_english_footer(sqlite_store):
    app = an_app(sqlite_store, CAMPAIGNS_EMAIL_LANGUAGE="it")
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_draft(app, pilot)
        assert not editor.query_one("#email-row").display  # a new draft starts as SMS
        assert editor.focused is editor.query_one("#channel", Select)
        await pilot.press("enter", "down", "enter")  # the channel list: SMS, Email
        await wait_until(pilot, lambda: editor.query_one("#channel", Select).value == "email")
        assert editor.query_one("#email-row").display
        assert options_of(editor) == (True, "")  # [email] open_tracking, the center's language
        assert str(editor.query_one("#language #label", Static).render()) == "Center (Italiano)"
        editor.query_one("#name", Input).value = "Richiamo"
        editor.query_one("#sender", Input).value = "CentroMed"
        editor.query_one("#body", TextArea).text = "Ciao {{ first_name }}"
        # From the coupon, Tab goes to the language, then to open tracking
        editor.query_one("#coupon", Input).focus()
        await pilot.press("tab")
        assert editor.focused is editor.query_one("#language", Select)
        await pilot.press("enter", "down", "enter")  # the center's, English, Italiano
        await wait_until(pilot, lambda: editor.query_one("#language", Select).value == "en")
        await pilot.press("tab", "space")
        assert editor.focused is editor.query_one("#open-tracking", Checkbox)
        assert options_of(editor) == (False, "en")
        row = str(editor.query_one("#open-tracking", Checkbox).render())
        assert "Open tracking off" in row
        assert "opens not" in str(editor.query_one("#tracking-hint").render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: editor.campaign_id is not None)
        saved = Campaign.get_by_id(editor.campaign_id)
        assert (saved.channel, saved.open_tracking, saved.language) == ("email", False, "en")
        assert not editor.dirty


async def test_a_new_email_draft_starts_with_the_configured_open_tracking(sqlite_store):
    app = an_app(sqlite_store, CAMPAIGNS_EMAIL_OPEN_TRACKING="false")
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_draft(app, pilot)
        editor.query_one("#channel", Select).value = "email"
        await pilot.pause()
        assert options_of(editor) == (False, "")
        editor.query_one("#name", Input).value = "Senza immagine"
        editor.query_one("#sender", Input).value = "CentroMed"
        editor.query_one("#body", TextArea).text = "Ciao"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: editor.campaign_id is not None)
        saved = Campaign.get_by_id(editor.campaign_id)
        assert (saved.open_tracking, saved.language) == (False, None)


async def test_editing_shows_the_stored_options_and_a_save_changes_them(sqlite_store):
    draft = an_email_draft(open_tracking=False, language="en")
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_draft(app, pilot, draft.id)
        assert editor.query_one("#email-row").display
        assert options_of(editor) == (False, "en")
        assert "Open tracking off" in str(editor.query_one("#open-tracking", Checkbox).render())
        assert not editor.dirty  # as stored: nothing to save
        assert editor.query_one("#email-row").region.height == 1  # drawn at 80x24, on one row
        # Shift+Tab from the body: the subject, open tracking, then the language
        editor.query_one("#body", TextArea).focus()
        await pilot.press("shift+tab", "shift+tab", "space")
        assert editor.focused is editor.query_one("#open-tracking", Checkbox)
        assert options_of(editor) == (True, "en")
        assert editor.dirty and "Unsaved changes" in text_of(app, "#status")
        await pilot.press("shift+tab", "enter", "up", "enter")  # back to the center's
        await wait_until(pilot, lambda: editor.query_one("#language", Select).value == "")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "Saved draft" in text_of(app, "#status"))
        saved = Campaign.get_by_id(draft.id)
        assert (saved.open_tracking, saved.language) == (True, None)


@pytest.mark.parametrize("stored", ["IT", "fr"])
async def test_a_language_another_tool_stored_opens_as_its_nearest(sqlite_store, stored):
    draft = an_email_draft()
    Campaign.update(language=stored).where(Campaign.id == draft.id).execute()
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_draft(app, pilot, draft.id)  # no InvalidSelectValueError: the app stays
        assert options_of(editor) == (True, "it" if stored == "IT" else "")


async def test_other_channels_hide_the_options_and_their_save_leaves_them_alone(sqlite_store):
    # Stored through the store: the editor never shows them for SMS, and must not reset them
    draft = create_campaign(
        channel="sms",
        name="Flu",
        sender="CentroMed",
        body="Ciao",
        now=NOW,
        open_tracking=False,
        language="it",
    )
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_draft(app, pilot, draft.id)
        assert not editor.query_one("#email-row").display
        assert editor.content().open_tracking is None and editor.content().language is None
        editor.query_one("#name", Input).value = "Flu 2026"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: Campaign.get_by_id(draft.id).name == "Flu 2026")
        saved = Campaign.get_by_id(draft.id)
        assert (saved.open_tracking, saved.language) == (False, "it")


# -- the Send Now question ------------------------------------------------------------------------------


def test_the_check_line_fits_two_rows_of_the_dialog():
    line = "Email check: spam score 0.6, 1 problem, 2 warnings; " + "a finding in many words " * 20
    shown = check_text(line)
    assert shown.startswith("[b]Email check:[/b] spam score 0.6")
    rows = shown.split("\n")
    assert len(rows) == 2 and rows[-1].endswith("…")
    assert all(len(row.replace("[b]", "").replace("[/b]", "")) <= 76 for row in rows)
    assert check_text("Email check: [red]no[/red]").endswith("\\[red]no\\[/red]")  # data, never markup
    assert check_failed(BadInput("the email cannot be made\nfor x")) == (
        "Email check: not available (the email cannot be made)"
    )


@pytest.mark.parametrize("spamassassin", ["as installed", "not installed"])
async def test_send_now_says_what_the_email_check_found(sqlite_store, monkeypatch, spamassassin):
    if spamassassin == "not installed":
        monkeypatch.setattr("senders.email_check.spamassassin_path", lambda: None)
    draft = an_email_draft()
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        assert isinstance(dialog, SendNowDialog)
        # SpamAssassin (where installed) takes a second or two: the question waits for nothing
        await wait_until(pilot, lambda: "checking the email" not in text_of(app, "#email-check"), timeout=60)
        line = text_of(app, "#email-check")
        assert line.startswith("Email check: ")
        assert "1 problem" in line and "127.0.0.1" in line  # the worst finding, with or without SpamAssassin
        assert all(len(row) <= 76 for row in line.split("\n"))
        await pilot.press("enter")  # Enter alone still keeps it a draft
        await back_on(app, pilot)
        assert state_of(draft.id) == "draft"


async def test_a_y_does_not_wait_for_the_check_and_a_failed_check_says_why(sqlite_store, monkeypatch):
    draft = an_email_draft()
    release = asyncio.Event()

    async def slow_check(config, campaign_id):
        await asyncio.wait_for(release.wait(), 10)
        return "Email check: no findings"

    monkeypatch.setattr(send_now, "email_check_line", slow_check)
    app = an_app(sqlite_store)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(app, pilot, "s", draft.id)
            assert text_of(app, "#email-check") == "Email check: checking the email…"
            await pilot.press("y")  # the check still on its way: the answer is taken
            await wait_until(pilot, lambda: state_of(draft.id) == "queued")
            await back_on(app, pilot)
    finally:
        release.set()

    other = an_email_draft()

    async def failing_check(config, campaign_id):
        raise BadInput("the email cannot be made for x@example.org: a reason\nand a second line")

    monkeypatch.setattr(send_now, "email_check_line", failing_check)
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", other.id)
        await wait_until(pilot, lambda: "not available" in text_of(app, "#email-check"))
        assert " ".join(text_of(app, "#email-check").split("\n")) == (
            "Email check: not available (the email cannot be made for x@example.org: a reason)"
        )
        assert app.screen is dialog and state_of(other.id) == "draft"  # the question is still asked
        await pilot.press("n")
        await back_on(app, pilot)
        assert state_of(other.id) == "draft"


async def test_an_sms_question_has_no_email_check(sqlite_store):
    draft = create_campaign(channel="sms", name="Flu", sender="CentroMed", body="Ciao", now=NOW)
    add_pasted(draft.id, "3471234567")
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        assert isinstance(dialog, SendNowDialog) and not dialog.query("#email-check")
        assert dialog.checking is None
