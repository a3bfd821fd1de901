"""Phone numbers to E.164, fast enough for 100,000 rows at once.

`phonenumbers.parse` + `is_valid_number` runs ~20,000 numbers a second here: 5 s for a 100,000-row file.
Most numbers people import are already clean (`+39 347 123 4567`, `3471234567`), so a fast path checks
those against the same metadata phonenumbers uses, and everything the fast path does not accept goes
through the full library. The fast path only ever accepts: it never refuses a number on its own.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata

_JUNK = re.compile(r"[\s().\-/]")
_DIGITS = re.compile(r"^\+?\d{4,17}$")


class InvalidPhone(ValueError):
    """Not a valid phone number; the message says why in a few words."""


# Every kind of number a region has: what phonenumbers' `is_valid_number` accepts when one matches.
_NUMBER_TYPES = (
    "mobile", "fixed_line", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
    "pager", "uan", "voicemail",
)  # fmt: skip


class _Region:
    """One region's number patterns, compiled once (phonenumbers compiles them on every call)."""

    def __init__(self, metadata: PhoneMetadata) -> None:
        self.metadata = metadata
        self.leading = re.compile(metadata.leading_digits) if metadata.leading_digits else None
        trunk = metadata.national_prefix_for_parsing
        self.trunk = re.compile(trunk) if trunk else None
        self.general = self._desc(metadata.general_desc)
        found = (self._desc(getattr(metadata, name, None)) for name in _NUMBER_TYPES)
        self.kinds = [desc for desc in found if desc is not None]

    @staticmethod
    def _desc(desc: object) -> tuple[re.Pattern[str], frozenset[int]] | None:
        pattern = getattr(desc, "national_number_pattern", None)
        if not pattern:
            return None
        return re.compile(pattern), frozenset(getattr(desc, "possible_length", ()) or ())

    @staticmethod
    def _matches(national: str, desc: tuple[re.Pattern[str], frozenset[int]] | None) -> bool:
        if desc is None:
            return False
        pattern, lengths = desc
        return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None

    def accepts(self, national: str) -> bool:
        if self.leading is not None and not self.leading.match(national):
            return False
        return self._matches(national, self.general) and any(self._matches(national, d) for d in self.kinds)


@lru_cache(maxsize=64)
def _regions_of(country_code: int) -> tuple[_Region, ...]:
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    found = (PhoneMetadata.metadata_for_region(r) for r in regions)
    return tuple(_Region(m) for m in found if m is not None)


@lru_cache(maxsize=64)
def _default_metadata(region: str) -> PhoneMetadata | None:
    return PhoneMetadata.metadata_for_region(region.upper())


def _may_carry_trunk_prefix(national: str, regions: tuple[_Region, ...]) -> bool:
    """True when phonenumbers might strip a prefix (`0` in `+44 07400…`): leave those to it."""
    return any(r.trunk is not None and r.trunk.match(national) for r in regions)


def fast_e164(digits: str, default_region: str) -> str | None:
    """E.164 for a cleaned number (`+` and digits) when the metadata accepts it as is, else None."""
    if not _DIGITS.match(digits):
        return None
    if digits.startswith("+"):
        body = digits[1:]
        if body.startswith("0"):
            return None  # no country code starts with 0
        for size in (1, 2, 3):
            regions = _regions_of(int(body[:size]))
            if regions:
                code, national = body[:size], body[size:]
                break
        else:
            return None
    else:
        metadata = _default_metadata(default_region)
        if metadata is None:
            return None
        code, national = str(metadata.country_code), digits
        regions = _regions_of(metadata.country_code)
    if _may_carry_trunk_prefix(national, regions) or not any(r.accepts(national) for r in regions):
        return None
    return f"+{code}{national}"


def to_e164(value: str, default_region: str = "IT") -> str:
    """A phone number as E.164 (`+393471234567`); numbers without `+` are read in `default_region`."""
    text = _JUNK.sub("", value.strip())
    if not text:
        raise InvalidPhone("empty phone number")
    if text.startswith("00"):
        text = "+" + text[2:]
    fast = fast_e164(text, default_region)
    if fast is not None:
        return fast
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
