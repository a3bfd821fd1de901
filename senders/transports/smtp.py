"""Email over SMTP with aiosmtplib: reused connections, STARTTLS and auth when configured."""

from __future__ import annotations

import contextlib
import re
import ssl

import aiosmtplib

from senders.mailing import Mailing, email_builder
from senders.mime import UnsendableMessage, envelope_address
from senders.transports import ProviderUnavailable, Ready
from store.config import Config
from store.sending import Outcome, Outgoing
from store.suppressions import HARD_BOUNCE

CONNECT_TIMEOUT = 10
SEND_TIMEOUT = 60
NO_SMTPUTF8 = "the address has non-ASCII characters before the @, which need SMTPUTF8 (RFC 6531):"


# RFC 3463's enhanced codes that say the recipient's mailbox itself is bad: 5.1.1 (no such user), 5.1.2
# (no such domain), 5.1.3 (bad syntax), 5.1.6 (moved), 5.1.10 (null MX), 5.2.1 (disabled). Not 5.1.7 or
# 5.1.8, which are about our sender (Postfix refuses a sender at RCPT); not policy refusals (5.7.x:
# spam, relaying) nor a full mailbox (5.2.2). A bare 550 says too little: a relay refusing to relay
# ("550 relay not permitted") would otherwise suppress every recipient of the campaign.
_BAD_MAILBOX = re.compile(r"^\s*5\.(1\.(1|2|3|6|10)|2\.1)(?![\d.])")


