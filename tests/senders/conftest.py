from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from senders import campaign_run, engine
from senders.engine import Engine
from store import sending
from store.campaigns import create_campaign
from store.config import Config, load_config
from store.models import Campaign
from store.queue import queue_campaign
from store.recipients import add_pasted
from tests.conftest import without_quiet_hours
from tests.senders.peers import Gateway, MailServer, free_port


@pytest.fixture
def mail_server() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-offs of milliseconds instead of seconds, so a test waits for behaviour, not for the clock."""
    monkeypatch.setattr(sending, "RETRY_BASE_SECONDS", 0.05)
    monkeypatch.setattr(campaign_run, "OUTAGE_BASE_SECONDS", 0.2)
    monkeypatch.setattr(campaign_run, "IDLE_POLL_SECONDS", 0.05)
    monkeypatch.setattr(engine, "POLL_SECONDS", 0.05)


def config_for(
    url: str, mail: MailServer | None = None, gateway: Gateway | None = None, **email: object
) -> Config:
    config = without_quiet_hours(load_config(database_url=url, env={}))
    smtp_port = mail.port if mail else free_port()
    config = replace(
        config,
        email=replace(
            config.email,
            transport="smtp",
            host="127.0.0.1",
            port=smtp_port,
            from_address="noreply@centromedico.example",
            connections=2,
            **email,
        ),
    )  # type: ignore[arg-type]
    http_url = gateway.url if gateway else f"http://127.0.0.1:{free_port()}/messages"
    token = gateway.token if gateway else ""
    config = replace(
        config, sms=replace(config.sms, transport="http", url=http_url, token=token, connections=2)
    )
    return replace(
        config, push=replace(config.push, transport="http", url=http_url, token=token, connections=2)
    )


def campaign_to(
    channel: str, addresses: list[str], body: str = "Ciao {{ first_name }}, ci vediamo presto."
) -> int:
    sender = "Centro Medico" if channel == "email" else "CentroMed"
    draft = create_campaign(channel=channel, name=f"{channel} test", sender=sender, body=body,
                            subject="Un messaggio per te" if channel == "email" else None)  # fmt: skip
    add_pasted(draft.id, ", ".join(addresses))
    queue_campaign(draft.id)
    return draft.id


def send_all(config: Config, timeout: float = 30.0, headless: bool = False) -> Engine:
    """Runs an engine until nothing is left to send (`headless`: as `campaigns worker` runs it)."""
    worker = Engine(config, worker="test", headless=headless)

    async def run() -> None:
        await asyncio.wait_for(worker.run(until_idle=True), timeout)

    asyncio.run(run())
    return worker


def run_until_waiting(config: Config, campaign_id: int, patience: float = 10.0) -> str:
    """Runs an engine until the campaign says it waits for its provider (or `patience` runs out), stops
    it, and returns why it waits ("" when it never did)."""
    worker = Engine(config, worker="test")

    async def for_a_while() -> None:
        task = asyncio.create_task(worker.run())
        deadline = time.monotonic() + patience
        while not Campaign.get_by_id(campaign_id).waiting_reason and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        worker.stop()
        await task

    asyncio.run(for_a_while())
    return Campaign.get_by_id(campaign_id).waiting_reason or ""


def heal_once_waiting(campaign_id: int, heal: Callable[[], None], seen: list[str]) -> threading.Thread:
    """A thread that waits until the campaign says it waits for its provider, notes why, then heals it."""

    def watch() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not seen:
            reason = Campaign.get_by_id(campaign_id).waiting_reason
            if reason:
                seen.append(reason)
            time.sleep(0.02)
        heal()

    thread = threading.Thread(target=watch)
    thread.start()
    return thread
