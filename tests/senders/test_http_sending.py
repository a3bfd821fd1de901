import asyncio

import pytest

from senders.engine import Engine
from store.contacts import import_contacts
from store.models import Campaign, Contact, Message
from store.queue import cancel_campaign, pause_campaign, resume_campaign
from tests.senders.conftest import campaign_to, config_for, heal_once_waiting, run_until_waiting, send_all

PHONES = [f"+3934700000{i:02d}" for i in range(20)]


def states(campaign_id: int) -> dict[str, str]:
    return {m.address: m.state for m in Message.select().where(Message.campaign == campaign_id)}


@pytest.fixture(params=[False, True], ids=["app", "headless"])
def headless(request: pytest.FixtureRequest) -> bool:
    """The app's engine journals in its thread; a headless one (`campaigns worker`) on the event loop."""
    return bool(request.param)


def test_sms_go_out_in_the_gateways_json(sqlite_store, gateway, headless):
    campaign_id = campaign_to("sms", PHONES[:3], body="Promemoria: visita domani")
    send_all(config_for(sqlite_store, gateway=gateway), headless=headless)
    message = Message.get(Message.address == PHONES[0])
    assert {
        "to": PHONES[0],
        "from": "CentroMed",
        "body": "Promemoria: visita domani",
        "reference": f"m{message.id}",
    } in gateway.received
    assert message.provider_id.startswith("gw-")
    assert set(states(campaign_id).values()) == {"sent"}


def test_429_and_503_retry_other_4xx_fail(sqlite_store, gateway, headless):
    gateway.script[PHONES[0]] = [429, 200]
    gateway.script[PHONES[1]] = [503, 503, 200]
    gateway.script[PHONES[2]] = [400]
    campaign_id = campaign_to("sms", PHONES[:4])
    send_all(config_for(sqlite_store, gateway=gateway), headless=headless)
    found = states(campaign_id)
    assert found == {PHONES[0]: "sent", PHONES[1]: "sent", PHONES[2]: "failed", PHONES[3]: "sent"}
    assert Message.get(Message.address == PHONES[2]).error.startswith("HTTP 400")
    assert gateway.count_by_recipient()[PHONES[1]] == 1


def test_a_gone_device_fails_and_its_token_is_marked_dead(sqlite_store, gateway, write_csv):
    import_contacts(
        write_csv(
            "c.csv", "id,email,push_token,consent\n1,a@example.org,tok-a,yes\n2,b@example.org,tok-b,yes\n"
        )
    )
    gateway.script["tok-b"] = [410]
    campaign_id = campaign_to(
        "push", ["a@example.org", "b@example.org"], body="Il centro resta chiuso lunedì"
    )
    send_all(config_for(sqlite_store, gateway=gateway))
    assert states(campaign_id) == {"tok-a": "sent", "tok-b": "failed"}
    assert Contact.get_by_id(2).push_token_dead_at is not None
    assert Contact.get_by_id(1).push_token_dead_at is None
    title = next(m["title"] for m in gateway.received if m["token"] == "tok-a")
    assert title == "CentroMed"


def test_a_gateway_answering_503_to_everything_makes_the_campaign_wait(sqlite_store, gateway):
    gateway.status_for_all = 503
    campaign_id = campaign_to("sms", PHONES[:10])
    worker = Engine(config_for(sqlite_store, gateway=gateway), worker="test")
    seen: list[str] = []
    healer = heal_once_waiting(campaign_id, lambda: setattr(gateway, "status_for_all", None), seen)
    asyncio.run(asyncio.wait_for(worker.run(until_idle=True), 30))
    healer.join()
    assert "keeps failing: HTTP 503" in seen[0]
    assert set(states(campaign_id).values()) == {"sent"}
    assert gateway.count_by_recipient() == {p: 1 for p in PHONES[:10]}


def test_an_unreachable_gateway_burns_nobody(sqlite_store):
    campaign_id = campaign_to("sms", PHONES[:5])
    # nothing listens on its port
    assert "cannot reach the SMS gateway" in run_until_waiting(config_for(sqlite_store), campaign_id)
    assert set(states(campaign_id).values()) == {"pending"}
    assert all(m.attempts == 0 for m in Message.select())


