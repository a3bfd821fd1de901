"""`campaigns check-email`: what spam filters would flag in a campaign's email, before it goes."""

from __future__ import annotations

import click

from tui.cli.common import campaign_id_argument, common_options, runtime

LEVEL_WORDS = {"problem": "PROBLEM", "warning": "warning", "ok": "ok"}


@click.command("check-email")
@campaign_id_argument
@click.option(
    "--variant", type=click.Choice(["a", "b"]), default="a", show_default=True,
    help="b: check the second body of an A/B test.",
)  # fmt: skip
@click.option(
    "--no-spamassassin", "no_spamassassin", is_flag=True,
    help="Skip SpamAssassin even where it is installed (it takes about a second).",
)  # fmt: skip
@common_options
def check_email(campaign_id: int, variant: str, no_spamassassin: bool) -> None:
    """Build campaign ID's email for its first recipient, exactly as it would be sent (headers, footer,
    links, open-tracking image, DKIM signature), and report what spam filters would hold against it:
    missing headers, size, the plain and HTML parts, links, the open-tracking image in a short email,
    DKIM and the envelope's alignment with the From domain. Where `spamassassin` is installed, its score
    with the network-free rules (`spamassassin -L -t`) too. Nothing is sent.

    Levels: PROBLEM (fix it before sending), warning (costs spam points or trust), ok. The exit status
    is 1 when there is a PROBLEM (the report is printed all the same), else 0.
    """
    from senders.email_check import NOT_INSTALLED
    from senders.email_check import check_email as check
    from store.campaign_view import read_campaign
    from store.secrets import link_secret

    rt = runtime()
    rt.open_store()
    has_b = read_campaign(campaign_id).variant_body is not None
    secret = link_secret(rt.config.feedback.secret)
    found = check(rt.config, campaign_id, secret, variant, spamassassin=not no_spamassassin)

    def text() -> str:
        lines = [f"Campaign {campaign_id}'s email for {found.recipient}: {found.size:,} bytes"]
        for finding in found.findings:
            lines.append(f"  {LEVEL_WORDS[finding.level]:<8} {finding.check:<14} {finding.text}")
        if found.spamassassin_problem == NOT_INSTALLED:
            lines.append("  (SpamAssassin is not installed: apt install spamassassin adds its score)")
        if variant == "a" and has_b:
            lines.append(f"  (this is A's email; B's: campaigns check-email {campaign_id} --variant b)")
        lines.append(found.line())
        return "\n".join(lines)

    rt.emit(found.as_document(), text)
    if found.problems:
        raise SystemExit(1)


COMMANDS = [check_email]
