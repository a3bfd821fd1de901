"""Lanes: which campaigns may claim, decided in the database, and what a waiting campaign says."""

from __future__ import annotations

from datetime import timedelta

from store.campaigns import create_campaign
from store.lanes import claim_in_turn
from store.models import Campaign, Message
from store.queue import (
    note_waiting,
    pause_campaign,
    queue_campaign,
    queue_position,
    resume_campaign,
    set_waiting,
    waits_for_its_turn,
)
from store.recipients import add_pasted
from store.sending import journal, release
from tests.conftest import NOW


def queued(name: str, count: int, queue: bool = True) -> int:
    draft = create_campaign(channel="email", name=name, sender="Centro Medico", subject="Promemoria",
                            body="Ciao {{ first_name }}")  # fmt: skip
    add_pasted(draft.id, ", ".join(f"{name.split()[0].lower()}{i}@example.org" for i in range(count)))
    if queue:
        queue_campaign(draft.id)
    return draft.id


def reason_of(campaign_id: int) -> str | None:
    return Campaign.get_by_id(campaign_id).waiting_reason


def test_a_queued_campaign_says_behind_whom_it_waits_and_how_many_messages_are_left_ahead(store):
    flu, recall, checkup = queued("Flu shots", 3), queued("Recall", 2), queued("Checkup", 4)
    claim_in_turn(flu, "engine", 1, now=NOW)  # one of its three in flight: still left to process
    assert queue_position(flu, now=NOW).says() is None
    assert queue_position(recall, now=NOW).says() == f"queued after #{flu} 'Flu shots', 3 left"
    assert queue_position(checkup, now=NOW).says() == (
        f"queued after #{recall} 'Recall', 2 campaigns with 5 left ahead"
    )
    assert queue_position(recall, lanes=2, now=NOW).says() is None
    assert queue_position(checkup, lanes=2, now=NOW).left_ahead == 5
    assert note_waiting(now=NOW) == 2
    assert reason_of(recall) == f"queued after #{flu} 'Flu shots', 3 left"
    assert waits_for_its_turn(reason_of(recall)) and not waits_for_its_turn("SMTP down; retrying at 10:00")
    assert note_waiting(now=NOW) == 0  # nothing changed: nothing written
    assert note_waiting(lanes=3, now=NOW) == 2  # all three go: nobody waits any more
    assert reason_of(recall) is None and reason_of(checkup) is None


def test_an_older_campaign_resumed_takes_the_lane_once_the_newer_ones_messages_in_flight_are_answered(store):
    older, newer = queued("Flu shots", 3), queued("Recall", 3)
    pause_campaign(older)
    in_flight = claim_in_turn(newer, "engine-a", 1, now=NOW).claim.messages
    assert len(in_flight) == 1
    resume_campaign(older)
    assert claim_in_turn(newer, "engine-a", 1, now=NOW).claim.active is False  # it gives way
    blocked = claim_in_turn(older, "engine-b", 10, now=NOW)
    assert blocked.waits and blocked.claim.messages == []
    assert (
        queue_position(older, now=NOW).says()
        == f"waits for #{newer} 'Recall' to finish its messages in flight"
    )
    assert (
        queue_position(newer, now=NOW).says() == f"waits after #{older} 'Flu shots' (created earlier), 3 left"
    )
    release([m.id for m in in_flight])  # answered, or given back: either way no longer with the provider
    taken = claim_in_turn(older, "engine-b", 10, now=NOW)
    assert not taken.waits and len(taken.claim.messages) == 3


def test_a_paused_campaigns_messages_in_flight_keep_the_next_one_waiting(store):
    older, newer = queued("Flu shots", 3), queued("Recall", 3)
    (with_provider,) = claim_in_turn(older, "engine-a", 1, now=NOW).claim.messages
    pause_campaign(older)  # its message with the provider is still being answered
    assert claim_in_turn(newer, "engine-b", 10, now=NOW).waits
    assert queue_position(newer, now=NOW).says() == (
        f"waits for #{older} 'Flu shots' to finish its messages in flight"
    )
    release([with_provider.id])
    assert len(claim_in_turn(newer, "engine-b", 10, now=NOW).claim.messages) == 3


def test_messages_of_an_engine_whose_lease_ran_out_hold_no_lane(store):
    older, newer = queued("Flu shots", 3), queued("Recall", 3)
    pause_campaign(older)
    (stalled,) = claim_in_turn(newer, "gone-engine", 1, now=NOW, lease=timedelta(seconds=60)).claim.messages
    resume_campaign(older)
    assert claim_in_turn(older, "engine-b", 10, now=NOW + timedelta(seconds=30)).waits
    later = claim_in_turn(older, "engine-b", 10, now=NOW + timedelta(seconds=61))
    assert not later.waits and len(later.claim.messages) == 3
    # Taken back: an engine that only stalled cannot hand it over while the older one has the lane.
    assert Message.get_by_id(stalled.id).state == "pending"
    assert journal([], [stalled.id], NOW + timedelta(seconds=62), worker="gone-engine") == set()


def test_with_two_lanes_a_third_campaign_waits_for_the_lane_it_needs(store):
    first, second, third = queued("Flu shots", 2), queued("Recall", 2), queued("Checkup", 2)
    assert len(claim_in_turn(first, "a", 1, lanes=2, now=NOW).claim.messages) == 1
    assert claim_in_turn(third, "a", 1, lanes=2, now=NOW).claim.active is False
    pause_campaign(first)  # its message still in flight: the two lanes are the first's and the second's
    assert len(claim_in_turn(second, "b", 1, lanes=2, now=NOW).claim.messages) == 1
    assert claim_in_turn(third, "c", 1, lanes=2, now=NOW).waits
    assert queue_position(third, lanes=2, now=NOW).says() == (
        f"waits for #{first} 'Flu shots' to finish its messages in flight"
    )


def test_a_campaign_waiting_for_its_provider_keeps_that_reason(store):
    flu, recall = queued("Flu shots", 2), queued("Recall", 2)
    set_waiting(flu, NOW + timedelta(minutes=1), "SMTP 127.0.0.1:1025 is not taking mail (421)")
    note_waiting(now=NOW)
    assert reason_of(flu) == "SMTP 127.0.0.1:1025 is not taking mail (421)"
    assert reason_of(recall) == f"queued after #{flu} 'Flu shots', 2 left"  # it keeps its place
    pause_campaign(recall)
    resume_campaign(recall)
    assert reason_of(recall) is None  # said again by the next round, not left from before the pause
