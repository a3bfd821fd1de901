"""SMS through Twilio's Programmable Messaging API, or a gateway that copies it (docs/providers.md).

One form-encoded `POST …/Accounts/{sid}/Messages.json` per message, HTTP Basic auth, and our feedback
server's `/receipts/twilio` as `StatusCallback`. Twilio's error codes are read here, in one table that
the status callbacks (senders/feedback/twilio.py) read too: which codes put the number on the
suppression list, and how a reason names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from senders.transports import ProviderUnavailable
from senders.transports.http import HttpTransport, bounded, json_of, provider_name, retry_after
from senders.transports.urls import safe_url
from store.config import Config
from store.sending import Outcome, Outgoing
from store.suppressions import INVALID_NUMBER, LANDLINE, UNSUBSCRIBED_AT_PROVIDER

API_VERSION = "2010-04-01"
CALLBACK_PATH = "/receipts/twilio"


@dataclass(frozen=True)
class Code:
    """What one of Twilio's error codes means to us."""

    description: str
    suppress: str | None = None  # the number can never be reached: it goes on the suppression list


# Twilio's error codes (https://www.twilio.com/docs/api/errors): those of the create request and those of
# the status callbacks. 30004 (message blocked) is not a suppression: Twilio lists among its causes a
# device out of reach and carrier filtering of the content, which say nothing lasting about the number.
CODES: dict[int, Code] = {
    20429: Code("too many requests"),
    21211: Code("invalid 'To' phone number", INVALID_NUMBER),
    21408: Code("sending to this region is not enabled"),
    21610: Code("the recipient unsubscribed (replied STOP)", UNSUBSCRIBED_AT_PROVIDER),
    21611: Code("the sender's queue is full"),
    21612: Code("this sender cannot reach the number"),
    21614: Code("'To' is not a mobile number", LANDLINE),
    30001: Code("queue overflow"),
    30002: Code("account suspended"),
    30003: Code("unreachable destination handset"),
    30004: Code("message blocked"),
    30005: Code("unknown destination handset", INVALID_NUMBER),
    30006: Code("landline or unreachable carrier", LANDLINE),
    30007: Code("message filtered"),
    30008: Code("unknown error"),
}
# Codes of credentials or an account that cannot send at all: every message would fail the same way.
AUTH_CODES = {10001, 20003, 20005, 20006, 20008}


def callback_url(public_url: str) -> str:
    """The `StatusCallback` we give Twilio, which its signatures are computed over."""
    return public_url.rstrip("/") + CALLBACK_PATH


def reason_of(code: int | None, text: str = "") -> str:
    """`Twilio 30006: landline or unreachable carrier`: the provider's words, else our description."""
    if code is None:
        return "Twilio: " + text if text else "Twilio"
    words = text or (CODES[code].description if code in CODES else "")
    return f"Twilio {code}: {words}" if words else f"Twilio {code}"


def scrubbed(text: str, address: str) -> str:
    """The provider's text without the recipient's number (Twilio names it in its messages)."""
    digits = address.lstrip("+")
    if not digits:
        return text
    return re.sub(r"(?<!\d)\+?" + re.escape(digits) + r"(?!\d)", "the number", text)


class TwilioTransport(HttpTransport):
    """Posts each SMS to Twilio's Messages resource; see the module's docstring."""

    def __init__(self, config: Config) -> None:
        sms = config.sms
        self.sms = sms
        if sms.api_key_sid and sms.api_key_secret:
            user, password = sms.api_key_sid, sms.api_key_secret
            self.credentials = "[sms] api_key_sid and api_key_secret"
        else:
            user, password = sms.account_sid, sms.auth_token
            self.credentials = "[sms] account_sid and auth_token"
        super().__init__(
            "sms", provider_name("sms", sms.base_url, "Twilio"), sms.connections,
            headers={"Accept": "application/json"}, auth=httpx.BasicAuth(user, password),
        )  # fmt: skip
        if not (sms.account_sid and password):
            self.problem = f"{self.name}: set {self.credentials} in the configuration"
        elif not safe_url(sms.base_url):  # the auth token would travel unencrypted
            self.problem = (
                f"[sms] base_url must be https:// (plain http only to this machine): {self.credentials} "
                "would travel unencrypted"
            )
        self.url = f"{sms.base_url.rstrip('/')}/{API_VERSION}/Accounts/{sms.account_sid}/Messages.json"
        self.status_callback = callback_url(config.feedback.public_url)

    def form(self, message: Outgoing) -> dict[str, str]:
        service = self.sms.messaging_service_sid
        sender = {"MessagingServiceSid": service} if service else {"From": message.sender}
        return {"To": message.address, **sender, "Body": message.body, "StatusCallback": self.status_callback}

    async def prepare(self, message: Outgoing) -> httpx.Request:
        return self.client.build_request("POST", self.url, data=self.form(message))

    def judge(self, message: Outgoing, response: httpx.Response) -> Outcome:
        status = response.status_code
        data = json_of(response)
        document: dict[str, Any] = data if isinstance(data, dict) else {}
        if 200 <= status < 300:
            sid = document.get("sid")
            return Outcome(message.id, "sent", provider_id=str(sid) if sid else None)
        code = _code_of(document)
        text = scrubbed(str(document.get("message") or document.get("detail") or ""), message.address)
        if code is None and not text:  # not Twilio's JSON: a proxy's error page, an empty answer
            reason = f"HTTP {status} from {self.name}"
        else:
            reason = bounded(reason_of(code, text))
        if status == 429 or status >= 500:
            return Outcome(message.id, "retry", error=reason, retry_after=retry_after(response))
        if status == 401 or (status == 403 and code in AUTH_CODES):
            raise ProviderUnavailable(
                f"{self.name} refused the credentials ({reason}): check {self.credentials}"
            )
        if status == 404 and code not in CODES:
            raise ProviderUnavailable(
                f"{self.name} has no such account ({reason}): check [sms] base_url and account_sid"
            )
        known = CODES.get(code) if code is not None else None
        return Outcome(message.id, "failed", error=reason, suppress=known.suppress if known else None)


def _code_of(document: dict[str, Any]) -> int | None:
    value = document.get("code")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return code_of(value) if isinstance(value, str) else None


def code_of(text: str) -> int | None:
    """An error code written as text ("21211"); None for anything else (`²` is a digit to Python, not
    a number to int)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
