from datetime import timedelta

from store.campaigns import create_campaign
from store.models import Message
from store.workers import all_workers, heartbeat, register, stopped, workers_of
from tests.conftest import NOW
from tui.screens.detail import workers_text


def test_an_engine_that_stops_heartbeating_is_shown_silent(store):
    campaign = create_campaign(channel="sms", name="Flu", sender="CentroMed", body="Hi")
    Message.create(campaign=campaign, address="+393471234567", worker="a", state="sending")
    Message.create(campaign=campaign, address="+393471234568", worker="b", state="sending")
    register("a", now=NOW)
    register("b", now=NOW)
    heartbeat("a", [campaign.id], 120, now=NOW + timedelta(seconds=30))
    heartbeat("b", [campaign.id], 80, now=NOW + timedelta(seconds=5))
    later = NOW + timedelta(seconds=31)
    found = {w.name: w for w in workers_of(campaign.id, now=later)}
    assert (found["a"].state, found["a"].sent, found["a"].sending) == ("alive", 120, (campaign.id,))
    assert (found["b"].state, found["b"].silent_for_seconds) == ("silent", 26)
    text = workers_text(list(found.values()))
    assert text.startswith("by a") and "b silent for 26 s" in text
    stopped("a", 125, now=later)  # what it sent after its last heartbeat counts too
    assert {w.name: (w.state, w.sent) for w in all_workers(now=later)} == {
        "a": ("stopped", 125),
        "b": ("silent", 80),
    }
    register("b", now=later)  # started again under its name
    assert {w.name: w.state for w in all_workers(now=later)}["b"] == "alive"
