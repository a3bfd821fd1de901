"""What spam filters would see in a campaign's email, before 20,000 patients get it (`campaigns
check-email`, the Send Now dialog's line).

The message is made by the code that sends it (`senders.mailing.email_builder`: the same headers,
footer, links, open pixel and DKIM signature) for one of the campaign's own recipients, then read back
as a receiver reads it. Where SpamAssassin is installed, it scores the message too (`spamassassin -L -t`,
its network-free rules) and its verdict is the one reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import html
import ipaddress
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from senders.mailing import email_builder, mailing_of
from senders.mime import UnsendableMessage, envelope_address
from store.config import Config

PROBLEM, WARNING, OK = "problem", "warning", "ok"
# Gmail clips a message whose HTML passes about 102 KB: the footer, its unsubscribe link with it, hides
# behind "[Message clipped]".
CLIP_BYTES = 102_000
REQUIRED_HEADERS = (
    "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Unsubscribe",
    "List-Unsubscribe-Post", "List-Id", "Feedback-ID",
)  # fmt: skip
# SpamAssassin 4.0's HTML_IMAGE_ONLY_NN: an HTML part with an image and at most NN00 bytes of HTML,
# and the points its network-free score set gives (50_scores.cf, set 0). Used when it is not installed.
IMAGE_ONLY_POINTS = (
    (400, "HTML_IMAGE_ONLY_04", 1.68), (800, "HTML_IMAGE_ONLY_08", 0.585),
    (1200, "HTML_IMAGE_ONLY_12", 1.381), (1600, "HTML_IMAGE_ONLY_16", 1.969),
    (2000, "HTML_IMAGE_ONLY_20", 2.109), (2400, "HTML_IMAGE_ONLY_24", 2.799),
    (2800, "HTML_IMAGE_ONLY_28", 2.799), (3200, "HTML_IMAGE_ONLY_32", 2.196),
)  # fmt: skip
SHORTENERS = frozenset(("bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly"))
SPAMASSASSIN_TIMEOUT = 30.0  # a 100 KB email takes about 6 s
SPAMASSASSIN_ARGS = ("-L", "-t")  # its network-free rules; the report appended to the message
NOT_INSTALLED = "is not installed"
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_URL = re.compile(r"https?://\S+")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$")


@dataclass(frozen=True)
class Finding:
    check: str  # headers, size, parts, links, open-tracking, dkim, return-path, spamassassin
    level: str  # problem (fix it before sending), warning (costs points or trust), ok
    text: str  # one line for the admin
    points: float | None = None  # what SpamAssassin adds for it, where known

    def as_document(self) -> dict[str, Any]:
        return {"check": self.check, "level": self.level, "text": self.text, "points": self.points}


@dataclass(frozen=True)
class SpamRule:
    name: str
    points: float
    description: str


@dataclass(frozen=True)
class SpamReport:
    """SpamAssassin's verdict on one message: its score and the rules that gave points."""

    score: float
    rules: tuple[SpamRule, ...]
    version: str = ""

    def said(self) -> str:
        scoring = [r for r in self.rules if r.points]
        rules = ", ".join(f"{r.name} {r.points:+g}" for r in scoring) or "no rule scores"
        return f"{self.score:g} points ({rules})"


@dataclass(frozen=True)
class SpamRun:
    """What running SpamAssassin gave: its report, or why there is none (`NOT_INSTALLED`, a timeout, a
    failure)."""

    report: SpamReport | None
    problem: str = ""


