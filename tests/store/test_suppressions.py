"""The suppression list: what puts an address on it, and everything that then leaves it out with why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.campaigns import create_campaign
from store.contacts import import_contacts
from store.directory import load_directory
from store.errors import BadInput, NotFound
from store.forecast import forecast
from store.models import Campaign, Message, Suppression
from store.queue import queue_campaign
from store.recipients import add_pasted, add_registry_contacts
from store.sending import Outcome, claim, entries_of, fold, journal
from store.suppressions import (
    BY_HAND,
    HARD_BOUNCE,
    INVALID_NUMBER,
    add_suppression,
    list_suppressions,
    remove_suppression,
    suppressed_among,
)
from tests.conftest import NOW
from tests.senders.conftest import campaign_to

ADDRESSES = [f"p{i}@example.org" for i in range(4)]


def draft_to(channel: str, addresses: list[str]) -> int:
    draft = create_campaign(channel=channel, name="t", sender="Centro", body="Ciao {{ first_name }}")
    add_pasted(draft.id, ", ".join(addresses))
    return draft.id


def states(campaign_id: int) -> dict[str, tuple[str, str | None]]:
    return {m.address: (m.state, m.error) for m in Message.select().where(Message.campaign == campaign_id)}


def test_by_hand_an_address_is_normalised_kept_with_its_first_reason_and_removed(store):
    added = add_suppression(" Maria.Rossi@Example.ORG ", "asked at the desk")
    assert (added.address, added.channel, added.reason) == (
        "maria.rossi@example.org",
        "email",
        "asked at the desk",
    )
    again = add_suppression("maria.rossi@example.org", "another reason")
    assert again.reason == "asked at the desk"  # the first reason stays
    phone = add_suppression("347 123 4567")
    assert (phone.address, phone.channel, phone.reason) == ("+393471234567", "sms", BY_HAND)
    token = add_suppression("fcm-token-abc")
    assert token.channel == "push"
    for written in ("(347) 765-4321", "347.765.4321", "+39 347/765 4321"):
        assert add_suppression(written).address == "+393477654321"
    assert remove_suppression("+393477654321").channel == "sms"
    with pytest.raises(BadInput):
        add_suppression("(12) 34")  # looks like a phone number but is none: refused, not taken as a token
    assert [s.address for s in list_suppressions("sms")] == ["+393471234567"]
    assert remove_suppression("+39 347 123 4567").address == "+393471234567"
    assert set(suppressed_among(["+393471234567", "maria.rossi@example.org"])) == {"maria.rossi@example.org"}
    with pytest.raises(NotFound):
        remove_suppression("+393471234567")
    with pytest.raises(BadInput):
        add_suppression("two words")
    with pytest.raises(BadInput):
        add_suppression("x@example.org", "line one\nline two" + "x" * 300)


def test_a_suppressed_recipient_is_skipped_with_its_reason_and_send_now_counted_it_first(store):
    campaign_id = draft_to("email", ADDRESSES)
    add_suppression(ADDRESSES[1])
    add_suppression(ADDRESSES[2], "moved away")
    campaign = Campaign.get_by_id(campaign_id)
    found = forecast(campaign, now=NOW)
    assert (found.will_send, found.skipped_suppressed) == (2, 2)
    assert found.suppressed_by_reason == {BY_HAND: 1, "moved away": 1}
    assert "2 are on the suppression list (1 by hand, 1 moved away)" in found.suppressed_note()

    queue_campaign(campaign_id)
    claimed = claim(campaign_id, "engine", 10, now=NOW)
    assert sorted(m.address for m in claimed.messages) == [ADDRESSES[0], ADDRESSES[3]]
    assert claimed.skipped == 2
    found_states = states(campaign_id)
    assert found_states[ADDRESSES[1]] == ("skipped_suppressed", "suppressed: by hand")
    assert found_states[ADDRESSES[2]] == ("skipped_suppressed", "suppressed: moved away")


def test_a_permanent_failure_puts_the_address_on_the_list_and_the_next_campaign_skips_it(store):
    first = campaign_to("email", ADDRESSES[:2])
    later = campaign_to("email", ADDRESSES[:2])  # its recipients added before the bounce: skipped at claim
    bounced, fine = claim(first, "engine", 10, now=NOW).messages
    answers = [
        (Outcome(bounced.id, "failed", error="SMTP 550 5.1.1 no such user", suppress=HARD_BOUNCE), bounced),
        (Outcome(fine.id, "failed", error="SMTP 554 5.7.1 spam"), fine),  # a refusal, not the address
    ]
    entries = entries_of(answers, NOW)
    journal(entries, [], NOW)
    fold(entries, [])
    [entry] = list_suppressions()
    assert (entry.address, entry.reason, entry.detail, entry.campaign_id) == (
        bounced.address, HARD_BOUNCE, "SMTP 550 5.1.1 no such user", first,
    )  # fmt: skip

    taken = claim(later, "engine", 10, now=NOW + timedelta(minutes=1)).messages
    assert [m.address for m in taken] == [fine.address]
    assert states(later)[bounced.address] == ("skipped_suppressed", "suppressed: hard bounce")


def test_a_suppression_journaled_by_an_engine_that_died_is_folded_by_the_next_claim(store):
    campaign_id = campaign_to("sms", ["+393470000001", "+393470000002"])
    dead, other = claim(campaign_id, "dead-engine", 10, now=NOW, lease=timedelta(seconds=60)).messages
    outcome = Outcome(dead.id, "failed", error="Twilio 21211: invalid number", suppress=INVALID_NUMBER)
    journal(entries_of([(outcome, dead)], NOW), [dead.id, other.id], NOW)
    assert not list_suppressions()
    claim(campaign_id, "new-engine", 10, now=NOW + timedelta(seconds=61))
    assert [(s.address, s.reason) for s in list_suppressions()] == [("+393470000001", INVALID_NUMBER)]


def test_a_retry_never_suppresses(store):
    campaign_id = campaign_to("sms", ["+393470000001"])
    [message] = claim(campaign_id, "engine", 10, now=NOW).messages
    entries = entries_of(
        [(Outcome(message.id, "retry", error="HTTP 503", suppress=INVALID_NUMBER), message)], NOW
    )
    fold(entries, [])
    assert Suppression.select().count() == 0


def test_imports_leave_suppressed_addresses_out_and_list_them_with_why(store, write_csv):
    add_suppression("+393470000002", "asked at the desk")
    draft = create_campaign(channel="sms", name="t", sender="Centro", body="Ciao")
    report = add_pasted(draft.id, "3470000001; +39 347 000 0002; 3470000003")
    assert (report.added, report.suppressed, report.invalid) == (2, 1, 0)
    [row] = report.as_dict()["errors"]
    assert row == {"row": 2, "value": "+39 347 000 0002", "reason": "suppressed: asked at the desk"}
    assert "1 suppressed" in report.summary()

    import_contacts(write_csv("c.csv", "id,phone,consent\nA1,3470000002,yes\nA2,3470000004,yes\n"))
    picked = create_campaign(channel="sms", name="t2", sender="Centro", body="Ciao")
    report = add_registry_contacts(picked.id, ["A1", "A2"])
    assert (report.added, report.suppressed) == (1, 1)
    assert report.as_dict()["errors"][0]["reason"] == "suppressed: asked at the desk"


def test_push_is_judged_by_the_token_not_by_the_pasted_email(store, write_csv):
    import_contacts(
        write_csv(
            "c.csv", "id,email,push_token,consent\nA1,a@example.org,tok-a,yes\nA2,b@example.org,tok-b,yes\n"
        )
    )
    add_suppression("a@example.org", "bounced")  # the mailbox, not the app
    add_suppression("tok-b", "app uninstalled")
    draft = create_campaign(channel="push", name="t", sender="Centro", body="Ciao")
    report = add_pasted(draft.id, "a@example.org, b@example.org")
    assert (report.added, report.suppressed) == (1, 1)
    assert report.as_dict()["errors"][0] == {
        "row": 2,
        "value": "b@example.org",
        "reason": "suppressed: app uninstalled",
    }


def test_the_picker_knows_which_address_of_a_contact_is_suppressed(store, write_csv):
    import_contacts(write_csv("c.csv", "id,email,phone\nA1,a@example.org,3470000001\n"))
    add_suppression("+393470000001", "replied STOP")
    [entry] = load_directory().entries
    assert entry.suppressed_for("sms") == "replied STOP"
    assert entry.suppressed_for("email") == ""


def test_taking_a_dead_token_off_the_list_lets_its_contact_be_reached_again(store, write_csv):
    from store.models import Contact

    import_contacts(write_csv("c.csv", "id,email,push_token,consent\nA1,a@example.org,tok-a,yes\n"))
    Contact.update(push_token_dead_at=NOW).execute()
    add_suppression("tok-a", "app removed")
    remove_suppression("tok-a")
    assert Contact.get().push_token_dead_at is None
    draft = create_campaign(channel="push", name="t", sender="Centro", body="Ciao")
    assert add_pasted(draft.id, "a@example.org").added == 1
