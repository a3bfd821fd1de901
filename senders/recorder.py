"""Group commit: every connection waits for its last answer to be on disk before it sends the next.

Answers and hand-overs from all connections that arrive while one transaction runs go into the next
one, so the cost of a commit is shared. That commit only appends to the send journal; every
`FOLD_SECONDS` the journal is folded into the messages and the sent ledger, hundreds at a time (a
message costs a third of what it cost written alone). One thread of its own writes (SQLite has one
writer anyway, see `store.group_commit`): the event loop only appends to the next batch and gets a
future back.

Except, in a headless engine (`campaigns worker`: no screen shares its event loop), for a connection
whose message waits for the commit with nothing else to do (`gather=False`, the HTTP providers) on
SQLite: its one-statement commit is made on the event loop itself, on a
connection of the recorder's own that waits for no lock (another writer holds it: the thread does it
after all, waiting its turn) and leaves WAL checkpoints to the other connections. Handing that commit
to the thread and back cost more than the commit: every call into SQLite there gave Python's lock to the
event loop and took it back (about a third more CPU per message in bench/send.py). Folds stay in the
thread; one takes the loop's entries inside its transaction, so no journal row can be forgotten
(`fold` deletes the rows of the messages it folds) before its entry is folded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.clock import utcnow
from store.group_commit import GroupCommit
from store.sending import Entry, Outcome, Outgoing

Result = tuple[Outcome, Outgoing]

FOLD_SECONDS = 0.2
GATHER_SECONDS = 0.001  # at most this long for the other connections' answers to share a commit

log = logging.getLogger("campaigns.send")


@dataclass(frozen=True)
class _Request:
    """One call of `record` or `flush`: what it adds to the next commit, and what its caller waits for."""

    outcomes: Sequence[Result]
    handed: Sequence[int]
    fold: bool = False  # the caller waits for everything to be folded
    urgent: bool = False  # the caller's message waits for this commit with nothing else to do meanwhile


class Recorder:
    def __init__(self, worker: str | None = None, commit_on_loop: bool = False) -> None:
        self.worker = worker  # hand-overs only of messages this engine still holds
        self.commit_on_loop = commit_on_loop  # see the module's docstring: never in the app
        self._unfolded: list[Entry] = []
        self._handed: list[tuple[int, datetime]] = []
        # The two lists above, shared by the event loop's commits and the thread's folds
        self._lock = threading.Lock()
        self._here: sqlite3.Connection | None = None  # the event loop's connection (SQLite only)
        self._here_off = False  # the database is not a SQLite file another connection can open
        self._folded_at = time.monotonic()
        self.committed = 0  # answers on disk, for progress figures
        self.connections = 0  # connections sending now: a commit waits a moment for each to ask
        self._writer: GroupCommit[_Request, set[int]] = GroupCommit(
            "recorder",
            self._write,
            answer=_allowed_of,
            gather_seconds=GATHER_SECONDS,
            gathered=self._gathered,
            wake_after=self._fold_due,
            on_commit=self._count,
            restart_after_close=True,  # a connection may still record while the engine closes
        )

    def record(
        self, outcomes: Sequence[Result] = (), handed: Sequence[int] = (), gather: bool = True
    ) -> asyncio.Future[set[int]]:
        """A future done once journaled, with those of `handed` that may go to the provider.

        `gather`: the commit may wait a moment for other connections' answers to share it."""
        if not outcomes and not handed:
            waiter: asyncio.Future[set[int]] = asyncio.get_running_loop().create_future()
            waiter.set_result(set())
            return waiter
        if not gather and self.commit_on_loop:
            done = self._record_here(outcomes, handed)
            if done is not None:
                return done
        return self._writer.submit(_Request(tuple(outcomes), tuple(handed), urgent=not gather))

    def _record_here(
        self, outcomes: Sequence[Result], handed: Sequence[int]
    ) -> asyncio.Future[set[int]] | None:
        """Journals on the event loop when SQLite lets it at once (see the module's docstring); None when
        the thread must do it: another connection holds the write lock, or the database is not SQLite."""
        from store.send_journal import journal_on
        from store.sending import entries_of

        now = utcnow()
        entries = entries_of(list(outcomes), now)
        waiter: asyncio.Future[set[int]] = asyncio.get_running_loop().create_future()
        with self._lock:  # a fold takes the lists only once its transaction holds the write lock
            connection = self._connection_here()
            if connection is None:
                return None
            try:
                allowed = journal_on(connection.cursor(), entries, list(handed), now, self.worker)
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY:
                    return None  # nothing was written: the thread waits its turn
                waiter.set_exception(exc)
                return waiter
            except Exception as exc:  # the caller learns it as from the thread
                waiter.set_exception(exc)
                return waiter
            fold_waits = not self._unfolded and not self._handed
            self._unfolded.extend(entries)
            self._handed.extend((message_id, now) for message_id in handed if message_id in allowed)
        self.committed += len(outcomes)
        if fold_waits:
            self._writer.wake()  # to fold them in FOLD_SECONDS
        waiter.set_result({message_id for message_id in handed if message_id in allowed})
        return waiter

    def _connection_here(self) -> sqlite3.Connection | None:
        """The event loop's SQLite connection, opened the first time; None when not SQLite (with the lock)."""
        if self._here is None and not self._here_off:
            from store.db import database, dialect
            from store.dialect import SQLITE_PRAGMAS

            path = getattr(database.obj, "database", None)
            from store.send_journal import returns_rows

            # Without RETURNING a refused hand-over is read back in a second statement, which could fail
            # after the first one committed: then the thread would journal it all again. The thread, then.
            if (
                dialect().writable_with or not isinstance(path, str) or path in ("", ":memory:")
                or not returns_rows()
            ):  # fmt: skip
                self._here_off = True
                return None
            here = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            here.execute("PRAGMA busy_timeout = 0")  # never waits for a lock: the thread does
            here.execute(f"PRAGMA synchronous = {SQLITE_PRAGMAS['synchronous']}")
            here.execute("PRAGMA wal_autocheckpoint = 0")  # checkpoints (fsync) happen off the loop
            self._here = here
        return self._here

    def flush(self) -> asyncio.Future[set[int]]:
        """A future done once everything journaled so far is folded into the messages."""
        return self._writer.submit(_Request((), (), fold=True, urgent=True))

    def close(self) -> None:
        """Journals and folds what is pending, then stops the thread (a later `record` starts another)."""
        self._writer.close()
        with self._lock:
            if self._here is not None:
                self._here.close()
                self._here = None  # a later `record` opens another
            left = bool(self._unfolded or self._handed)
        if left:  # journaled on the loop while the thread stopped
            from store.db import connection

            with connection():
                self._fold()

    def _gathered(self, requests: list[_Request]) -> bool:
        """Whether a commit stops waiting for the other connections' answers and takes what it has.

        A commit costs about as much as three messages written in it: sharing it leaves the CPU, and
        Python's lock, to the event loop and the provider (10-15% more emails a second in bench/send.py).
        """
        return len(requests) >= self.connections or any(request.urgent for request in requests)

    def _fold_due(self) -> float | None:
        """Seconds until the writer wakes to fold on its own; None when nothing waits to be folded."""
        if not self._unfolded and not self._handed:  # read without the lock: `wake` follows a change
            return None
        return max(0.0, self._folded_at + FOLD_SECONDS - time.monotonic())

    def _write(self, requests: list[_Request], last: bool) -> set[int]:
        """In the writer's thread: journals the batch, and folds when due, asked or closing."""
        outcomes = [outcome for request in requests for outcome in request.outcomes]
        handed = [message_id for request in requests for message_id in request.handed]
        fold = any(request.fold for request in requests)
        error: Exception | None = None
        allowed: set[int] = set()
        if outcomes or handed:
            try:
                allowed = self._journal(outcomes, handed)
            except Exception as exc:  # every waiter of the batch learns it failed
                error = exc
        if fold or last or time.monotonic() - self._folded_at >= FOLD_SECONDS:
            try:
                self._fold()
            except Exception as exc:  # kept for the next fold; only a flush waits for it
                log.warning("folding the send journal failed: %s: %s", type(exc).__name__, exc)
                error = error or (exc if fold else None)
        if error is not None:
            raise error
        return allowed

    def _journal(self, outcomes: list[Result], handed: list[int]) -> set[int]:
        from store.sending import entries_of, journal

        now = utcnow()
        entries = entries_of(outcomes, now)
        allowed = journal(entries, handed, now, self.worker)
        with self._lock:
            self._unfolded.extend(entries)
            self._handed.extend((message_id, now) for message_id in handed if message_id in allowed)
        return allowed

    def _fold(self) -> None:
        from store.db import write_transaction
        from store.sending import fold

        if self._unfolded or self._handed:
            # The write lock first, then the lists: whatever the loop journaled is in them by then, and
            # it journals nothing more until this commits. Put back after a failure: the next fold
            # tries them again.
            # Decided by the setting, not by whether the loop's connection is open yet: the loop's first
            # commit may come while this fold runs.
            on_loop = self.commit_on_loop and not self._here_off
            with write_transaction() if on_loop else contextlib.nullcontext():
                with self._lock:
                    entries, handed = self._unfolded, self._handed
                    self._unfolded, self._handed = [], []
                try:
                    fold(entries, handed)
                except BaseException:
                    with self._lock:
                        self._unfolded[:0], self._handed[:0] = entries, handed
                    raise
        self._folded_at = time.monotonic()

    def _count(self, requests: list[_Request]) -> None:
        self.committed += sum(len(request.outcomes) for request in requests)


def _allowed_of(allowed: set[int], request: _Request) -> set[int]:
    """What a caller learns: those of its hand-overs that may go to the provider."""
    return {message_id for message_id in request.handed if message_id in allowed}
