"""Normalising the addresses of each channel: emails (syntax only, no DNS), phone numbers in E.164.

An email is kept lower-case as a whole, so `Maria.Rossi@Example.org` and `maria.rossi@example.org` are
one recipient and match one contact.
"""

from __future__ import annotations

import re

from store.limits import EMAIL_MAX, PHONE_MAX, TooLong, check_length
from store.phones import InvalidPhone, to_e164

# Plain ASCII addresses email-validator surely accepts; anything else is asked of email-validator itself
# (about 20,000 addresses a second here, too slow alone for a 100,000-row import).
_PLAIN_EMAIL = re.compile(
    r"^(?=.{6,254}$)(?=[^@]{1,64}@)"
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:(?!-)(?!..--)[a-z0-9-]{1,63}(?<!-)\.)+(?P<tld>[a-z]{2,63})$"
)
# email-validator's SPECIAL_USE_DOMAIN_NAMES (a test keeps them equal); importing it costs 50 ms.
SPECIAL_TLDS = frozenset(("arpa", "invalid", "local", "localhost", "onion", "test"))


class InvalidAddress(ValueError):
    """The value is not an address of its channel; the message says why, in a few words."""


def normalise_email(value: str) -> str:
    """`Mario.Rossi@Example.ORG ` becomes `mario.rossi@example.org`."""
    text = _within(value.strip(), "email", EMAIL_MAX).lower()
    if not text:
        raise InvalidAddress("empty email")
    plain = _PLAIN_EMAIL.match(text)
    if plain is not None and plain.group("tld") not in SPECIAL_TLDS:
        return text
    from email_validator import EmailNotValidError, validate_email

    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"invalid email: {exc}") from None
    return info.normalized.lower()


def normalise_phone(value: str, default_region: str = "IT") -> str:
    """A phone number as E.164 (`+393471234567`); numbers without `+` are read in `default_region`."""
    _within(value.strip(), "phone number", PHONE_MAX)
    try:
        return to_e164(value, default_region)
    except InvalidPhone as exc:
        raise InvalidAddress(str(exc)) from None


def _within(text: str, what: str, limit: int) -> str:
    """The text, or InvalidAddress when it is longer than any real address (store.limits)."""
    try:
        return check_length(text, what, limit)
    except TooLong as exc:
        raise InvalidAddress(str(exc)) from None
