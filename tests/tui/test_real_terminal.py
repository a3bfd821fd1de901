"""The real program in a real terminal: `campaigns tui --demo` in tmux at 80x24, driven by keys only."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
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

    def burst(self, *keys: str) -> None:
        """The keys in one `send-keys`: they reach the program together, as typed ahead over SSH."""
        self.tmux("send-keys", "-t", "app", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def wait_for(self, text: str, timeout: float = 30.0, every: float = 0.2) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(every)
        raise AssertionError(f"{text!r} never showed; the screen:\n{self.screen()}")

    def wait_until(self, condition: Callable[[str], object], timeout: float = 30.0) -> str:
        """Waits for the screen to meet the condition; returns the screen."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if condition(shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"the screen never got there:\n{self.screen()}")

    def wait_for_line(self, pattern: str, timeout: float = 30.0) -> str:
        """Waits for a line matching the regular expression; returns that line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.screen().splitlines():
                if re.search(pattern, line):
                    return line
            time.sleep(0.2)
        raise AssertionError(f"no line like {pattern!r} showed; the screen:\n{self.screen()}")


@pytest.fixture
def terminal(tmp_path: Path):
    socket = f"campaigns-test-{uuid.uuid4().hex[:8]}"
    status = tmp_path / "status"
    program = Path(sys.executable).parent / "campaigns"
    # TMPDIR: the demo's throw-away database lands in tmp_path, where a test can count its campaigns
    env = (
        f"HOME={tmp_path} TMPDIR={tmp_path} CAMPAIGNS_FEEDBACK_LISTEN=127.0.0.1:{free_port()} "
        "TERM=xterm-256color"
    )
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
    term.wait_for_line(r"Prova tmux\s+SMS\s+draft")  # whatever the columns' widths
    assert term.screen().splitlines()[-1].startswith("⏎ Open")  # the footer: what applies to a draft
    term.keys("s")
    term.wait_for("2 of 2 recipients get it")
    term.keys("Enter")  # Enter alone takes the safe answer: it stays a draft
    term.wait_for_line(r"Prova tmux\s+SMS\s+draft")
    assert "recipients get it" not in term.screen()
    term.keys("s")
    term.wait_for("2 of 2 recipients get it")
    term.keys("y")
    term.wait_for_line(r"Prova tmux\s+SMS\s+sent\s+2\s+2\b")
    term.keys("C-q")
    deadline = time.monotonic() + 30
    while not status.exists() and time.monotonic() < deadline:
        if "Quit anyway?" in term.screen():  # the demo's own campaign may still be sending
            term.keys("y")
        time.sleep(0.2)
    assert status.read_text().strip() == "0"


ROW = re.compile(r"^ {0,4}\d+ (\S.{13}) ")  # a campaign's row: its id, then its name (left of any toast)


def rows(shown: str) -> list[str]:
    """The names in the summary's rows on screen, as far as the column shows them."""
    return [match.group(1).strip() for line in shown.splitlines() if (match := ROW.match(line))]


def on_the_summary(shown: str) -> bool:
    # The footer: toasts cover the right of the screen above it, never the footer itself.
    return shown.splitlines()[-1].startswith("⏎ Open")


def campaigns_in(tmp_path: Path) -> int:
    """How many campaigns the demo's database holds (read beside the running program)."""
    (database,) = tmp_path.glob("campaigns-demo-*/demo.db")
    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM campaign").fetchone()[0]


def test_slash_and_a_name_typed_in_one_burst_filter_and_run_no_command(terminal, tmp_path):
    term, _status = terminal
    term.wait_for("Orari festivi", timeout=60)
    before = campaigns_in(tmp_path)
    term.burst("/", "flu")
    # The filter box holds all of it and no campaign is named so
    term.wait_until(lambda shown: re.search(r"▊\s+flu\s+▎", shown) and not rows(shown))
    term.burst("Escape")
    term.wait_until(lambda shown: on_the_summary(shown) and "Orari festivi" in rows(shown))
    # s sends, c clones, e edits, n creates: typed behind `/`, every one is part of the name
    term.burst("/", "screening")
    shown = term.wait_until(
        lambda shown: (
            re.search(r"▊\s+screening\s+▎", shown)
            and rows(shown)
            and all(name.startswith("Screening") for name in rows(shown))
        )
    )
    term.burst("Enter", "Escape")  # keep the filter, then clear it: the whole period again
    shown = term.wait_until(lambda shown: on_the_summary(shown) and "Orari festivi" in rows(shown))
    assert "New campaign" not in shown and "Edit draft" not in shown
    assert campaigns_in(tmp_path) == before


def test_a_tab_and_a_name_typed_as_the_editor_opens_fill_the_name(terminal):
    term, _status = terminal
    term.wait_for("Orari festivi", timeout=60)
    for _attempt in range(4):  # it used to fail 4 times out of 4: not luck if it works 4 times
        term.burst("n")
        term.wait_for("New campaign", every=0.02)  # typed the moment the editor shows, still busy
        term.burst("Tab", "Prova")
        term.wait_for_line(r"Name\s+Prova(\s|$)", timeout=10)  # all of it, not "rova" nor the placeholder
        term.burst("Escape")  # unsaved: it asks first
        term.wait_for("Leave without saving?")
        term.burst("y")
        term.wait_until(on_the_summary)
