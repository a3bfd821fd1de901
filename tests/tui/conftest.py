from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from textual.pilot import Pilot

from fixtures.center import load_center
from store.config import load_config
from tests.conftest import NOW
from tui.app import CampaignsApp, make_app


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Lets the app work until the condition holds; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the app did not get there in time")
        await pilot.pause(0.02)


def shows_question(app) -> bool:
    """A question (ConfirmDialog, or Send Now's that is one) is on top and composed: its text can be read."""
    from tui.dialogs.confirm import ConfirmDialog

    return isinstance(app.screen, ConfirmDialog) and bool(app.screen.query("#question"))


@pytest.fixture
def demo_app(sqlite_store) -> CampaignsApp:
    """The app over a small demo center placed at NOW."""
    load_center(patients=400, now=NOW)
    return make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)


@pytest.fixture
def empty_app(sqlite_store) -> CampaignsApp:
    return make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
