"""The real program in a real terminal: `campaigns tui --demo` in tmux at 80x24, driven by keys only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.senders.peers import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (bash .ci/run installs it)"),
]


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def keys(self, *keys: str, pause: float = 0.3) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "app", key)
            time.sleep(pause)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never showed; the screen:\n{self.screen()}")


@pytest.fixture
def terminal(tmp_path: Path):
    socket = f"campaigns-test-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "status"
    program = Path(sys.executable).parent / "campaigns"
    env = f"HOME={tmp_path} CAMPAIGNS_FEEDBACK_LISTEN=127.0.0.1:{free_port()} TERM=xterm-256color"
    command = f"cd {tmp_path} && env {env} {program} tui --demo; echo $? > {status}; sleep 60"
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "app", "-x", "80", "-y", "24", command],
                   check=True, env={**os.environ, "TMUX": ""})  # fmt: skip
    try:
        yield Terminal(socket), status
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def test_create_fill_and_send_a_campaign_with_keys_only_then_quit(terminal):
    term, status = terminal
    summary = term.wait_for("Orari festivi", timeout=60)  # the demo center, loaded
    assert "(last 30 days)" in summary
    term.keys("n")
    term.wait_for("0 characters")  # the editor is up and counting, as a person sees before typing
    term.keys("Tab", "Prova tmux")
    term.wait_for("Prova tmux")
    term.keys("Tab", "CentroMed", "Tab", "Tab", "Ciao {{ first_name }}")
    term.wait_for("Ciao {{ first_name }}")
    term.keys("F2")  # saves and goes to the recipients
    term.wait_for("No recipients yet")
    term.keys("p")
    term.wait_for("Paste addresses")
    term.keys("3471234567, 3477654321", "C-s")
    term.wait_for("2 added")
    term.keys("Escape", "Escape")  # the report, then the recipients: back in the editor
    term.wait_for("Edit draft")
    term.keys("Escape")
    shown = term.wait_for("Prova tmux       SMS   draft")
    assert shown.splitlines()[-1].startswith("⏎ Open")  # the footer: what applies to a draft
    term.keys("s")
    term.wait_for("2 of 2 recipients get it")
    term.keys("y")
    term.wait_for("Prova tmux       SMS   sent            2       2")
    term.keys("C-q")
    deadline = time.monotonic() + 30
    while not status.exists() and time.monotonic() < deadline:
        if "Quit anyway?" in term.screen():  # the demo's own campaign may still be sending
            term.keys("y")
        time.sleep(0.2)
    assert status.read_text().strip() == "0"
