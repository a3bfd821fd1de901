"""The command line takes and shows the registry's ids as text, on both engines."""

from __future__ import annotations

import csv
import io

UUID = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b"


def test_registry_ids_through_imports_recipients_and_export(campaigns, write_csv, monkeypatch, database_url):
    monkeypatch.setenv("CAMPAIGNS_DB", database_url)
    people = write_csv(
        "contacts.csv",
        "id,kind,email,consent\n"
        "P1,patient,upper@example.org,yes\n"
        "p1,patient,lower@example.org,yes\n"
        "000123,patient,zeros@example.org,yes\n"
        f"RSSMRA80A01H501U,patient,tax@example.org,yes\n{UUID},patient,uuid@example.org,yes\n"
        + "Z" * 65
        + ",patient,long@example.org,yes\n",
    )
    imported = campaigns("contacts", "import", str(people), "--json")
    assert imported.code == 0, imported.err
    assert (imported.json["added"], imported.json["invalid"]) == (5, 1)
    assert imported.json["errors"] == [
        {"row": 7, "value": "Z" * 65, "reason": "id is longer than 64 characters (65)"}
    ]
    booked = write_csv(
        "reservations.csv", "patient_id,created_at\n000123,2026-11-21T10:00:00\n123,2026-11-21T10:00:00\n"
    )
    reservations = campaigns("reservations", "import", str(booked), "--json").json
    assert (reservations["added"], reservations["errors"][0]["value"]) == (1, "123")
    made = campaigns(
        "create", "--channel", "email", "--name", "N", "--sender", "Centro", "--body", "Ciao", "--json"
    )
    campaign = str(made.json["id"])
    picked = campaigns(
        "recipients", "add", campaign, "--contacts", f"P1, 000123;{UUID},p1,123,RSSMRA80A01H501U", "--json"
    ).json
    assert (picked["added"], picked["invalid"]) == (5, 1)
    assert picked["errors"] == [{"row": 5, "value": "123", "reason": "no contact has this id"}]
    exported = campaigns("export", campaign, "--who", "all", "--out", "-")
    assert exported.code == 0, exported.err
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    assert [row["contact_id"] for row in rows] == ["P1", "000123", UUID, "p1", "RSSMRA80A01H501U"]
