"""`export --out FILE.xlsx` and `recipients template FILE.xlsx`: real workbooks, every cell text."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest

from tests.cli.test_commands import one_line_error
from tests.modes import mode_of, usual_umask


@pytest.fixture(autouse=True)
def _usual_umask():
    with usual_umask():
        yield


def sms_draft_with_tricky_names(campaigns, write_csv) -> str:
    options = ["--channel", "sms", "--name", "Richiamo", "--sender", "CentroMed", "--body", "Ciao"]
    draft = str(campaigns("create", *options, "--json").json["id"])
    people = write_csv(
        "people.csv",
        "first_name,last_name,phone\n"
        "=1+1,000123,+39 347 123 4567\n"
        '"=HYPERLINK(""http://x"",""y"")",@SUM(A1),333 765 4321\n'
        "Zoë,-5,3331234567\n",
    )
    assert campaigns("recipients", "add", draft, "--file", str(people), "--json").json["added"] == 3
    return draft


def test_export_to_xlsx_keeps_every_value_as_text(campaigns, write_csv, tmp_path):
    draft = sms_draft_with_tricky_names(campaigns, write_csv)
    out = tmp_path / "richiamo.xlsx"
    result = campaigns("export", draft, "--who", "all", "--out", str(out), "--json")
    assert result.code == 0, result.err
    assert result.json == {"rows": 3, "path": str(out)}
    assert mode_of(out) == 0o600
    sheet = openpyxl.load_workbook(out).active
    assert sheet.freeze_panes == "A2"
    assert [c.value for c in sheet[1]][:3] == ["phone", "first_name", "last_name"]
    cells = [[(c.value, c.data_type) for c in row[:3]] for row in sheet.iter_rows(min_row=2)]
    assert cells == [
        [("+393471234567", "s"), ("=1+1", "s"), ("000123", "s")],
        [("+393337654321", "s"), ('=HYPERLINK("http://x","y")', "s"), ("@SUM(A1)", "s")],
        [("+393331234567", "s"), ("Zoë", "s"), ("-5", "s")],
    ]
    frame = pd.read_excel(out, engine="calamine", dtype=str)
    assert frame["last_name"].tolist() == ["000123", "@SUM(A1)", "-5"]


def test_the_workbook_holds_what_the_csv_holds(campaigns, tmp_path):
    campaigns("fixtures", "--patients", "300", "--seed", "3")
    listed = campaigns("list", "--from", "2020-01-01", "--json").json
    email = next(c for c in listed if c["channel"] == "email" and c["sent"])
    as_csv, as_xlsx = tmp_path / "sent.csv", tmp_path / "sent.xlsx"
    assert campaigns("export", str(email["id"]), "--who", "sent", "--out", str(as_csv)).code == 0
    said = campaigns("export", str(email["id"]), "--who", "sent", "--out", str(as_xlsx))
    assert said.code == 0 and said.out.startswith(f"{email['sent']:,} recipients written to")
    rows = list(csv.reader(as_csv.read_text(encoding="utf-8-sig").splitlines()))
    # The CSV's apostrophe keeps a formula from running; a text cell needs none.
    rows = [[v[1:] if v.startswith("'") else v for v in row] for row in rows]
    sheet = openpyxl.load_workbook(as_xlsx).active
    assert [[c.value or "" for c in row] for row in sheet.iter_rows()] == rows
    assert len(rows) == email["sent"] + 1


def test_an_extension_export_cannot_write_is_refused_before_any_file(campaigns, write_csv, tmp_path):
    draft = sms_draft_with_tricky_names(campaigns, write_csv)
    for name in ("list.xls", "list.ods"):
        refused = campaigns("export", draft, "--who", "all", "--out", str(tmp_path / name))
        assert "name it .csv or .xlsx" in one_line_error(refused)
        assert not (tmp_path / name).exists()
    assert not list(tmp_path.glob(".*.partial"))


def test_the_xlsx_template_has_text_columns_a_frozen_header_and_the_csv_examples(campaigns, tmp_path):
    out, plain = tmp_path / "template.xlsx", tmp_path / "template.csv"
    assert campaigns("recipients", "template", str(out)).code == 0
    assert campaigns("recipients", "template", str(plain)).code == 0
    assert mode_of(out) == 0o600
    sheet = openpyxl.load_workbook(out).active
    assert sheet.freeze_panes == "A2"
    assert [sheet.column_dimensions[c].number_format for c in "ABCD"] == ["@"] * 4
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows == list(csv.reader(plain.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["first_name", "last_name", "email", "phone"]
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row)
    assert pd.read_excel(out, engine="calamine", dtype=str)["phone"][0] == "+39 347 123 4567"
    refused = campaigns("recipients", "template", str(tmp_path / "template.ods"))
    assert "name it .csv or .xlsx" in one_line_error(refused)
