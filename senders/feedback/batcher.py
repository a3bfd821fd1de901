"""Group commit for the feedback server: what arrives while one transaction runs goes into the next.

A thread of its own writes (the event loop never waits on the database); each request awaits the
future of its item, done once its batch is committed, so a 200 means "on disk".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger("campaigns.feedback")


MAX_PENDING = 20_000  # items waiting for their transaction; more means the database cannot keep up


class Busy(Exception):
    """Too much is waiting to be written: the caller answers 503 and the sender tries later."""


class Batcher(Generic[T, R]):
    """Calls `write(items)` in its thread for everything submitted meanwhile; `add` awaits the result."""

    def __init__(self, name: str, write: Callable[[Sequence[T]], R]) -> None:
        self.name = name
        self._write = write
        self._lock = threading.Lock()
        self._work = threading.Event()
        self._items: list[T] = []
        self._waiters: list[asyncio.Future[R]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False

    def add(self, item: T) -> asyncio.Future[R]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[R] = loop.create_future()
        with self._lock:
            if len(self._items) >= MAX_PENDING:
                raise Busy(self.name)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._loop = loop
            self._items.append(item)
            self._waiters.append(waiter)
        self._work.set()
        return waiter

    def _run(self) -> None:
        from store.db import connection

        while True:
            self._work.wait()
            with self._lock:
                self._work.clear()
                items, self._items = self._items, []
                waiters, self._waiters = self._waiters, []
                loop, closing = self._loop, self._closing
            if items:
                result: R | None = None
                error: BaseException | None = None
                try:
                    with connection():
                        result = self._write(items)
                except Exception as exc:  # every request of the batch learns it failed
                    log.warning("%s: writing %d failed: %s", self.name, len(items), type(exc).__name__)
                    error = exc
                if loop is not None:
                    with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
                        loop.call_soon_threadsafe(_settle, waiters, result, error)
            if closing:
                return

    def close(self) -> None:
        """Writes what is pending, then stops the thread."""
        with self._lock:
            self._closing = True
            thread = self._thread
        self._work.set()
        if thread is not None:
            thread.join()
        with self._lock:
            self._thread, self._closing = None, False


def _settle(waiters: list[asyncio.Future[R]], result: R | None, error: BaseException | None) -> None:
    for waiter in waiters:
        if waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result)  # type: ignore[arg-type]
