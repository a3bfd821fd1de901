"""Who, among a campaign's recipients: those it reached, those who did not open it, those who booked…

The manual's FAQ has admins subtract lists by hand to find who did not open a campaign; these are
the lists, for `campaigns export` and for re-targeting them with a new draft.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from store.bulk import stored_time
from store.campaign_view import CampaignView
from store.campaigns import get_campaign
from store.clock import iso, utcnow
from store.db import database, dialect
from store.errors import BadInput
from store.experiments import HELD_OUT, group_of
from store.message_limits import MessageLimits
from store.models import ACCEPTED_STATES, Campaign
from store.private_files import open_private
from store.sheet_writer import file_format, write_workbook
from store.stats import CONVERSION_DAYS

WHO = ("all", "sent", "failed", "opened", "not-opened", "clicked", "converted", "holdout")
LABELS = {
    "all": "everyone", "sent": "reached", "failed": "failed", "opened": "opened",
    "not-opened": "did not open", "clicked": "clicked", "converted": "booked", "holdout": "were held out",
}  # fmt: skip
_ACCEPTED = ", ".join(f"'{s}'" for s in ACCEPTED_STATES)
_ADDRESS_COLUMN = {"email": "email", "sms": "phone", "push": "push_token"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .]*$")


def _converted() -> str:
    end = dialect().plus_days("m.sent_at", CONVERSION_DAYS)
    return (
        f"m.state IN ({_ACCEPTED}) AND EXISTS (SELECT 1 FROM reservation r "
        "JOIN contact c ON c.id = r.contact_id "
        f"WHERE r.contact_id = m.contact_id AND c.kind = 'patient' AND r.created_at >= m.sent_at "
        f"AND r.created_at < {end})"
    )


def condition(who: str, channel: str, open_tracking: bool = True) -> str:
    """The SQL condition on `message m` for this audience; BadInput for one the campaign cannot have."""
    if who not in WHO:
        raise BadInput(f"unknown audience {who!r}: choose {', '.join(WHO)}")
    if who in ("opened", "not-opened", "clicked") and channel != "email":
        raise BadInput(f"opens and clicks are known for email only, not for {channel.upper()}")
    if who in ("opened", "not-opened") and not open_tracking:
        raise BadInput("opens are not known: the campaign went without the open-tracking image")
    return {
        "all": "1 = 1",
        "sent": f"m.state IN ({_ACCEPTED})",
        "failed": "m.state = 'failed'",
        "opened": "m.opened_at IS NOT NULL",
        "not-opened": f"m.state IN ({_ACCEPTED}) AND m.opened_at IS NULL",
        "clicked": "m.clicked_at IS NOT NULL",
        "converted": _converted(),
        "holdout": f"m.state = '{HELD_OUT}'",
    }[who]


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe.

    A plain number (`+393471234567`) cannot carry a formula and stays as it is."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def _rows(campaign: Campaign, who: str) -> Iterator[tuple[Any, ...]]:
    where = condition(who, campaign.channel, campaign.open_tracking)
    sql = (
        # The contact as the user knows it: the registry's id, never our internal one.
        "SELECT m.address, m.first_name, m.last_name, "
        "(SELECT rc.registry_id FROM contact rc WHERE rc.id = m.contact_id), m.state, m.error, m.variant, "
        "m.sent_at, m.delivered_at, m.opened_at, m.clicked_at FROM message m "
        f"WHERE m.campaign_id = {database.param} AND {where} ORDER BY m.id"
    )
    cursor = database.execute_sql(sql, [campaign.id])
    while batch := cursor.fetchmany(2000):
        yield from batch


def recipient_table(campaign_id: int, who: str) -> tuple[list[str], Iterator[list[str]]]:
    """The audience's column names and its rows, every cell as text as it is stored ("" for nothing)."""
    campaign = get_campaign(campaign_id)
    condition(
        who, campaign.channel, campaign.open_tracking
    )  # a bad audience is refused before anything is written
    columns = [_ADDRESS_COLUMN[campaign.channel], "first_name", "last_name", "contact_id", "state", "reason",
               "sent_at", "delivered_at", "opened_at", "clicked_at", "group"]  # fmt: skip
    return columns, _texts(campaign, who, has_groups(campaign))


