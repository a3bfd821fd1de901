"""The email check's SpamAssassin process and the footer's language as stored by other tools."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from senders.email_check import run_spamassassin_async
from senders.wording import WORDINGS, wording_for
from store.models import Campaign
from tests.senders.conftest import campaign_to, config_for, send_all
from tests.senders.test_email_sending import ADDRESSES, parts_of


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone too: only its parent's wait is left
        return stat.read().split()[2] == "Z"


async def test_closing_the_dialog_kills_spamassassin_and_what_it_started(tmp_path: Path, monkeypatch):
    fake = tmp_path / "spamassassin"
    fake.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {tmp_path}/child\nwait\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    task = asyncio.create_task(run_spamassassin_async(b"Subject: x\r\n\r\nhello\r\n"))
    deadline = time.monotonic() + 10
    while not (tmp_path / "child").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    child = int((tmp_path / "child").read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    deadline = time.monotonic() + 5
    while not gone(child) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert gone(child)


def test_a_language_stored_by_another_tool_never_stops_a_send(sqlite_store, mail_server):
    assert wording_for(" IT ", "en") is WORDINGS["it"]
    assert wording_for("fr", "it") is WORDINGS["it"] and wording_for(None, "en") is WORDINGS["en"]
    upper = campaign_to("email", ADDRESSES[:1])
    unknown = campaign_to("email", ADDRESSES[1:2])
    Campaign.update(language="IT").where(Campaign.id == upper).execute()
    Campaign.update(language="fr").where(Campaign.id == unknown).execute()
    send_all(config_for(sqlite_store, mail_server))
    footers = {mail["To"]: parts_of(mail)["text/plain"] for mail in mail_server.received}
    assert "Annulla l'iscrizione: " in footers[ADDRESSES[0]]
    assert "Unsubscribe: " in footers[ADDRESSES[1]]  # the center's, English here


async def test_send_nows_check_reads_b_too_and_says_the_worse(sqlite_store, monkeypatch):
    from dataclasses import replace

    from senders.email_check import check_before_sending
    from store.campaigns import create_campaign
    from store.experiments import edit_variant_b
    from store.recipients import add_pasted

    monkeypatch.setattr("senders.email_check.spamassassin_path", lambda: None)  # the findings alone
    config = config_for(sqlite_store)
    config = replace(
        config, feedback=replace(config.feedback, public_url="https://track.centromedico.example")
    )
    draft = create_campaign(channel="email", name="A/B", sender="Centro Medico", body="Ciao, a presto.")
    add_pasted(draft.id, "anna@example.org")
    clean = await check_before_sending(config, draft.id, "secret")
    assert clean.variant == "a" and clean.problems == 0
    edit_variant_b(draft.id, "Ciao: https://bit.ly/prenota", None)
    worse = await check_before_sending(config, draft.id, "secret")
    assert worse.variant == "b" and worse.line().startswith("Email check: variant B: ")
    assert "bit.ly" in worse.line()
