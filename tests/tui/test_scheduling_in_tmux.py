"""Scheduling in the real program: `campaigns tui --no-send` in tmux at 80x24, a time typed in the center's
zone from the Send Now question, and the summary and the database saying when it goes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.senders.peers import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (bash .ci/run installs it)"),
]

ROME = ZoneInfo("Europe/Rome")
PROGRAM = Path(sys.executable).parent / "campaigns"


def cli(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [str(PROGRAM), *args, "--json"], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout)


def app_env(folder: Path, **extra: str) -> dict[str, str]:
    """The program's environment: a home and a database in `folder`, the center in Rome, a free port
    for the feedback server, `extra` (CAMPAIGNS_* variables) on top."""
    return {
        **os.environ,
        "HOME": str(folder),
        "CAMPAIGNS_DB": f"sqlite:///{folder / 'campaigns.db'}",
        "CAMPAIGNS_CENTER_TIMEZONE": "Europe/Rome",
        **extra,
        "CAMPAIGNS_FEEDBACK_LISTEN": f"127.0.0.1:{free_port()}",
        "TERM": "xterm-256color",
        "TMUX": "",
    }


class Terminal:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    @classmethod
    def start(cls, folder: Path, env: dict[str, str]) -> Terminal:
        """`campaigns tui --no-send` in a tmux of its own at 80x24, with the program's variables."""
        socket = f"campaigns-test-{uuid.uuid4().hex[:8]}"
        kept = {
            key: value
            for key, value in env.items()
            if key.startswith("CAMPAIGNS_") or key in ("HOME", "TERM")
        }
        variables = " ".join(f"{key}={shlex.quote(value)}" for key, value in kept.items())
        command = f"cd {folder} && env {variables} {PROGRAM} tui --no-send; sleep 60"
        size = ["-x", "80", "-y", "24"]
        subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "app", *size, command],
                       check=True, env={**os.environ, "TMUX": ""})  # fmt: skip
        return cls(socket)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True)
        return done.stdout

    def burst(self, *keys: str) -> None:
        """The keys in one `send-keys`: they reach the program together, as typed ahead over SSH."""
        self.tmux("send-keys", "-t", "app", *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "app")

    def wait_until(self, condition, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if condition(shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"the screen never got there:\n{self.screen()}")


def test_a_campaign_scheduled_from_send_now_shows_its_time_and_is_scheduled(tmp_path: Path):
    database = tmp_path / "campaigns.db"
    env = app_env(tmp_path, CAMPAIGNS_SMS_TRANSPORT="outbox", CAMPAIGNS_OUTBOX_PATH=str(tmp_path / "outbox"))
    cli(env, "init")
    draft = cli(env, "create", "--channel", "sms", "--name", "Prova tmux", "--sender", "CentroMed",
                "--body", "Ciao {{ first_name }}")  # fmt: skip
    cli(env, "recipients", "add", str(draft["id"]), "--paste", "3471234567, 3477654321")

    # Two days ahead on the center's wall clock: within the week, whatever the hour the test runs at
    day = (datetime.now(ROME) + timedelta(days=2)).date()
    typed = f"{day.isoformat()} 09:30"
    at = datetime(day.year, day.month, day.day, 9, 30, tzinfo=ROME)

    term = Terminal.start(tmp_path, env)
    try:
        term.wait_until(lambda shown: re.search(r"Prova tmux\s+SMS\s+draft", shown))
        term.burst("s")
        term.wait_until(lambda shown: "2 of 2 recipients get it" in shown and "t a time" in shown)
        term.burst("t", typed, "Enter")
        term.wait_until(
            lambda shown: (
                f"Schedule Prova tmux for {at:%a} {day.day} {at:%b} 09:30 (Europe/Rome)" in shown
                and "working out" not in shown
                and "y schedule" in shown
            )
        )
        assert _state(database, draft["id"]) == ("draft", None)  # Enter took the time; only y says yes
        term.burst("y")
        shown = term.wait_until(
            lambda shown: (
                re.search(rf"Prova tmux\s+SMS\s+{at:%a} 09:30", shown)
                and f"scheduled for {at:%a} {day.day} {at:%b} 09:30" in shown
            )
        )
        assert "recipients get it" not in shown  # the question is gone
        state, scheduled_at = _state(database, draft["id"])
        assert state == "scheduled"
        assert scheduled_at == at.astimezone(UTC).replace(tzinfo=None)
        assert not (tmp_path / "outbox").exists()  # watch only: nothing went
    finally:
        term.close()


def _state(database: Path, campaign_id: int) -> tuple[str, datetime | None]:
    with sqlite3.connect(database) as db:
        state, scheduled_at = db.execute(
            "SELECT state, scheduled_at FROM campaign WHERE id = ?", (campaign_id,)
        ).fetchone()
    return state, datetime.fromisoformat(scheduled_at) if scheduled_at else None
