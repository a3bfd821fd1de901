"""One campaign's emails as the configuration and the campaign make them: the one place that turns both
into an `EmailBuilder`, so that SMTP, the outbox, test sends and `campaigns check-email` build the very
same bytes (From, list headers, footer language, open pixel, DKIM)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from senders.email_body import authored_links
from senders.links import Links
from senders.mime import EmailBuilder
from senders.wording import wording_for
from store.config import Config

if TYPE_CHECKING:
    from store.models import Campaign


@dataclass(frozen=True)
class Mailing:
    """What a campaign's messages share besides each recipient's body and subject."""

    campaign_id: int
    sender: str
    authored_links: frozenset[str] = frozenset()  # only these become (tracked) links in an email
    open_tracking: bool = True
    language: str | None = None  # of the footer; None: [email] language


def mailing_of(campaign: Campaign, variants: str = "ab") -> Mailing:
    """The campaign's mailing; its authored links those of A and (with "b" in `variants`) of B."""
    authored: frozenset[str] = frozenset()
    if campaign.channel == "email":  # the links the author wrote: tracked; others stay text
        if "a" in variants:
            authored = authored_links(campaign.body, campaign.coupon)
        if "b" in variants and campaign.variant_body is not None:
            authored |= authored_links(campaign.variant_body, campaign.coupon)
    return Mailing(
        campaign.id, campaign.sender, authored, bool(campaign.open_tracking), campaign.language or None
    )


def email_builder(config: Config, mailing: Mailing, secret: str, sign: bool = True) -> EmailBuilder:
    """The builder of the campaign's emails; the DKIM key (when configured and `sign`) read now."""
    from senders.dkim_signing import dkim_signer

    email = config.email
    return EmailBuilder(
        mailing.sender,
        email.from_address,
        Links(config.feedback.public_url, secret),
        wording_for(mailing.language, email.language),
        mailing.authored_links,
        sign=dkim_signer(email) if sign else None,
        list_id=email.list_identifier,
        feedback_id=f"{mailing.campaign_id}:campaign:{email.from_domain}",
        open_tracking=mailing.open_tracking,
    )
