"""A stand-in for Google: the OAuth2 token endpoint and the FCM HTTP v1 API on one local HTTP server.

The token endpoint checks a JWT-bearer grant as Google does (the form, the RS256 signature with the
service account's public key, kid, iss, scope, aud, lifetime) and issues access tokens that end after
`expires_in` seconds. The send endpoint takes only those tokens, checks the project and the exact JSON,
records each message, and answers from a script per device token with FCM's error shapes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from collections import defaultdict
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tests.senders.peers import QuietHandler

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"

# FCM's answers, as its documentation shows them: errorCode -> (HTTP status, status, message).
ERRORS = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
    ),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch"),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Send requests'"),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered."),
    "THIRD_PARTY_AUTH_ERROR": (401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"),
}
UNAUTHENTICATED = "UNAUTHENTICATED"  # a script entry: the access token is refused (no FcmError detail)


def new_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FcmPeer:
    """Google's token endpoint at `/token` and FCM at `/v1/projects/{id}/messages:send`, on 127.0.0.1."""

    def __init__(self, project_id: str = "centro-medico-4f2a1") -> None:
        self.project_id = project_id
        self.client_email = f"campaigns-push@{project_id}.iam.gserviceaccount.com"
        self.key = new_key()
        self.key_id = secrets.token_hex(20)
        self.expires_in = 3600
        self.expires_in_said: object | None = None  # what the answer says instead, nonsense included
        self.grants = 0
        self.refusals: list[str] = []  # why each refused grant was refused
        self.issued: dict[str, float] = {}  # access token -> time.monotonic() it ends
        self.refuse_all_tokens = False  # every access token is answered 401
        self.revoke_after: int | None = None  # once this many messages are in, every issued token is revoked
        self.received: list[dict[str, Any]] = []
        self.arrivals: dict[str, list[float]] = defaultdict(list)  # device token -> time.monotonic()
        self.script: dict[str, list[str]] = defaultdict(list)  # device token -> error codes to answer first
        self.retry_after: str | None = None  # the Retry-After header of 429 and 503 answers
        self.lock = threading.Lock()
        peer = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                content_type = self.headers.get("Content-Type", "")
                if self.path == "/token":
                    status, answer, headers = peer.grant(content_type, body)
                else:
                    status, answer, headers = peer.send(
                        self.path, self.headers.get("Authorization", ""), content_type, body
                    )
                payload = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                self.send_response(status)
                kind = "text/html" if isinstance(answer, str) else "application/json; charset=UTF-8"
                self.send_header("Content-Type", kind)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A client that hung up is no test failure.
        self.server.handle_error = lambda request, address: None  # type: ignore[method-assign,assignment]
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.token_uri = f"{self.url}/token"

    def start(self) -> FcmPeer:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def service_account(self, path: Path, key: RSAPrivateKey | None = None) -> Path:
        """Writes a service-account key file (owner-only) as the Firebase console gives it."""
        pem = (key or self.key).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        info = {
            "type": "service_account",
            "project_id": self.project_id,
            "private_key_id": self.key_id,
            "private_key": pem.decode(),
            "client_email": self.client_email,
            "client_id": "104851396301526123456",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "universe_domain": "googleapis.com",
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(info, file, indent=2)
        return path

    # The token endpoint

    def grant(self, content_type: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        problem = self._grant_problem(content_type, body)
        with self.lock:
            if problem is not None:
                self.refusals.append(problem)
                error, description = problem.split(": ", 1)
                return 400, {"error": error, "error_description": description}, {}
            token = "ya29." + secrets.token_urlsafe(48)
            self.issued[token] = time.monotonic() + self.expires_in
            self.grants += 1
            said = self.expires_in if self.expires_in_said is None else self.expires_in_said
            return 200, {"access_token": token, "expires_in": said, "token_type": "Bearer"}, {}

    def _grant_problem(self, content_type: str, body: bytes) -> str | None:
        if content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
            return "invalid_request: not a form"
        form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        if sorted(form) != ["assertion", "grant_type"] or any(len(v) != 1 for v in form.values()):
            return f"invalid_request: fields {sorted(form)}"
        if form["grant_type"][0] != JWT_BEARER:
            return "unsupported_grant_type: Invalid grant_type"
        assertion = form["assertion"][0]
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion, self.key.public_key(), algorithms=["RS256"], audience=self.token_uri,
                issuer=self.client_email, options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )  # fmt: skip
        except jwt.InvalidSignatureError:
            return "invalid_grant: Invalid JWT Signature."
        except jwt.InvalidTokenError as exc:
            return f"invalid_grant: Invalid JWT: {exc}"
        if header.get("alg") != "RS256" or header.get("kid") != self.key_id:
            return f"invalid_grant: Invalid JWT header {header}"
        if claims["scope"] != FCM_SCOPE:
            return f"invalid_scope: {claims['scope']}"
        if not (0 < claims["exp"] - claims["iat"] <= 3600) or claims["iat"] > time.time() + 60:
            return "invalid_grant: Invalid JWT: Token must be a short-lived token (60 minutes)"
        return None

    # FCM

    def send(
        self, path: str, authorization: str, content_type: str, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        found = re.fullmatch(r"/v1/projects/([^/]+)/messages:send", path)
        if found is None:
            return 404, "<html><title>Error 404 (Not Found)!!1</title></html>", {}
        if found[1] != self.project_id:
            return self._error(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied")
        with self.lock:
            ends = self.issued.get(authorization.removeprefix("Bearer "))
            if not authorization.startswith("Bearer ") or ends is None or ends < time.monotonic() \
                    or self.refuse_all_tokens:  # fmt: skip
                return self._unauthenticated()
        message = json.loads(body) if content_type.startswith("application/json") else None
        problem = _shape_problem(message)
        if problem is not None:
            return self._error(400, "INVALID_ARGUMENT", problem, "type.googleapis.com/google.rpc.BadRequest")
        assert message is not None
        device = message["message"]["token"]
        with self.lock:
            self.arrivals[device].append(time.monotonic())
            script = self.script.get(device)
            code = script.pop(0) if script else None
            if code == UNAUTHENTICATED:
                return self._unauthenticated()
            if code is not None:
                status, state, text = ERRORS[code]
                headers = (
                    {"Retry-After": self.retry_after} if self.retry_after and status in (429, 503) else {}
                )
                return (*self._error(status, state, text, FCM_ERROR, code)[:2], headers)
            self.received.append(message)
            if self.revoke_after is not None and len(self.received) >= self.revoke_after:
                self.revoke_after = None
                self.issued.clear()
            name = f"projects/{self.project_id}/messages/0:{len(self.received)}%31bd1c9631bd1c96"
            return 200, {"name": name}, {}

    def _unauthenticated(self) -> tuple[int, Any, dict[str, str]]:
        text = "Request had invalid authentication credentials. Expected OAuth 2 access token."
        status, answer, headers = self._error(
            401, "UNAUTHENTICATED", text, "type.googleapis.com/google.rpc.ErrorInfo"
        )
        answer["error"]["details"][0]["reason"] = "ACCESS_TOKEN_EXPIRED"
        return status, answer, {**headers, "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}

    @staticmethod
    def _error(
        status: int, state: str, text: str, kind: str | None = None, code: str | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        detail: dict[str, Any] = {"@type": kind} if kind else {}
        if code:
            detail["errorCode"] = code
        error = {"code": status, "message": text, "status": state, "details": [detail] if detail else []}
        return status, {"error": error}, {}

    def count_by_token(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for message in self.received:
            counts[message["message"]["token"]] += 1
        return dict(counts)


def _shape_problem(body: Any) -> str | None:
    """What is wrong with a send request's JSON against the shape campaigns promises, or None."""
    if not isinstance(body, dict) or sorted(body) != ["message"] or not isinstance(body["message"], dict):
        return "Invalid JSON payload received."
    message = body["message"]
    if sorted(message) != ["data", "notification", "token"]:
        return f"Unexpected fields in message: {sorted(message)}"
    notification, data = message["notification"], message["data"]
    if not isinstance(notification, dict) or sorted(notification) != ["body", "title"]:
        return "Invalid notification"
    if not isinstance(data, dict) or sorted(data) != ["reference"]:
        return "Invalid data"
    values = [message["token"], *notification.values(), *data.values()]
    if not all(isinstance(value, str) and value for value in values):
        return "Invalid value at 'message.data[0].value' (TYPE_STRING)"
    return None
