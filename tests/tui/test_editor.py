from textual.widgets import Input, Select, Static, TextArea

from store.models import Campaign
from tests.tui.conftest import wait_until
from tui.screens.editor import EditorScreen
from tui.screens.summary import SummaryScreen


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def open_editor(app, pilot):
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
    await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and not app.screen.loading_draft)
    return app.screen


async def type_into(pilot, screen, selector: str, text: str) -> None:
    screen.query_one(selector).focus()
    await pilot.press(*text)


async def test_a_new_sms_draft_with_live_counter_and_preview(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(demo_app, pilot)
        await type_into(pilot, editor, "#name", "Flu")
        await type_into(pilot, editor, "#sender", "CentroMed")
        await type_into(pilot, editor, "#coupon", "FLU10")
        editor.query_one("#body", TextArea).text = "Ciao {{ first_name }}, codice {{ coupon }} €"
        await pilot.pause()
        first_name = editor.person[0]
        assert f"Ciao {first_name}, codice FLU10 €" in text_of(demo_app, "#preview")
        counter = text_of(demo_app, "#counter")
        assert "GSM-7 · 1 SMS" in counter
        assert f"{len(f'Ciao {first_name}, codice FLU10 €')} characters" in counter
        editor.query_one("#body", TextArea).text = "Ciao {{ first_name }} 😀"
        await pilot.pause()
        assert "UCS-2 because of 😀" in text_of(demo_app, "#counter")
        assert not editor.query_one("#subject-row").display  # SMS has no subject
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: editor.campaign_id is not None)
        saved = Campaign.get_by_id(editor.campaign_id)
        assert (saved.channel, saved.name, saved.sender, saved.coupon, saved.state) == (
            "sms", "Flu", "CentroMed", "FLU10", "draft",
        )  # fmt: skip
        assert "Saved draft" in text_of(demo_app, "#status")


async def test_template_and_sender_errors_show_in_the_editor(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(demo_app, pilot)
        await type_into(pilot, editor, "#sender", "Centro Medico Milano")
        await pilot.pause()
        assert "at most 11 letters and digits" in text_of(demo_app, "#status")
        editor.query_one("#sender", Input).value = "CentroMed"
        editor.query_one("#body", TextArea).text = "Ciao {{ first_name "
        await pilot.pause()
        assert "template error on line 1" in text_of(demo_app, "#status")
        editor.query_one("#name", Input).value = "Broken"
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert editor.campaign_id is None
        assert not Campaign.select().where(Campaign.name == "Broken").exists()


async def test_email_has_a_subject_and_leaving_unsaved_asks_first(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(demo_app, pilot)
        editor.query_one("#channel", Select).value = "email"
        await pilot.pause()
        assert editor.query_one("#subject-row").display
        assert "Subject" in str(editor.query_one("#subject-label").render())
        editor.query_one("#name", Input).value = "Check-up"
        await pilot.pause()
        await pilot.press("escape")
        await wait_until(pilot, lambda: demo_app.screen is not editor)
        assert "Leave without saving" in text_of(demo_app, "#question")
        await pilot.press("n")
        await wait_until(pilot, lambda: demo_app.screen is editor)
        await pilot.press("escape")
        await wait_until(pilot, lambda: demo_app.screen is not editor)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, SummaryScreen))
        assert not Campaign.select().where(Campaign.name == "Check-up").exists()


async def test_editing_a_draft_loads_its_content(demo_app):
    draft = Campaign.get(Campaign.name == "Auguri di Natale")
    async with demo_app.run_test(size=(80, 24)) as pilot:
        demo_app.push_screen(EditorScreen(draft.id))
        await wait_until(
            pilot, lambda: isinstance(demo_app.screen, EditorScreen) and not demo_app.screen.loading_draft
        )
        editor = demo_app.screen
        assert editor.query_one("#name", Input).value == "Auguri di Natale"
        assert editor.query_one("#channel", Select).value == "email"
        assert editor.query_one("#body", TextArea).text == draft.body
        assert not editor.dirty
        assert not editor.loading  # Textual's own spinner is gone: the fields are drawn
        assert editor.query_one("#name", Input).region.height == 1
        editor.query_one("#name", Input).value = "Auguri 2026"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: Campaign.get_by_id(draft.id).name == "Auguri 2026")


async def test_back_on_the_summary_the_new_draft_is_highlighted(sqlite_store):
    from store.config import load_config
    from tui.app import make_app

    demo_app = make_app(load_config(database_url=sqlite_store, env={}), send=False)  # today: the real one
    async with demo_app.run_test(size=(80, 24)) as pilot:
        editor = await open_editor(demo_app, pilot)
        editor.query_one("#name", Input).value = "Nuova campagna"
        editor.query_one("#sender", Input).value = "CentroMed"
        editor.query_one("#body", TextArea).text = "Ciao"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: editor.campaign_id is not None)
        await pilot.press("escape")
        summary = demo_app.screen
        await wait_until(
            pilot, lambda: isinstance(summary, SummaryScreen) and summary.selected_id() == editor.campaign_id
        )
        assert "Nuova campagna" in text_of(demo_app, "#selected")
