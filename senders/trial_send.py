"""A test of a draft: sent now, through the configured transport, to a few addresses typed on the spot.

Marked as a test (`[TEST]` before the subject, or the text) and kept out of everything else: no message
row, no statistics, no one-week window. An email keeps its links as written: nothing to track.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from senders.email_body import authored_links
from senders.transports import ProviderUnavailable
from senders.transports.configured import make_transport
from store.config import Config
from store.db import off_loop
from store.errors import TemplateError
from store.sending import Outgoing
from store.templates import Personaliser
from store.window import body_hash

MARK = "[TEST] "

log = logging.getLogger("campaigns.send")


async def send_test(config: Config, campaign_id: int, text: str) -> list[dict[str, Any]]:
    """Sends the draft to the addresses in `text`; one result per address, in the order given."""
    from store.campaigns import get_campaign
    from store.drafts import test_targets
    from store.errors import InvalidState
    from store.lifecycle import can_test
    from store.secrets import link_secret

    campaign = await off_loop(get_campaign, campaign_id)
    if not can_test(campaign.state):
        raise InvalidState(f"campaign {campaign_id} is {campaign.state}: tests are for drafts")
    targets = await off_loop(test_targets, campaign, text, config.contacts.default_region)
    secret = await off_loop(link_secret, config.feedback.secret)
    personalise = Personaliser(
        campaign.body, campaign.subject, campaign.coupon, campaign.channel, config.limits
    )
    results: list[dict[str, Any]] = []
    authored = authored_links(campaign.body, campaign.coupon) if campaign.channel == "email" else frozenset()
    transport = make_transport(campaign.channel, config, campaign.sender, secret, authored)
    connection = None
    try:
        for n, target in enumerate(targets, start=1):
            result: dict[str, Any] = {"to": target.given, "address": target.address}
            results.append(result)
            if target.address is None:
                result.update(state="refused", error=target.problem)
                continue
            try:
                body, subject = personalise(target.first_name, target.last_name)
            except TemplateError as exc:  # too long for the channel with this name, say
                result.update(state="refused", error=str(exc))
                continue
            if campaign.channel in ("email", "push"):  # the subject, or the push title
                subject = MARK + (subject or campaign.sender)
            else:
                body = MARK + body
            message = Outgoing(
                id=-n, campaign_id=campaign.id, channel=campaign.channel, address=target.address,
                sender=campaign.sender, subject=subject, body=body, body_hash=body_hash(body), resent=False,
            )  # fmt: skip
            try:
                connection = connection or await transport.connect()
                outcome = await connection.send(message, _always_ready)
            except ProviderUnavailable as exc:
                result.update(state="failed", error=str(exc))
                continue
            except Exception as exc:  # one address's fault never hides the results of the others
                log.error("test send of campaign %s: %s", campaign.id, type(exc).__name__)
                result.update(state="failed", error=f"could not be sent ({type(exc).__name__})")
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                connection = None  # its state is unknown: the next address gets a new one
                continue
            if outcome is None or outcome.state != "sent":
                result.update(state="failed", error=outcome.error if outcome else "not sent")
            else:
                result.update(state="sent", error=None)
    finally:
        if connection is not None:
            await connection.close()
        await transport.close()
    return results


async def _always_ready() -> bool:
    return True
