"""The import report's `--json` document (docs/files.md), pinned to the character: the refused rows are
kept as `RefusedRow`s and written as they always were, by row, with row, value and reason in that order."""

import json

from store.report import MAX_ERRORS, ImportReport, RefusedRow


def test_the_import_report_document():
    report = ImportReport(added=2, duplicates=1, notes=["a note"])
    report.refuse_row(7, "=cmd()", "not a mobile number: an SMS cannot reach it")
    report.refuse_row(3, "nope", "invalid email: An email address must have an @-sign.")
    assert report.shown_errors() == [
        RefusedRow(3, "nope", "invalid email: An email address must have an @-sign."),
        RefusedRow(7, "=cmd()", "not a mobile number: an SMS cannot reach it"),
    ]
    assert (
        json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
        == """\
{
  "added": 2,
  "duplicates": 1,
  "invalid": 2,
  "opted_out": 0,
  "suppressed": 0,
  "already_present": 0,
  "updated": 0,
  "errors": [
    {
      "row": 3,
      "value": "nope",
      "reason": "invalid email: An email address must have an @-sign."
    },
    {
      "row": 7,
      "value": "=cmd()",
      "reason": "not a mobile number: an SMS cannot reach it"
    }
  ],
  "notes": [
    "a note"
  ]
}"""
    )


def test_the_document_lists_the_first_rows_only():
    report = ImportReport()
    for row in range(MAX_ERRORS + 5, 0, -1):
        report.refuse_row(row, str(row), "no email")
    listed = report.as_dict()["errors"]
    assert (report.invalid, len(listed), listed[0], listed[-1]["row"]) == (
        MAX_ERRORS + 5,
        MAX_ERRORS,
        {"row": 1, "value": "1", "reason": "no email"},
        MAX_ERRORS,
    )
