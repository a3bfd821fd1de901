"""SMS and push over HTTP with one shared httpx client, in the JSON shapes of docs/wire-formats.md."""

from __future__ import annotations

import httpx

from senders.transports import ProviderUnavailable, Ready
from store.sending import Outcome, Outgoing

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class HttpConnection:
    def __init__(self, transport: HttpTransport) -> None:
        self.transport = transport

    async def send(self, message: Outgoing, ready: Ready) -> Outcome | None:
        transport = self.transport
        payload = transport.payload(message)
        if not await ready():
            return None
        try:
            response = await transport.client.post(transport.url, json=payload)
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
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(message.id, "sent", provider_id=_provider_id(response))
        reason = f"HTTP {status} from {transport.name}"
        if status == 429 or status >= 500:
            return Outcome(message.id, "retry", error=reason)
        if transport.channel == "push" and status in (404, 410):
            return Outcome(
                message.id,
                "failed",
                error=f"{reason}: the app is no longer installed",
                dead_token=message.address,
            )
        return Outcome(message.id, "failed", error=reason)

    async def close(self) -> None:
        return None


def _provider_id(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return str(value) if value is not None else None


class HttpTransport:
    """Posts one JSON message per request over a small pool (more connections are slower here)."""

    def __init__(self, channel: str, url: str, token: str, connections: int) -> None:
        self.channel = channel
        self.url = url
        self.name = f"the {'SMS gateway' if channel == 'sms' else 'push service'} at {httpx.URL(url).host}"
        self.connections = max(1, connections)
        self.commit_overlaps = False
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        limits = httpx.Limits(max_connections=self.connections, max_keepalive_connections=self.connections)
        self.client = httpx.AsyncClient(headers=headers, limits=limits, timeout=TIMEOUT)

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

    async def connect(self) -> HttpConnection:
        return HttpConnection(self)

    async def close(self) -> None:
        await self.client.aclose()
