"""How each screen looks at 80x24 over the demo center placed at a fixed moment (pytest-textual-snapshot).

A change of layout shows as a failing snapshot with a visual diff; update on purpose with
`pytest tests/tui/test_snapshots.py --snapshot-update`, in a commit of its own.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from textual.css.query import NoMatches

from fixtures.center import load_center
from store.clock import shift_clock
from store.config import load_config
from tests.conftest import NOW
from tui.app import make_app

SIZE = (80, 24)


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Local times drawn as UTC wherever the tests run."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def app(sqlite_store):
    # The clock says NOW too: "tomorrow" in the Send Now question and its ETA are the same every run.
    shift_clock(NOW - datetime.now(UTC).replace(tzinfo=None))
    load_center(patients=400, now=NOW)
    return make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)


async def loaded(pilot) -> None:
    screen = pilot.app.screen
    while not getattr(screen, "loaded_once", True):
        await pilot.pause(0.02)
    await pilot.pause(0.1)


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Waits for what the screen reads off the loop, then for it to be drawn."""
    for _ in range(int(timeout / 0.05)):
        try:
            if condition():
                break
        except NoMatches:  # the screen it looks at is not there yet
            pass
        await pilot.pause(0.05)
    await pilot.pause(0.2)


async def steady(pilot) -> None:
    """Cursors that do not blink: a snapshot taken mid-blink would differ from run to run."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause(0.1)


def highlight(pilot, state: str, channel: str | None = None) -> None:
    """Moves to the first campaign on the summary in that state (and channel)."""
    screen = pilot.app.screen
    wanted = next(f.id for f in screen.figures.values() if f.state == state and channel in (None, f.channel))
    table = screen.query_one("#campaigns")
    table.move_cursor(row=[int(k.value) for k in table.rows if k.value.isdigit()].index(wanted))


def test_summary(app, snap_compare):
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_summary_empty(sqlite_store, snap_compare):
    empty = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    assert snap_compare(empty, terminal_size=SIZE, run_before=loaded)


def test_help(app, snap_compare):
    async def open_help(pilot) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_help)


def test_details_of_a_completed_email_campaign(app, snap_compare):
    async def open_details(pilot) -> None:
        await loaded(pilot)
        highlight(pilot, "completed", "email")
        await pilot.press("enter")
        while getattr(pilot.app.screen, "stats", None) is None or not pilot.app.screen.rows:
            await pilot.pause(0.05)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_details)


def test_editor_of_a_draft(app, snap_compare):
    async def open_editor(pilot) -> None:
        await loaded(pilot)
        highlight(pilot, "draft")
        await pilot.press("e")
        await until(
            pilot, lambda: bool(pilot.app.screen.query("#name") and pilot.app.screen.query_one("#name").value)
        )
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_editor)


def test_recipients_of_a_draft(app, snap_compare):
    async def open_recipients(pilot) -> None:
        await loaded(pilot)
        highlight(pilot, "draft")
        await pilot.press("a")
        await until(pilot, lambda: "Send Now would" in str(pilot.app.screen.query_one("#forecast").render()))
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_recipients)


def test_send_now_confirmation(app, snap_compare, monkeypatch):
    # The email check's line, fixed: SpamAssassin's presence, version and pace would change it run to run
    line = "Email check: 1 problem, 2 warnings; links and the unsubscribe go to 127.0.0.1"

    async def fixed(config, campaign_id) -> str:
        return line

    monkeypatch.setattr("tui.dialogs.send_now.email_check_line", fixed)

    async def ask(pilot) -> None:
        await loaded(pilot)
        highlight(pilot, "draft")
        await pilot.press("s")
        await until(pilot, lambda: "1 problem" in str(pilot.app.screen.query_one("#email-check").render()))

    assert snap_compare(app, terminal_size=SIZE, run_before=ask)


def test_period_dialog(app, snap_compare):
    async def ask(pilot) -> None:
        await loaded(pilot)
        await pilot.press("r")
        await until(pilot, lambda: bool(pilot.app.screen.query("#start")))
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ask)


def test_test_dialog(app, snap_compare):
    async def ask(pilot) -> None:
        await loaded(pilot)
        highlight(pilot, "draft")
        await pilot.press("t")
        await until(pilot, lambda: bool(pilot.app.screen.query("#addresses")))
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=ask)


def test_retarget_choices(app, snap_compare):
    async def ask(pilot) -> None:
        await loaded(pilot)
        highlight(pilot, "completed", "email")
        await pilot.press("enter")
        while getattr(pilot.app.screen, "stats", None) is None:
            await pilot.pause(0.05)
        await pilot.press("t")
        await until(pilot, lambda: bool(pilot.app.screen.query("OptionList")))

    assert snap_compare(app, terminal_size=SIZE, run_before=ask)


def test_contact_picker(app, snap_compare):
    async def pick(pilot) -> None:
        await loaded(pilot)
        highlight(pilot, "draft")
        await pilot.press("a")
        await pilot.pause(0.5)
        await pilot.press("c")
        while getattr(pilot.app.screen, "directory", None) is None:  # the contacts, read in a thread
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        await steady(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=pick)