@dataclass(frozen=True)
class EmailCheck:
    campaign_id: int
    variant: str
    recipient: str  # whose copy was checked
    size: int  # bytes on the wire
    findings: tuple[Finding, ...]
    spamassassin: SpamReport | None = None  # None: not asked, or no report (`spamassassin_problem`)
    spamassassin_problem: str = ""  # why there is no report: NOT_INSTALLED, a timeout, a failure

    @property
    def problems(self) -> int:
        return sum(f.level == PROBLEM for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.level == WARNING for f in self.findings)

    def line(self) -> str:
        """One line for the Send Now dialog: the verdict and the worst finding."""
        score = f"spam score {self.spamassassin.score:g}, " if self.spamassassin else ""
        worst = next((f for f in self.findings if f.level == PROBLEM), None) or next(
            (f for f in self.findings if f.level == WARNING), None
        )
        score = ("variant B: " if self.variant == "b" else "") + score
        if worst is None:
            return f"Email check: {score}no findings"
        counts = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in
                  ((self.problems, PROBLEM), (self.warnings, WARNING)) if n]  # fmt: skip
        return f"Email check: {score}{', '.join(counts)}; {worst.text}"

    def as_document(self) -> dict[str, Any]:
        report = self.spamassassin
        return {
            "id": self.campaign_id,
            "variant": self.variant,
            "recipient": self.recipient,
            "size": self.size,
            "problems": self.problems,
            "warnings": self.warnings,
            "findings": [f.as_document() for f in self.findings],
            "spamassassin": None
            if report is None
            else {
                "score": report.score,
                "version": report.version,
                "rules": [
                    {"name": r.name, "points": r.points, "description": r.description} for r in report.rules
                ],
            },
        }


def render_for_check(config: Config, campaign_id: int, secret: str, variant: str = "a") -> tuple[bytes, str]:
    """The campaign's email for its first recipient (a sample one when it has none yet), built exactly
    as the engine builds it; and whose copy it is. Store work: run it off the event loop."""
    from store.campaigns import get_campaign
    from store.db import connection
    from store.errors import BadInput, InvalidState, TemplateError
    from store.recipients import first_recipients
    from store.templates import SAMPLE_PERSON, Personaliser

    with connection():
        campaign = get_campaign(campaign_id)
        if campaign.channel != "email":
            raise BadInput(f"campaign {campaign_id} is {campaign.channel.upper()}: check-email is for email")
        body, subject = campaign.body, campaign.subject
        if variant == "b":
            if campaign.variant_body is None:
                raise InvalidState(f"campaign {campaign_id} has no variant B")
            body = campaign.variant_body
            subject = campaign.variant_subject if campaign.variant_subject is not None else subject
        recipients = first_recipients(campaign_id)
        mailing = mailing_of(campaign)
    personalise = Personaliser(body, subject, campaign.coupon, "email", config.limits)
    builder = email_builder(config, mailing, secret)
    # The first recipient whose copy can be made (one odd address fails alone when sending, here too),
    # else a sample person at the From address.
    problem = ""
    for message_id, address, first_name, last_name in [
        *recipients, (1, config.email.from_address, *SAMPLE_PERSON)
    ]:  # fmt: skip
        try:
            text, subject_text = personalise(first_name, last_name)
            to, utf8 = envelope_address(address)
            raw = builder.build(
                to=address if utf8 else to, subject=subject_text or campaign.sender, body=text,
                message_id=message_id, utf8=utf8,
            )  # fmt: skip
        except (TemplateError, UnsendableMessage) as exc:
            problem = problem or f"the email cannot be made for {address}: {exc}"
            continue
        return raw, address
    raise BadInput(problem)


def check_email(
    config: Config, campaign_id: int, secret: str, variant: str = "a", spamassassin: bool = True
) -> EmailCheck:
    """The findings for the campaign's email (store work and, with `spamassassin`, a process of about
    a second: off the event loop)."""
    raw, recipient = render_for_check(config, campaign_id, secret, variant)
    run = run_spamassassin(raw) if spamassassin else SpamRun(None)
    findings = findings_of(raw, config, run)
    return EmailCheck(campaign_id, variant, recipient, len(raw), tuple(findings), run.report, run.problem)


