"""Signed links in messages: unsubscribe now, opens and clicks later. A forged one verifies as nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _mac(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, kind: str, message_id: int) -> str:
    """`u.123.<mac>`: the kind of link, the message it belongs to, and their signature."""
    payload = f"{kind}.{message_id}"
    return f"{payload}.{_mac(secret, payload)}"


def verify(secret: str, token: str, kind: str) -> int | None:
    """The message id of a genuine token of this kind, else None."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != kind or not parts[1].isdigit():
        return None
    if not hmac.compare_digest(_mac(secret, f"{parts[0]}.{parts[1]}"), parts[2]):
        return None
    return int(parts[1])


def unsubscribe_url(public_url: str, secret: str, message_id: int) -> str:
    return f"{public_url.rstrip('/')}/u/{sign(secret, 'u', message_id)}"
