from store.campaigns import create_campaign
from store.config import load_config
from store.models import Campaign
from store.recipients import add_pasted
from tests.conftest import NOW, without_quiet_hours
from tests.tui.conftest import shows_question, wait_until
from tui.app import make_app


def row_of(app, campaign_id: int) -> int:
    table = app.screen.query_one("#campaigns")
    return [int(key.value) for key in table.rows].index(campaign_id)


def sent_on(summary, campaign_id: int) -> int | None:
    """How many of the campaign's messages the summary counts as sent; None while it is not shown."""
    figures = summary.figures.get(campaign_id)
    return figures.counts.sent if figures is not None else None


async def test_send_now_after_confirmation_and_watch_it_finish(sqlite_store, tmp_path):
    body = "Ciao {{ first_name }}"
    draft = create_campaign(channel="email", name="Check-up", sender="Centro Medico", body=body, now=NOW)
    add_pasted(draft.id, ", ".join(f"p{i}@example.org" for i in range(30)))
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date())  # outbox transports
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        summary.query_one("#campaigns").move_cursor(row=row_of(app, draft.id))
        await pilot.press("s")
        await wait_until(pilot, lambda: shows_question(app))
        question = str(app.screen.query_one("#question").render())
        assert "by EMAIL" in question and "30 of 30 recipients get it" in question
        assert "30 have no name for {{ first_name }}, which reads empty" in question  # pasted, no names
        await pilot.press("y")
        await wait_until(pilot, lambda: Campaign.get_by_id(draft.id).state == "sent", timeout=20)
        await wait_until(pilot, lambda: sent_on(summary, draft.id) == 30, timeout=10)
        assert "sent" in str(summary.query_one("#campaigns").get_row_at(row_of(app, draft.id))[3])
        await pilot.press("ctrl+q")
    assert len(list((tmp_path / "outbox" / f"campaign-{draft.id}").glob("*.eml"))) == 30


async def test_cancel_asks_first(sqlite_store):
    draft = create_campaign(channel="sms", name="Annullami", sender="CentroMed", body="Ciao", now=NOW)
    add_pasted(draft.id, "3471234567")
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        await pilot.press("x")
        await wait_until(pilot, lambda: shows_question(app))
        assert "cannot be undone" in str(app.screen.query_one("#question").render())
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is summary)
        assert Campaign.get_by_id(draft.id).state == "draft"
        await pilot.press("x")
        await wait_until(pilot, lambda: app.screen is not summary)
        await pilot.press("y")
        await wait_until(pilot, lambda: Campaign.get_by_id(draft.id).state == "cancelled")


async def test_quitting_while_sending_asks_first(sqlite_store):
    from dataclasses import replace

    from tests.senders.peers import Gateway

    gateway = Gateway().start()
    gateway.delay = 0.05
    try:
        draft = create_campaign(channel="sms", name="Lento", sender="CentroMed", body="Ciao", now=NOW)
        add_pasted(draft.id, ", ".join(f"+3934700{i:05d}" for i in range(2000)))
        config = without_quiet_hours(load_config(database_url=sqlite_store, env={}))
        config = replace(
            config, sms=replace(config.sms, transport="http", url=gateway.url, token=gateway.token)
        )
        from store.queue import queue_campaign

        queue_campaign(draft.id)
        app = make_app(config, today=NOW.date())
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: len(gateway.received) > 3)
            summary = app.screen
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: shows_question(app))
            assert f"This app is sending #{draft.id}" in str(app.screen.query_one("#question").render())
            await pilot.press("n")
            await wait_until(pilot, lambda: app.screen is summary)
            assert app.is_running
            await pilot.press("ctrl+q")
            await wait_until(pilot, lambda: app.screen is not summary)
            await pilot.press("y")
            # Each connection finishes the message it holds; the rest of the claim goes back at once.
            await wait_until(pilot, lambda: app.return_code is not None, timeout=3)
        assert app.return_code == 0
        from store.models import Message

        left = Message.select().where((Message.campaign == draft.id) & (Message.state == "pending")).count()
        assert 0 < left < 2000  # it stopped part-way, and what was left waits, pending
        assert not Message.select().where(Message.state == "sending").exists()
    finally:
        gateway.stop()


async def test_a_long_send_now_check_keeps_keys_from_the_summary_behind(sqlite_store, monkeypatch):
    import time

    import store.forecast

    checked = store.forecast.forecast
    monkeypatch.setattr(store.forecast, "forecast", lambda *a: time.sleep(2.0) or checked(*a))  # a big draft
    draft = create_campaign(channel="email", name="Tutti", sender="Centro", body="Ciao", now=NOW)
    add_pasted(draft.id, ", ".join(f"p{i}@example.org" for i in range(20_000)))
    add_pasted(draft.id, "one.more@example.org")  # over 20,000: the check says it is working
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        await pilot.press("s")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "WaitScreen")
        await pilot.press("enter")  # while checking: neither the details nor a yes
        await wait_until(pilot, lambda: shows_question(app), timeout=20)
        assert "20,001 of 20,001 recipients get it" in str(app.screen.query_one("#question").render())
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is summary)
    assert Campaign.get_by_id(draft.id).state == "draft"
