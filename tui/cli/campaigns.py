"""Commands on campaigns: create and edit drafts, list a period, show statistics."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from store.clock import local
from store.errors import BadInput
from tui.cli.common import campaign_id_argument, common_options, runtime
from tui.textout import percent, table

if TYPE_CHECKING:
    from store.figures import CampaignFigures

# store.audiences.WHO, spelled out here so that --help does not import the store
AUDIENCES = ["all", "sent", "failed", "opened", "not-opened", "clicked", "converted", "holdout"]

F = TypeVar("F", bound=Callable[..., Any])


def content_options(command: F) -> F:
    options = [
        click.option("--channel", metavar="sms|email|push", help="How the campaign goes out."),
        click.option("--name", help="The campaign's name, as the summary shows it."),
        click.option("--sender", help="Sender name: the SMS `from` (11 letters and digits), "
                                      "the email From name, the push title."),
        click.option("--subject", help="Email subject or push title (a template)."),
        click.option("--coupon", help="A coupon code the body can show with {{ coupon }}."),
        click.option("--body", help="The message body, a template: {{ first_name }}, {{ last_name }}, "
                                    "{{ coupon }}."),
        click.option("--body-file", metavar="FILE", help="Read the body from FILE (- for standard input)."),
        click.option("--open-tracking/--no-open-tracking", default=None,
                     help="Email: whether the message carries the open-tracking image (default: [email] "
                     "open_tracking, on). Off for a notice: spam filters count an image in a short email "
                     "(campaigns check-email says how much); clicks are tracked either way."),
        click.option("--language", metavar="it|en", help="Email: the language of the footer and of the "
                     "unsubscribe pages (default: [email] language)."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _flag(key: str, value: object) -> str:
    """The option as the user typed it: `--no-open-tracking` for open_tracking False."""
    name = key.replace("_", "-")
    return f"--no-{name}" if value is False else f"--{name}"


def email_only(channel: str | None, options: dict[str, Any]) -> None:
    """`--open-tracking` and `--language` change emails only: refused for another channel, not ignored."""
    given = [_flag(k, options[k]) for k in ("open_tracking", "language") if options.get(k) is not None]
    if given and channel is not None and channel.strip().lower() in ("sms", "push"):
        raise BadInput(f"{', '.join(given)}: for email campaigns only, not {channel.upper()}")


def read_body(body: str | None, body_file: str | None) -> str | None:
    if body is not None and body_file is not None:
        raise BadInput("give --body or --body-file, not both")
    if body_file is None:
        return body
    try:
        if body_file == "-":
            return sys.stdin.read()
        return Path(body_file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"body file {body_file} does not exist") from None
    except UnicodeDecodeError:
        raise BadInput(f"body file {body_file} is not UTF-8 text") from None
    except OSError as exc:
        raise BadInput(f"cannot read body file {body_file}: {exc.strerror}") from None


def warn_unknown_names(campaign: Any) -> None:
    """On stderr, a name that is no placeholder (`{{ nome }}`): saved as asked, but it reads empty."""
    from store.templates import unknown_names_note

    note = unknown_names_note(campaign.body, campaign.subject)
    if note:
        click.echo(f"campaigns: note: {note}", err=True)


@click.command()
@content_options
@common_options
def create(**options: Any) -> None:
    """Create a draft campaign.

    Example: campaigns create --channel sms --name "Flu shots" --sender CentroMed
    --body "Hi {{ first_name }}, flu shots are open: call 02 1234567"
    """
    from store.campaign_view import CampaignView
    from store.campaigns import create_campaign

    body = read_body(options.pop("body"), options.pop("body_file"))
    missing = [f"--{k}" for k in ("channel", "name", "sender") if not options.get(k)]
    if missing:
        raise BadInput(f"missing {', '.join(missing)}: a draft needs a channel, a name and a sender")
    if not body or not body.strip():
        raise BadInput("the message body is missing: give --body or --body-file")
    email_only(options["channel"], options)
    rt = runtime()
    if options["open_tracking"] is None:  # [email] open_tracking: the center's default for emails
        options["open_tracking"] = rt.config.email.open_tracking or options["channel"].lower() != "email"
    rt.open_store()
    campaign = create_campaign(body=body, limits=rt.config.limits, **options)
    warn_unknown_names(campaign)
    rt.emit(
        CampaignView.of(campaign).as_document(),
        f"Created draft {campaign.id}: {campaign.name} ({campaign.channel.upper()})",
    )


@click.command()
@campaign_id_argument
@content_options
@click.option("--variant", type=click.Choice(["a", "b"]), default="a", show_default=True,
              help="b: the second body (and subject, or push title) of an A/B test; Send Now gives it to a "
              "random share of the recipients (send --b-share).")  # fmt: skip
@click.option("--remove", is_flag=True, help="With --variant b: drop the second body, no A/B test.")
@common_options
def edit(campaign_id: int, variant: str, remove: bool, **options: Any) -> None:
    """Change a draft (refused once it is queued); --variant b sets the second body of an A/B test."""
    from store.campaign_view import CampaignView
    from store.campaigns import edit_campaign
    from store.experiments import edit_variant_b

    options["body"] = read_body(options.pop("body"), options.pop("body_file"))
    rt = runtime()
    if remove and variant != "b":
        raise BadInput("--remove drops variant B: give --variant b --remove")
    if variant == "b":
        campaign_wide = ("channel", "name", "sender", "coupon", "open_tracking", "language")
        others = [_flag(k, options[k]) for k in campaign_wide if options.get(k) is not None]
        if others:
            verb, them = ("belongs", "it") if len(others) == 1 else ("belong", "them")
            raise BadInput(
                f"{', '.join(others)} {verb} to the campaign, not to a variant: edit {them} without --variant"
            )
        rt.open_store()
        campaign = edit_variant_b(campaign_id, options["body"], options["subject"], remove, rt.config.limits)
        said = "dropped" if remove else "set"
        rt.emit(
            CampaignView.of(campaign).as_document(),
            f"Variant B of draft {campaign.id} {said}: {campaign.name}",
        )
        return
    rt.open_store()
    if options.get("open_tracking") is not None or options.get("language") is not None:
        from store.campaigns import get_campaign

        email_only(options.get("channel") or get_campaign(campaign_id).channel, options)
    campaign = edit_campaign(campaign_id, limits=rt.config.limits, **options)
    warn_unknown_names(campaign)
    rt.emit(CampaignView.of(campaign).as_document(), f"Updated draft {campaign.id}: {campaign.name}")


@click.command("list")
@click.option(
    "--from",
    "start",
    metavar="DATE",
    help="First day of the period (YYYY-MM-DD); default 30 days before --to.",
)
@click.option("--to", "end", metavar="DATE", help="Last day of the period, included; default today.")
@common_options
def list_campaigns(start: str | None, end: str | None) -> None:
    """The campaigns created or sent in a reference period, with their statistics."""
    from store.campaigns import campaigns_in_period
    from store.figures import figures_of
    from store.period import Period

    period = Period.parse(start, end)
    rt = runtime()
    rt.open_store()
    found = figures_of(campaigns_in_period(period), rt.config.feedback.machine_open_seconds)
    rt.emit([f.as_document() for f in found], lambda: _list_text(period.label(), found))


def local_date(moment: datetime | None) -> str:
    """The day of a stored (UTC) time on the center's calendar: the period is in its days too."""
    return local(moment).date().isoformat() if moment else ""


