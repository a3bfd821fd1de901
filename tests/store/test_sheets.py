"""Workbooks in: each spreadsheet reality made here by the spreadsheet libraries, no binary fixture."""

import subprocess
import sys
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P
from openpyxl import Workbook

from store import sheets
from store.campaigns import create_campaign
from store.contacts import import_contacts
from store.errors import ImportRefused
from store.models import Contact, Message, Reservation
from store.recipients import add_from_csv
from store.reservations import import_reservations
from store.sheets import OLE2_MAGIC, read_table

ROOT = Path(__file__).resolve().parents[2]


def xlsx(path: Path, *rows: list, title: str = "Foglio1", more: dict | None = None, edit=None) -> Path:
    """A workbook of these rows (None leaves a cell empty, [] a row); `more` adds sheets by name."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for name, extra in (more or {}).items():
        other = book.create_sheet(name)
        for row in extra:
            other.append(row)
    if edit is not None:
        edit(book)
    book.save(path)
    return path


def ods(path: Path, rows: list[list], name: str = "Foglio1") -> Path:
    """An OpenDocument spreadsheet written cell by cell with odfpy (typed cells, formulas)."""
    doc = OpenDocumentSpreadsheet()
    table = Table(name=name)
    for cells in rows:
        row = TableRow()
        for cell in cells:
            row.addElement(cell if cell is not None else TableCell())
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def text_cell(text: str) -> TableCell:
    cell = TableCell(valuetype="string")
    cell.addElement(P(text=text))
    return cell


def compound_file(*streams: str) -> bytes:
    """An OLE2 Compound File's header and first directory sector naming these streams: what an
    encrypted workbook (`EncryptedPackage`) or an old .xls (`Workbook`) starts with."""
    header = bytearray(512)
    header[:8] = OLE2_MAGIC
    header[0x1A:0x1C] = (3).to_bytes(2, "little")  # major version 3: 512-byte sectors
    header[0x1C:0x1E] = b"\xfe\xff"
    header[0x1E:0x20] = (9).to_bytes(2, "little")
    header[0x30:0x34] = (1).to_bytes(4, "little")  # the directory starts at sector 1
    sectors = bytearray(1024)
    for index, name in enumerate(["Root Entry", *streams]):
        encoded = (name + "\0").encode("utf-16-le")
        entry = 512 + index * 128
        sectors[entry : entry + len(encoded)] = encoded
        sectors[entry + 64 : entry + 66] = len(encoded).to_bytes(2, "little")
    return bytes(header + sectors)


def rows_of(path: Path, **kwargs) -> list[tuple[int, list[str]]]:
    return list(read_table(path, max_rows=kwargs.pop("max_rows", None), what="rows", **kwargs).numbered())


def test_phone_numbers_stored_as_numbers_are_their_digits(tmp_path):
    path = xlsx(
        tmp_path / "p.xlsx",
        ["first_name", "phone"],
        ["int", 3331234567],
        ["float", 3331234567.0],
        ["exponent", 3.33123e09],
        ["text", "+393331234567"],
        ["fraction", 0.5],
    )
    assert [row for _, row in rows_of(path)] == [
        ["int", "3331234567"],
        ["float", "3331234567"],
        ["exponent", "3331230000"],
        ["text", "+393331234567"],
        ["fraction", "0.5"],
    ]
    number = TableCell(valuetype="float", value="3331234567")
    number.addElement(P(text="3.33123E+09"))  # what LibreOffice shows; the value is what counts
    same = ods(tmp_path / "p.ods", [[text_cell("phone")], [number]])
    assert rows_of(same) == [(2, ["3331234567"])]


def test_dates_and_times_become_iso_text(tmp_path):
    path = xlsx(
        tmp_path / "d.xlsx",
        ["created_at"],
        [date(2026, 11, 30)],
        [datetime(2026, 11, 30, 9, 15)],
        [time(9, 15)],
        [True],
    )
    assert [row[0] for _, row in rows_of(path)] == ["2026-11-30", "2026-11-30T09:15:00", "09:15:00", "TRUE"]
    day = TableCell(valuetype="date", datevalue="2026-11-30")
    moment = TableCell(valuetype="date", datevalue="2026-11-30T09:15:00")
    assert [
        row[0] for _, row in rows_of(ods(tmp_path / "d.ods", [[text_cell("created_at")], [day], [moment]]))
    ] == [
        "2026-11-30",
        "2026-11-30T09:15:00",
    ]


def test_blank_rows_are_skipped_and_rows_keep_the_numbers_the_sheet_shows(tmp_path):
    path = xlsx(tmp_path / "b.xlsx", [], [], ["email"], ["a@example.org"], [], ["b@example.org"], [], [])
    table = read_table(path, max_rows=None, what="rows")
    assert table.header == ["email"]
    assert list(table.numbered()) == [(4, ["a@example.org"]), (6, ["b@example.org"])]

    def styled_empty_cells(book):  # formatted but empty: Excel keeps such rows in the file
        book.active["A40"].number_format = "@"
        book.active.merge_cells("B30:C30")

    trailing = xlsx(tmp_path / "t.xlsx", ["email"], ["a@example.org"], edit=styled_empty_cells)
    assert rows_of(trailing) == [(2, ["a@example.org"])]


def test_a_merged_header_cell_does_not_shift_the_columns(tmp_path):
    path = xlsx(
        tmp_path / "m.xlsx",
        ["first_name", "email", None, "phone"],
        ["Anna", "anna@example.org", "note", "3331234567"],
        edit=lambda book: book.active.merge_cells("B1:C1"),
    )
    table = read_table(path, max_rows=None, what="rows")
    assert table.header == ["first_name", "email", "", "phone"]
    assert table.rows[0][table.index("phone")] == "3331234567"  # type: ignore[index]


def test_a_formula_cell_gives_the_value_it_had_when_saved(tmp_path):
    saved = xlsx(tmp_path / "raw.xlsx", ["phone", "doubled"], [3, "=A2*2"])
    path = tmp_path / "f.xlsx"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":  # the value Excel caches when it saves
                assert b"<f>A2*2</f><v />" in data
                data = data.replace(b"<f>A2*2</f><v />", b"<f>A2*2</f><v>6</v>")
            target.writestr(item, data)
    assert rows_of(path) == [(2, ["3", "6"])]
    formula = TableCell(valuetype="float", value="6", formula="of:=[.A2]*2")
    formula.addElement(P(text="6"))
    three = TableCell(valuetype="float", value="3")
    assert rows_of(
        ods(tmp_path / "f.ods", [[text_cell("phone"), text_cell("doubled")], [three, formula]])
    ) == [(2, ["3", "6"])]


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        (
            "locked.xlsx",
            compound_file("EncryptionInfo", "EncryptedPackage"),
            "is password-protected or not a",
        ),
        ("old.xls", compound_file("Workbook", "SummaryInformation"), "(.xls); save it as .xlsx"),
        ("noise.xlsx", bytes(range(256)) * 8, "is password-protected or not a readable spreadsheet"),
        ("other.zip", None, "is a ZIP archive, neither a spreadsheet"),
    ],
)
def test_unreadable_workbooks_are_refused_whole_in_one_line(tmp_path, name, content, said):
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "hello")
    else:
        path.write_bytes(content)
    with pytest.raises(ImportRefused, match="^" + str(path).replace("\\", "\\\\")) as refused:
        read_table(path, max_rows=None, what="rows")
    assert said in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("kind", ["xlsx", "ods"])
def test_a_truncated_or_damaged_workbook_is_refused_whole(tmp_path, kind):
    whole = tmp_path / f"whole.{kind}"
    if kind == "xlsx":
        xlsx(whole, ["email"], *[[f"p{i}@example.org"] for i in range(2000)])
    else:
        ods(whole, [[text_cell("email")], *[[text_cell(f"p{i}@example.org")] for i in range(2000)]])
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{kind}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImportRefused, match="is password-protected or not a readable spreadsheet"):
        read_table(cut, max_rows=None, what="rows")


def test_the_kind_is_told_by_the_content_not_the_name(tmp_path):
    workbook = xlsx(tmp_path / "export.csv", ["email"], ["a@example.org"])  # a booking system's misnomer
    assert read_table(workbook, max_rows=None, what="rows").sheet == "Foglio1"
    text = tmp_path / "really.xlsx"
    text.write_text("email\tfirst_name\na@example.org\tAnna\n")
    table = read_table(text, max_rows=None, what="rows")
    assert (table.sheet, table.header, table.rows) == (
        None,
        ["email", "first_name"],
        [["a@example.org", "Anna"]],
    )
    with pytest.raises(ImportRefused, match="is a CSV file, which has no sheets"):
        read_table(text, max_rows=None, what="rows", sheet="Foglio1")


def test_the_first_visible_sheet_unless_one_is_named(tmp_path):
    def hide_first(book):
        book.active.sheet_state = "hidden"

    path = xlsx(
        tmp_path / "s.xlsx",
        ["email"],
        ["hidden@example.org"],
        title="Calcoli",
        more={"Pazienti": [["email"], ["a@example.org"]], "Medici": [["email"], ["m@example.org"]]},
        edit=hide_first,
    )
    assert read_table(path, max_rows=None, what="rows").sheet == "Pazienti"
    assert rows_of(path, sheet="medici") == [(2, ["m@example.org"])]  # Excel's names ignore case
    with pytest.raises(ImportRefused) as refused:
        read_table(path, max_rows=None, what="rows", sheet="Foglio2")
    assert (
        str(refused.value) == f"{path} has no sheet 'Foglio2' (its sheets: 'Calcoli', 'Pazienti', 'Medici')"
    )


def test_limits_hold_as_for_csv(tmp_path, monkeypatch):
    path = xlsx(tmp_path / "l.xlsx", ["email"], *[[f"p{i}@example.org"] for i in range(4)], [], [])
    assert len(read_table(path, max_rows=4, what="rows").rows) == 4
    with pytest.raises(ImportRefused, match=r"l.xlsx has 4 rows; import at most 3 at once$"):
        read_table(path, max_rows=3, what="rows")
    monkeypatch.setattr(sheets.csv, "field_size_limit", lambda: 10)  # a CSV cell's limit
    with pytest.raises(ImportRefused, match=r"has a cell of 14 characters \(row 2, column 1\); at most 10$"):
        read_table(path, max_rows=None, what="rows")
    monkeypatch.setattr(sheets, "MAX_UNPACKED_BYTES", 2000)  # a ZIP bomb's
    with pytest.raises(ImportRefused, match=r"l.xlsx unpacks to more than 0 MB; it is no list of people$"):
        read_table(path, max_rows=None, what="rows")
    monkeypatch.setattr(sheets, "MAX_SHEET_BYTES", 1000)
    with pytest.raises(ImportRefused, match=r"import a workbook of at most 0 MB at once"):
        read_table(path, max_rows=None, what="rows")


def test_a_repeated_column_or_a_missing_header_is_refused_as_in_a_csv(tmp_path):
    with pytest.raises(ImportRefused, match="has the column email twice"):
        read_table(xlsx(tmp_path / "r.xlsx", ["Email", " email "]), max_rows=None, what="rows")
    with pytest.raises(ImportRefused, match="has no header row"):
        read_table(xlsx(tmp_path / "e.xlsx", [], [None]), max_rows=None, what="rows")


def test_recipients_from_a_workbook_keep_every_rule_of_the_csv_import(store, tmp_path):
    import_contacts(
        xlsx(
            tmp_path / "registry.xlsx",
            ["id", "phone", "consent"],
            [1, 3471234567, "no"],
            [2, 3337654321, "yes"],
        )
    )
    draft = create_campaign(channel="sms", name="S", sender="Centro", body="Ciao")
    path = xlsx(
        tmp_path / "lista.xlsx",
        [],
        ["Nome", "Cognome", "Cellulare"],
        ["Anna", "Blu", 3281234567],
        ["Maria", "Rossi", 3471234567.0],  # no consent in the registry
        [],
        ["Luca", "Bianchi", "+39 333 765 4321"],
        ["Ugo", "Neri", "3281234567"],  # Anna's again
        ["Bad", "Row", 12],
        ["N" * 101, "Long", 3281111111],  # a name over the limit of a CSV cell's name
        title="Pazienti",
    )
    report = add_from_csv(draft.id, path)
    assert (report.added, report.opted_out, report.duplicates, report.invalid) == (2, 1, 1, 2)
    assert [e.row for e in report.shown_errors()] == [8, 9]
    assert "longer than 100 characters" in report.shown_errors()[1].reason
    assert report.notes == ["read the sheet 'Pazienti'"]
    assert "read the sheet 'Pazienti'" in report.summary()
    assert sorted(m.address for m in Message.select().where(Message.campaign == draft.id)) == [
        "+393281234567",
        "+393337654321",
    ]


def test_contacts_and_reservations_from_workbooks(store, tmp_path):
    registry = ods(
        tmp_path / "registry.ods",
        [
            [text_cell("id"), text_cell("email"), text_cell("consent")],
            [TableCell(valuetype="float", value="7"), text_cell("a@example.org"), text_cell("yes")],
            [
                TableCell(valuetype="float", value="8"),
                text_cell("b@example.org"),
                TableCell(valuetype="boolean", booleanvalue="true"),
            ],
        ],
        name="Anagrafica",
    )
    report = import_contacts(registry)
    assert (report.added, report.invalid) == (2, 0)
    assert report.notes[0] == "read the sheet 'Anagrafica'"
    assert report.notes[1].startswith("2 ids were numbers in the sheet")  # the registry's ids are numbers
    assert Contact.select().where(Contact.consent == True).count() == 2  # noqa: E712
    bookings = xlsx(
        tmp_path / "bookings.xlsx",
        ["patient_id", "created_at"],
        [7, datetime(2026, 11, 30, 9, 15)],
        [8, date(2026, 11, 30)],
        [7, datetime(2026, 11, 30, 9, 15)],
        title="Prenotazioni",
    )
    report = import_reservations(bookings, sheet="Prenotazioni")
    assert (report.added, report.duplicates, report.invalid) == (2, 1, 0)
    assert sorted(r.created_at for r in Reservation.select()) == [
        datetime(2026, 11, 30),
        datetime(2026, 11, 30, 9, 15),
    ]
    with pytest.raises(ImportRefused, match="has no sheet 'Foglio1'"):
        import_reservations(bookings, sheet="Foglio1")


def test_the_worker_and_the_command_line_start_without_pandas():
    code = (
        "import sys, store.recipients, store.contacts, store.reservations, tui.cli; "
        "print('pandas' in sys.modules)"
    )
    shown = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


def test_a_cell_far_away_is_refused_before_the_reader_builds_the_sheet(tmp_path):
    # A 2 KB file naming XFD1048576: laid out from A1, 17 billion cells (the reader aborted the process).
    path = xlsx(tmp_path / "lontano.xlsx", ["first_name", "email"], ["Maria", "m@example.org"])
    workbook_path = tmp_path / "lontano.xlsx"
    from openpyxl import load_workbook

    book = load_workbook(workbook_path)
    book.active["XFD1048576"] = "x"
    book.save(workbook_path)
    with pytest.raises(ImportRefused, match=r"reaching row 1,048,576 and column 16,384"):
        read_table(path, max_rows=100_000, what="rows")


def shared_strings_workbook(path: Path, strings: list[str], rows: list[list[int]]) -> Path:
    """A minimal .xlsx whose cells are indexes into its shared strings (openpyxl writes inline strings)."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    ml = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    cells = "".join(
        f'<row r="{r}">'
        + "".join(f'<c r="{chr(65 + c)}{r}" t="s"><v>{i}</v></c>' for c, i in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ml}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ml}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ml}.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{package}"><Relationship Id="r1" '
        f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
        '<sheet name="Foglio1" sheetId="1" r:id="r1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{package}">'
        f'<Relationship Id="r1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="r2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{cells}</sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<sst xmlns="{main}">'
        + "".join(f"<si><t>{text}</t></si>" for text in strings)
        + "</sst>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, text in parts.items():
            out.writestr(name, text)
    return path


