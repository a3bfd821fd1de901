"""SMS through Twilio's API: the request Twilio documents, and what each of its answers does to a campaign.

The provider is a real local stand-in (tests/senders/twilio_peer.py) that checks every request as Twilio
would and answers as Twilio does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from senders.engine import Engine
from store.config import Config
from store.models import Campaign, Message
from store.suppressions import INVALID_NUMBER, LANDLINE, UNSUBSCRIBED_AT_PROVIDER, list_suppressions
from tests.senders.conftest import campaign_to, config_for, heal_once_waiting, run_until_waiting, send_all
from tests.senders.twilio_peer import (
    ACCOUNT_SID,
    API_KEY_SECRET,
    API_KEY_SID,
    AUTH_TOKEN,
    TwilioPeer,
    html_page,
    twilio_error,
)  # fmt: skip

PHONES = [f"+3934700000{i:02d}" for i in range(20)]
PUBLIC_URL = "https://feedback.centromedico.example/"  # a trailing slash, as an admin may write it
CALLBACK = "https://feedback.centromedico.example/receipts/twilio"


@pytest.fixture
def twilio() -> Iterator[TwilioPeer]:
    peer = TwilioPeer(CALLBACK).start()
    yield peer
    peer.stop()


def twilio_config(url: str, peer: TwilioPeer, **sms: str) -> Config:
    config = config_for(url)
    settings = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, **sms}
    return replace(
        config,
        sms=replace(config.sms, transport="http", provider="twilio", base_url=peer.base_url, **settings),
        feedback=replace(config.feedback, public_url=PUBLIC_URL),
    )


def states(campaign_id: int) -> dict[str, str]:
    return {m.address: m.state for m in Message.select().where(Message.campaign == campaign_id)}


def errors(campaign_id: int) -> dict[str, str]:
    return {m.address: m.error for m in Message.select().where(Message.campaign == campaign_id) if m.error}


def test_each_sms_is_a_form_post_with_the_campaigns_sender_and_our_status_callback(store, twilio):
    campaign_id = campaign_to("sms", PHONES[:3], body="Promemoria: visita domani alle 9:30 & digiuno")
    send_all(twilio_config(store, twilio))
    assert twilio.violations == []
    assert set(states(campaign_id).values()) == {"sent"}
    by_number = {m["To"]: m for m in twilio.received}
    assert set(by_number) == set(PHONES[:3])
    fields = dict(by_number[PHONES[0]])
    sid = fields.pop("sid")
    assert fields == {
        "To": PHONES[0],
        "From": "CentroMed",
        "Body": "Promemoria: visita domani alle 9:30 & digiuno",
        "StatusCallback": CALLBACK,
    }
    message = Message.get(Message.address == PHONES[0])
    assert message.provider_id == sid and sid.startswith("SM") and len(sid) == 34


def test_an_api_key_replaces_the_account_token_in_the_requests(sqlite_store):
    peer = TwilioPeer(CALLBACK, user=API_KEY_SID, password=API_KEY_SECRET).start()
    try:
        campaign_id = campaign_to("sms", PHONES[:2])
        send_all(twilio_config(sqlite_store, peer, api_key_sid=API_KEY_SID, api_key_secret=API_KEY_SECRET))
    finally:
        peer.stop()
    assert peer.violations == []
    assert set(states(campaign_id).values()) == {"sent"}
    assert len(peer.received) == 2


def test_a_messaging_service_is_named_instead_of_a_sender(sqlite_store, twilio):
    twilio.messaging_service_sid = "MG" + "5" * 32
    campaign_id = campaign_to("sms", PHONES[:2])
    send_all(twilio_config(sqlite_store, twilio, messaging_service_sid=twilio.messaging_service_sid))
    assert twilio.violations == []
    assert set(states(campaign_id).values()) == {"sent"}
    assert all(m["MessagingServiceSid"] == twilio.messaging_service_sid for m in twilio.received)
    assert not any("From" in m for m in twilio.received)


def test_numbers_twilio_refuses_for_good_fail_and_go_on_the_suppression_list(store, twilio):
    twilio.script[PHONES[0]] = [
        twilio_error(400, 21211, f"The 'To' number {PHONES[0]} is not a valid phone number.")
    ]
    twilio.script[PHONES[1]] = [twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")]
    twilio.script[PHONES[2]] = [  # the number without its +, as some messages write it
        twilio_error(400, 21614, f"'To' number {PHONES[2][1:]} is not a valid mobile number")
    ]
    long_text = f"Permission to send an SMS has not been enabled for the region of {PHONES[3]}\n" + "x" * 400
    twilio.script[PHONES[3]] = [twilio_error(400, 21408, long_text)]
    campaign_id = campaign_to("sms", PHONES[:5])
    send_all(twilio_config(store, twilio))
    assert states(campaign_id) == {
        PHONES[0]: "failed", PHONES[1]: "failed", PHONES[2]: "failed", PHONES[3]: "failed", PHONES[4]: "sent",
    }  # fmt: skip
    found = errors(campaign_id)
    assert found[PHONES[0]] == "Twilio 21211: The 'To' number the number is not a valid phone number."
    assert found[PHONES[1]] == "Twilio 21610: Attempt to send to unsubscribed recipient"
    assert found[PHONES[2]] == "Twilio 21614: 'To' number the number is not a valid mobile number"
    reason = found[PHONES[3]]
    assert reason.startswith("Twilio 21408: Permission to send an SMS has not been enabled for the region of")
    assert "\n" not in reason and len(reason) <= 200
    for text in found.values():
        assert not any(phone[1:] in text for phone in PHONES), text  # no number, with or without +
    suppressed = {s.address: (s.reason, s.campaign_id) for s in list_suppressions("sms")}
    assert suppressed == {
        PHONES[0]: (INVALID_NUMBER, campaign_id),
        PHONES[1]: (UNSUBSCRIBED_AT_PROVIDER, campaign_id),
        PHONES[2]: (LANDLINE, campaign_id),
    }
    later = campaign_to("sms", PHONES[:5], body="Un altro messaggio")
    send_all(twilio_config(store, twilio))
    assert sorted(a for a, s in states(later).items() if s == "sent") == [PHONES[3], PHONES[4]]


def test_429_waits_what_twilio_asks_and_503_and_a_proxys_page_are_tried_again(sqlite_store, twilio):
    twilio.script[PHONES[0]] = [twilio_error(429, 20429, "Too Many Requests", **{"Retry-After": "1"})]
    twilio.script[PHONES[1]] = [
        twilio_error(503, 20503, "Service Unavailable"),
        twilio_error(503, 20503, "x"),
    ]
    twilio.script[PHONES[2]] = [html_page(502)]
    twilio.script[PHONES[3]] = [html_page(400)]  # a proxy refusing the request: nothing of Twilio's
    campaign_id = campaign_to("sms", PHONES[:5])
    send_all(twilio_config(sqlite_store, twilio))
    assert states(campaign_id) == {
        PHONES[0]: "sent", PHONES[1]: "sent", PHONES[2]: "sent", PHONES[3]: "failed", PHONES[4]: "sent",
    }  # fmt: skip
    first, second = twilio.arrivals[PHONES[0]]
    assert second - first >= 0.95  # our own back-off here is 50 ms: the pause was Twilio's
    assert len(twilio.arrivals[PHONES[1]]) == 3
    assert [m["To"] for m in twilio.received].count(PHONES[1]) == 1
    assert errors(campaign_id)[PHONES[3]] == "HTTP 400 from Twilio (127.0.0.1)"
    assert list_suppressions() == []


def test_refused_credentials_make_the_campaign_wait_and_burn_nobody(sqlite_store, twilio):
    twilio.password = "the-token-was-rotated"
    campaign_id = campaign_to("sms", PHONES[:5])
    worker = Engine(twilio_config(sqlite_store, twilio), worker="test")
    seen: list[str] = []
    while_waiting: list[dict[str, str]] = []

    def new_token() -> None:
        while_waiting.append(states(campaign_id))
        twilio.password = AUTH_TOKEN  # the admin puts the rotated token in

    healer = heal_once_waiting(campaign_id, new_token, seen)
    asyncio.run(asyncio.wait_for(worker.run(until_idle=True), 30))
    healer.join()
    assert set(while_waiting[0].values()) <= {"pending", "sending"}  # none failed while it waited
    assert "refused the credentials" in seen[0] and "[sms] account_sid and auth_token" in seen[0]
    assert "Twilio 20003: Authenticate" in seen[0]
    assert set(states(campaign_id).values()) == {"sent"}
    assert sorted(m["To"] for m in twilio.received) == PHONES[:5]
    assert all(m.attempts == 1 for m in Message.select())  # the refused tries were not counted


def test_a_wrong_account_or_missing_credentials_wait_too(sqlite_store, twilio):
    campaign_id = campaign_to("sms", PHONES[:3])
    config = twilio_config(sqlite_store, twilio, auth_token="")
    reasons = []
    for broken in (
        config,
        replace(config, sms=replace(config.sms, auth_token=AUTH_TOKEN, account_sid="AC0")),
    ):
        worker = Engine(broken, worker="test")

        async def for_a_while(worker: Engine = worker) -> None:
            task = asyncio.create_task(worker.run())
            deadline = time.monotonic() + 10
            while not Campaign.get_by_id(campaign_id).waiting_reason and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            worker.stop()
            await task

        asyncio.run(for_a_while())
        reasons.append(Campaign.get_by_id(campaign_id).waiting_reason)
        Campaign.update(waiting_reason=None).where(Campaign.id == campaign_id).execute()
        assert set(states(campaign_id).values()) == {"pending"}
        assert all(m.attempts == 0 for m in Message.select())
    assert "set [sms] account_sid and auth_token" in reasons[0]
    assert "check [sms] base_url and account_sid" in reasons[1]
    assert twilio.received == []


def test_the_auth_token_never_travels_in_clear_to_another_machine(sqlite_store, twilio):
    campaign_id = campaign_to("sms", PHONES[:2])
    config = twilio_config(sqlite_store, twilio)
    config = replace(config, sms=replace(config.sms, base_url="http://sms-gateway.example.net"))
    assert "[sms] base_url must be https://" in run_until_waiting(config, campaign_id)
    assert set(states(campaign_id).values()) == {"pending"}
