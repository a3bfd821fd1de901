"""How messages cross the wire, one small interface per channel: SMTP, HTTP gateways, the outbox.

A transport opens connections; a connection sends one message at a time and says what became of it.
`ProviderUnavailable` means the provider cannot be reached at all: the campaign waits, its messages are
not burned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from store.sending import Outcome, Outgoing


class ProviderUnavailable(Exception):
    """The provider cannot be reached; the message says what happened, without personal data."""


Ready = Callable[[], Awaitable[bool]]


class Connection(Protocol):
    async def send(self, message: Outgoing, ready: Ready) -> Outcome | None:
        """Sends one message; awaits `ready()` right before the provider gets it, and gives up with
        None when that says no (the campaign was paused or cancelled)."""
        ...

    async def close(self) -> None: ...


class Transport(Protocol):
    name: str  # shown to admins: "SMTP 127.0.0.1:1025"
    connections: int
    # True when the provider talk before `ready()` (SMTP's envelope) hides the hand-over's commit, so the
    # commit may wait a moment for other connections; False when every moment of it delays the message.
    commit_overlaps: bool

    async def connect(self) -> Connection: ...

    async def close(self) -> None: ...
