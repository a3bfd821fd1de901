"""Issue 14: the details table lays itself out again when the terminal is resized, and the summary's
date column says which date it shows, in the order of the rows."""

from datetime import timedelta

from textual.widgets import DataTable

from store.campaigns import create_campaign
from store.config import load_config
from store.models import Campaign
from store.recipients import add_pasted
from tests.conftest import NOW
from tests.tui.conftest import wait_until
from tui.app import make_app
from tui.screens.detail import DetailScreen
from tui.screens.summary_rows import local_day


def widths(table: DataTable) -> list[int]:
    return [column.width for column in table.columns.values()]


def fits(table: DataTable) -> bool:
    """Every column inside the table, and every cell inside its column."""
    if sum(widths(table)) > table.size.width or table.max_scroll_x:
        return False
    return all(
        len(table.get_row_at(row)[index].plain) <= width
        for row in range(table.row_count)
        for index, width in enumerate(widths(table))
    )


async def test_the_details_table_fits_the_terminal_after_it_grows_and_shrinks_back(sqlite_store):
    draft = create_campaign(channel="email", name="Larga", sender="Centro", body="Ciao", now=NOW)
    long_address = "a.very.long.address.for.a.patient.of.the.center@clinica-example.org"
    add_pasted(draft.id, f"{long_address}, b@example.org")
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.loaded_once)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.rows)
        table = app.screen.query_one("#recipients", DataTable)
        table.move_cursor(row=1)
        narrow = widths(table)
        assert fits(table)

        await pilot.resize_terminal(160, 40)
        await wait_until(pilot, lambda: widths(table) != narrow and table.row_count == 2)
        assert widths(table)[0] == 44 and fits(table)  # the address as wide as it gets, the rest to reasons
        assert long_address[:43] in "".join(table.get_row_at(row)[0].plain for row in range(2))

        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: widths(table) == narrow and table.row_count == 2)
        await pilot.pause()
        assert fits(table)
        assert table.cursor_row == 1  # the highlighted recipient stays highlighted


async def test_the_summary_shows_the_creation_date_in_the_order_of_its_rows(sqlite_store):
    older = create_campaign(channel="sms", name="Creata prima", sender="CentroMed", body="Ciao",
                            now=NOW - timedelta(days=10))  # fmt: skip
    newer = create_campaign(channel="sms", name="Creata dopo", sender="CentroMed", body="Ciao",
                            now=NOW - timedelta(days=5))  # fmt: skip
    # The older one was sent yesterday: its sending day would put the rows out of order.
    Campaign.update(
        state="sent", first_sent_at=NOW - timedelta(days=1), last_sent_at=NOW - timedelta(days=1)
    ).where(Campaign.id == older.id).execute()
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        table = summary.query_one("#campaigns", DataTable)
        assert str(table.columns["created"].label).strip() == "Created"
        assert [int(key.value) for key in table.rows] == [newer.id, older.id]  # newest first
        shown = [str(table.get_cell(str(c.id), "created")).strip() for c in (newer, older)]
        assert shown == [local_day(summary.figures[c.id].created_at) for c in (newer, older)]
        assert shown[1] != local_day(summary.figures[older.id].last_sent_at)
        created = [summary.figures[int(key.value)].created_at for key in table.rows]
        assert created == sorted(created, reverse=True)
