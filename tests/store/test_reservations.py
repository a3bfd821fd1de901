from datetime import datetime

import pytest

from store.contacts import import_contacts
from store.errors import ImportRefused
from store.models import Reservation
from store.reservations import import_reservations


@pytest.fixture
def patients(store, write_csv):
    import_contacts(write_csv("contacts.csv", "id,kind\n1,patient\n2,patient\n"))


def test_reservations_load_once_and_times_become_utc(patients, write_csv):
    path = write_csv(
        "res.csv",
        "patient_id,created_at\n"
        "1,2026-11-02T09:30:00\n"
        "1,2026-11-03T10:00:00+01:00\n"
        "2,2026-11-04\n"
        "1,2026-11-02T09:30:00\n"
        "99,2026-11-02T09:30:00\n"
        "2,yesterday\n",
    )
    report = import_reservations(path)
    assert (report.added, report.duplicates, report.invalid) == (3, 1, 2)
    assert [(e.row, e.reason) for e in report.shown_errors()] == [
        (6, "no contact has this patient_id"),
        (7, "created_at is not an ISO 8601 date and time"),
    ]
    times = sorted(r.created_at for r in Reservation.select())
    assert times == [datetime(2026, 11, 2, 9, 30), datetime(2026, 11, 3, 9, 0), datetime(2026, 11, 4)]
    again = import_reservations(path)
    assert (again.added, again.already_present) == (0, 3)
    assert Reservation.select().count() == 3


def test_reservations_need_both_columns(patients, write_csv):
    with pytest.raises(ImportRefused, match="lacks the column created_at"):
        import_reservations(write_csv("res.csv", "patient_id,when\n1,2026-11-02\n"))
    assert Reservation.select().count() == 0
