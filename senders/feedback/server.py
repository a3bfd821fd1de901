"""The feedback server on `[feedback] listen`, served by uvicorn inside an existing event loop.

The TUI and `campaigns worker` run it beside the send engine; `campaigns serve` runs it alone. When the
address is taken (a `campaigns serve` already answers there), the caller is told once and goes on.

It faces strangers: connections that send nothing, or their request a byte at a time, are closed after
`Limits`' timeouts, and the open ones are bounded under the file-descriptor limit, the oldest idle one
giving way to a newcomer, so a patient's click is answered while thousands of idle sockets are open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import time
from asyncio import TimerHandle
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from senders.feedback.app import FeedbackApp
from senders.transports.twilio import callback_url
from senders.wording import WORDINGS
from store.config import Config, parse_listen
from store.errors import ConfigError

log = logging.getLogger("campaigns.feedback")

MOST_CONNECTIONS = 4096
DESCRIPTOR_RESERVE = 256  # the database, the engine's SMTP/HTTP connections, logs: never starved by visitors
CAP_WARNING_SECONDS = 60.0
_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 16\r\n"
    b"connection: close\r\n\r\nrequest timeout\n"
)


def connection_cap(soft_limit: int | None = None) -> int:
    """How many connections may be open at once: under the soft RLIMIT_NOFILE, with room to spare."""
    if soft_limit is None:
        soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft_limit == resource.RLIM_INFINITY:
        return MOST_CONNECTIONS
    return max(1, min(MOST_CONNECTIONS, max(soft_limit - DESCRIPTOR_RESERVE, soft_limit // 2)))


@dataclass(frozen=True)
class Limits:
    """What a client is allowed before its connection is closed."""

    head_seconds: float = 10.0  # to send a whole request head, from connecting or from the last answer
    body_seconds: float = 10.0  # to send the body once the head is in; else 408
    keep_alive_seconds: float = 5.0  # silence after an answer
    connections: int = field(default_factory=connection_cap)


class Guard:
    """The open connections of one server, and those waiting for a request, the longest waiting first."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: set[GuardedHttp] = set()
        self.idle: dict[GuardedHttp, None] = {}  # insertion-ordered: the first is the oldest idle
        self.warned_at = -CAP_WARNING_SECONDS

    def opened(self, connection: GuardedHttp) -> None:
        """Counts a new connection, already waiting for its head; over the cap, makes room."""
        self.open.add(connection)
        if len(self.open) > self.limits.connections:
            self.make_room()

    def waiting(self, connection: GuardedHttp) -> None:
        self.idle.pop(connection, None)
        self.idle[connection] = None

    def busy(self, connection: GuardedHttp) -> None:
        self.idle.pop(connection, None)

    def closed(self, connection: GuardedHttp) -> None:
        self.open.discard(connection)
        self.idle.pop(connection, None)

    def make_room(self) -> None:
        """Closes the oldest idle connection (the newcomer itself when every other one is answering)."""
        oldest = next(iter(self.idle))
        self.closed(oldest)  # now, not when the loop gets to it: the next newcomer counts right
        oldest.close()
        if time.monotonic() - self.warned_at >= CAP_WARNING_SECONDS:
            self.warned_at = time.monotonic()
            log.warning(
                "feedback server at its cap of %d open connections: the longest idle are closed to make room",
                self.limits.connections,
            )


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for every request head and body.

    uvicorn arms no timer before a connection's first answer, and any byte disarms its keep-alive one;
    here the head's deadline runs from connecting (or from the last answer) whatever arrives meanwhile.
    """

    guard: ClassVar[Guard]
    head_timer: TimerHandle | None = None
    body_timer: TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.await_head()
        self.guard.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        _cancel(self.head_timer)
        self.head_timer = None
        _cancel(self.body_timer)
        self.body_timer = None
        self.guard.closed(self)
        super().connection_lost(exc)

    def await_head(self) -> None:
        _cancel(self.head_timer)
        self.head_timer = None
        self.head_timer = self.loop.call_later(self.guard.limits.head_seconds, self.close)
        self.guard.waiting(self)

    def on_headers_complete(self) -> None:
        _cancel(self.head_timer)
        self.head_timer = None
        self.guard.busy(self)
        _cancel(self.body_timer)
        self.body_timer = None
        self.body_timer = self.loop.call_later(self.guard.limits.body_seconds, self.body_timed_out)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        _cancel(self.body_timer)
        self.body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already started leaves the cycle unanswered: not idle yet.
        if not self.transport.is_closing() and self.cycle.response_complete:
            self.await_head()

    def body_timed_out(self) -> None:
        if self.cycle is not None and not self.cycle.response_started and not self.transport.is_closing():
            self.transport.write(_REQUEST_TIMEOUT)
        self.close()

    def close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()


def _cancel(timer: TimerHandle | None) -> None:
    """Cancels the timer, if any."""
    if timer is not None:
        timer.cancel()


def guarded_protocol(guard: Guard) -> type[GuardedHttp]:
    """A protocol class of its own per server: uvicorn builds protocols from a class, not an object."""
    return type("GuardedHttp", (GuardedHttp,), {"guard": guard})


def bind(listen: str) -> socket.socket:
    """The listening socket; OSError when the address is taken."""
    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio turns Nagle off only on sockets that say they are TCP, and with
    # it on, a response's head and body wait 40 ms apart for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class _Server(uvicorn.Server):
    """Leaves signals to its host: the TUI, the worker, `campaigns serve` (uvicorn's own handlers would
    re-raise SIGTERM once served, and the process would die of it instead of exiting 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class FeedbackServer:
    def __init__(self, config: Config, secret: str, limits: Limits | None = None) -> None:
        self.listen = config.feedback.listen
        twilio = config.sms.provider == "twilio"
        self.app = FeedbackApp(
            secret, config.sms.token, WORDINGS[config.email.language],
            twilio_token=config.sms.auth_token if twilio else "",
            twilio_callback_url=callback_url(config.feedback.public_url) if twilio else "",
        )  # fmt: skip
        self.guard = Guard(limits or Limits())
        settings = uvicorn.Config(
            self.app, http=guarded_protocol(self.guard), ws="none", log_config=None, access_log=False,
            lifespan="off", server_header=False, proxy_headers=False, timeout_graceful_shutdown=3,
            timeout_keep_alive=self.guard.limits.keep_alive_seconds,  # type: ignore[arg-type]  # uvicorn takes a float
        )  # fmt: skip
        self.server = _Server(settings)
        self.task: asyncio.Task[None] | None = None

    async def start(self, sock: socket.socket | None = None) -> None:
        """Serves in the running loop (on `sock`, else a socket bound to `[feedback] listen`)."""
        sock = sock or bind(self.listen)
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]), name="feedback-server")
        while not self.server.started and not self.task.done():
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()  # its failure, raised here

    def request_stop(self) -> None:
        """Stops serving soon (requests under way get a few seconds); asked twice, at once."""
        if self.server.should_exit:
            self.server.force_exit = True
        self.server.should_exit = True

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            with contextlib.suppress(Exception):
                await self.task
        await asyncio.to_thread(self.app.close)


async def start_beside_engine(config: Config, secret: str) -> FeedbackServer | None:
    """The server for the TUI or a worker; None, said once in the log, when the address is taken."""
    try:
        sock = bind(config.feedback.listen)
    except ConfigError as exc:  # checked when the config was read; said once here too, sending goes on
        log.warning("feedback server not started: %s", exc)
        return None
    except OSError as exc:
        log.warning(
            "feedback server not started: %s is taken (%s), a `campaigns serve` there hears opens, "
            "clicks and unsubscribes; sending goes on",
            config.feedback.listen, (exc.strerror or str(exc)).lower(),
        )  # fmt: skip
        return None
    server = FeedbackServer(config, secret)
    await server.start(sock)
    return server
