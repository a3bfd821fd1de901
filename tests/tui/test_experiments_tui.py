"""Hold-out groups and A/B variants in the app (issue 19): B in the editor, the hold-out and B's share in
the Send Now dialog, the groups and their lift in the details, the lift on the summary."""

from dataclasses import fields, replace
from datetime import timedelta

from textual.widgets import Button, DataTable, Input, Static, TextArea

from store.campaigns import create_campaign
from store.config import load_config
from store.experiments import drawn, edit_variant_b
from store.figures import CampaignFigures, Conversion, MessageCounts
from store.lift import Lift
from store.models import Campaign, Contact, Message, Reservation
from store.recipients import add_pasted
from tests.conftest import NOW
from tests.tui.conftest import shows_question, wait_until
from tests.tui.test_deliberate_answers import ask, back_on, state_of
from tui.app import make_app
from tui.dialogs.send_now import SendNowDialog, groups_text
from tui.screens.detail import DetailScreen
from tui.screens.editor import EditorScreen
from tui.screens.summary import SummaryScreen
from tui.screens.summary_rows import describe, row_cells


def an_app(sqlite_store):
    return make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def an_email_draft(recipients: int, name: str = "Richiamo") -> Campaign:
    draft = create_campaign(channel="email", name=name, sender="CentroMed", body="Ciao", now=NOW)
    add_pasted(draft.id, ", ".join(f"paziente{i}@example.org" for i in range(recipients)))
    return draft


# -- the editor ---------------------------------------------------------------------------------------


async def open_draft(app, pilot, campaign_id: int) -> EditorScreen:
    await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
    app.push_screen(EditorScreen(campaign_id))
    await wait_until(pilot, lambda: isinstance(app.screen, EditorScreen) and not app.screen.loading_draft)
    return app.screen


async def test_f3_shows_variant_b_and_ctrl_s_saves_it_through_the_variant(sqlite_store):
    draft = create_campaign(
        channel="sms", name="Flu", sender="CentroMed", body="Ciao {{ first_name }}", now=NOW
    )
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_draft(app, pilot, draft.id)
        assert "Variant" not in text_of(app, "#title")  # one body: nothing to say
        await pilot.press("f3")
        await pilot.pause()
        assert "Variant B of 2" in text_of(app, "#title")
        body = editor.query_one("#body", TextArea)
        assert body.text == "" and body.has_focus
        await pilot.press(*"Salve ")
        body.insert("😀")  # no key types it
        await pilot.pause()
        assert "UCS-2 because of 😀" in text_of(app, "#counter")  # the counter is the variant shown
        assert "Salve 😀" in text_of(app, "#preview")
        assert editor.dirty
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: Campaign.get_by_id(draft.id).variant_body == "Salve 😀")
        saved = Campaign.get_by_id(draft.id)
        assert saved.body == "Ciao {{ first_name }}"  # A as it was
        assert not editor.dirty

        await pilot.press("f3")  # back to A: its text, its counter
        await pilot.pause()
        assert "Variant A of 2" in text_of(app, "#title")
        assert body.text == "Ciao {{ first_name }}"
        assert "GSM-7" in text_of(app, "#counter")
        await pilot.press(*" caro")  # A edited while B waits: both saved by one ctrl+s
        await pilot.press("f3")
        await pilot.press(*" B")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: Campaign.get_by_id(draft.id).variant_body == "Salve 😀 B")
        assert Campaign.get_by_id(draft.id).body == "Ciao {{ first_name }} caro"


