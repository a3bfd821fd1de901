"""How large a message may be: per channel, what its provider takes and what a patient should receive.

One module owns these numbers (imported names and addresses have theirs in `store.limits`). A draft is
checked against them when it is saved, rendered for a sample recipient; each recipient's own message is
checked again when it is rendered for sending, and one that exceeds them fails with the reason, alone,
never posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.header import Header

from store.sms import count_sms

MAX_TEMPLATE_CHARACTERS = 100_000  # a body, subject or title as written
MAX_RENDERED_CHARACTERS = 200_000  # one recipient's message, whatever the template does
MAX_SUBJECT_BYTES = 998  # RFC 5322's line length, for the subject once encoded (RFC 2047)
DEFAULT_SMS_PARTS = 6  # `[sms] max_parts`: about 900 characters of GSM-7
# FCM and APNs take 4,096 bytes of payload; the title, the body and our reference share it.
MAX_PUSH_BYTES = 3_800
MAX_PUSH_TITLE_CHARACTERS = 200
MAX_EMAIL_BODY_BYTES = 500_000  # far above any letter; far below what relays refuse (often 10-25 MB)


@dataclass(frozen=True)
class MessageLimits:
    sms_parts: int = DEFAULT_SMS_PARTS


_LINE_BREAKS = frozenset("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
# Control characters, line breaks among them. A plain character class, split on: a pattern such as
# `\s*[…]+\s*` would take quadratic time over a subject of 100,000 spaces.
# Direction overrides and isolates too: a subject must read in the order it is stored ("Trojan Source").
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def one_line(text: str) -> str:
    """The text on one line: each run of line breaks and other control characters, with the spaces
    around it, becomes one space.

    A subject or a push title made from a recipient's data (an Excel cell with two lines, say) must not
    add a header or end the headers: what cannot carry a line break cannot do either."""
    if text.isprintable():
        return text
    return " ".join(part.strip() for part in _CONTROLS.split(text) if part.strip())


def has_line_break(text: str) -> bool:
    return any(ch in _LINE_BREAKS for ch in text)


def encoded_subject_bytes(subject: str) -> int:
    """The subject's length once encoded for the header (RFC 2047 for other scripts), folding aside."""
    if subject.isascii():
        return len(subject)
    return len(Header(subject, "utf-8").encode(maxlinelen=10**6))


def message_problem(
    channel: str, body: str, subject: str | None, limits: MessageLimits = MessageLimits()
) -> str | None:
    """Why this rendered message may not go, in a few words; None when it may."""
    if len(body) > MAX_RENDERED_CHARACTERS:
        return f"the message is {len(body):,} characters, over the limit of {MAX_RENDERED_CHARACTERS:,}"
    if channel == "sms":
        parts = count_sms(body).segments
        if parts > limits.sms_parts:
            return f"the SMS needs {parts} parts, over the limit of {limits.sms_parts} ([sms] max_parts)"
    elif channel == "email":
        size = len(body.encode("utf-8"))
        if size > MAX_EMAIL_BODY_BYTES:
            return f"the email body is {size:,} bytes, over the limit of {MAX_EMAIL_BODY_BYTES:,}"
        if subject is not None and encoded_subject_bytes(subject) > MAX_SUBJECT_BYTES:
            return f"the subject is over {MAX_SUBJECT_BYTES} bytes once encoded"
    elif channel == "push":
        title = subject or ""
        if len(title) > MAX_PUSH_TITLE_CHARACTERS:
            return f"the title is {len(title):,} characters, over the limit of {MAX_PUSH_TITLE_CHARACTERS}"
        size = len(title.encode("utf-8")) + len(body.encode("utf-8"))
        if size > MAX_PUSH_BYTES:
            return f"the push message is {size:,} bytes, over the {MAX_PUSH_BYTES:,} a push service takes"
    return None
