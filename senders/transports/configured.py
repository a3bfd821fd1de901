"""The transport each channel is configured with: the outbox, SMTP, or an HTTP provider (our JSON format,
Twilio for SMS, Firebase Cloud Messaging for push)."""

from __future__ import annotations

from senders.mailing import Mailing
from senders.transports import Transport
from store.config import Config


def make_transport(channel: str, config: Config, mailing: Mailing, link_secret: str) -> Transport:
    """The configured transport for a channel; emails as `mailing` says (senders.mailing)."""
    section = getattr(config, channel)
    if section.transport == "outbox":
        from senders.transports.outbox import OutboxTransport

        return OutboxTransport(config, mailing, link_secret)
    if channel == "email":
        from senders.transports.smtp import SmtpTransport

        return SmtpTransport(config, mailing, link_secret)
    if channel == "sms" and config.sms.provider == "twilio":
        from senders.transports.twilio import TwilioTransport

        return TwilioTransport(config)
    if channel == "push" and config.push.provider == "fcm":
        from senders.transports.fcm import FcmTransport

        return FcmTransport(config)
    from senders.transports.http import JsonTransport

    return JsonTransport(channel, section.url, section.token, section.connections)