def _reason(code: int, text: str, address: str = "") -> str:
    """The server's answer as a reason: its first line, without the recipient's address in either of its
    forms (failures are counted by reason, and a reason is no place for personal data)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if address:
        for form in {address, _ascii_form(address)}:
            line = re.sub(re.escape(form), "the address", line, flags=re.IGNORECASE)
    return f"SMTP {code} {line[:120]}".strip()


def _ascii_form(address: str) -> str:
    """The address as a server may echo it: its domain in IDNA (`xn--…`) form."""
    try:
        return envelope_address(address)[0]
    except UnsendableMessage:  # an address the envelope cannot carry is echoed as it is, if at all
        return address


def hard_bounce(code: int, text: str) -> bool:
    """Whether a refusal at RCPT says the recipient's mailbox can never take mail (RFC 3463's enhanced
    codes), so the address goes on the suppression list."""
    return 500 <= code < 600 and _BAD_MAILBOX.match(text) is not None


class SmtpConnection:
    def __init__(self, transport: SmtpTransport, client: aiosmtplib.SMTP) -> None:
        self.transport = transport
        self.client = client

    async def send(self, message: Outgoing, ready: Ready) -> Outcome | None:
        transport = self.transport
        try:
            recipient, utf8 = envelope_address(message.address)
            raw = transport.builder.build(
                to=message.address if utf8 else recipient,
                subject=message.subject or message.sender,
                body=message.body,
                message_id=message.id,
                utf8=utf8,
            )
        except UnsendableMessage as exc:  # this one message; the campaign goes on
            return Outcome(message.id, "failed", error=str(exc))
        in_data = False
        try:
            if not self.client.is_connected:
                self.client = await transport.open_client()
            client = self.client
            if utf8 and not await self._offers_smtputf8():
                return Outcome(
                    message.id, "failed", error=f"{NO_SMTPUTF8} {transport.name} does not offer it"
                )
            # The envelope goes while the database records the hand-over; DATA waits for it.
            await self._envelope(recipient, utf8)
            if not await ready():
                await client.rset()
                return None
            in_data = True
            await client.data(raw, timeout=SEND_TIMEOUT)
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:
                await self._drop()
                raise ProviderUnavailable(f"{transport.name} is not taking mail (421)") from None
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await self.client.rset()  # a clean transaction for the next message
            at_rcpt = isinstance(exc, aiosmtplib.SMTPRecipientRefused)
            return self._answer(message, exc.code, exc.message, at_rcpt)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            await self._drop()
            # Lost during DATA, the server may have taken it: it goes again, marked as possibly twice.
            return Outcome(
                message.id, "retry", error=f"connection lost ({type(exc).__name__})", maybe_sent=in_data
            )
        return Outcome(message.id, "sent", provider_id=f"smtp:{message.id}")

    async def _offers_smtputf8(self) -> bool:
        if self.client.is_ehlo_or_helo_needed:
            await self.client.ehlo()
        return self.client.supports_extension("smtputf8")

    async def _envelope(self, address: str, utf8: bool = False) -> None:
        """MAIL and RCPT. Our addresses were validated and normalised on import, so plain ASCII ones go
        as they are: aiosmtplib parses each address again, a third of its time per message."""
        client, transport = self.client, self.transport
        if utf8:
            await client.mail(
                transport.from_address, options=["SMTPUTF8"], encoding="utf-8", timeout=SEND_TIMEOUT
            )
            await client.rcpt(address, encoding="utf-8", timeout=SEND_TIMEOUT)
            return
        if not (address.isascii() and transport.from_command):
            await client.mail(transport.from_address, timeout=SEND_TIMEOUT)
            await client.rcpt(address, timeout=SEND_TIMEOUT)
            return
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        response = await client.execute_command(b"MAIL", transport.from_command, timeout=SEND_TIMEOUT)
        if response.code != 250:
            raise aiosmtplib.SMTPSenderRefused(response.code, response.message, transport.from_address)
        response = await client.execute_command(b"RCPT", b"TO:<%s>" % address.encode(), timeout=SEND_TIMEOUT)
        if response.code not in (250, 251):
            raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, address)

    @staticmethod
    def _answer(message: Outgoing, code: int, text: str, at_rcpt: bool = False) -> Outcome:
        state = "retry" if 400 <= code < 500 else "failed"
        suppress = HARD_BOUNCE if at_rcpt and hard_bounce(code, text) else None
        return Outcome(message.id, state, error=_reason(code, text, message.address), suppress=suppress)

    async def _drop(self) -> None:
        with contextlib.suppress(Exception):  # a broken connection may fail to close; it is gone anyway
            self.client.close()

    async def close(self) -> None:
        if self.client.is_connected:
            try:
                await self.client.quit()
            except aiosmtplib.SMTPException:
                self.client.close()


class SmtpTransport:
    """A pool of `[email] connections` SMTP connections, each sending one message at a time."""

    def __init__(self, config: Config, mailing: Mailing, secret: str) -> None:
        email = config.email
        self.config = email
        self.name = f"SMTP {email.host}:{email.port}"
        self.connections = max(1, email.connections)
        self.commit_overlaps = True
        self.from_address = email.envelope_sender  # MAIL FROM: where bounces go ([email] return_path)
        self.from_command = b"FROM:<%s>" % self.from_address.encode() if self.from_address.isascii() else b""
        self.builder = email_builder(config, mailing, secret)  # the DKIM key read once, here

    def _tls_context(self) -> ssl.SSLContext | None:
        if not self.config.ca_file:
            return None
        try:
            return ssl.create_default_context(cafile=self.config.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ProviderUnavailable(f"cannot use [email] ca_file: {exc.strerror or exc}") from None

    async def open_client(self) -> aiosmtplib.SMTP:
        email = self.config
        client = aiosmtplib.SMTP(
            hostname=email.host, port=email.port, timeout=CONNECT_TIMEOUT, start_tls=email.starttls or False,
            username=email.username or None, password=email.password or None, tls_context=self._tls_context(),
        )  # fmt: skip
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ProviderUnavailable(f"cannot connect to {self.name}: {type(exc).__name__}") from None
        return client

    async def connect(self) -> SmtpConnection:
        return SmtpConnection(self, await self.open_client())

    async def close(self) -> None:
        return None
