"""What a recipient's data holds never changes a message's headers or links; one bad message fails alone.

Every test sends through the real engine to a real aiosmtpd, and reads what arrived.
"""

from __future__ import annotations

import re
from dataclasses import replace
from email.header import decode_header, make_header

import pytest

from senders.links import verify_click
from store.campaigns import create_campaign
from store.contacts import import_contacts
from store.models import Campaign, Contact, Message
from store.queue import queue_campaign
from store.recipients import add_contacts, add_from_csv, add_pasted
from tests.senders.conftest import config_for, send_all
from tests.senders.peers import MailServer

HEADERS = {
    "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "list-unsubscribe",
    "list-unsubscribe-post", "list-id", "feedback-id",
}  # fmt: skip
HOSTILE_NAMES = [
    ("Maria\r\nReply-To: stranger@evil.example", "Rossi"),
    ("Luca", "Bianchi\nBcc: all@evil.example"),
    ("Anna\r\n\r\nThe body, written by a stranger", "Verdi\rX-Injected: yes"),
    ("Gio\u2028vanni\x0b", "Neri\x1b\x85"),
]


def subject_of(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def email_draft(body: str, subject: str, sender: str = "Centro Medico") -> Campaign:
    return create_campaign(channel="email", name="Richiamo", sender=sender, body=body, subject=subject)


def html_of(mail) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode()
    raise AssertionError("no HTML part")


def test_names_with_line_breaks_from_a_csv_and_the_registry_add_no_header(
    sqlite_store, mail_server: MailServer, write_csv
):
    rows = "\r\n".join(
        f'"{first}","{last}",p{n}@example.org' for n, (first, last) in enumerate(HOSTILE_NAMES)
    )
    from_csv = write_csv("recipients.csv", "first_name,last_name,email\r\n" + rows + "\r\n")
    registry = write_csv(
        "registry.csv",
        "id,kind,first_name,last_name,email,consent\r\n"
        + "\r\n".join(
            f'{100 + n},patient,"{first}","{last}",r{n}@example.org,yes'
            for n, (first, last) in enumerate(HOSTILE_NAMES)
        )
        + "\r\n",
    )
    import_contacts(registry)
    draft = email_draft("Ciao {{ first_name }} {{ last_name }}", "Per {{ first_name }} {{ last_name }}")
    add_from_csv(draft.id, from_csv)
    add_contacts(draft.id, [c.id for c in Contact.select()])
    # Rows written before imports folded line breaks (or by another tool) hold them still: the send flattens.
    Message.update(first_name="Eva\r\nReply-To: stranger@evil.example\x00").where(
        Message.address == "p0@example.org"
    ).execute()
    queue_campaign(draft.id)
    send_all(config_for(sqlite_store, mail_server))
    assert len(mail_server.received) == 2 * len(HOSTILE_NAMES)
    for mail in mail_server.received:
        assert {name.lower() for name in mail} == HEADERS  # exactly these, each once
        assert mail["From"] == '"Centro Medico" <noreply@centromedico.example>'
        assert "\n" not in subject_of(mail) and "\r" not in subject_of(mail)
        assert subject_of(mail).startswith("Per ")
        plain = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
        assert plain.get_payload(decode=True).decode().startswith("Ciao ")  # the body is ours, whole
    subjects = {subject_of(m) for m in mail_server.received}
    assert "Per Eva Reply-To: stranger@evil.example Rossi" in subjects  # flattened to one line, said as is


def test_a_subject_template_with_a_line_break_is_refused(sqlite_store):
    from store.errors import BadInput

    with pytest.raises(BadInput, match="the subject must be on one line"):
        email_draft("Ciao", "Ciao\r\nBcc: all@evil.example")
    assert Campaign.select().count() == 0


def test_a_link_in_a_name_is_text_and_only_the_authors_links_are_tracked(
    sqlite_store, mail_server, write_csv
):
    from store.secrets import link_secret

    body = "Ciao {{ first_name }}, prenota su https://centro.example/prenota?c={{ coupon }} oppure chiama."
    draft = create_campaign(
        channel="email", name="Prenota", sender="Centro", body=body, subject="Prenota", coupon="SC10"
    )
    add_from_csv(
        draft.id,
        write_csv(
            "r.csv",
            "first_name,email\r\nhttps://evil.example/phish,a@example.org\r\n"
            '"<a href=""https://evil.example"">x</a>",b@example.org\r\n',
        ),
    )
    queue_campaign(draft.id)
    config = config_for(sqlite_store, mail_server)
    send_all(config)
    secret = link_secret(config.feedback.secret)
    for mail in mail_server.received:
        page = html_of(mail)
        assert '<a href="https://evil' not in page and "<a href=&quot;" not in page
        tracked = re.findall(r'href="http://127\.0\.0\.1:8080/c/([^"]+)"', page)
        assert [verify_click(secret, token)[1] for token in tracked] == [
            "https://centro.example/prenota?c=SC10"
        ]
        assert "evil.example" in page  # the name is still shown, as text
    page = html_of(next(m for m in mail_server.received if m["To"] == "b@example.org"))
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;" in page  # escaped, inert


def test_a_sender_name_is_one_line_whatever_was_stored(sqlite_store, mail_server):
    draft = email_draft("Ciao", "Oggetto")
    add_pasted(draft.id, "a@example.org")
    Campaign.update(sender="Centro\r\nBcc: all@evil.example").where(Campaign.id == draft.id).execute()
    queue_campaign(draft.id)
    send_all(config_for(sqlite_store, mail_server))
    (mail,) = mail_server.received
    assert {name.lower() for name in mail} == HEADERS
    assert mail["From"] == '"Centro Bcc: all@evil.example" <noreply@centromedico.example>'
    assert mail["List-Id"] == '"Centro Bcc: all@evil.example" <campaigns.centromedico.example>'


def test_an_address_the_server_cannot_take_fails_alone_and_the_next_campaign_completes(
    sqlite_store, mail_server
):
    # aiosmtpd here offers no SMTPUTF8: a mailbox name in another script cannot go through it.
    first = email_draft("Ciao {{ first_name }}", "Primo")
    add_pasted(first.id, "josé@example.org, anna@example.org, ok@bücher.example")
    queue_campaign(first.id)
    second = email_draft("Ciao", "Secondo")
    add_pasted(second.id, "marco@example.org")
    queue_campaign(second.id)
    send_all(config_for(sqlite_store, mail_server))
    found = {m.address: (m.state, m.error) for m in Message.select().where(Message.campaign == first.id)}
    assert found["anna@example.org"] == ("sent", None)
    assert found["ok@bücher.example"] == ("sent", None)  # only the domain: it goes as xn--bcher-kva
    state, error = found["josé@example.org"]
    assert state == "failed" and "SMTPUTF8" in error
    assert Campaign.get_by_id(first.id).state == "sent"
    assert Campaign.get_by_id(second.id).state == "sent"
    assert sorted(mail_server.rcpts or [m["To"] for m in mail_server.received]) == [
        "anna@example.org", "marco@example.org", "ok@xn--bcher-kva.example",
    ]  # fmt: skip


def test_an_smtputf8_server_gets_the_internationalised_address(sqlite_store):
    server = MailServer(smtputf8=True).start()
    try:
        draft = email_draft("Ciao", "Oggetto")
        add_pasted(draft.id, "josé@example.org")
        queue_campaign(draft.id)
        send_all(config_for(sqlite_store, server))
    finally:
        server.stop()
    (mail,) = server.received
    assert mail["To"] == "josé@example.org"
    assert Message.get().state == "sent"


def test_any_failure_of_one_message_fails_it_alone(sqlite_store, mail_server, monkeypatch):
    from senders.mime import EmailBuilder

    build = EmailBuilder.build

    def poisoned(self, **kwargs):
        if kwargs["to"] == "poison@example.org":
            raise RuntimeError("a bug we did not foresee")
        return build(self, **kwargs)

    monkeypatch.setattr(EmailBuilder, "build", poisoned)
    first = email_draft("Ciao", "Primo")
    add_pasted(first.id, "a@example.org, poison@example.org, b@example.org")
    queue_campaign(first.id)
    second = email_draft("Ciao", "Secondo")
    add_pasted(second.id, "c@example.org")
    queue_campaign(second.id)
    send_all(config_for(sqlite_store, mail_server))
    poison = Message.get(Message.address == "poison@example.org")
    assert poison.state == "failed" and "unexpected RuntimeError" in poison.error
    assert "provider had it" not in poison.error  # it failed before the hand-over: it never left
    assert sorted(m["To"] for m in mail_server.received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert {Campaign.get_by_id(c).state for c in (first.id, second.id)} == {"sent"}


def test_an_error_after_the_hand_over_fails_that_message_saying_it_may_have_arrived(
    sqlite_store, mail_server, monkeypatch
):
    import aiosmtplib

    data = aiosmtplib.SMTP.data
    connections: set[int] = set()

    async def breaks_on_one(self, message, *args, **kwargs):
        connections.add(id(self))
        if b"To: poison@example.org" in message:
            raise RuntimeError("the line broke in a way nobody foresaw")
        return await data(self, message, *args, **kwargs)

    monkeypatch.setattr(aiosmtplib.SMTP, "data", breaks_on_one)
    draft = email_draft("Ciao", "Oggetto")
    add_pasted(draft.id, "a@example.org, poison@example.org, b@example.org, c@example.org")
    queue_campaign(draft.id)
    config = config_for(sqlite_store, mail_server)
    send_all(replace(config, email=replace(config.email, connections=1)))
    poison = Message.get(Message.address == "poison@example.org")
    assert poison.state == "failed" and "after the provider had it (it may have arrived)" in poison.error
    assert sorted(m["To"] for m in mail_server.received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert (
        len(connections) == 2
    )  # the next message went over a new connection: the old one's state was unknown
    assert Campaign.get_by_id(draft.id).state == "sent"


def test_a_fault_every_message_trips_on_makes_the_campaign_wait_not_fail(
    sqlite_store, mail_server, monkeypatch
):
    import asyncio

    from senders.engine import Engine
    from senders.mime import EmailBuilder

    def broken(self, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(EmailBuilder, "build", broken)
    draft = email_draft("Ciao", "Oggetto")
    add_pasted(draft.id, ", ".join(f"p{i}@example.org" for i in range(30)))
    queue_campaign(draft.id)
    worker = Engine(config_for(sqlite_store, mail_server), worker="test")

    async def until_waiting() -> None:
        task = asyncio.create_task(worker.run())
        while worker.outages.get(draft.id, 0) < 3:  # it waited, tried again, and waited again
            await asyncio.sleep(0.02)
        worker.stop()
        await task

    asyncio.run(asyncio.wait_for(until_waiting(), 20))
    assert "every message fails (OSError)" in Campaign.get_by_id(draft.id).waiting_reason
    states = [m.state for m in Message.select().where(Message.campaign == draft.id)]
    assert (
        states.count("failed") == 3
    )  # the first few, each with its reason; each try since gave its message back
    assert states.count("pending") > 25


def test_a_message_too_large_for_one_recipient_fails_alone(sqlite_store, mail_server):
    draft = create_campaign(
        channel="sms", name="Lungo", sender="CentroMed", body="Ciao {{ first_name }}! " + "x" * 880
    )
    add_pasted(draft.id, "+393471111111, +393472222222")
    long_name = "Massimiliano" * 8
    Message.update(first_name=long_name).where(Message.address == "+393472222222").execute()
    queue_campaign(draft.id)
    from tests.senders.peers import Gateway

    gateway = Gateway().start()
    try:
        send_all(config_for(sqlite_store, gateway=gateway))
    finally:
        gateway.stop()
    assert [m["to"] for m in gateway.received] == ["+393471111111"]
    refused = Message.get(Message.address == "+393472222222")
    assert refused.state == "failed" and "over the limit of 6 ([sms] max_parts)" in refused.error
    assert Campaign.get_by_id(draft.id).state == "sent"


def test_a_test_send_reports_every_address_whatever_happens_to_one(sqlite_store, mail_server):
    import asyncio

    from senders.trial_send import send_test

    draft = email_draft("Ciao", "Prova")
    results = asyncio.run(
        send_test(config_for(sqlite_store, mail_server), draft.id, "josé@example.org, anna@example.org")
    )
    assert [(r.to, r.state) for r in results] == [
        ("josé@example.org", "failed"),
        ("anna@example.org", "sent"),
    ]
    assert "SMTPUTF8" in results[0].error
