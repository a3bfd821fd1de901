"""The send engine: the campaigns whose turn it is, one run each, in the TUI or `campaigns worker`.

Campaigns go one after another, the first created first; `lanes` lets that many go at once. Every
database call runs off the event loop; several engines on one database share the work through claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta

from senders.campaign_run import CampaignRun, RunSettings
from senders.mailing import mailing_of
from senders.pacing import Pacer
from senders.recorder import Recorder
from senders.transports.configured import make_transport
from store.clock import utcnow
from store.config import Config
from store.db import database_now, off_loop
from store.models import Campaign
from store.quiet_hours import channel_quiet_hours, quiet_channels

log = logging.getLogger("campaigns.engine")

POLL_SECONDS = 0.5
ROUND_MIN_SECONDS = 0.05  # rounds woken early (a run ended) still come at most this often
NOTE_WAITING_SECONDS = 1.0  # how often the queue's waiting reasons are written again
COMPLETION_CHECK_SECONDS = 60.0


def claim_size(connections: int, rate_per_hour: int = 0) -> int:
    """Messages per claim: enough for each connection to send 100 before the next claim (a claim's
    fixed cost is about that of 50 messages), few enough that another engine finds work. Under a rate
    limit, about two seconds' worth: more would only wait, while other engines could share the work."""
    size = min(1000, 100 * max(1, connections))
    if rate_per_hour > 0:
        size = min(size, max(5, 2 * rate_per_hour // 3600))
    return size


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class EngineStatus:
    """What the engine is doing, for screens and the worker's final line."""

    sent: int = 0


class Engine:
    def __init__(
        self, config: Config, worker: str | None = None, lanes: int | None = None, feedback: bool = False,
        headless: bool = False,
    ) -> None:  # fmt: skip
        """`headless`: no screen shares this event loop (`campaigns worker`), so the HTTP providers' hand-
        over commits may run on it (senders.recorder): a third more SMS a second, at tens of
        microseconds of the loop per message that a screen's keys would feel."""
        self.config = config
        self.feedback = feedback  # also serve the feedback endpoints while running
        self.worker = worker or default_worker_name()
        self.lanes = max(1, lanes or config.engine.lanes)
        self.lease = timedelta(seconds=max(5, config.engine.lease_seconds))
        self.runs: dict[int, tuple[CampaignRun, asyncio.Task[None]]] = {}
        self.outages: dict[int, int] = {}
        self.unexpected_streaks: dict[int, int] = {}  # a campaign waits for them: its next run starts at it
        self.recorder = Recorder(self.worker, commit_on_loop=headless)
        self.pacers: dict[str, Pacer] = {}
        self.status = EngineStatus()
        self._stop = asyncio.Event()
        self._poke = asyncio.Event()  # stop() or a run that ended: the next round starts at once
        self._secret: str | None = None
        self.quiet = channel_quiet_hours(config)  # each channel's quiet hours, in the center's zone

    def stop(self) -> None:
        self._stop.set()
        self._poke.set()

    async def run(self, until_idle: bool = False) -> EngineStatus:
        """Sends until stopped (or, with `until_idle`, until no campaign can send now: those scheduled
        for later or in their channel's quiet hours stay as they are)."""
        from store.queue import complete_due, next_campaigns, promote_due
        from store.secrets import link_secret
        from store.sending import expire_claims_of
        from store.workers import register

        self._secret = await off_loop(link_secret, self.config.feedback.secret)
        await off_loop(expire_claims_of, self.worker)
        await off_loop(register, self.worker)
        last_completion_check = last_noted = 0.0
        server = None
        if self.feedback:
            from senders.feedback.server import start_beside_engine

            server = await start_beside_engine(self.config, self._secret)
        beating = asyncio.create_task(self._heartbeats(), name="heartbeats")
        try:
            while not self._stop.is_set():
                round_started = time.monotonic()
                if time.monotonic() - last_completion_check > COMPLETION_CHECK_SECONDS:
                    await off_loop(complete_due)
                    last_completion_check = time.monotonic()
                # Scheduled campaigns whose time came join the queue; a channel in its quiet hours
                # holds no lane: both by the database's clock, so every engine decides alike.
                await off_loop(promote_due, None, self.config.dedup.campaign_window, self.config.limits)
                resting = quiet_channels(self.quiet, await off_loop(database_now))
                campaigns = await off_loop(next_campaigns, self.lanes, resting)
                await self._reap()
                self._give_way({campaign.id for campaign in campaigns})
                if time.monotonic() - last_noted > NOTE_WAITING_SECONDS:
                    await self._note_waiting()
                    last_noted = time.monotonic()
                now = utcnow()
                for campaign in campaigns:
                    if campaign.id in self.runs:
                        continue
                    if campaign.waiting_until and campaign.waiting_until > now:
                        continue
                    await self._start(campaign)
                if until_idle and not campaigns and not self.runs:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), timeout=POLL_SECONDS)
                self._poke.clear()
                spare = round_started + ROUND_MIN_SECONDS - time.monotonic()
                if spare > 0 and not self._stop.is_set():
                    await asyncio.sleep(spare)
        finally:
            beating.cancel()  # first: whatever fails below, this engine stops saying it is alive
            with contextlib.suppress(asyncio.CancelledError):
                await beating
            try:
                for run, _task in self.runs.values():
                    run.stop()
                if self.runs:
                    await asyncio.gather(*(task for _run, task in self.runs.values()), return_exceptions=True)
                await self._reap()
                # The last answers are journaled and folded in the recorder's thread, not on the loop.
                await asyncio.shield(asyncio.to_thread(self.recorder.close))
            finally:
                await asyncio.shield(self._said_stopped())
                if server is not None:
                    await server.stop()
        return self.status

    async def _heartbeats(self) -> None:
        """Says every few seconds that this engine is alive, what it sends and how much it sent."""
        from store.workers import HEARTBEAT_SECONDS, heartbeat

        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            sent = self.status.sent + sum(run.sent for run, _task in self.runs.values())
            sending = sorted(i for i, (run, _task) in self.runs.items() if not run.waiting_turn)
            try:
                await off_loop(heartbeat, self.worker, sending, sent)
            except Exception as exc:  # a busy database delays one heartbeat; sending goes on
                log.warning("heartbeat not written: %s", type(exc).__name__)

    def _give_way(self, in_turn: set[int]) -> None:
        """Runs whose campaign lost its lane (one created before it was resumed or queued) stop handing
        over: what they handed over is answered, what they claimed goes back, and they start again in
        their turn. The claim refuses them anyway; this only makes them give way at once."""
        for campaign_id, (run, _task) in self.runs.items():
            if campaign_id not in in_turn and not run.stopping:
                log.info("campaign %s: no longer its turn; stops claiming", campaign_id)
                run.stop()

    async def _note_waiting(self) -> None:
        from store.queue import note_waiting

        try:
            await off_loop(note_waiting, self.lanes, None, self.quiet)
        except Exception as exc:  # what the screens say waits for the next round; sending goes on
            log.warning("waiting reasons not written: %s", type(exc).__name__)

    async def _said_stopped(self) -> None:
        from store.workers import stopped

        with contextlib.suppress(Exception):  # the database may be what stopped us
            await off_loop(stopped, self.worker, self.status.sent)

    async def _start(self, campaign: Campaign) -> None:
        from store.queue import set_waiting
        from store.window import parse_window

        campaign_id, channel = campaign.id, campaign.channel
        parse_window(self.config.dedup.campaign_window)  # a bad window stops here, not mid-send
        # The links the author wrote, in A and in B: tracked; others stay text
        transport = make_transport(channel, self.config, mailing_of(campaign), self._secret or "")
        pacer = await self._pacer(channel)
        run = CampaignRun(
            campaign_id, transport, self.recorder, pacer,
            RunSettings(worker=self.worker, window=self.config.dedup.campaign_window,
                        claim_size=claim_size(transport.connections, pacer.rate_per_hour), lease=self.lease,
                        limits=self.config.limits, lanes=self.lanes, channel=channel, quiet=self.quiet,
                        unexpected_streak=self.unexpected_streaks.pop(campaign_id, 0)),
        )  # fmt: skip
        if campaign.waiting_until is not None:
            await off_loop(set_waiting, campaign_id, None, None)
        task = asyncio.create_task(run.run(), name=f"campaign-{campaign_id}")
        task.add_done_callback(lambda _task: self._poke.set())
        self.runs[campaign_id] = (run, task)
        log.info("campaign %s: sending through %s", campaign_id, transport.name)

    async def _pacer(self, channel: str) -> Pacer:
        pacer = self.pacers.get(channel)
        if pacer is None:
            pacer = self.pacers[channel] = Pacer(channel, getattr(self.config, channel).rate_per_hour)
        return pacer

    async def _reap(self) -> None:
        """Forgets finished runs; one that stopped for an outage leaves its campaign waiting."""
        from store.queue import set_waiting

        for campaign_id, (run, task) in list(self.runs.items()):
            if not task.done():
                continue
            del self.runs[campaign_id]
            self.status.sent += run.sent
            error = task.exception() if not task.cancelled() else None
            if error is not None:
                log.error("campaign %s stopped: %s: %s", campaign_id, type(error).__name__, error)
            if run.outage is not None:
                self.unexpected_streaks[campaign_id] = run.unexpected_streak
                self.outages[campaign_id] = self.outages.get(campaign_id, 0) + 1
                until, reason = run.waiting_until(self.outages[campaign_id])
                await off_loop(set_waiting, campaign_id, until, reason)
            else:
                self.outages.pop(campaign_id, None)