def has_groups(campaign: Campaign) -> bool:
    """True when the campaign has a hold-out or a variant B: drawn at Send Now, or found in its messages."""
    if campaign.holdout_percent or campaign.variant_share is not None:
        return True
    p = database.param
    found = database.execute_sql(
        f"SELECT 1 FROM message m WHERE m.campaign_id = {p} AND (m.state = '{HELD_OUT}' OR m.variant = 'b') "
        "LIMIT 1",
        [campaign.id],
    ).fetchone()
    return found is not None


def _iso_text(value: datetime | str | None) -> str:
    """`iso(stored_time(value))`, "" for none, in a third of the time (four times a row of an export)."""
    moment = stored_time(value)
    if moment is None:
        return ""
    return moment.isoformat() + "Z" if moment.tzinfo is None else iso(moment) or ""


def _texts(campaign: Campaign, who: str, grouped: bool) -> Iterator[list[str]]:
    """Each row as text; its group (`a`, `b`, `holdout`) last, "" when the campaign has no groups."""
    for row in _rows(campaign, who):
        address, first, last, contact_id, state, error, variant, *times = row
        times = [_iso_text(t) for t in times]
        group = group_of(state, variant) if grouped else ""
        yield ["" if v is None else str(v) for v in (address, first, last, contact_id or "", state,
                                                     error or "", *times, group)]  # fmt: skip


def write_recipients(campaign_id: int, who: str, out: IO[str], separator: str = ",") -> int:
    """Writes the audience as CSV rows to `out` and returns how many; `separator` `;` is what Excel set
    to Italian (or most of Europe) opens as columns."""
    columns, rows = recipient_table(campaign_id, who)
    writer = csv.writer(out, delimiter=separator)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
    return count


def export_recipients(campaign_id: int, who: str, path: str | Path, separator: str = ",") -> int:
    """Writes the audience as a CSV file (UTF-8 with BOM, for Excel) or, named .xlsx, as a workbook whose
    cells are all text; returns its rows; all or nothing, and an extension neither is refused first."""
    campaign = get_campaign(campaign_id)
    condition(who, campaign.channel, campaign.open_tracking)  # a bad audience is refused before any file
    target = Path(path).expanduser()
    as_workbook = file_format(target) == "xlsx"
    partial = target.with_name(f".{target.name}.partial")
    try:
        # Created anew ("x"): a link another account left under that name is removed, never followed.
        partial.unlink(missing_ok=True)
        if as_workbook:
            with open_private(partial, "xb") as book:
                count = write_workbook(book, *recipient_table(campaign_id, who), sheet="Recipients")
        else:
            with open_private(partial, "x", encoding="utf-8-sig", newline="") as out:
                count = write_recipients(campaign_id, who, out, separator)
        os.replace(partial, target)
    except OSError as exc:
        raise BadInput(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)  # gone already when the file was complete
    return count


def retarget(
    campaign_id: int, who: str, now: Any = None, limits: MessageLimits | None = None
) -> tuple[CampaignView, int, int]:
    """A new draft with the same content for this audience of the campaign; (draft, recipients, left
    out because they unsubscribed or withdrew consent since). BadInput when nobody is left."""
    from store.drafts import new_draft_from

    source = get_campaign(campaign_id)
    where = condition(who, source.channel, source.open_tracking)
    now = now or utcnow()
    p = database.param
    consenting = f"(o.address IS NULL AND (c.id IS NULL OR c.consent = {dialect().boolean(True)}))"
    rows = database.execute_sql(
        f"SELECT m.contact_id, m.address, m.first_name, m.last_name, {consenting} FROM message m "
        "LEFT JOIN contact c ON c.id = m.contact_id LEFT JOIN opt_out o ON o.address = m.address "
        f"WHERE m.campaign_id = {p} AND {where} ORDER BY m.id",
        [campaign_id],
    ).fetchall()
    left_out = sum(1 for row in rows if not row[4])
    recipients = [(*row[:4], "retarget") for row in rows if row[4]]
    if not recipients:
        why = f": all {left_out:,} unsubscribed or withdrew consent since" if left_out else ""
        raise BadInput(f"nobody to target among those who {LABELS[who]}{why}; no draft was created")
    draft, added = new_draft_from(source, f"{source.name} · {LABELS[who]}"[:200], recipients, now, limits)
    return draft, added, left_out
