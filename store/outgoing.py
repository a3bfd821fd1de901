"""What the send engine hands a transport, and what the transport says back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outgoing:
    """A claimed message, rendered and ready for its transport."""

    id: int
    campaign_id: int
    channel: str
    address: str
    sender: str
    subject: str | None  # email subject or push title, rendered
    body: str  # rendered
    body_hash: str
    resent: bool  # it was with the provider when an engine stopped: it may arrive twice
    attempts: int = 1  # this one included

    @property
    def reference(self) -> str:
        """The reference providers echo back (delivery receipts)."""
        return f"m{self.id}"


@dataclass(frozen=True)
class Outcome:
    """What the provider said about one message."""

    message_id: int
    state: str  # sent, failed, retry
    provider_id: str | None = None
    error: str | None = None
    dead_token: str | None = None  # a push token the service says is gone
    maybe_sent: bool = False  # the line dropped after the provider had it: if it goes again, say so
    # The address failed for good (store.suppressions.REASONS): it goes on the suppression list.
    suppress: str | None = None
    retry_after: float | None = None  # retry: the provider asked for this many seconds' pause at least
