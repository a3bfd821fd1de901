"""Normalising the addresses of each channel: emails, phone numbers in E.164."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email

_PHONE_JUNK = re.compile(r"[\s().\-/]")


class InvalidAddress(ValueError):
    """The value is not an address of its channel; the message says why, in a few words."""


def normalise_email(value: str) -> str:
    """`Mario.Rossi@Example.ORG ` becomes `mario.rossi@example.org`; syntax only, no DNS."""
    text = value.strip()
    if not text:
        raise InvalidAddress("empty email")
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"invalid email: {exc}") from None
    return info.normalized.lower()


def normalise_phone(value: str, default_region: str = "IT") -> str:
    """A phone number as E.164 (`+393471234567`); numbers without `+` are read in `default_region`."""
    text = _PHONE_JUNK.sub("", value.strip())
    if not text:
        raise InvalidAddress("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidAddress("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidAddress("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
