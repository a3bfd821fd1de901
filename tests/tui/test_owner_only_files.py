"""What the app writes is readable by its owner only, and a database others can read is said on screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import TextArea

from store.campaigns import create_campaign
from store.config import load_config
from store.db import sqlite_path
from tests.conftest import NOW
from tests.modes import mode_of, usual_umask
from tests.tui.conftest import wait_until
from tests.tui.test_recipients_screen import open_recipients
from tui.app import make_app
from tui.dialogs.imports import PasteDialog
from tui.dialogs.report import ReportScreen


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    with usual_umask():
        yield


def toasts_of(app) -> str:
    return "\n".join(str(toast.render()) for toast in app.screen.query("Toast"))


async def test_the_template_and_the_refused_rows_are_0600(empty_app, tmp_path):
    draft = create_campaign(channel="email", name="Check-up", sender="Centro Medico", body="Ciao")
    async with empty_app.run_test(size=(80, 24)) as pilot:
        await open_recipients(empty_app, pilot, draft)
        await pilot.press("t")
        await wait_until(pilot, lambda: (tmp_path / "recipients-template.csv").exists())
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(empty_app.screen, PasteDialog))
        empty_app.screen.query_one(TextArea).text = "not-an-email; ok@example.org"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(empty_app.screen, ReportScreen))
        await pilot.press("s")
        await wait_until(pilot, lambda: any(Path(tmp_path).glob("refused-rows-*.csv")))
    saved = next(Path(tmp_path).glob("refused-rows-*.csv"))
    assert mode_of(tmp_path / "recipients-template.csv") == mode_of(saved) == 0o600


async def test_a_database_others_can_read_is_a_notification_with_the_fix(sqlite_store):
    database = sqlite_path(sqlite_store)
    database.chmod(0o644)
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: "chmod 600" in toasts_of(app))
        assert str(database) in toasts_of(app)
    assert mode_of(database) == 0o644


async def test_no_notification_when_only_its_owner_can_read_it(empty_app):
    async with empty_app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause(0.2)
        assert "chmod" not in toasts_of(empty_app)
