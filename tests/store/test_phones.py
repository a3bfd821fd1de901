import random

import phonenumbers
import pytest

from store.phones import InvalidPhone, fast_e164, is_mobile, to_e164, to_e164_many


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("347 123 4567", "+393471234567"),
        ("+39 347 123 4567", "+393471234567"),
        ("0039 347-123-4567", "+393471234567"),
        ("(02) 1234 5678", "+390212345678"),
        ("+44 7400 123456", "+447400123456"),
        ("+44 07400 123456", "+447400123456"),
        ("+1 (212) 555-0142", "+12125550142"),
        ("+41 79 123 45 67", "+41791234567"),
    ],
)
def test_numbers_people_type_become_e164(raw, e164):
    assert to_e164(raw, "IT") == e164


@pytest.mark.parametrize("raw", ["", "12", "abc", "+39 123", "+999 1234567", "347 123 4567 999 999"])
def test_what_is_not_a_phone_number_is_refused(raw):
    with pytest.raises(InvalidPhone):
        to_e164(raw, "IT")


def test_a_uk_default_region_strips_the_trunk_prefix():
    assert to_e164("07400 123456", "GB") == "+447400123456"


def reference(text: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@pytest.mark.parametrize("region", ["IT", "GB", "US", "DE", "FR", "CH"])
def test_the_fast_path_agrees_with_phonenumbers(region):
    rng = random.Random(region)
    prefixes = ["+39", "+44", "+1", "+49", "+33", "+41", "+7", "+378", "", "0", "3", "00"]
    accepted = 0
    for _ in range(4000):
        text = rng.choice(prefixes) + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 12)))
        if text.startswith("00"):
            text = "+" + text[2:]  # what to_e164 does first: 00 is the international prefix here
        fast = fast_e164(text, region)
        if fast is not None:
            accepted += 1
            assert fast == reference(text, region), text
    assert accepted > 200


@pytest.mark.parametrize("region", ["IT", "GB", "US", "CH", "VA"])
def test_many_at_once_agrees_with_phonenumbers(region):
    rng = random.Random(f"many {region}")
    heads = [
        "+39 3",
        "+39 06",
        "0039 3",
        "3",
        "06",
        "+44 7",
        "+44 07",
        "07",
        "+1 212",
        "212",
        "+41 7",
        "+39 06698",
        "",
    ]
    values = [
        rng.choice(heads) + "".join(rng.choice("0123456789 ") for _ in range(rng.randint(4, 11)))
        for _ in range(3000)
    ]
    fast = to_e164_many(values, region)
    assert sum(f is not None for f in fast) > 300
    for value, got in zip(values, fast, strict=True):
        text = value.replace(" ", "")
        text = "+" + text[2:] if text.startswith("00") else text
        if got is not None:
            assert got == reference(text, region), value


def test_only_mobiles_take_sms():
    assert is_mobile("+393471234567")
    assert not is_mobile("+390212345678")  # a Milan landline
    assert not is_mobile("+39800123456")  # toll free
    assert is_mobile("+447400123456")
    assert is_mobile("+12125550142")  # in the US a mobile and a landline look alike


@pytest.mark.parametrize("region", ["IT", "GB", "CH"])
def test_the_mobile_fast_path_takes_only_mobiles(region):
    rng = random.Random(f"mobile {region}")
    heads = ["+39 3", "+39 02", "3", "02", "0039 3", "+44 7", "+44 20", "7", "+41 7", "+41 44"]
    values = [
        rng.choice(heads) + "".join(rng.choice("0123456789") for _ in range(rng.randint(6, 9)))
        for _ in range(3000)
    ]
    fast = to_e164_many(values, region, mobile=True)
    taken = [f for f in fast if f is not None]
    assert len(taken) > 30
    for value, got in zip(values, fast, strict=True):
        if got is not None:
            text = value.replace(" ", "")
            assert got == reference("+" + text[2:] if text.startswith("00") else text, region), value
            number = phonenumbers.parse(got)
            assert phonenumbers.number_type(number) in (
                phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            )  # fmt: skip
