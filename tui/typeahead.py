"""Keys typed ahead reach the screen and the field they were meant for, in order, and none is lost.

Over SSH a burst of keys is read at once, and Textual hands each key to whatever has the focus when it
is read: the letters behind `/`, behind `n` or behind a Tab were given to the table, the summary or the
channel list, because the filter, the new screen or the next field takes the focus later, on a callback
queued behind them. So the app lets one key in at a time: the next waits until everything the last one
set off has been handled (its action, the focus it moved, the screen it opened and that screen's
mounting) and until the jobs it started have shown what comes next (Send Now reading its forecast before
it asks, the editor reading the draft into its fields). Then it goes to whatever has the focus by then.
"""

from __future__ import annotations

import asyncio
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from time import monotonic
from typing import Any

from textual import events
from textual.app import App, ScreenStackError
from textual.binding import Binding
from textual.dom import NoScreen
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Input, TextArea
from textual.worker import Worker

# A handler that awaits can hide a key from one look at the queues, never from two in a row.
QUIET_ROUNDS = 2
# What a key sets off is handled in milliseconds; past this the next key goes anyway rather than never.
SETTLE_SECONDS = 5.0
# A job still running after this is a long one (an import, a clone of thousands): the screen that started
# it is usable meanwhile, so the keys go on to it.
HOLD_SECONDS = 10.0
POLL_SECONDS = 0.01
ROUND_SECONDS = 1.0  # a widget stuck in a handler must not stop the keys for good


def reraise(error: BaseException) -> None:
    raise error


@dataclass
class Hold:
    """A job started while a key was being handled, which may still decide where the next keys go."""

    worker: Worker[Any]
    origin: Screen[Any]  # the screen it works for: keys wait while that screen is on top
    until: float


def takes_keys(screen: Screen[Any]) -> bool:
    """Whether a screen does anything with keys: a "please wait" screen has no key of its own and
    nothing to focus, and keys typed at it are for the screen that comes after it."""
    own_keys = any(
        klass.__dict__.get("BINDINGS")
        for klass in type(screen).__mro__
        if issubclass(klass, Screen) and klass not in (Screen, ModalScreen)
    )
    return own_keys or bool(screen.focus_chain)


async def barrier(pumps: list[MessagePump]) -> bool:
    """Returns once every pump has handled what was queued on it when this was called (True), or after
    ROUND_SECONDS (False)."""
    left = 0
    passed = asyncio.Event()

    def one_passed() -> None:
        nonlocal left
        left -= 1
        if not left:
            passed.set()

    for pump in pumps:
        if pump.call_later(one_passed):
            left += 1
    if not left:
        return True
    try:
        await asyncio.wait_for(passed.wait(), ROUND_SECONDS)
    except TimeoutError:
        return False
    return True


