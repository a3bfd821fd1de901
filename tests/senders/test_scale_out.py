"""Several `campaigns worker` processes on one PostgreSQL, one campaign, one SMTP server (issue 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from store.bulk import insert_rows
from store.campaigns import create_campaign
from store.db import bulk_transaction
from store.models import Campaign, Message
from store.queue import queue_campaign
from tests.senders.peers import MailServer, free_port

RECIPIENTS = 30_000
RATE_PER_SECOND = 200  # the shared limit: the three workers together go faster on this machine


def email_campaign(count: int) -> int:
    draft = create_campaign(channel="email", name="Scale", sender="Centro Medico", subject="Visita",
                            body="Ciao {{ first_name }}")  # fmt: skip
    rows = [(f"p{i}@example.org", f"Paziente{i % 100}") for i in range(count)]
    constants = {Message.campaign: draft.id, Message.source: "csv", Message.state: "pending"}
    with bulk_transaction():
        insert_rows(Message, [Message.address, Message.first_name], rows, constants=constants)
    queue_campaign(draft.id)
    return draft.id


def start_worker(url: str, port: int, name: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
    env.update(
        CAMPAIGNS_DB=url, CAMPAIGNS_EMAIL_TRANSPORT="smtp", CAMPAIGNS_EMAIL_HOST="127.0.0.1",
        CAMPAIGNS_EMAIL_PORT=str(port), CAMPAIGNS_EMAIL_CONNECTIONS="2",
        CAMPAIGNS_EMAIL_RATE_PER_HOUR=str(RATE_PER_SECOND * 3600), CAMPAIGNS_ENGINE_LEASE_SECONDS="5",
        CAMPAIGNS_FEEDBACK_LISTEN=f"127.0.0.1:{free_port()}",
    )  # fmt: skip
    command = [sys.executable, "-m", "tui", "worker", "--id", name, "--until-idle"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_one_killed_halfway_every_recipient_once_and_the_pace_holds(store):
    mail = MailServer()
    mail.light = True
    mail.start()
    try:
        campaign_id = email_campaign(RECIPIENTS)
        workers = {name: start_worker(store, mail.port, name) for name in ("w1", "w2", "w3")}
        deadline = time.monotonic() + 240
        while len(mail.arrivals) < RECIPIENTS // 2:
            assert time.monotonic() < deadline, "halfway never came"
            time.sleep(0.05)
        workers["w2"].send_signal(signal.SIGKILL)
        workers["w2"].wait(timeout=10)
        for name in ("w1", "w3"):
            _out, err = workers[name].communicate(timeout=300)
            assert workers[name].returncode == 0, err
    finally:
        mail.stop()
    counts = mail.count_by_recipient()
    assert set(counts) == {f"p{i}@example.org" for i in range(RECIPIENTS)}  # every recipient
    twice = {address for address, n in counts.items() if n > 1}
    flagged = {m.address for m in Message.select(Message.address).where(Message.resent_after_crash)}
    assert twice <= flagged and len(flagged) <= 2  # at most the killed worker's two connections
    assert Campaign.get_by_id(campaign_id).state == "sent"
    assert {m.worker for m in Message.select(Message.worker).distinct()} >= {"w1", "w3"}
    times = sorted(mail.arrivals)
    assert times[-1] - times[0] >= 0.95 * (len(times) - 1) / RATE_PER_SECOND  # the shared limit held
    window = 3.0
    for k in range(0, len(times), 500):
        start = times[k]
        assert sum(1 for t in times[k : k + 3000] if t - start < window) <= 1.1 * window * RATE_PER_SECOND
