"""The offline transport: what would have been sent, written as files under the outbox folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from senders.mailing import Mailing, email_builder
from senders.mime import UnsendableMessage, envelope_address
from senders.transports import Ready
from store.config import Config
from store.private_files import private_folder, write_private_bytes, write_private_text
from store.sending import Outcome, Outgoing


class OutboxConnection:
    def __init__(self, transport: OutboxTransport) -> None:
        self.transport = transport

    async def send(self, message: Outgoing, ready: Ready) -> Outcome | None:
        raw: bytes | None = None
        if message.channel == "email":
            try:  # made before the hand-over, as SMTP makes it: one that cannot be made fails alone
                recipient, utf8 = envelope_address(message.address)
                raw = self.transport.builder.build(
                    to=message.address if utf8 else recipient, subject=message.subject or message.sender,
                    body=message.body, message_id=message.id, utf8=utf8,
                )  # fmt: skip
            except UnsendableMessage as exc:
                return Outcome(message.id, "failed", error=str(exc))
        if not await ready():
            return None
        folder = self.transport.folder / f"campaign-{message.campaign_id}"
        private_folder(folder)  # what would have been sent: every recipient's address and message
        if raw is not None:
            write_private_bytes(folder / f"{self.transport.file_name(message.id)}.eml", raw)
        else:
            data = {
                "to": message.address, "from": message.sender, "title": message.subject, "body": message.body,
                "reference": message.reference,
            }  # fmt: skip
            write_private_text(
                folder / f"{self.transport.file_name(message.id)}.json", json.dumps(data, ensure_ascii=False)
            )
        return Outcome(message.id, "sent", provider_id=f"outbox:{message.id}")

    async def close(self) -> None:
        return None


class OutboxTransport:
    def __init__(self, config: Config, mailing: Mailing, secret: str) -> None:
        self.folder = Path(config.outbox.path).expanduser()
        # A test send has no message row (its ids are -1, -2…): each test gets names of its own, so a
        # second test of the draft does not overwrite the first.
        self.test_prefix = f"test-{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(3).hex()}"
        self.name = f"the outbox folder {self.folder}"
        self.connections = 1
        self.commit_overlaps = False
        # What SMTP would send, signed too when DKIM is configured
        self.builder = email_builder(config, mailing, secret)

    def file_name(self, message_id: int) -> str:
        """`123` for a message; `test-20261201-141502-a1b2c3-1` for the first address of a test."""
        return str(message_id) if message_id > 0 else f"{self.test_prefix}-{-message_id}"

    async def connect(self) -> OutboxConnection:
        return OutboxConnection(self)

    async def close(self) -> None:
        return None
