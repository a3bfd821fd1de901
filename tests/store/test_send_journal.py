"""The send journal: what a stopped engine journaled and never folded is folded by the next claim."""

import sqlite3
from datetime import timedelta

import pytest

from store.db import connection, database, is_postgres
from store.models import Campaign, Message, SendJournal, SentLedger
from store.queue import cancel_campaign, pause_campaign
from store.sending import Outcome, claim, entries_of, fold, journal
from tests.conftest import NOW
from tests.senders.conftest import campaign_to

ADDRESSES = [f"p{i}@example.org" for i in range(5)]


def store_dsn() -> str:
    """The test database's connection parameters, for a second connection of its own."""
    return database.obj.connection().dsn


def hand_over(message_id: int) -> set[int]:
    """A hand-over from another thread: its own connection, as the engine's recorder has."""
    with connection():
        try:
            return journal([], [message_id], NOW)
        finally:
            database.close()


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


def test_a_fold_writes_every_kind_of_answer_many_at_a_time(store):
    fold_every_kind()


def test_sqlite_before_3_33_folds_the_same_a_row_at_a_time(sqlite_store, monkeypatch):
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))  # Ubuntu 20.04's: no UPDATE … FROM
    fold_every_kind()


def fold_every_kind():
    campaign_id = campaign_to("email", ADDRESSES)
    sent, retried, failed, waiting, _never = claim(campaign_id, "engine", 10, now=NOW).messages
    handed = [sent.id, retried.id, failed.id, waiting.id]
    assert journal([], handed, NOW) == set(handed)
    answered = NOW + timedelta(seconds=2)
    results = [(Outcome(sent.id, "sent", provider_id="smtp:42"), sent),
               (Outcome(retried.id, "retry", error="SMTP 451 try later", maybe_sent=True), retried),
               (Outcome(failed.id, "failed", error="SMTP 550 no such user"), failed)]  # fmt: skip
    entries = entries_of(results, answered)
    journal(entries, [], answered)
    fold(entries, [(message_id, NOW) for message_id in handed])

    found = by_address()
    assert (found[sent.address].state, found[sent.address].provider_id) == ("sent", "smtp:42")
    assert found[sent.address].sent_at == answered
    assert [(row.address, row.sent_at) for row in SentLedger.select()] == [(sent.address, answered)]
    assert Campaign.get_by_id(campaign_id).last_sent_at == answered
    again = found[retried.address]
    assert (again.state, again.error, again.resent_after_crash) == ("pending", "SMTP 451 try later", True)
    assert again.next_attempt_at > answered and again.handed_at is None
    assert (found[failed.address].state, found[failed.address].error) == ("failed", "SMTP 550 no such user")
    # Handed over, no answer yet: the hand-over is what a crash would be judged by.
    assert (found[waiting.address].state, found[waiting.address].handed_at) == ("sending", NOW)
    assert SendJournal.select().count() == 0


def test_a_paused_campaign_hands_over_nothing_more(store):
    campaign_id = campaign_to("email", ADDRESSES[:2])
    first, second = claim(campaign_id, "engine", 10, now=NOW).messages
    assert journal([], [first.id], NOW) == {first.id}
    pause_campaign(campaign_id)
    assert journal([], [second.id], NOW) == set()


def test_an_engine_whose_lease_ran_out_hands_over_nothing_another_engine_took_back(store):
    campaign_id = campaign_to("email", ADDRESSES[:1])
    (stalled,) = claim(campaign_id, "engine-a", 10, now=NOW, lease=timedelta(seconds=60)).messages
    (taken,) = claim(campaign_id, "engine-b", 10, now=NOW + timedelta(seconds=61)).messages
    assert taken.id == stalled.id
    assert journal([], [stalled.id], NOW + timedelta(seconds=62), worker="engine-a") == set()
    assert journal([], [taken.id], NOW + timedelta(seconds=62), worker="engine-b") == {taken.id}


def test_a_hand_over_waits_for_a_cancel_under_way_and_then_sees_it(store):
    import threading

    import psycopg2

    if not is_postgres():
        pytest.skip("SQLite's write lock serialises these already")
    campaign_id = campaign_to("email", ADDRESSES[:1])
    (message,) = claim(campaign_id, "engine", 10, now=NOW).messages
    cancelling = psycopg2.connect(store_dsn())
    cursor = cancelling.cursor()  # a cancel, stopped before its commit
    cursor.execute("SELECT id FROM campaign WHERE id = %s FOR UPDATE", [campaign_id])
    cursor.execute("UPDATE campaign SET state = 'cancelled' WHERE id = %s", [campaign_id])
    answer: list[set[int]] = []
    handing = threading.Thread(target=lambda: answer.append(hand_over(message.id)))
    handing.start()
    handing.join(timeout=0.5)
    assert handing.is_alive()  # it waits for the cancel
    cancelling.commit()
    handing.join(timeout=5)
    cancelling.close()
    assert answer == [set()]
