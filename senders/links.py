"""Signed links in messages: opens, clicks and unsubscribes. A forged or altered one verifies as nothing.

A token names its kind and its message (and, for a click, the original address), then a signature of
all that: the feedback server needs no table of links to know where a click goes.
"""

from __future__ import annotations

import base64
import binascii
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
    if not token.isascii():  # ours are; and compare_digest refuses to compare other strings
        return None
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != kind or not parts[1].isdigit():
        return None
    if not hmac.compare_digest(_mac(secret, f"{parts[0]}.{parts[1]}"), parts[2]):
        return None
    return int(parts[1])


def sign_click(secret: str, message_id: int, url: str) -> str:
    """`c.123.<the url, base64>.<mac>`."""
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    payload = f"c.{message_id}.{encoded}"
    return f"{payload}.{_mac(secret, payload)}"


def verify_click(secret: str, token: str) -> tuple[int, str] | None:
    """The message id and original address of a genuine click token, else None."""
    if not token.isascii():
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "c" or not parts[1].isdigit():
        return None
    if not hmac.compare_digest(_mac(secret, ".".join(parts[:3])), parts[3]):
        return None
    try:
        url = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(parts[1]), url


class Links:
    """One campaign's link maker: the public address of the feedback server and the secret."""

    def __init__(self, public_url: str, secret: str) -> None:
        self.base = public_url.rstrip("/")
        self.secret = secret

    def unsubscribe(self, message_id: int) -> str:
        return f"{self.base}/u/{sign(self.secret, 'u', message_id)}"

    def open_pixel(self, message_id: int) -> str:
        return f"{self.base}/o/{sign(self.secret, 'o', message_id)}"

    def click(self, message_id: int, url: str) -> str:
        return f"{self.base}/c/{sign_click(self.secret, message_id, url)}"
