"""Setting a draft's recipients, the manual's four ways: paste, CSV file, picked contacts, all patients.

Every way ends in the same set-based pipeline: normalise each address for the channel, collapse
duplicates, match known contacts (so conversion can follow patients), leave out those without marketing
consent, and insert what is new in one transaction. Row problems are reported, never fatal; a whole
import is refused (adding nothing) only when it is over its limit, not a CSV, or lacks its column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peewee import chunked

from store.addresses import InvalidAddress, normalise_email, normalise_phone
from store.bulk import insert_rows
from store.campaigns import get_campaign
from store.clock import utcnow
from store.csvfile import read_csv_table
from store.db import database
from store.errors import ImportRefused, InvalidState
from store.models import Campaign, Contact, Message
from store.report import ImportReport

PASTE_LIMIT = 20_000
CSV_LIMIT = 100_000
_IDS_PER_QUERY = 900
_PASTE_SEPARATORS = re.compile(r"[,;\n\r\t]+")

# Header names people use for the template's columns, English and Italian.
COLUMN_ALIASES = {
    "email": ("email", "e_mail", "mail", "email_address", "indirizzo_email"),
    "phone": ("phone", "phone_number", "mobile", "cell", "cellulare", "telefono", "tel", "numero", "sms"),
    "first_name": ("first_name", "firstname", "first", "given_name", "nome"),
    "last_name": ("last_name", "lastname", "last", "surname", "family_name", "cognome"),
}


@dataclass
class Candidate:
    """One would-be recipient: where it came from, and its address once normalised."""

    row: int
    value: str
    key: str = ""  # normalised email or phone (for push: what finds the contact)
    first_name: str = ""
    last_name: str = ""
    contact_id: int | None = None
    address: str = ""  # what the message goes to: the key, or for push the device token


def _draft(campaign_id: int) -> Campaign:
    campaign = get_campaign(campaign_id)
    if campaign.state != "draft":
        raise InvalidState(
            f"campaign {campaign_id} is {campaign.state}; recipients can be added to drafts only"
        )
    return campaign


def _normalise(channel: str, value: str, region: str) -> str:
    text = value.strip()
    if channel == "email" or (channel == "push" and "@" in text):
        return normalise_email(text)
    return normalise_phone(text, region)


# -- the four ways ---------------------------------------------------------------------------------


def add_pasted(campaign_id: int, text: str, default_region: str = "IT") -> ImportReport:
    """Addresses separated by `,` `;` or new lines, at most 20,000 at once."""
    campaign = _draft(campaign_id)
    values = [v.strip() for v in _PASTE_SEPARATORS.split(text or "")]
    values = [v for v in values if v]
    if not values:
        raise ImportRefused("nothing to add: paste addresses separated by , or ;")
    if len(values) > PASTE_LIMIT:
        raise ImportRefused(
            f"the paste holds {len(values):,} addresses; paste at most {PASTE_LIMIT:,} at once"
        )
    candidates = [Candidate(row=i, value=v) for i, v in enumerate(values, start=1)]
    return _add_addresses(campaign, candidates, default_region, source="paste")


def address_column(channel: str) -> tuple[str, ...]:
    return {"email": ("email",), "sms": ("phone",), "push": ("email", "phone")}[channel]


def add_from_csv(campaign_id: int, path: str | Path, default_region: str = "IT") -> ImportReport:
    """A CSV with the template's columns (`first_name, last_name, email, phone`), at most 100,000 rows."""
    campaign = _draft(campaign_id)
    table = read_csv_table(path, max_rows=CSV_LIMIT, what="rows")
    where = {name: _find_column(table.header, name) for name in COLUMN_ALIASES}
    wanted = address_column(campaign.channel)
    present = [c for c in wanted if where[c] is not None]
    if not present:
        raise ImportRefused(
            f"{table.path} has no {' or '.join(wanted)} column for a {campaign.channel.upper()} campaign "
            f"(found: {', '.join(h for h in table.header if h) or 'no header'}); "
            "see `campaigns recipients template`"
        )
    first, last = where["first_name"], where["last_name"]
    candidates = []
    for row_number, values in table.rows:
        value = next((values[where[c]].strip() for c in present if values[where[c]].strip()), "")  # type: ignore[index]
        candidates.append(
            Candidate(
                row=row_number,
                value=value,
                first_name=values[first].strip() if first is not None else "",
                last_name=values[last].strip() if last is not None else "",
            )
        )
    return _add_addresses(campaign, candidates, default_region, source="csv")


def add_contacts(campaign_id: int, contact_ids: Iterable[int]) -> ImportReport:
    """Contacts picked by id."""
    campaign = _draft(campaign_id)
    ids = list(contact_ids)
    if not ids:
        raise ImportRefused("no contacts given")
    found: dict[int, dict[str, Any]] = {}
    for batch in chunked(ids, _IDS_PER_QUERY):
        for contact in _contact_rows(Contact.id.in_(batch)):
            found[contact["id"]] = contact
    report = ImportReport()
    contacts = []
    for position, contact_id in enumerate(ids, start=1):
        contact = found.get(contact_id)
        if contact is None:
            report.refuse_row(position, str(contact_id), "no contact has this id")
        else:
            contacts.append((position, contact))
    return _add_known(campaign, contacts, report, source="contacts")


