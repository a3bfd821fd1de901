from textual.widgets import DataTable, Input, Static

from tests.tui.conftest import wait_until
from tui.screens.summary import SummaryScreen


def names_shown(app) -> list[str]:
    """The full names of the campaigns in the table's rows, top to bottom."""
    table = app.screen.query_one("#campaigns", DataTable)
    return [app.screen.figures[int(key.value)].name for key in table.rows]


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


async def test_summary_shows_the_period_and_moves_through_time(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = demo_app.screen
        assert isinstance(screen, SummaryScreen)
        await wait_until(pilot, lambda: screen.loaded_once)
        recent = names_shown(demo_app)
        assert "Check-up cardiologico d'autunno" in recent
        assert len(recent) >= 8
        assert "(last 30 days)" in text_of(demo_app, "#title")
        assert f"{len(recent)} campaigns" in text_of(demo_app, "#title")

        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: names_shown(demo_app) != recent)
        earlier = names_shown(demo_app)
        assert earlier == ["Check-up estate"]
        assert "last 30 days" not in text_of(demo_app, "#title")

        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: names_shown(demo_app) == recent)


async def test_the_highlighted_campaign_is_described_below_the_table(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        table = demo_app.screen.query_one("#campaigns", DataTable)
        completed_row = next(i for i in range(table.row_count) if "completed" in str(table.get_row_at(i)[3]))
        table.move_cursor(row=completed_row)
        await pilot.pause()
        line = text_of(demo_app, "#selected")
        assert "completed" in line and "recipients" in line and "reservations by" in line


async def test_a_typed_period_replaces_the_current_one(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        summary = demo_app.screen
        await pilot.press("r")
        await wait_until(pilot, lambda: demo_app.screen is not summary)
        start, end = demo_app.screen.query(Input)
        start.value, end.value = "2026-09-15", "2026-10-15"
        start.focus()
        await pilot.press("enter")  # Enter applies from either field
        await wait_until(pilot, lambda: demo_app.screen is summary)
        await wait_until(pilot, lambda: names_shown(demo_app) == ["Check-up estate"])
        assert "15 Sep – 15 Oct 2026" in text_of(demo_app, "#title")


async def test_a_bad_period_is_explained_in_the_dialog(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        await pilot.press("r")
        await wait_until(pilot, lambda: demo_app.screen.query(Input))
        end = demo_app.screen.query_one("#end", Input)
        end.value = "last week"
        end.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "is not a date like 2026-11-27" in text_of(demo_app, "#error")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, SummaryScreen))


async def test_an_empty_period_says_what_to_do(empty_app):
    async with empty_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: empty_app.screen.loaded_once)
        empty = text_of(empty_app, "#empty")
        assert "No campaigns were created or sent" in empty
        assert "campaigns create" in empty
        assert not empty_app.screen.query_one("#campaigns", DataTable).display


async def test_every_column_fits_an_80_column_terminal(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        table = demo_app.screen.query_one("#campaigns", DataTable)
        assert table.virtual_size.width <= table.size.width
        assert table.max_scroll_x == 0
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert table.virtual_size.width <= table.size.width
        assert "Check-up cardiologico d'autunno" in names_shown(demo_app)


async def test_ctrl_q_quits(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert demo_app.return_code == 0


async def test_arrow_keys_work_as_soon_as_the_summary_shows(demo_app):
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: demo_app.screen.loaded_once)
        table = demo_app.screen.query_one("#campaigns", DataTable)
        assert demo_app.focused is table
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        second = names_shown(demo_app)[2]
        assert second in text_of(demo_app, "#selected")


def test_one_reservation_by_one_patient_reads_in_the_singular():
    from store.figures import CampaignFigures, Conversion, MessageCounts
    from tui.screens.summary_rows import describe

    figures = CampaignFigures(
        id=3, name="Check-up", channel="sms", state="sent", counts=MessageCounts(recipients=1, sent=1),
        opens=None, unsubscribed=0, conversion=Conversion(patients=1, reservations=1), created_at=None,
        queued_at=None, scheduled_at=None, first_sent_at=None, last_sent_at=None, completed_at=None,
        waiting_reason=None, final=True,
    )  # fmt: skip
    assert "1 reservation by 1 patient" in describe(figures)