def _list_text(label: str, found: list[CampaignFigures]) -> str:
    if not found:
        return f"No campaigns in {label}. Create one with: campaigns create --channel ... (see --help)"
    rows = [
        (f.id, f.name[:32], f.channel.upper(), f.state, f.counts.recipients, f.counts.sent,
         percent(f.open_rate), percent(f.click_rate),
         percent(f.conversion.rate if f.conversion.patients else None),
         local_date(f.last_sent_at or f.created_at))
        for f in found
    ]  # fmt: skip
    headers = ("ID", "NAME", "CHANNEL", "STATE", "RECIPIENTS", "SENT", "OPENED", "CLICKED", "CONV", "DATE")
    return f"{label}: {len(found)} campaigns\n" + table(headers, rows, right=(0, 4, 5, 6, 7, 8))


@click.command()
@campaign_id_argument
@common_options
def stats(campaign_id: int) -> None:
    """A campaign's statistics: counts per state, opens, clicks, conversion."""
    from store.campaigns import get_campaign
    from store.figures import campaign_figures

    rt = runtime()
    rt.open_store()
    figures = campaign_figures(get_campaign(campaign_id), rt.config.feedback.machine_open_seconds)
    rt.emit(figures.as_document(), lambda: _stats_text(figures))


def _stats_text(f: CampaignFigures) -> str:
    counts, opens, conversion = f.counts, f.opens, f.conversion
    lines = [
        f"Campaign {f.id}: {f.name} ({f.channel.upper()}, {f.state}"
        + (", final)" if f.final else ", figures final 48 h after the last message)"),
        f"  recipients  {counts.recipients:>9,}",
        f"  pending     {counts.pending:>9,}",
        f"  sent        {counts.sent:>9,}"
        + (f"   (delivered {counts.delivered:,})" if f.channel == "sms" else ""),
        f"  failed      {counts.failed:>9,}",
        *(f"              {failure.count:>9,}   {failure.reason[:100]}" for failure in f.failures or ()),
        f"  skipped     {counts.skipped_duplicate:>9,}   duplicate within the window",
        f"              {counts.skipped_opted_out:>9,}   without consent",
        f"              {counts.skipped_suppressed:>9,}   on the suppression list",
    ]
    if opens is not None and opens.opened is None:
        lines.append("  opened      not tracked (sent without the open-tracking image)")
    elif opens is not None:
        machine = opens.machine_opened
        hint = f" ({machine:,} of them only within seconds of sending: mail proxies?)" if machine else ""
        lines.append(f"  opened      {opens.opened:>9,}   {percent(f.open_rate)}{hint}")
    if opens is not None:
        lines.append(f"  clicked     {opens.clicked:>9,}   {percent(f.click_rate)}")
        lines.append(f"  unsubscribed{f.unsubscribed:>9,}")
    lines.append(
        f"  conversion  {percent(conversion.rate):>9}   {conversion.reservations:,} reservations "
        f"by {conversion.patients:,} patients in the 28 days after their message"
    )
    if f.groups is not None:
        lines += _groups_text(f)
    return "\n".join(lines)


