"""Commands on drafts: send a test, clone a campaign into a new draft, delete a draft."""

from __future__ import annotations

import asyncio

import click

from tui.cli.common import campaign_id_argument, common_options, runtime


@click.command("test")
@campaign_id_argument
@click.option(
    "--to", required=True, metavar="ADDR[,ADDR...]",
    help="Where the test goes: emails, mobile numbers, or for push a contact's email or phone.",
)  # fmt: skip
@click.option(
    "--variant",
    type=click.Choice(["a", "b"]),
    default="a",
    show_default=True,
    help="b: test the second body of an A/B test (edit --variant b).",
)
@common_options
def test_send(campaign_id: int, to: str, variant: str) -> None:
    """Send draft ID now to a few addresses only, through the configured transport.

    Each copy is marked as a test ([TEST] before the subject, or the text) and is rendered for the
    contact who has that address, if any. Tests are not counted in the statistics, not held against the
    one-week window, go even in the channel's quiet hours (saying so), and the draft stays a draft.
    """
    from senders.trial_send import send_test
    from store.campaign_view import read_campaign
    from store.quiet_hours import quiet_note

    rt = runtime()
    rt.open_store()
    results = asyncio.run(send_test(rt.config, campaign_id, to, variant))
    note = quiet_note(rt.config, read_campaign(campaign_id).channel)

    def text() -> str:
        lines = []
        for r in results:
            what = "sent" if r.state == "sent" else f"{r.state}: {r.error}"
            lines.append(f"{r.to}: {what}")
        if note and any(r.state == "sent" for r in results):
            lines.append(note)
        return "\n".join(lines)

    rt.emit([r.as_document() for r in results], text)
    if not any(r.state == "sent" for r in results):
        raise SystemExit(1)


@click.command()
@campaign_id_argument
@common_options
def clone(campaign_id: int) -> None:
    """A new draft with campaign ID's content and recipients (any state: re-send last month's, edited)."""
    from store.drafts import clone_campaign

    rt = runtime()
    rt.open_store()
    draft, recipients = clone_campaign(campaign_id, limits=rt.config.limits)
    rt.emit(
        draft.as_document() | {"recipients": recipients},
        f"Draft {draft.id} ({draft.name}) created with {recipients:,} recipients.",
    )


@click.command()
@campaign_id_argument
@common_options
def delete(campaign_id: int) -> None:
    """Delete draft ID and its recipients. Campaigns that were queued or sent stay: they are history."""
    from store.drafts import delete_draft

    rt = runtime()
    rt.open_store()
    deleted = delete_draft(campaign_id)
    rt.emit({"deleted": deleted}, f"Draft {deleted} deleted.")


COMMANDS = [test_send, clone, delete]
