"""The offline transport: what would have been sent, written as files under the outbox folder."""

from __future__ import annotations

import json
from pathlib import Path

from senders.links import Links
from senders.mime import EmailBuilder
from senders.transports import Ready
from senders.wording import WORDINGS
from store.config import Config
from store.sending import Outcome, Outgoing


class OutboxConnection:
    def __init__(self, transport: OutboxTransport) -> None:
        self.transport = transport

    async def send(self, message: Outgoing, ready: Ready) -> Outcome | None:
        if not await ready():
            return None
        folder = self.transport.folder / f"campaign-{message.campaign_id}"
        folder.mkdir(parents=True, exist_ok=True)
        if message.channel == "email":
            raw = self.transport.builder.build(
                to=message.address, subject=message.subject or message.sender, body=message.body,
                message_id=message.id,
            )  # fmt: skip
            (folder / f"{message.id}.eml").write_bytes(raw)
        else:
            data = {
                "to": message.address, "from": message.sender, "title": message.subject, "body": message.body,
                "reference": message.reference,
            }  # fmt: skip
            (folder / f"{message.id}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return Outcome(message.id, "sent", provider_id=f"outbox:{message.id}")

    async def close(self) -> None:
        return None


class OutboxTransport:
    def __init__(self, config: Config, sender: str, secret: str) -> None:
        self.folder = Path(config.outbox.path).expanduser()
        self.name = f"the outbox folder {self.folder}"
        self.connections = 1
        self.commit_overlaps = False
        links = Links(config.feedback.public_url, secret)
        self.builder = EmailBuilder(sender, config.email.from_address, links, WORDINGS[config.email.language])

    async def connect(self) -> OutboxConnection:
        return OutboxConnection(self)

    async def close(self) -> None:
        return None
