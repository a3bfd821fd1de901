"""How long an imported name, address or token may be, and how an imported name is cleaned: the one place.

Every way people and registries hand us data (CSV imports, pastes, `contacts import`, picked contacts)
goes through these, so a 100,000-character cell is one refused row with its reason, never a stored name
that fills every screen, every export and every message.
"""

from __future__ import annotations

from store.message_limits import one_line

NAME_MAX = 100  # a first or a last name; the longest real ones are far shorter
EMAIL_MAX = 254  # RFC 5321's longest path, less its angle brackets
# E.164 holds at most 15 digits; typed ones carry spaces, dots, brackets and a 00 prefix besides.
PHONE_MAX = 32
TOKEN_MAX = 4096  # a push device token or an app session token; FCM's are about 160
SHOWN_VALUE_MAX = 80  # how much of a refused value the import report quotes
REGISTRY_ID_MAX = 64  # a contact's id in the center's registry: a code, a tax code, a UUID (36)


class TooLong(ValueError):
    """A value over its limit; the message names the column and the limit."""


def check_length(text: str, column: str, limit: int) -> str:
    """The text as it is, or TooLong when it is over `limit` characters."""
    if len(text) > limit:
        raise TooLong(f"{column} is longer than {limit:,} characters ({len(text):,})")
    return text


def clean_name(text: str, column: str = "name") -> str:
    """A name stripped, on one line as a subject is (`one_line`: Excel keeps a multi-line cell's line
    breaks, an ESC would reach terminals, a NUL is refused by PostgreSQL); TooLong over NAME_MAX."""
    return check_length(one_line(text).strip(), column, NAME_MAX)


def shown(value: str) -> str:
    """A value as a report quotes it: cut short, so one huge cell cannot fill the report."""
    if len(value) <= SHOWN_VALUE_MAX:
        return value
    return value[: SHOWN_VALUE_MAX - 1] + "…"
