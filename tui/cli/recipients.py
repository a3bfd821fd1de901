"""`campaigns recipients`: set a draft's recipients, the import template, what Send Now would do."""

from __future__ import annotations

import os
import sys

import click

from store.errors import BadInput
from tui.cli.common import common_options, emit_report, runtime


@click.group()
@common_options
def recipients() -> None:
    """A draft's recipients: add them four ways, get the CSV template, check before sending."""


@recipients.command("add")
@click.argument("campaign_id", metavar="ID", type=int)
@click.option(
    "--paste",
    metavar="TEXT",
    help="Addresses separated by , or ; (at most 20,000); - reads stdin (UTF-8, UTF-16 or Windows).",
)
@click.option(
    "--file",
    "--csv",
    "csv_file",
    metavar="FILE",
    help="A .csv, .tsv, .xlsx or .ods of at most 100,000 rows (see `template`).",
)
@click.option("--sheet", metavar="NAME", help="The sheet of an .xlsx or .ods to read (else the first).")
@click.option("--contacts", metavar="ID,ID,...", help="The registry's contact ids, comma separated.")
@click.option("--all-patients", is_flag=True, help="Every patient of the center.")
@common_options
def add(
    campaign_id: int,
    paste: str | None,
    csv_file: str | None,
    contacts: str | None,
    all_patients: bool,
    sheet: str | None,
) -> None:
    """Add recipients to draft ID, one way at a time.

    Addresses are checked and normalised for the channel (emails, phone numbers in E.164 read in
    [contacts] default_region, push through the contact's app). Duplicates collapse, known contacts are
    matched by email or phone, and contacts without marketing consent are left out. A name over 100
    characters, or an address longer than any real one, refuses its row; line breaks in a name become
    a space. The report lists every refused row with its reason. A file or paste over the limit, not
    text nor a readable workbook, without the channel's column or naming a column twice is refused
    whole and adds nothing. A workbook's first sheet is read, or the one --sheet names.
    """  # fmt: skip
    from store import recipients as store

    chosen = [name for name, given in (("--paste", paste), ("--file", csv_file), ("--contacts", contacts),
                                       ("--all-patients", all_patients)) if given]  # fmt: skip
    if len(chosen) != 1:
        raise BadInput("give exactly one of --paste, --file, --contacts, --all-patients")
    if sheet is not None and csv_file is None:
        raise BadInput("--sheet goes with --file (the sheet of a workbook to read)")
    rt = runtime()
    rt.open_store()
    region = rt.config.contacts.default_region
    if paste is not None:
        report = store.add_pasted(campaign_id, _pasted(paste), region)
    elif csv_file is not None:
        report = store.add_from_csv(campaign_id, csv_file, region, sheet)
    elif contacts is not None:
        report = store.add_registry_contacts(campaign_id, parse_ids(contacts))
    else:
        report = store.add_all_patients(campaign_id)
    emit_report(report)


def _pasted(paste: str) -> str:
    """The paste as text: stdin's bytes, or an argument Python could not read as UTF-8 (it holds them as
    surrogate escapes), decoded by the rules of CSV files, so no raw byte reaches the report."""
    from store.recipients import pasted_text

    if paste == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        return pasted_text(stdin.read()) if stdin is not None else sys.stdin.read()
    try:
        paste.encode("utf-8")
    except UnicodeEncodeError:
        return pasted_text(os.fsencode(paste))
    return paste


def parse_ids(text: str) -> list[str]:
    """The registry ids of `--contacts`, as given (`P1`, `000123`), separated by `,` or `;`."""
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


@recipients.command("template")
@click.argument("file", required=False, type=click.Path(dir_okay=False, writable=True))
@common_options
def template(file: str | None) -> None:
    """Write the CSV import template to FILE (standard output without one); FILE.xlsx is a workbook.

    Columns first_name, last_name, email, phone; header names match in any case and with stray
    spaces (Nome, Cognome, E-mail, Cellulare are understood too). Email campaigns need the email
    column, SMS campaigns the phone column, push campaigns either one (to find the patient's app).
    The workbook's columns are formatted as text, so Excel keeps leading zeros and +39 as typed.
    """
    from fixtures.template import recipients_template, recipients_template_table
    from store.private_files import write_private_text
    from store.sheet_writer import file_format, save_workbook

    text = recipients_template()
    if file is None:
        click.echo(text, nl=False)
        return
    try:
        if file_format(file) == "xlsx":
            save_workbook(file, *recipients_template_table(), sheet="Recipients")
        else:
            write_private_text(file, text)
    except OSError as exc:
        raise BadInput(f"cannot write {file}: {exc.strerror}") from None
    click.echo(f"Wrote the recipients template to {file}", err=True)


@recipients.command("check")
@click.argument("campaign_id", metavar="ID", type=int)
@common_options
def check(campaign_id: int) -> None:
    """What Send Now would do: how many go out, how many the duplicate window and consent skip."""
    from store.campaigns import get_campaign
    from store.forecast import forecast

    rt = runtime()
    rt.open_store()
    found = forecast(get_campaign(campaign_id), rt.config.dedup.campaign_window, limits=rt.config.limits)
    rt.emit(
        found.as_dict(),
        f"{found.pending:,} pending: {found.will_send:,} will be sent, {found.skipped_window:,} skipped "
        f"(same message within {found.window}), {found.skipped_opted_out:,} skipped (no consent)"
        + (f"\nNote: {found.suppressed_note()}" if found.skipped_suppressed else "")
        + (f"\nNote: {found.will_fail_note()}" if found.will_fail else "")
        + (f"\nNote: {found.blank_names_note()}" if found.blank_names else ""),
    )


COMMANDS = [recipients]
