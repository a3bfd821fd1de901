"""Issue 14: with one lane, campaigns go strictly one after another, the first created first, on one
engine or several; a campaign created earlier and resumed takes its turn once the messages the one
sending has with the provider are answered. The order is read where it counts: at the provider."""

from __future__ import annotations

import asyncio
import itertools
import threading
from dataclasses import replace

import pytest

from senders import engine
from senders.engine import Engine, claim_size
from store.campaigns import create_campaign
from store.config import Config
from store.figures import campaign_figures
from store.models import Campaign
from store.queue import pause_campaign, queue_campaign, resume_campaign
from store.recipients import add_pasted
from tests.senders.conftest import config_for
from tests.senders.test_crash_and_workers import start_worker, wait_for
from tui.screens.detail_text import status_line
from tui.screens.summary_rows import describe

FLU = [f"flu{i}@example.org" for i in range(30)]
RECALL = [f"recall{i}@example.org" for i in range(30)]


@pytest.fixture(autouse=True)
def quick_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "NOTE_WAITING_SECONDS", 0.05)


def drafted(channel: str, name: str, addresses: list[str], queue: bool = True) -> int:
    sender = "Centro Medico" if channel == "email" else "CentroMed"
    draft = create_campaign(channel=channel, name=name, sender=sender, body="Ciao {{ first_name }}",
                            subject="Promemoria" if channel == "email" else None)  # fmt: skip
    add_pasted(draft.id, ", ".join(addresses))
    if queue:
        queue_campaign(draft.id)
    return draft.id


def reason_of(campaign_id: int) -> str | None:
    return Campaign.get_by_id(campaign_id).waiting_reason


def screens_say(campaign_id: int) -> tuple[str, str]:
    """The details' status line and the summary's line for the campaign, as the app draws them."""
    figures = campaign_figures(Campaign.get_by_id(campaign_id))
    return status_line(figures, None), describe(figures)


def blocks(sequence: list[int]) -> list[tuple[int, int]]:
    """Runs of the same campaign in arrival order: (campaign, how many in a row)."""
    return [(campaign, len(list(run))) for campaign, run in itertools.groupby(sequence)]


class EngineThread:
    """An engine in a thread of its own, as in the app: the test drives the queue meanwhile."""

    def __init__(self, config: Config) -> None:
        self.engine = Engine(config, worker="test")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=asyncio.run, args=(self._run(),))

    async def _run(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.engine.run()

    def __enter__(self) -> EngineThread:
        self.thread.start()
        wait_for(lambda: self.loop is not None)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.engine.stop)
        self.thread.join(timeout=30)


def test_an_older_campaign_resumed_goes_once_the_newer_ones_messages_in_flight_are_answered(
    store, mail_server
):
    config = config_for(store, mail=mail_server)
    config = replace(config, email=replace(config.email, connections=1))  # one message in flight a campaign
    older, newer = drafted("email", "Flu shots", FLU), drafted("email", "Recall", RECALL)
    campaign_of = {address: older for address in FLU} | {address: newer for address in RECALL}
    received = mail_server.received
    mail_server.gate.hold()
    mail_server.gate.let_through(5)
    with EngineThread(config):
        wait_for(lambda: len(received) == 5 and mail_server.gate.waiting == 1)
        # The newer one is queued behind: it says behind whom, and how many messages are left before it.
        wait_for(lambda: reason_of(newer) == f"queued after #{older} 'Flu shots', 25 left")
        detail, summary = screens_say(newer)
        assert f"queued after #{older} 'Flu shots', 25 left" in detail
        assert f"waiting: queued after #{older} 'Flu shots', 25 left" in summary

        pause_campaign(older)  # its sixth message is with the server: the newer one waits for its answer
        expected = f"waits for #{older} 'Flu shots' to finish its messages in flight"
        wait_for(lambda: reason_of(newer) == expected)
        mail_server.gate.let_through(6)  # the older one's sixth, then five of the newer one
        wait_for(lambda: len(received) == 11 and mail_server.gate.waiting == 1)

        resume_campaign(older)  # the newer one's sixth is with the server
        waits_for_newer = f"waits for #{newer} 'Recall' to finish its messages in flight"
        gives_way = f"waits after #{older} 'Flu shots' (created earlier), 24 left"
        wait_for(lambda: reason_of(older) == waits_for_newer and reason_of(newer) == gives_way)
        assert waits_for_newer in screens_say(older)[0] and waits_for_newer in screens_say(older)[1]
        assert gives_way in screens_say(newer)[0] and gives_way in screens_say(newer)[1]
        assert campaign_of[received[-1]["To"]] == newer  # nothing of the older one went meanwhile

        mail_server.gate.release()
        wait_for(lambda: {Campaign.get_by_id(i).state for i in (older, newer)} == {"sent"})
    sequence = [campaign_of[message["To"]] for message in received]
    # The older one's six until its pause; the newer one's six (its sixth in flight at the resume), and any
    # it had claimed already and handed over before its engine saw it must give way (the older one claims
    # only once those are answered); then the rest of the older one, then the rest of the newer one.
    (first, six), (second, taken), (third, rest), (fourth, last) = blocks(sequence)
    assert (first, six, second, third, rest, fourth) == (older, 6, newer, older, 24, newer)
    assert taken >= 6 and taken + last == 30
    assert reason_of(older) is None and reason_of(newer) is None


