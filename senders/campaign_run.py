"""Sending one campaign: a feeder claims messages in batches, one task per connection sends them.

Each connection hands over one message at a time, and only after the database says so: its previous
result and the next hand-over are committed together (see `Recorder`). So after a crash at most one
message per connection is in doubt, and the ledger names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from senders.pacing import Pacer
from senders.recorder import Recorder
from senders.transports import Connection, ProviderUnavailable, Transport
from store.clock import local, utcnow
from store.message_limits import MessageLimits
from store.quiet_hours import QuietHours
from store.sending import LEASE, Outcome, Outgoing

Result = tuple[Outcome, Outgoing]

log = logging.getLogger("campaigns.send")

IDLE_POLL_SECONDS = 0.5
# A claim that found nothing while messages are still queued or with the provider: the next one comes
# after 0.05 s, then twice as long each time up to IDLE_POLL_SECONDS, so a campaign whose last answers
# come at once is seen done at once, not half a second later (a few claims more at its end).
TAIL_POLL_SECONDS = 0.05
OUTAGE_BASE_SECONDS = 5.0  # a provider found down is tried again after 5 s, 10 s, 20 s… up to 5 minutes
OUTAGE_CAP_SECONDS = 300.0


@dataclass
class RunSettings:
    worker: str
    window: str
    claim_size: int = 200
    lease: timedelta = LEASE
    limits: MessageLimits = field(default_factory=MessageLimits)
    unexpected_streak: int = 0  # see CampaignRun.fails_every_message
    lanes: int = 1  # campaigns with messages in flight at once, across the engines (store.lanes)
    channel: str = ""
    quiet: Mapping[str, QuietHours] | None = None  # each channel's quiet hours (store.quiet_hours)


class CampaignRun:
    """Sends one campaign until it is done, paused, cancelled, stopped, or its provider is down."""

    def __init__(
        self, campaign_id: int, transport: Transport, recorder: Recorder, pacer: Pacer, settings: RunSettings
    ) -> None:
        self.campaign_id = campaign_id
        self.transport = transport
        self.recorder = recorder
        self.pacer = pacer
        self.settings = settings
        self.queue: asyncio.Queue[Outgoing | None] = asyncio.Queue()
        self.claimed: set[int] = set()  # claimed by us, not yet handed over
        self.in_flight: set[int] = set()  # handed over, no answer yet
        self.stopping = False
        self.outage: str | None = None  # why the provider cannot be used, when it cannot
        self.finished = False  # every message processed
        self.waiting_turn = False  # its turn, but campaigns out of turn still have messages in flight
        self.quiet_from: float | None = None  # time.monotonic() at which its channel's quiet hours start
        self.sent = 0
        self._retries_in_a_row = 0
        # Unexpected errors in a row, carried over from the run before when that one waited for them
        self.unexpected_streak = settings.unexpected_streak

    # -- the feeder -----------------------------------------------------------------------------

    async def feed(self) -> None:
        from store.db import off_loop
        from store.lanes import claim_in_turn
        from store.queue import finish_if_done

        tail_pause = TAIL_POLL_SECONDS
        while not self.stopping:
            if self.queue.qsize() >= self.settings.claim_size // 2:
                await asyncio.sleep(0.05)
                continue
            settings = self.settings
            asked = time.monotonic()
            turn = await off_loop(claim_in_turn, self.campaign_id, settings.worker, settings.claim_size,
                settings.lanes, settings.window, None, settings.lease, settings.limits, settings.quiet,
                settings.channel,
            )  # fmt: skip
            if turn.claim.active and not turn.waits:  # a turn that decided nothing keeps the last word
                self.quiet_from = None if turn.quiet_in is None else asked + turn.quiet_in
            self.waiting_turn = turn.waits
            if turn.waits:
                await asyncio.sleep(IDLE_POLL_SECONDS)
                continue
            claimed = turn.claim
            if not claimed.active:  # paused, cancelled, or a campaign created before it took its lane
                self.stop()
                return
            for message in claimed.messages:
                self.claimed.add(message.id)
                self.queue.put_nowait(message)
            if claimed.messages or claimed.skipped:
                tail_pause = TAIL_POLL_SECONDS
                continue
            idle = self.queue.empty() and not self.in_flight and not self.claimed
            if idle and claimed.next_retry_at is None:
                await self.recorder.flush()  # the last answers, folded: then nothing is left `sending`
                if await off_loop(finish_if_done, self.campaign_id):
                    self.finished = True
                    self.stop()
                    return
            await asyncio.sleep(IDLE_POLL_SECONDS if idle else tail_pause)
            tail_pause = min(IDLE_POLL_SECONDS, tail_pause * 2)

    async def keep_leases(self) -> None:
        """Renews the leases of what this run holds until its last connection is done: a connection still
        waiting for the provider's answer after the run stopped (paused, giving way) must not look like a
        crash, or its message would go again and another campaign would take the lane meanwhile."""
        from store.db import off_loop
        from store.sending import renew_leases

        while True:
            await asyncio.sleep(self.settings.lease.total_seconds() / 4)
            held = sorted(self.claimed | self.in_flight)
            if held:
                await off_loop(renew_leases, held, None, self.settings.lease)

    # -- the connections ------------------------------------------------------------------------

    async def next_message(self) -> Outgoing | None:
        """The next claimed message; none once stopping (what is left in the queue goes back)."""
        if self.stopping or self.quiet_started():
            return None
        ready = self._next_now()
        if ready is not None:
            return ready
        while not self.stopping:
            try:
                message = await asyncio.wait_for(self.queue.get(), timeout=IDLE_POLL_SECONDS)
            except TimeoutError:
                continue
            return None if self.quiet_started() else message  # still claimed: it goes back at the end
        return None

    def commit(self, message: Outgoing | None, result: Result | None = None) -> asyncio.Future[set[int]]:
        """Starts committing the last result and the next hand-over; the next goes once it lands."""
        outcomes = [result] if result is not None else []
        return self.recorder.record(
            outcomes, [message.id] if message else [], gather=self.transport.commit_overlaps
        )

    async def connection_loop(self) -> None:
        try:
            connection: Connection = await self.transport.connect()
        except ProviderUnavailable as exc:
            self.provider_down(str(exc))
            return
        self.recorder.connections += 1
        message = await self.next_message()
        committing = self.commit(message)
        try:
            while message is not None:
                if not await self.paced():  # the channel's quiet hours began first: it goes back
                    await committing
                    await self.give_back([message.id])
                    return

                async def ready(
                    message: Outgoing = message, committing: asyncio.Future[set[int]] = committing
                ) -> bool:
                    # The transport asks right before the point of no return (SMTP DATA, the HTTP
                    # request): the last answer and this hand-over are on disk by then, and the SMTP
                    # envelope went meanwhile.
                    if message.id not in await committing:
                        self.stop()  # paused or cancelled meanwhile: it goes back when the run ends
                        return False
                    self.claimed.discard(message.id)
                    self.in_flight.add(message.id)
                    return True

                try:
                    outcome = await connection.send(message, ready)
                except ProviderUnavailable as exc:
                    await committing
                    await self.give_back([message.id])
                    self.provider_down(str(exc))
                    return
                except Exception as exc:  # one message's fault: it fails alone, the campaign goes on
                    if message.id not in await committing:  # paused or cancelled meanwhile: it goes back
                        self.stop()
                        return
                    handed = message.id in self.in_flight
                    if not handed and self.fails_every_message(exc):  # no message's fault: it waits
                        await self.give_back([message.id])
                        return
                    outcome = self.unexpected(message, exc)
                    connection = await self.reconnect(connection)
                else:
                    self.unexpected_streak = 0  # the provider answered: whatever failed was not everything
                if outcome is None:
                    return
                self.note(outcome.state, outcome.error)
                self.claimed.discard(message.id)
                self.in_flight.discard(message.id)
                upcoming = None if self.stopping else self._next_now()
                committing = self.commit(upcoming, (outcome, message))
                if upcoming is None:
                    await committing
                    upcoming = await self.next_message()
                    committing = self.commit(upcoming)
                message = upcoming
        finally:
            self.recorder.connections -= 1
            await asyncio.shield(committing)
            with contextlib.suppress(Exception):  # a connection an error left broken may fail to close
                await connection.close()

    async def paced(self) -> bool:
        """Waits for the message's send slot under the channel's rate; False when the channel's quiet
        hours begin first (a slot may be hours away: its wait ends with them)."""
        if self.quiet_from is None:
            await self.pacer.wait()
            return True
        left = self.quiet_from - time.monotonic()
        if left > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.pacer.wait(), left)
        return not self.quiet_started()

    def quiet_started(self) -> bool:
        """Whether the channel's quiet hours began (by the database's clock at the last claim): from
        then on no message is handed over, the run stops, and the engine starts the campaign again when
        they end. The next message boundary: one already handed over finishes."""
        if self.quiet_from is None or time.monotonic() < self.quiet_from:
            return False
        self.stop()
        return True

    def fails_every_message(self, exc: Exception) -> bool:
        """True once unexpected errors come in a row (a full disk, a setting every message trips on):
        then the campaign waits, as for a provider that is down, rather than fail its whole audience."""
        self.unexpected_streak += 1
        if self.unexpected_streak < max(4, 2 * self.transport.connections):
            return False
        self.provider_down(f"{self.transport.name}: every message fails ({type(exc).__name__})")
        return True

    def unexpected(self, message: Outgoing, exc: Exception) -> Outcome:
        """The answer for a message whose sending raised: failed, saying whether the provider had it."""
        handed = message.id in self.in_flight
        log.error("campaign %s: message %s failed: %s", self.campaign_id, message.id, type(exc).__name__)
        error = f"could not be sent: unexpected {type(exc).__name__}"
        if handed:
            error += " after the provider had it (it may have arrived)"
        return Outcome(message.id, "failed", error=error, maybe_sent=handed)

    async def reconnect(self, connection: Connection) -> Connection:
        """A new connection in place of one whose state an unexpected failure left unknown."""
        with contextlib.suppress(Exception):
            await connection.close()
        try:
            return await self.transport.connect()
        except ProviderUnavailable as exc:
            self.provider_down(str(exc))  # the answer is recorded, then this connection's loop ends
            return connection

    def _next_now(self) -> Outgoing | None:
        if self.quiet_started():  # its hand-over is never written: the message goes back, and waits
            return None
        try:
            return self.queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def note(self, state: str, error: str | None) -> None:
        """Counts answers; many transient failures in a row mean the provider is down."""
        if state == "sent":
            self.sent += 1
            self._retries_in_a_row = 0
        elif state == "retry":
            self._retries_in_a_row += 1
            if self._retries_in_a_row >= max(4, 2 * self.transport.connections):
                self.provider_down(f"{self.transport.name} keeps failing: {error}")
        else:
            self._retries_in_a_row = 0

    def provider_down(self, reason: str) -> None:
        if self.outage is None:
            self.outage = reason
            log.warning("campaign %s waits: %s", self.campaign_id, reason)
        self.stop()

    def stop(self) -> None:
        self.stopping = True

    async def give_back(self, message_ids: list[int]) -> None:
        """Messages never handed over (or refused at the door) go back to `pending`."""
        from store.db import off_loop
        from store.sending import release

        await off_loop(release, message_ids)
        for message_id in message_ids:
            self.in_flight.discard(message_id)
            self.claimed.discard(message_id)

    # -- the whole run --------------------------------------------------------------------------

    async def run(self) -> None:
        connections = [asyncio.create_task(self.connection_loop()) for _ in range(self.transport.connections)]
        feeder = asyncio.create_task(self.feed())
        leases = asyncio.create_task(self.keep_leases())
        try:
            await asyncio.gather(feeder, *connections)
        finally:
            # A stop lets each connection finish the message it holds. Claimed messages never handed
            # over go back; any still in flight (a hard cancel) stay `sending` and, once their lease
            # ends, go again marked as possibly received twice.
            self.stopping = True
            for task in (feeder, *connections, leases):
                task.cancel()
            await asyncio.gather(feeder, *connections, leases, return_exceptions=True)
            if self.claimed:
                await asyncio.shield(self.give_back(sorted(self.claimed)))
            await self.transport.close()

    def waiting_until(self, outages: int) -> tuple[datetime, str]:
        delay = min(OUTAGE_CAP_SECONDS, OUTAGE_BASE_SECONDS * 2 ** max(0, outages - 1))
        until = utcnow() + timedelta(seconds=delay)
        return until, f"{self.outage}; retrying at {local(until):%H:%M:%S}"
