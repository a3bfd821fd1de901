"""A Twilio stand-in on 127.0.0.1: the Messages resource as Twilio documents it, and its status callbacks.

Each request is checked as Twilio would (the account in the path, HTTP Basic auth, a form body with
exactly the fields we send); what is wrong is recorded in `violations` and answered 400, so a test
asserts there is none. Answers can be scripted per number: Twilio's JSON errors, 429 with Retry-After,
503, 401, or a proxy's HTML page. Callbacks are signed here with an implementation of Twilio's
algorithm of our own, checked against twilio-python's test vectors (test_twilio_callbacks.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx

from tests.senders.peers import QuietHandler

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "auth-token-of-the-account"
API_KEY_SID = "SK" + "fedcba9876543210" * 2
API_KEY_SECRET = "secret-of-the-api-key"


def twilio_signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's X-Twilio-Signature: the URL, then each distinct (name, value) pair in sorted order."""
    text = url
    for name, value in sorted(set(params)):
        text += name + value
    digest = hmac.new(token.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass
class Answer:
    """What the stand-in answers one request instead of accepting it."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "application/json"


def twilio_error(status: int, code: int, message: str, **headers: str) -> Answer:
    """An error as Twilio's REST API gives it."""
    document = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status}  # fmt: skip
    return Answer(status, json.dumps(document).encode(), headers)


def html_page(status: int) -> Answer:
    return Answer(status, b"<html><body><h1>502 Bad Gateway</h1></body></html>", kind="text/html")


class TwilioPeer:
    """Twilio's `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, in its own thread."""

    def __init__(self, status_callback: str, user: str = ACCOUNT_SID, password: str = AUTH_TOKEN) -> None:
        self.status_callback = status_callback  # the StatusCallback every request must carry
        self.user, self.password = user, password
        self.messaging_service_sid: str | None = None  # expected instead of From when set
        self.received: list[dict[str, str]] = []  # the accepted messages' fields, with their "sid"
        self.violations: list[str] = []
        self.script: dict[str, list[Answer]] = defaultdict(list)
        self.answer_all: Answer | None = None
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # time.monotonic() of each request, by To
        self.lock = threading.Lock()
        peer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answer = peer.handle(self.path, dict(self.headers.items()), body)
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.kind)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self.lock:
            if self.answer_all is not None:
                return self.answer_all
            if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                return twilio_error(404, 20404, f"The requested resource {path} was not found")
            if headers.get("Authorization") != _basic(self.user, self.password):
                return twilio_error(401, 20003, "Authenticate")
            problem = self.problem_of(headers, body)
            if problem:
                self.violations.append(problem)
                return twilio_error(400, 21601, problem)
            fields = {
                name: values[0] for name, values in parse_qs(body.decode(), keep_blank_values=True).items()
            }
            self.arrivals[fields["To"]].append(time.monotonic())
            script = self.script.get(fields["To"])
            if script:
                return script.pop(0)
            sid = "SM" + uuid.uuid4().hex
            self.received.append({**fields, "sid": sid})
            document = {
                "sid": sid, "account_sid": ACCOUNT_SID, "to": fields["To"], "from": fields.get("From"),
                "messaging_service_sid": fields.get("MessagingServiceSid"), "body": fields["Body"],
                "status": "accepted" if self.messaging_service_sid else "queued", "error_code": None,
                "api_version": "2010-04-01", "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
            }  # fmt: skip
            return Answer(201, json.dumps(document).encode())

    def problem_of(self, headers: dict[str, str], body: bytes) -> str | None:
        """What Twilio would not take in a request, or None."""
        if headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return f"Content-Type {headers.get('Content-Type')!r}, not a form"
        try:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        except (UnicodeDecodeError, ValueError):
            return "the body is not a form"
        if any(len(values) != 1 for values in parsed.values()):
            return "a field is repeated"
        sender = "MessagingServiceSid" if self.messaging_service_sid else "From"
        expected = {"To", sender, "Body", "StatusCallback"}
        if set(parsed) != expected:
            return f"fields {sorted(parsed)}, expected {sorted(expected)}"
        if self.messaging_service_sid and parsed["MessagingServiceSid"][0] != self.messaging_service_sid:
            return "another MessagingServiceSid"
        if parsed["StatusCallback"][0] != self.status_callback:
            return f"StatusCallback {parsed['StatusCallback'][0]!r}"
        if not parsed["To"][0].startswith("+") or not parsed["Body"][0]:
            return "To is not E.164, or Body is empty"
        return None

    def callback(
        self, sid: str, status: str, error_code: str | None = None, url: str | None = None,
        token: str = AUTH_TOKEN,
    ) -> tuple[bytes, dict[str, str]]:  # fmt: skip
        """A status callback as Twilio posts it: the form body and its headers, signed over `url` (by
        default the StatusCallback it was given)."""
        message = next((m for m in self.received if m["sid"] == sid), {"To": "+393470000099", "From": "X"})
        params = [
            ("AccountSid", ACCOUNT_SID), ("ApiVersion", "2010-04-01"), ("From", message.get("From", "")),
            ("MessageSid", sid), ("MessageStatus", status), ("SmsSid", sid), ("SmsStatus", status),
            ("To", message["To"]),
        ]  # fmt: skip
        if error_code is not None:
            params.append(("ErrorCode", error_code))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(token, url or self.status_callback, params),
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        return urlencode(params).encode(), headers

    def send_status(self, sid: str, status: str, error_code: str | None = None) -> httpx.Response:
        """Posts a signed status callback to the StatusCallback, as Twilio does (blocking: call it from a
        thread when the feedback server runs in this thread's loop)."""
        body, headers = self.callback(sid, status, error_code)
        return httpx.post(self.status_callback, content=body, headers=headers, timeout=30)

    def start(self) -> TwilioPeer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that hung up is no test failure


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
