import asyncio

from senders.engine import Engine
from store.figures import campaign_document
from store.models import Campaign, Message, SentLedger
from tests.senders.conftest import campaign_to, config_for, heal_once_waiting, send_all

ADDRESSES = [f"paziente{i}@example.org" for i in range(25)]


def states(campaign_id: int) -> dict[str, str]:
    return {m.address: m.state for m in Message.select().where(Message.campaign == campaign_id)}


def parts_of(mail) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in mail.walk()
        if not part.is_multipart()
    }


def test_every_recipient_gets_one_email_with_the_right_headers(sqlite_store, mail_server):
    campaign_id = campaign_to("email", ADDRESSES)
    send_all(config_for(sqlite_store, mail_server))
    assert mail_server.count_by_recipient() == {a: 1 for a in ADDRESSES}
    mail = mail_server.received[0]
    assert mail["From"] == '"Centro Medico" <noreply@centromedico.example>'
    assert mail["Subject"] == "Un messaggio per te"
    assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:8080/u/u.")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Message-ID"].endswith("@centromedico.example>")
    # RFC 2919's list, one per center; the campaign for the mailbox providers' complaint loops
    assert mail["List-Id"] == '"Centro Medico" <campaigns.centromedico.example>'
    assert mail["Feedback-ID"] == f"{campaign_id}:campaign:centromedico.example"
    assert set(mail_server.mail_from) == {"noreply@centromedico.example"}  # bounces come back to us
    parts = parts_of(mail)
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    reason = "You are receiving this email because you are in the contacts of Centro Medico."
    assert parts["text/plain"] == f"Ciao , ci vediamo presto.\n\n--\n{reason}\nUnsubscribe: {unsubscribe}\n"
    assert "<p>Ciao , ci vediamo presto.</p>" in parts["text/html"]
    assert f'{reason} <a href="{unsubscribe}">Unsubscribe</a>' in parts["text/html"]
    assert '<img src="http://127.0.0.1:8080/o/o.' in parts["text/html"]
    campaign = Campaign.get_by_id(campaign_id)
    assert campaign.state == "sent" and campaign.first_sent_at and campaign.last_sent_at
    assert set(states(campaign_id).values()) == {"sent"}
    assert SentLedger.select().count() == len(ADDRESSES)
    assert campaign_document(campaign)["sent"] == len(ADDRESSES)


def test_an_italian_centre_writes_the_unsubscribe_footer_in_italian(sqlite_store, mail_server):
    campaign_to("email", ADDRESSES[:1])
    send_all(config_for(sqlite_store, mail_server, language="it"))
    mail = mail_server.received[0]
    parts, unsubscribe = parts_of(mail), mail["List-Unsubscribe"].strip("<>")
    reason = "Riceve questa email perché è tra i contatti di Centro Medico."
    assert parts["text/plain"].endswith(f"\n--\n{reason}\nAnnulla l'iscrizione: {unsubscribe}\n")
    assert f'{reason} <a href="{unsubscribe}">Annulla l&#x27;iscrizione</a>' in parts["text/html"]


def test_a_campaign_in_its_own_language_and_a_return_path_for_bounces(sqlite_store, mail_server):
    campaign_id = campaign_to("email", ADDRESSES[:1])
    Campaign.update(language="it").where(Campaign.id == campaign_id).execute()
    send_all(config_for(sqlite_store, mail_server, return_path="bounces@centromedico.example"))
    mail = mail_server.received[0]
    assert parts_of(mail)["text/plain"].endswith(
        f"Annulla l'iscrizione: {mail['List-Unsubscribe'].strip('<>')}\n"
    )
    assert mail_server.mail_from == ["bounces@centromedico.example"]
    assert mail["From"] == '"Centro Medico" <noreply@centromedico.example>'


def test_a_campaign_without_open_tracking_has_no_pixel_but_tracks_clicks(sqlite_store, mail_server):
    body = "Prenoti qui: https://www.centromedico.example/prenota"
    campaign_id = campaign_to("email", ADDRESSES[:1], body=body)
    Campaign.update(open_tracking=False).where(Campaign.id == campaign_id).execute()
    send_all(config_for(sqlite_store, mail_server))
    html = parts_of(mail_server.received[0])["text/html"]
    assert "<img" not in html and "/o/o." not in html
    assert '<a href="http://127.0.0.1:8080/c/c.' in html


def test_smtp_4xx_retries_and_5xx_fails_the_message(sqlite_store, mail_server):
    mail_server.faults["paziente1@example.org"] = ["451 4.7.1 greylisted, try again"]
    mail_server.faults["paziente2@example.org"] = ["550 5.1.1 mailbox unavailable"]
    campaign_id = campaign_to("email", ADDRESSES[:5])
    send_all(config_for(sqlite_store, mail_server))
    found = states(campaign_id)
    assert found["paziente1@example.org"] == "sent"
    assert found["paziente2@example.org"] == "failed"
    failed = Message.get(Message.address == "paziente2@example.org")
    assert failed.error.startswith("SMTP 550") and failed.attempts == 1
    assert Message.get(Message.address == "paziente1@example.org").attempts == 2
    assert mail_server.count_by_recipient()["paziente1@example.org"] == 1
    assert Campaign.get_by_id(campaign_id).state == "sent"


def test_a_server_that_is_down_makes_the_campaign_wait_not_fail(sqlite_store, mail_server):
    mail_server.refuse_all = "421 4.3.2 service shutting down"
    campaign_id = campaign_to("email", ADDRESSES[:6])
    worker = Engine(config_for(sqlite_store, mail_server), worker="test")
    seen: list[str] = []
    healer = heal_once_waiting(campaign_id, lambda: setattr(mail_server, "refuse_all", None), seen)
    asyncio.run(asyncio.wait_for(worker.run(until_idle=True), 30))
    healer.join()
    assert "421" in seen[0] and "retrying at" in seen[0]
    assert set(states(campaign_id).values()) == {"sent"}
    assert all(m.attempts == 1 for m in Message.select())  # the outage burned no attempt
    assert mail_server.count_by_recipient() == {a: 1 for a in ADDRESSES[:6]}