class TypeAhead:
    """Lets keys (and pastes) into the app one at a time, each once the last has settled."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.waiting: deque[events.Event] = deque()
        # The keys posted again to the app because their turn came, by id(): that very event object
        self.letting_in: dict[int, events.Event] = {}
        self.all_went_in = asyncio.Event()  # set once the app has taken them
        self.holds: list[Hold] = []
        self.known: set[Worker[Any]] = set()  # jobs running before the key went in
        self.key_screen: Screen[Any] | None = None  # the screen the last key went to
        self.task: asyncio.Task[None] | None = None
        # Quitting never waits behind keys typed ahead (nor behind a job that hangs).
        self.urgent = {
            key.strip()
            for binding in type(app).BINDINGS
            if isinstance(binding, Binding) and binding.priority
            for key in binding.key.split(",")
        }

    def keeps(self, event: events.Event) -> bool:
        """True when the event waits its turn; False when the app handles it now."""
        if not isinstance(event, (events.Key, events.Paste)) or event.is_forwarded:
            return False
        if self.letting_in.get(id(event)) is event:
            del self.letting_in[id(event)]
            self.went_in()
            if not self.letting_in:
                self.all_went_in.set()
            return False
        if isinstance(event, events.Key) and event.key in self.urgent:
            return False
        if self.task is None:  # nothing on its way: this key goes in now, the next waits for it
            self.went_in()
            self.task = asyncio.create_task(self.let_in_turn())
            self.task.add_done_callback(self.ended)
            return False
        self.waiting.append(event)
        return True

    def went_in(self) -> None:
        self.known = set(self.app.workers)
        self.key_screen = self.current_screen()

    def ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            # A fault here is a bug: it stops the app with its traceback, as a handler's would, rather
            # than leave the keys stuck unseen.
            self.app.call_later(reraise, error)

    def typed_into_a_field(self, event: events.Event) -> bool:
        """A character (or a paste) for a text field: the field takes it and keeps the focus, so the
        characters behind it can go in with it and a burst of text goes in at typing speed."""
        if isinstance(event, events.Key) and not event.is_printable:
            return False
        screen = self.current_screen()
        if screen is None or not isinstance(self.app.focused, (Input, TextArea)):
            return False
        if not isinstance(event, events.Key):
            return True  # a paste
        active = screen.active_bindings.get(event.key)
        return active is None or not active.binding.priority  # a priority key acts before the field

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def current_screen(self) -> Screen[Any] | None:
        try:
            return self.app.screen
        except ScreenStackError:
            return None

    async def let_in_turn(self) -> None:
        try:
            while True:
                await self.settle()
                if not self.waiting:
                    return
                turn = [self.waiting.popleft()]
                # Characters behind one typed into a field go in with it: the focus stays there.
                if self.typed_into_a_field(turn[0]):
                    while self.waiting and self.typed_into_a_field(self.waiting[0]):
                        turn.append(self.waiting.popleft())
                self.letting_in.update((id(event), event) for event in turn)
                self.all_went_in.clear()
                if not all(self.app.post_message(event) for event in turn):  # the app is closing
                    return
                # A turn not taken by then is still recognised when it comes: it is never taken twice.
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.all_went_in.wait(), SETTLE_SECONDS)
        finally:
            self.task = None
            self.holds.clear()
            self.letting_in = {}

    async def settle(self) -> None:
        """Returns when what the last key set off is handled and no job it started still decides."""
        deadline = monotonic() + SETTLE_SECONDS
        quiet = 0
        while True:
            self.watch_new_jobs()
            if self.held_by_a_job():
                quiet = 0
                await asyncio.sleep(POLL_SECONDS)
                deadline = monotonic() + SETTLE_SECONDS  # the job's own limit applies meanwhile
                continue
            if quiet >= QUIET_ROUNDS or monotonic() > deadline:
                return
            quiet = quiet + 1 if await self.quiet_round() else 0

    async def quiet_round(self) -> bool:
        """Lets the focused widget, its screen and the app handle what is queued on them; True if nothing
        was (and the screen and the focus stayed)."""
        screen = self.current_screen()
        if screen is None:
            return True
        focused = self.app.focused
        # A key's work goes up from the focused widget to the app: its action, the messages it posts,
        # the focus it moves, the screen it opens (whose mounting the screen awaits). Only those are
        # waited for: a footer redrawn or a preview rendered does not change where the next key goes,
        # and waiting for every widget made a burst of arrows crawl.
        chain = focused.ancestors_with_self if focused is not None else [screen, self.app]
        pumps: list[MessagePump] = list(dict.fromkeys([*chain, screen, self.app]))
        # A screen being composed has nothing queued yet: the barrier waits for it all the same.
        idle = not any(pump.message_queue_size for pump in pumps)
        passed = await barrier(pumps)
        return passed and idle and self.current_screen() is screen and self.app.focused is focused

    def watch_new_jobs(self) -> None:
        for worker in self.app.workers:
            if worker in self.known:
                continue
            self.known.add(worker)
            origin = self.origin_of(worker)
            if origin is not None and not worker.is_finished:
                self.holds.append(Hold(worker, origin, monotonic() + HOLD_SECONDS))

    def origin_of(self, worker: Worker[Any]) -> Screen[Any] | None:
        node = worker.node
        if isinstance(node, Screen):
            return node
        if isinstance(node, Widget):
            try:
                return node.screen
            except NoScreen:  # gone already
                return None
        return self.key_screen  # the app's own job (quitting) works for the screen the key went to

    def held_by_a_job(self) -> bool:
        """Keys wait while a job runs for the screen on top, or while a screen with no keys (a "please
        wait") is on top of it. A job is let go for good once it ends, runs too long, its screen
        closes, or it shows a screen that takes keys (a question): the answer is typed there."""
        top = self.current_screen()
        if top is None:
            self.holds.clear()
            return False
        stack = self.app.screen_stack
        now = monotonic()
        self.holds = [
            hold
            for hold in self.holds
            if not hold.worker.is_finished
            and now < hold.until
            and hold.origin in stack
            and (hold.origin is top or not takes_keys(top))
        ]
        return bool(self.holds)
