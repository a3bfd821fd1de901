"""The import report saves the refused rows as CSV with `s` and as an .xlsx workbook with `x`."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from textual.widgets import TextArea

from store.campaigns import create_campaign
from tests.modes import mode_of, usual_umask
from tests.tui.conftest import wait_until
from tests.tui.test_recipients_screen import open_recipients
from tui.dialogs.imports import PasteDialog
from tui.dialogs.report import ReportScreen


async def test_x_saves_the_refused_rows_as_a_workbook_of_text(empty_app, tmp_path):
    draft = create_campaign(channel="email", name="Check-up", sender="Centro Medico", body="Ciao")
    with usual_umask():
        async with empty_app.run_test(size=(80, 24)) as pilot:
            await open_recipients(empty_app, pilot, draft)
            await pilot.press("p")
            await wait_until(pilot, lambda: isinstance(empty_app.screen, PasteDialog))
            empty_app.screen.query_one(TextArea).text = "=1+1; ok@example.org; +39 not-an-email"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: isinstance(empty_app.screen, ReportScreen))
            await pilot.press("x")
            await wait_until(pilot, lambda: any(Path(tmp_path).glob("refused-rows-*.xlsx")))
            assert not any(Path(tmp_path).glob("refused-rows-*.csv"))
    saved = next(Path(tmp_path).glob("refused-rows-*.xlsx"))
    assert mode_of(saved) == 0o600
    sheet = openpyxl.load_workbook(saved).active
    assert sheet.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["row", "value", "reason"]
    assert [row[:2] for row in rows[1:]] == [[1, "=1+1"], [3, "+39 not-an-email"]]
    assert all(row[1].data_type == "s" for row in sheet.iter_rows(min_row=2))
