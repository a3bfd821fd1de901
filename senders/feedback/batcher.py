"""Group commit for the feedback server: what arrives while one transaction runs goes into the next.

A thread of its own writes (the event loop never waits on the database, see `store.group_commit`); each
request awaits the future of its item, done once its batch is committed, so a 200 means "on disk".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from store.group_commit import Busy, GroupCommit

__all__ = ["MAX_PENDING", "Batcher", "Busy"]

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("campaigns.feedback")


MAX_PENDING = 20_000  # items waiting for their transaction; more means the database cannot keep up


class Batcher(Generic[T, R]):
    """Calls `write(items)` in its thread for everything submitted meanwhile; `add` awaits the result.

    `add` raises `Busy` while `MAX_PENDING` items wait: the caller answers 503 and the sender tries later.
    """

    def __init__(self, name: str, write: Callable[[Sequence[T]], R]) -> None:
        self.name = name
        self._writer: GroupCommit[T, R] = GroupCommit(
            name, lambda items, _last: write(items), max_pending=MAX_PENDING, on_failure=self._failed
        )

    def add(self, item: T) -> asyncio.Future[R]:
        return self._writer.submit(item)

    def close(self) -> None:
        """Writes what is pending, then stops the thread."""
        self._writer.close()

    def _failed(self, items: list[T], exc: Exception) -> None:
        log.warning("%s: writing %d failed: %s", self.name, len(items), type(exc).__name__)
