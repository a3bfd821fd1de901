"""Plain-text renderings of what the CLI prints without --json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from store.report import ImportReport

SHOWN_ERRORS = 20


def plural(count: int, noun: str) -> str:
    """`1 reservation`, `2,000 reservations`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def report_text(report: ImportReport) -> str:
    lines = [report.summary() + "."]
    for error in report.shown_errors()[:SHOWN_ERRORS]:
        lines.append(f"  row {error['row']}: {error['value']!r}: {error['reason']}")
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
