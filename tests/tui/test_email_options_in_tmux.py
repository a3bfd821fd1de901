"""Open tracking turned off in the real program: `campaigns tui --no-send` in tmux at 80x24, the editor of
an email draft, the keys in one burst as over SSH, and the database saying the email goes without it."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.tui.test_scheduling_in_tmux import Terminal, app_env, cli

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (bash .ci/run installs it)"),
]


def test_open_tracking_turned_off_in_the_editor_is_stored(tmp_path: Path):
    database = tmp_path / "campaigns.db"
    env = app_env(tmp_path)
    cli(env, "init")
    draft = cli(env, "create", "--channel", "email", "--name", "Prova email", "--sender", "CentroMed",
                "--subject", "Il tuo controllo", "--body", "Ciao {{ first_name }}")  # fmt: skip
    assert _options(database, draft["id"]) == (1, None)  # [email] open_tracking's default: on

    term = Terminal.start(tmp_path, env)
    try:
        term.wait_until(lambda shown: re.search(r"Prova email\s+EMAIL\s+draft", shown))
        # e opens the editor on the name; Tab to sender, coupon, the language, open tracking; space turns
        # it off; ctrl+s saves. Typed ahead: each key waits for the draft to be read into the fields.
        term.burst("e", "Tab", "Tab", "Tab", "Tab", "Space", "C-s")
        shown = term.wait_until(lambda shown: f"Saved draft #{draft['id']}" in shown)
        assert "Open tracking off" in shown and "Language Center (English)" in shown
        assert _options(database, draft["id"]) == (0, None)  # off; the footer still the center's
    finally:
        term.close()


def _options(database: Path, campaign_id: int) -> tuple[int, str | None]:
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT open_tracking, language FROM campaign WHERE id = ?", (campaign_id,)
        ).fetchone()