def _groups_text(f: CampaignFigures) -> list[str]:
    """A campaign's groups and lifts, worded as its details word them."""
    from rich.text import Text

    from tui.lift_words import GROUP_NAMES, lift_line

    assert f.groups is not None
    lines = [f"  held out    {f.counts.held_out:>9,}"]
    for name, group in f.groups.present():
        rate = f"{group.rate:.3f}" if group.rate is not None else "–"
        lines.append(f"  {GROUP_NAMES[name]:<10}{group.patients:>11,} patients, {group.reservations:,} "
                     f"reservations, {rate} per patient")  # fmt: skip
    lines += [f"  {Text.from_markup(lift_line(lift, f.groups)).plain}" for lift in f.lift]
    return lines


@click.command()
@campaign_id_argument
@click.option(
    "--who", required=True, type=click.Choice(AUDIENCES),
    help="Which recipients: e.g. not-opened, those reached who never opened it; holdout, those held out.",
)  # fmt: skip
@click.option(
    "--out", "out", required=True, metavar="FILE.csv|FILE.xlsx",
    help="Where to write the list: CSV, or an Excel workbook when named .xlsx; - for CSV on stdout.",
)  # fmt: skip
@click.option(
    "--separator", type=click.Choice([",", ";", "tab"]), default=",", show_default=True,
    help="';' for Excel set to Italian (or most of Europe): it opens comma-separated rows in one column.",
)  # fmt: skip
@common_options
def export(campaign_id: int, who: str, out: str, separator: str) -> None:
    """Write a list of the campaign's recipients as CSV, ready for Excel, or as an .xlsx workbook.

    One row per recipient: address, names, contact id, state and reason, when it was sent, delivered,
    opened and clicked, and its group (a, b or holdout; empty without a hold-out or a B). In CSV, cells
    that a spreadsheet would run as a formula are prefixed with '; in a workbook every cell is text
    (phone numbers and formulas as they are), under a frozen header.
    opened, not-opened and clicked are known for email only; converted are the patients who booked in
    the 28 days after their message; holdout are those kept out as a control group (never sent).
    """
    from store.audiences import export_recipients, write_recipients

    rt = runtime()
    if out == "-" and rt.as_json:
        raise BadInput("--out - writes the CSV on standard output, where --json cannot print too")
    rt.open_store()
    between = "\t" if separator == "tab" else separator
    if out == "-":
        write_recipients(campaign_id, who, sys.stdout, between)
        return
    rows = export_recipients(campaign_id, who, out, between)
    path = str(Path(out).expanduser().resolve())
    rt.emit({"rows": rows, "path": path}, f"{rows:,} recipient{'' if rows == 1 else 's'} written to {out}.")


COMMANDS = [create, edit, list_campaigns, stats, export]
