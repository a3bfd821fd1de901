"""Contacts from the center's registry: the upsert of `campaigns contacts import`."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from peewee import EXCLUDED, Case, Field, chunked, fn

from store.addresses import InvalidAddress, normalise_email, normalise_phone
from store.bulk import chunk_size
from store.clock import utcnow
from store.csvfile import require_columns
from store.db import dialect, rows_of, write_transaction
from store.limits import REGISTRY_ID_MAX, TOKEN_MAX, TooLong, check_length, clean_name, shown
from store.models import CONTACT_KINDS, Contact
from store.report import ImportReport
from store.sheets import NumberCell, read_table, sheet_note

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


_CONTACTS_LOCK = 7_231_003  # PostgreSQL advisory lock: one contacts import gives out new ids at a time


def parse_registry_id(text: str, column: str = "id") -> str:
    """A registry id: opaque text, trimmed, case and leading zeros kept (`P1`, `000123`, a UUID).

    Raises RowRefused when it is blank, over REGISTRY_ID_MAX characters or holds a control character.
    """
    raw = text.strip()
    if not raw:
        raise RowRefused(f"{column} is blank")
    if isinstance(text, NumberCell) and not raw.isdigit():  # TRUE, 1.5, 1.2345e+19: no registry wrote that
        raise RowRefused(
            f"{column} is {raw} in the sheet, a number or a truth value; format the {column} column as text "
            "and type the ids again"
        )
    if len(raw) > REGISTRY_ID_MAX:
        raise RowRefused(f"{column} is longer than {REGISTRY_ID_MAX} characters ({len(raw):,})")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Cf") for ch in raw):  # Cf: zero-width, direction marks
        raise RowRefused(f"{column} holds a control or invisible character")
    # One id, one way of writing it: an é typed as e and an accent is the é of the other file.
    return unicodedata.normalize("NFC", raw)


def parse_contact(values: dict[str, str], default_region: str) -> dict[str, Any]:
    """The contact fields of one row, validated and normalised; raises RowRefused.

    A blank kind leaves the stored one as it is (a new contact is a patient); a blank consent is no.
    A name or token over its limit (store.limits) is left out and noted, like a bad address: the stored
    name stays (None here), the token is cleared, and the rest of the row still counts.
    """
    contact: dict[str, Any] = {"registry_id": parse_registry_id(values["id"])}
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


def import_contacts(path: str | Path, default_region: str = "IT", sheet: str | None = None) -> ImportReport:
    """Upserts contacts keyed by their registry `id`; only the columns present in the file change on
    existing ones, and a new registry id is a new contact."""
    table = read_table(path, max_rows=MAX_CONTACT_ROWS, what="contacts", sheet=sheet)  # CSV or a sheet
    require_columns(table, "id")
    present = ["id"] + [c for c in CONTACT_COLUMNS if table.index(c) is not None]
    positions = [table.index(c) for c in present]
    report = ImportReport()
    parsed: dict[str, dict[str, Any]] = {}  # by registry id
    row_of: dict[str, int] = {}
    token_owner: dict[str, str] = {}
    as_numbers = 0  # ids the sheet held as numbers: leading zeros, had there been any, are gone
    for row_number, values in table.numbered():
        cells = {c: values[i] for c, i in zip(present, positions, strict=True)}  # type: ignore[index]
        as_numbers += isinstance(cells["id"], NumberCell)
        try:
            contact = parse_contact(cells, default_region)
        except RowRefused as exc:
            report.refuse_row(row_number, shown(cells["id"]), str(exc))
            continue
        problems = contact.pop("_problems", None)
        registry_id = contact["registry_id"]
        if problems:
            report.refuse_row(
                row_number, shown(registry_id), "; ".join(problems) + " (the rest of the row was imported)"
            )
        if registry_id in parsed:
            report.duplicates += 1
            continue
        token = contact.get("app_token")
        if token and token_owner.setdefault(token, registry_id) != registry_id:
            report.refuse_row(row_number, shown(registry_id), "app_token already given to another contact")
            continue
        parsed[registry_id] = contact
        row_of[registry_id] = row_number
    with write_transaction():
        dialect().lock_transaction(_CONTACTS_LOCK, 0)  # the new contacts' ids are free until it commits
        _refuse_tokens_owned_elsewhere(parsed, row_of, report)
        _write_contacts(parsed, present[1:], report)
    numbers_note(report, as_numbers, "id")
    return sheet_note(report, table)


def numbers_note(report: ImportReport, count: int, column: str) -> None:
    """Says when a sheet held ids as numbers: `000123` typed into a number cell is 123, the id of another."""
    if count:
        report.notes.append(
            f"{count:,} {column}s were numbers in the sheet, read as their digits: an id with leading zeros "
            f"(000123) would have lost them; if the registry's ids have any, format the {column} column as "
            "text and import again"
        )


def _write_contacts(parsed: dict[str, dict[str, Any]], columns: list[str], report: ImportReport) -> None:
    """Upserts the parsed contacts, whose file had these columns besides `id`; counts them in `report`."""
    existing = _existing(list(parsed))
    now = utcnow()
    rows, new_ids = [], []
    next_id = _largest_id() + 1
    for registry_id, contact in parsed.items():
        known = existing.get(registry_id)
        if known is not None and known[2].startswith("unsubscribed"):
            contact["consent"] = False  # an opt-out heard by us outlives the registry's copy
        if "kind" in contact and contact["kind"] is None:
            contact["kind"] = known[1] if known is not None else "patient"
        for position, column in ((3, "first_name"), (4, "last_name")):
            if column in contact and contact[column] is None:  # refused above: the stored one stays
                contact[column] = known[position] if known is not None else ""
        if known is None:
            contact["id"] = next_id
            next_id += 1
            report.added += 1
            new_ids.append(contact["id"])
        else:
            contact["id"] = known[0]
            report.updated += 1
        rows.append({**contact, "updated_at": now})
    _upsert(rows, columns)
    if "consent" not in columns and new_ids:
        # Marketing needs consent: a registry that says nothing about it gives none.
        for batch in chunked(new_ids, chunk_size(1)):
            Contact.update(consent=False, consent_changed_at=now).where(Contact.id.in_(batch)).execute()
        report.notes.append(
            f"the file has no consent column: {len(new_ids):,} new contacts are recorded without "
            "marketing consent"
        )


def _largest_id() -> int:
    """The largest internal id given so far, 0 when there is no contact."""
    largest: int | None = Contact.select(fn.MAX(Contact.id)).scalar()
    return largest or 0


def _existing(registry_ids: list[str]) -> dict[str, tuple[int, str, str, str, str]]:
    """The registry ids among these that are already contacts: their id, kind, consent note and names."""
    found: dict[str, tuple[int, str, str, str, str]] = {}
    fields = (
        Contact.registry_id, Contact.id, Contact.kind, Contact.consent_note, Contact.first_name,
        Contact.last_name,
    )  # fmt: skip
    for batch in chunked(registry_ids, chunk_size(1)):
        query = Contact.select(*fields).where(Contact.registry_id.in_(batch))
        for registry_id, contact_id, kind, note, first, last in rows_of(query):
            found[registry_id] = (contact_id, kind, note or "", first, last)
    return found


def _refuse_tokens_owned_elsewhere(
    parsed: dict[str, dict[str, Any]], row_of: dict[str, int], report: ImportReport
) -> None:
    by_token = {c["app_token"]: c["registry_id"] for c in parsed.values() if c.get("app_token")}
    for batch in chunked(list(by_token), chunk_size(1)):
        query = Contact.select(Contact.registry_id, Contact.app_token).where(Contact.app_token.in_(batch))
        for owner, token in rows_of(query):
            registry_id = by_token[token]
            if owner != registry_id:
                parsed.pop(registry_id)
                report.refuse_row(
                    row_of[registry_id],
                    shown(registry_id),
                    f"app_token already belongs to contact {shown(owner)}",
                )


def _upsert(rows: list[dict[str, Any]], columns: list[str]) -> None:
    fields: list[Field] = [Contact.id, Contact.registry_id, *(getattr(Contact, c) for c in columns)]
    fields.append(Contact.updated_at)
    preserve = [f for f in fields if f is not Contact.id and f is not Contact.registry_id]
    # A device token the push service called dead stays dead; a new one from the registry is alive.
    revive = (
        {
            Contact.push_token_dead_at: Case(
                None, [(Contact.push_token == EXCLUDED.push_token, Contact.push_token_dead_at)]
            )
        }
        if "push_token" in columns
        else None
    )
    for batch in chunked(rows, chunk_size(len(fields))):
        (
            Contact.insert_many([[r.get(f.name) for f in fields] for r in batch], fields=fields)
            .on_conflict(conflict_target=[Contact.id], preserve=preserve, update=revive)
            .execute()
        )
