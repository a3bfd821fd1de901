"""`campaigns tui --no-send`: the real program in tmux at 80x24 shows the queue and sends nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from store.campaigns import create_campaign
from store.models import Campaign, Message, Worker
from store.queue import queue_campaign
from store.recipients import add_pasted
from tests.senders.peers import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (bash .ci/run installs it)"),
]


def screen_of(socket: str) -> str:
    done = subprocess.run(
        ["tmux", "-L", socket, "capture-pane", "-p", "-t", "app"], capture_output=True, text=True
    )
    return done.stdout


def test_a_watch_only_app_leaves_a_queued_campaign_queued(sqlite_store, sqlite_url, tmp_path: Path):
    draft = create_campaign(channel="sms", name="In coda", sender="CentroMed", body="Ciao")
    add_pasted(draft.id, "+393471111111, +393472222222")
    queue_campaign(draft.id)
    socket = f"campaigns-test-{uuid.uuid4().hex[:8]}"
    program = Path(sys.executable).parent / "campaigns"
    env = (
        f"HOME={tmp_path} CAMPAIGNS_DB={sqlite_url} CAMPAIGNS_SMS_TRANSPORT=outbox "
        f"CAMPAIGNS_OUTBOX_PATH={tmp_path / 'outbox'} CAMPAIGNS_FEEDBACK_LISTEN=127.0.0.1:{free_port()} "
        "TERM=xterm-256color"
    )
    command = f"cd {tmp_path} && env {env} {program} tui --no-send; sleep 60"
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "app", "-x", "80", "-y", "24", command],
                   check=True, env={**os.environ, "TMUX": ""})  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while "In coda" not in screen_of(socket) or "watch only" not in screen_of(socket):
            assert time.monotonic() < deadline, f"the summary never showed; the screen:\n{screen_of(socket)}"
            time.sleep(0.2)
        # An engine would have registered and claimed within a second (it polls every 0.5 s); three seconds
        # of an app that sends nothing must change nothing.
        time.sleep(3)
        assert Campaign.get_by_id(draft.id).state == "queued"
        assert {m.state for m in Message.select()} == {"pending"}
        assert not Worker.select().exists()
        assert not (tmp_path / "outbox").exists()
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