def test_the_same_message_within_a_week_is_skipped(sqlite_store, gateway):
    first = campaign_to("sms", PHONES[:3], body="Vaccino antinfluenzale disponibile")
    second = campaign_to("sms", PHONES[:5], body="Vaccino antinfluenzale disponibile")
    third = campaign_to("sms", PHONES[:2], body="Un altro messaggio")
    send_all(config_for(sqlite_store, gateway=gateway))
    assert set(states(first).values()) == {"sent"}
    found = states(second)
    assert [found[p] for p in PHONES[:3]] == ["skipped_duplicate"] * 3
    assert [found[p] for p in PHONES[3:5]] == ["sent", "sent"]
    assert (
        "the same message reached this address on"
        in Message.get((Message.campaign == second) & (Message.address == PHONES[0])).error
    )
    assert set(states(third).values()) == {"sent"}
    assert gateway.count_by_recipient()[PHONES[0]] == 2  # the first campaign's and the third's


def test_campaigns_go_one_after_another_first_created_first(sqlite_store, gateway):
    older = campaign_to("sms", PHONES[:6], body="Primo")
    newer = campaign_to("sms", PHONES[6:12], body="Secondo")
    send_all(config_for(sqlite_store, gateway=gateway))
    bodies = [m["body"] for m in gateway.received]
    assert bodies == ["Primo"] * 6 + ["Secondo"] * 6
    assert Campaign.get_by_id(older).last_sent_at <= Campaign.get_by_id(newer).first_sent_at


def test_pause_resume_and_cancel(sqlite_store, gateway, headless):
    gateway.gate.hold()  # three answered, then the gateway holds what it has while the pause comes
    gateway.gate.let_through(3)
    paused = campaign_to("sms", PHONES[:20], body="Da mettere in pausa")
    worker = Engine(config_for(sqlite_store, gateway=gateway), worker="test", headless=headless)

    def in_flight() -> int:
        return Message.select().where((Message.campaign == paused) & (Message.state == "sending")).count()

    async def scenario() -> None:
        task = asyncio.create_task(worker.run())
        while len(gateway.received) < 3 or not gateway.gate.waiting:
            await asyncio.sleep(0.01)
        pause_campaign(paused)
        gateway.gate.release()  # what the gateway held is answered; nothing more may follow
        while in_flight():
            await asyncio.sleep(0.02)
        at_pause = len(gateway.received)
        assert 3 < at_pause < 20
        assert Campaign.get_by_id(paused).state == "paused"
        await asyncio.sleep(0.3)
        assert len(gateway.received) == at_pause  # nothing new goes out while paused
        resume_campaign(paused)
        while Campaign.get_by_id(paused).state != "sent":
            await asyncio.sleep(0.02)
        worker.stop()
        await task

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert gateway.count_by_recipient() == {p: 1 for p in PHONES[:20]}

    cancelled = campaign_to("sms", [f"+3934800000{i:02d}" for i in range(10)], body="Da annullare")
    cancel_campaign(cancelled)
    send_all(config_for(sqlite_store, gateway=gateway))
    assert set(states(cancelled).values()) == {"cancelled"}


def test_claims_take_the_configured_lease(sqlite_store, gateway):
    from dataclasses import replace

    from store.sending import claim

    campaign_id = campaign_to("sms", PHONES[:2])
    config = config_for(sqlite_store, gateway=gateway)
    config = replace(config, engine=replace(config.engine, lease_seconds=600))
    worker = Engine(config, worker="test")
    assert worker.lease.total_seconds() == 600
    taken = claim(campaign_id, "test", 10, lease=worker.lease)
    lease_until = Message.get_by_id(taken.messages[0].id).lease_until
    assert (lease_until - Message.get_by_id(taken.messages[0].id).added_at).total_seconds() > 500


def test_a_redirect_or_a_nonsense_retry_after_burns_nobody(sqlite_store, gateway):
    """A moved gateway answers 301 to every message: the campaign waits. `Retry-After: ²` is no number."""
    gateway.status_for_all = 301
    campaign_id = campaign_to("sms", PHONES[:3])
    worker = Engine(config_for(sqlite_store, gateway=gateway), worker="test")
    seen: list[str] = []
    healer = heal_once_waiting(campaign_id, lambda: setattr(gateway, "status_for_all", None), seen)
    asyncio.run(asyncio.wait_for(worker.run(until_idle=True), 30))
    healer.join()
    assert "answered HTTP 301, a redirect: check its URL" in seen[0]
    assert set(states(campaign_id).values()) == {"sent"}


def test_retry_after_is_read_only_when_it_is_a_number_or_a_date():
    import httpx

    from senders.transports.http import retry_after

    def said(value: str) -> float | None:
        return retry_after(httpx.Response(503, headers=[(b"Retry-After", value.encode())]), now=0.0)

    assert said("7") == 7.0
    assert said("²") is None and said("-3") is None and said("9" * 400) is None
    assert said("Thu, 01 Jan 1970 00:00:30 GMT") == 30.0
    assert said("tomorrow") is None
