"""Names, addresses, reasons and what an admin types are shown as written: never markup, a link or an action,
never a control sequence, never 100,000 characters laid out on every refresh (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import DataTable, Input

from store.campaigns import create_campaign
from store.config import load_config
from store.models import Campaign, Message
from store.recipients import add_from_csv
from store.report import ImportReport
from tests.conftest import NOW
from tests.tui.conftest import shows_question, wait_until
from tui.app import make_app
from tui.dialogs.report import RefusedScreen, ReportScreen
from tui.screens.detail import DetailScreen
from tui.screens.editor import EditorScreen
from tui.screens.recipients import RecipientsScreen
from tui.textout import SHOWN_CHARACTERS, escape, plain

LINK = "[link=https://evil.example]Click[/link]"
HOSTILE = [LINK, "[/]", "[bold red]X", "[@click=app.quit]Quit[/]", "[Red]y", "C:\\", "a\\[b]"]


def shown(widget: Widget) -> str:
    return str(widget.render())


def linked(widget: Widget) -> list[Any]:
    """The links and click actions in what the widget sends to the terminal."""
    strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return [
        segment.style.link or segment.style.meta
        for strip in strips
        for segment in strip
        if segment.style is not None and (segment.style.link or "@click" in segment.style.meta)
    ]


def highlight(table: DataTable[Any], campaign_id: int) -> int:
    row = [key.value for key in table.rows].index(str(campaign_id))
    table.move_cursor(row=row)
    return row


def row_text(table: DataTable[Any], row: int) -> list[str]:
    cells = table.get_row_at(row)
    assert all(isinstance(cell, Text) and not cell.spans for cell in cells)  # a str cell is Rich markup
    return [cell.plain for cell in cells]


@pytest.mark.parametrize("value", [*HOSTILE, "Visita [Roma]", "plain", ""])
def test_escaped_markup_reads_back_as_written(value):
    from textual.content import Content

    content = Content.from_markup(f"[b]{escape(value)}[/b] · [b]{escape(value)}[/b]")
    assert content.plain.replace("\u200b", "") == f"{value} · {value}"
    assert {str(span.style) for span in content.spans} <= {"b"}


def test_plain_cuts_and_shows_control_characters():
    assert plain("x" * 100_000) == "x" * (SHOWN_CHARACTERS - 1) + "…"
    assert (
        plain("\x1b]8;;https://evil.example\x1b\\Click\x07")
        == "\ufffd]8;;https://evil.example\ufffd\\Click\ufffd"
    )
    assert plain("Anna\nMaria\tRossi") == "Anna Maria Rossi"
    assert plain("one\r\ntwo", lines=True) == "one\ntwo"


@pytest.fixture
def hostile_campaign(sqlite_store, write_csv) -> Campaign:
    """A sent campaign named `[/]`, its recipients named by a registry that meant harm."""
    campaign = create_campaign(channel="email", name="[/]", sender="Centro", body="Ciao", now=NOW)
    rows = "".join(
        f'"{name.replace(chr(34), chr(34) * 2)}",Rossi,p{i}@example.org\n' for i, name in enumerate(HOSTILE)
    )
    report = add_from_csv(campaign.id, write_csv("hostile.csv", "first_name,last_name,email\n" + rows))
    assert report.added == len(HOSTILE)
    Message.update(state="failed", error=f"the provider refused {LINK}").execute()
    Campaign.update(state="sent", last_sent_at=NOW).where(Campaign.id == campaign.id).execute()
    create_campaign(channel="sms", name="[/]", sender="CentroMed", body="Ciao", now=NOW)
    return campaign


async def test_a_campaign_named_markup_and_its_recipients_are_listed_and_opened_as_written(
    sqlite_store, hostile_campaign
):
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        table = summary.query_one("#campaigns", DataTable)
        assert [row_text(table, row)[1].strip() for row in range(table.row_count)] == ["[/]", "[/]"]
        highlight(table, hostile_campaign.id)
        await pilot.pause()
        assert shown(summary.query_one("#selected")).startswith(f"#{hostile_campaign.id} [/] · EMAIL sent")

        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.rows))
        detail = app.screen
        assert shown(detail.query_one("#detail-title")).startswith(f"#{hostile_campaign.id} [/] · EMAIL")
        table = detail.query_one("#recipients", DataTable)
        assert table.row_count == len(HOSTILE)
        names = {row_text(table, row)[1].strip() for row in range(table.row_count)}
        assert names == {f"{name} Rossi"[:15].strip() for name in HOSTILE}
        assert not linked(table)
        seen = set()
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.pause()
            line = shown(detail.query_one("#recipient"))
            name = next(n for n in HOSTILE if f"· {n} Rossi ·" in line)  # the name in full
            assert "the provider refused " + LINK in line
            assert not linked(detail.query_one("#recipient"))
            seen.add(name)
        assert seen == set(HOSTILE)

        await pilot.press("slash", *"[/]", "enter")  # a search typed as markup
        await wait_until(pilot, lambda: "matching “[/]”" in shown(detail.query_one("#table-title")))
        await pilot.press("escape", "escape")
        await wait_until(pilot, lambda: app.screen is summary)

        await pilot.press("slash", *"[/", "enter")  # the name filter too
        await wait_until(pilot, lambda: "named “[/”" in shown(summary.query_one("#title")))

        await pilot.press("escape")  # the filter cleared: the draft named `[/]` too
        table = summary.query_one("#campaigns", DataTable)
        await wait_until(pilot, lambda: table.row_count == 2)
        highlight(table, Campaign.get(Campaign.state == "draft").id)
        await pilot.press("d")
        await wait_until(pilot, lambda: shows_question(app))
        assert shown(app.screen.query_one("#question")).startswith(
            "Delete the draft [/] and its 0 recipients?"
        )
        await pilot.press("n")


async def test_an_import_report_shows_refused_values_as_written(empty_app):
    report = ImportReport()
    for row, value in enumerate(HOSTILE, start=2):
        report.refuse_row(row, value, f"{value} is not an email address")
    async with empty_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: empty_app.screen.loaded_once)
        empty_app.push_screen(ReportScreen("[/]list.csv", report))
        await wait_until(pilot, lambda: isinstance(empty_app.screen, ReportScreen))
        screen = empty_app.screen
        await pilot.pause()
        assert shown(screen.query_one("Static")) == "[/]list.csv: 0 added, 7 invalid"
        table = screen.query_one(DataTable)
        rows = [row_text(table, row) for row in range(table.row_count)]
        assert rows == [
            [str(row), value, f"{value} is not an email address"] for row, value in enumerate(HOSTILE, 2)
        ]
        assert not linked(table)
        await pilot.press("escape")


async def test_a_refused_csv_quoting_its_header_says_so_as_written(empty_app, write_csv):
    draft = create_campaign(channel="email", name="[b]Check-up", sender="Centro", body="Ciao")
    write_csv("[red]list.csv", f"first_name,{LINK}\nAnna,x\n")
    async with empty_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: empty_app.screen.loaded_once)
        empty_app.push_screen(RecipientsScreen(draft.id))
        await wait_until(pilot, lambda: isinstance(empty_app.screen, RecipientsScreen))
        screen = empty_app.screen
        await wait_until(pilot, lambda: bool(screen.campaign))
        await wait_until(pilot, lambda: "[b]Check-up" in shown(screen.query_one("#title")))
        await pilot.press("f")
        await wait_until(pilot, lambda: bool(empty_app.screen.query("#path")))
        empty_app.screen.query_one("#path", Input).value = "[red]list.csv"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Nothing added" in shown(screen.query_one("#outcome")))
        outcome = shown(screen.query_one("#outcome"))
        assert "[red]list.csv has no email column" in outcome
        assert "(found: first_name, [link=https://evil.example" in outcome
        assert not linked(screen.query_one("#outcome"))
        await wait_until(pilot, lambda: isinstance(empty_app.screen, RefusedScreen))  # the box says it too
        box = empty_app.screen
        assert shown(box.query_one("Static")) == "[red]list.csv: nothing added"
        assert "(found: first_name, [link=https://evil.example" in shown(box.query_one("#reason"))
        assert not linked(box.query_one("#reason"))


async def test_a_100000_character_name_is_cut_where_it_shows(sqlite_store):
    campaign = create_campaign(channel="email", name="Richiamo", sender="Centro", body="Ciao", now=NOW)
    huge = "N" * 100_000
    Message.create(campaign=campaign, address="a@example.org", first_name=huge, state="failed", error=huge)
    Campaign.update(name=huge, state="sent", last_sent_at=NOW).where(Campaign.id == campaign.id).execute()
    app = make_app(load_config(database_url=sqlite_store, env={}), today=NOW.date(), send=False)
    async with app.run_test(size=(80, 24)) as pilot:
        summary = app.screen
        await wait_until(pilot, lambda: summary.loaded_once)
        assert len(shown(summary.query_one("#selected"))) < 2 * SHOWN_CHARACTERS
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen) and bool(app.screen.rows))
        await wait_until(pilot, lambda: bool(shown(app.screen.query_one("#recipient"))))
        for selector in ("#detail-title", "#recipient"):
            assert len(shown(app.screen.query_one(selector))) < 4 * SHOWN_CHARACTERS
        cells = app.screen.query_one("#recipients", DataTable).get_row_at(0)
        assert all(len(cell.plain) <= SHOWN_CHARACTERS + 1 for cell in cells)


async def test_the_editor_previews_for_a_recipient_named_as_markup(empty_app, write_csv):
    draft = create_campaign(
        channel="email", name="Check-up", sender="Centro", subject="[b]Hi", body="Ciao {{ first_name }} \\"
    )
    add_from_csv(draft.id, write_csv("one.csv", f"first_name,last_name,email\n{LINK},[/],a@example.org\n"))
    async with empty_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: empty_app.screen.loaded_once)
        empty_app.push_screen(EditorScreen(draft.id))
        await wait_until(pilot, lambda: isinstance(empty_app.screen, EditorScreen))
        editor = empty_app.screen
        await wait_until(
            pilot, lambda: not editor.loading_draft and bool(shown(editor.query_one("#counter")))
        )
        assert shown(editor.query_one("#counter")).startswith(f"For {LINK} [/]: ")
        assert shown(editor.query_one("#preview")).replace("\u200b", "") == f"[b]Hi\nCiao {LINK} \\"
        assert not linked(editor.query_one("#counter")) and not linked(editor.query_one("#preview"))
