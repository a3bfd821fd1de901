"""Reading the files admins really have: CSV or TSV text, Excel (.xlsx) and LibreOffice (.ods) workbooks.

The kind is told by the content, not the name: a ZIP holding `xl/workbook.xml` is an Excel workbook, a
ZIP whose `mimetype` says so is an OpenDocument spreadsheet, anything else is read as CSV text. A sheet
becomes the same `CsvTable` a CSV does, so every rule of an import holds for both: limits, whole-file
refusals, row numbers as the spreadsheet shows them, duplicates, consent.

Workbooks are read by calamine (Rust, `python-calamine`), the engine behind pandas'
`read_excel(engine="calamine")`: it reads the value a formula had when the file was saved and never runs
a macro. Its rows are taken as they come, without pandas' DataFrame: the same cells, and 100,000 rows
read in about half the time, import of pandas included (bench/sheets.py; openpyxl is 10 times slower
still). It is imported where a workbook is read: the worker and the command line's start never load it.
"""

from __future__ import annotations

import csv
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from store.csvfile import CsvTable, read_csv_table, refuse_unless_a_file, table_of
from store.errors import ImportRefused
from store.limits import shown as shown_value
from store.report import ImportReport

MAX_SHEET_BYTES = 50 * 1024 * 1024  # a 1,000,000-row workbook of contacts is far smaller
# What a workbook may unpack to: its XML is some 10 to 20 times its ZIP, more would be a ZIP bomb.
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
# What calamine may be asked to build, checked in the XML before it reads a sheet: it lays a sheet out
# as rows x columns from A1 to the furthest cell, and copies a shared string into every cell using it.
MAX_SHEET_AREA = 20_000_000  # cells: 100,000 rows of 200 columns
MAX_SHARED_TEXT = 512 * 1024 * 1024  # bytes: the longest shared string times the cells that share strings
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: an encrypted workbook or an old .xls
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_WHOLE_FLOAT_MAX = 1e16  # past this a float's integer digits are no longer what was typed


def read_table(path: str | Path, *, max_rows: int | None, what: str, sheet: str | None = None) -> CsvTable:
    """A CSV, TSV, .xlsx or .ods file as a table (the first sheet unless `sheet` names one), or
    ImportRefused with one line."""
    shown = str(path)
    kind = file_kind(path)
    if kind == "text":
        if sheet is not None:
            raise ImportRefused(
                f"{shown} is a CSV file, which has no sheets; a sheet is named only for an .xlsx or .ods"
            )
        return read_csv_table(path, max_rows=max_rows, what=what)
    name, records = read_sheet(path, sheet)
    return table_of(shown, records, max_rows=max_rows, what=what, sheet=name)


def file_kind(path: str | Path) -> str:
    """The file's kind, "xlsx", "ods" or "text", told by its first bytes and its ZIP's table of contents;
    a workbook that cannot be read (encrypted, an old .xls, damaged or too big) is refused here."""
    shown = str(path)
    refuse_unless_a_file(path, shown)
    try:
        with open(path, "rb") as file:
            head = file.read(64 * 1024)
            size = file.seek(0, 2)
            if head.startswith(OLE2_MAGIC) and len(head) >= 0x34:
                head += _ole2_directory(file, head)
    except FileNotFoundError:
        raise ImportRefused(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise ImportRefused(f"{shown} is a folder, not a file") from None
    except OSError as exc:
        raise ImportRefused(f"cannot read {shown}: {exc.strerror}") from None
    if head.startswith(OLE2_MAGIC):
        encrypted = "EncryptedPackage".encode("utf-16-le") in head
        if not encrypted and any(name.encode("utf-16-le") in head for name in ("Workbook", "Book")):
            raise ImportRefused(
                f"{shown} is an old Excel 97-2003 workbook (.xls); save it as .xlsx "
                "(Excel: File > Save As > Excel Workbook) and import that"
            )
        raise _unreadable(shown)
    if not head.startswith(ZIP_MAGICS):
        if Path(shown).suffix.lower() in SHEET_SUFFIXES and b"\x00" in head:
            raise _unreadable(shown)  # binary, named as a workbook: a damaged one, not a CSV
        return "text"
    if size > MAX_SHEET_BYTES:
        raise ImportRefused(
            f"{shown} is {size / 1024 / 1024:,.0f} MB; import a workbook of at most "
            f"{MAX_SHEET_BYTES // 1024 // 1024} MB at once (split it, or save it as CSV)"
        )
    return _zip_kind(path, shown)


def _ole2_directory(file: Any, head: bytes) -> bytes:
    """The first sector of a Compound File's directory, where its streams are named (an old .xls's
    `Workbook`, an encrypted workbook's `EncryptedPackage`)."""
    sector_size = 1 << int.from_bytes(head[0x1E:0x20], "little")
    first = int.from_bytes(head[0x30:0x34], "little")
    if not 7 <= sector_size.bit_length() - 1 <= 16:
        return b""
    file.seek((first + 1) * sector_size)
    return bytes(file.read(sector_size))


def _zip_kind(path: str | Path, shown: str) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise ImportRefused(
                    f"{shown} unpacks to more than {MAX_UNPACKED_BYTES / 2**20:,.0f} MB; "
                    "it is no list of people"
                )
            if "xl/workbook.xml" in names:
                _refuse_what_calamine_cannot_hold(archive, names, shown)
                return "xlsx"
            if "xl/workbook.bin" in names:
                raise ImportRefused(
                    f"{shown} is an Excel binary workbook (.xlsb); save it as .xlsx and import that"
                )
            if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
                manifest = "META-INF/manifest.xml"
                if manifest in names and b"encryption-data" in archive.read(manifest):
                    raise _unreadable(shown)  # LibreOffice's password: a readable ZIP, sheets encrypted
                return "ods"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, OSError, RuntimeError):
        if Path(shown).suffix.lower() in SHEET_SUFFIXES:
            raise _unreadable(shown) from None  # a truncated or damaged workbook
        return "text"  # a broken ZIP named as no workbook: the CSV path says it is binary
    raise ImportRefused(f"{shown} is a ZIP archive, neither a spreadsheet (.xlsx, .ods) nor a CSV file")


