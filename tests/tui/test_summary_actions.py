from datetime import timedelta
from pathlib import Path

from textual.widgets import DataTable

from store.campaigns import create_campaign
from store.clock import utcnow
from store.config import load_config
from store.models import Campaign, Message
from store.recipients import add_pasted
from tests.conftest import NOW
from tests.tui.conftest import shows_question, wait_until
from tests.tui.test_summary import names_shown, text_of
from tui.app import make_app, screen_commands


def two_campaigns(now=NOW):
    draft = create_campaign(channel="email", name="Bozza cardio", sender="Centro", body="Ciao", now=now)
    add_pasted(draft.id, "a@example.org, b@example.org")
    sent = create_campaign(channel="sms", name="Vaccini inviati", sender="CentroMed", body="Ciao", now=now)
    Campaign.update(state="sent").where(Campaign.id == sent.id).execute()
    return draft, sent


def highlight(app, campaign_id: int) -> None:
    table = app.screen.query_one("#campaigns", DataTable)
    table.move_cursor(row=[int(k.value) for k in table.rows].index(campaign_id))


def footer_actions(app) -> set[str]:
    return {
        binding.action for _key, (_node, binding, enabled, _tip) in app.active_bindings.items() if enabled
    }


async def test_the_footer_and_the_palette_offer_what_applies_to_the_highlighted_campaign(sqlite_store):
    draft, sent = two_campaigns()
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.loaded_once)
        highlight(app, draft.id)
        await pilot.pause()
        assert {"edit", "recipients", "send_now", "test", "delete", "clone"} <= footer_actions(app)
        assert "pause" not in footer_actions(app)
        titles = {command.title for command in screen_commands(app.screen)}
        assert {"Edit", "Send", "Test", "Delete", "Clone", "Filter by name", "Help"} <= titles
        highlight(app, sent.id)
        await pilot.pause()
        assert "clone" in footer_actions(app) and not {"edit", "send_now", "delete"} & footer_actions(app)
        assert "Edit" not in {command.title for command in screen_commands(app.screen)}
        assert app.screen.check_action("edit", ()) is False  # e is not bound for a sent campaign


async def test_clone_then_delete_the_copy_after_confirming(sqlite_store):
    _draft, sent = two_campaigns(now=utcnow())  # the copy is made today: all in today's period
    app = make_app(load_config(database_url=sqlite_store, env={}), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        highlight(app, sent.id)
        await pilot.press("c")
        await wait_until(pilot, lambda: Campaign.select().count() == 3)
        copy = Campaign.select().order_by(Campaign.id.desc()).get()
        assert (copy.name, copy.state) == ("Vaccini inviati (copy)", "draft")
        await wait_until(pilot, lambda: summary.selected_id() == copy.id)  # the copy is highlighted
        await pilot.press("d")
        await wait_until(pilot, lambda: shows_question(app))
        assert "cannot be undone" in str(app.screen.query_one("#question").render())
        await pilot.press("y")
        await wait_until(pilot, lambda: Campaign.select().count() == 2)


async def test_a_test_of_a_draft_goes_to_the_typed_addresses_only(sqlite_store, tmp_path):
    draft, _sent = two_campaigns()
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)  # outbox
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        highlight(app, draft.id)
        await pilot.press("t")
        await wait_until(pilot, lambda: app.screen is not summary)
        await pilot.press(*"me@example.org", "enter")
        outbox = Path(tmp_path) / "outbox" / f"campaign-{draft.id}"
        await wait_until(pilot, lambda: outbox.exists() and any(outbox.glob("*.eml")))
    written = next(outbox.glob("*.eml")).read_bytes()
    assert b"To: me@example.org" in written and b"Subject: [TEST] Centro" in written
    assert {m.state for m in Message.select()} == {"pending"}
    assert Campaign.get_by_id(draft.id).state == "draft"


