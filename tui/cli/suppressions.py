"""`campaigns suppressions`: the addresses no campaign reaches, why, and taking one off the list."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from store.clock import local
from tui.cli.common import common_options, runtime
from tui.textout import plain, table

if TYPE_CHECKING:
    from store.suppressions import SuppressedAddress

CHANNELS = ("email", "sms", "push")


@click.group()
@common_options
def suppressions() -> None:
    """Addresses never sent to, on any channel, until removed: those a mail server refused for good
    (SMTP 5xx at RCPT naming the mailbox), those the SMS provider calls invalid, not a mobile or
    unsubscribed (STOP), dead push tokens, and those added by hand. Campaigns skip them with the
    reason (state skipped_suppressed), Send Now and `recipients check` count them, imports leave them
    out and list them.
    """


@suppressions.command("list")
@click.option("--channel", type=click.Choice(CHANNELS), help="Only the addresses of this channel.")
@common_options
def list_(channel: str | None) -> None:
    """The list, newest first: address, channel, reason, when, and the provider's words."""
    from store.suppressions import list_suppressions

    rt = runtime()
    rt.open_store()
    found = list_suppressions(channel)
    rt.emit({"suppressions": [s.as_dict() for s in found]}, lambda: _list_text(found))


def _list_text(found: list[SuppressedAddress]) -> str:
    if not found:
        return "The suppression list is empty: every address with consent can be reached."
    rows = [
        (plain(s.address, 40), s.channel, plain(s.reason, 24), _local(s), plain(s.detail or "", 60))
        for s in found
    ]
    return f"{len(found):,} suppressed\n" + table(("ADDRESS", "CHANNEL", "REASON", "SINCE", "DETAIL"), rows)


def _local(entry: SuppressedAddress) -> str:
    return local(entry.at).strftime("%Y-%m-%d %H:%M")


@suppressions.command("add")
@click.argument("address")
@click.option("--reason", default="", metavar="TEXT", help='Why, one line (default "by hand").')
@common_options
def add(address: str, reason: str) -> None:
    """Put ADDRESS (an email, a phone number or a push token) on the list: no campaign reaches it.

    A phone number without + is read in [contacts] default_region. An address already on the list
    keeps its first reason."""
    from store.suppressions import add_suppression

    rt = runtime()
    rt.open_store()
    entry = add_suppression(address, reason, rt.config.contacts.default_region)
    rt.emit(entry.as_dict(), f"{plain(entry.address)} is suppressed: {plain(entry.reason)}")


@suppressions.command("remove")
@click.argument("address")
@common_options
def remove(address: str) -> None:
    """Take ADDRESS off the list: campaigns reach it again (consent and the window still apply)."""
    from store.suppressions import remove_suppression

    rt = runtime()
    rt.open_store()
    entry = remove_suppression(address, rt.config.contacts.default_region)
    rt.emit(
        {"removed": entry.as_dict()},
        f"{plain(entry.address)} is off the suppression list (it was: {plain(entry.reason)})",
    )


COMMANDS = [suppressions]