async def check_before_sending(config: Config, campaign_id: int, secret: str) -> EmailCheck:
    """Send Now's check: A's email and, in an A/B test, B's too; the worse of the two. SpamAssassin runs
    as a process the loop waits for (`run_spamassassin_async`): cancel this and it is killed."""
    from store.campaign_view import read_campaign
    from store.db import off_loop

    campaign = await off_loop(read_campaign, campaign_id)
    checks = []
    for variant in ("a", "b") if campaign.variant_body is not None else ("a",):
        raw, recipient = await off_loop(render_for_check, config, campaign_id, secret, variant)
        run = await run_spamassassin_async(raw)
        findings = await asyncio.to_thread(findings_of, raw, config, run)
        checks.append(
            EmailCheck(campaign_id, variant, recipient, len(raw), tuple(findings), run.report, run.problem)
        )
    return max(checks, key=lambda c: (c.problems, c.warnings, c.spamassassin.score if c.spamassassin else 0))


def findings_of(raw: bytes, config: Config, run: SpamRun | None = None) -> list[Finding]:
    """What a receiver would hold against this message, the problems first."""
    report = run.report if run is not None else None
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    plain, page = "", ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            plain = part.get_content()
        elif part.get_content_type() == "text/html":
            page = part.get_content()
    visible = _SPACE.sub(" ", html.unescape(_TAG.sub(" ", page))).strip()
    found = [
        _headers(message),
        _size(raw, page),
        _parts(plain, visible),
        *_links(page, config),
        _open_tracking(page, report),
        _dkim(raw, config),
        _return_path(config),
    ]
    if run is not None and run.problem and run.problem != NOT_INSTALLED:
        found.append(Finding("spamassassin", WARNING, f"SpamAssassin {run.problem}: no score"))
    if report is not None:
        level = OK if report.score <= 1.0 else WARNING if report.score < 5.0 else PROBLEM
        version = f"SpamAssassin {report.version}".strip()
        found.append(
            Finding("spamassassin", level, f"{version} (local rules): {report.said()}", report.score)
        )
    order = {PROBLEM: 0, WARNING: 1, OK: 2}
    return sorted((f for f in found if f is not None), key=lambda f: order[f.level])


def _headers(message: Any) -> Finding:
    missing = [name for name in REQUIRED_HEADERS if message[name] is None]
    if missing:
        return Finding("headers", PROBLEM, f"missing headers: {', '.join(missing)}")
    return Finding(
        "headers", OK, "From, Subject, List-Id, Feedback-ID and one-click List-Unsubscribe present"
    )


def _size(raw: bytes, page: str) -> Finding:
    size = len(page.encode("utf-8"))
    if size > CLIP_BYTES:
        return Finding(
            "size", PROBLEM,
            f"the HTML is {size:,} bytes: Gmail clips it past ~102 KB, hiding the unsubscribe link",
        )  # fmt: skip
    return Finding("size", OK, f"{len(raw):,} bytes in all, {size:,} of HTML")


