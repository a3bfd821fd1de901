from dataclasses import replace
from datetime import timedelta

from store.campaigns import create_campaign
from store.clock import utcnow
from store.config import load_config
from store.models import Campaign, Message
from store.queue import queue_campaign
from store.recipients import add_pasted
from tests.conftest import NOW, without_quiet_hours
from tests.senders.peers import Gateway
from tests.tui.conftest import wait_until
from tui.app import make_app


def processed(app) -> int:
    label = str(app.screen.query_one("#progress-label").render())
    return int(label.split(" of ")[0].replace(",", ""))


def table_title(app) -> str:
    return str(app.screen.query_one("#table-title").render())


async def test_the_detail_screen_watches_a_running_send_change_its_numbers(sqlite_store):
    gateway = Gateway().start()
    gateway.gate.hold()  # the send goes only as far as the test lets it: fast machine or slow
    gateway.gate.let_through(50)
    try:
        draft = create_campaign(channel="sms", name="Richiamo", sender="CentroMed", body="Ciao", now=NOW)
        add_pasted(draft.id, ", ".join(f"+3934700{i:05d}" for i in range(600)))
        gateway.script["+393470000007"] = [400]  # one number the gateway refuses
        config = without_quiet_hours(load_config(database_url=sqlite_store, env={}))
        config = replace(
            config, sms=replace(config.sms, transport="http", url=gateway.url, token=gateway.token)
        )
        queue_campaign(draft.id)
        app = make_app(config, today=NOW.date())
        async with app.run_test(size=(80, 24)) as pilot:
            summary = app.screen
            await wait_until(pilot, lambda: summary.loaded_once)
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen is not summary and app.screen.stats is not None)
            detail = app.screen
            assert "#" in str(detail.query_one("#detail-title").render())
            await wait_until(pilot, lambda: processed(app) == 50, timeout=20)  # the rest held
            assert "sending" in str(detail.query_one("#status").render())  # rate and time left while it runs
            gateway.gate.let_through(100)
            await wait_until(pilot, lambda: processed(app) == 150, timeout=20)  # it watches the numbers move
            assert "sending" in str(detail.query_one("#status").render())
            gateway.gate.release()
            await wait_until(pilot, lambda: processed(app) == 600, timeout=30)
            await wait_until(pilot, lambda: "sent" in str(detail.query_one("#detail-title").render()))
            counts = str(detail.query_one("#counts").render())
            assert "sent 599" in counts and "failed 1" in counts
            for _ in range(5):  # all → pending → sending → sent → delivered → failed
                await pilot.press("f")
            await wait_until(pilot, lambda: "1 recipient failed" in table_title(app))
            assert detail.query_one("#recipients").row_count == 1
            assert "HTTP 400" in str(detail.query_one("#recipient").render())
            await pilot.press("slash")
            await pilot.press(*"00042", "enter")
            await wait_until(pilot, lambda: "0 recipients failed matching" in table_title(app))
            await pilot.press("escape")  # clears the search first
            await wait_until(pilot, lambda: "1 recipient failed ·" in table_title(app))
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is summary)
            await pilot.press("ctrl+q")
    finally:
        gateway.stop()
    assert Campaign.get_by_id(draft.id).state == "sent"


async def test_retargeting_those_who_did_not_open_makes_a_draft_for_them(sqlite_store):
    campaign = create_campaign(channel="email", name="Cardio", sender="Centro", body="Ciao", now=NOW)
    add_pasted(campaign.id, "a@example.org, b@example.org, c@example.org")
    Message.update(state="sent", sent_at=NOW).execute()
    Message.update(opened_at=NOW).where(Message.address == "a@example.org").execute()
    an_hour_ago = utcnow() - timedelta(hours=1)
    Campaign.update(state="sent", last_sent_at=an_hour_ago).where(Campaign.id == campaign.id).execute()
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "stats", None) is not None)
        await pilot.press("t")
        await wait_until(pilot, lambda: app.screen.query("OptionList"))
        first = app.screen.query_one("OptionList").get_option_at_index(0)
        assert str(first.prompt) == "did not open it  (2)"
        await pilot.press("enter")  # the first choice: did not open it
        await wait_until(pilot, lambda: app.screen.query("#question"))
        question = str(app.screen.query_one("#question").render())
        assert "unchanged, it reaches nobody who got this one in the last 7d" in question
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is summary, timeout=10)
        await wait_until(pilot, lambda: Campaign.select().count() == 2)
    draft = Campaign.select().where(Campaign.state == "draft").get()
    addresses = {m.address for m in Message.select().where(Message.campaign == draft.id)}
    assert addresses == {"b@example.org", "c@example.org"} and draft.name == "Cardio · did not open"


async def test_the_details_pause_and_resume_the_campaign_they_watch(sqlite_store):
    campaign = create_campaign(channel="sms", name="Richiamo", sender="CentroMed", body="Ciao", now=NOW)
    add_pasted(campaign.id, "3471234567")
    queue_campaign(campaign.id)
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)

    def footer_keys() -> set[str]:
        return {b.description for _k, (_n, b, enabled, _t) in app.active_bindings.items() if enabled}

    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.loaded_once)
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "stats", None) is not None)
        assert "Pause" in footer_keys() and "Resume" not in footer_keys()
        await pilot.press("p")
        await wait_until(pilot, lambda: Campaign.get_by_id(campaign.id).state == "paused")
        await wait_until(pilot, lambda: "Resume" in footer_keys())
        assert "paused" in str(app.screen.query_one("#detail-title").render())
        await pilot.press("p")
        await wait_until(pilot, lambda: Campaign.get_by_id(campaign.id).state == "queued")
