"""Scheduled campaigns in the app: Send Now at a time typed in the center's zone, `p` to unschedule, the
summary and the details saying when it goes, and how long it takes with quiet hours."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from textual.widgets import Button, DataTable, Input, Static

from store.campaigns import create_campaign
from store.clock import local, parse_when, shift_clock, use_center_zone, utcnow
from store.config import load_config
from store.models import Campaign
from store.queue import cancel_campaign, queue_campaign
from store.recipients import add_pasted
from tests.tui.conftest import shows_question, wait_until
from tests.tui.test_deliberate_answers import ask, back_on, keys_line, state_of
from tests.tui.test_summary_actions import footer_actions, highlight
from tui.app import make_app
from tui.dialogs.send_now import SendNowDialog
from tui.screens.detail import DetailScreen
from tui.screens.summary_rows import describe, goes_at, row_cells


@pytest.fixture(autouse=True)
def center_in_rome():
    """Times typed and shown in Rome, one hour ahead of UTC in winter (tests/conftest.py resets it)."""
    use_center_zone("Europe/Rome")


def rome_app(sqlite_store):
    """The app with the center in Rome (the app sets the zone from its configuration when made)."""
    config = load_config(database_url=sqlite_store, env={"CAMPAIGNS_CENTER_TIMEZONE": "Europe/Rome"})
    app = make_app(config, send=False)
    use_center_zone("Europe/Rome")
    return app


def a_draft(name: str = "Richiamo", channel: str = "sms") -> Campaign:
    draft = create_campaign(channel=channel, name=name, sender="CentroMed", body="Ciao", now=utcnow())
    add_pasted(draft.id, "3471234567, 3477654321")
    return draft


def in_two_days(clock: str = "09:30", sep: str = " ") -> str:
    """A time two days ahead on the center's wall clock, as the admin types it."""
    day = (local(utcnow()) + timedelta(days=2)).date()
    return f"{day.isoformat()}{sep}{clock}"


def question_of(app) -> str:
    return str(app.screen.query_one("#question", Static).render())


def error_of(app) -> str:
    error = app.screen.query_one("#when-error", Static)
    return str(error.render()) if error.display else ""


def notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def type_time(app, pilot, text: str) -> None:
    await pilot.press("t")
    await wait_until(pilot, lambda: app.screen.focused is app.screen.query_one("#when", Input))
    await pilot.press(*text, "enter")
    await pilot.pause()


async def test_send_now_schedules_the_campaign_for_the_time_typed_in_the_center_zone(sqlite_store):
    draft = a_draft()
    app = rome_app(sqlite_store)
    typed = in_two_days(sep="T")
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        assert isinstance(dialog, SendNowDialog)
        assert question_of(app).startswith("Send Richiamo now, by SMS?")
        assert "ETA" in str(dialog.query_one("#eta", Static).render())
        assert "t a time" in keys_line(app)
        await type_time(app, pilot, typed)
        await wait_until(pilot, lambda: not dialog.reckoning)
        moment = parse_when(typed)
        day = local(moment)
        assert question_of(app).startswith(
            f"Schedule Richiamo for {day:%a} {day.day} {day:%b} 09:30 (Europe/Rome), by SMS?"
        )
        assert dialog.focused is dialog.query_one("#no", Button)  # a yes to it is a key of its own
        assert str(dialog.query_one("#yes", Button).label) == "Schedule"
        assert "y schedule · Enter or Esc keep it a draft" in keys_line(app)
        assert state_of(draft.id) == "draft"
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "scheduled")
        await wait_until(pilot, lambda: any("is scheduled for" in n for n in notes(app)))
    campaign = Campaign.get_by_id(draft.id)
    assert campaign.scheduled_at == moment
    assert local(moment).strftime("%H:%M") == "09:30"
    assert moment.strftime("%H:%M") == "08:30"  # Rome is an hour ahead of UTC in winter
    said = next(n for n in notes(app) if "is scheduled for" in n)
    assert said == f"#{draft.id} is scheduled for {day:%a} {day.day} {day:%b} 09:30"


async def test_enter_never_confirms_and_y_in_the_field_is_typed(sqlite_store):
    draft = a_draft()
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        await pilot.press("t")
        await pilot.press("y", "n")  # typed into When: neither answers
        field = dialog.query_one("#when", Input)
        assert field.value == "yn" and app.screen is dialog
        assert "Enter takes the time" in keys_line(app)
        await pilot.press("escape")  # out of the field: what was typed goes, No has the focus
        assert dialog.focused is dialog.query_one("#no", Button) and field.value == ""
        assert app.screen is dialog
        await pilot.press("escape")  # the second says no
        await back_on(app, pilot)
        assert state_of(draft.id) == "draft"

        dialog = await ask(app, pilot, "s", draft.id)
        await type_time(app, pilot, in_two_days())
        await wait_until(pilot, lambda: not dialog.reckoning)
        await pilot.press("enter")  # on No: the scheduled question is answered no too
        await back_on(app, pilot)
        assert state_of(draft.id) == "draft"

        dialog = await ask(app, pilot, "s", draft.id)
        await pilot.press("tab", "tab")  # No → Yes → When
        assert dialog.focused is dialog.query_one("#when", Input)
        await pilot.press("enter")  # empty: now; back on No, nothing sent
        assert dialog.focused is dialog.query_one("#no", Button)
        await wait_until(pilot, lambda: not dialog.reckoning)
        assert question_of(app).startswith("Send Richiamo now")
        await pilot.press("enter")
        await back_on(app, pilot)
    assert state_of(draft.id) == "draft"


