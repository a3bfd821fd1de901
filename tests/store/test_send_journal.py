"""The send journal: what a stopped engine journaled and never folded is folded by the next claim."""

from datetime import timedelta

from store.models import Message, SendJournal, SentLedger
from store.queue import cancel_campaign
from store.sending import Outcome, claim, entries_of, journal
from tests.conftest import NOW
from tests.senders.conftest import campaign_to

ADDRESSES = [f"p{i}@example.org" for i in range(5)]


def by_address() -> dict[str, Message]:
    return {m.address: m for m in Message.select()}


def test_answers_and_hand_overs_left_in_the_journal_are_folded_when_the_lease_ends(store):
    campaign_id = campaign_to("email", ADDRESSES)
    taken = claim(campaign_id, "dead-engine", 10, now=NOW, lease=timedelta(seconds=60)).messages
    first, second, third, *_never_handed = taken
    # The engine journaled: first sent, second failed for good, third handed over with no answer; then died.
    results = [(Outcome(first.id, "sent", provider_id="smtp:1"), first),
               (Outcome(second.id, "failed", error="SMTP 550 no such user"), second)]  # fmt: skip
    journal(entries_of(results, NOW), [first.id, second.id, third.id], NOW)
    assert by_address()[first.address].state == "sending"  # not folded yet: still in flight for the window

    later = NOW + timedelta(seconds=61)
    again = claim(campaign_id, "new-engine", 10, now=later).messages
    found = by_address()
    assert (found[first.address].state, found[first.address].provider_id) == ("sent", "smtp:1")
    assert SentLedger.select().where(SentLedger.address == first.address).count() == 1
    assert (found[second.address].state, found[second.address].error) == ("failed", "SMTP 550 no such user")
    # With the provider at the crash: it goes again, marked; the never handed ones go again unmarked.
    assert {m.address for m in again} == set(ADDRESSES) - {first.address, second.address}
    assert [m.address for m in again if m.resent] == [third.address]
    assert SendJournal.select().count() == 0


def test_cancel_keeps_a_message_the_journal_says_is_with_the_provider(store):
    campaign_id = campaign_to("email", ADDRESSES[:2])
    handed, never = claim(campaign_id, "engine", 10, now=NOW).messages
    assert journal([], [handed.id], NOW) == {handed.id}
    cancel_campaign(campaign_id, now=NOW)
    found = by_address()
    assert found[handed.address].state == "sending"  # its answer is coming
    assert found[never.address].state == "cancelled"
    assert journal([], [never.id], NOW) == set()  # and nothing more may go
