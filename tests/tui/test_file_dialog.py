"""The file dialog offers workbooks as well as CSV, and the report names the sheet it read."""

from textual.widgets import Input, Static

from tests.store.test_sheets import xlsx
from tests.tui.conftest import wait_until
from tests.tui.test_recipients_screen import close_report, draft, open_recipients, recipients_of
from tui.dialogs.imports import CsvDialog

__all__ = ["draft"]  # the fixture, used by name


async def test_a_workbook_is_listed_completed_and_its_sheet_named(demo_app, draft, tmp_path):
    (tmp_path / "lista.pdf").write_bytes(b"%PDF-1.4")
    xlsx(tmp_path / "lista.xlsx", ["Nome", "E-mail"], ["Anna", "anna.blu@example.org"], title="Pazienti")
    (tmp_path / "altri.tsv").write_text("email\nb@example.org\n")
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await open_recipients(demo_app, pilot, draft)
        await pilot.press("f")
        await wait_until(pilot, lambda: isinstance(demo_app.screen, CsvDialog))
        hints = " ".join(str(s.render()) for s in demo_app.screen.query(Static))
        assert "Import a CSV or spreadsheet file" in hints
        assert "altri.tsv, lista.xlsx" in hints and "lista.pdf" not in hints
        await pilot.press(*"lista")
        await pilot.pause(0.2)
        await pilot.press("right")  # the workbook, not the PDF that sorts before it
        assert demo_app.screen.query_one(Input).value == "lista.xlsx"
        await pilot.press("enter")
        report = await close_report(demo_app, pilot, screen)
        assert (report.report.added, report.report.notes) == (1, ["read the sheet 'Pazienti'"])
        assert "lista.xlsx: 1 added; read the sheet 'Pazienti'" in str(
            screen.query_one("#outcome", Static).render()
        )
        assert recipients_of(draft) == 1
