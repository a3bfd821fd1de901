"""Issue 14: what cannot be undone happens on a deliberate yes only (`y`, or the Yes button chosen on
purpose); Enter alone, `n` and Escape leave everything as it was."""

from textual.widgets import Button, Input

from store.campaigns import create_campaign
from store.config import load_config
from store.models import Campaign, Contact, Message
from store.queue import queue_campaign
from store.recipients import add_contacts, add_pasted
from tests.conftest import NOW
from tests.tui.conftest import shows_question, wait_until
from tests.tui.test_summary_actions import highlight
from tui.app import make_app
from tui.dialogs.confirm import ConfirmDialog
from tui.screens.editor import EditorScreen
from tui.screens.summary import SummaryScreen


def state_of(campaign_id: int) -> str:
    return Campaign.get_by_id(campaign_id).state


def keys_line(app) -> str:
    return str(app.screen.query_one("#keys").render())


async def ask(app, pilot, key: str, campaign_id: int) -> ConfirmDialog:
    """Highlights the campaign, presses the key and waits for the question."""
    summary = app.screen
    await wait_until(pilot, lambda: summary.loaded_once)
    highlight(app, campaign_id)
    await pilot.pause()
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
    await pilot.pause()
    return app.screen


async def back_on(app, pilot) -> None:
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
    await pilot.pause(0.1)  # what an answer would do runs after the dialog is gone


def a_draft(name: str = "Richiamo", channel: str = "sms", address: str = "3471234567") -> Campaign:
    draft = create_campaign(channel=channel, name=name, sender="CentroMed", body="Ciao", now=NOW)
    add_pasted(draft.id, address)
    return draft


def an_app(sqlite_store):
    return make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)


async def test_send_now_takes_enter_as_no_and_y_as_yes(sqlite_store):
    draft = a_draft()
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        assert dialog.focused is dialog.query_one("#no", Button)  # the safe choice has the focus
        assert "y send now · Enter or Esc keep it a draft" in keys_line(app)
        await pilot.press("enter")
        await back_on(app, pilot)
        assert state_of(draft.id) == "draft"

        await ask(app, pilot, "s", draft.id)
        await pilot.press("escape")
        await back_on(app, pilot)
        assert state_of(draft.id) == "draft"

        await ask(app, pilot, "s", draft.id)
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "queued")


async def test_the_yes_button_chosen_with_tab_and_enter_sends(sqlite_store):
    draft = a_draft()
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        await pilot.press("tab")
        assert dialog.focused is dialog.query_one("#yes", Button)
        assert "y or Enter send now · Esc keep it a draft" in keys_line(app)  # the line follows the focus
        await pilot.press("enter")
        await wait_until(pilot, lambda: state_of(draft.id) == "queued")


async def test_send_now_of_a_campaign_that_reaches_nobody_says_so_and_asks_nothing(sqlite_store):
    contact = Contact.create(registry_id="P1", kind="patient", first_name="Anna", email="anna@example.org")
    draft = create_campaign(channel="email", name="Nessuno", sender="Centro", body="Ciao", now=NOW)
    add_contacts(draft.id, [contact.id])
    Contact.update(consent=False).where(Contact.id == contact.id).execute()  # withdrawn since
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        highlight(app, draft.id)
        await pilot.pause()
        await pilot.press("s")
        said = lambda: [n.message for n in app._notifications if "reach none" in n.message]  # noqa: E731
        await wait_until(pilot, lambda: bool(said()))
        assert "none of its 1 recipient: 1 without consent. Nothing was sent" in said()[0]
        await pilot.press("y")  # a yes typed ahead has nothing to answer
        await pilot.pause(0.2)
        assert app.screen is summary
    assert state_of(draft.id) == "draft"


async def test_cancel_takes_enter_as_no_and_y_as_yes(sqlite_store):
    campaign = a_draft("Annullami")
    queue_campaign(campaign.id)
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(app, pilot, "x", campaign.id)
        assert "cannot be undone" in str(app.screen.query_one("#question").render())
        await pilot.press("enter")
        await back_on(app, pilot)
        assert state_of(campaign.id) == "queued"

        await ask(app, pilot, "x", campaign.id)
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(campaign.id) == "cancelled")


async def test_delete_takes_enter_as_no_and_y_as_yes(sqlite_store):
    draft = a_draft("Cancellami")
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(app, pilot, "d", draft.id)
        await pilot.press("enter")
        await back_on(app, pilot)
        assert Campaign.get_or_none(Campaign.id == draft.id) is not None

        await ask(app, pilot, "d", draft.id)
        await pilot.press("y")
        await wait_until(pilot, lambda: Campaign.get_or_none(Campaign.id == draft.id) is None)
    assert not Message.select().where(Message.campaign == draft.id).exists()


async def test_a_click_on_yes_deletes(sqlite_store):
    draft = a_draft("Cliccami")
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(app, pilot, "d", draft.id)
        await pilot.click("#yes")
        await wait_until(pilot, lambda: Campaign.get_or_none(Campaign.id == draft.id) is None)


async def test_leaving_unsaved_work_takes_enter_as_no_and_y_as_yes(sqlite_store):
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and not app.screen.loading_draft)
        editor = app.screen
        editor.query_one("#name", Input).value = "Non salvata"
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: shows_question(app))
        assert "Leave without saving" in str(app.screen.query_one("#question").render())
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is editor)
        await pilot.pause(0.1)
        assert app.screen is editor and editor.query_one("#name", Input).value == "Non salvata"

        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen))
    assert not Campaign.select().where(Campaign.name == "Non salvata").exists()


async def test_a_long_question_scrolls_and_keeps_the_answers_in_sight(sqlite_store, monkeypatch):
    import store.forecast
    from store.forecast import Forecast

    busy = Forecast(20_000, 18_000, 1_000, 500, "7d", 500, 1_200, ("first_name", "last_name"))
    monkeypatch.setattr(store.forecast, "forecast", lambda *a: busy)  # every note at once
    draft = a_draft("Richiamo per gli screening cardiologici d'autunno, per tutti i pazienti delle sedi " * 2)
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        await pilot.pause(0.1)
        for selector in ("#no", "#yes", "#keys"):
            region = dialog.query_one(selector).region
            assert region.height and region.bottom <= 24, selector
        box = dialog.query_one("#question-box")
        assert box.max_scroll_y > 0
        await pilot.press("pagedown")
        assert box.scroll_y == box.max_scroll_y  # the end of the question can be read
        await pilot.press("enter")
        await back_on(app, pilot)
    assert state_of(draft.id) == "draft"
