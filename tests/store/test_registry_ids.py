"""Registry ids are opaque text: through contacts, picking, reservations, conversion and exports, on both
engines; a database of integer ids keeps its contacts under those ids as text."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from store import schema
from store.audiences import write_recipients
from store.campaigns import create_campaign
from store.contacts import import_contacts
from store.db import database, dialect
from store.directory import load_directory
from store.figures import campaign_figures
from store.models import MODELS, Campaign, Contact, Message, Reservation
from store.recipients import add_contacts, add_registry_contacts
from store.reservations import import_reservations
from tests.conftest import NOW

UUID = "3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b"
LONGEST = "X" * 64
# Each id with its email: `p1` is not `P1`, `000123` is not `123`.
PEOPLE = {
    "P1": "p1-upper@example.org",
    "000123": "zeros@example.org",
    "RSSMRA80A01H501U": "tax@example.org",
    UUID: "uuid@example.org",
    LONGEST: "longest@example.org",
    "p1": "p1-lower@example.org",
}


def registry(write_csv) -> None:
    lines = [f"{registry_id},patient,{email},yes" for registry_id, email in PEOPLE.items()]
    report = import_contacts(write_csv("contacts.csv", "id,kind,email,consent\n" + "\n".join(lines) + "\n"))
    assert (report.added, report.updated, report.invalid) == (6, 0, 0)


def by_registry_id(registry_id: str) -> Contact:
    return Contact.get(Contact.registry_id == registry_id)


def test_text_ids_are_kept_exactly_and_a_known_one_updates_its_contact(store, write_csv):
    registry(write_csv)
    for registry_id, email in PEOPLE.items():
        assert by_registry_id(registry_id).email == email
    ids = {c.registry_id: c.id for c in Contact.select()}
    assert ids["P1"] != ids["p1"] and "123" not in ids
    again = write_csv(
        "again.csv",
        "id,first_name\n P1 ,Maria\n000123,Luca\n0123,Nuovo\n,Blank\n" + "Y" * 65 + ",Long\n",
    )
    report = import_contacts(again)
    assert (report.added, report.updated, report.invalid) == (1, 2, 2)
    assert [(e.row, e.value, e.reason) for e in report.shown_errors()] == [
        (5, "", "id is blank"),
        (6, "Y" * 65, "id is longer than 64 characters (65)"),
    ]
    assert (by_registry_id("P1").first_name, by_registry_id("P1").id) == ("Maria", ids["P1"])
    assert by_registry_id("p1").first_name == ""
    assert by_registry_id("000123").first_name == "Luca"
    assert by_registry_id("0123").id == max(ids.values()) + 1  # a new registry id, a new contact


def test_reservations_find_their_patient_by_registry_id(store, write_csv):
    registry(write_csv)
    rows = [
        f"{registry_id},2026-11-21T10:00:00" for registry_id in ("P1", "000123", UUID, "p1", "123", "P2", " ")
    ]
    report = import_reservations(write_csv("r.csv", "patient_id,created_at\n" + "\n".join(rows) + "\n"))
    assert (report.added, report.invalid) == (4, 3)
    assert [(e.row, e.value, e.reason) for e in report.shown_errors()] == [
        (6, "123", "no contact has this patient_id"),
        (7, "P2", "no contact has this patient_id"),
        (8, "", "patient_id is blank"),
    ]
    booked = {r.contact.registry_id for r in Reservation.select(Reservation, Contact).join(Contact)}
    assert booked == {"P1", "000123", UUID, "p1"}


def test_text_ids_reach_conversion_and_the_export(store, write_csv):
    registry(write_csv)
    campaign = create_campaign(channel="email", name="Check-up", sender="Centro", body="Ciao")
    picked = add_registry_contacts(campaign.id, [*PEOPLE, " RSSMRA80A01H501U ", "rssmra80a01h501u"])
    assert (picked.added, picked.duplicates, picked.invalid) == (6, 1, 1)
    assert [(e.row, e.value) for e in picked.shown_errors()] == [(8, "rssmra80a01h501u")]
    Message.update(state="sent", sent_at=NOW).execute()
    Campaign.update(state="sent").execute()
    booked = [("P1", 1), ("000123", 2), (UUID, 3), ("p1", -1)]  # p1 booked before the message
    rows = [f"{registry_id},{(NOW + timedelta(days=days)).isoformat()}" for registry_id, days in booked]
    import_reservations(write_csv("r.csv", "patient_id,created_at\n" + "\n".join(rows) + "\n"))
    conversion = campaign_figures(Campaign.get_by_id(campaign.id)).conversion
    assert (conversion.patients, conversion.reservations) == (6, 3)
    out = io.StringIO()
    write_recipients(campaign.id, "all", out)
    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {row["email"]: row["contact_id"] for row in exported} == {e: i for i, e in PEOPLE.items()}


def test_the_picker_adds_by_internal_id_and_reports_by_registry_id(store, write_csv):
    registry(write_csv)
    Contact.update(email=None).where(Contact.registry_id == "000123").execute()
    directory = load_directory()
    chosen = [e.id for e in directory.entries if e.email in ("p1-lower@example.org", "")]
    campaign = create_campaign(channel="email", name="Picked", sender="Centro", body="Ciao")
    report = add_contacts(campaign.id, chosen)
    assert report.added == 1
    assert [(e.value, e.reason) for e in report.shown_errors()] == [
        ("  (id 000123)", "the contact has no email address")
    ]
    assert Message.get().contact.registry_id == "p1"


def test_an_integer_id_database_upgrades_and_finds_its_contacts_by_their_old_ids(
    store, monkeypatch, write_csv
):
    database.obj.drop_tables(MODELS)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 5)
    assert schema.migrate_schema() == 5
    for contact_id, email in ((7, "sette@example.org"), (123, "cento@example.org")):
        database.execute_sql(
            "INSERT INTO contact (id, kind, first_name, last_name, email, consent, created_at, updated_at) "
            f"VALUES ({contact_id}, 'patient', 'Old', '', '{email}', {dialect().boolean(True)}, "
            "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
        )
    database.execute_sql("INSERT INTO reservation (contact_id, created_at) VALUES (7, '2026-01-02 00:00:00')")
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.LATEST)
    assert schema.migrate_schema() == schema.LATEST
    assert {(c.id, c.registry_id) for c in Contact.select()} == {(7, "7"), (123, "123")}
    assert Reservation.get().contact.registry_id == "7"
    report = import_contacts(write_csv("c.csv", "id,first_name\n123,Nuovo\nP1,Prima\n"))
    assert (report.added, report.updated) == (1, 1)
    assert (by_registry_id("123").id, by_registry_id("123").first_name) == (123, "Nuovo")
    assert by_registry_id("P1").id == 124
    booked = import_reservations(write_csv("r.csv", "patient_id,created_at\n7,2026-11-21T10:00:00\n"))
    assert booked.added == 1
    campaign = create_campaign(channel="email", name="Old ids", sender="Centro", body="Ciao")
    assert add_registry_contacts(campaign.id, ["7", "123"]).added == 2


@pytest.mark.parametrize("given", ["P\t1", "P\n1", "P\x1b1"])
def test_control_characters_refuse_the_row(store, write_csv, given):
    report = import_contacts(write_csv("c.csv", f'id,email\n"{given}",a@example.org\n'))
    assert (report.added, report.invalid) == (0, 1)
    assert report.shown_errors()[0].reason == "id holds a control or invisible character"
