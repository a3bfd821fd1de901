"""Issue 18: scheduled campaigns join the queue at their time, in creation order, and SMS waits out its
quiet hours in the center's time zone: stopped at the boundary, on again by itself afterwards, every
recipient once, the other channels sending meanwhile. The clock is moved, not waited for (a night takes
a second); the order and the counts are read where they count: at the provider."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from senders import engine
from senders.engine import Engine
from store.clock import shift_clock, use_center_zone
from store.config import Config
from store.models import Campaign, Message
from store.queue import queue_campaign
from tests.senders.conftest import config_for, send_all
from tests.senders.test_crash_and_workers import wait_for
from tests.senders.test_one_campaign_at_a_time import blocks, drafted

ROME = ZoneInfo("Europe/Rome")
PHONES = [f"+3934900{i:05d}" for i in range(60)]


@pytest.fixture(autouse=True)
def quick_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "NOTE_WAITING_SECONDS", 0.05)


def rome(text: str) -> datetime:
    """A wall-clock time in Rome as the database keeps it (naive UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=ROME).astimezone(UTC).replace(tzinfo=None)


def set_clock(moment: datetime) -> None:
    """From now on this process's clock (and what it reads of the database's) says `moment` (naive UTC)."""
    shift_clock(moment - datetime.now(UTC).replace(tzinfo=None))


def quiet_config(url: str, gateway, mail_server=None, per_hour: int = 7_200) -> Config:
    """SMS at `per_hour`, one connection, quiet 20:00-09:00 in Rome; email without quiet hours."""
    use_center_zone("Europe/Rome")
    config = config_for(url, mail=mail_server, gateway=gateway)
    sms = replace(config.sms, quiet_hours="20:00-09:00", rate_per_hour=per_hour, connections=1)
    return replace(config, sms=sms, center=replace(config.center, timezone="Europe/Rome"))


class Engines:
    """Engines in threads of their own, as the app and `campaigns worker` run them; the test moves the
    clock meanwhile."""

    def __init__(self, config: Config, *names: str) -> None:
        self.engines = [Engine(config, worker=name) for name in names or ("test",)]
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.threads = [threading.Thread(target=asyncio.run, args=(self._run(e),)) for e in self.engines]

    async def _run(self, engine: Engine) -> None:
        self.loops.append(asyncio.get_running_loop())
        await engine.run()

    def __enter__(self) -> Engines:
        for thread in self.threads:
            thread.start()
        wait_for(lambda: len(self.loops) == len(self.engines))
        return self

    def __exit__(self, *exc: object) -> None:
        for loop, running in zip(self.loops, self.engines, strict=False):
            loop.call_soon_threadsafe(running.stop)
        for thread in self.threads:
            thread.join(timeout=30)


def reason_of(campaign_id: int) -> str | None:
    return Campaign.get_by_id(campaign_id).waiting_reason


def states_of(campaign_id: int) -> dict[str, int]:
    found: dict[str, int] = {}
    for message in Message.select(Message.state).where(Message.campaign == campaign_id):
        found[message.state] = found.get(message.state, 0) + 1
    return found


def sent_during(campaign_id: int, start: datetime, end: datetime) -> int:
    """The campaign's messages the provider took between `start` and `end` (naive UTC)."""
    return (
        Message.select()
        .where((Message.campaign == campaign_id) & (Message.sent_at > start) & (Message.sent_at < end))
        .count()
    )


def test_a_campaign_running_into_quiet_hours_stops_at_the_boundary_and_goes_on_after_them(
    store, gateway, mail_server
):
    config = quiet_config(store, gateway, mail_server)
    set_clock(rome("2026-12-01T19:59:57"))
    reminder = drafted("sms", "Reminder", PHONES[:30])  # created first: it holds the lane until 20:00
    newsletter = drafted("email", "Newsletter", [f"p{i}@example.org" for i in range(10)])
    with Engines(config):
        wait_for(lambda: reason_of(reminder) == "quiet hours until Wed 2 Dec 09:00")
        # What was claimed and not handed over goes back: nothing is left claimed or in flight.
        wait_for(lambda: set(states_of(reminder)) == {"sent", "pending"})
        went = states_of(reminder)["sent"]
        assert 1 <= went < 30  # some before 20:00, the rest waits
        # The other channel has no quiet hours: it keeps sending, the reminder waiting out the night.
        wait_for(lambda: Campaign.get_by_id(newsletter).state == "sent")
        assert states_of(reminder).get("sent", 0) == went
        assert Campaign.get_by_id(reminder).state in ("queued", "sending")

        set_clock(rome("2026-12-02T09:00:01"))
        wait_for(lambda: Campaign.get_by_id(reminder).state == "sent")
    assert gateway.count_by_recipient() == {phone: 1 for phone in PHONES[:30]}
    assert sent_during(reminder, rome("2026-12-01T20:00:01"), rome("2026-12-02T09:00")) == 0
    assert reason_of(reminder) is None
    assert len(mail_server.received) == 10