def test_one_long_text_shared_by_many_cells_is_refused_before_it_is_copied_into_each(tmp_path):
    # One 1 MB string shared by 2,000 cells: 2 GB of copies (a 100 MB one aborted the reader).
    rows = [[0, 1]] + [[2, 3]] * 2_000
    strings = ["first_name", "email", "A" * (1024 * 1024), "m@example.org"]
    path = shared_strings_workbook(tmp_path / "condiviso.xlsx", strings, rows)
    with pytest.raises(ImportRefused, match=r"shares a text of [0-9,]+ bytes among 4,002 cells"):
        read_table(path, max_rows=100_000, what="rows")


def test_shared_strings_of_an_ordinary_list_are_read(tmp_path):
    rows = [[0, 1]] + [[2 + i % 50, 52] for i in range(5_000)]
    strings = ["first_name", "email", *(f"Nome{i}" for i in range(50)), "m@example.org"]
    path = shared_strings_workbook(tmp_path / "normale.xlsx", strings, rows)
    table = read_table(path, max_rows=100_000, what="rows")
    assert len(table.rows) == 5_000 and table.rows[-1] == ["Nome49", "m@example.org"]


def test_a_workbook_of_many_rows_with_shared_strings_is_read(tmp_path):
    rows = [["first_name", "email"]] + [[f"Nome{i % 50}", f"n{i}@example.org"] for i in range(20_000)]
    path = xlsx(tmp_path / "molti.xlsx", *rows)
    table = read_table(path, max_rows=100_000, what="rows")
    assert len(table.rows) == 20_000 and table.rows[-1] == ["Nome49", "n19999@example.org"]