async def test_a_bad_or_past_time_says_one_line_and_schedules_nothing(sqlite_store):
    draft = a_draft()
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        await type_time(app, pilot, "dopodomani")
        assert "'dopodomani' is not a date and time" in error_of(app)
        assert "\n" not in error_of(app)
        assert dialog.focused is dialog.query_one("#when", Input)  # still there to be corrected
        assert question_of(app).startswith("Send Richiamo now")
        field = dialog.query_one("#when", Input)
        field.value = ""
        await pilot.press(*"2026-01-05 09:30", "enter")
        await pilot.pause()
        assert "is in the past" in error_of(app) and "\n" not in error_of(app)
        assert question_of(app).startswith("Send Richiamo now")
        field.value = ""
        await pilot.press(*"2026-12-05", "enter")  # a day without a time: not midnight by surprise
        await pilot.pause()
        assert "has no time of day" in error_of(app)
        await pilot.press("escape")
        assert error_of(app) == ""
        await pilot.press("escape")
        await back_on(app, pilot)
    assert state_of(draft.id) == "draft"
    assert Campaign.get_by_id(draft.id).scheduled_at is None


async def test_a_time_typed_and_left_with_tab_is_not_sent_now_by_mistake(sqlite_store):
    draft = a_draft()
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        await pilot.press("t", *in_two_days(), "tab")  # not taken with Enter: the question still says now
        assert dialog.focused is dialog.query_one("#no", Button)
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is dialog and "Enter in When takes the time typed" in error_of(app)
        assert dialog.focused is dialog.query_one("#when", Input)
        assert state_of(draft.id) == "draft"
        await pilot.press("enter")  # taken now
        await wait_until(pilot, lambda: not dialog.reckoning)
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "scheduled")


async def test_a_time_that_passed_while_the_question_was_open_is_one_warning(sqlite_store):
    draft = a_draft()
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        await type_time(app, pilot, in_two_days())
        await wait_until(pilot, lambda: not dialog.reckoning)
        shift_clock(timedelta(days=3))  # the admin went away for three days
        await pilot.press("y")
        await back_on(app, pilot)
        await wait_until(pilot, lambda: any("is in the past" in n for n in notes(app)))
        said = next(n for n in notes(app) if "is in the past" in n)
        assert "\n" not in said
    assert state_of(draft.id) == "draft"


async def test_p_unschedules_a_scheduled_campaign_after_a_yes(sqlite_store):
    draft = a_draft()
    at = parse_when(in_two_days())
    queue_campaign(draft.id, at=at)
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        highlight(app, draft.id)
        await pilot.pause()
        actions = footer_actions(app)
        assert "unschedule" in actions and "cancel_campaign" in actions
        assert not {"pause", "resume", "send_now", "edit"} & actions
        await pilot.press("p")
        await wait_until(pilot, lambda: shows_question(app))
        assert question_of(app).startswith(f"Unschedule #{draft.id} Richiamo? It goes back to draft")
        assert "y unschedule · Enter or Esc keep it scheduled" in keys_line(app)
        await pilot.press("enter")
        await back_on(app, pilot)
        assert state_of(draft.id) == "scheduled"
        await pilot.press("p")
        await wait_until(pilot, lambda: shows_question(app))
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "draft")
        assert Campaign.get_by_id(draft.id).scheduled_at is None
        await wait_until(pilot, lambda: "send_now" in footer_actions(app))  # a draft again, on screen too


async def test_x_cancels_a_scheduled_campaign(sqlite_store):
    draft = a_draft()
    queue_campaign(draft.id, at=parse_when(in_two_days()))
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(app, pilot, "x", draft.id)
        assert "p unschedules it instead" in question_of(app)
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "cancelled")


async def test_the_summary_shows_when_a_scheduled_campaign_goes_and_its_place(sqlite_store):
    first = a_draft("Prima")
    queue_campaign(first.id)  # created first, queued: ahead of the scheduled one when it joins
    draft = a_draft("Programmata")
    typed = in_two_days()
    queue_campaign(draft.id, at=parse_when(typed))
    later = a_draft("Dopo")
    queue_campaign(later.id)  # created after it: it joins ahead of this one
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        highlight(app, draft.id)
        await pilot.pause()
        day = local(parse_when(typed))
        cell = summary.query_one("#campaigns", DataTable).get_cell(str(draft.id), "state")
        assert cell.plain.strip() == f"{day:%a} 09:30"
        line = str(summary.query_one("#selected", Static).render())
        assert f"SMS scheduled for {day:%a} {day.day} {day:%b} 09:30" in line
        assert "joins the queue behind 1 campaign" in line