async def test_dropping_b_asks_first_and_a_stays(sqlite_store):
    draft = create_campaign(channel="sms", name="Flu", sender="CentroMed", body="Ciao", now=NOW)
    edit_variant_b(draft.id, body="Salve")
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await open_draft(app, pilot, draft.id)
        assert "Variant A of 2" in text_of(app, "#title")
        await pilot.press("f3")
        await pilot.pause()
        assert editor.query_one("#body", TextArea).text == "Salve"
        await pilot.press("f4")
        await wait_until(pilot, lambda: shows_question(app))
        assert "Drop variant B" in text_of(app, "#question")
        await pilot.press("enter")  # Enter keeps it
        await wait_until(pilot, lambda: app.screen is editor)
        assert Campaign.get_by_id(draft.id).variant_body == "Salve"
        await pilot.press("f4")
        await wait_until(pilot, lambda: shows_question(app))
        await pilot.press("y")
        await wait_until(pilot, lambda: Campaign.get_by_id(draft.id).variant_body is None)
        await wait_until(pilot, lambda: app.screen is editor and editor.variant == "a")
        assert editor.query_one("#body", TextArea).text == "Ciao"
        assert "Variant" not in text_of(app, "#title")
        assert not editor.dirty


# -- the Send Now dialog --------------------------------------------------------------------------------


def error_of(app) -> str:
    error = app.screen.query_one("#when-error", Static)
    return str(error.render()) if error.display else ""


async def type_share(app, pilot, key: str, field: str, text: str) -> None:
    await pilot.press(key)
    await wait_until(pilot, lambda: app.screen.focused is app.screen.query_one(field, Input))
    await pilot.press(*["backspace"] * 6, *text, "enter")
    await pilot.pause()


def test_the_question_counts_as_the_draw_rounds():
    assert groups_text(808, 0, None) == ""
    said = groups_text(808, 10, None)
    assert "[b]81[/b] of the 808 below never get it, 727 do" in said  # 80.8 to the nearest: 81
    said = groups_text(41, 10, 0.5)
    assert "[b]4[/b] of the 41" in said and "of those 37, half get B (19), the rest A (18)" in said
    assert groups_text(41, 0, 0.3) == "Of the 41 below, 30% get B (12), the rest A (29)."


async def test_a_hold_out_of_10_holds_out_as_many_as_the_question_said(sqlite_store):
    draft = an_email_draft(45)
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        assert isinstance(dialog, SendNowDialog)
        assert "h Hold-out %" in str(dialog.query_one("#groups-row Label").render())
        assert not dialog.query("#b-share")  # no B: no share to choose
        await type_share(app, pilot, "h", "#holdout", "10")
        question = text_of(app, "#question")
        assert question.startswith("Send Richiamo now, by EMAIL?")
        assert "10% held out as a control group: 5 of the 45 below never get it, 40 do" in question
        assert dialog.focused is dialog.query_one("#no", Button)  # a yes to it is a key of its own
        await pilot.press("enter")  # Enter alone never confirms
        await back_on(app, pilot)
        assert state_of(draft.id) == "draft"

        dialog = await ask(app, pilot, "s", draft.id)
        await type_share(app, pilot, "h", "#holdout", "10")
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "queued")
    assert drawn(draft.id)["holdout"] == 5
    assert Campaign.get_by_id(draft.id).holdout_percent == 10


async def test_a_y_typed_in_the_burst_that_rewords_the_question_answers_nothing(sqlite_store):
    from tests.tui.test_typeahead import burst, settled

    draft = an_email_draft(45)
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        burst(app, "h", "backspace", "1", "0", "enter", "y")  # the y before the new question showed
        await wait_until(pilot, lambda: "5 of the 45" in text_of(app, "#question"))
        await wait_until(pilot, lambda: settled(app))
        await pilot.pause(0.1)
        assert app.screen is dialog and state_of(draft.id) == "draft"
        await pilot.press("y")  # typed once it shows: it counts
        await wait_until(pilot, lambda: state_of(draft.id) == "queued")
    assert drawn(draft.id)["holdout"] == 5