PHONES = [f"+3934900{i:05d}" for i in range(450)]


@pytest.mark.slow
def test_two_workers_send_two_queued_campaigns_one_after_the_other(store, gateway):
    older, newer = drafted("sms", "Flu shots", PHONES[:200]), drafted("sms", "Recall", PHONES[200:400])
    workers = [start_worker(store, gateway, "--id", name, "--until-idle") for name in ("a", "b")]
    for process in workers:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    campaign_of = {phone: older for phone in PHONES[:200]} | {phone: newer for phone in PHONES[200:400]}
    assert blocks([campaign_of[m["to"]] for m in gateway.received]) == [(older, 200), (newer, 200)]


@pytest.mark.slow
def test_two_workers_give_way_to_an_older_campaign_queued_while_a_newer_one_sends(store, gateway):
    older = drafted("sms", "Flu shots", PHONES[:40], queue=False)  # created first, queued later
    newer = drafted("sms", "Recall", PHONES[40:])  # 410: more than one worker's claim, so both send it
    gateway.gate.hold()
    gateway.gate.let_through(10)
    workers = [start_worker(store, gateway, "--id", name, "--until-idle") for name in ("a", "b")]
    try:
        wait_for(lambda: gateway.gate.waiting == 4)  # both workers' two connections have one with the gateway
        queue_campaign(older)
        waits_for_newer = f"waits for #{newer} 'Recall' to finish its messages in flight"
        wait_for(lambda: reason_of(older) == waits_for_newer)
        wait_for(
            lambda: (reason_of(newer) or "").startswith(f"waits after #{older} 'Flu shots' (created earlier)")
        )
        assert waits_for_newer in screens_say(older)[0] and waits_for_newer in screens_say(older)[1]
        assert f"waits after #{older}" in screens_say(newer)[1]
    finally:
        gateway.gate.release()
    for process in workers:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    campaign_of = {phone: older for phone in PHONES[:40]} | {phone: newer for phone in PHONES[40:]}
    arrivals = blocks([campaign_of[m["to"]] for m in gateway.received])
    # The 10 let through and the 4 the gateway held, then the older one whole, then the newer one's rest:
    # the older did not wait for the newer to finish. A worker gives way at its engine's next round
    # (every 0.5 s): on a loaded machine, one that had not looked yet hands over some more of what it
    # had claimed once the gateway lets go (14 on a quiet machine, up to 83 seen at a load of 6 on 2
    # cores); never one of the newer once the older has begun. A worker that did not give way would hand
    # over all it had claimed first: the two workers' claims, 2 x 200 of the 410.
    [(first, before), (second, whole), (third, rest)] = arrivals
    assert (first, second, whole, third) == (newer, older, 40, newer)
    assert 14 <= before <= 14 + claim_size(2) and before + rest == 410
    assert gateway.count_by_recipient() == {phone: 1 for phone in PHONES}
