"""How long an imported name, address or token may be, and how an imported name is cleaned: the one place.

Every way people and registries hand us data (CSV imports, pastes, `contacts import`, picked contacts)
goes through these, so a 100,000-character cell is one refused row with its reason, never a stored name
that fills every screen, every export and every message.
"""

from __future__ import annotations

import re

NAME_MAX = 100  # a first or a last name; the longest real ones are far shorter
EMAIL_MAX = 254  # RFC 5321's longest path, less its angle brackets
# E.164 holds at most 15 digits; typed ones carry spaces, dots, brackets and a 00 prefix besides.
PHONE_MAX = 32
TOKEN_MAX = 4096  # a push device token or an app session token; FCM's are about 160
SHOWN_VALUE_MAX = 80  # how much of a refused value the import report quotes

# Excel keeps a multi-line cell's line breaks; a name is one line, and holds no control character (an
# ESC would reach terminals, a NUL is refused by PostgreSQL). A plain character class: a pattern like
# `\s*[\r\n]+\s*` would take quadratic time over a cell of 100,000 spaces.
# Direction overrides and isolates too: they make a name read in another order than it is stored.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


class TooLong(ValueError):
    """A value over its limit; the message names the column and the limit."""


def check_length(text: str, column: str, limit: int) -> str:
    """The text as it is, or TooLong when it is over `limit` characters."""
    if len(text) > limit:
        raise TooLong(f"{column} is longer than {limit:,} characters ({len(text):,})")
    return text


def clean_name(text: str, column: str = "name") -> str:
    """A name stripped, its line breaks, tabs and other control characters folded to one space; TooLong
    over NAME_MAX."""
    if _BREAKS.search(text):
        text = " ".join(part.strip() for part in _BREAKS.split(text) if part.strip())
    return check_length(text.strip(), column, NAME_MAX)


def shown(value: str) -> str:
    """A value as a report quotes it: cut short, so one huge cell cannot fill the report."""
    if len(value) <= SHOWN_VALUE_MAX:
        return value
    return value[: SHOWN_VALUE_MAX - 1] + "…"