async def test_slash_filters_the_campaigns_by_name_and_escape_clears_it(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        everything = names_shown(demo_app)
        await pilot.press("slash", *"check")
        # Keys go in one at a time (type-ahead) and the filter reads once typing pauses: wait for all five.
        await wait_until(pilot, lambda: "named “check”" in text_of(demo_app, "#title"))
        await wait_until(pilot, lambda: names_shown(demo_app) != everything)
        assert names_shown(demo_app) and all("check" in n.lower() for n in names_shown(demo_app))
        await pilot.press("enter", "escape")
        await wait_until(pilot, lambda: names_shown(demo_app) == everything)


async def test_question_mark_lists_every_key(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: demo_app.screen.query("HelpScreen Static") or False)
        text = str(demo_app.screen.query_one("HelpScreen Static").render())
        for line in ("Re-target", "Earlier period", "Filter by name", "Delete", "command palette"):
            assert line in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: demo_app.screen.query("#campaigns") or False)


async def test_a_long_period_is_read_a_page_at_a_time(sqlite_store):
    from store.bulk import insert_rows

    rows = [(f"Campagna {i}", "sms", "CentroMed", "Ciao", "draft", NOW, NOW) for i in range(250)]
    insert_rows(Campaign, [Campaign.name, Campaign.channel, Campaign.sender, Campaign.body, Campaign.state,
                           Campaign.created_at, Campaign.updated_at], rows)  # fmt: skip
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        table = summary.query_one("#campaigns", DataTable)
        assert table.row_count == 201 and "250 campaigns" in text_of(app, "#title")
        assert "50 more" in str(table.get_row_at(200)[1])
        await pilot.press("ctrl+end")  # down to the last row: the next page comes
        await wait_until(pilot, lambda: table.row_count == 250)
        assert table.cursor_row == 200  # on the first campaign of the page just read, not back at the top
        assert summary.selected_id() is not None


async def test_f5_reads_conversion_again_which_the_two_second_refresh_keeps_for_a_while(sqlite_store):
    from tests.store.test_stats import book, message, people

    people()
    campaign = create_campaign(channel="email", name="Check-up", sender="Centro", body="Ciao", now=NOW)
    Campaign.update(state="sent", last_sent_at=NOW).where(Campaign.id == campaign.id).execute()
    message(campaign, 1, "a@example.org")
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)

    def conversion_shown() -> str:
        return str(
            app.screen.query_one("#campaigns", DataTable).get_cell(str(campaign.id), "conversion")
        ).strip()

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.loaded_once)
        assert conversion_shown() == "0.0%"
        book(1, NOW + timedelta(days=2))
        loads = app.screen.loads
        await wait_until(pilot, lambda: app.screen.loads > loads + 1)  # two refreshes went by
        assert conversion_shown() == "0.0%"  # the costliest figure: read at most every 30 s
        await pilot.press("f5")
        await wait_until(pilot, lambda: conversion_shown() == "100%")


async def test_the_name_filter_reads_once_typing_pauses(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        demo_app.screen.refresh_timer.stop()  # no two-second refresh in the middle of the typing
        loads = demo_app.screen.loads
        await pilot.press("slash", *"screening")
        await wait_until(pilot, lambda: "named “screening”" in text_of(demo_app, "#title"))
        assert demo_app.screen.loads == loads + 1


async def test_a_test_sent_in_the_channels_quiet_hours_goes_and_says_so(sqlite_store, tmp_path):
    draft = create_campaign(channel="sms", name="Promemoria", sender="CentroMed", body="Ciao", now=NOW)
    add_pasted(draft.id, "3471234567")
    today = utcnow().date()  # the center is in UTC here: today, then the night, are quiet
    tomorrow = today + timedelta(days=1)
    config = load_config(database_url=sqlite_store, env={"CAMPAIGNS_SMS_QUIET_DAYS": today.isoformat()})
    app = make_app(config, today=NOW.date(), send=False)  # outbox
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        highlight(app, draft.id)
        await pilot.press("t")
        await wait_until(pilot, lambda: app.screen is not summary)
        await pilot.press(*"3479999999", "enter")
        said = lambda: [n.message for n in app._notifications if n.title == f"Test of #{draft.id}"]  # noqa: E731
        await wait_until(pilot, lambda: bool(said()))
    assert said()[0].splitlines() == [
        "sent to 3479999999",
        "SMS quiet hours do not apply to a test: it went now (quiet hours until "
        f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b} 09:00).",
    ]
