"""Setting a draft's recipients, the manual's four ways: paste, CSV file, picked contacts, all patients.

Every way ends in the same set-based pipeline: normalise each address for the channel, collapse
duplicates, match known contacts (so conversion can follow patients), leave out those without marketing
consent, and insert what is new in one transaction. Row problems are reported, never fatal; a whole
import is refused (adding nothing) only when it is over its limit, not a CSV, or lacks its column.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import Case, Field, fn

from store.addresses import InvalidAddress, normalise_email, normalise_phone
from store.bulk import insert_rows, select_in
from store.campaigns import get_campaign
from store.clock import utcnow
from store.consent import opted_out_among
from store.csvfile import decode
from store.db import bulk_transaction, dicts_of, rows_of
from store.errors import ImportRefused, InvalidState
from store.lifecycle import ADDING_RECIPIENTS, can_add_recipients
from store.limits import PHONE_MAX, TooLong, clean_name, shown
from store.models import Campaign, Contact, Message
from store.phones import is_mobile, to_e164_many
from store.report import ImportReport
from store.sheets import read_table, sheet_note
from store.suppressions import suppressed_among

PASTE_LIMIT = 20_000
CSV_LIMIT = 100_000
PASTE_SEPARATORS = re.compile(r"[,;\n\r\t]+")

# Header names people use for the template's columns, English and Italian.
COLUMN_ALIASES = {
    "email": ("email", "e_mail", "mail", "email_address", "indirizzo_email"),
    "phone": ("phone", "phone_number", "mobile", "cell", "cellulare", "telefono", "tel", "numero", "sms"),
    "first_name": ("first_name", "firstname", "first", "given_name", "nome"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name", "cognome"),
}


@dataclass
class Incoming:
    """Addresses as given, column by column: their row numbers, values, and names when known."""

    rows: list[int]
    values: list[str]
    first_names: list[str] | None = None
    last_names: list[str] | None = None


# A recipient ready to store: (contact id or None, address, first name, last name).
Ready = tuple[int | None, str, str, str]


def _draft(campaign_id: int) -> Campaign:
    campaign = get_campaign(campaign_id)
    if not can_add_recipients(campaign.state):
        raise InvalidState(
            f"campaign {campaign_id} is {campaign.state}; recipients can be added to drafts only"
        )
    return campaign


def _normaliser(channel: str, region: str) -> Callable[[str], str]:
    """What turns a given value into the key that finds a contact: an email, or a phone in E.164."""
    if channel == "email":
        return normalise_email
    if channel == "sms":
        return lambda value: normalise_phone(value, region)
    return lambda value: normalise_email(value) if "@" in value else normalise_phone(value, region)


# -- the four ways ---------------------------------------------------------------------------------


def add_pasted(campaign_id: int, text: str, default_region: str = "IT") -> ImportReport:
    """Addresses separated by `,` `;` or new lines, at most 20,000 at once."""
    campaign = _draft(campaign_id)
    values = [v.strip() for v in PASTE_SEPARATORS.split(text or "")]
    values = [v for v in values if v]
    if not values:
        raise ImportRefused("nothing to add: paste addresses separated by , or ;")
    if len(values) > PASTE_LIMIT:
        raise ImportRefused(
            f"the paste holds {len(values):,} addresses; paste at most {PASTE_LIMIT:,} at once"
        )
    incoming = Incoming(rows=list(range(1, len(values) + 1)), values=values)
    return _add_addresses(campaign, incoming, default_region, source="paste")


def pasted_text(data: bytes) -> str:
    """A paste piped in as bytes, read by the rules of CSV files (UTF-8, UTF-16 with its BOM, or
    Windows-1252 line by line), or refused whole when it is no text at all."""
    return decode(data, "standard input", kind="a list of addresses")


def address_column(channel: str) -> tuple[str, ...]:
    return {"email": ("email",), "sms": ("phone",), "push": ("email", "phone")}[channel]


def add_from_csv(
    campaign_id: int, path: str | Path, default_region: str = "IT", sheet: str | None = None
) -> ImportReport:
    """A CSV or a workbook's sheet (store.sheets) with the template's columns (`first_name, last_name,
    email, phone`), at most 100,000 rows."""
    campaign = _draft(campaign_id)
    table = read_table(path, max_rows=CSV_LIMIT, what="rows", sheet=sheet)
    where = {name: _find_column(table.header, name) for name in COLUMN_ALIASES}
    wanted = address_column(campaign.channel)
    present = [c for c in wanted if where[c] is not None]
    if not present:
        kind = f"{'a' if campaign.channel == 'push' else 'an'} {campaign.channel.upper()} campaign"
        raise ImportRefused(
            f"{table.path} has no {' or '.join(wanted)} column for {kind} "
            f"(found: {', '.join(h for h in table.header if h) or 'no header'}); the CSV template has "
            "them (t on the recipients screen, `campaigns recipients template` on the command line)"
        )
    values = table.column(where[present[0]])  # type: ignore[arg-type]
    for other in present[1:]:  # push: the phone where the email is blank
        values = [v or alt for v, alt in zip(values, table.column(where[other]), strict=True)]  # type: ignore[arg-type]
    names = [table.column(where[n]) if where[n] is not None else None for n in ("first_name", "last_name")]  # type: ignore[arg-type]
    incoming = Incoming(rows=table.lines, values=values, first_names=names[0], last_names=names[1])
    return sheet_note(_add_addresses(campaign, incoming, default_region, source="csv"), table)


def add_contacts(campaign_id: int, contact_ids: Iterable[int]) -> ImportReport:
    """Contacts picked in the app, by their internal id."""
    return _add_picked(campaign_id, list(contact_ids), "id")


def add_registry_contacts(campaign_id: int, registry_ids: Iterable[str]) -> ImportReport:
    """Contacts named by their registry ids (`recipients add --contacts`), matched exactly as given (in
    Unicode's one way of writing them, as the import stores them)."""
    given = [unicodedata.normalize("NFC", i.strip()) for i in registry_ids]
    return _add_picked(campaign_id, given, "registry_id")


def _add_picked(campaign_id: int, keys: list[Any], column: str) -> ImportReport:
    campaign = _draft(campaign_id)
    if not keys:
        raise ImportRefused("no contacts given")
    found = {contact[column]: contact for contact in _contacts_where_in(column, keys)}
    report = ImportReport()
    contacts = []
    for position, key in enumerate(keys, start=1):
        contact = found.get(key)
        if contact is None:
            report.refuse_row(position, shown(str(key)), "no contact has this id")
        else:
            contacts.append((position, contact))
    return _add_known(campaign, contacts, report, source="contacts")


def add_all_patients(campaign_id: int) -> ImportReport:
    """Every patient of the center; a refused one is reported under its place among them, oldest first."""
    campaign = _draft(campaign_id)
    patients = _contact_rows(Contact.kind == "patient")
    return _add_known(campaign, list(enumerate(patients, start=1)), ImportReport(), source="all_patients")


# -- the shared pipeline ---------------------------------------------------------------------------


def _find_column(header: list[str], name: str) -> int | None:
    for alias in COLUMN_ALIASES[name]:
        if alias in header:
            return header.index(alias)
    return None


CONTACT_COLUMNS = (
    "id", "registry_id", "kind", "first_name", "last_name", "email", "phone", "push_token",
    "push_token_dead_at", "consent",
)  # fmt: skip
_SELECT_CONTACTS = f"SELECT {', '.join(CONTACT_COLUMNS)} FROM contact"


def _contact_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    contact = dict(zip(CONTACT_COLUMNS, row, strict=True))
    contact["consent"] = bool(contact["consent"])
    return contact


def _contact_rows(condition: Any) -> list[dict[str, Any]]:
    fields = [getattr(Contact, c) for c in CONTACT_COLUMNS]
    return list(dicts_of(Contact.select(*fields).where(condition).order_by(Contact.id)))


def _contacts_where_in(column: str, values: list[Any]) -> Iterator[dict[str, Any]]:
    for row in select_in(f"{_SELECT_CONTACTS} WHERE {column} IN ({{}}) ORDER BY id", values):
        yield _contact_dict(row)


def _channel_address(channel: str, contact: dict[str, Any]) -> tuple[str | None, str]:
    """The contact's address for the channel, or None with the reason it has none."""
    if channel == "email":
        return contact["email"], "the contact has no email address"
    if channel == "sms":
        if contact["phone"] and not is_mobile(contact["phone"]):
            return None, "the contact's number is not a mobile: an SMS cannot reach it"
        return contact["phone"], "the contact has no mobile number"
    if contact["push_token"] and contact["push_token_dead_at"]:
        return None, "the contact's app no longer receives push messages"
    return contact["push_token"], "the contact has not installed the app"


def _add_addresses(campaign: Campaign, incoming: Incoming, region: str, source: str) -> ImportReport:
    """Paste and CSV: normalise, collapse duplicates, match contacts, then store."""
    report = ImportReport()
    channel = campaign.channel
    normalise = _normaliser(channel, region)
    missing = f"no {' or '.join(address_column(channel))}"
    # Clean phone numbers in bulk first; what that leaves out goes one by one through `normalise`, which
    # also refuses what is longer than any typed number (the bulk path would take a padded one).
    sms = channel == "sms"
    values = incoming.values
    prepared = (
        to_e164_many([v if len(v) <= PHONE_MAX else "" for v in values], region, mobile=True)
        if sms
        else [None] * len(values)
    )
    first_seen: dict[str, int] = {}
    names: dict[int, tuple[str, str]] = {}
    for i, value in enumerate(values):
        if not value:
            report.refuse_row(incoming.rows[i], "", missing)
            continue
        key = prepared[i]
        if key is None:
            try:
                key = normalise(value)
            except InvalidAddress as exc:
                report.refuse_row(incoming.rows[i], shown(value), str(exc))
                continue
            if sms and not is_mobile(key):
                report.refuse_row(incoming.rows[i], value, "not a mobile number: an SMS cannot reach it")
                continue
        try:
            names[i] = _given_names(incoming, i)
        except TooLong as exc:
            report.refuse_row(incoming.rows[i], shown(value), str(exc))
            continue
        if key in first_seen:
            report.duplicates += 1
        else:
            first_seen[key] = i
    contacts = _match_contacts(list(first_seen))
    unsubscribed = opted_out_among(list(first_seen))
    ready: list[Ready] = []
    positions: list[int] = []  # of each ready one, its row in `incoming`
    for key, i in first_seen.items():
        first, last = names[i]
        contact = contacts.get(key)
        if key in unsubscribed:
            report.opted_out += 1
            continue
        if contact is None:
            if channel == "push":
                report.refuse_row(
                    incoming.rows[i], shown(values[i]), "no contact with this address has the app"
                )
            else:
                ready.append((None, key, first, last))
                positions.append(i)
            continue
        if not contact["consent"]:
            report.opted_out += 1
            continue
        address = key
        if channel == "push":
            token, reason = _channel_address(channel, contact)
            if not token:
                report.refuse_row(incoming.rows[i], shown(values[i]), reason)
                continue
            address = token
        try:
            known_first, known_last = _contact_names(contact)
        except TooLong as exc:
            report.refuse_row(incoming.rows[i], shown(values[i]), f"the matching contact's {exc}")
            continue
        ready.append((contact["id"], address, first or known_first, last or known_last))
        positions.append(i)
    # The address a message would go to (for push the contact's token, not the pasted email) is what
    # the suppression list is of.
    suppressed = suppressed_among([address for _contact, address, _first, _last in ready])
    if suppressed:
        kept = []
        for entry, i in zip(ready, positions, strict=True):
            if entry[1] in suppressed:
                report.suppress_row(incoming.rows[i], shown(values[i]), suppressed[entry[1]])
            else:
                kept.append(entry)
        ready = kept
    return _store(campaign, ready, report, source)


def _given_names(incoming: Incoming, i: int) -> tuple[str, str]:
    """The names a row gives, cleaned (store.limits); TooLong names the column over its limit."""
    first = clean_name(incoming.first_names[i], "first_name") if incoming.first_names else ""
    last = clean_name(incoming.last_names[i], "last_name") if incoming.last_names else ""
    return first, last


def _contact_names(contact: dict[str, Any]) -> tuple[str, str]:
    """A contact's names as a message gets them: the same rules as an import's, for contacts stored
    before those rules (store.limits)."""
    return clean_name(contact["first_name"], "first_name"), clean_name(contact["last_name"], "last_name")


def _match_contacts(keys: list[str]) -> dict[str, dict[str, Any]]:
    """Known contacts by normalised email or phone; a patient wins over others, then the oldest."""
    found: dict[str, dict[str, Any]] = {}
    for column in ("email", "phone"):
        values = [k for k in keys if ("@" in k) == (column == "email")]
        for contact in _contacts_where_in(column, values):
            key = contact[column]
            known = found.get(key)
            if known is None or (contact["kind"] == "patient" and known["kind"] != "patient"):
                found[key] = contact
    return found


def _add_known(
    campaign: Campaign, contacts: list[tuple[int, dict[str, Any]]], report: ImportReport, source: str
) -> ImportReport:
    """Picked contacts and all patients: their own address for the channel."""
    report.of_contacts = True
    seen: set[str] = set()
    ready: list[Ready] = []
    addresses = [_channel_address(campaign.channel, contact) for _position, contact in contacts]
    unsubscribed = opted_out_among([address for address, _reason in addresses if address])
    suppressed = suppressed_among([address for address, _reason in addresses if address])
    for (position, contact), (address, reason) in zip(contacts, addresses, strict=True):
        if not address:
            report.refuse_row(position, _who(contact), reason)
        elif address in seen:
            report.duplicates += 1
        elif not contact["consent"] or address in unsubscribed:
            report.opted_out += 1
        elif address in suppressed:
            report.suppress_row(position, _who(contact), suppressed[address])
        else:
            try:
                first, last = _contact_names(contact)
            except TooLong as exc:
                report.refuse_row(position, _who(contact), f"the contact's {exc}; correct it in the registry")
                continue
            seen.add(address)
            ready.append((contact["id"], address, first, last))
    return _store(campaign, ready, report, source)


def _who(contact: dict[str, Any]) -> str:
    name = f"{shown(contact['first_name'])} {shown(contact['last_name'])}"
    return f"{name} (id {shown(contact['registry_id'])})"


def _store(campaign: Campaign, ready: list[Ready], report: ImportReport, source: str) -> ImportReport:
    now = utcnow()
    fields: list[Field] = [Message.contact, Message.address, Message.first_name, Message.last_name]
    constants: dict[Field, Any] = {
        Message.campaign: campaign.id, Message.source: source, Message.state: "pending", Message.added_at: now
    }  # fmt: skip
    with bulk_transaction():
        # Taking the write lock first: the draft cannot be queued or vanish under the rows added to it.
        still_draft = (Campaign.id == campaign.id) & (Campaign.state.in_(ADDING_RECIPIENTS))
        if not Campaign.update(updated_at=now).where(still_draft).execute():
            raise InvalidState(f"campaign {campaign.id} is no longer a draft; nothing was added")
        report.added = insert_rows(Message, fields, ready, constants=constants, ignore_conflicts=True)
    report.already_present = len(ready) - report.added
    return report


def recipients_by_source(campaign_id: int) -> dict[str, int]:
    """How many recipients each way added: paste, csv, contacts, all_patients."""
    query = (
        Message.select(Message.source, fn.COUNT(Message.id))
        .where(Message.campaign == campaign_id)
        .group_by(Message.source)
    )
    return dict(rows_of(query))


def sample_person(campaign_id: int | None) -> tuple[str, str]:
    """A real recipient's names for previews: the campaign's first, else the first patient."""
    if campaign_id is not None:
        first = (
            Message.select(Message.first_name, Message.last_name)
            .where((Message.campaign == campaign_id) & (Message.first_name != ""))
            .order_by(Message.id)
            .first()
        )
        if first is not None:
            return first.first_name, first.last_name
    patient = Contact.select(Contact.first_name, Contact.last_name).where(Contact.kind == "patient").first()
    return (patient.first_name, patient.last_name) if patient else ("Maria", "Rossi")


def first_recipients(campaign_id: int, limit: int = 20) -> list[tuple[int, str, str, str]]:
    """The campaign's first recipients (message id, address, first and last name), those still to be
    sent first: whose copies `campaigns check-email` tries to build, the first that can be made."""
    query = (
        Message.select(Message.id, Message.address, Message.first_name, Message.last_name)
        .where(Message.campaign == campaign_id)
        .order_by(Case(None, [(Message.state == "pending", 0)], 1), Message.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2] or "", row[3] or "") for row in rows_of(query)]