def figures_of(campaign_id: int):
    from store.campaigns import get_campaign
    from store.figures import figures_of

    return figures_of([get_campaign(campaign_id)], 10, {})[0]


def test_the_state_cell_says_when_in_nine_characters(sqlite_store):
    now = datetime(2026, 12, 1, 10, 0)  # a Tuesday, 11:00 in Rome
    assert goes_at(datetime(2026, 12, 1, 13, 30), now) == "at 14:30"
    assert goes_at(datetime(2026, 12, 3, 8, 30), now) == "Thu 09:30"
    assert goes_at(datetime(2027, 1, 14, 8, 0), now) == "14 Jan"
    assert goes_at(datetime(2027, 12, 14, 8, 0), now) == "14 Dec 27"
    assert goes_at(datetime(2026, 11, 25, 8, 0), now) == "25 Nov"  # due, not yet taken by an engine
    draft = a_draft("Un nome molto lungo per la colonna")
    queue_campaign(draft.id, at=utcnow() + timedelta(days=3))
    cells = row_cells(figures_of(draft.id), name_width=20)
    state = cells[3].plain
    assert len(state) == 10 and state.strip()[:3].isalpha()  # a weekday, within its column


def test_the_place_counts_those_ahead_in_creation_order(sqlite_store):
    at = utcnow() + timedelta(days=2)
    ahead_queued = a_draft("A")
    queue_campaign(ahead_queued.id)
    ahead_scheduled = a_draft("B")
    queue_campaign(ahead_scheduled.id, at=at - timedelta(hours=1))
    after_it = a_draft("C")
    queue_campaign(after_it.id, at=at + timedelta(hours=1))  # due after it: behind
    own = a_draft("D")
    queue_campaign(own.id, at=at)
    behind = a_draft("E")
    queue_campaign(behind.id)  # created after it: behind once it joins
    a_draft("F")  # a draft created before: not in the queue
    mine = figures_of(own.id)
    assert mine.ahead_when_due == 2
    assert "joins the queue behind 2 campaigns" in describe(mine)
    first = figures_of(ahead_scheduled.id)  # only A, queued, is before B
    assert first.ahead_when_due == 1 and "joins the queue behind 1 campaign ·" in describe(first)
    cancel_campaign(ahead_queued.id)
    assert "nothing ahead of it so far" in describe(figures_of(ahead_scheduled.id))


async def test_quiet_hours_are_no_provider_trouble(sqlite_store):
    draft = a_draft()
    queue_campaign(draft.id)
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        before = figures_of(draft.id)
        waiting = replace(before, waiting_reason="quiet hours until 09:00")
        summary.announce_changes({before.id: before}, [waiting])
        await pilot.pause()
        assert not any("waits" in n for n in notes(app))
        down = replace(before, waiting_reason="SMS gateway unreachable, retrying")
        summary.announce_changes({before.id: before}, [down])
        await pilot.pause()
        assert any("waits" in n for n in notes(app))


async def test_the_details_say_when_it_goes_its_eta_and_p_unschedules(sqlite_store):
    draft = a_draft()
    typed = in_two_days()
    queue_campaign(draft.id, at=parse_when(typed))
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        highlight(app, draft.id)
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.stats is not None)
        detail = app.screen
        day = local(parse_when(typed))
        status = detail.query_one("#status", Static)
        said = f"scheduled for {day:%a} {day.day} {day:%b} 09:30 (Europe/Rome) · p unschedules"
        assert str(status.render()).startswith(said)
        # The ETA under it; the channel has no rate yet: it says so
        await wait_until(pilot, lambda: "\nETA no estimate yet" in str(status.render()))
        assert "unschedule" in footer_actions(app) and "pause" not in footer_actions(app)
        reads = detail.eta_read_at
        await pilot.pause(1.5)  # a round or more: the ETA is not read on every one
        assert detail.eta_read_at == reads
        await pilot.press("p")
        await wait_until(pilot, lambda: shows_question(app))
        await pilot.press("y")
        await wait_until(pilot, lambda: state_of(draft.id) == "draft")
        await wait_until(pilot, lambda: "ETA" not in str(status.render()))  # a draft has no ETA


async def test_the_dialog_fits_80_by_24_with_every_note(sqlite_store):
    draft = create_campaign(
        channel="sms", name="Nome lungo " * 18, sender="CentroMed", body="Ciao {{ nome }} " * 20, now=utcnow()
    )
    add_pasted(draft.id, "3471234567")
    app = rome_app(sqlite_store)
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = await ask(app, pilot, "s", draft.id)
        await type_time(app, pilot, "nonsense")
        for selector in ("#eta", "#when", "#when-error", "#no", "#yes", "#keys"):
            region = dialog.query_one(selector).region
            assert region.height >= 1 and region.y >= 0 and region.bottom <= 24, selector
            assert region.right <= 80, selector