def _parts(plain: str, visible: str) -> Finding:
    """The plain and HTML parts say the same: filters compare them (MPART_ALT_DIFF)."""
    words = set(re.findall(r"\w{3,}", _URL.sub(" ", plain).lower()))  # links: shown or tracked in HTML
    shown = set(re.findall(r"\w{3,}", visible.lower()))
    missing = words - shown
    if len(missing) > max(3, len(words) // 10):
        return Finding("parts", WARNING, "the plain-text and HTML parts differ in their words")
    return Finding("parts", OK, f"plain text and HTML say the same ({len(visible):,} characters of text)")


def _links(page: str, config: Config) -> list[Finding]:
    found = []
    tracker = urlsplit(config.feedback.public_url)
    host = (tracker.hostname or "").lower()
    if _is_local_or_numeric(host):
        found.append(Finding(
            "links", PROBLEM,
            f"links and the unsubscribe go to {host or 'nowhere'}: recipients cannot reach it and filters "
            "flag numeric links; set [feedback] public_url to the center's https address",
        ))  # fmt: skip
    elif tracker.scheme != "https":
        found.append(
            Finding("links", WARNING, f"links go to {host} over http: use https in [feedback] public_url")
        )
    elif not aligned(host, config.email.from_domain):
        found.append(Finding(
            "links", WARNING,
            f"links go to {host}, not the From domain {config.email.from_domain}: a tracking domain of "
            "the center's own (track.<domain>) reads as the same sender",
        ))  # fmt: skip
    shown = [html.unescape(m) for m in re.findall(r">(https?://[^<]+)</a>", page)]
    short = sorted({urlsplit(url).hostname or "" for url in shown} & SHORTENERS)
    if short:
        found.append(
            Finding(
                "links",
                WARNING,
                f"link shorteners ({', '.join(short)}) are a spam sign: give the full address",
            )
        )
    plain_http = [url for url in shown if url.startswith("http://")]
    if plain_http:
        found.append(Finding("links", WARNING, f"{len(plain_http)} of the body's links use http, not https"))
    if not found:
        if not shown:
            found.append(Finding("links", OK, f"no links in the body; the unsubscribe link goes to {host}"))
        else:
            said = "1 link" if len(shown) == 1 else f"{len(shown)} links"
            found.append(
                Finding("links", OK, f"{said} as the author wrote them, clicks counted through {host}")
            )
    return found


def _open_tracking(page: str, report: SpamReport | None) -> Finding | None:
    """SpamAssassin's HTML_IMAGE_ONLY_NN counts the HTML's own length (its source, tags included): any
    image in an HTML part of at most 3,200 bytes scores, the open-tracking pixel too."""
    if "<img" not in page:
        return Finding("open-tracking", OK, "no open-tracking image (opens are not counted)")
    if report is not None:
        rule = next((r for r in report.rules if r.name.startswith("HTML_IMAGE_ONLY")), None)
    else:
        length = len(page.encode("utf-8"))
        hit = next(((name, points) for limit, name, points in IMAGE_ONLY_POINTS if length <= limit), None)
        rule = SpamRule(hit[0], hit[1], "") if hit else None
    if rule is None or rule.points <= 0:
        return Finding("open-tracking", OK, "the open-tracking image costs no points in an email this long")
    return Finding(
        "open-tracking", WARNING,
        f"the open-tracking image in an email this short: SpamAssassin adds {rule.points:g} ({rule.name}); "
        "--no-open-tracking removes it (clicks are still counted)",
        rule.points,
    )  # fmt: skip


def _dkim(raw: bytes, config: Config) -> Finding:
    from_domain, email_config = config.email.from_domain, config.email
    if not raw.startswith(b"DKIM-Signature:"):
        return Finding(
            "dkim", WARNING,
            "not DKIM-signed: Gmail and Yahoo ask bulk senders for it (campaigns dkim keygen --selector S)",
        )  # fmt: skip
    import dkim

    from senders.dkim_signing import record_name, record_value
    from store.config import dkim_private_key

    domain, selector = email_config.dkim_signing_domain, email_config.dkim_selector
    record = record_value(dkim_private_key(email_config)).encode("ascii")
    name = record_name(selector, domain)

    def dns(query: bytes, timeout: float = 5) -> bytes:
        return record if query.decode("ascii").rstrip(".").lower() == name.lower() else b""

    if not dkim.verify(raw, dnsfunc=dns):
        return Finding(
            "dkim", PROBLEM, f"the DKIM signature does not verify with the key's own record ({name})"
        )
    if not aligned(domain, from_domain):
        return Finding(
            "dkim", WARNING,
            f"signed by {domain}, not the From domain {from_domain}: DMARC needs them aligned",
        )  # fmt: skip
    return Finding(
        "dkim", OK,
        f"signed by {domain} (selector {selector}) and verifies with the key's record; "
        "campaigns dkim check compares the published one",
    )  # fmt: skip


def _return_path(config: Config) -> Finding | None:
    envelope = config.email.envelope_sender.rpartition("@")[2].lower()
    if aligned(envelope, config.email.from_domain):
        return None
    return Finding(
        "return-path", WARNING,
        f"bounces go to {envelope}, not the From domain {config.email.from_domain}: SPF then does not "
        "count for DMARC ([email] return_path)",
    )  # fmt: skip


def aligned(domain: str, from_domain: str) -> bool:
    """DMARC's relaxed alignment, near enough: the same domain, or one of them under the other."""
    a, b = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def _is_local_or_numeric(host: str) -> bool:
    if not host or host == "localhost" or host.endswith(".localhost") or "." not in host:
        return True
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def spamassassin_path() -> str | None:
    return shutil.which("spamassassin")


def run_spamassassin(raw: bytes, timeout: float | None = None) -> SpamRun:
    """SpamAssassin's report on the message with its network-free rules (`-L -t`), or why there is none.
    A run past `timeout` is killed, with whatever it started (its own process group)."""
    path, timeout = spamassassin_path(), timeout or SPAMASSASSIN_TIMEOUT
    if path is None:
        return SpamRun(None, NOT_INSTALLED)
    try:
        process = subprocess.Popen(
            [path, *SPAMASSASSIN_ARGS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        return SpamRun(None, f"could not be started ({exc.strerror or exc})")
    with process:
        try:
            out, err = process.communicate(raw, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.communicate()
            return SpamRun(None, f"gave no answer in {timeout:g} s")
    return spam_run_of(process.returncode, out, err)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def run_spamassassin_async(raw: bytes, timeout: float | None = None) -> SpamRun:
    """As `run_spamassassin`, a process the event loop waits for: cancelled (a dialog closed, the app
    quit), the process is killed at once, no thread left waiting for it."""
    path, timeout = spamassassin_path(), timeout or SPAMASSASSIN_TIMEOUT
    if path is None:
        return SpamRun(None, NOT_INSTALLED)
    try:
        process = await asyncio.create_subprocess_exec(
            path, *SPAMASSASSIN_ARGS, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        return SpamRun(None, f"could not be started ({exc.strerror or exc})")
    try:
        out, err = await asyncio.wait_for(process.communicate(raw), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        _kill_group(process.pid)
        if isinstance(exc, asyncio.CancelledError):
            raise
        await process.wait()
        return SpamRun(None, f"gave no answer in {timeout:g} s")
    return spam_run_of(process.returncode or 0, out, err)


def spam_run_of(status: int, out: bytes, err: bytes) -> SpamRun:
    report = parse_report(out.decode("utf-8", "replace"))
    if report is not None:
        return SpamRun(report, "")
    line = next((text.strip() for text in err.decode("utf-8", "replace").splitlines() if text.strip()), "")
    return SpamRun(None, f"failed (exit {status}{': ' + line[:120] if line else ''})")


def parse_report(output: str) -> SpamReport | None:
    """The score and rules of `spamassassin -t`'s report (the part after "Content analysis details")."""
    # The last one: the report follows the message, whose own text may hold the same words.
    heads = list(re.finditer(r"Content analysis details:\s+\((-?[\d.]+) points", output))
    if not heads:
        return None
    head = heads[-1]
    version = re.search(r"X-Spam-Checker-Version: SpamAssassin ([\d.]+)", output)
    rules: list[SpamRule] = []
    table = output[head.end() :].split("\n---- ", 1)[-1].split("\n", 1)[-1]
    for line in table.splitlines():
        match = _RULE.match(line)
        if match:
            rules.append(SpamRule(match.group(2), float(match.group(1)), match.group(3).strip()))
        elif line.startswith(" " * 20) and rules:  # a description that went on to the next line
            last = rules[-1]
            rules[-1] = SpamRule(last.name, last.points, f"{last.description} {line.strip()}")
        elif not line.strip():
            break
    score = float(head.group(1)) + 0.0  # SpamAssassin prints "-0.0" for rules of -0.001: zero
    return SpamReport(score if score else 0.0, tuple(rules), version.group(1) if version else "")
