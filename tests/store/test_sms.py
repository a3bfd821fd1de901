import pytest

from store.sms import count_sms


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("a" * 159 + "€", "GSM-7", 161, 2),
        ("è à ù ì ò É Ç", "GSM-7", 13, 1),
        ("ç" * 70, "UCS-2", 70, 1),
        ("ç" * 71, "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),
        ("Ciao 😀", "UCS-2", 7, 1),
    ],
)
def test_units_and_segments(text, encoding, units, segments):
    count = count_sms(text)
    assert (count.encoding, count.units, count.segments) == (encoding, units, segments)


def test_an_extension_character_is_never_split_across_parts():
    # 152 plain characters, then `€` (2 units) would straddle the 153-unit boundary: it moves on.
    assert count_sms("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_sms("a" * 151 + "€" + "a" * 153).segments == 2


def test_the_characters_forcing_ucs2_are_named():
    count = count_sms("Buongiorno François, ça va? 😀")
    assert count.forcing_ucs2 == ["ç", "😀"]
    assert "UCS-2 because of ç 😀" in count.describe()
    assert count_sms("a" * 161).describe() == "161 characters · GSM-7 · 2 SMS"
