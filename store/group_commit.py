"""Group commit: one thread writes, in one batch, whatever was submitted while it wrote the last one.

The event loop never waits on the database: `submit` appends to the next batch and returns a future,
done once that batch's `write` returned (so "done" means "on disk"), or failed with what it raised.
The send engine's recorder and the feedback server's batcher are thin layers on `GroupCommit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from store.db import connection

T = TypeVar("T")
R = TypeVar("R")


class Busy(Exception):
    """Too much is waiting to be written: the database cannot keep up, the caller should try later."""


class GroupCommit(Generic[T, R]):
    """Calls `write(items, last)` in a thread of its own for everything submitted meanwhile, in order.

    `write` runs with the thread's connection open and writes one batch in one transaction; `last` is
    true for the batch `close` asked for. What it returns settles every future of the batch, through
    `answer(result, item)` when given; what it raises fails every one of them (and goes to `on_failure`,
    in the thread, for the log). Options, each off by default:

    - `max_pending`: `submit` raises `Busy` while that many items wait for their batch;
    - `gather_seconds`, `gathered`: a batch waits up to that long for more items, until
      `gathered(items)` says it has enough (or `close` is called);
    - `wake_after`: work of the writer's own on a timer: the thread wakes after the seconds it returns
      (None: only when something comes) and calls `write` on every wake-up, with no items if none came;
    - `on_commit(items)`: on the event loop, once a batch is on disk, before its futures are settled;
    - `restart_after_close`: what was submitted while `close` ran is written by a new thread at once
      (otherwise by the thread of the next `submit`).
    """

    def __init__(
        self,
        name: str,
        write: Callable[[list[T], bool], R],
        *,
        answer: Callable[[R, T], R] | None = None,
        max_pending: int | None = None,
        gather_seconds: float = 0.0,
        gathered: Callable[[list[T]], bool] | None = None,
        wake_after: Callable[[], float | None] | None = None,
        on_commit: Callable[[list[T]], None] | None = None,
        on_failure: Callable[[list[T], Exception], None] | None = None,
        restart_after_close: bool = False,
    ) -> None:
        self.name = name
        self._write = write
        self._answer = answer
        self._max_pending = max_pending
        self._gather_seconds = gather_seconds
        self._gathered = gathered
        self._wake_after = wake_after
        self._on_commit = on_commit
        self._on_failure = on_failure
        self._restart_after_close = restart_after_close
        self._lock = threading.Lock()
        self._work = threading.Event()
        self._items: list[T] = []
        self._waiters: list[asyncio.Future[R]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False

    def submit(self, item: T) -> asyncio.Future[R]:
        """A future settled once the batch holding `item` is written; from the event loop only."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[R] = loop.create_future()
        with self._lock:
            if self._max_pending is not None and len(self._items) >= self._max_pending:
                raise Busy(self.name)
            self._loop = loop
            self._items.append(item)
            self._waiters.append(waiter)
            self._start_locked()
        self._work.set()
        return waiter

    def wake(self) -> None:
        """Wakes the writer for work of its own (`wake_after` is asked again), starting it if need be:
        for work its owner added without `submit`."""
        with self._lock:
            self._start_locked()
        self._work.set()

    def _start_locked(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._work.wait(timeout=self._wake_after() if self._wake_after is not None else None)
            self._gather()
            with self._lock:
                self._work.clear()
                items, self._items = self._items, []
                waiters, self._waiters = self._waiters, []
                loop, closing = self._loop, self._closing
            if items or self._wake_after is not None:
                self._write_batch(items, waiters, loop, closing)
            if closing:
                return

    def _gather(self) -> None:
        """Waits a moment for more items, so one commit takes them all."""
        if self._gathered is None:
            return
        deadline = time.monotonic() + self._gather_seconds
        while True:
            with self._lock:
                if not self._items or self._closing or self._gathered(self._items):
                    return
                self._work.clear()
            left = deadline - time.monotonic()
            if left <= 0 or not self._work.wait(timeout=left):
                return

    def _write_batch(
        self,
        items: list[T],
        waiters: list[asyncio.Future[R]],
        loop: asyncio.AbstractEventLoop | None,
        last: bool,
    ) -> None:
        result: R | None = None
        error: Exception | None = None
        try:
            with connection():
                result = self._write(items, last)
        except Exception as exc:  # every submitter of the batch learns it failed
            if self._on_failure is not None:
                self._on_failure(items, exc)
            error = exc
        if waiters and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits any more
                loop.call_soon_threadsafe(self._settle, items, waiters, result, error)

    def _settle(
        self, items: list[T], waiters: list[asyncio.Future[R]], result: R | None, error: Exception | None
    ) -> None:
        if error is None and self._on_commit is not None:
            self._on_commit(items)
        for item, waiter in zip(items, waiters, strict=True):
            if waiter.done():
                continue
            if error is not None:
                waiter.set_exception(error)
            elif self._answer is not None:
                waiter.set_result(self._answer(result, item))  # type: ignore[arg-type]
            else:
                waiter.set_result(result)  # type: ignore[arg-type]

    def close(self) -> None:
        """Writes what is pending, then stops the thread (a later `submit` starts another)."""
        with self._lock:
            self._closing = True
            thread = self._thread
        self._work.set()
        if thread is not None:
            thread.join()
        with self._lock:
            self._thread, self._closing = None, False
            if self._items and self._restart_after_close:  # submitted while the thread was stopping
                self._work.set()
                self._start_locked()
