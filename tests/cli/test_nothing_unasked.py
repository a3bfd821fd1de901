"""Nothing is sent unasked: the demo data of `make run` holds nothing that would go out by itself."""

import os

from store.db import open_database
from store.models import Campaign, Message


def test_the_demo_data_of_make_run_sends_nothing_by_itself(campaigns, sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPAIGNS_OUTBOX_PATH", str(tmp_path / "outbox"))
    for channel in ("EMAIL", "SMS", "PUSH"):
        monkeypatch.setenv(f"CAMPAIGNS_{channel}_TRANSPORT", "outbox")
    loaded = campaigns("fixtures", "--if-empty", "--patients", "300", "--json")
    assert loaded.code == 0, loaded.err
    open_database(sqlite_url)
    states = {c.state for c in Campaign.select()}
    assert not states & {"queued", "sending"}  # what an engine would take up on its own
    assert {"draft", "paused", "sent", "completed", "cancelled"} <= states  # every state at rest is shown
    before = sorted(Message.select(Message.id, Message.state).tuples())
    worked = campaigns("worker", "--until-idle", "--id", "make-run", "--json")  # what the app's engine does
    assert worked.code == 0, worked.err
    open_database(sqlite_url)
    assert sorted(Message.select(Message.id, Message.state).tuples()) == before
    assert not os.path.exists(tmp_path / "outbox")
