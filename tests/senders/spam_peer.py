"""Real receivers' judges for the suite: SpamAssassin 4 (Debian's package, as `.ci/run` installs it) and
a DNS server on 127.0.0.1 that publishes a DKIM record, so that SpamAssassin's own DKIM verifier (Perl's
Mail::DKIM, not the dkimpy we sign with) checks our signatures as a receiving server would.

The reports are parsed here on their own, not with `senders.email_check`, which is under test."""

from __future__ import annotations

import mailbox
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

REQUIRED = os.environ.get("CAMPAIGNS_REQUIRE_SPAMASSASSIN") == "1"  # .ci/run: missing is a failure


def spamassassin_or_skip() -> str:
    path = shutil.which("spamassassin")
    if path is None:
        if REQUIRED:
            pytest.fail("spamassassin is not installed, and CI requires it (apt install spamassassin)")
        pytest.skip("spamassassin is not installed (apt install spamassassin; .ci/run installs it)")
    return path


@dataclass(frozen=True)
class Verdict:
    score: float
    rules: dict[str, float]  # every rule that hit, with its points

    def scoring(self) -> dict[str, float]:
        return {name: points for name, points in self.rules.items() if points > 0}


class DnsServer:
    """Answers TXT questions for the names it publishes; NXDOMAIN for anything else (blocklists too)."""

    def __init__(self, records: dict[str, str]) -> None:
        self.records = {name.lower().rstrip("."): value for name, value in records.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.questions: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> DnsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:  # closed
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:
                continue
            answer = dns.message.make_response(query)
            answer.flags |= dns.flags.AA
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            self.questions.append(name)
            if question.rdtype == dns.rdatatype.TXT and name in self.records:
                strings = " ".join(f'"{part}"' for part in _chunks(self.records[name]))
                answer.answer.append(dns.rrset.from_text(question.name, 60, "IN", "TXT", strings))
            else:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(answer.to_wire(), peer)


def _chunks(value: str, size: int = 255) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)]


def score(messages: list[bytes], dns_port: int | None = None) -> list[Verdict]:
    """SpamAssassin's verdict on each message, in order: `spamassassin -L -t` (its network-free rules,
    as a receiver without network tests), or with `dns_port` its network rules too against that DNS
    server only (blocklists answer nothing; DKIM records are looked up there). One process for all."""
    path = spamassassin_or_skip()
    with tempfile.TemporaryDirectory() as folder:
        box_path = Path(folder) / "in.mbox"
        box = mailbox.mbox(box_path)
        for n, raw in enumerate(messages):
            marked = b"X-Suite-Index: %d\r\n" % n + raw  # finds each verdict's message again
            box.add(mailbox.mboxMessage(marked.replace(b"\r\n", b"\n")))
        box.flush()
        box.close()
        command = [path, "-t", "--mbox"]
        if dns_port is None:
            command.insert(1, "-L")
        else:
            command += ["--cf", f"dns_server 127.0.0.1:{dns_port}", "--cf", "dns_available yes",
                        "--cf", "skip_rbl_checks 1"]  # fmt: skip
        with box_path.open("rb") as given:
            done = subprocess.run(command, stdin=given, capture_output=True, timeout=300, check=True)
    output = done.stdout.decode("utf-8", "replace")
    found: dict[int, Verdict] = {}
    for chunk in re.split(r"^From MAILER-DAEMON .*$", output, flags=re.MULTILINE):
        index = re.search(r"^X-Suite-Index: (\d+)$", chunk, re.MULTILINE)
        heads = list(re.finditer(r"Content analysis details:\s+\((-?[\d.]+) points", chunk))
        if index is None or not heads:
            continue
        rules: dict[str, float] = {}
        for line in chunk[heads[-1].end() :].splitlines():
            match = re.match(r"^\s*(-?\d+\.\d)\s+([A-Z][A-Z0-9_]+)\s", line)
            if match:
                rules[match.group(2)] = float(match.group(1))
        found[int(index.group(1))] = Verdict(float(heads[-1].group(1)), rules)
    assert sorted(found) == list(range(len(messages))), output[-2000:]
    return [found[n] for n in range(len(messages))]
