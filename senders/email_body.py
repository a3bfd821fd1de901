"""An email's HTML part, made from its plain text: paragraphs, line breaks, clickable links."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
_PARAGRAPHS = re.compile(r"\n\s*\n")


def _linked(line: str) -> str:
    """The line escaped, its links found in the raw text first (so `<https://…>` keeps its `>` out)."""
    parts, last = [], 0
    for match in _LINK.finditer(line):
        url = html.escape(match.group(0), quote=True)
        parts += [html.escape(line[last : match.start()], quote=True), f'<a href="{url}">{url}</a>']
        last = match.end()
    parts.append(html.escape(line[last:], quote=True))
    return "".join(parts)


def html_from_text(text: str) -> str:
    """The HTML body for a plain-text one; everything the text holds is escaped first."""
    paragraphs = [p.strip("\n") for p in _PARAGRAPHS.split(text.replace("\r\n", "\n")) if p.strip()]
    blocks = ["<p>" + "<br>\n".join(_linked(line) for line in p.split("\n")) + "</p>" for p in paragraphs]
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
        '<body style="font-family: sans-serif; line-height: 1.5">\n'
        + "\n".join(blocks)
        + "\n</body></html>\n"
    )