async def test_a_bad_hold_out_is_said_in_one_line_and_a_typed_one_must_be_taken(sqlite_store):
    draft = an_email_draft(10)
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        before = text_of(app, "#question")
        await type_share(app, pilot, "h", "#holdout", "100")
        assert "the hold-out is a number from 0 to 99" in error_of(app) and "\n" not in error_of(app)
        assert dialog.focused is dialog.query_one("#holdout", Input)  # still there to be corrected
        assert text_of(app, "#question") == before
        await pilot.press(*["backspace"] * 3, *"20")  # typed, no Enter: a y does not take it
        dialog.query_one("#no", Button).focus()
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is dialog and "Enter in Hold-out % takes the number" in error_of(app)
        assert dialog.focused is dialog.query_one("#holdout", Input)
        await pilot.press("escape")  # drops what was typed
        assert dialog.query_one("#holdout", Input).value == "0"
        for selector in ("#question-box", "#eta", "#when", "#holdout", "#when-error", "#no", "#yes", "#keys"):
            region = dialog.query_one(selector).region
            assert region.bottom <= 24 and region.right <= 80, selector
        await pilot.press("n")
        await back_on(app, pilot)
    assert state_of(draft.id) == "draft"


async def test_with_a_b_the_dialog_asks_its_share_and_the_draw_follows(sqlite_store):
    draft = an_email_draft(41)
    edit_variant_b(draft.id, body="Salve")
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        assert "Of the 41 below, half get B (21), the rest A (20)." in text_of(app, "#question")
        assert "b B share %" in [str(label.render()) for label in dialog.query("#groups-row Label")]
        await type_share(app, pilot, "h", "#holdout", "10")
        await type_share(app, pilot, "b", "#b-share", "30")
        question = text_of(app, "#question")
        assert (
            "4 of the 41 below never get it, 37 do; of those 37, 30% get B (11), the rest A (26)" in question
        )
        assert dialog.focused is dialog.query_one("#no", Button)
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "queued")
    assert drawn(draft.id) == {"holdout": 4, "a": 26, "b": 11}
    assert Campaign.get_by_id(draft.id).variant_share == 0.3


# -- the details ---------------------------------------------------------------------------------------


def a_campaign_with_a_hold_out() -> Campaign:
    """40 patients sent A, 30 of whom booked in their 28 days; 40 held out, 10 of whom booked."""
    campaign = create_campaign(channel="email", name="Richiamo", sender="CentroMed", body="Ciao", now=NOW)
    Contact.insert_many(
        [
            {"id": i, "registry_id": f"P{i}", "kind": "patient", "email": f"p{i}@example.org"}
            for i in range(80)
        ]
    ).execute()
    for i in range(80):
        held = i >= 40
        Message.create(
            campaign=campaign, contact=i, address=f"p{i}@example.org", state="held_out" if held else "sent",
            sent_at=None if held else NOW, held_out_at=NOW if held else None,
        )  # fmt: skip
        if (not held and i < 30) or (held and i < 50):
            Reservation.create(contact=i, created_at=NOW + timedelta(days=3))
    Campaign.update(
        state="sent", holdout_percent=50, queued_at=NOW, first_sent_at=NOW, last_sent_at=NOW
    ).where(Campaign.id == campaign.id).execute()
    return campaign


async def test_the_details_show_the_groups_their_lift_and_curves(sqlite_store):
    campaign = a_campaign_with_a_hold_out()
    app = an_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SummaryScreen) and app.screen.loaded_once)
        app.push_screen(DetailScreen(campaign.id))
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
        detail = app.screen
        await wait_until(pilot, lambda: detail.groups_shown and detail.query_one("#groups").display)
        table = text_of(app, "#groups-table")
        assert "Groups" in table and "per patient" in table
        assert any(line.split()[:4] == ["A", "40", "30", "0.750"] for line in table.splitlines())
        assert any(line.split()[:4] == ["hold-out", "40", "10", "0.250"] for line in table.splitlines())
        # the curves, read after the figures, on one scale: A's ends at the top
        await wait_until(pilot, lambda: "█" in text_of(app, "#groups-table"))
        lift = text_of(app, "#lift")
        assert lift.startswith("A vs hold-out: +0.500 per patient (95% CI +")
        assert lift.endswith("), significant")
        assert "conversion 75%" in text_of(app, "#engagement")  # the manual's, beside them
        assert not detail.query_one("#charts").display
        rounds = detail.rounds  # rounds whose figures come from the cache keep the groups shown
        await wait_until(pilot, lambda: detail.rounds >= rounds + 3)
        assert detail.query_one("#groups").display and "A vs hold-out" in text_of(app, "#lift")
        for selector in ("#groups-table", "#lift"):
            assert detail.query_one(selector).region.right <= 80
        assert detail.query_one(DataTable).region.height >= 4  # the recipients still show
        await pilot.press("g")  # the sending charts instead
        await pilot.pause()
        assert detail.query_one("#charts").display and not detail.query_one("#groups").display