def add_all_patients(campaign_id: int) -> ImportReport:
    """Every patient of the center."""
    campaign = _draft(campaign_id)
    contacts = list(enumerate(_contact_rows(Contact.kind == "patient"), start=1))
    return _add_known(campaign, contacts, ImportReport(), source="all_patients")


# -- the shared pipeline ---------------------------------------------------------------------------


def _find_column(header: list[str], name: str) -> int | None:
    for alias in COLUMN_ALIASES[name]:
        if alias in header:
            return header.index(alias)
    return None


def _contact_rows(condition: Any) -> list[dict[str, Any]]:
    query = Contact.select(
        Contact.id, Contact.kind, Contact.first_name, Contact.last_name, Contact.email, Contact.phone,
        Contact.push_token, Contact.push_token_dead_at, Contact.consent,
    ).where(condition).order_by(Contact.id)  # fmt: skip
    return list(query.dicts())


def _channel_address(channel: str, contact: dict[str, Any]) -> tuple[str | None, str]:
    """The contact's address for the channel, or None with the reason it has none."""
    if channel == "email":
        return contact["email"], "the contact has no email address"
    if channel == "sms":
        return contact["phone"], "the contact has no mobile number"
    if contact["push_token"] and contact["push_token_dead_at"]:
        return None, "the contact's app no longer receives push messages"
    return contact["push_token"], "the contact has not installed the app"


def _add_addresses(campaign: Campaign, candidates: list[Candidate], region: str, source: str) -> ImportReport:
    """Paste and CSV: normalise, collapse duplicates, match contacts, then store."""
    report = ImportReport()
    unique: dict[str, Candidate] = {}
    for candidate in candidates:
        if not candidate.value:
            report.refuse_row(candidate.row, "", f"no {' or '.join(address_column(campaign.channel))}")
            continue
        try:
            candidate.key = _normalise(campaign.channel, candidate.value, region)
        except InvalidAddress as exc:
            report.refuse_row(candidate.row, candidate.value, str(exc))
            continue
        if candidate.key in unique:
            report.duplicates += 1
        else:
            unique[candidate.key] = candidate
    contacts = _match_contacts(list(unique))
    ready = []
    for key, candidate in unique.items():
        contact = contacts.get(key)
        if contact is not None:
            if not contact["consent"]:
                report.opted_out += 1
                continue
            candidate.contact_id = contact["id"]
            candidate.first_name = candidate.first_name or contact["first_name"]
            candidate.last_name = candidate.last_name or contact["last_name"]
        if campaign.channel == "push":
            if contact is None:
                report.refuse_row(candidate.row, candidate.value, "no contact with this address has the app")
                continue
            token, reason = _channel_address("push", contact)
            if not token:
                report.refuse_row(candidate.row, candidate.value, reason)
                continue
            candidate.address = token
        else:
            candidate.address = key
        ready.append(candidate)
    return _store(campaign, ready, report, source)


def _match_contacts(keys: list[str]) -> dict[str, dict[str, Any]]:
    """Known contacts by normalised email or phone; a patient wins over others, then the oldest."""
    emails = [k for k in keys if "@" in k]
    phones = [k for k in keys if "@" not in k]
    found: dict[str, dict[str, Any]] = {}
    for field, values in ((Contact.email, emails), (Contact.phone, phones)):
        for batch in chunked(values, _IDS_PER_QUERY):
            for contact in _contact_rows(field.in_(batch)):
                key = contact[field.name]
                known = found.get(key)
                if known is None or (contact["kind"] == "patient" and known["kind"] != "patient"):
                    found[key] = contact
    return found


def _add_known(
    campaign: Campaign, contacts: list[tuple[int, dict[str, Any]]], report: ImportReport, source: str
) -> ImportReport:
    """Picked contacts and all patients: their own address for the channel."""
    unique: dict[str, Candidate] = {}
    for position, contact in contacts:
        address, reason = _channel_address(campaign.channel, contact)
        if not address:
            report.refuse_row(
                position, f"{contact['first_name']} {contact['last_name']} (id {contact['id']})", reason
            )
            continue
        if address in unique:
            report.duplicates += 1
            continue
        if not contact["consent"]:
            report.opted_out += 1
            continue
        unique[address] = Candidate(
            row=position, value=str(contact["id"]), key=address, address=address, contact_id=contact["id"],
            first_name=contact["first_name"], last_name=contact["last_name"],
        )  # fmt: skip
    return _store(campaign, list(unique.values()), report, source)


MESSAGE_FIELDS = [
    Message.campaign, Message.contact, Message.address, Message.first_name, Message.last_name,
    Message.source, Message.state, Message.added_at,
]  # fmt: skip


def _store(campaign: Campaign, ready: list[Candidate], report: ImportReport, source: str) -> ImportReport:
    now = utcnow()
    rows = (
        (campaign.id, c.contact_id, c.address, c.first_name, c.last_name, source, "pending", now)
        for c in ready
    )
    with database.atomic():
        report.added = insert_rows(Message, MESSAGE_FIELDS, rows, ignore_conflicts=True)
        Campaign.update(updated_at=now).where(Campaign.id == campaign.id).execute()
    report.already_present = len(ready) - report.added
    report.errors.sort(key=lambda e: e["row"])
    return report


def recipient_count(campaign_id: int) -> int:
    return Message.select().where(Message.campaign == campaign_id).count()
