"""The feedback endpoints (docs/feedback.md) as a plain ASGI app: opens, clicks, unsubscribes, SMS receipts,
Twilio's status callbacks, the app's push inbox.

A link whose signature does not verify answers 404 and records nothing. Every database call runs off
the event loop: opens, clicks and receipts through a group-committing `Batcher`, the rest in a thread.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from senders.feedback.batcher import Batcher, Busy
from senders.feedback.twilio import MalformedCallback, form_of, is_signed, status_of
from senders.links import verify, verify_click
from senders.wording import WORDINGS, Wording, wording_for
from store.clock import utcnow
from store.db import off_loop
from store.feedback import (
    Hit,
    ProviderStatus,
    ProviderStatusResult,
    Receipt,
    ReceiptResult,
    apply_provider_statuses,
    apply_receipts,
    record_hits,
)

log = logging.getLogger("campaigns.feedback")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
MAX_BODY = 64 * 1024
REPEAT_SECONDS = 5.0  # the same open or click again this soon is answered, not written again
REMEMBERED = 50_000  # hits remembered for that
RECEIPT_RETRY_SECONDS = 0.25
RECEIPT_PATIENCE_SECONDS = 10.0
# A callback naming a provider id we have not heard of at all may still be overtaking the send engine's
# journal by a moment; a little patience, then it is taken as another system's (the same account).
UNKNOWN_PATIENCE_SECONDS = 1.0
_NO_STORE = [(b"cache-control", b"no-store, private")]
# No page of ours may be framed by another site: a hidden frame over a decoy would turn a visitor's
# click into an unsubscribe they never meant.
_PAGE_HEADERS = [
    *_NO_STORE,
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]
_PAGE = (
    '<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8"><title>{title}</title>\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>\n'
    '<body style="font-family: sans-serif; margin: 3em">\n<p>{text}</p>\n{form}</body></html>\n'
)
# No action: the form posts to the page's own address, which is the signed link. The field makes the
# button's request the same as a mail program's RFC 8058 one-click POST.
_CONFIRM_FORM = (
    '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">\n'
    '<button type="submit" style="font-size: 1.1em; padding: 0.5em 1em">{label}</button></form>\n'
)


class Reply:
    def __init__(
        self, status: int, body: bytes = b"", kind: str = "text/plain; charset=utf-8",
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:  # fmt: skip
        self.status, self.body, self.kind, self.headers = status, body, kind, list(headers)

    @classmethod
    def json(cls, status: int, document: Any) -> Reply:
        return cls(status, json.dumps(document, ensure_ascii=False).encode(), "application/json")

    @classmethod
    def page(cls, status: int, title: str, text: str, language: str = "en", button: str = "") -> Reply:
        """A small HTML page; with `button`, a form that posts to the same address."""
        form = _CONFIRM_FORM.format(label=html.escape(button)) if button else ""
        page = _PAGE.format(
            title=html.escape(title), text=html.escape(text), language=html.escape(language), form=form
        )
        return cls(status, page.encode(), "text/html; charset=utf-8", _PAGE_HEADERS)


NOT_FOUND = Reply(404, b"not found\n")


class FeedbackApp:
    """The ASGI application; `close()` writes what is pending."""

    def __init__(
        self, secret: str, sms_token: str, wording: Wording = WORDINGS["en"], *, twilio_token: str = "",
        twilio_callback_url: str = "",
    ) -> None:  # fmt: skip
        """`twilio_token` (the account's auth token) checks Twilio's signatures over `twilio_callback_url`,
        the `StatusCallback` the transport gives; with no token every Twilio callback is refused."""
        self.secret = secret
        self.wording = wording
        self.sms_token = sms_token
        self.twilio_token = twilio_token
        self.twilio_callback_url = twilio_callback_url
        self.hits: Batcher[Hit, int] = Batcher("feedback-hits", record_hits)
        self.receipts: Batcher[Receipt, ReceiptResult] = Batcher("feedback-receipts", apply_receipts)
        self.statuses: Batcher[ProviderStatus, ProviderStatusResult] = Batcher(
            "feedback-statuses", apply_provider_statuses
        )
        self.recent: OrderedDict[tuple[int, str | None], float] = OrderedDict()

    def close(self) -> None:
        self.hits.close()
        self.receipts.close()
        self.statuses.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        if scope["type"] != "http":
            return
        try:
            reply = await self.route(scope, receive)
        except Busy:
            reply = Reply(503, b"busy, try again later\n", headers=[(b"retry-after", b"5")])
        except Exception as exc:  # one line in the log, never the request's data
            log.error("feedback %s %s failed: %s", scope["method"], _kind(scope["path"]), type(exc).__name__)
            reply = Reply(500, b"internal error\n")
        headers = [(b"content-type", reply.kind.encode()), (b"content-length", b"%d" % len(reply.body))]
        headers += reply.headers
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": reply.body})

    async def route(self, scope: Scope, receive: Receive) -> Reply:
        method, path = scope["method"], scope["path"]
        head, _, rest = path.lstrip("/").partition("/")
        if head == "o" and method in ("GET", "HEAD"):
            return await self.open(rest, record=method == "GET")  # HEAD: a link checker, not a reader
        if head == "c" and method in ("GET", "HEAD"):
            return await self.click(rest, record=method == "GET")
        # Mail scanners fetch every link of a mail: a GET (or HEAD) only asks, a POST unsubscribes.
        if head == "u" and method in ("GET", "HEAD"):
            return await self.confirmation(rest)
        if head == "u" and method == "POST":
            return await self.unsubscribe(rest, receive)
        if path == "/receipts/sms" and method == "POST":
            body = await _body(receive)
            if body is None:
                return Reply.json(413, {"error": f"a receipt is at most {MAX_BODY // 1024} KiB"})
            return await self.receipt(scope, body)
        if path == "/receipts/twilio" and method == "POST":
            body = await _body(receive)
            if body is None:
                return Reply.json(413, {"error": f"a status callback is at most {MAX_BODY // 1024} KiB"})
            return await self.twilio_status(scope, body)
        if head == "inbox":
            return await self.inbox(scope, method, rest)
        if path == "/" and method == "GET":
            return Reply(200, b"campaigns feedback server\n")
        return NOT_FOUND

    async def open(self, token: str, record: bool = True) -> Reply:
        message_id = verify(self.secret, token, "o")
        if message_id is None:
            return NOT_FOUND
        if record:
            await self.record(Hit(message_id, utcnow()))
        return Reply(200, PIXEL, "image/gif", _NO_STORE)

    async def click(self, token: str, record: bool = True) -> Reply:
        found = verify_click(self.secret, token)
        if found is None or not found[1].lower().startswith(("http://", "https://")):
            return NOT_FOUND
        message_id, url = found
        if record:
            await self.record(Hit(message_id, utcnow(), url))
        return Reply(307, b"", headers=[(b"location", url.encode()), *_NO_STORE])

    async def record(self, hit: Hit) -> None:
        """Writes the hit, unless the same one came a moment ago (a reload, a replay loop): the
        counts are of distinct recipients anyway, and raw events must not fill the disk."""
        key, now = (hit.message_id, hit.url), time.monotonic()
        if now - self.recent.get(key, -REPEAT_SECONDS) < REPEAT_SECONDS:
            return
        self.recent[key] = now
        self.recent.move_to_end(key)
        if len(self.recent) > REMEMBERED:
            self.recent.popitem(last=False)
        await self.hits.add(hit)

    async def confirmation(self, token: str) -> Reply:
        """The page that asks, naming who the mail came from; it changes nothing."""
        from store.consent import sender_of

        message_id = verify(self.secret, token, "u")
        found = None if message_id is None else await off_loop(sender_of, message_id)
        if found is None:
            return self.invalid_link()
        center, language = found
        words = wording_for(language, self.wording.language)  # the campaign's language, else the center's
        text = words.confirm.format(center=center)
        return Reply.page(200, words.confirm_title, text, words.language, button=words.confirm_button)

    async def unsubscribe(self, token: str, receive: Receive) -> Reply:
        """RFC 8058's one-click POST (body `List-Unsubscribe=One-Click`), or the page's button."""
        from store.consent import sender_of, unsubscribe

        message_id = verify(self.secret, token, "u")
        if message_id is None:
            return self.invalid_link()
        if await _body(receive) is None:  # too large for a click, or the client went away: nothing done
            return Reply(413, b"request too large\n")
        if not await off_loop(unsubscribe, message_id):
            return self.invalid_link()
        found = await off_loop(sender_of, message_id)
        words = wording_for(found[1], self.wording.language) if found else self.wording
        return Reply.page(200, words.unsubscribed_title, words.unsubscribed, words.language)

    def invalid_link(self) -> Reply:
        return Reply.page(404, self.wording.invalid_title, self.wording.invalid, self.wording.language)

    async def receipt(self, scope: Scope, body: bytes) -> Reply:
        if not self.sms_token or not hmac.compare_digest(_bearer(scope), self.sms_token.encode()):
            return Reply.json(401, {"error": "a valid bearer token is required"})
        try:
            document = json.loads(body)
            receipt = Receipt(str(document["reference"]), str(document["status"]), utcnow())
        except (ValueError, KeyError, TypeError):
            return Reply.json(400, {"error": 'expected {"reference": "...", "status": "delivered|failed"}'})
        if receipt.status not in ("delivered", "failed"):
            return Reply.json(400, {"error": "status must be delivered or failed"})
        waited = 0.0
        while True:
            result = await self.receipts.add(receipt)
            if receipt.reference in result.unknown:
                log.info("a delivery receipt for an unknown reference was ignored")
                return Reply.json(200, {"recorded": False})
            if receipt not in result.early:  # applied, or about a message it cannot change (cancelled…)
                return Reply.json(200, {"recorded": receipt.reference in result.applied})
            if waited >= RECEIPT_PATIENCE_SECONDS:  # the gateway will try again later
                return Reply.json(503, {"error": "the message's answer is not on record yet"})
            await asyncio.sleep(RECEIPT_RETRY_SECONDS)
            waited += RECEIPT_RETRY_SECONDS

    async def twilio_status(self, scope: Scope, body: bytes) -> Reply:
        """A Twilio status callback: signed, or refused with nothing recorded."""
        fields = form_of(body)
        signature = _header(scope, b"x-twilio-signature")
        if fields is None or not is_signed(self.twilio_token, self.twilio_callback_url, fields, signature):
            log.info("a Twilio status callback without a valid signature was refused")
            return Reply.json(403, {"error": "a valid X-Twilio-Signature is required"})
        try:
            status = status_of(fields, utcnow())
        except MalformedCallback as exc:
            return Reply.json(400, {"error": str(exc)})
        if status is None:  # on its way (queued, sent…): nothing of ours changes
            return Reply.json(200, {"recorded": False})
        waited = 0.0
        while True:
            result = await self.statuses.add(status)
            if status.provider_id in result.unknown and waited >= UNKNOWN_PATIENCE_SECONDS:
                log.info("a Twilio status callback for an unknown message was ignored")
                return Reply.json(200, {"recorded": False})
            if status.provider_id not in result.unknown and status not in result.early:
                return Reply.json(200, {"recorded": status.provider_id in result.applied})
            if waited >= RECEIPT_PATIENCE_SECONDS:  # Twilio will try again later
                return Reply.json(503, {"error": "the message's answer is not on record yet"})
            await asyncio.sleep(RECEIPT_RETRY_SECONDS)
            waited += RECEIPT_RETRY_SECONDS

    async def inbox(self, scope: Scope, method: str, rest: str) -> Reply:
        from store.inbox import inbox_of, mark_read, owner_of

        contact_id = await off_loop(owner_of, _bearer(scope).decode("latin-1"))
        if contact_id is None:
            return Reply.json(401, {"error": "the app's bearer token is required"})
        if rest == "" and method == "GET":
            messages = await off_loop(inbox_of, contact_id)
            unread = sum(1 for m in messages if not m["read"])
            return Reply.json(200, {"messages": messages, "unread": unread})
        message, _, action = rest.partition("/")
        read = method == "POST" and action == "read" and message.isdigit()
        if read and await off_loop(mark_read, contact_id, int(message)):
            return Reply.json(200, {"id": int(message), "read": True})
        return Reply.json(404, {"error": "no such message in this inbox"})


def _bearer(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            token: bytes = value[7:].strip()
            return token
    return b""


def _header(scope: Scope, wanted: bytes) -> bytes:
    for name, value in scope["headers"]:
        if name == wanted:
            found: bytes = value.strip()
            return found
    return b""


def _kind(path: str) -> str:
    """The route of a path, without its token: safe for the log."""
    return "/" + path.lstrip("/").partition("/")[0]


async def _body(receive: Receive) -> bytes | None:
    """The request's body; None when it is larger than any feedback request needs, or never came whole
    (the client went away, or was cut off for being too slow)."""
    chunks, size = [], 0
    while True:
        event = await receive()
        if event["type"] != "http.request":
            return None
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not event.get("more_body"):
            return b"".join(chunks)
