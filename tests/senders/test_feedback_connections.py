"""The feedback server against strangers' connections (issue 13): idle sockets by the thousand, a request
head dribbled a byte at a time, a body that never comes. A patient's click is answered all the same.

Every test closes what it opens; waits are on conditions (the server's count of connections, what the
client's sockets see), never on the machine being fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import selectors
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

import httpx
import pytest

from senders.feedback.server import FeedbackServer, Limits, connection_cap
from senders.links import Links, sign
from store.campaigns import create_campaign
from store.clock import utcnow
from store.config import load_config
from store.models import Message, OptOut, TrackingEvent
from tests.senders.peers import free_port

SECRET = "test-secret-for-links"
BATCH = 200  # connections opened before the server is let to accept them: far under its listen backlog
PATIENCE_SECONDS = 60.0  # a wait that outlasts this failed; it is no measure of speed


@contextlib.asynccontextmanager
async def guarded_server(store: str, limits: Limits) -> AsyncIterator[FeedbackServer]:
    config = load_config(database_url=store, env={})
    config = replace(config, feedback=replace(config.feedback, listen=f"127.0.0.1:{free_port()}"))
    server = FeedbackServer(config, SECRET, limits)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def base_url(server: FeedbackServer) -> str:
    return f"http://{server.listen}"


def port_of(server: FeedbackServer) -> int:
    return int(server.listen.rpartition(":")[2])


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


class IdleSockets:
    """Raw client sockets that connect and then say nothing; `closed()` are those the server closed."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.selector = selectors.DefaultSelector()
        self.hung_up: set[socket.socket] = set()

    def connect(self, port: int, count: int) -> None:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sockets.append(sock)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            self.selector.register(sock, selectors.EVENT_READ)

    def closed(self) -> list[socket.socket]:
        """Those the server closed (an idle socket becomes readable only at its end), in opening order."""
        for key, _events in self.selector.select(timeout=0):
            self.selector.unregister(key.fileobj)
            self.hung_up.add(key.fileobj)  # type: ignore[arg-type]
        return [sock for sock in self.sockets if sock in self.hung_up]

    def close(self) -> None:
        self.selector.close()
        for sock in self.sockets:
            sock.close()


@contextlib.contextmanager
def idle_sockets() -> Iterator[IdleSockets]:
    idle = IdleSockets()
    try:
        yield idle
    finally:
        idle.close()


@contextlib.contextmanager
def descriptors(needed: int) -> Iterator[None]:
    """This process may open `needed` files: its soft limit raised (up to the hard one) for the test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def a_sent_email() -> Message:
    campaign = create_campaign(channel="email", name="News", sender="Centro Medico", body="Ciao")
    return Message.create(campaign=campaign, address="maria@example.org", state="sent", sent_at=utcnow())


async def answer_time_of_a_pixel(server: FeedbackServer, message: Message) -> float:
    """Seconds a reader's mail program waits for the pixel, on a connection of its own: the best of up to
    three readers, so one stall of this busy 2-core machine is not taken for the server's."""
    pixel = Links(base_url(server), SECRET).open_pixel(message.id)
    best = float("inf")
    for _reader in range(3):
        async with httpx.AsyncClient(
            timeout=30
        ) as client:  # made outside the clock: it loads CA certificates
            started = time.monotonic()
            answer = await client.get(pixel)
            best = min(best, time.monotonic() - started)
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/gif"
        if best < 1.0:
            break
    return best


def test_the_cap_on_connections_leaves_descriptors_for_the_rest_of_the_process():
    assert connection_cap(1024) == 768  # a stock Linux soft limit
    assert connection_cap(20_000) == connection_cap(resource.RLIM_INFINITY) == 4096  # a few thousand at most
    assert connection_cap(300) == 150  # a tight limit keeps half for the rest


