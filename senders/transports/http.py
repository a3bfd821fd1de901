"""SMS and push over HTTP with one shared httpx client: what every HTTP provider shares.

A provider (our JSON gateway format here, Twilio in `twilio.py`, FCM in `fcm.py`) says how a message
becomes a request (`prepare`) and what the provider's answer means (`judge`); this module sends it,
turns a lost connection into the right outcome, and reads `Retry-After` (docs/providers.md).
"""

from __future__ import annotations

import email.utils
import json
import time
from datetime import timedelta
from typing import Any

import httpx

from senders.transports import ProviderUnavailable, Ready
from store.message_limits import one_line
from store.sending import Outcome, Outgoing
from store.suppressions import DEAD_TOKEN

TIMEOUT = httpx.Timeout(15.0, connect=5.0)
REASON_MAX = 200  # characters of a provider's words in a reason
RETRY_AFTER_MAX_SECONDS = 24 * 3600.0  # a larger value is nonsense: read as "later", our own back-off
# As httpx writes `json=`: compact, UTF-8, no NaN.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


# The internals of httpx's client the fast path takes: its transport for a URL, its default encoding.
_FAST_PATH = hasattr(httpx.AsyncClient, "_transport_for_url")


class _Client(httpx.AsyncClient):
    """httpx's client, its `send` less the per-request work that a provider's API never needs.

    A plain `send` (no streaming, the client's own auth and redirect settings) goes straight to the
    connection pool (or the proxy the environment names): the auth flow's generators, the redirect
    loop, the response wrapper that times it and the per-request log line cost about a fifth of the
    client's time per message (bench/send.py). What the answer looks like is the same: read, `request`,
    `elapsed`, cookies kept, the same exceptions; HTTP Basic auth is applied as `httpx.BasicAuth`
    applies it. Anything else (another auth, event hooks, redirects followed) takes httpx's own path, and
    so does everything if httpx no longer has the two internals this path uses (pyproject pins httpx
    below 0.29, where they are).
    """

    _basic: tuple[httpx.Auth, str] | None = None
    _urls: dict[str, httpx.URL] | None = None

    def build_request(self, method: str, url: httpx.URL | str, **kwargs: Any) -> httpx.Request:
        """httpx's, the URL parsed once: a provider posts every message to the same one or two (parsing
        one costs half of what the rest of building the request does). `httpx.URL` is immutable."""
        if isinstance(url, str):
            urls = self._urls = self._urls if self._urls is not None else {}
            parsed = urls.get(url)
            if parsed is None:
                if len(urls) >= 64:
                    urls.clear()
                parsed = urls[url] = httpx.URL(url)
            url = parsed
        return super().build_request(method, url, **kwargs)

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = httpx.USE_CLIENT_DEFAULT,
        follow_redirects: Any = httpx.USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        plain = (
            not stream
            and auth is httpx.USE_CLIENT_DEFAULT
            and (follow_redirects is httpx.USE_CLIENT_DEFAULT or follow_redirects is False)
            and not self.follow_redirects
            and not self.is_closed
            and not (self.event_hooks["request"] or self.event_hooks["response"])
            and _FAST_PATH
            and not (request.url.username or request.url.password)  # httpx's send makes them Basic auth
        )
        client_auth = self.auth
        if plain and client_auth is not None:
            plain = type(client_auth) is httpx.BasicAuth
        if not plain:
            return await super().send(request, stream=stream, auth=auth, follow_redirects=follow_redirects)
        if client_auth is not None:
            request.headers["Authorization"] = self._basic_header(client_auth)
        if "timeout" not in request.extensions:
            request.extensions = {**request.extensions, "timeout": self.timeout.as_dict()}
        started = time.perf_counter()
        try:
            response = await self._transport_for_url(request.url).handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request
            raise
        response.request = request
        response.default_encoding = getattr(self, "_default_encoding", "utf-8")
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        finally:
            response.elapsed = timedelta(seconds=time.perf_counter() - started)
        if "set-cookie" in response.headers:
            self.cookies.extract_cookies(response)
        return response

    def _basic_header(self, auth: httpx.Auth) -> str:
        if self._basic is None or self._basic[0] is not auth:
            probe = next(auth.sync_auth_flow(httpx.Request("GET", "http://localhost/")))
            self._basic = (auth, probe.headers["Authorization"])
        return self._basic[1]


