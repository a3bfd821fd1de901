"""`campaigns export --who holdout` and the `group` column, after a real Send Now draw (issue 19)."""

from __future__ import annotations

import csv
from collections import Counter

import openpyxl

from tests.cli.test_experiments_cli import draft


def test_export_lists_the_held_out_and_gives_every_row_its_group(campaigns, tmp_path):
    campaign_id = draft(campaigns)
    campaigns("edit", campaign_id, "--variant", "b", "--body", "B: Buongiorno")
    assert campaigns("send", campaign_id, "--holdout", "25", "--b-share", "50").code == 0
    held = tmp_path / "held.csv"
    said = campaigns("export", campaign_id, "--who", "holdout", "--out", str(held), "--json")
    assert said.code == 0 and said.json["rows"] == 10
    rows = list(csv.DictReader(held.read_text(encoding="utf-8-sig").splitlines()))
    assert {(r["state"], r["group"]) for r in rows} == {("held_out", "holdout")}
    book = tmp_path / "all.xlsx"
    assert campaigns("export", campaign_id, "--who", "all", "--out", str(book), "--json").json["rows"] == 40
    header, *cells = [[c.value or "" for c in row] for row in openpyxl.load_workbook(book).active.iter_rows()]
    assert header[-1] == "group"
    assert Counter(row[-1] for row in cells) == {"holdout": 10, "a": 15, "b": 15}
    held_addresses = {r["email"] for r in rows}
    assert {row[0] for row in cells if row[-1] == "holdout"} == held_addresses
    printed = campaigns("export", campaign_id, "--who", "holdout", "--out", "-")
    assert printed.out.splitlines()[0].endswith(",clicked_at,group")


def test_a_campaign_without_groups_exports_an_empty_group(campaigns):
    campaign_id = draft(campaigns, recipients=3)
    printed = campaigns("export", campaign_id, "--who", "all", "--out", "-")
    rows = list(csv.DictReader(printed.out.splitlines()))
    assert len(rows) == 3 and {r["group"] for r in rows} == {""}
    refused = campaigns("export", campaign_id, "--who", "held-out", "--out", "-")
    assert refused.code == 2
