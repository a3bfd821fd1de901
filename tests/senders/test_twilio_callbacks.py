"""Twilio's status callbacks at the feedback server, really started and posted to as Twilio posts.

Each callback is signed by the stand-in's own implementation of Twilio's algorithm, itself checked
against twilio-python's test vectors; the store side runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest

from senders.engine import Engine
from senders.feedback import app
from senders.feedback.server import FeedbackServer
from senders.feedback.twilio import is_signed
from store.campaigns import create_campaign
from store.clock import utcnow
from store.config import load_config
from store.figures import campaign_document
from store.models import Message, SendJournal
from store.send_journal import fold_left_behind
from store.suppressions import INVALID_NUMBER, LANDLINE, list_suppressions
from tests.senders.conftest import campaign_to
from tests.senders.peers import free_port
from tests.senders.test_twilio import PHONES, twilio_config
from tests.senders.twilio_peer import AUTH_TOKEN, TwilioPeer, twilio_signature

# twilio-python's tests/unit/test_request_validator.py
SDK_TOKEN = "12345"
SDK_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
SDK_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"), ("Digits", "1234"), ("From", "+14158675309"), ("To", "+18005551212"),
    ("Caller", "+14158675309"),
]  # fmt: skip


@dataclass
class Twilio:
    """The feedback server as Twilio sees it, and the stand-in that signs the callbacks."""

    client: httpx.AsyncClient
    peer: TwilioPeer

    async def status(
        self, sid: str, status: str, error_code: str | None = None, **kwargs: str
    ) -> httpx.Response:
        body, headers = self.peer.callback(sid, status, error_code, **kwargs)
        return await self.client.post("/receipts/twilio", content=body, headers=headers)


@contextlib.asynccontextmanager
async def feedback_server(store: str, provider: str = "twilio") -> AsyncIterator[Twilio]:
    port = free_port()
    config = load_config(database_url=store, env={})
    public_url = f"http://127.0.0.1:{port}"
    config = replace(
        config,
        feedback=replace(config.feedback, listen=f"127.0.0.1:{port}", public_url=public_url),
        sms=replace(
            config.sms, transport="http", provider=provider, account_sid="AC1", auth_token=AUTH_TOKEN
        ),
    )
    server = FeedbackServer(config, "link-secret")
    await server.start()
    async with httpx.AsyncClient(base_url=public_url) as client:
        yield Twilio(client, TwilioPeer(f"{public_url}/receipts/twilio"))
    await server.stop()


@pytest.fixture
async def twilio(store):
    async with feedback_server(store) as found:
        yield found


def new_sid() -> str:
    return "SM" + uuid.uuid4().hex


def sent_sms(address: str = PHONES[0], state: str = "sent", provider_id: str | None = None) -> Message:
    campaign = create_campaign(channel="sms", name="Richiamo", sender="CentroMed", body="Ciao")
    return Message.create(
        campaign=campaign, address=address, state=state, provider_id=provider_id or new_sid(),
        sent_at=utcnow() - timedelta(minutes=5), body_hash="0" * 64,
    )  # fmt: skip


def state_of(message: Message) -> str:
    return Message.get_by_id(message.id).state


def test_our_signatures_are_twilios_own_test_vectors():
    assert twilio_signature(SDK_TOKEN, SDK_URL, SDK_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"),
                ("Digits", "1234")]  # fmt: skip
    assert twilio_signature(SDK_TOKEN, SDK_URL, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    # The server's check accepts them as twilio-python's validator does: with and without the port.
    assert is_signed(SDK_TOKEN, SDK_URL, SDK_PARAMS, b"RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert is_signed(SDK_TOKEN, SDK_URL, repeated, b"IK+Dwps556ElfBT0I3Rgjkr1wJU=")
    with_port = SDK_URL.replace(".com", ".com:1234")
    assert is_signed(SDK_TOKEN, with_port, SDK_PARAMS, b"RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert is_signed(SDK_TOKEN, SDK_URL, SDK_PARAMS, b"kvajT1Ptam85bY51eRf/AJRuM3w=")  # signed with :443
    http = SDK_URL.replace("https", "http")
    assert is_signed(SDK_TOKEN, http, SDK_PARAMS, b"0ZXoZLH/DfblKGATFgpif+LLRf4=")  # signed with :80
    assert is_signed(
        SDK_TOKEN, http.replace(".com", ".com:1234"), SDK_PARAMS, b"Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    )
    assert not is_signed(SDK_TOKEN, http, SDK_PARAMS, b"RSOYDt4T1cUTdK1PDd93/VVr8B8=")  # another scheme
    assert not is_signed("", SDK_URL, SDK_PARAMS, b"RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_signed(SDK_TOKEN, SDK_URL, SDK_PARAMS[:-1], b"RSOYDt4T1cUTdK1PDd93/VVr8B8=")


async def test_a_signed_delivered_callback_marks_the_message_delivered(twilio):
    message = sent_sms()
    for on_the_way in ("queued", "sent"):  # nothing of ours changes
        answer = await twilio.status(message.provider_id, on_the_way)
        assert answer.status_code == 200 and state_of(message) == "sent"
    answer = await twilio.status(message.provider_id, "delivered")
    assert answer.status_code == 200 and answer.json() == {"recorded": True}
    assert state_of(message) == "delivered" and Message.get_by_id(message.id).delivered_at is not None
    stats = campaign_document(message.campaign)
    assert (stats["sent"], stats["delivered"]) == (1, 1)


async def test_unsigned_or_wrongly_signed_callbacks_are_refused_and_change_nothing(twilio):
    message = sent_sms()
    sid = message.provider_id
    body, headers = twilio.peer.callback(sid, "undelivered", "30006")
    missing = {k: v for k, v in headers.items() if k != "X-Twilio-Signature"}
    partial = twilio_signature(AUTH_TOKEN, twilio.peer.status_callback, [("MessageSid", sid)])  # some fields
    forged = [
        (body, missing),
        (body, {**headers, "X-Twilio-Signature": ""}),
        (body, {**headers, "X-Twilio-Signature": partial}),
        twilio.peer.callback(sid, "undelivered", "30006", token="not-the-auth-token"),
        twilio.peer.callback(sid, "undelivered", "30006", url="https://elsewhere.example/receipts/twilio"),
        twilio.peer.callback(sid, "undelivered", "30006", url=twilio.peer.status_callback + "?x=1"),
        (body.replace(b"undelivered", b"delivered"), headers),  # the body altered after signing
        (body + b"&ErrorCode=30005", headers),  # a field added
        (b"\xff\xfe", headers),
    ]
    for content, head in forged:
        answer = await twilio.client.post("/receipts/twilio", content=content, headers=head)
        assert answer.status_code == 403, (content, head)
    assert state_of(message) == "sent" and list_suppressions() == []


async def test_without_twilio_configured_every_callback_is_refused(store):
    async with feedback_server(store, provider="json") as twilio:
        message = sent_sms()
        answer = await twilio.status(message.provider_id, "delivered")
        assert answer.status_code == 403 and state_of(message) == "sent"


async def test_a_signed_callback_without_its_message_or_status_is_refused_as_malformed(twilio):
    for params in ([("MessageStatus", "delivered")], [("MessageSid", new_sid())], [("MessageSid", "a b"),
                   ("MessageStatus", "delivered")]):  # fmt: skip
        signature = twilio_signature(AUTH_TOKEN, twilio.peer.status_callback, params)
        answer = await twilio.client.post(
            "/receipts/twilio", content=urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert answer.status_code == 400


async def test_undelivered_with_a_permanent_code_fails_the_message_and_suppresses_the_number(twilio):
    landline, unknown = sent_sms(PHONES[0]), sent_sms(PHONES[1])
    blocked, silent = sent_sms(PHONES[2]), sent_sms(PHONES[3])
    assert (await twilio.status(landline.provider_id, "undelivered", "30006")).json() == {"recorded": True}
    assert (await twilio.status(unknown.provider_id, "failed", "30005")).status_code == 200
    assert (await twilio.status(blocked.provider_id, "undelivered", "30004")).status_code == 200
    assert (await twilio.status(silent.provider_id, "undelivered")).status_code == 200
    found = {m.address: (m.state, m.error) for m in Message.select()}
    assert found == {
        PHONES[0]: ("failed", "Twilio 30006: landline or unreachable carrier"),
        PHONES[1]: ("failed", "Twilio 30005: unknown destination handset"),
        PHONES[2]: ("failed", "Twilio 30004: message blocked"),
        PHONES[3]: ("failed", "Twilio: undelivered"),
    }
    suppressed = {s.address: (s.reason, s.campaign_id) for s in list_suppressions("sms")}
    assert suppressed == {
        PHONES[0]: (LANDLINE, landline.campaign_id),
        PHONES[1]: (INVALID_NUMBER, unknown.campaign_id),
    }


async def test_statuses_out_of_order_never_move_a_message_back(twilio):
    first, second, third = sent_sms(PHONES[0]), sent_sms(PHONES[1]), sent_sms(PHONES[2])
    await twilio.status(first.provider_id, "delivered")
    assert (await twilio.status(first.provider_id, "sent")).status_code == 200
    assert state_of(first) == "delivered"
    await twilio.status(second.provider_id, "delivered")
    late = await twilio.status(second.provider_id, "undelivered", "30006")
    assert late.status_code == 200 and late.json() == {"recorded": False}
    assert state_of(second) == "delivered" and Message.get_by_id(second.id).error is None
    await twilio.status(third.provider_id, "undelivered", "30003")
    assert (await twilio.status(third.provider_id, "delivered")).json() == {"recorded": False}
    assert state_of(third) == "failed"
    assert list_suppressions() == []  # 30003 (out of reach for now) is no reason to suppress


async def test_a_callback_ahead_of_the_engines_record_is_applied_once_the_answer_is_folded(
    twilio, monkeypatch
):
    monkeypatch.setattr(app, "UNKNOWN_PATIENCE_SECONDS", 0.0)  # only the journal's record may keep it waiting
    message = sent_sms(state="sending", provider_id=None)
    Message.update(provider_id=None).where(Message.id == message.id).execute()
    sid = new_sid()
    # The engine journaled Twilio's answer; its fold into `message` comes a moment later.
    SendJournal.create(message_id=message.id, kind="sent", at=utcnow(), provider_id=sid)
    posted = asyncio.create_task(twilio.status(sid, "undelivered", "30005"))
    await asyncio.sleep(0.6)
    assert not posted.done()  # it waits rather than lose the status
    await asyncio.to_thread(fold_left_behind, message.campaign_id, [message.id])
    answer = await posted
    assert answer.status_code == 200 and answer.json() == {"recorded": True}
    assert state_of(message) == "failed" and Message.get_by_id(message.id).provider_id == sid
    assert [s.reason for s in list_suppressions()] == [INVALID_NUMBER]


async def test_a_callback_for_a_message_we_never_sent_is_answered_and_ignored(twilio):
    answer = await twilio.status(new_sid(), "delivered")
    assert answer.status_code == 200 and answer.json() == {"recorded": False}


def test_twilios_callback_for_a_message_the_engine_sent_marks_it_delivered(sqlite_store):
    """End to end: the engine sends through the stand-in, which posts its signed callback to the
    StatusCallback it was given."""
    port = free_port()
    peer = TwilioPeer(f"http://127.0.0.1:{port}/receipts/twilio").start()
    try:
        config = twilio_config(sqlite_store, peer)
        config = replace(config, feedback=replace(config.feedback, listen=f"127.0.0.1:{port}",
                                                  public_url=f"http://127.0.0.1:{port}"))  # fmt: skip
        campaign_to("sms", PHONES[:2])

        async def scenario() -> list[int]:
            engine = Engine(config, worker="test", feedback=True)  # the worker serves the endpoints
            running = asyncio.create_task(engine.run())
            while len(peer.received) < 2 or Message.select().where(Message.state != "sent").count():
                await asyncio.sleep(0.05)
            answers = [
                (await asyncio.to_thread(peer.send_status, peer.received[0]["sid"], "delivered")).status_code,
                (await asyncio.to_thread(peer.send_status, peer.received[1]["sid"], "undelivered", "30006"))
                .status_code,
            ]  # fmt: skip
            engine.stop()
            await running
            return answers

        assert asyncio.run(asyncio.wait_for(scenario(), 30)) == [200, 200]
    finally:
        peer.stop()
    assert peer.violations == []
    by_sid = {m.provider_id: m.state for m in Message.select()}
    assert by_sid == {peer.received[0]["sid"]: "delivered", peer.received[1]["sid"]: "failed"}
    assert [s.reason for s in list_suppressions()] == [LANDLINE]


async def test_a_code_that_is_a_digit_but_no_number_is_read_as_no_code(twilio):
    """`²` is a digit to Python and no number to int(): a signed callback carrying it is still answered."""
    message = sent_sms(PHONES[0])
    answer = await twilio.status(message.provider_id, "undelivered", "²")
    assert answer.status_code == 200
    assert Message.get_by_id(message.id).error == "Twilio: undelivered"
