"""Real `campaigns worker` processes: killed with SIGKILL mid-campaign, and two on one database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from store.models import Campaign, Message
from tests.senders.conftest import campaign_to

PHONES = [f"+3934900{i:05d}" for i in range(120)]


def worker_env(url: str, gateway) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
    env.update(
        CAMPAIGNS_DB=url, CAMPAIGNS_SMS_TRANSPORT="http", CAMPAIGNS_SMS_URL=gateway.url,
        CAMPAIGNS_SMS_TOKEN=gateway.token, CAMPAIGNS_SMS_CONNECTIONS="2", CAMPAIGNS_ENGINE_LEASE_SECONDS="60",
        CAMPAIGNS_SMS_QUIET_HOURS="",
    )  # fmt: skip
    return env


def start_worker(url: str, gateway, *args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tui", "worker", *args]
    return subprocess.Popen(
        command, env=worker_env(url, gateway), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_mid_campaign_loses_nobody_and_names_who_may_have_it_twice(store, gateway):
    gateway.gate.hold()  # 40 answered, then the gateway holds what comes: the kill lands while it has them
    gateway.gate.let_through(40)
    campaign_id = campaign_to("sms", PHONES)
    first = start_worker(store, gateway, "--id", "sender-1")
    wait_for(lambda: len(gateway.received) >= 40 and gateway.gate.waiting >= 2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    gateway.gate.release()  # the held ones reach the gateway's record: the killed worker never heard back
    wait_for(lambda: gateway.gate.waiting == 0)
    assert len(gateway.received) < len(PHONES)
    second = start_worker(store, gateway, "--id", "sender-1", "--until-idle")
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    counts = gateway.count_by_recipient()
    assert set(counts) == set(PHONES)  # nobody lost
    twice = {phone for phone, n in counts.items() if n > 1}
    flagged = {m.address for m in Message.select().where(Message.resent_after_crash)}
    assert twice <= flagged  # every duplicate is named in the ledger
    assert len(flagged) <= 2  # at most one per connection was in the provider's hands
    assert {m.state for m in Message.select()} == {"sent"}
    assert Campaign.get_by_id(campaign_id).state == "sent"


@pytest.mark.slow
def test_two_workers_on_one_database_send_each_message_once(store, gateway):
    gateway.delay = 0.002
    campaign_id = campaign_to("sms", PHONES)
    workers = [start_worker(store, gateway, "--id", name, "--until-idle") for name in ("a", "b")]
    for process in workers:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert gateway.count_by_recipient() == {phone: 1 for phone in PHONES}
    senders = {m.worker for m in Message.select(Message.worker)}
    assert senders <= {"a", "b"}
    from store.workers import all_workers

    assert {w.name: w.state for w in all_workers()} == {"a": "stopped", "b": "stopped"}
    assert sum(w.sent for w in all_workers()) == Message.select().count()  # each says what it sent
    assert Campaign.get_by_id(campaign_id).state == "sent"


@pytest.mark.slow
def test_a_rate_limit_holds_across_three_workers(store, gateway):
    campaign_to("sms", PHONES[:60])
    env = worker_env(store, gateway) | {"CAMPAIGNS_SMS_RATE_PER_HOUR": "36000"}  # 10 a second in all
    workers = [
        subprocess.Popen([sys.executable, "-m", "tui", "worker", "--id", name, "--until-idle"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b", "c")
    ]  # fmt: skip
    for process in workers:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert gateway.count_by_recipient() == {phone: 1 for phone in PHONES[:60]}
    assert len({m.worker for m in Message.select(Message.worker)}) >= 2  # the workers shared the work
    times = sorted(gateway.arrivals)  # as the provider saw them
    # 60 slots 0.1 s apart: 5.9 s from the first slot to the last, whoever sent them. A message never goes
    # before its slot, but may reach the gateway after it (its commit, a loaded machine: CI saw the first
    # arrive 0.45 s late); a rate of 12 a second would end within 4.9 s.
    assert times[-1] - times[0] >= 5.0
    # The slots are exact; a hand-over may wait a moment for its commit, so each connection's arrival
    # may come late by a slot: no three seconds see more than 30, and one more per connection (3 x 2).
    for start in times:
        assert sum(1 for t in times if 0 <= t - start < 3.0) <= 36


def test_reserved_slots_are_shared_and_survive_a_restart(store):
    from datetime import timedelta

    from store.schedule import reserve_slots
    from tests.conftest import NOW

    first = reserve_slots("sms", 3, 0.5, now=NOW)  # one worker
    second = reserve_slots("sms", 2, 0.5, now=NOW)  # another, at the same moment
    assert first == [NOW + timedelta(seconds=0.5 * k) for k in range(3)]
    assert second == [NOW + timedelta(seconds=1.5), NOW + timedelta(seconds=2.0)]
    assert reserve_slots("email", 1, 0.5, now=NOW) == [NOW]  # each channel its own pace
    later = NOW + timedelta(minutes=5)  # a restart long after: no burst to catch up, no waiting either
    assert reserve_slots("sms", 1, 0.5, now=later) == [later]
