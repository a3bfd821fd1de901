"""The contacts directory the picker searches: every contact in memory, filtered per keystroke.

100,000 contacts take a few MB; a substring test over one pre-lowered string per contact filters them
all in a few milliseconds, no database round trip per key.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.db import database

KINDS = ("patient", "resource", "user")


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    first_name: str
    last_name: str
    email: str
    phone: str
    has_app: bool
    consent: bool
    # Why each of its addresses is on the suppression list (store.suppressions), "" when it is not.
    email_suppressed: str = ""
    phone_suppressed: str = ""
    push_suppressed: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def suppressed_for(self, channel: str | None) -> str:
        """Why the address a campaign of this channel would use is suppressed, or ""."""
        return {
            "email": self.email_suppressed,
            "sms": self.phone_suppressed,
            "push": self.push_suppressed,
        }.get(channel or "", "")


class Directory:
    """Contacts and a lowered "name email phone" string for each, in id order."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.haystacks = [f"{e.first_name} {e.last_name} {e.email} {e.phone}".lower() for e in entries]
        self.by_kind = {kind: [i for i, e in enumerate(entries) if e.kind == kind] for kind in KINDS}
        self._last: tuple[str, str | None, list[int]] = ("", None, list(range(len(entries))))

    def __len__(self) -> int:
        return len(self.entries)

    def search(self, text: str = "", kind: str | None = None) -> list[int]:
        """Positions of the entries whose name, email or phone contain every word typed.

        Typing on narrows the previous answer instead of starting over from every contact.
        """
        query = text.lower()
        last_query, last_kind, last_found = self._last
        if (
            kind == last_kind
            and last_query
            and query.startswith(last_query)
            and " " not in query[len(last_query) - 1 :]
        ):
            positions: list[int] | range = last_found
        else:
            positions = self.by_kind[kind] if kind else range(len(self.entries))
        hay = self.haystacks
        for word in query.split():
            positions = [i for i in positions if word in hay[i]]
        found = list(positions)
        self._last = (query, kind, found)
        return found


def load_directory() -> Directory:
    """Every contact, read in one query (call it off the event loop)."""
    sql = (
        "SELECT c.id, c.kind, c.first_name, c.last_name, COALESCE(c.email, ''), COALESCE(c.phone, ''), "
        "c.push_token IS NOT NULL AND c.push_token_dead_at IS NULL, c.consent, "
        "COALESCE(se.reason, ''), COALESCE(sp.reason, ''), COALESCE(st.reason, '') FROM contact c "
        "LEFT JOIN suppression se ON se.address = c.email LEFT JOIN suppression sp ON sp.address = c.phone "
        "LEFT JOIN suppression st ON st.address = c.push_token ORDER BY c.id"
    )
    rows = database.execute_sql(sql).fetchall()
    return Directory(
        [Entry(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6]), bool(r[7]), r[8], r[9], r[10]) for r in rows]
    )
