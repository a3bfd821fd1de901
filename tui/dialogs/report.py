"""The import report after every add: the counts, and the refused rows with their reasons."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from store.clock import local, utcnow
from store.private_files import open_private
from store.report import ImportReport
from store.sheet_writer import save_workbook
from tui.textout import escape, plain


def save_refused_rows(report: ImportReport, folder: Path, as_workbook: bool = False) -> Path:
    """Writes the refused rows (row, value, reason) as CSV, or as an .xlsx workbook; returns its path."""
    stem = f"refused-rows-{local(utcnow()):%Y%m%d-%H%M%S}"  # the center's wall clock
    refused = sorted(report.errors, key=lambda e: e.row)
    if as_workbook:  # a text cell shows the value as it was, formulas and all, and never runs it
        path = folder / f"{stem}.xlsx"
        rows = ((error.row, str(error.value), error.reason) for error in refused)
        save_workbook(path, ["row", "value", "reason"], rows, sheet="Refused rows", text_columns=(1, 2))
        return path
    path = folder / f"{stem}.csv"
    # `;` and a BOM: what Excel set to Italian (or most of Europe) opens as columns, accents intact.
    with open_private(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["row", "value", "reason"])
        for error in refused:
            value = str(error.value)
            if value[:1] in ("=", "+", "-", "@"):
                value = "'" + value  # a spreadsheet must not run it as a formula
            writer.writerow([error.row, value, error.reason])
    return path


class ReportScreen(ModalScreen[None]):
    """What an import added and what it refused; `s` saves the refused rows as CSV, `x` as a workbook."""

    DEFAULT_CSS = """
    ReportScreen { align: center middle; }
    ReportScreen > Vertical {
        width: 100%; height: auto; max-height: 100%; padding: 0 1; border: round $accent; background: $panel;
    }
    ReportScreen DataTable { height: auto; max-height: 14; }
    ReportScreen .hint { color: $text-muted; }
    """
    BINDINGS = [
        # One description for the two keys: the help lists them on one line, "s x".
        Binding("s", "save", "Save refused rows: s as CSV, x as .xlsx", key_display="s x"),
        Binding("x", "save_workbook", "Save refused rows: s as CSV, x as .xlsx"),
        Binding("escape,enter,q", "close", "Close", priority=True),
    ]

    def __init__(self, what: str, report: ImportReport) -> None:
        super().__init__()
        self.what = what
        self.report = report

    def compose(self) -> ComposeResult:
        report = self.report
        with Vertical():
            yield Static(f"[b]{escape(self.what)}[/b]: {escape(report.summary())}")
            if report.errors:
                errors = report.shown_errors()
                shown = len(errors)
                more = f" (the first {shown:,}; s saves them all)" if report.invalid > shown else ""
                # Text cells: a str cell is read as Rich markup, and these quote the file as it was
                table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
                if report.of_contacts:  # a contact's place in a list says nothing: its name and id do
                    yield Static(f"Not added{more}:")
                    table.add_columns("Contact", "Why")
                else:
                    yield Static(f"Refused rows{more}:")
                    table.add_columns("Row", "Value", "Reason")
                for error in errors:
                    cells = [Text(plain(str(error.value)[:40])), Text(plain(error.reason))]
                    table.add_row(*(cells if report.of_contacts else [Text(str(error.row)), *cells]))
                yield table
                yield Static("s saves them as CSV, x as .xlsx · Enter or Esc closes", classes="hint")
            else:
                yield Static("Nothing was refused. Enter or Esc closes.", classes="hint")

    def action_save(self, as_workbook: bool = False) -> None:
        if not self.report.errors:
            return
        try:
            path = save_refused_rows(self.report, Path.cwd(), as_workbook)
        except OSError as exc:
            self.notify(f"Cannot save: {exc.strerror}", severity="error", markup=False)
            return
        self.notify(f"Saved {plain(path)}", title="Refused rows", markup=False)  # a folder may have brackets

    def action_save_workbook(self) -> None:
        self.action_save(as_workbook=True)

    def action_close(self) -> None:
        self.dismiss(None)


class RefusedScreen(ModalScreen[None]):
    """An add refused as a whole (a missing column, over the row limit, an unreadable file): nothing was
    added, and why, in a box like the report's, so that it is read before the next key leaves the screen."""

    DEFAULT_CSS = """
    RefusedScreen { align: center middle; }
    RefusedScreen > Vertical {
        width: 100%; height: auto; max-height: 100%; padding: 0 1; border: round $error; background: $panel;
    }
    RefusedScreen #reason { margin: 1 0; }
    RefusedScreen .hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape,enter,q", "close", "Close", priority=True)]

    def __init__(self, what: str, reason: str) -> None:
        super().__init__()
        self.what = what
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{escape(self.what)}[/b]: nothing added")
            yield Static(escape(self.reason, lines=True), id="reason")  # it may quote the file
            yield Static("Enter or Esc closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
