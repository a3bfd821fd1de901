"""A test of a draft: sent now, through the configured transport, to a few addresses typed on the spot.

Marked as a test (`[TEST]` before the subject, or the text) and kept out of everything else: no message
row, no statistics, no one-week window. An email keeps its links as written: nothing to track.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from senders.mailing import mailing_of
from senders.transports import ProviderUnavailable
from senders.transports.configured import make_transport
from store.config import Config
from store.db import off_loop
from store.errors import TemplateError
from store.sending import Outgoing
from store.templates import Personaliser
from store.window import body_hash

if TYPE_CHECKING:
    from store.drafts import TestTarget

MARK = "[TEST] "

log = logging.getLogger("campaigns.send")


@dataclass(frozen=True)
class TestResult:
    """What became of the test sent to one address."""

    to: str  # as typed
    address: str | None  # normalised for the channel; None when it cannot be
    state: str  # sent, refused (the address cannot take it) or failed (the provider said no, or is down)
    error: str | None

    @classmethod
    def of(cls, target: TestTarget, state: str, error: str | None) -> TestResult:
        return cls(target.given, target.address, state, error)

    def as_document(self) -> dict[str, Any]:
        """One result of `campaigns test --json` (docs/cli.md)."""
        return {"to": self.to, "address": self.address, "state": self.state, "error": self.error}


async def send_test(config: Config, campaign_id: int, text: str, variant: str = "a") -> list[TestResult]:
    """Sends the draft (its variant B with `variant` "b") to the addresses in `text`; one result per
    address, in the order given."""
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
    body_template, subject_template = campaign.body, campaign.subject
    if variant == "b":
        if campaign.variant_body is None:
            raise InvalidState(f"campaign {campaign_id} has no variant B: edit --variant b first")
        body_template = campaign.variant_body
        subject_template = (
            campaign.variant_subject if campaign.variant_subject is not None else campaign.subject
        )
    personalise = Personaliser(
        body_template, subject_template, campaign.coupon, campaign.channel, config.limits
    )
    results: list[TestResult] = []
    mailing = mailing_of(campaign, variants=variant or "a")
    transport = make_transport(campaign.channel, config, mailing, secret)
    connection = None
    try:
        for n, target in enumerate(targets, start=1):
            if target.address is None:
                results.append(TestResult.of(target, "refused", target.problem))
                continue
            try:
                body, subject = personalise(target.first_name, target.last_name)
            except TemplateError as exc:  # too long for the channel with this name, say
                results.append(TestResult.of(target, "refused", str(exc)))
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
                results.append(TestResult.of(target, "failed", str(exc)))
                continue
            except Exception as exc:  # one address's fault never hides the results of the others
                log.error("test send of campaign %s: %s", campaign.id, type(exc).__name__)
                results.append(TestResult.of(target, "failed", f"could not be sent ({type(exc).__name__})"))
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await connection.close()
                connection = None  # its state is unknown: the next address gets a new one
                continue
            if outcome is None or outcome.state != "sent":
                results.append(TestResult.of(target, "failed", outcome.error if outcome else "not sent"))
            else:
                results.append(TestResult.of(target, "sent", None))
    finally:
        if connection is not None:
            await connection.close()
        await transport.close()
    return results


async def _always_ready() -> bool:
    return True
