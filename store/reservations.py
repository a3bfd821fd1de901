"""Reservations from the booking system: what conversion is measured against."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from peewee import Field, chunked

from store.bulk import chunk_size, insert_rows
from store.clock import to_utc
from store.contacts import RowRefused, numbers_note, parse_registry_id
from store.csvfile import require_columns
from store.db import rows_of, write_transaction
from store.limits import shown
from store.models import Contact, Reservation
from store.report import ImportReport
from store.sheets import NumberCell, read_table, sheet_note

MAX_RESERVATION_ROWS = 5_000_000


def parse_moment(text: str) -> datetime:
    """ISO 8601; no zone means UTC. Raises ValueError."""
    return to_utc(datetime.fromisoformat(text.strip()))


def import_reservations(path: str | Path, sheet: str | None = None) -> ImportReport:
    """Adds the reservations of a CSV (`patient_id`: the contact's registry id, `created_at`); one already
    known is kept once."""
    table = read_table(path, max_rows=MAX_RESERVATION_ROWS, what="reservations", sheet=sheet)
    require_columns(table, "patient_id", "created_at")
    who, when = table.index("patient_id"), table.index("created_at")
    report = ImportReport()
    seen: dict[tuple[str, datetime], int] = {}
    as_numbers = 0
    for row_number, values in table.numbered():
        as_numbers += isinstance(values[who], NumberCell)  # type: ignore[index]
        raw_id, raw_at = values[who], values[when].strip()  # type: ignore[index]
        try:
            patient_id = parse_registry_id(raw_id, "patient_id")
        except RowRefused as exc:
            report.refuse_row(row_number, shown(raw_id.strip()), str(exc))
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
        known = _known_contacts({patient_id for patient_id, _ in seen})
        rows = []
        for (patient_id, created_at), row_number in seen.items():
            contact_id = known.get(patient_id)
            if contact_id is not None:
                rows.append((contact_id, created_at))
            else:
                report.refuse_row(row_number, shown(patient_id), "no contact has this patient_id")
        fields: list[Field] = [Reservation.contact, Reservation.created_at]
        report.added = insert_rows(Reservation, fields, rows, ignore_conflicts=True)
        report.already_present = len(rows) - report.added
    numbers_note(report, as_numbers, "patient_id")
    return sheet_note(report, table)


def _known_contacts(registry_ids: set[str]) -> dict[str, int]:
    """The contacts these registry ids name: their internal id by registry id."""
    known: dict[str, int] = {}
    for batch in chunked(sorted(registry_ids), chunk_size(1)):
        query = Contact.select(Contact.registry_id, Contact.id).where(Contact.registry_id.in_(batch))
        known.update((registry_id, contact_id) for registry_id, contact_id in rows_of(query))
    return known