def test_ids_the_sheet_held_as_numbers_are_read_with_care(store, tmp_path):
    # 000123 typed into a number cell is 123: imported as its digits, and the report says so.
    path = xlsx(
        tmp_path / "registro.xlsx",
        ["id", "first_name", "consent"],
        [123, "Anna", "yes"],
        ["000123", "Bruno", "yes"],  # text: another patient
        [True, "Carla", "yes"],
        [12345678901234567890, "Dario", "yes"],  # past a float's digits: 1.234567890123457e+19
        [7.5, "Elena", "yes"],
    )
    report = import_contacts(path)
    assert {c.registry_id: c.first_name for c in Contact.select()} == {"123": "Anna", "000123": "Bruno"}
    assert [(e.row, e.value) for e in report.shown_errors()] == [
        (4, "TRUE"),
        (5, "1.234567890123457e+19"),
        (6, "7.5"),
    ]
    assert all("format the id column as text" in e.reason for e in report.shown_errors())
    assert any("4 ids were numbers in the sheet" in note for note in report.notes)


def test_patient_ids_the_sheet_held_as_numbers_are_said(store, tmp_path):
    import_contacts(xlsx(tmp_path / "c.xlsx", ["id", "first_name"], ["123", "Anna"]))
    report = import_reservations(
        xlsx(tmp_path / "r.xlsx", ["patient_id", "created_at"], [123, datetime(2026, 11, 30, 9, 15)])
    )
    assert report.added == 1
    assert any("1 patient_ids were numbers in the sheet" in note for note in report.notes)
