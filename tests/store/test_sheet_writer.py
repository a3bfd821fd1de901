"""Workbooks out: what `store.sheet_writer` writes opens in openpyxl and pandas, and every cell is text."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import openpyxl
import pandas as pd
import pytest

from store.audiences import export_recipients
from store.campaigns import create_campaign
from store.errors import BadInput
from store.models import Message
from store.sheet_writer import file_format, save_workbook, write_workbook
from tests.conftest import NOW
from tests.modes import mode_of, usual_umask

HEADER = ["name", "phone", "registry"]
TRICKY = [
    ["=1+1", "+393471234567", "000123"],
    ['=HYPERLINK("http://x","y")', "-12.5", "@SUM(A1)"],
    ["  Anna  ", "3.33123e+09", "2026-12-01"],
    ["a & b <c> \"d\" 'e'", "line one\r\nline two", "tab\there"],
    ["Zoë Ñandú 北京", "", None],
]


def sheet_of(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def written(header=HEADER, rows=TRICKY, **options) -> bytes:
    out = io.BytesIO()
    assert write_workbook(out, header, rows, **options) == len(rows)
    return out.getvalue()


def test_every_value_comes_back_as_the_same_text_never_a_number_nor_a_formula():
    sheet = sheet_of(written(sheet="Recipients"))
    assert sheet.title == "Recipients"
    assert [cell.value for cell in sheet[1]] == HEADER
    for number, row in enumerate(TRICKY, 2):
        for value, cell in zip(row, sheet[number], strict=True):
            if value in ("", None):
                assert cell.value is None
                continue
            assert (cell.value, cell.data_type, cell.number_format) == (value, "s", "@")
    assert sheet.max_row == len(TRICKY) + 1


def test_the_header_is_frozen_and_the_columns_are_formatted_as_text():
    sheet = sheet_of(written())
    assert sheet.freeze_panes == "A2"
    assert [sheet.column_dimensions[c].number_format for c in "ABC"] == ["@", "@", "@"]
    assert sheet["A1"].font.b


def test_pandas_reads_it_with_calamine_and_with_openpyxl():
    data = written()
    for engine in ("calamine", "openpyxl"):
        frame = pd.read_excel(io.BytesIO(data), engine=engine, dtype=str, keep_default_na=False)
        assert list(frame.columns) == HEADER
        assert len(frame) == len(TRICKY)
        assert frame.loc[0].tolist() == ["=1+1", "+393471234567", "000123"]
        assert frame.loc[1, "name"] == '=HYPERLINK("http://x","y")'


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_reads_every_value_as_the_same_text(tmp_path):
    book = tmp_path / "tricky.xlsx"
    book.write_bytes(written())
    command = ["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
               "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path), str(book)]  # fmt: skip
    subprocess.run(command, capture_output=True, timeout=120, check=True)
    rows = list(csv.reader((tmp_path / "tricky.csv").read_text(encoding="utf-8").splitlines(keepends=True)))
    expected = [[(v or "").replace("\r\n", "\n") for v in row] for row in TRICKY]  # Calc keeps one line break
    assert rows == [HEADER, *expected]


def test_what_xml_cannot_hold_becomes_a_replacement_character():
    sheet = sheet_of(written(rows=[["bell\x07", "nul\x00", "ok"]]))
    assert [cell.value for cell in sheet[2]] == ["bell\ufffd", "nul\ufffd", "ok"]


def test_text_that_looks_like_excels_own_escape_stays_as_it_is():
    # Excel and calamine read `_x0041_` as "A"; openpyxl reads no escape and shows the one written.
    data = written(["name"], [["_x0041_ Rossi"]])
    assert pd.read_excel(io.BytesIO(data), engine="calamine").iloc[0, 0] == "_x0041_ Rossi"
    assert sheet_of(data)["A2"].value == "_x005F_x0041_ Rossi"


def test_ints_are_numbers_and_only_the_text_columns_are_formatted_as_text():
    data = written(["row", "value"], [[12, "=x"]], text_columns=(1,))
    sheet = sheet_of(data)
    assert (sheet["A2"].value, sheet["A2"].data_type) == (12, "n")
    assert (sheet["B2"].value, sheet["B2"].data_type) == ("=x", "s")
    assert [sheet.column_dimensions[c].number_format for c in "AB"] == ["General", "@"]


def test_many_rows_and_columns_with_gaps_keep_each_value_in_its_column():
    header = [f"c{i}" for i in range(30)]
    rows = [[None if (r + c) % 7 == 0 else f"{r:06d}-{c}" for c in range(30)] for r in range(5_000)]
    data = written(header, rows)
    sheet = sheet_of(data)
    assert (sheet.max_row, sheet.max_column) == (5_001, 30)
    assert sheet["AD5001"].value == "004999-29"
    assert (sheet["G5001"].value, sheet["H5001"].value) == (None, "004999-7")  # 4999 + 6 = 7 * 715
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == rows
    frame = pd.read_excel(io.BytesIO(data), engine="calamine", dtype=str)
    assert frame.shape == (5_000, 30) and frame.iloc[4_999, 29] == "004999-29"
    assert pd.isna(frame.iloc[4_999, 6]) and frame.iloc[4_999, 7] == "004999-7"


def test_a_saved_workbook_is_0600_and_a_failed_one_leaves_no_file(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "out.xlsx"
    with usual_umask():
        assert save_workbook(target, HEADER, TRICKY) == len(TRICKY)
    assert mode_of(target) == 0o600

    def failing():  # past the rows the widths are measured on: the zip is under way
        yield from ([f"n{i}", "1", "1"] for i in range(1_000))
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError):
        save_workbook(folder / "broken.xlsx", HEADER, failing())
    assert [p.name for p in folder.iterdir()] == ["out.xlsx"]


def test_more_rows_than_a_sheet_holds_is_refused_and_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr("store.sheet_writer.MAX_ROWS", 300)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(BadInput, match=r"more than 300 rows.*\.csv"):
        save_workbook(folder / "big.xlsx", ["n"], ([str(i)] for i in range(301)))
    assert list(folder.iterdir()) == []
    assert save_workbook(folder / "full.xlsx", ["n"], ([str(i)] for i in range(300))) == 300


def test_a_cell_longer_than_excel_takes_is_cut_to_its_limit():
    sheet = sheet_of(written(["reason"], [["x" * 40_000]]))
    assert sheet["A2"].value == "x" * 32_767


def test_the_format_is_chosen_by_the_extension():
    assert [file_format(n) for n in ("a.xlsx", "A.XLSX", "a.csv", "a.tsv", "a.txt", "a")] == [
        "xlsx", "xlsx", "csv", "csv", "csv", "csv",
    ]  # fmt: skip
    for name in ("a.xls", "a.ods", "a.xlsm", "a.json"):
        with pytest.raises(BadInput, match=r"name it \.csv or \.xlsx"):
            file_format(name)


def sent_campaign():
    campaign = create_campaign(channel="sms", name="Richiamo", sender="CentroMed", body="Ciao")
    people = [("+393471234567", "=1+1", "000123"), ("+393337654321", "Bruno", "Bianchi")]
    for address, first, last in people:
        Message.create(campaign=campaign, address=address, first_name=first, last_name=last, state="sent",
                       sent_at=NOW)  # fmt: skip
    return campaign


def test_export_writes_a_workbook_when_named_xlsx(store, tmp_path):
    campaign = sent_campaign()
    out = tmp_path / "richiamo.xlsx"
    with usual_umask():
        assert export_recipients(campaign.id, "all", out) == 2
    assert mode_of(out) == 0o600
    sheet = openpyxl.load_workbook(out).active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:5] == ["phone", "first_name", "last_name", "contact_id", "state"]
    phone, first, last = sheet["A2"], sheet["B2"], sheet["C2"]
    assert [(c.value, c.data_type) for c in (phone, first, last)] == [
        ("+393471234567", "s"), ("=1+1", "s"), ("000123", "s"),
    ]  # fmt: skip
    frame = pd.read_excel(out, engine="calamine", dtype=str)
    assert len(frame) == 2 and frame.loc[0, "first_name"] == "=1+1"
    assert frame.loc[0, "sent_at"] == sheet["G2"].value  # the CSV's ISO time, as text


def test_export_refuses_an_extension_it_cannot_write_before_any_file(store, tmp_path):
    campaign = sent_campaign()
    folder = tmp_path / "out"
    folder.mkdir()
    for name in ("list.xls", "list.ods"):
        with pytest.raises(BadInput, match=r"name it \.csv or \.xlsx"):
            export_recipients(campaign.id, "all", folder / name)
    assert list(folder.iterdir()) == []


def test_a_failed_workbook_export_leaves_no_file(store, tmp_path, monkeypatch):
    campaign = sent_campaign()

    def failing(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("store.audiences.write_workbook", failing)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(BadInput, match=r"cannot write .*No space left"):
        export_recipients(campaign.id, "all", folder / "x.xlsx")
    assert list(folder.iterdir()) == []
