"""The feedback server, really started (uvicorn on a free port) and driven over HTTP as mail programs,
SMS gateways and the patients' app drive it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from senders.feedback.server import FeedbackServer
from senders.links import Links, sign
from store.campaigns import create_campaign
from store.clock import utcnow
from store.config import load_config
from store.figures import campaign_document
from store.models import Campaign, Contact, Message, OptOut, TrackingEvent
from store.queue import queue_campaign
from store.recipients import add_contacts, add_pasted
from tests.senders.conftest import campaign_to, config_for, send_all
from tests.senders.peers import free_port

SECRET = "test-secret-for-links"
GATEWAY_TOKEN = "gateway-token"


@contextlib.asynccontextmanager
async def feedback_server(store: str, language: str = "en") -> AsyncIterator[httpx.AsyncClient]:
    port = free_port()
    config = load_config(database_url=store, env={})
    config = replace(
        config,
        feedback=replace(config.feedback, listen=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}"),
        sms=replace(config.sms, token=GATEWAY_TOKEN),
        email=replace(config.email, language=language),
    )
    server = FeedbackServer(config, SECRET)
    await server.start()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", follow_redirects=False) as client:
        yield client
    await server.stop()


@pytest.fixture
async def feedback(store):
    async with feedback_server(store) as client:
        yield client


def sent_message(channel="email", address="maria@example.org", contact=None, state="sent", **fields):
    sender = fields.pop("sender", "CentroMed" if channel == "sms" else "Centro Medico")
    campaign = create_campaign(channel=channel, name=f"{channel} news", sender=sender,
                               body="Ciao {{ first_name }}", subject=fields.pop("subject", None))  # fmt: skip
    return Message.create(
        campaign=campaign, contact=contact, address=address, state=state, first_name="Maria",
        sent_at=fields.pop("sent_at", utcnow() - timedelta(minutes=5)), **fields,
    )  # fmt: skip


def links_of(message: Message, base: httpx.AsyncClient) -> Links:
    return Links(str(base.base_url), SECRET)


async def test_an_open_returns_the_pixel_and_counts_each_recipient_once(feedback):
    message = sent_message()
    pixel = links_of(message, feedback).open_pixel(message.id)
    assert (await feedback.head(pixel)).status_code == 200  # a link checker: nothing recorded
    assert campaign_document(message.campaign)["opened"] == 0
    for _ in range(3):  # the same person opens it three times
        answer = await feedback.get(pixel)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
        assert answer.content.startswith(b"GIF89a") and len(answer.content) == 43
    stats = campaign_document(message.campaign)
    assert (stats["opened"], stats["open_rate"], stats["clicked"]) == (1, 1.0, 0)
    # A replay within seconds is answered but not written again: raw events cannot fill the disk.
    assert TrackingEvent.select().where(TrackingEvent.kind == "open").count() == 1


async def test_forged_or_altered_links_answer_404_and_record_nothing(feedback):
    message = sent_message()
    genuine = sign(SECRET, "o", message.id)
    other = sent_message(address="luca@example.org")
    forged = [
        f"/o/{genuine.replace(f'o.{message.id}.', f'o.{other.id}.')}",  # another message's id
        f"/o/{sign('not-our-secret', 'o', message.id)}",
        f"/o/{genuine[:-2]}",
        f"/c/{sign(SECRET, 'o', message.id)}",  # an open token used as a click
        "/o/", "/c/garbage", f"/o/o.{message.id}.é", f"/c/c.{message.id}.aHR0cHM6.ü",
    ]  # fmt: skip
    for path in forged:
        assert (await feedback.get(path)).status_code == 404, path
    unsubscribe = sign(SECRET, "u", message.id)
    forged_unsubscribes = [
        f"/u/{sign(SECRET, 'o', message.id)}",  # an open token used as an unsubscribe
        f"/u/{sign('not-our-secret', 'u', message.id)}",
        f"/u/{unsubscribe.replace(f'u.{message.id}.', f'u.{other.id}.')}",
        f"/u/{unsubscribe[:-2]}", "/u/u.1", "/u/ñ", "/u/",
    ]  # fmt: skip
    for path in forged_unsubscribes:
        for method in ("GET", "HEAD", "POST"):
            answer = await feedback.request(method, path, content=b"List-Unsubscribe=One-Click")
            assert answer.status_code == 404, (method, path)
            assert "<form" not in answer.text
    click = links_of(message, feedback).click(message.id, "https://centromedico.example/prenota")
    tampered = click.replace("aHR0cHM6", "aHR0cDo")  # https -> http inside the signed address
    assert (await feedback.get(tampered)).status_code == 404
    assert TrackingEvent.select().count() == 0
    assert Message.get_by_id(message.id).opened_at is None
    assert Contact.select().count() == 0 and OptOut.select().count() == 0


async def test_a_valid_link_of_a_message_that_no_longer_exists_records_nothing(feedback):
    links = Links("http://x", SECRET)
    answer = await feedback.get(links.open_pixel(987654).removeprefix("http://x"))
    assert answer.status_code == 200  # the pixel still draws; nothing to record it against
    assert TrackingEvent.select().count() == 0


async def test_a_click_redirects_to_the_original_link_and_counts_as_an_open(feedback):
    message = sent_message()
    url = "https://centromedico.example/prenota?visita=cardio&utm=ottobre"
    answer = await feedback.get(links_of(message, feedback).click(message.id, url))
    assert answer.status_code == 307 and answer.headers["location"] == url
    await feedback.get(links_of(message, feedback).click(message.id, url))
    stats = campaign_document(message.campaign)
    assert (stats["opened"], stats["clicked"], stats["click_rate"]) == (1, 1, 1.0)
    other = "https://centromedico.example/orari"
    await feedback.get(links_of(message, feedback).click(message.id, other))
    events = list(TrackingEvent.select().where(TrackingEvent.kind == "click").order_by(TrackingEvent.id))
    assert [e.url for e in events] == [url, other]  # the same click twice in a moment is written once


async def test_opens_all_within_seconds_of_sending_are_counted_as_machine_opened(feedback):
    proxy = sent_message(address="proxy@example.org", sent_at=utcnow())
    person = sent_message(address="person@example.org", sent_at=utcnow() - timedelta(hours=1))
    for message in (proxy, person):
        await feedback.get(links_of(message, feedback).open_pixel(message.id))
    assert campaign_document(proxy.campaign)["machine_opened"] == 1
    assert campaign_document(person.campaign)["machine_opened"] == 0
    assert campaign_document(proxy.campaign)["opened"] == 1  # a hint beside the figure, not subtracted
    # The proxy's recipient clicks an hour later: a person after all.
    TrackingEvent.create(message=proxy.id, kind="click", occurred_at=utcnow() + timedelta(hours=1), url="x")
    assert campaign_document(proxy.campaign)["machine_opened"] == 0


async def test_one_click_unsubscribe_by_post_withdraws_consent_and_later_sends_skip_it(feedback):
    Contact.create(id=7, registry_id="7", kind="patient", email="maria@example.org", consent=True)
    message = sent_message(contact=7)
    link = links_of(message, feedback).unsubscribe(message.id)
    assert (await feedback.get(link)).status_code == 200  # a scanner's fetch first: nothing changes
    assert Contact.get_by_id(7).consent is True
    answer = await feedback.post(
        link,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200 and "location" not in answer.headers
    contact = Contact.get_by_id(7)
    assert contact.consent is False and contact.consent_changed_at is not None
    assert contact.consent_note == f"unsubscribed from campaign {message.campaign_id}"
    later = create_campaign(channel="email", name="Later", sender="Centro", body="Hi")
    assert add_contacts(later.id, [7]).opted_out == 1


async def test_opening_the_unsubscribe_link_only_asks_naming_the_centre_and_changes_nothing(feedback):
    """Mail security scanners fetch every link of an incoming mail: only a POST may unsubscribe."""
    Contact.create(id=7, registry_id="7", kind="patient", email="maria@example.org", consent=True)
    message = sent_message(contact=7, sender='Cura & "Salute" <b>Centro</b>')
    link = links_of(message, feedback).unsubscribe(message.id)
    for _ in range(2):  # the scanner, then the patient
        page = await feedback.get(link)
        assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "from Cura &amp; &quot;Salute&quot; &lt;b&gt;Centro&lt;/b&gt;?" in page.text
    assert "<b>" not in page.text and "<script" not in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    form = re.search(r"<form[^>]*>.*?</form>", page.text, re.S).group(0)
    assert form.startswith('<form method="post">') and "Yes, unsubscribe" in form  # posts to the link
    head = await feedback.head(link)  # a link checker: the same answer without its body
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == page.headers["content-length"]
    assert Contact.get_by_id(7).consent is True and Contact.get_by_id(7).consent_changed_at is None
    assert OptOut.select().count() == 0 and TrackingEvent.select().count() == 0
    assert campaign_document(message.campaign)["unsubscribed"] == 0
    # The patient presses the button: the browser posts the form's fields to the same address.
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]+)">', form))
    answer = await feedback.post(link, data=fields)
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    assert "<form" not in answer.text
    assert Contact.get_by_id(7).consent is False
    assert campaign_document(message.campaign)["unsubscribed"] == 1


async def test_an_unsubscribe_link_of_a_message_that_no_longer_exists_answers_404(feedback):
    link = Links("http://x", SECRET).unsubscribe(987654).removeprefix("http://x")
    for method in ("GET", "HEAD", "POST"):
        assert (await feedback.request(method, link)).status_code == 404, method
    assert OptOut.select().count() == 0


async def test_an_italian_centre_answers_the_unsubscribe_link_in_italian(store):
    async with feedback_server(store, language="it") as client:
        message = sent_message(address="pasted@example.org")
        link = links_of(message, client).unsubscribe(message.id)
        question = await client.get(link)
        assert question.status_code == 200 and '<html lang="it">' in question.text
        assert "Vuoi smettere di ricevere le campagne di Centro Medico?" in question.text
        assert "Sì, annulla l&#x27;iscrizione</button>" in question.text
        answer = await client.post(link, content=b"List-Unsubscribe=One-Click")
        assert answer.status_code == 200 and '<html lang="it">' in answer.text
        assert "Iscrizione annullata: non riceverai più le nostre campagne." in answer.text
        forged = await client.get(f"/u/u.{message.id}.forged")
        assert forged.status_code == 404 and "non è valido" in forged.text


async def test_a_campaign_in_english_answers_in_english_in_an_italian_centre(store):
    async with feedback_server(store, language="it") as client:
        message = sent_message(address="tourist@example.org")
        Campaign.update(language="en").where(Campaign.id == message.campaign_id).execute()
        link = links_of(message, client).unsubscribe(message.id)
        question = await client.get(link)
        assert '<html lang="en">' in question.text and "Do you want to stop receiving" in question.text
        answer = await client.post(link, content=b"List-Unsubscribe=One-Click")
        assert answer.status_code == 200 and "You are unsubscribed" in answer.text
        # A link that verifies nothing has no campaign: the center's language
        assert "non è valido" in (await client.get(f"/u/u.{message.id}.forged")).text


async def test_unsubscribe_by_post_covers_pasted_addresses_without_a_contact(feedback):
    message = sent_message(address="pasted@example.org")
    assert (await feedback.get(links_of(message, feedback).unsubscribe(message.id))).status_code == 200
    assert OptOut.select().count() == 0
    answer = await feedback.post(links_of(message, feedback).unsubscribe(message.id))
    assert answer.status_code == 200 and "unsubscribed" in answer.text
    again = await feedback.post(links_of(message, feedback).unsubscribe(message.id))
    assert again.status_code == 200
    assert campaign_document(message.campaign)["unsubscribed"] == 1
    assert TrackingEvent.select().where(TrackingEvent.kind == "unsubscribe").count() == 1
    later = create_campaign(channel="email", name="Later", sender="Centro", body="Hi")
    report = add_pasted(later.id, "pasted@example.org, other@example.org")
    assert (report.added, report.opted_out) == (1, 1)


def test_a_queued_message_to_an_address_that_unsubscribed_meanwhile_is_skipped(store, mail_server):
    campaign_id = campaign_to("email", ["a@example.org", "b@example.org"])
    OptOut.create(address="b@example.org", at=utcnow(), campaign_id=None)
    send_all(config_for(store, mail_server))
    assert mail_server.count_by_recipient() == {"a@example.org": 1}
    assert (
        campaign_document(Message.get(Message.address == "b@example.org").campaign)["skipped_opted_out"] == 1
    )
    assert Message.get(Message.campaign == campaign_id, Message.address == "b@example.org").state == (
        "skipped_opted_out"
    )


async def test_sms_receipts_need_the_gateways_token_and_mark_messages_delivered(feedback, caplog):
    delivered = sent_message(channel="sms", address="+393470000001")
    failed = sent_message(channel="sms", address="+393470000002")
    receipt = {"reference": f"m{delivered.id}", "status": "delivered"}
    assert (await feedback.post("/receipts/sms", json=receipt)).status_code == 401
    wrong = {"authorization": "Bearer nope"}
    assert (await feedback.post("/receipts/sms", json=receipt, headers=wrong)).status_code == 401
    assert Message.get_by_id(delivered.id).state == "sent"
    auth = {"authorization": f"Bearer {GATEWAY_TOKEN}"}
    assert (await feedback.post("/receipts/sms", json=receipt, headers=auth)).json() == {"recorded": True}
    bad = {"reference": f"m{failed.id}", "status": "failed"}
    assert (await feedback.post("/receipts/sms", json=bad, headers=auth)).status_code == 200
    caplog.set_level("INFO", logger="campaigns.feedback")
    unknown = await feedback.post("/receipts/sms", json={"reference": "m999999", "status": "delivered"},
                                  headers=auth)  # fmt: skip
    assert unknown.status_code == 200 and unknown.json() == {"recorded": False}
    assert "unknown reference" in caplog.text and "999999" not in caplog.text
    cancelled = sent_message(channel="sms", address="+393470000009", state="cancelled")
    late = {"reference": f"m{cancelled.id}", "status": "delivered"}
    assert (await feedback.post("/receipts/sms", json=late, headers=auth)).json() == {"recorded": False}
    assert Message.get_by_id(cancelled.id).state == "cancelled"
    nonsense = await feedback.post("/receipts/sms", json={"reference": "x", "status": "lost"}, headers=auth)
    assert nonsense.status_code == 400
    assert Message.get_by_id(delivered.id).state == "delivered"
    assert Message.get_by_id(failed.id).state == "failed"
    stats = campaign_document(delivered.campaign)
    assert (stats["sent"], stats["delivered"]) == (1, 1)


async def test_a_receipt_that_overtakes_the_engines_record_is_applied_once_the_answer_is_folded(feedback):
    import asyncio

    message = sent_message(channel="sms", address="+393470000003", state="sending")
    auth = {"authorization": f"Bearer {GATEWAY_TOKEN}"}
    posted = asyncio.create_task(
        feedback.post(
            "/receipts/sms", json={"reference": f"m{message.id}", "status": "delivered"}, headers=auth
        )
    )
    await asyncio.sleep(0.4)
    assert not posted.done()
    Message.update(state="sent").where(Message.id == message.id).execute()  # the engine's fold
    assert (await posted).json() == {"recorded": True}
    assert Message.get_by_id(message.id).state == "delivered"


async def test_the_inbox_shows_a_patient_only_their_own_push_messages_newest_first(feedback):
    Contact.create(
        id=1, registry_id="1", kind="patient", first_name="Maria", push_token="tok-1", app_token="app-maria"
    )
    Contact.create(
        id=2, registry_id="2", kind="patient", first_name="Luca", push_token="tok-2", app_token="app-luca"
    )
    now = utcnow()
    older = sent_message("push", "tok-1", contact=1, subject="Promemoria", sent_at=now - timedelta(days=2))
    newer = sent_message("push", "tok-1", contact=1, sent_at=now - timedelta(hours=1))
    lucas = sent_message("push", "tok-2", contact=2)
    sent_message("push", "tok-1", contact=1, state="failed")  # never reached the phone
    assert (await feedback.get("/inbox")).status_code == 401
    assert (await feedback.get("/inbox", headers={"authorization": "Bearer nobody"})).status_code == 401
    maria = {"authorization": "Bearer app-maria"}
    inbox = (await feedback.get("/inbox", headers=maria)).json()
    assert [m["id"] for m in inbox["messages"]] == [newer.id, older.id]
    assert inbox["messages"][1]["title"] == "Promemoria" and inbox["messages"][1]["body"] == "Ciao Maria"
    assert inbox["messages"][0]["title"] == "Centro Medico"  # no title: the sender's name
    assert inbox["unread"] == 2
    assert (await feedback.post(f"/inbox/{lucas.id}/read", headers=maria)).status_code == 404
    assert (await feedback.post(f"/inbox/{older.id}/read", headers=maria)).status_code == 200
    inbox = (await feedback.get("/inbox", headers=maria)).json()
    assert [m["read"] for m in inbox["messages"]] == [False, True] and inbox["unread"] == 1
    luca = (await feedback.get("/inbox", headers={"authorization": "Bearer app-luca"})).json()
    assert [m["id"] for m in luca["messages"]] == [lucas.id]


async def test_the_address_taken_leaves_the_second_server_out_without_failing(feedback, store):
    from senders.feedback.server import start_beside_engine

    config = load_config(database_url=store, env={})
    taken = replace(config, feedback=replace(config.feedback, listen=str(feedback.base_url.netloc.decode())))
    assert await start_beside_engine(taken, SECRET) is None


def test_an_email_sent_through_smtp_is_opened_and_clicked_through_its_own_links(sqlite_store, mail_server):
    """End to end: the links a recipient finds in the mail received by the SMTP server work."""
    import asyncio

    port = free_port()
    config = config_for(sqlite_store, mail_server)
    config = replace(
        config,
        feedback=replace(config.feedback, listen=f"127.0.0.1:{port}", public_url=f"http://127.0.0.1:{port}"),
    )
    campaign = create_campaign(channel="email", name="Cardio", sender="Centro", subject="Visita",
                               body="Prenota: https://centromedico.example/prenota?v=1")  # fmt: skip
    add_pasted(campaign.id, "maria@example.org")
    queue_campaign(campaign.id)
    send_all(config)
    html = next(
        part.get_payload(decode=True).decode()
        for part in mail_server.received[0].walk()
        if part.get_content_type() == "text/html"
    )
    pixel = re.search(r'<img src="([^"]+)"', html).group(1)
    link = re.search(r'<a href="([^"]+/c/[^"]+)"', html).group(1)

    async def read_the_mail() -> httpx.Response:
        from senders.engine import Engine

        engine = Engine(config, worker="feedback", feedback=True)  # the worker serves the endpoints
        running = asyncio.create_task(engine.run())
        async with httpx.AsyncClient() as client:
            for _ in range(100):
                try:
                    await client.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            await client.get(pixel)
            answer = await client.get(link)
        engine.stop()
        await running
        return answer

    answer = asyncio.run(read_the_mail())
    assert (
        answer.status_code == 307 and answer.headers["location"] == "https://centromedico.example/prenota?v=1"
    )
    stats = campaign_document(campaign)
    assert (stats["sent"], stats["opened"], stats["clicked"]) == (1, 1, 1)
