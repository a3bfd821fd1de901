"""The feedback server on `[feedback] listen`, served by uvicorn inside an existing event loop.

The TUI and `campaigns worker` run it beside the send engine; `campaigns serve` runs it alone. When the
address is taken (a `campaigns serve` already answers there), the caller is told once and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator

import uvicorn

from senders.feedback.app import FeedbackApp
from senders.wording import WORDINGS
from store.config import Config, parse_listen
from store.errors import ConfigError

log = logging.getLogger("campaigns.feedback")


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
    """Leaves signals to its host (the TUI, the worker) unless it runs alone."""

    def __init__(self, config: uvicorn.Config, own_signals: bool) -> None:
        super().__init__(config)
        self.own_signals = own_signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if self.own_signals:
            with super().capture_signals():
                yield
        else:
            yield


class FeedbackServer:
    def __init__(self, config: Config, secret: str, own_signals: bool = False) -> None:
        self.listen = config.feedback.listen
        self.app = FeedbackApp(secret, config.sms.token, WORDINGS[config.email.language])
        settings = uvicorn.Config(
            self.app, log_config=None, access_log=False, lifespan="off", server_header=False,
            proxy_headers=False, timeout_graceful_shutdown=3, limit_concurrency=2000,
        )  # fmt: skip
        self.server = _Server(settings, own_signals)
        self.task: asyncio.Task[None] | None = None

    async def start(self, sock: socket.socket | None = None) -> None:
        """Serves in the running loop (on `sock`, else a socket bound to `[feedback] listen`)."""
        sock = sock or bind(self.listen)
        self.task = asyncio.create_task(self.server.serve(sockets=[sock]), name="feedback-server")
        while not self.server.started and not self.task.done():
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()  # its failure, raised here

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
