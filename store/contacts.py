"""Contacts from the center's registry: the upsert of `campaigns contacts import`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peewee import EXCLUDED, Case, chunked

from store.addresses import InvalidAddress, normalise_email, normalise_phone
from store.bulk import chunk_size
from store.clock import utcnow
from store.csvfile import read_csv_table, require_columns
from store.db import rows_of, write_transaction
from store.limits import TOKEN_MAX, TooLong, check_length, clean_name, shown
from store.models import CONTACT_KINDS, Contact
from store.report import ImportReport

MAX_CONTACT_ROWS = 1_000_000
CONTACT_COLUMNS = (
    "kind",
    "first_name",
    "last_name",
    "email",
    "phone",
    "push_token",
    "app_token",
    "consent",
)
YES = {"yes", "y", "si", "sì", "true", "1", "x"}
NO = {"no", "n", "false", "0", ""}


class RowRefused(ValueError):
    """One row of an import is refused; the message is its reason."""


def parse_consent(value: str) -> bool:
    text = value.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise RowRefused(f"consent must be yes or no, not {value.strip()!r}")


MAX_ID = 2**31 - 1  # the registry's ids fit PostgreSQL's integer


def parse_id(text: str, column: str = "id") -> int:
    raw = text.strip()
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise RowRefused(f"{column} must be a whole number from 1 to {MAX_ID:,}")
    return int(raw)


def parse_contact(values: dict[str, str], default_region: str) -> dict[str, Any]:
    """The contact fields of one row, validated and normalised; raises RowRefused.

    A blank kind leaves the stored one as it is (a new contact is a patient); a blank consent is no.
    A name or token over its limit (store.limits) is left out and noted, like a bad address: the stored
    name stays (None here), the token is cleared, and the rest of the row still counts.
    """
    contact: dict[str, Any] = {"id": parse_id(values["id"])}
    for column, text in values.items():
        text = text.strip()
        if column == "kind":
            kind = text.lower()
            if kind and kind not in CONTACT_KINDS:
                raise RowRefused(f"kind must be patient, resource or user, not {text!r}")
            contact["kind"] = kind or None
        elif column in ("first_name", "last_name"):
            contact[column] = _within_limit(clean_name, text, contact, column)
        elif column == "email":
            contact["email"] = _address(normalise_email, text, contact)
        elif column == "phone":
            contact["phone"] = _address(normalise_phone, text, contact, default_region)
        elif column in ("push_token", "app_token"):
            contact[column] = _within_limit(check_length, text, contact, column, TOKEN_MAX) or None
        elif column == "consent":
            contact["consent"] = parse_consent(text)
    return contact


def _address(normalise: Any, text: str, contact: dict[str, Any], *args: str) -> str | None:
    """The normalised address; a bad one is left out and noted, the rest of the row still counts."""
    if not text:
        return None
    try:
        address: str = normalise(text, *args)
        return address
    except InvalidAddress as exc:
        contact.setdefault("_problems", []).append(str(exc))
        return None


def _within_limit(clean: Any, text: str, contact: dict[str, Any], *args: Any) -> Any:
    """The cleaned value; one over its limit is left out (None) and noted, as `_address` does."""
    try:
        return clean(text, *args)
    except TooLong as exc:
        contact.setdefault("_problems", []).append(str(exc))
        return None


def import_contacts(path: str | Path, default_region: str = "IT") -> ImportReport:
    """Upserts contacts keyed by `id`; only the columns present in the file change on existing ones."""
    table = read_csv_table(path, max_rows=MAX_CONTACT_ROWS, what="contacts")
    require_columns(table, "id")
    present = ["id"] + [c for c in CONTACT_COLUMNS if table.index(c) is not None]
    positions = [table.index(c) for c in present]
    report = ImportReport()
    parsed: dict[int, dict[str, Any]] = {}
    row_of: dict[int, int] = {}
    token_owner: dict[str, int] = {}
    for row_number, values in table.numbered():
        cells = {c: values[i] for c, i in zip(present, positions, strict=True)}  # type: ignore[index]
        try:
            contact = parse_contact(cells, default_region)
        except RowRefused as exc:
            report.refuse_row(row_number, shown(cells["id"]), str(exc))
            continue
        problems = contact.pop("_problems", None)
        if problems:
            report.refuse_row(
                row_number, shown(cells["id"]), "; ".join(problems) + " (the rest of the row was imported)"
            )
        if contact["id"] in parsed:
            report.duplicates += 1
            continue
        token = contact.get("app_token")
        if token and token_owner.setdefault(token, contact["id"]) != contact["id"]:
            report.refuse_row(row_number, shown(cells["id"]), "app_token already given to another contact")
            continue
        parsed[contact["id"]] = contact
        row_of[contact["id"]] = row_number
    with write_transaction():
        _refuse_tokens_owned_elsewhere(parsed, row_of, report)
        existing = _existing(list(parsed))
        now = utcnow()
        rows, new_ids = [], []
        for contact in parsed.values():
            known = existing.get(contact["id"])
            if known is not None and known[1].startswith("unsubscribed"):
                contact["consent"] = False  # an opt-out heard by us outlives the registry's copy
            if "kind" in contact and contact["kind"] is None:
                contact["kind"] = known[0] if known is not None else "patient"
            for position, column in ((2, "first_name"), (3, "last_name")):
                if column in contact and contact[column] is None:  # refused above: the stored one stays
                    contact[column] = known[position] if known is not None else ""
            rows.append({**contact, "updated_at": now})
            if known is None:
                report.added += 1
                new_ids.append(contact["id"])
            else:
                report.updated += 1
        _upsert(rows, present)
        if "consent" not in present and new_ids:
            # Marketing needs consent: a registry that says nothing about it gives none.
            for batch in chunked(new_ids, chunk_size(1)):
                Contact.update(consent=False, consent_changed_at=now).where(Contact.id.in_(batch)).execute()
            report.notes.append(
                f"the file has no consent column: {len(new_ids):,} new contacts are recorded without "
                "marketing consent"
            )
    return report


def _existing(ids: list[int]) -> dict[int, tuple[str, str, str, str]]:
    """The ids among these that are already contacts, with their kind, consent note and names."""
    found: dict[int, tuple[str, str, str, str]] = {}
    fields = (Contact.id, Contact.kind, Contact.consent_note, Contact.first_name, Contact.last_name)
    for batch in chunked(ids, chunk_size(1)):
        query = Contact.select(*fields).where(Contact.id.in_(batch))
        for contact_id, kind, note, first, last in rows_of(query):
            found[contact_id] = (kind, note or "", first, last)
    return found


def _refuse_tokens_owned_elsewhere(
    parsed: dict[int, dict[str, Any]], row_of: dict[int, int], report: ImportReport
) -> None:
    by_token = {c["app_token"]: c["id"] for c in parsed.values() if c.get("app_token")}
    for batch in chunked(list(by_token), chunk_size(1)):
        query = Contact.select(Contact.id, Contact.app_token).where(Contact.app_token.in_(batch))
        for owner, token in rows_of(query):
            contact_id = by_token[token]
            if owner != contact_id:
                parsed.pop(contact_id)
                report.refuse_row(
                    row_of[contact_id],
                    str(contact_id),
                    f"app_token already belongs to contact {owner}",
                )


def _upsert(rows: list[dict[str, Any]], present: list[str]) -> None:
    fields = [getattr(Contact, c) for c in present] + [Contact.updated_at]
    preserve = [f for f in fields if f is not Contact.id]
    # A device token the push service called dead stays dead; a new one from the registry is alive.
    revive = (
        {
            Contact.push_token_dead_at: Case(
                None, [(Contact.push_token == EXCLUDED.push_token, Contact.push_token_dead_at)]
            )
        }
        if "push_token" in present
        else None
    )
    for batch in chunked(rows, chunk_size(len(fields))):
        (
            Contact.insert_many([[r.get(f.name) for f in fields] for r in batch], fields=fields)
            .on_conflict(conflict_target=[Contact.id], preserve=preserve, update=revive)
            .execute()
        )
