"""Commands of the send queue: Send Now, pause, resume, cancel, and the headless worker."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

import click

from tui.cli.common import common_options, runtime


def _state_command(name: str, change: str, done: str, doc: str) -> click.Command:
    """A command that moves campaign ID through the queue with `store.queue.<change>`."""

    @click.command(name, help=doc)
    @click.argument("campaign_id", metavar="ID", type=int)
    @common_options
    def command(campaign_id: int) -> None:
        from store import queue
        from store.campaign_view import CampaignView

        rt = runtime()
        rt.open_store()
        campaign = getattr(queue, change)(campaign_id)
        state = "" if campaign.state in done else f" ({campaign.state})"
        rt.emit(CampaignView.of(campaign).as_document(), f"Campaign {campaign.id} {done}{state}.")

    return command


@click.command()
@click.argument("campaign_id", metavar="ID", type=int)
@click.option("--at", "when", metavar="WHEN",
              help="Schedule it instead: an ISO 8601 time (2026-12-02T09:30), in the center's time zone "
              "([center] timezone) unless it carries an offset. A time in the past is refused.")  # fmt: skip
@click.option("--holdout", type=click.FloatRange(0, 99), default=0.0, metavar="PCT",
              help="Keep a random PCT% of the eligible recipients out as a control group (state held_out, "
              "never sent): the stats then give the lift in reservations against them.")  # fmt: skip
@click.option(
    "--b-share",
    type=click.FloatRange(1, 99),
    default=None,
    metavar="PCT",
    help="With a variant B (edit --variant b): the share of the others who get B (default 50).",
)
@common_options
def send(campaign_id: int, when: str | None, holdout: float, b_share: float | None) -> None:
    """Send Now: queue draft ID, or schedule it for later with --at.

    Campaigns go one after another, the first created first; a TUI or `campaigns worker` sends them. A
    scheduled campaign joins the queue at its time (at its place by creation); `campaigns unschedule ID`
    takes it back to draft. SMS and push wait out their channel's quiet hours ([sms] quiet_hours).
    """
    from store.campaign_view import CampaignView
    from store.clock import WhenError, parse_when, wall_clock, zone_name
    from store.errors import BadInput
    from store.eta import send_estimate
    from store.experiments import drawn
    from store.queue import queue_campaign

    rt = runtime()
    at = None
    if when is not None:
        try:
            at = parse_when(when)
        except WhenError as exc:
            raise BadInput(f"--at: {exc}") from None
    rt.open_store()
    config = rt.config
    share = b_share / 100 if b_share is not None else None
    campaign = queue_campaign(campaign_id, at=at, holdout=holdout, b_share=share,
                              window=config.dedup.campaign_window, limits=config.limits)  # fmt: skip
    said = f"Campaign {campaign.id} is queued"
    if campaign.scheduled_at is not None:
        said = f"Campaign {campaign.id} is scheduled for {wall_clock(campaign.scheduled_at)} ({zone_name()})"
    if campaign.scheduled_at is not None and (campaign.holdout_percent or campaign.variant_body is not None):
        said += " (its hold-out and variants are drawn when it joins the queue)"
    elif campaign.holdout_percent or campaign.variant_body is not None:
        groups = drawn(campaign.id)
        parts = (
            [f"{groups['holdout']:,} held out ({campaign.holdout_percent or 0:g}%)"]
            if groups["holdout"]
            else []
        )
        if campaign.variant_body is not None:
            parts.append(f"{groups['a']:,} get A, {groups['b']:,} get B")
        said += f" ({'; '.join(parts)})" if parts else ""
    document = CampaignView.of(campaign).as_document()
    try:  # it is queued or scheduled already: an estimate that cannot be read must not say it failed
        expected = send_estimate(rt.config, campaign.id, campaign.scheduled_at)
    except Exception as exc:
        logging.getLogger("campaigns").warning("no estimate: %s", type(exc).__name__)
        rt.emit(document | {"estimate": None}, said + ".")
        return
    said += f": {expected.line}." + (f"\nNote: {expected.warning}" if expected.warning else "")
    rt.emit(document | {"estimate": expected.as_document()}, said)


unschedule = _state_command(
    "unschedule", "unschedule_campaign", "is a draft again",
    "Take scheduled campaign ID back to draft: it does not go at its time; edit it, or send it again.",
)  # fmt: skip
pause = _state_command(
    "pause",
    "pause_campaign",
    "is paused",
    "Pause a queued or sending campaign; messages with the provider finish.",
)
resume = _state_command(
    "resume", "resume_campaign", "goes on", "Resume a paused campaign; nobody gets a message twice."
)
cancel = _state_command(
    "cancel", "cancel_campaign", "is cancelled", "Cancel a campaign: what was not sent yet never goes."
)


@click.command()
@click.option("--until-idle", is_flag=True,
              help="Exit when nothing can be sent now: campaigns scheduled for later or waiting for their "
              "channel's quiet hours to end stay as they are.")  # fmt: skip
@click.option("--lanes", type=click.IntRange(1, 64), default=None,
              help="Campaigns sent at once (default: [engine] lanes, 1, one after another).")  # fmt: skip
@click.option("--id", "worker_id", metavar="NAME", help="This worker's name, shown in the TUI.")
@common_options
def worker(until_idle: bool, lanes: int | None, worker_id: str | None) -> None:
    """Send queued campaigns headless, for a server that keeps sending with nobody logged in.

    Several workers (and open TUIs) on one database share the work without sending anything twice.
    Stops cleanly on SIGTERM or Ctrl+C: messages already with the provider finish, the rest stay queued.
    """
    from senders.engine import Engine

    rt = runtime()
    rt.open_store()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = Engine(rt.config, worker=worker_id, lanes=lanes, feedback=True, headless=True)

    async def main() -> Any:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, engine.stop)
        return await engine.run(until_idle=until_idle)

    status = asyncio.run(main())
    rt.emit(
        {"worker": engine.worker, "sent": status.sent},
        f"Worker {engine.worker} stopped: {status.sent:,} sent.",
    )


@click.command()
@common_options
def serve() -> None:
    """Serve the feedback endpoints alone: opens, clicks, unsubscribes, SMS receipts, the push inbox.

    Listens on [feedback] listen (default 127.0.0.1:8080); links in emails point at [feedback] public_url.
    The TUI and `campaigns worker` serve the same endpoints while they run, unless this one holds the
    address. Stops cleanly on SIGTERM or Ctrl+C (exit status 0): requests under way are answered first.
    """
    from senders.feedback.server import FeedbackServer
    from store.db import off_loop
    from store.errors import CampaignsError
    from store.secrets import link_secret

    rt = runtime()
    rt.open_store()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def main() -> None:
        secret = await off_loop(link_secret, rt.config.feedback.secret)
        server = FeedbackServer(rt.config, secret)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, server.request_stop)
        try:
            await server.start()
        except OSError as exc:
            listen = rt.config.feedback.listen
            raise CampaignsError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
        click.echo(f"Feedback server on http://{rt.config.feedback.listen}", err=True)
        assert server.task is not None
        try:
            await server.task
        finally:
            await server.stop()

    asyncio.run(main())
    click.echo("Feedback server stopped.", err=True)


@click.command()
@common_options
def workers() -> None:
    """The engines that send from this database (TUIs and workers): alive, silent (no heartbeat for
    15 s: stopped without saying so, or stuck) or stopped, and what each sends."""
    from store.workers import all_workers

    rt = runtime()
    rt.open_store()
    found = all_workers()

    def text() -> str:
        if not found:
            return "No engine has sent from this database yet: campaigns worker, or the app, starts one."
        lines = []
        for w in found:
            sending = f"sending {', '.join(f'#{i}' for i in w.sending)}" if w.sending else "idle"
            if w.state != "alive":
                sending = w.state + (f" for {w.silent_for_seconds} s" if w.state == "silent" else "")
            lines.append(f"{w.name:<24} {w.host}:{w.pid:<8} {sending:<28} {w.sent:>9,} sent")
        return "\n".join(lines)

    rt.emit([w.as_document() for w in found], text)


COMMANDS = [send, unschedule, pause, resume, cancel, worker, serve, workers]
