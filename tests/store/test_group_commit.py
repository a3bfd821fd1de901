"""The generic group-commit writer: batches in order, one failed batch fails alone, close drains."""

from __future__ import annotations

import asyncio
import threading

import pytest

from store.db import database
from store.group_commit import Busy, GroupCommit
from store.models import Setting

WAIT = 10.0  # seconds a test waits for the writer's thread before it fails


class Writes:
    """A batch writer for the tests: one transaction per batch, the first held until `release`."""

    def __init__(self, hold_first: bool = True, fail_on: str | None = None) -> None:
        self.batches: list[tuple[list[str], bool]] = []
        self.started = threading.Event()
        self.released = threading.Event()
        if not hold_first:
            self.released.set()
        self.fail_on = fail_on

    def __call__(self, items: list[str], last: bool) -> int:
        self.started.set()
        self.released.wait(WAIT)
        with database.atomic():
            Setting.insert_many([(f"item-{item}", str(len(self.batches))) for item in items]).execute()
            if self.fail_on in items:
                raise RuntimeError(f"no room for {self.fail_on}")
        self.batches.append((list(items), last))
        return len(items)

    def on_disk(self) -> set[str]:
        keys = Setting.select(Setting.key).where(Setting.key.startswith("item-"))
        return {row.key.removeprefix("item-") for row in keys}


async def test_what_comes_while_a_batch_is_written_goes_into_the_next_in_order(store):
    writes = Writes()
    committed: list[list[str]] = []
    writer = GroupCommit(
        "test-writer", writes, answer=lambda result, item: f"{item}/{result}", on_commit=committed.append
    )
    first = writer.submit("a")
    assert await asyncio.to_thread(writes.started.wait, WAIT)
    rest = [writer.submit(item) for item in "bcdef"]
    writes.released.set()
    assert await first == "a/1"
    assert await asyncio.gather(*rest) == ["b/5", "c/5", "d/5", "e/5", "f/5"]
    assert writes.batches == [(["a"], False), (list("bcdef"), False)]
    assert committed == [["a"], list("bcdef")]
    assert writes.on_disk() == set("abcdef")
    await asyncio.to_thread(writer.close)


async def test_an_error_fails_every_item_of_its_batch_and_no_other(store):
    writes = Writes(fail_on="bad")
    failures: list[tuple[list[str], str]] = []
    committed: list[list[str]] = []
    writer = GroupCommit(
        "test-writer",
        writes,
        on_commit=committed.append,
        on_failure=lambda items, exc: failures.append((items, str(exc))),
    )
    first = writer.submit("a")
    assert await asyncio.to_thread(writes.started.wait, WAIT)
    failing = [writer.submit(item) for item in ("b", "bad", "c")]
    writes.released.set()
    assert await first == 1
    for waiter in failing:
        with pytest.raises(RuntimeError, match="no room for bad"):
            await waiter
    assert failures == [(["b", "bad", "c"], "no room for bad")]
    assert await writer.submit("d") == 1  # the writer goes on
    assert committed == [["a"], ["d"]]
    assert writes.on_disk() == {"a", "d"}  # the failed batch's transaction was rolled back whole
    await asyncio.to_thread(writer.close)


async def test_close_writes_what_is_pending_and_a_later_submit_starts_again(store):
    writes = Writes()
    writer = GroupCommit("test-writer", writes)
    waiters = [writer.submit("a")]
    assert await asyncio.to_thread(writes.started.wait, WAIT)
    waiters += [writer.submit(item) for item in "bcd"]
    closing = asyncio.create_task(asyncio.to_thread(writer.close))
    writes.released.set()
    await closing
    assert writes.on_disk() == set("abcd")  # on disk once close returns
    assert not any(thread.name == "test-writer" for thread in threading.enumerate())
    assert await asyncio.gather(*waiters) == [1, 3, 3, 3]
    assert await writer.submit("e") == 1
    assert writes.on_disk() == set("abcde")
    await asyncio.to_thread(writer.close)


async def test_too_much_waiting_is_refused_until_the_writer_catches_up(store):
    writes = Writes()
    writer = GroupCommit("test-writer", writes, max_pending=2)
    first = writer.submit("a")
    assert await asyncio.to_thread(writes.started.wait, WAIT)
    waiting = [writer.submit("b"), writer.submit("c")]
    with pytest.raises(Busy):
        writer.submit("d")
    writes.released.set()
    assert await asyncio.gather(first, *waiting) == [1, 2, 2]
    assert await writer.submit("d") == 1
    await asyncio.to_thread(writer.close)


async def test_a_batch_gathers_until_it_has_enough(store):
    writes = Writes(hold_first=False)
    asked = threading.Event()

    def gathered(items: list[str]) -> bool:
        asked.set()
        return len(items) >= 3

    writer = GroupCommit("test-writer", writes, gather_seconds=WAIT, gathered=gathered)
    waiters = [writer.submit("a")]
    assert await asyncio.to_thread(asked.wait, WAIT)  # the writer holds "a" back, waiting for more
    waiters += [writer.submit("b"), writer.submit("c")]
    assert await asyncio.gather(*waiters) == [3, 3, 3]
    assert writes.batches == [(["a", "b", "c"], False)]
    await asyncio.to_thread(writer.close)


async def test_a_timed_writer_writes_when_nothing_comes_and_once_more_on_close(store):
    writes = Writes(hold_first=False)
    ticks = threading.Semaphore(0)

    def wake_after() -> float | None:
        ticks.release()
        return 0.01

    writer = GroupCommit("test-writer", writes, wake_after=wake_after)
    assert await writer.submit("a") == 1
    for _ in range(3):
        assert await asyncio.to_thread(ticks.acquire, True, WAIT)
    await asyncio.to_thread(writer.close)
    assert writes.batches[0] == (["a"], False)
    assert ([], False) in writes.batches  # woken by its timer, with nothing submitted
    assert writes.batches[-1] == ([], True)  # the last, asked for by close
