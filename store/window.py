"""The duplicate window: no message goes again with the same body to the same address within it."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from store.clock import to_utc, utcnow
from store.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def body_hash(rendered: str) -> str:
    """The key of a rendered body (before any tracking rewrite) in the sent ledger."""
    return hashlib.sha256(rendered.encode("utf-8")).hexdigest()


def parse_window(text: str) -> timedelta:
    """`7d`, `48h`, `1w`, `0s` (no window)."""
    match = _DURATION.match(text or "")
    if not match:
        raise ConfigError(f"a window must look like 7d, 48h or 1w, not {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def within_window(sent_at: datetime | str | None, window: str, now: datetime | None = None) -> bool:
    """Whether a message sent at `sent_at` (naive UTC, or ISO 8601 as the stats say it) is still inside the
    window `window`: the same message to the same address now would be skipped."""
    if not sent_at:
        return False
    span = parse_window(window)
    if span <= timedelta(0):  # no window: nothing is skipped (store.eligibility)
        return False
    moment = to_utc(datetime.fromisoformat(sent_at)) if isinstance(sent_at, str) else sent_at
    return moment >= (now or utcnow()) - span