async def test_a_campaign_without_groups_has_no_groups_pane(demo_app):
    campaign = Campaign.get(Campaign.name == "Black Friday della prevenzione")
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        demo_app.push_screen(DetailScreen(campaign.id))
        await wait_until(pilot, lambda: isinstance(demo_app.screen, DetailScreen))
        detail = demo_app.screen
        await wait_until(pilot, lambda: detail.stats is not None)
        await pilot.pause(0.3)
        assert not detail.groups_shown and not detail.query_one("#groups").display
        assert detail.query_one("#charts").display


# -- the summary --------------------------------------------------------------------------------------


def figures_with(lifts) -> CampaignFigures:
    figures = CampaignFigures(
        id=3, name="Check-up", channel="sms", state="completed",
        counts=MessageCounts(recipients=500, sent=450, held_out=50), opens=None, unsubscribed=0,
        conversion=Conversion(patients=450, reservations=90), created_at=None, queued_at=None,
        scheduled_at=None, first_sent_at=None, last_sent_at=None, completed_at=None, waiting_reason=None,
        final=True,
    )  # fmt: skip
    if "lift" in {f.name for f in fields(CampaignFigures)}:
        return replace(figures, lift=lifts)
    object.__setattr__(figures, "lift", lifts)  # until store.figures has the field
    return figures


def test_the_summary_shows_the_lift_of_a_against_the_hold_out_in_the_conversion_cell():
    conversion = 8  # the Conv. column: "#", name, Chan., State, Recips, Sent, Open, Click, Conv.
    plain = figures_with(None)
    assert row_cells(plain, 16)[conversion].plain.strip() == "20%"
    lift = Lift("a", "holdout", 0.031, 0.012, 0.050, True)
    shown = figures_with((lift, Lift("b", "holdout", 0.01, -0.02, 0.04, False)))
    cell = row_cells(shown, 16)[conversion]
    assert cell.plain == " +3.1pp"  # the width of the column
    assert "bold green" in str(cell.style)
    assert "A vs hold-out +3.1 pp, significant" in describe(shown)
    weak = figures_with((Lift("a", "holdout", -0.004, -0.03, 0.02, False),))
    assert row_cells(weak, 16)[conversion].plain.strip() == "-0.4pp"
    assert str(row_cells(weak, 16)[conversion].style) == "dim"
    assert "A vs hold-out -0.4 pp, not significant" in describe(weak)
    small = figures_with((Lift("a", "holdout", 0.15, None, None, False),))
    assert row_cells(small, 16)[conversion].plain.strip() == "+15pp"
    assert "too few patients for an interval" in describe(small)


# -- the help ------------------------------------------------------------------------------------------


async def test_the_help_lists_the_new_keys(demo_app):
    from tui.dialogs.help import HelpScreen

    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, HelpScreen))
        text = str(demo_app.screen.query_one("HelpScreen Static").render())
    for line in (
        "f3       Variant B",
        "f4       Drop B",
        "g        Groups",
        "h        to Hold-out %",
        "b        to B share %",
    ):
        assert line in text, line
