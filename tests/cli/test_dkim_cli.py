"""`campaigns dkim keygen` and `dkim check`, and a test send signed with the key keygen wrote, verified
against the record it printed (through dkimpy's DNS hook: no network)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import SimpleNamespace

import dkim
import dns.exception
import dns.resolver
import pytest

from tests.senders.peers import MailServer

FROM = "noreply@centromedico.example"


class RawMailServer(MailServer):
    def __init__(self) -> None:
        super().__init__()
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.raw.append(envelope.original_content or envelope.content)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def from_centre(monkeypatch):
    monkeypatch.setenv("CAMPAIGNS_EMAIL_FROM_ADDRESS", FROM)


def fake_dns(monkeypatch, answers: dict[str, list[str]] | Exception) -> list[str]:
    """dnspython's resolver, answering TXT look-ups from `answers` (long values split in 255-character
    strings, as DNS carries them), or failing with the exception given. Returns the names asked."""
    asked: list[str] = []

    class Resolver:
        def resolve(self, name: str, rdtype: str, lifetime: float = 0) -> list[SimpleNamespace]:
            asked.append(name)
            assert rdtype == "TXT" and 0 < lifetime <= 10
            if isinstance(answers, Exception):
                raise answers
            if name not in answers:
                raise dns.resolver.NXDOMAIN()
            return [
                SimpleNamespace(strings=tuple(v[i : i + 255].encode() for i in range(0, len(v), 255)))
                for v in answers[name]
            ]

    monkeypatch.setattr(dns.resolver, "Resolver", Resolver)
    return asked


def test_keygen_writes_an_owner_only_key_and_prints_the_record(campaigns, from_centre, tmp_path):
    old = os.umask(0o022)  # the usual umask of a shared server: the key must not follow it
    try:
        made = campaigns("dkim", "keygen", "--selector", "s2026", "--json")
    finally:
        os.umask(old)
    assert made.code == 0, made.err
    record = made.json
    assert list(record) == ["name", "type", "value", "key_file"]
    assert record["name"] == "s2026._domainkey.centromedico.example" and record["type"] == "TXT"
    assert record["value"].startswith("v=DKIM1; k=rsa; p=MIIBIjAN")  # 2048-bit SubjectPublicKeyInfo
    key = Path(record["key_file"])
    assert key.is_absolute() and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE" not in made.out + made.err  # printed: the public half only
    before = key.read_bytes()
    again = campaigns("dkim", "keygen", "--selector", "s2026")
    assert again.code == 2 and "exists already" in again.err and again.out == ""
    assert key.read_bytes() == before  # never overwritten
    text = campaigns("dkim", "keygen", "--selector", "ed", "--ed25519", "--out", str(tmp_path / "ed.pem"))
    assert text.code == 0
    assert "name:  ed._domainkey.centromedico.example" in text.out and "k=ed25519; p=" in text.out
    assert f'dkim_private_key = "{tmp_path / "ed.pem"}"' in text.out
    assert stat.S_IMODE((tmp_path / "ed.pem").stat().st_mode) == 0o600
    assert "PRIVATE" not in text.out
    assert campaigns("dkim", "keygen", "--selector", "a b").code == 2


def test_a_test_send_is_signed_with_the_key_keygen_wrote(campaigns, from_centre, monkeypatch):
    record = campaigns("dkim", "keygen", "--selector", "s1", "--json").json
    server = RawMailServer().start()
    try:
        for key, value in {
            "TRANSPORT": "smtp", "HOST": "127.0.0.1", "PORT": str(server.port),
            "DKIM_SELECTOR": "s1", "DKIM_PRIVATE_KEY": record["key_file"],
        }.items():  # fmt: skip
            monkeypatch.setenv(f"CAMPAIGNS_EMAIL_{key}", value)
        draft = campaigns(
            "create", "--channel", "email", "--name", "Cardio", "--sender", "Centro Medico",
            "--subject", "Visita", "--body", "Ciao {{ first_name }}: https://centromedico.example/p",
            "--json",
        ).json["id"]  # fmt: skip
        sent = campaigns("test", str(draft), "--to", "admin@example.org", "--json")
        assert sent.code == 0, sent.err
    finally:
        server.stop()
    (raw,) = server.raw
    published = {record["name"]: record["value"]}

    def txt(name: bytes, timeout: float = 5) -> bytes | None:
        value = published.get(name.decode().rstrip("."))
        return value.encode() if value else None

    assert dkim.verify(raw, dnsfunc=txt)
    assert not dkim.verify(raw.replace(b"Subject: [TEST] Visita", b"Subject: [TEST] Vista"), dnsfunc=txt)


def test_a_world_readable_key_stops_every_command_with_the_fix(campaigns, from_centre, monkeypatch):
    record = campaigns("dkim", "keygen", "--selector", "s1", "--json").json
    os.chmod(record["key_file"], 0o644)
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "s1")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", record["key_file"])
    listed = campaigns("list")
    assert listed.code == 2 and listed.out == ""
    assert listed.err.count("\n") == 1 and f"chmod 600 {record['key_file']}" in listed.err


def configured(campaigns, monkeypatch, selector: str = "s1") -> dict[str, str]:
    record = campaigns("dkim", "keygen", "--selector", selector, "--json").json
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", selector)
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", record["key_file"])
    return record


def test_check_says_whether_the_published_record_matches(campaigns, from_centre, monkeypatch):
    record = configured(campaigns, monkeypatch)
    other = campaigns("dkim", "keygen", "--selector", "old", "--json").json
    name = "s1._domainkey.centromedico.example"

    asked = fake_dns(monkeypatch, {name: ["google-site-verification=abc", record["value"]]})
    found = campaigns("dkim", "check", "--json")
    assert found.code == 0 and asked[0] == name
    assert found.json == {
        "name": name, "type": "TXT", "value": record["value"],
        "published": ["google-site-verification=abc", record["value"]], "matches": True,
        "spf": {"name": "centromedico.example", "published": []},
        "dmarc": {"name": "_dmarc.centromedico.example", "published": []}, "aligned": True,
    }  # fmt: skip
    text = campaigns("dkim", "check")
    assert text.code == 0 and "signatures will verify" in text.out

    fake_dns(monkeypatch, {name: [other["value"]]})
    wrong = campaigns("dkim", "check")
    assert wrong.code == 1 and "publishes another key" in wrong.out and record["value"] in wrong.out
    assert campaigns("dkim", "check", "--json").json["matches"] is False

    fake_dns(monkeypatch, {})
    missing = campaigns("dkim", "check")
    assert missing.code == 1 and "has no TXT record" in missing.out


@pytest.mark.parametrize(
    "failure",
    [dns.exception.Timeout(), dns.resolver.NoNameservers(), dns.resolver.NoResolverConfiguration()],
    ids=["timeout", "no-nameservers", "no-resolv-conf"],
)
def test_check_without_a_network_says_so_in_one_line(campaigns, from_centre, monkeypatch, failure):
    configured(campaigns, monkeypatch)
    fake_dns(monkeypatch, failure)
    result = campaigns("dkim", "check", "--json")
    assert result.code == 1 and result.out == ""
    assert result.err.startswith("campaigns: cannot look up s1._domainkey.centromedico.example: ")
    assert result.err.count("\n") == 1


def test_check_without_dkim_configured_is_bad_input(campaigns):
    result = campaigns("dkim", "check")
    assert result.code == 2 and "DKIM is not configured" in result.err


def test_check_also_reads_spf_and_dmarc_and_says_what_is_missing(campaigns, from_centre, monkeypatch):
    record = configured(campaigns, monkeypatch)
    name = "s1._domainkey.centromedico.example"
    monkeypatch.setenv("CAMPAIGNS_EMAIL_RETURN_PATH", "bounces@mail.centromedico.example")
    fake_dns(monkeypatch, {name: [record["value"]]})
    bare = campaigns("dkim", "check")
    assert bare.code == 0  # the DKIM record is what the status says
    assert "SPF: mail.centromedico.example has no v=spf1 record" in bare.out  # the envelope's domain
    assert (
        'DMARC: _dmarc.centromedico.example has no v=DMARC1 record: publish one, starting with "v=DMARC1;'
        in bare.out
    )
    spf, dmarc = (
        "v=spf1 include:_spf.relay.example ~all",
        "v=DMARC1; p=none; rua=mailto:d@centromedico.example",
    )
    fake_dns(monkeypatch, {
        name: [record["value"]], "mail.centromedico.example": ["other=1", spf],
        "_dmarc.centromedico.example": [dmarc],
    })  # fmt: skip
    found = campaigns("dkim", "check", "--json").json
    assert found["spf"]["published"] == [spf] and found["dmarc"]["published"] == [dmarc]
    text = campaigns("dkim", "check").out
    assert (
        f"SPF at mail.centromedico.example: {spf}" in text
        and f"DMARC at _dmarc.centromedico.example: {dmarc}" in text
    )


def test_check_says_when_the_signing_domain_is_not_aligned_with_from(campaigns, from_centre, monkeypatch):
    record = campaigns("dkim", "keygen", "--selector", "s1", "--domain", "mailer.example", "--json").json
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "s1")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", record["key_file"])
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_DOMAIN", "mailer.example")
    fake_dns(monkeypatch, {"s1._domainkey.mailer.example": [record["value"]]})
    result = campaigns("dkim", "check")
    assert result.code == 0 and campaigns("dkim", "check", "--json").json["aligned"] is False
    assert "DKIM signs for mailer.example, not the From domain centromedico.example" in result.out
