"""Group commit: every connection waits for its last result to be on disk before it sends the next.

Results and hand-overs from all connections that arrive while one transaction runs go into the next
one, so the cost of a commit is shared. One thread of its own writes (SQLite has one writer anyway):
the event loop only appends to the next batch and gets a future, with no task or executor hop per
message, since every message passes through here on the way to its provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from store.sending import Outcome, Outgoing

Result = tuple[Outcome, Outgoing]


@dataclass
class _Batch:
    outcomes: list[Result] = field(default_factory=list)
    handed: list[int] = field(default_factory=list)
    waiters: list[tuple[asyncio.Future[set[int]], Sequence[int]]] = field(default_factory=list)


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._work = threading.Event()
        self._next = _Batch()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self.committed = 0  # results on disk, for progress figures

    def record(self, outcomes: Sequence[Result] = (), handed: Sequence[int] = ()) -> asyncio.Future[set[int]]:
        """A future done once committed, with those of `handed` that may go to the provider."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[set[int]] = loop.create_future()
        if not outcomes and not handed:
            waiter.set_result(set())
            return waiter
        with self._lock:
            self._loop = loop
            self._next.outcomes.extend(outcomes)
            self._next.handed.extend(handed)
            self._next.waiters.append((waiter, handed))
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
        from store.sending import record

        while True:
            self._work.wait()
            with self._lock:
                self._work.clear()
                batch, self._next = self._next, _Batch()
                loop, closing = self._loop, self._closing
            if batch.waiters and loop is not None:
                allowed: set[int] = set()
                error: BaseException | None = None
                try:
                    with connection():
                        allowed = record(batch.outcomes, batch.handed)
                except Exception as exc:  # every waiter of the batch learns it failed
                    error = exc
                with contextlib.suppress(RuntimeError):  # a loop gone: nobody waits any more
                    loop.call_soon_threadsafe(self._answer, batch, allowed, error)
            if closing:
                return

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
        """Writes what is pending, then stops the thread (a later `record` starts another)."""
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