_DIMENSION = re.compile(rb'<dimension\b[^>]*?\bref="[A-Z]{0,3}[0-9]{0,7}:?([A-Z]{1,3})([0-9]{1,7})"')
_REFS_BY_WIDTH = {width: re.compile(rb' r="([A-Z]{%d})[0-9]' % width) for width in (1, 2, 3)}
_ROWS_BY_WIDTH = {width: re.compile(rb' r="[A-Z]{1,3}([0-9]{%d})"' % width) for width in range(7, 0, -1)}
_SHARED_ITEM = re.compile(rb"<si>|</si>")
_OVERLAP = 256  # bytes carried from one chunk to the next: a tag cut in two is found whole


def _chunks(archive: zipfile.ZipFile, member: str) -> Any:
    """A member's bytes in chunks of a megabyte, each with the offset it starts at and where the part
    that is its own ends: the last `_OVERLAP` bytes come again, whole, at the start of the next one."""
    with archive.open(member) as stream:
        carried, base = b"", 0
        while True:
            chunk = stream.read(1024 * 1024)
            buffer = carried + chunk
            own = len(buffer) if not chunk else len(buffer) - _OVERLAP
            yield base, buffer, own
            if not chunk:
                return
            carried = buffer[max(own, 0) :]
            base += len(buffer) - len(carried)


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _sheet_reach(archive: zipfile.ZipFile, member: str) -> tuple[int, int, int]:
    """(row, column) of the furthest cell a sheet names and how many of its cells share strings, in one
    pass at C speed: of the references with the most column letters, the greatest (of equal width, the
    greatest in text is the greatest); the same for the row's digits. A list of people has one letter and
    at most six digits: a few scans a chunk."""
    row = column = shared = 0
    for _base, buffer, own in _chunks(archive, member):
        part = buffer[: own + 64]  # every reference that starts in this chunk's own part, whole
        shared += buffer.count(b't="s"', 0, own + 4)
        for found in _DIMENSION.finditer(part):
            row = max(row, int(found.group(2)))
            column = max(column, _column_number(found.group(1)))
        letters = next((refs for w in (3, 2, 1) if (refs := _REFS_BY_WIDTH[w].findall(part))), [])
        if letters:
            column = max(column, _column_number(max(letters)))
        digits = next((refs for w in range(7, 0, -1) if (refs := _ROWS_BY_WIDTH[w].findall(part))), [])
        if digits:
            row = max(row, int(max(digits)))
    return row, column, shared