class HttpConnection:
    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport

    async def send(self, message: Outgoing, ready: Ready) -> Outcome | None:
        transport = self.transport
        request = await transport.prepare(message)
        if not await ready():
            return None
        try:
            response = await transport.exchange(message, request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ProviderUnavailable(f"cannot reach {transport.name}: {type(exc).__name__}") from None
        except httpx.TimeoutException:
            return Outcome(
                message.id, "retry", error=f"{transport.name} did not answer in time", maybe_sent=True
            )
        except httpx.TransportError as exc:
            return Outcome(
                message.id, "retry", error=f"{transport.name}: {type(exc).__name__}", maybe_sent=True
            )
        if 300 <= response.status_code < 400:
            # Nothing follows a redirect with the credentials: a moved or mistyped URL is the
            # configuration's, the same for every message, so the campaign waits instead of failing them.
            raise ProviderUnavailable(
                f"{transport.name} answered HTTP {response.status_code}, a redirect: check its URL in the "
                "configuration (https://, the right host and path)"
            )
        return transport.judge(message, response)

    async def close(self) -> None:
        return None


class HttpTransport:
    """Posts one message per request over a small pool (more connections are slower here).

    A provider overrides `prepare` and `judge`, and `exchange` when a request may need to go twice
    (a refreshed credential)."""

    def __init__(self, channel: str, name: str, connections: int, headers: dict[str, str] | None = None,
                 auth: httpx.Auth | None = None) -> None:  # fmt: skip
        self.channel = channel
        self.name = name
        self.connections = max(1, connections)
        self.commit_overlaps = False
        # What is wrong with the provider's settings, said when a connection opens: the campaign waits with
        # it as its reason (nothing is burnt), and a fixed setting is read again at the next try.
        self.problem: str | None = None
        limits = httpx.Limits(max_connections=self.connections, max_keepalive_connections=self.connections)
        self.client: httpx.AsyncClient = _Client(headers=headers, auth=auth, limits=limits, timeout=TIMEOUT)
        # Per URL: what `build_request(json=…)` gives every request (the length aside), merged once.
        self._json_templates: dict[str, tuple[httpx.URL, list[tuple[bytes, bytes]], Any]] = {}

    async def prepare(self, message: Outgoing) -> httpx.Request:
        raise NotImplementedError

    def json_request(
        self, url: str, document: Any, extra: list[tuple[bytes, bytes]] | None = None
    ) -> httpx.Request:
        """What `client.build_request("POST", url, json=document, headers=extra)` makes, at half its cost
        (bench/send.py): the client's headers and the URL merged once per URL, the body encoded as httpx
        encodes it. With cookies the provider set, httpx's own way, which merges them in."""
        if self.client.cookies:
            given = [(name.decode(), value.decode()) for name, value in extra or []]
            return self.client.build_request("POST", url, json=document, headers=given)
        template = self._json_templates.get(url)
        if template is None:
            built = self.client.build_request("POST", url, json={})
            kept = [(name, value) for name, value in built.headers.raw if name.lower() != b"content-length"]
            template = self._json_templates[url] = (built.url, kept, built.extensions["timeout"])
        target, headers, timeout = template
        every: list[tuple[bytes, bytes]] = [*headers, *(extra or [])]
        return httpx.Request(
            "POST", target, headers=every, content=_dumps(document).encode(),
            extensions={"timeout": timeout},
        )  # fmt: skip

    async def exchange(self, message: Outgoing, request: httpx.Request) -> httpx.Response:
        return await self.client.send(request)

    def judge(self, message: Outgoing, response: httpx.Response) -> Outcome:
        raise NotImplementedError

    async def connect(self) -> HttpConnection:
        if self.problem is not None:
            raise ProviderUnavailable(self.problem)
        return HttpConnection(self)

    async def close(self) -> None:
        await self.client.aclose()


def provider_name(channel: str, url: str, provider: str = "") -> str:
    """How admins see the provider in reasons and waits: `the SMS gateway at 127.0.0.1`."""
    what = "SMS gateway" if channel == "sms" else "push service"
    host = httpx.URL(url).host
    return f"{provider} ({host})" if provider else f"the {what} at {host}"


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """The pause the provider asks for in `Retry-After` (seconds, or an HTTP date), None when it asks
    none or gives nonsense."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # `²` is a digit to Python, not a number to float()
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return seconds if 0 <= seconds <= RETRY_AFTER_MAX_SECONDS else None


def bounded(text: str, limit: int = REASON_MAX) -> str:
    """A provider's words as a reason: one line of at most `limit` characters (`campaigns stats` groups
    failures by it, and screens show it on one line)."""
    line = one_line(text).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def json_of(response: httpx.Response) -> Any:
    """The answer's JSON, or None when it has none (a proxy's HTML error page, an empty body)."""
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
        return None


class JsonTransport(HttpTransport):
    """Our generic JSON format (docs/wire-formats.md): a bearer token, one JSON object per message."""

    def __init__(self, channel: str, url: str, token: str, connections: int) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(channel, provider_name(channel, url), connections, headers)
        self.url = url

    def payload(self, message: Outgoing) -> dict[str, str]:
        if self.channel == "sms":
            return {
                "to": message.address,
                "from": message.sender,
                "body": message.body,
                "reference": message.reference,
            }
        return {"token": message.address, "title": message.subject or message.sender, "body": message.body,
                "reference": message.reference}  # fmt: skip

    async def prepare(self, message: Outgoing) -> httpx.Request:
        return self.json_request(self.url, self.payload(message))

    def judge(self, message: Outgoing, response: httpx.Response) -> Outcome:
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(message.id, "sent", provider_id=_provider_id(response))
        reason = f"HTTP {status} from {self.name}"
        if status == 429 or status >= 500:
            return Outcome(message.id, "retry", error=reason, retry_after=retry_after(response))
        if self.channel == "push" and status in (404, 410):
            return Outcome(
                message.id, "failed", error=f"{reason}: the app is no longer installed",
                dead_token=message.address, suppress=DEAD_TOKEN,
            )  # fmt: skip
        return Outcome(message.id, "failed", error=reason)


def _provider_id(response: httpx.Response) -> str | None:
    data = json_of(response)
    value = data.get("id") if isinstance(data, dict) else None
    return str(value) if value is not None else None
