"""`campaigns worker`, on a server with no terminal, sends a campaign without ever importing Textual."""

from __future__ import annotations

import subprocess
import sys

from tests.senders.conftest import campaign_to
from tests.senders.test_crash_and_workers import worker_env


def test_a_worker_sends_a_campaign_and_never_imports_textual(store, gateway):
    phones = [f"+3934911{i:05d}" for i in range(5)]
    campaign_to("sms", phones)
    worker = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tui", "worker", "--until-idle"],
        env=worker_env(store, gateway), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert set(gateway.count_by_recipient()) == set(phones)  # it did send: the engine was loaded
    imported = {line.rsplit("|", 1)[-1].strip() for line in worker.stderr.splitlines() if "|" in line}
    assert "senders.engine" in imported
    # Textual only: httpx itself imports rich when it is installed (for its own command line).
    assert not {name for name in imported if name.split(".")[0] == "textual"}
