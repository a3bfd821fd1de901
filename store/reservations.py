"""Reservations from the booking system: what conversion is measured against."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from peewee import Field, chunked

from store.bulk import chunk_size, insert_rows
from store.clock import to_utc
from store.contacts import RowRefused, parse_id
from store.csvfile import read_csv_table, require_columns
from store.db import write_transaction
from store.limits import shown
from store.models import Contact, Reservation
from store.report import ImportReport

MAX_RESERVATION_ROWS = 5_000_000


def parse_moment(text: str) -> datetime:
    """ISO 8601; no zone means UTC. Raises ValueError."""
    return to_utc(datetime.fromisoformat(text.strip()))


def import_reservations(path: str | Path) -> ImportReport:
    """Adds the reservations of a CSV (`patient_id`, `created_at`); one already known is kept once."""
    table = read_csv_table(path, max_rows=MAX_RESERVATION_ROWS, what="reservations")
    require_columns(table, "patient_id", "created_at")
    who, when = table.index("patient_id"), table.index("created_at")
    report = ImportReport()
    seen: dict[tuple[int, datetime], int] = {}
    for row_number, values in table.numbered():
        raw_id, raw_at = values[who].strip(), values[when].strip()  # type: ignore[index]
        try:
            patient_id = parse_id(raw_id, "patient_id")
        except RowRefused as exc:
            report.refuse_row(row_number, shown(raw_id), str(exc))
            continue
        try:
            created_at = parse_moment(raw_at)
        except ValueError:
            report.refuse_row(row_number, shown(raw_at), "created_at is not an ISO 8601 date and time")
            continue
        key = (patient_id, created_at)
        if key in seen:
            report.duplicates += 1
            continue
        seen[key] = row_number
    with write_transaction():
        known = _known_contacts({contact_id for contact_id, _ in seen})
        rows = []
        for (contact_id, created_at), row_number in seen.items():
            if contact_id in known:
                rows.append((contact_id, created_at))
            else:
                report.refuse_row(row_number, str(contact_id), "no contact has this patient_id")
        fields: list[Field] = [Reservation.contact, Reservation.created_at]
        report.added = insert_rows(Reservation, fields, rows, ignore_conflicts=True)
        report.already_present = len(rows) - report.added
    return report


def _known_contacts(ids: set[int]) -> set[int]:
    known: set[int] = set()
    for batch in chunked(sorted(ids), chunk_size(1)):
        query = Contact.select(Contact.id).where(Contact.id.in_(batch))
        known.update(contact.id for contact in query)
    return known
