"""An email's HTML part, made from its plain text: paragraphs, line breaks, clickable links.

Each recipient's copy differs only in its tracked links, its open pixel and its unsubscribe link, so
the page is laid out once per body (`HtmlLayout`) and each copy only fills those in.

Only the links the campaign's author wrote become links (`authored_links`): a name or any other
recipient data is text, escaped, never a link and never tracked, so a CSV cannot make the center's
tracking domain redirect anywhere.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

from senders.wording import WORDINGS, Wording

_LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
_PARAGRAPHS = re.compile(r"\n\s*\n")
_HEAD = (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8"></head>\n'
    '<body style="font-family: sans-serif; line-height: 1.5">\n'
)
_FOOT = "\n</body></html>\n"


class HtmlLayout:
    """A body's HTML page cut where its links go: `literal, link, literal, link, …, literal`.

    With `authored`, only those addresses become links; other text that looks like one stays text."""

    def __init__(self, text: str, authored: frozenset[str] | None = None) -> None:
        self.literals: list[str] = []
        self.links: list[str] = []  # the original addresses, unescaped
        pending: list[str] = [_HEAD]
        paragraphs = [p.strip("\n") for p in _PARAGRAPHS.split(text.replace("\r\n", "\n")) if p.strip()]
        for n, paragraph in enumerate(paragraphs):
            pending.append("\n<p>" if n else "<p>")
            for k, line in enumerate(paragraph.split("\n")):
                if k:
                    pending.append("<br>\n")
                last = 0
                for match in _LINK.finditer(line):  # links found in the raw text, before escaping
                    url = match.group(0)
                    if authored is not None and url not in authored:
                        continue
                    pending += [html.escape(line[last : match.start()], quote=True), '<a href="']
                    self.literals.append("".join(pending))
                    self.links.append(url)
                    pending = [f'">{html.escape(url, quote=True)}</a>']
                    last = match.end()
                pending.append(html.escape(line[last:], quote=True))
            pending.append("</p>")
        self.literals.append("".join(pending))

    def page(self, href: Callable[[str], str] = lambda url: url, tail: str = "") -> str:
        """The page, each link pointing where `href` says, `tail` (already HTML) after the text."""
        parts = [self.literals[0]]
        for url, literal in zip(self.links, self.literals[1:], strict=True):
            parts += [html.escape(href(url), quote=True), literal]
        parts += [tail, _FOOT]
        return "".join(parts)


@lru_cache(maxsize=256)
def layout_of(text: str, authored: frozenset[str] | None = None) -> HtmlLayout:
    return HtmlLayout(text, authored)


def authored_links(body: str, coupon: str | None) -> frozenset[str]:
    """The links of a campaign's body as its author wrote them: in its text, and in the body rendered
    with the author's coupon and no names (a link that carries `{{ coupon }}`)."""
    from store.templates import author_texts

    return frozenset(m.group(0) for text in author_texts(body, coupon) for m in _LINK.finditer(text))


def html_from_text(text: str) -> str:
    """The HTML body for a plain-text one; everything the text holds is escaped first."""
    return layout_of(text).page()


def tracked_html(
    text: str,
    click: Callable[[str], str],
    pixel: str | None,
    unsubscribe: str | None,
    wording: Wording = WORDINGS["en"],
    authored: frozenset[str] | None = None,
    center: str = "",
) -> str:
    """One recipient's page: the author's links through the click tracker, the footer (why the message
    came and the unsubscribe link), the open pixel when there is one."""
    tail = []
    if unsubscribe:
        link, label = html.escape(unsubscribe, quote=True), html.escape(wording.link)
        reason = html.escape(wording.reason.format(center=center))
        tail.append(f'\n<p style="font-size: small; color: #666">{reason} <a href="{link}">{label}</a></p>')
    if pixel:
        tail.append(f'\n<img src="{html.escape(pixel, quote=True)}" width="1" height="1" alt="">')
    return layout_of(text, authored).page(click, "".join(tail))


def text_with_footer(
    text: str, unsubscribe: str | None, wording: Wording = WORDINGS["en"], center: str = ""
) -> str:
    """The plain-text part: the body, then the footer in the HTML part's words."""
    if not unsubscribe:
        return text
    return f"{text.rstrip()}\n\n--\n{wording.reason.format(center=center)}\n{wording.link}: {unsubscribe}\n"
