"""Twilio's status callbacks: the `X-Twilio-Signature` check, and what each status means to us.

Twilio signs a callback with HMAC-SHA1, keyed with the account's auth token, over the URL it posted to
followed by each form field's name and value, sorted by name (twilio-python's `RequestValidator`); the
URL is the `StatusCallback` we gave, accepted with and without its port as that validator does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from senders.transports.http import bounded
from senders.transports.twilio import CODES, code_of, reason_of
from store.feedback import ProviderStatus

MAX_FIELDS = 200  # Twilio posts a few dozen
MAX_SID = 64  # a message SID is 34 characters
FAILED = ("undelivered", "failed")


class MalformedCallback(ValueError):
    """A signed callback without what we need of it: a message SID and its status."""


def signature_of(token: str, url: str, fields: Sequence[tuple[str, str]]) -> bytes:
    """base64(HMAC-SHA1(token, url + name + value…)), names sorted, then each name's values sorted."""
    by_name: dict[str, set[str]] = {}
    for name, value in fields:
        by_name.setdefault(name, set()).add(value)
    text = url + "".join(name + value for name in sorted(by_name) for value in sorted(by_name[name]))
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest())


def signed_urls(url: str) -> list[str]:
    """The URL without its port and with it (the scheme's default when it names none)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return [url]
    default = 443 if parts.scheme == "https" else 80
    if port is None:
        bare, with_port = parts.netloc, f"{parts.netloc}:{default}"
    else:
        bare, with_port = parts.netloc[: -len(f":{port}")], parts.netloc
    return [parts._replace(netloc=netloc).geturl() for netloc in (bare, with_port)]


def is_signed(token: str, url: str, fields: Sequence[tuple[str, str]], signature: bytes) -> bool:
    """Whether `signature` is Twilio's for this callback; never with no token."""
    if not token or not signature:
        return False
    found = False
    for candidate in signed_urls(url):  # both always compared: the time taken says nothing
        found |= hmac.compare_digest(signature_of(token, candidate, fields), signature)
    return found


def form_of(body: bytes) -> list[tuple[str, str]] | None:
    """The fields of an application/x-www-form-urlencoded body; None when it is not one."""
    try:
        return parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS, errors="strict"
        )
    except ValueError:  # UnicodeDecodeError included
        return None


def status_of(fields: Sequence[tuple[str, str]], at: datetime) -> ProviderStatus | None:
    """What a callback changes: delivered, failed with its reason, or nothing (None) for the statuses
    on the way (queued, accepted, sending, sent…). Raises MalformedCallback."""
    values = dict(fields)
    sid, status = values.get("MessageSid", ""), values.get("MessageStatus", "")
    if not sid or len(sid) > MAX_SID or not sid.isascii() or not sid.isalnum() or not status:
        raise MalformedCallback("expected MessageSid and MessageStatus")
    if status == "delivered":
        return ProviderStatus(sid, "delivered", at)
    if status not in FAILED:
        return None
    code = code_of(values.get("ErrorCode", ""))
    known = CODES.get(code) if code is not None else None
    reason = reason_of(code) if code is not None else f"Twilio: {status}"
    return ProviderStatus(sid, "failed", at, bounded(reason), known.suppress if known else None)
