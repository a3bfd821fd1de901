"""Plain-text renderings of what the CLI prints without --json, and of the data the screens show."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from store.report import ImportReport

SHOWN_ERRORS = 20
# Far more than a line of any screen holds; a 100,000-character name would cost its layout on every refresh.
SHOWN_CHARACTERS = 500

# Control characters would reach the terminal as they are: an ESC starts a sequence (a link, a title, a
# cursor move). Shown as � instead; tabs and line breaks as a space where the value is one line.
# Direction overrides and isolates likewise: a name must read in the order it is stored.
_CONTROLS = (*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ONE_LINE = {code: "\ufffd" for code in _CONTROLS} | {9: " ", 10: " ", 13: " "}
_LINES = _ONE_LINE | {9: "\t", 10: "\n", 13: ""}


def plural(count: int, noun: str) -> str:
    """`1 reservation`, `2,000 reservations`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def plain(value: object, limit: int = SHOWN_CHARACTERS, lines: bool = False) -> str:
    """A value (a name, an address, a reason, something typed) as a screen shows it: on one line unless
    `lines`, control characters as �, at most `limit` characters (the last an ellipsis when cut)."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.translate(_LINES if lines else _ONE_LINE)


def for_terminal(text: str) -> str:
    """What the command line prints, as it was written but with no control character: a name or a value
    quoted from a file must not send the admin's terminal an escape sequence (a link, a title)."""
    return text.translate(_LINES)


def escape(value: object, limit: int = SHOWN_CHARACTERS, lines: bool = False) -> str:
    """`plain(value)` to put in Textual markup (Static, Label, ConfirmDialog): shown as written, never a
    tag, a link or an action. Not for Rich markup: give a DataTable `rich.text.Text` cells instead."""
    # Every `[`, not only those that look like tags as `textual.markup.escape` does: `[Red]` is a style to
    # Textual. A backslash already before one stays shown: Textual takes `\\[` as a backslash and a `[`.
    text = plain(value, limit, lines).replace("[", "\\[")
    # Textual has no escape for a backslash: one at the end would escape the `[` of the tag after it.
    return text + "\u200b" if text.endswith("\\") else text


def report_text(report: ImportReport) -> str:
    lines = [report.summary() + "."]
    for error in report.shown_errors()[:SHOWN_ERRORS]:
        lines.append(f"  row {error.row}: {error.value!r}: {error.reason}")
    hidden = report.invalid - min(len(report.errors), SHOWN_ERRORS)
    if hidden > 0:
        lines.append(f"  … and {hidden:,} more (--json lists up to 1,000)")
    return "\n".join(lines)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[int] = ()) -> str:
    """A plain aligned table; the columns whose index is in `right` are right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for row in cells:
        parts = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"
