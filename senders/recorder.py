"""Group commit: every connection waits for its last result to be on disk before it sends the next.

Results and hand-overs from all connections that arrive while one transaction runs go into the next
one, so the cost of a commit is shared. One thread writes: SQLite has one writer anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from store.sending import Outcome, Outgoing

Result = tuple[Outcome, Outgoing]


@dataclass
class _Batch:
    outcomes: list[Result] = field(default_factory=list)
    handed: list[int] = field(default_factory=list)
    waiters: list[asyncio.Future[set[int]]] = field(default_factory=list)


class Recorder:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder")
        self._next = _Batch()
        self._running: asyncio.Task[None] | None = None
        self.committed = 0

    async def record(self, outcomes: Sequence[Result] = (), handed: Sequence[int] = ()) -> set[int]:
        """Returns once committed, with those of `handed` that may go to the provider."""
        if not outcomes and not handed:
            return set()
        waiter: asyncio.Future[set[int]] = asyncio.get_running_loop().create_future()
        self._next.outcomes.extend(outcomes)
        self._next.handed.extend(handed)
        self._next.waiters.append(waiter)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain())
        return set(handed) & await waiter

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._next.waiters:
            batch, self._next = self._next, _Batch()
            try:
                allowed = await loop.run_in_executor(self._executor, self._commit, batch)
            except Exception as exc:  # every waiter of the batch learns it failed
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
                continue
            self.committed += len(batch.outcomes)
            for waiter in batch.waiters:
                if not waiter.done():
                    waiter.set_result(allowed)

    def _commit(self, batch: _Batch) -> set[int]:
        from store.db import connection
        from store.sending import record

        with connection():
            return record(batch.outcomes, batch.handed)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
