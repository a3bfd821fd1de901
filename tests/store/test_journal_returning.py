"""The SQLite journal's one statement: with RETURNING (3.35+) it says which hand-overs it wrote; before
that, it reads its own rows back. Both give the same answer, refused hand-overs included."""

from __future__ import annotations

import sqlite3

import pytest

from store.queue import pause_campaign
from store.send_journal import journal
from store.sending import claim
from tests.conftest import NOW
from tests.senders.conftest import campaign_to


@pytest.mark.parametrize("version", [(3, 40, 1), (3, 31, 1)], ids=["returning", "read-back"])
def test_only_the_hand_overs_that_may_go_are_journaled_and_said(sqlite_store, monkeypatch, version):
    monkeypatch.setattr(sqlite3, "sqlite_version_info", version)
    going = campaign_to("sms", ["+393470000001", "+393470000002"])
    paused = campaign_to("sms", ["+393470000003"])
    first, second = claim(going, "engine", 10, now=NOW).messages
    [held] = claim(paused, "engine", 10, now=NOW).messages
    pause_campaign(paused)
    assert journal([], [first.id, held.id, second.id], NOW) == {first.id, second.id}
    assert journal([], [held.id], NOW) == set()
