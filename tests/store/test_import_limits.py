"""store.limits applied by every import, on both engines (issue 13): a row over a limit is refused alone."""

import time

import pytest

from store.campaigns import create_campaign
from store.contacts import import_contacts
from store.errors import ImportRefused
from store.limits import NAME_MAX, clean_name
from store.models import Contact, Message, Reservation
from store.recipients import add_contacts, add_from_csv, add_pasted
from store.reservations import import_reservations

LONG = "x" * 100_000


def test_names_are_folded_to_one_line_and_cut_at_nothing():
    assert clean_name("Anna\r\nMaria") == "Anna Maria"
    assert clean_name(" De\t Rossi \n") == "De Rossi"
    assert clean_name("n" * NAME_MAX) == "n" * NAME_MAX
    started = time.perf_counter()
    assert clean_name(" " * 100_000) == ""  # no pattern that backtracks over a cell of spaces
    assert time.perf_counter() - started < 0.5


def test_a_registry_row_with_an_absurd_name_keeps_the_stored_one_and_the_rest(store, write_csv):
    import_contacts(write_csv("a.csv", "id,first_name,last_name,consent\n1,Maria,Rossi,yes\n"))
    report = import_contacts(
        write_csv("b.csv", f"id,first_name,last_name,app_token,consent\n1,{LONG},Bianchi,{'t' * 4097},no\n")
    )
    assert (report.updated, report.invalid) == (1, 1)
    assert report.errors[0].reason.startswith("first_name is longer than 100 characters (100,000); app_token")
    maria = Contact.get_by_id(1)
    assert (maria.first_name, maria.last_name, maria.consent, maria.app_token) == (
        "Maria",
        "Bianchi",
        False,
        None,
    )


def test_csv_and_paste_rows_over_a_limit_are_refused_alone(store, write_csv):
    draft = create_campaign(channel="email", name="N", sender="Centro Medico", body="Ciao")
    path = write_csv(
        "p.csv",
        f'first_name,email\nMaria,maria@example.org\n{LONG},luca@example.org\n"Anna\nMaria",anna@example.org\n',
    )
    report = add_from_csv(draft.id, path)
    assert (report.added, report.invalid, report.errors[0].row) == (2, 1, 3)
    names = [m.first_name for m in Message.select().where(Message.campaign == draft.id).order_by(Message.id)]
    assert names == ["Maria", "Anna Maria"]
    pasted = add_pasted(draft.id, f"sara@example.org, {'s' * 250}@example.org")
    assert (pasted.added, pasted.invalid) == (1, 1)
    assert len(pasted.errors[0].value) <= 80


def test_a_picked_contact_stored_with_an_absurd_name_is_refused_alone(store, write_csv):
    import_contacts(
        write_csv("c.csv", "id,first_name,email,consent\n1,Maria,m@example.org,yes\n2,L,l@example.org,yes\n")
    )
    Contact.update(first_name=LONG).where(Contact.id == 2).execute()
    draft = create_campaign(channel="email", name="N", sender="Centro Medico", body="Ciao")
    report = add_contacts(draft.id, [1, 2])
    assert (report.added, report.invalid) == (1, 1)
    assert "first_name is longer than 100 characters" in report.errors[0].reason


@pytest.mark.parametrize(
    "header",
    [
        "patient_id,created_at,PATIENT_ID",
        "patient_id;created_at; Created At ",
        "Patient-ID,created_at,patient id",
    ],
)
def test_a_booking_file_naming_a_column_twice_adds_nothing(store, write_csv, header):
    import_contacts(write_csv("c.csv", "id\n1\n"))
    separator = ";" if ";" in header else ","
    row = separator.join(["1", "2026-11-02T10:00:00", "1"])
    with pytest.raises(ImportRefused, match="twice"):
        import_reservations(write_csv("r.csv", f"{header}\n{row}\n"))
    assert Reservation.select().count() == 0


def test_a_pipe_or_a_device_given_as_the_file_is_refused_at_once(store, tmp_path):
    import os

    from store.contacts import import_contacts
    from store.errors import ImportRefused

    pipe = tmp_path / "contacts.csv"
    os.mkfifo(pipe)  # reading it would wait for a writer for ever
    for path in (pipe, "/dev/zero"):  # and /dev/zero would fill the memory
        with pytest.raises(ImportRefused, match="is not a file but a pipe or a device"):
            import_contacts(path)