async def test_a_pixel_is_answered_within_a_second_while_3000_idle_connections_are_open(sqlite_store):
    with descriptors(8_000), idle_sockets() as idle:
        # Long timeouts: nothing here may be closed by the clock, however slow the machine.
        async with guarded_server(sqlite_store, Limits(head_seconds=300)) as server:
            assert server.guard.limits.connections > 3_000  # the product's cap under this file limit
            message = a_sent_email()
            for opened in range(BATCH, 3_000 + 1, BATCH):
                idle.connect(port_of(server), BATCH)
                await until(lambda n=opened: len(server.guard.open) >= n, f"{opened} connections accepted")
            assert len(server.guard.open) == 3_000 and idle.closed() == []
            assert await answer_time_of_a_pixel(server, message) < 1.0
            assert len(idle.closed()) == 0  # the server had room for them all: nobody was put out
            assert TrackingEvent.select().where(TrackingEvent.kind == "open").count() == 1


async def test_at_the_cap_the_oldest_idle_connection_makes_room_and_requests_under_way_go_on(sqlite_store):
    limits = Limits(head_seconds=300, body_seconds=300, connections=50)
    with idle_sockets() as idle:
        async with guarded_server(sqlite_store, limits) as server:
            message = a_sent_email()
            # The oldest connection of all is an SMS gateway's receipt whose body is still on its way.
            reader, writer = await asyncio.open_connection("127.0.0.1", port_of(server))
            writer.write(b"POST /receipts/sms HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
            await until(lambda: len(server.guard.open) == 1 and not server.guard.idle, "the request begun")
            idle.connect(port_of(server), 200)
            await until(lambda: len(idle.closed()) >= 200 - 49, "the oldest idle closed")
            assert idle.closed() == idle.sockets[:151]  # the oldest, in order; the 49 newest are open
            assert len(server.guard.open) == 50
            assert await answer_time_of_a_pixel(server, message) < 1.0
            await until(lambda: len(idle.closed()) >= 152, "room made for the reader")
            assert idle.closed() == idle.sockets[:152]
            writer.write(b"{}")  # the gateway's body arrives at last: answered, not cut off
            answer = await asyncio.wait_for(reader.read(4096), PATIENCE_SECONDS)
            assert answer.startswith(b"HTTP/1.1 401 ")
            writer.close()


async def dribble_until_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Sends a byte of a request head every 50 ms, as a slow attacker does; what came back at the end."""
    received = b""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        with contextlib.suppress(ConnectionError):
            writer.write(b"a")
        try:
            chunk = await asyncio.wait_for(reader.read(4096), 0.05)
        except TimeoutError:
            continue
        if not chunk:
            return received
        received += chunk
    raise AssertionError("the dribbling connection was never closed")


async def test_a_connection_dribbling_its_request_head_is_closed_after_the_head_timeout(sqlite_store):
    limits = Limits(head_seconds=0.5, keep_alive_seconds=300)
    async with guarded_server(sqlite_store, limits) as server:
        started = time.monotonic()
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(server))
        writer.write(b"GET /o/")
        assert await dribble_until_closed(reader, writer) == b""  # closed, never answered
        assert time.monotonic() - started >= 0.5
        writer.close()
        # On keep-alive the time runs again from the last answer, whatever bytes come meanwhile.
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(server))
        asked = time.monotonic()  # the answer, and so the time given for the next head, come after
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = await asyncio.wait_for(reader.readuntil(b"campaigns feedback server\n"), PATIENCE_SECONDS)
        assert first.startswith(b"HTTP/1.1 200 ")
        writer.write(b"GET /o/")
        assert await dribble_until_closed(reader, writer) == b""
        assert time.monotonic() - asked >= 0.5
        writer.close()
        await until(lambda: not server.guard.open, "every connection gone")


async def test_a_request_body_that_does_not_come_is_answered_408_and_unsubscribes_nobody(sqlite_store):
    message = a_sent_email()
    token = sign(SECRET, "u", message.id)
    async with guarded_server(sqlite_store, Limits(body_seconds=0.5)) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", port_of(server))
        head = f"POST /u/{token} HTTP/1.1\r\nHost: x\r\nContent-Length: 26\r\n\r\n"
        writer.write(head.encode() + b"List-Unsub")  # and the rest never comes
        answer = await asyncio.wait_for(reader.read(), PATIENCE_SECONDS)  # to the end: it is closed
        assert answer.startswith(b"HTTP/1.1 408 ")
        writer.close()
        await until(lambda: not server.server.server_state.tasks, "the request's handling over")
    assert OptOut.select().count() == 0 and TrackingEvent.select().count() == 0
