"""Push through Firebase Cloud Messaging HTTP v1 (docs/providers.md, docs/wire-formats.md).

One request per message to `messages:send` with a service account's access token
(senders.transports.google_oauth). FCM's answer is read as firebase-admin reads it: the `errorCode` of the
`FcmError` detail first, else the error's `status`. A token FCM refuses (401) is replaced and the
message tried once more; a second refusal means the service account itself is refused, and the
campaign waits rather than burn its messages.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from senders.transports import ProviderUnavailable
from senders.transports.google_oauth import AccessTokens, load_service_account
from senders.transports.http import HttpTransport, bounded, json_of, provider_name, retry_after
from senders.transports.urls import safe_url
from store.config import Config
from store.sending import Outcome, Outgoing
from store.suppressions import DEAD_TOKEN

FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
# Google project ids, project numbers, and the older domain-scoped ids (example.com:my-project).
_PROJECT_ID = re.compile(r"[a-z0-9][a-z0-9.:-]*", re.IGNORECASE)

# What FCM's codes mean, in the words an admin reads in a message's details and in `campaigns stats`.
MEANING = {
    "UNREGISTERED": "the app is no longer installed",
    "SENDER_ID_MISMATCH": "the device token belongs to another Firebase project",
    "QUOTA_EXCEEDED": "sending faster than the project's quota allows",
    "UNAVAILABLE": "the service is overloaded",
    "INTERNAL": "the service had an internal error",
    "THIRD_PARTY_AUTH_ERROR": "Apple (APNs) or web push refused the credentials set in the Firebase project",
    "APNS_AUTH_ERROR": "Apple (APNs) refused the credentials set in the Firebase project",
}
_THIRD_PARTY = ("THIRD_PARTY_AUTH_ERROR", "APNS_AUTH_ERROR")  # a 401 no new access token cures


class FcmTransport(HttpTransport):
    """FCM HTTP v1: `POST {base_url}/v1/projects/{project_id}/messages:send`, one message each."""

    def __init__(self, config: Config) -> None:
        push = config.push
        base_url = push.base_url.strip().rstrip("/")
        try:
            name = provider_name("push", base_url, "FCM")
        except httpx.InvalidURL:
            name = "FCM"
        super().__init__("push", name, push.connections)
        self.url = ""
        self.project_id = push.project_id.strip()
        self.tokens: AccessTokens | None = None
        try:
            account = load_service_account(push.service_account.strip())
        except ProviderUnavailable as exc:
            self.problem = str(exc)
            return
        self.project_id = self.project_id or account.project_id
        if not safe_url(base_url):
            self.problem = f"[push] base_url {base_url!r} must be an https:// URL"
        elif not _PROJECT_ID.fullmatch(self.project_id):
            self.problem = f"[push] project_id {self.project_id!r} is not a Firebase project id"
        else:
            self.url = f"{base_url}/v1/projects/{self.project_id}/messages:send"
            self.tokens = AccessTokens(account)

    def payload(self, message: Outgoing) -> dict[str, Any]:
        title = message.subject or message.sender
        return {
            "message": {
                "token": message.address,
                "notification": {"title": title, "body": message.body},
                "data": {"reference": message.reference},
            }
        }

    async def prepare(self, message: Outgoing) -> httpx.Request:
        return self._request(message, await self._tokens().token())

    async def exchange(self, message: Outgoing, request: httpx.Request) -> httpx.Response:
        response = await self.client.send(request)
        if not _refused_token(response):
            return response
        tokens = self._tokens()
        tokens.invalidate(request.headers["Authorization"].removeprefix("Bearer "))
        response = await self.client.send(self._request(message, await tokens.token()))
        if _refused_token(response):
            raise ProviderUnavailable(
                f"{self.name} refuses the service account {tokens.account.client_email} even with a new "
                f"access token: can it send messages for project {self.project_id}?"
            )
        return response

    def judge(self, message: Outgoing, response: httpx.Response) -> Outcome:
        status = response.status_code
        data = json_of(response)
        if 200 <= status < 300:
            name = data.get("name") if isinstance(data, dict) else None
            return Outcome(message.id, "sent", provider_id=name if isinstance(name, str) else None)
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            error = None
        code = _code_of(error) or f"HTTP {status}"
        reason = f"FCM {code}: {self._meaning(code, error, message)}"
        if code == "UNREGISTERED":  # only FCM's own word marks a token dead, as firebase-admin reads it
            return Outcome(message.id, "failed", error=f"FCM UNREGISTERED: {MEANING['UNREGISTERED']}",
                           dead_token=message.address, suppress=DEAD_TOKEN)  # fmt: skip
        if status == 404 or (status == 403 and code != "SENDER_ID_MISMATCH"):
            # Not one device's fault: a wrong base_url or project_id (a plain NOT_FOUND), a project the
            # service account may not send for. Every message would fail alike, so none is burnt and no
            # device token is marked dead.
            raise ProviderUnavailable(f"{self.name} refuses to send for project {self.project_id}: {reason}")
        if status == 429 or status >= 500 or code in ("QUOTA_EXCEEDED", "UNAVAILABLE", "INTERNAL"):
            return Outcome(message.id, "retry", error=reason, retry_after=retry_after(response))
        return Outcome(message.id, "failed", error=reason)

    def _meaning(self, code: str, error: dict[str, Any] | None, message: Outgoing) -> str:
        if code in MEANING:
            return MEANING[code]
        said = error.get("message") if error is not None else None
        if not isinstance(said, str) or not said.strip():
            return "refused the message"
        return bounded(said.replace(message.address, "<device token>"))

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            if self.tokens is not None:
                await self.tokens.aclose()

    def _request(self, message: Outgoing, access_token: str) -> httpx.Request:
        return self.json_request(
            self.url, self.payload(message), [(b"Authorization", f"Bearer {access_token}".encode())]
        )

    def _tokens(self) -> AccessTokens:
        if self.tokens is None:  # connect() refused already; a caller that skipped it learns why
            raise ProviderUnavailable(self.problem or f"{self.name} is not configured")
        return self.tokens


def _code_of(error: dict[str, Any] | None) -> str | None:
    """The FcmError detail's `errorCode`, else the error's `status`, as firebase-admin reads them."""
    if error is None:
        return None
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        if isinstance(detail, dict) and detail.get("@type") == FCM_ERROR:
            code = detail.get("errorCode")
            if isinstance(code, str) and code:
                return bounded(code, 40)
    status = error.get("status")
    return bounded(status, 40) if isinstance(status, str) and status else None


def _refused_token(response: httpx.Response) -> bool:
    """A 401 that a new access token may cure (not Apple's or web push's refusal of the project's keys)."""
    if response.status_code != 401:
        return False
    data = json_of(response)
    error = data.get("error") if isinstance(data, dict) else None
    return _code_of(error if isinstance(error, dict) else None) not in _THIRD_PARTY
