"""The contact picker over 100,000 contacts: the work of one keystroke (goal <= 50 ms).

Two figures: the filter and the redraw of the visible list, which is the app's own work per key; and
the same through Textual's test pilot, which adds its own wait for the next frame (~25 ms here).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from textual.geometry import Region

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

from fixtures.center import load_center
from store.config import load_config
from store.db import open_database
from store.schema import migrate_schema
from tui.app import make_app
from tui.screens.contact_picker import ContactPicker
from tui.widgets.contact_list import ContactList

GOAL_MS = 50
TYPED = ["r", "ro", "ros", "ross", "rossi", "rossi ", "rossi m", "rossi ma", "", "3", "34", "347", "@libero"]


async def measure(url: str) -> tuple[list[float], list[float]]:
    app = make_app(load_config(database_url=url, env={}), send=False)
    timings: list[float] = []
    work: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        picker = ContactPicker()
        app.push_screen(picker)
        while picker.directory is None:
            await pilot.pause(0.05)
        filter_input = picker.query_one("#filter")
        contacts = picker.query_one(ContactList)
        for _ in range(3):
            for text in TYPED:
                started = time.perf_counter()
                filter_input.value = text  # fires Input.Changed, handled before the next pause
                await pilot.pause()
                timings.append((time.perf_counter() - started) * 1000)
            for text in TYPED:
                started = time.perf_counter()
                picker.query_one("#filter").value = text
                picker.apply_filter()
                contacts.render_lines(Region(0, 0, contacts.size.width, contacts.size.height))
                work.append((time.perf_counter() - started) * 1000)
                await pilot.pause()
    return work, timings


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        open_database(url)
        migrate_schema()
        load_center(patients=100_000)
        work, timings = asyncio.run(measure(url))
    print(f"machine: {machine()}")
    for what, found in (("filter and redraw", work), ("through the test pilot", timings)):
        verdict = "meets" if median(found) <= GOAL_MS else "MISSES"
        figure = f"{median(found):.0f} ms median, {max(found):.0f} ms worst of {len(found)} keystrokes"
        print(f"| contact picker over 103,000 contacts, {what} | {figure} | <= {GOAL_MS} ms | {verdict} |")


if __name__ == "__main__":
    main()
