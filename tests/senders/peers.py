"""Real peers for the send tests: an aiosmtpd SMTP server and an HTTP gateway on 127.0.0.1.

Both record what they received and answer from a script, so tests inject faults: SMTP 451/550 for a
recipient, 421 for everything, HTTP 429/503/410, slow answers, a server that is simply not there.
Both can be held (`Gate`): a test that must see a campaign mid-send lets through exactly the messages it
wants, whatever the speed of the machine, instead of hoping the send is still running when it looks.
"""

from __future__ import annotations

import email.policy
import json
import socket
import threading
import time
from collections import Counter, defaultdict
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no log lines, and no Nagle: headers and body go out in two writes, and
    without TCP_NODELAY Nagle and delayed ACKs hold every answer back 40 ms."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args: Any) -> None:
        return None


class Gate:
    """Holds a peer's answers: `hold()` stops them, `let_through(n)` lets n more go, `release()` all."""

    PATIENCE_SECONDS = 60.0  # a held request that nobody releases ends the wait rather than hang a test

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._open = True
        self._passes = 0
        self.waiting = 0  # requests held right now

    def hold(self) -> None:
        with self._condition:
            self._open, self._passes = False, 0

    def let_through(self, count: int) -> None:
        with self._condition:
            self._passes += count
            self._condition.notify_all()

    def release(self) -> None:
        with self._condition:
            self._open = True
            self._condition.notify_all()

    def wait_turn(self) -> None:
        with self._condition:
            self.waiting += 1
            self._condition.wait_for(lambda: self._open or self._passes > 0, timeout=self.PATIENCE_SECONDS)
            self.waiting -= 1
            if not self._open and self._passes > 0:
                self._passes -= 1


class MailServer:
    """aiosmtpd in its own thread; `faults[address]` is a list of replies to give that recipient first."""

    def __init__(self, smtputf8: bool = False) -> None:
        self.port = free_port()
        self.smtputf8 = smtputf8  # offers SMTPUTF8 (RFC 6531): mailbox names in other scripts
        self.received: list[Message] = []
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.refuse_all: str | None = None  # e.g. "421 4.3.2 shutting down"
        self.delay = 0.0
        self.light = False  # keep only who each message was for and when (tens of thousands of them)
        self.rcpts: list[str] = []
        self.mail_from: list[str] = []  # each message's envelope sender (SMTP MAIL FROM)
        self.arrivals: list[float] = []  # time.monotonic() of each message, as the server saw it
        self.lock = threading.Lock()
        self.gate = Gate()  # held DATA answers: the message is in the server's hands, not yet accepted
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=smtputf8)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_all:
            return self.refuse_all
        with self.lock:
            script = self.faults.get(address.lower())
            if script:
                return script.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.gate.wait_turn()  # aiosmtpd's own thread: holding it holds every connection, as a slow server
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.arrivals.append(time.monotonic())
            self.rcpts.extend(envelope.rcpt_tos)
            self.mail_from.append(envelope.mail_from or "")
            if not self.light:
                raw = envelope.original_content or envelope.content
                policy = {"policy": email.policy.SMTPUTF8} if self.smtputf8 else {}
                self.received.append(message_from_bytes(raw, **policy))
        return "250 Message accepted"

    def start(self) -> MailServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.gate.release()
        self.controller.stop()

    def count_by_recipient(self) -> Counter[str]:
        return Counter(self.rcpts) if self.light else Counter(m["To"] for m in self.received)


class RawMailServer(MailServer):
    """The suite's SMTP peer, keeping each message's bytes as they came off the wire too."""

    def __init__(self, smtputf8: bool = False) -> None:
        super().__init__(smtputf8=smtputf8)
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.raw.append(envelope.original_content or envelope.content)
        return await super().handle_DATA(server, session, envelope)


class Gateway:
    """An SMS gateway or push service: records each JSON post; `script[to or token]` lists statuses."""

    def __init__(self, token: str = "secret-token") -> None:
        self.token = token
        self.received: list[dict[str, Any]] = []
        self.arrivals: list[float] = []  # time.monotonic() of each request, as the provider saw it
        self.script: dict[str, list[int]] = defaultdict(list)
        self.status_for_all: int | None = None
        self.delay = 0.0
        self.lock = threading.Lock()
        self.gate = Gate()  # held answers: the request is in the gateway's hands, not yet answered
        gateway = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                gateway.arrivals.append(time.monotonic())
                gateway.gate.wait_turn()
                if gateway.delay:
                    time.sleep(gateway.delay)
                status = gateway.answer(body, self.headers.get("Authorization", ""))
                payload = json.dumps(
                    {"id": f"gw-{len(gateway.received)}"} if status < 300 else {"error": status}
                )
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that hung up is no test failure
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/messages"

    def answer(self, body: dict[str, Any], authorization: str) -> int:
        if authorization != f"Bearer {self.token}":
            return 401
        key = body.get("to") or body.get("token")
        with self.lock:
            if self.status_for_all is not None:
                return self.status_for_all
            script = self.script.get(key)
            status = script.pop(0) if script else 200
            if status < 300:
                self.received.append(body)
            return status

    def start(self) -> Gateway:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.gate.release()
        self.server.shutdown()
        self.server.server_close()

    def count_by_recipient(self) -> Counter[str]:
        return Counter(m.get("to") or m.get("token") for m in self.received)
