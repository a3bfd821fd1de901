import asyncio

import pytest

from senders.trial_send import send_test
from store.campaigns import create_campaign
from store.errors import InvalidState
from store.figures import campaign_document
from store.models import Campaign, Contact, Message, SentLedger
from store.queue import queue_campaign
from store.recipients import add_pasted
from tests.senders.conftest import config_for


def test_a_test_goes_through_smtp_marked_and_counts_nowhere(sqlite_store, mail_server):
    Contact.create(id=5, registry_id="5", kind="patient", first_name="Maria", email="maria@example.org")
    body = "Ciao {{ first_name }}, prenota: https://centromedico.example/p"
    subject = "Visita {{ first_name }}"
    draft = create_campaign(channel="email", name="Cardio", sender="Centro", subject=subject, body=body)
    add_pasted(draft.id, "a@example.org, b@example.org")
    config = config_for(sqlite_store, mail_server)
    results = asyncio.run(send_test(config, draft.id, "maria@example.org; not-an-email; admin@example.org"))
    assert [r.state for r in results] == ["sent", "refused", "sent"]
    assert "invalid email" in results[1].error
    assert sorted(mail_server.count_by_recipient()) == ["admin@example.org", "maria@example.org"]
    subjects = {m["To"]: m["Subject"] for m in mail_server.received}
    assert subjects["maria@example.org"] == "[TEST] Visita Maria"  # rendered for the contact
    assert subjects["admin@example.org"] == "[TEST] Visita "
    assert Campaign.get_by_id(draft.id).state == "draft"
    assert {m.state for m in Message.select()} == {"pending"} and SentLedger.select().count() == 0
    assert campaign_document(Campaign.get_by_id(draft.id))["sent"] == 0


def test_a_test_is_for_drafts_and_says_when_the_provider_is_down(sqlite_store):
    draft = create_campaign(channel="email", name="Cardio", sender="Centro", body="Ciao")
    config = config_for(sqlite_store)  # no SMTP server listens on its port
    results = asyncio.run(send_test(config, draft.id, "a@example.org"))
    assert results[0].state == "failed" and "cannot connect" in results[0].error
    add_pasted(draft.id, "a@example.org")
    queue_campaign(draft.id)
    with pytest.raises(InvalidState, match="tests are for drafts"):
        asyncio.run(send_test(config, draft.id, "a@example.org"))


def test_two_tests_to_the_outbox_keep_both(sqlite_store, tmp_path):
    from dataclasses import replace

    from store.config import load_config

    config = load_config(database_url=sqlite_store, env={})
    config = replace(config, outbox=replace(config.outbox, path=str(tmp_path / "outbox")))
    draft = create_campaign(channel="email", name="Cardio", sender="Centro", subject="Prova", body="Ciao")
    asyncio.run(send_test(config, draft.id, "a@example.org"))
    asyncio.run(send_test(config, draft.id, "b@example.org"))
    written = sorted((tmp_path / "outbox" / f"campaign-{draft.id}").glob("*.eml"))
    assert len(written) == 2 and all(p.name.startswith("test-") for p in written)
    assert sorted(b"a@example.org" in p.read_bytes() for p in written) == [False, True]
