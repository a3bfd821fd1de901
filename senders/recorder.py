"""Group commit: every connection waits for its last answer to be on disk before it sends the next.

Answers and hand-overs from all connections that arrive while one transaction runs go into the next
one, so the cost of a commit is shared. That commit only appends to the send journal; every
`FOLD_SECONDS` the journal is folded into the messages and the sent ledger, hundreds at a time (a
message costs a third of what it cost written alone). One thread of its own writes (SQLite has one
writer anyway): the event loop only appends to the next batch and gets a future back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from store.clock import utcnow
from store.sending import Entry, Outcome, Outgoing

Result = tuple[Outcome, Outgoing]

FOLD_SECONDS = 0.2
GATHER_SECONDS = 0.001  # at most this long for the other connections' answers to share a commit

log = logging.getLogger("campaigns.send")


@dataclass
class _Batch:
    outcomes: list[Result] = field(default_factory=list)
    handed: list[int] = field(default_factory=list)
    waiters: list[tuple[asyncio.Future[set[int]], Sequence[int]]] = field(default_factory=list)
    fold: bool = False  # someone waits for everything to be folded
    urgent: bool = False  # someone's message waits for this commit with nothing else to do meanwhile


class Recorder:
    def __init__(self, worker: str | None = None) -> None:
        self.worker = worker  # hand-overs only of messages this engine still holds
        self._lock = threading.Lock()
        self._work = threading.Event()
        self._next = _Batch()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._unfolded: list[Entry] = []
        self._handed: list[tuple[int, datetime]] = []
        self._folded_at = time.monotonic()
        self.committed = 0  # answers on disk, for progress figures
        self.connections = 0  # connections sending now: a commit waits a moment for each to ask

    def record(
        self, outcomes: Sequence[Result] = (), handed: Sequence[int] = (), gather: bool = True
    ) -> asyncio.Future[set[int]]:
        """A future done once journaled, with those of `handed` that may go to the provider.

        `gather`: the commit may wait a moment for other connections' answers to share it."""
        if not outcomes and not handed:
            waiter: asyncio.Future[set[int]] = asyncio.get_running_loop().create_future()
            waiter.set_result(set())
            return waiter
        return self._submit(outcomes, handed, fold=False, urgent=not gather)

    def flush(self) -> asyncio.Future[set[int]]:
        """A future done once everything journaled so far is folded into the messages."""
        return self._submit((), (), fold=True, urgent=True)

    def _submit(
        self, outcomes: Sequence[Result], handed: Sequence[int], fold: bool, urgent: bool
    ) -> asyncio.Future[set[int]]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[set[int]] = loop.create_future()
        with self._lock:
            self._loop = loop
            self._next.outcomes.extend(outcomes)
            self._next.handed.extend(handed)
            self._next.waiters.append((waiter, handed))
            self._next.fold = self._next.fold or fold
            self._next.urgent = self._next.urgent or urgent
        self._work.set()
        self._start()
        return waiter

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write, name="recorder", daemon=True)
                self._thread.start()

    def _write(self) -> None:
        from store.db import connection

        while True:
            due = self._folded_at + FOLD_SECONDS - time.monotonic()
            self._work.wait(timeout=max(0.0, due) if self._unfolded or self._handed else None)
            self._gather()
            with self._lock:
                self._work.clear()
                batch, self._next = self._next, _Batch()
                loop, closing = self._loop, self._closing
            error: BaseException | None = None
            allowed: set[int] = set()
            try:
                with connection():
                    if batch.outcomes or batch.handed:
                        try:
                            allowed = self._journal(batch)
                        except Exception as exc:  # every waiter of the batch learns it failed
                            error = exc
                    if batch.fold or closing or time.monotonic() - self._folded_at >= FOLD_SECONDS:
                        try:
                            self._fold()
                        except Exception as exc:  # kept for the next fold; only a flush waits for it
                            log.warning("folding the send journal failed: %s: %s", type(exc).__name__, exc)
                            error = error or (exc if batch.fold else None)
            except Exception as exc:  # no connection to the database at all
                error = error or exc
            if batch.waiters and loop is not None:
                with contextlib.suppress(RuntimeError):  # a loop gone: nobody waits any more
                    loop.call_soon_threadsafe(self._answer, batch, allowed, error)
            if closing:
                return

    def _gather(self) -> None:
        """Waits a moment for the other connections' answers, so one commit takes them all.

        A commit costs about as much as three messages written in it: sharing it leaves the CPU, and
        Python's lock, to the event loop and the provider (10-15% more emails a second in bench/send.py).
        """
        deadline = time.monotonic() + GATHER_SECONDS
        while True:
            with self._lock:
                waiting = len(self._next.waiters)
                if not waiting or waiting >= self.connections or self._next.urgent or self._closing:
                    return
                self._work.clear()
            left = deadline - time.monotonic()
            if left <= 0 or not self._work.wait(timeout=left):
                return

    def _journal(self, batch: _Batch) -> set[int]:
        from store.sending import entries_of, journal

        now = utcnow()
        entries = entries_of(batch.outcomes, now)
        allowed = journal(entries, batch.handed, now, self.worker)
        self._unfolded.extend(entries)
        self._handed.extend((message_id, now) for message_id in batch.handed if message_id in allowed)
        return allowed

    def _fold(self) -> None:
        from store.sending import fold

        if self._unfolded or self._handed:
            # Cleared only once folded: after a failure the next fold tries them again.
            fold(self._unfolded, self._handed)
            self._unfolded, self._handed = [], []
        self._folded_at = time.monotonic()

    def _answer(self, batch: _Batch, allowed: set[int], error: BaseException | None) -> None:
        if error is None:
            self.committed += len(batch.outcomes)
        for waiter, handed in batch.waiters:
            if waiter.done():
                continue
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result({message_id for message_id in handed if message_id in allowed})

    def close(self) -> None:
        """Journals and folds what is pending, then stops the thread (a later `record` starts another)."""
        with self._lock:
            self._closing = True
            thread = self._thread
        self._work.set()
        if thread is not None:
            thread.join()
        with self._lock:
            self._thread, self._closing = None, False
            stranded = bool(self._next.waiters)  # recorded while the thread was stopping
        if stranded:
            self._work.set()
            self._start()
