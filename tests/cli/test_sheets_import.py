"""The import commands read .xlsx and .ods like CSV: --file (alias --csv), --sheet NAME."""

from datetime import datetime

from tests.cli.test_commands import one_line_error
from tests.cli.test_recipients import draft
from tests.store.test_sheets import xlsx


def test_contacts_reservations_and_recipients_from_a_workbook(campaigns, tmp_path):
    registry = xlsx(
        tmp_path / "registry.xlsx",
        ["id", "first_name", "email", "consent"],
        ["P1", "Anna", "anna@example.org", "yes"],
        ["P2", "Luca", "luca@example.org", "yes"],
        title="Anagrafica",
        more={"Prenotazioni": [["patient_id", "created_at"], ["P1", datetime(2026, 11, 30, 9, 15)]]},
    )
    imported = campaigns("contacts", "import", str(registry), "--json")
    assert (imported.code, imported.json["added"], imported.json["notes"]) == (
        0,
        2,
        ["read the sheet 'Anagrafica'"],
    )
    booked = campaigns("reservations", "import", str(registry), "--sheet", "Prenotazioni", "--json").json
    assert (booked["added"], booked["notes"]) == (1, ["read the sheet 'Prenotazioni'"])
    assert (
        "read the sheet 'Prenotazioni'"
        in campaigns("reservations", "import", str(registry), "--sheet", "Prenotazioni").out
    )

    campaign = draft(campaigns)
    people = xlsx(
        tmp_path / "people.xlsx", ["email"], ["a@example.org"], more={"Altri": [["email"], ["b@example.org"]]}
    )
    assert campaigns("recipients", "add", campaign, "--file", str(people), "--json").json["added"] == 1
    alias = campaigns("recipients", "add", campaign, "--csv", str(people), "--sheet", "Altri", "--json").json
    assert (alias["added"], alias["notes"]) == (1, ["read the sheet 'Altri'"])


def test_sheet_refusals_are_one_line(campaigns, tmp_path):
    campaign = draft(campaigns)
    people = xlsx(tmp_path / "people.xlsx", ["email"], ["a@example.org"], title="Pazienti")
    said = one_line_error(
        campaigns("recipients", "add", campaign, "--file", str(people), "--sheet", "Medici")
    )
    assert "has no sheet 'Medici' (its sheets: 'Pazienti')" in said
    assert "--sheet goes with --file" in one_line_error(
        campaigns("recipients", "add", campaign, "--paste", "a@example.org", "--sheet", "Pazienti")
    )
    assert "exactly one of --paste, --file" in one_line_error(campaigns("recipients", "add", campaign))
    locked = tmp_path / "locked.xlsx"
    locked.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1024))
    assert "is password-protected or not a readable spreadsheet" in one_line_error(
        campaigns("contacts", "import", str(locked))
    )
    assert campaigns("stats", campaign, "--json").json["recipients"] == 0
