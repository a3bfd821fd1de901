"""How an SMS body is billed: encoding, units and segments.

GSM-7 carries 160 units in one message and 153 in each part of a longer one; an extension character
(`€ [ ] { } ^ ~ | \\` and form feed) costs two units and is never split across parts. One character
outside GSM-7 switches the whole message to UCS-2: 70 UTF-16 units, 67 per part, an emoji taking two.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # GSM-7 or UCS-2
    characters: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    forcing_ucs2: list[str] = field(default_factory=list)  # the characters that leave GSM-7, in order

    def describe(self) -> str:
        """`143 characters · GSM-7 · 1 SMS`, naming what forces UCS-2."""
        parts = f"{self.segments} SMS" if self.segments != 1 else "1 SMS"
        text = f"{self.characters} characters · {self.encoding} · {parts}"
        if self.forcing_ucs2:
            shown = " ".join(self.forcing_ucs2[:6]) + (" …" if len(self.forcing_ucs2) > 6 else "")
            text += f" (UCS-2 because of {shown})"
        return text


def _costs(text: str) -> tuple[str, list[int], list[str]]:
    outside = [ch for ch in dict.fromkeys(text) if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION]
    if not outside:
        return "GSM-7", [2 if ch in GSM7_EXTENSION else 1 for ch in text], []
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text], outside


def _pack(costs: list[int], per_part: int) -> int:
    """Parts needed when no character may be split across two of them."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def count_sms(text: str) -> SmsCount:
    encoding, costs, outside = _costs(text)
    units = sum(costs)
    single, per_part = LIMITS[encoding]
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    else:
        segments = _pack(costs, per_part)
    return SmsCount(encoding, len(text), units, segments, outside)
