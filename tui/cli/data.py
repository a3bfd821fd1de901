"""Commands that load data: the schema, the demo center, contacts and reservations."""

from __future__ import annotations

import time

import click

from tui.cli.common import common_options, emit_report, runtime


@click.command()
@common_options
def init() -> None:
    """Create or migrate the database schema (safe to run again)."""
    from store.db import redact
    from store.schema import schema_version

    rt = runtime()
    rt.open_store()
    version = schema_version()
    rt.emit(
        {"schema_version": version},
        f"Database ready: {redact(rt.config.database_url)} (schema version {version})",
    )


@click.command()
@click.option(
    "--patients",
    type=click.IntRange(1, 2_000_000),
    default=5000,
    show_default=True,
    help="How many patients the demo center has.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same center.")
@click.option("--if-empty", is_flag=True, help="Do nothing (and succeed) when the database holds data.")
@common_options
def fixtures(patients: int, seed: int, if_empty: bool) -> None:
    """Load a deterministic demo center into an empty database.

    Patients, doctors and staff (resources) and non-patient users with Italian names and numbers, 5%
    without marketing consent, push tokens for app users, reservations over the past months, and past
    campaigns with their statistics: drafts, one paused part-way, sent, completed, cancelled. Nothing is
    queued or sending: nothing goes out until you send it.
    """  # fmt: skip
    from fixtures.center import load_center
    from store.demo_center import holds_data
    from store.errors import BadInput

    rt = runtime()
    rt.open_store()
    if holds_data():
        if if_empty:
            rt.emit({"skipped": True}, "The database already holds data; left as it is.")
            return
        raise BadInput("the database already holds data; demo data loads only into an empty one (give --db)")
    started = time.perf_counter()
    counts = load_center(
        patients=patients, seed=seed, progress=lambda step: rt.note(f"Loading {step}…"), live=False
    )
    elapsed = time.perf_counter() - started
    rt.emit(
        counts,
        f"Loaded the demo center in {elapsed:.1f} s: " + ", ".join(f"{v:,} {k}" for k, v in counts.items()),
    )


@click.group()
@common_options
def contacts() -> None:
    """Contacts of the center's registry."""


@contacts.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--sheet", metavar="NAME", help="The sheet of an .xlsx or .ods to read (else the first).")
@common_options
def import_contacts_command(file: str, sheet: str | None) -> None:
    """Upsert contacts from a CSV, TSV, .xlsx or .ods file keyed by the registry's id.

    Columns: id, kind (patient|resource|user), first_name, last_name, email, phone, push_token,
    app_token, consent (yes|no); all but id are optional, and only the columns present change existing
    contacts. An id is text as the registry gives it (P1, 000123, a UUID; at most 64 characters, case
    and leading zeros kept); a new id is a new contact. Header names match in any case; `,` or `;`
    separated; UTF-8 or Windows encodings. A name over 100 characters, a bad address or a token over
    4,096 characters is left out (a name stays as stored) and reported; the rest of its row is imported.
    """  # fmt: skip
    from store.contacts import import_contacts

    rt = runtime()
    rt.open_store()
    emit_report(import_contacts(file, rt.config.contacts.default_region, sheet))


@click.group()
@common_options
def reservations() -> None:
    """Reservations of the booking system, for conversion."""


@reservations.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--sheet", metavar="NAME", help="The sheet of an .xlsx or .ods to read (else the first).")
@common_options
def import_reservations_command(file: str, sheet: str | None) -> None:
    """Load reservations from a CSV, TSV, .xlsx or .ods file: patient_id (the contact's registry id),
    created_at (ISO 8601, or a date cell; no zone is UTC).

    A reservation already loaded (same patient, same time) is counted as already present, so loading
    the same export again adds nothing.
    """
    from store.reservations import import_reservations

    rt = runtime()
    rt.open_store()
    emit_report(import_reservations(file, sheet))


COMMANDS = [init, fixtures, contacts, reservations]
