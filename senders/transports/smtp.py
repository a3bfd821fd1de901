"""Email over SMTP with aiosmtplib: reused connections, STARTTLS and auth when configured."""

from __future__ import annotations

import contextlib

import aiosmtplib

from senders.links import unsubscribe_url
from senders.mime import EmailBuilder
from senders.transports import ProviderUnavailable
from store.config import Config
from store.sending import Outcome, Outgoing

CONNECT_TIMEOUT = 10
SEND_TIMEOUT = 60


def _reason(code: int, text: str) -> str:
    return f"SMTP {code} {text.strip().splitlines()[0][:120] if text.strip() else ''}".strip()


class SmtpConnection:
    def __init__(self, transport: SmtpTransport, client: aiosmtplib.SMTP) -> None:
        self.transport = transport
        self.client = client

    async def send(self, message: Outgoing) -> Outcome:
        transport = self.transport
        raw = transport.builder.build(
            to=message.address,
            subject=message.subject or message.sender,
            body=message.body,
            message_id=message.id,
            unsubscribe=unsubscribe_url(transport.public_url, transport.secret, message.id),
        )
        try:
            if not self.client.is_connected:
                self.client = await transport.open_client()
            await self.client.sendmail(transport.from_address, [message.address], raw, timeout=SEND_TIMEOUT)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            code = refused.code if refused else 550
            if code == 421:
                await self._drop()
                raise ProviderUnavailable(f"{transport.name} is not taking mail (421)") from None
            return self._answer(message, code, refused.message if refused else "recipient refused")
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code == 421:
                await self._drop()
                raise ProviderUnavailable(
                    f"the SMTP server closes connections (421) at {transport.name}"
                ) from None
            return self._answer(message, exc.code, exc.message)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            await self._drop()
            # The server may have taken the message before the line dropped: it goes again, marked.
            return Outcome(
                message.id, "retry", error=f"connection lost ({type(exc).__name__})", maybe_sent=True
            )
        return Outcome(message.id, "sent", provider_id=f"smtp:{message.id}")

    @staticmethod
    def _answer(message: Outgoing, code: int, text: str) -> Outcome:
        state = "retry" if 400 <= code < 500 else "failed"
        return Outcome(message.id, state, error=_reason(code, text))

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

    def __init__(self, config: Config, sender: str, secret: str) -> None:
        email = config.email
        self.config = email
        self.name = f"SMTP {email.host}:{email.port}"
        self.connections = max(1, email.connections)
        self.from_address = email.from_address
        self.builder = EmailBuilder(sender, email.from_address)
        self.public_url = config.feedback.public_url
        self.secret = secret

    async def open_client(self) -> aiosmtplib.SMTP:
        email = self.config
        client = aiosmtplib.SMTP(
            hostname=email.host, port=email.port, timeout=CONNECT_TIMEOUT, start_tls=email.starttls or False,
            username=email.username or None, password=email.password or None,
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
