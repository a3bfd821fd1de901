"""The import report every import returns (docs/files.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

MAX_ERRORS = 1000


@dataclass(frozen=True)
class RefusedRow:
    """A row (of a paste or a file) or a contact an import refused, and why."""

    row: int  # its place in the paste, the file or the list of contacts
    value: str  # what it held, as the report quotes it
    reason: str


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    invalid: int = 0
    opted_out: int = 0
    suppressed: int = 0  # on the suppression list (store.suppressions): left out, listed with the reason
    already_present: int = 0
    updated: int = 0
    errors: list[RefusedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What was refused: rows of a paste or a file, or contacts (picked, all patients) that this channel
    # cannot reach. Words only: the document keeps "invalid" for both (docs/files.md).
    of_contacts: bool = False

    def refuse_row(self, row: int, value: str, reason: str) -> None:
        """Counts an invalid row and keeps its details (the report shows the first 1,000 by row)."""
        self.invalid += 1
        self.errors.append(RefusedRow(row, value, reason))

    def suppress_row(self, row: int, value: str, reason: str) -> None:
        """Counts a row left out because its address is on the suppression list, and lists it with why
        ("suppressed: hard bounce") among the refused rows."""
        from store.suppressions import shown

        self.suppressed += 1
        self.errors.append(RefusedRow(row, value, shown(reason)))

    def shown_errors(self) -> list[RefusedRow]:
        return sorted(self.errors, key=lambda e: e.row)[:MAX_ERRORS]

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "invalid": self.invalid,
            "opted_out": self.opted_out,
            "suppressed": self.suppressed,
            "already_present": self.already_present,
            "updated": self.updated,
            "errors": [asdict(e) for e in self.shown_errors()],  # row, value, reason
            "notes": self.notes,
        }

    def summary(self) -> str:
        parts = [f"{self.added:,} added"]
        if self.updated:
            parts.append(f"{self.updated:,} updated")
        for label, count in (
            ("already present", self.already_present),
            ("duplicates" if self.duplicates != 1 else "duplicate", self.duplicates),
            ("opted out", self.opted_out),
            ("suppressed", self.suppressed),
            ("unreachable by this channel" if self.of_contacts else "invalid", self.invalid),
        ):
            if count:
                parts.append(f"{count:,} {label}")
        return "; ".join([", ".join(parts), *self.notes])
