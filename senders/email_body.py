"""An email's HTML part, made from its plain text: paragraphs, line breaks, clickable links."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"\b(https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]])", re.IGNORECASE)
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _linked(escaped: str) -> str:
    return _LINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)


def html_from_text(text: str) -> str:
    """The HTML body for a plain-text one; everything the text holds is escaped first."""
    paragraphs = [p.strip("\n") for p in _PARAGRAPHS.split(text.replace("\r\n", "\n")) if p.strip()]
    blocks = [
        "<p>" + "<br>\n".join(_linked(html.escape(line, quote=True)) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    ]
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: sans-serif; line-height: 1.5">\n'
        + "\n".join(blocks)
        + "\n</body></html>\n"
    )