def _refuse_what_calamine_cannot_hold(archive: zipfile.ZipFile, names: set[str], shown: str) -> None:
    """A few kilobytes of XML can name a cell at XFD1048576, or share one 100 MB string among thousands of
    cells: calamine would then try to build gigabytes and take the process with it. Measured in the XML
    first, such a file is refused in one line."""
    shared_cells = 0
    for member in (n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")):
        row, column, shared = _sheet_reach(archive, member)
        if row * column > MAX_SHEET_AREA:
            raise ImportRefused(
                f"{shown} has a sheet reaching row {row:,} and column {column:,} ({row * column:,} cells); "
                "a list of people fits in far fewer: delete the empty rows and columns at its end, or save "
                "it as CSV"
            )
        shared_cells += shared
    if "xl/sharedStrings.xml" in names and shared_cells:
        longest, opened = 0, None
        for base, buffer, own in _chunks(archive, "xl/sharedStrings.xml"):
            for match in _SHARED_ITEM.finditer(buffer):
                if match.start() >= own:
                    break  # found again, whole, at the start of the next chunk
                if match.group() == b"<si>":
                    opened = base + match.start()
                elif opened is not None:
                    longest, opened = max(longest, base + match.start() - opened), None
        if longest * shared_cells > MAX_SHARED_TEXT:
            raise ImportRefused(
                f"{shown} shares a text of {longest:,} bytes among {shared_cells:,} cells: reading it would "
                "take gigabytes; save it as CSV"
            )


def _unreadable(shown: str) -> ImportRefused:
    return ImportRefused(
        f"{shown} is password-protected or not a readable spreadsheet; open it, save it without a "
        "password as .xlsx, .ods or CSV, and import that"
    )


def read_sheet(path: str | Path, sheet: str | None) -> tuple[str, list[list[str]]]:
    """The name of the sheet read and its rows as text, from A1 (row i of the list is row i + 1)."""
    name, grid = _sheet_cells(path, sheet)
    limit = csv.field_size_limit()
    records: list[list[str]] = []
    for row in grid:
        cells = [v if type(v) is str else as_text(v) for v in row]
        if cells and max(map(len, cells)) > limit:  # the longest a CSV cell may be: neither holds more
            _refuse_long_cell(str(path), len(records) + 1, cells, limit)
        records.append(cells)
    return name, records


def _refuse_long_cell(shown: str, number: int, cells: list[str], limit: int) -> None:
    column, cell = next((i, c) for i, c in enumerate(cells, start=1) if len(c) > limit)
    raise ImportRefused(
        f"{shown} has a cell of {len(cell):,} characters (row {number}, column {column}); at most {limit:,}"
    )


def _sheet_cells(path: str | Path, sheet: str | None) -> tuple[str, list[list[Any]]]:
    """The sheet's name and its cells as the calamine engine gives them, from A1 (`skip_empty_area`
    would drop the blank rows above the header, and with them the row numbers the sheet shows)."""
    from python_calamine import CalamineError, SheetTypeEnum, SheetVisibleEnum, load_workbook

    shown = str(path)
    try:
        with load_workbook(str(path)) as book:
            sheets = [s for s in book.sheets_metadata if s.typ == SheetTypeEnum.WorkSheet]
            if not sheets:
                raise ImportRefused(f"{shown} has no sheet")
            name = _chosen_sheet(shown, sheets, sheet, SheetVisibleEnum.Visible)
            grid: list[list[Any]] = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except ImportRefused:
        raise
    except (CalamineError, ValueError, KeyError, OSError, zipfile.BadZipFile):
        raise _unreadable(shown) from None
    return name, grid


def _chosen_sheet(shown: str, sheets: list[Any], wanted: str | None, visible: Any) -> str:
    names: list[str] = [s.name for s in sheets]
    if wanted is None:  # the first one the user sees: a hidden first sheet is nobody's list
        return next((s.name for s in sheets if s.visible == visible), names[0])
    if wanted in names:
        return wanted
    folded = {n.strip().casefold(): n for n in names}  # Excel's own names ignore case
    if wanted.strip().casefold() in folded:
        return folded[wanted.strip().casefold()]
    listed = ", ".join(repr(shown_value(n)) for n in names)
    raise ImportRefused(f"{shown} has no sheet {shown_value(wanted)!r} (its sheets: {listed})")


class NumberCell(str):
    """A cell's text that the sheet held as a number or as TRUE/FALSE: an id column reads it with care
    (a number shows no leading zeros, and a long one may be rounded)."""

    __slots__ = ()


def as_text(value: Any) -> str:
    """A cell as the text a person typed (`text_of`); a number's or a boolean's marked as a NumberCell."""
    text = text_of(value)
    return NumberCell(text) if isinstance(value, (bool, int, float)) and text else text


def text_of(value: Any) -> str:
    """A cell as the text a person typed: whole numbers without `.0` (a phone number stored as a
    number), dates and times in ISO 8601 (a date alone when it has no time of day), TRUE or FALSE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN: an empty cell or an error value
            return ""
        if value.is_integer() and abs(value) < _WHOLE_FLOAT_MAX:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value != value:  # pandas' NaT
            return ""
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    text = str(value)
    return "" if text in ("nan", "NaT") else text


def sheet_note(report: ImportReport, table: CsvTable) -> ImportReport:
    """The report, naming the sheet read first among its notes when the file was a workbook."""
    if table.sheet is not None:
        report.notes.insert(0, f"read the sheet {shown_value(table.sheet)!r}")
    return report