@pytest.mark.parametrize(
    ("evening", "still_night", "morning"),
    [
        # The last Sunday of October: the night is an hour longer, 09:00 is 08:00 UTC, not 07:00.
        ("2026-10-24T19:59:58", datetime(2026, 10, 25, 7, 30), datetime(2026, 10, 25, 8, 0, 1)),
        # The last Sunday of March: an hour shorter, 09:00 is 07:00 UTC, not 08:00.
        ("2026-03-28T19:59:58", datetime(2026, 3, 29, 6, 30), datetime(2026, 3, 29, 7, 0, 1)),
    ],
)
def test_the_clock_change_neither_shortens_nor_lengthens_the_night(
    store, gateway, evening, still_night, morning
):
    config = quiet_config(store, gateway)
    set_clock(rome(evening))
    reminder = drafted("sms", "Reminder", PHONES[:20])
    with Engines(config):
        wait_for(lambda: (reason_of(reminder) or "").startswith("quiet hours until"))
        wait_for(lambda: set(states_of(reminder)) == {"sent", "pending"})
        went = states_of(reminder)["sent"]
        assert 1 <= went < 20
        set_clock(still_night)  # 08:30 (October) or 07:30 (March) in Rome: still night
        wait_for(lambda: reason_of(reminder) == "quiet hours until 09:00")
        assert states_of(reminder).get("sent", 0) == went
        set_clock(morning)
        wait_for(lambda: Campaign.get_by_id(reminder).state == "sent")
    assert gateway.count_by_recipient() == {phone: 1 for phone in PHONES[:20]}


def test_a_scheduled_campaign_goes_at_its_time_in_creation_order(store, gateway):
    config = quiet_config(store, gateway, per_hour=0)
    set_clock(rome("2026-12-01T10:00"))
    first = drafted("sms", "Flu shots", PHONES[:5], queue=False)
    queue_campaign(first, at=rome("2026-12-01T11:00"))
    now = drafted("sms", "Recall", PHONES[5:10])
    last = drafted("sms", "Checkup", PHONES[10:15], queue=False)
    queue_campaign(last, at=rome("2026-12-01T10:30"))  # due earlier, created later

    send_all(config)  # until idle: the queued one goes, the scheduled ones wait for their time
    assert [Campaign.get_by_id(i).state for i in (first, now, last)] == ["scheduled", "sent", "scheduled"]
    assert len(gateway.received) == 5

    set_clock(rome("2026-12-01T11:00:01"))  # both are due: they go in creation order, not by their time
    send_all(config)
    campaign_of = {phone: i for i, phones in ((first, PHONES[:5]), (now, PHONES[5:10]),
                                              (last, PHONES[10:15])) for phone in phones}  # fmt: skip
    assert blocks([campaign_of[m["to"]] for m in gateway.received]) == [(now, 5), (first, 5), (last, 5)]
    assert Campaign.get_by_id(first).queued_at == rome("2026-12-01T11:00")
    assert gateway.count_by_recipient() == {phone: 1 for phone in PHONES[:15]}


def test_until_idle_leaves_a_campaign_waiting_for_its_quiet_hours_as_it_is(store, gateway):
    config = quiet_config(store, gateway)
    set_clock(rome("2026-12-01T23:00"))
    reminder = drafted("sms", "Reminder", PHONES[:5])
    send_all(config, timeout=10)  # returns at once: nothing can go now
    assert Campaign.get_by_id(reminder).state == "queued"
    assert states_of(reminder) == {"pending": 5} and not gateway.received


def test_two_workers_agree_on_the_schedule_and_the_quiet_hours(store, gateway):
    config = quiet_config(store, gateway)
    set_clock(rome("2026-12-01T19:59:52"))
    scheduled = drafted("sms", "Flu shots", PHONES[:40], queue=False)
    queue_campaign(scheduled, at=rome("2026-12-01T19:59:55"))
    with Engines(config, "a", "b"):
        wait_for(lambda: Campaign.get_by_id(scheduled).state != "scheduled")
        wait_for(lambda: reason_of(scheduled) == "quiet hours until Wed 2 Dec 09:00")
        wait_for(lambda: set(states_of(scheduled)) == {"sent", "pending"})
        went = states_of(scheduled)["sent"]
        assert 1 <= went < 40
        set_clock(rome("2026-12-02T09:00:01"))
        wait_for(lambda: Campaign.get_by_id(scheduled).state == "sent")
    assert gateway.count_by_recipient() == {phone: 1 for phone in PHONES[:40]}
    assert sent_during(scheduled, rome("2026-12-01T20:00:01"), rome("2026-12-02T09:00")) == 0
    assert Campaign.get_by_id(scheduled).queued_at == rome("2026-12-01T19:59:55")


def test_a_rate_limited_channel_hands_nothing_over_once_its_quiet_hours_began(store, gateway):
    # One SMS every 5 s over 4 connections: each connection waits for the next slot of the shared
    # schedule, so three of them hold slots at 20:00:01, :06 and :11. None of them may go.
    config = quiet_config(store, gateway, per_hour=720)
    config = replace(config, sms=replace(config.sms, connections=4))
    set_clock(rome("2026-12-01T19:59:56"))
    reminder = drafted("sms", "Reminder", PHONES[:20])
    with Engines(config):
        wait_for(lambda: (reason_of(reminder) or "").startswith("quiet hours"))
        wait_for(lambda: set(states_of(reminder)) == {"sent", "pending"})
    assert 1 <= states_of(reminder)["sent"] < 20
    assert sent_during(reminder, rome("2026-12-01T20:00:00.5"), rome("2026-12-02T09:00")) == 0
