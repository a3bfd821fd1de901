"""DKIM signing through the real SMTP path: what aiosmtpd receives verifies with dkimpy against the DNS
record, handed to dkimpy through its DNS hook (no network)."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dkim
import pytest

from senders.dkim_signing import (
    DkimSigner,
    dkim_signer,
    key_pem,
    new_key,
    record_matches,
    record_name,
    record_value,
)
from senders.mailing import Mailing
from senders.mime import EmailBuilder
from senders.transports.smtp import SmtpTransport
from senders.trial_send import send_test
from store.campaigns import create_campaign
from store.config import EmailConfig, load_config
from store.errors import ConfigError
from tests.senders.conftest import campaign_to, config_for, send_all
from tests.senders.peers import RawMailServer

FROM_DOMAIN = "centromedico.example"  # config_for's From address's


@pytest.fixture
def raw_mail() -> Iterator[RawMailServer]:
    server = RawMailServer().start()
    yield server
    server.stop()


def key_file(folder: Path, ed25519: bool = False, mode: int = 0o600) -> tuple[Path, str]:
    """A new key written as `campaigns dkim keygen` writes it, and the TXT value it prints."""
    key = new_key(ed25519)
    path = folder / ("ed.pem" if ed25519 else "rsa.pem")
    path.write_bytes(key_pem(key))
    os.chmod(path, mode)
    return path, record_value(key)


def dns_with(name: str, value: str):
    """dkimpy's DNS hook, answering one TXT record and nothing else."""

    def lookup(queried: bytes, timeout: float = 5) -> bytes | None:
        return value.encode() if queried.decode().rstrip(".") == name else None

    return lookup


@pytest.mark.parametrize("ed25519", [False, True], ids=["rsa-sha256", "ed25519-sha256"])
def test_a_campaign_is_signed_on_the_wire_and_verifies_against_the_record(
    sqlite_store, raw_mail, tmp_path, ed25519
):
    path, value = key_file(tmp_path, ed25519)
    campaign_to("email", ["anna@example.org", "bruno@example.org"])
    send_all(config_for(sqlite_store, raw_mail, dkim_selector="s2026", dkim_private_key=str(path)))
    assert len(raw_mail.raw) == 2
    dns = dns_with(f"s2026._domainkey.{FROM_DOMAIN}", value)
    for raw in raw_mail.raw:
        assert raw.startswith(b"DKIM-Signature: v=1; a=" + (b"ed25519" if ed25519 else b"rsa") + b"-sha256;")
        assert dkim.verify(raw, dnsfunc=dns), raw[:400]
    signature = dkim.DKIM(raw_mail.raw[0])
    signature.verify(dnsfunc=dns)
    assert signature.domain == FROM_DOMAIN.encode() and signature.selector == b"s2026"
    signed = dkim.util.parse_tag_value(raw_mail.raw[0].split(b"\r\n\r\n")[0].split(b"From:")[0][16:])
    assert signed[b"c"] == b"relaxed/relaxed"
    assert b"".join(signed[b"h"].split()).split(b":") == [
        b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
        b"list-unsubscribe", b"list-unsubscribe-post", b"list-id", b"feedback-id", b"from",
    ]  # fmt: skip


def test_a_changed_body_or_header_fails_verification(sqlite_store, raw_mail, tmp_path):
    path, value = key_file(tmp_path)
    campaign_to("email", ["anna@example.org"])
    send_all(config_for(sqlite_store, raw_mail, dkim_selector="s1", dkim_private_key=str(path)))
    (raw,) = raw_mail.raw
    dns = dns_with(f"s1._domainkey.{FROM_DOMAIN}", value)
    assert dkim.verify(raw, dnsfunc=dns)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = body.split(b"\r\n")
    changed = next(i for i, line in enumerate(lines) if len(line) > 20 and not line.startswith(b"--"))
    lines[changed] = lines[changed][:-4] + b"AAAA"
    assert not dkim.verify(head + b"\r\n\r\n" + b"\r\n".join(lines), dnsfunc=dns)
    assert not dkim.verify(raw.replace(b"Subject: Un messaggio", b"Subject: Un massaggio"), dnsfunc=dns)
    # another key at the selector: nothing verifies
    assert not dkim.verify(raw, dnsfunc=dns_with(f"s1._domainkey.{FROM_DOMAIN}", record_value(new_key())))


def test_dkim_domain_and_a_key_in_the_environment(sqlite_store, raw_mail, tmp_path, monkeypatch):
    key = new_key()
    pem = key_pem(key).decode().replace("\n", "\\n")  # as a one-line environment file holds it
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", pem)
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "mail")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_DOMAIN", "Example.ORG")
    email = load_config().email
    assert "PRIVATE" not in repr(email)  # the key never shows in a repr (logs, tracebacks)
    campaign_to("email", ["anna@example.org"])
    config = config_for(sqlite_store, raw_mail)
    dkim_keys = {name: getattr(email, name) for name in ("dkim_selector", "dkim_private_key", "dkim_domain")}
    send_all(replace(config, email=replace(config.email, **dkim_keys)))
    (raw,) = raw_mail.raw
    assert b" d=example.org;" in raw
    assert dkim.verify(raw, dnsfunc=dns_with("mail._domainkey.example.org", record_value(key)))


def test_test_sends_are_signed_too(sqlite_store, raw_mail, tmp_path):
    path, value = key_file(tmp_path)
    draft = create_campaign(channel="email", name="Cardio", sender="Centro", subject="Visita", body="Ciao")
    config = config_for(sqlite_store, raw_mail, dkim_selector="s1", dkim_private_key=str(path))
    results = asyncio.run(send_test(config, draft.id, "admin@example.org"))
    assert [r.state for r in results] == ["sent"]
    (raw,) = raw_mail.raw
    assert dkim.verify(raw, dnsfunc=dns_with(f"s1._domainkey.{FROM_DOMAIN}", value))


def test_the_outbox_keeps_what_would_have_gone_signed(sqlite_store, tmp_path):
    path, value = key_file(tmp_path)
    campaign_id = campaign_to("email", ["anna@example.org"])
    config = config_for(sqlite_store, dkim_selector="s1", dkim_private_key=str(path))
    config = replace(
        config,
        email=replace(config.email, transport="outbox"),
        outbox=replace(config.outbox, path=str(tmp_path / "out")),
    )
    send_all(config)
    (eml,) = (tmp_path / "out" / f"campaign-{campaign_id}").glob("*.eml")
    assert dkim.verify(eml.read_bytes(), dnsfunc=dns_with(f"s1._domainkey.{FROM_DOMAIN}", value))


def test_an_smtputf8_recipient_is_signed_as_sent(sqlite_store, tmp_path):
    path, value = key_file(tmp_path)
    server = RawMailServer(smtputf8=True).start()
    try:
        campaign_to("email", ["josé@example.org"])
        send_all(config_for(sqlite_store, server, dkim_selector="s1", dkim_private_key=str(path)))
    finally:
        server.stop()
    (raw,) = server.raw
    assert "To: josé@example.org".encode() in raw
    assert dkim.verify(raw, dnsfunc=dns_with(f"s1._domainkey.{FROM_DOMAIN}", value))


def test_without_a_selector_and_key_nothing_is_signed(sqlite_store, raw_mail):
    assert dkim_signer(EmailConfig()) is None
    campaign_to("email", ["anna@example.org"])
    send_all(config_for(sqlite_store, raw_mail))
    (raw,) = raw_mail.raw
    assert b"DKIM-Signature" not in raw and raw.startswith(b"From: ")


def test_the_signature_is_dkimpy_s_own_byte_for_byte(monkeypatch):
    """Same key, message and second: the header `dkim.sign` writes (OpenSSL signs; dkimpy does the rest)."""
    builder = EmailBuilder("Centro Medico", "noreply@centromedico.example")
    raw = builder.build(to="anna@example.org", subject="Visita", body="Ciao\n\nA presto.", message_id=7)
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)
    for ed25519 in (False, True):
        key = new_key(ed25519)
        ours = DkimSigner(key, "s1", FROM_DOMAIN).signature(raw)
        if ed25519:
            private, algorithm = base64.b64encode(key.private_bytes_raw()), b"ed25519-sha256"
        else:
            private, algorithm = key_pem(key), b"rsa-sha256"
        theirs = dkim.sign(
            raw, b"s1", FROM_DOMAIN.encode(), private, canonicalize=(b"relaxed", b"relaxed"),
            signature_algorithm=algorithm,
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                             b"content-type", b"from"],
        )  # fmt: skip
        assert ours == theirs


def test_a_key_others_can_read_is_refused_at_start(tmp_path, monkeypatch):
    path, _ = key_file(tmp_path, mode=0o644)
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "s1")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", str(path))
    with pytest.raises(ConfigError, match=r"can be read by other accounts.*chmod 600 ") as refused:
        load_config()
    assert "\n" not in str(refused.value)
    os.chmod(path, 0o640)  # the group too
    with pytest.raises(ConfigError, match="chmod 600"):
        load_config()
    config = config_for("sqlite:///unused.db", dkim_selector="s1", dkim_private_key=str(path))
    with pytest.raises(ConfigError, match="chmod 600"):  # a transport made without load_config checks too
        SmtpTransport(config, Mailing(1, "Centro"), "secret")
    os.chmod(path, 0o600)
    assert load_config().email.dkim_selector == "s1"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read the DKIM key"),
        (
            b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1icm9rZW4=\n-----END PRIVATE KEY-----\n",
            "not an unencrypted",
        ),
        (b"hello", "not an unencrypted PEM private key"),
    ],
)
def test_a_key_that_cannot_be_read_or_parsed_stops_the_command(tmp_path, monkeypatch, content, says):
    path = tmp_path / "k.pem"
    if content is not None:
        path.write_bytes(content)
        os.chmod(path, 0o600)
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "s1")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", str(path))
    with pytest.raises(ConfigError, match=says) as refused:
        load_config()
    assert "c2VjcmV0" not in str(refused.value) and "\n" not in str(refused.value)


def test_half_a_configuration_and_bad_names_are_refused(tmp_path, monkeypatch):
    path, _ = key_file(tmp_path)
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY", str(path))
    with pytest.raises(ConfigError, match="dkim_selector is not"):
        load_config()
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "two words")
    with pytest.raises(ConfigError, match="dkim_selector must be a DNS label"):
        load_config()
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_SELECTOR", "s1")
    monkeypatch.setenv("CAMPAIGNS_EMAIL_DKIM_DOMAIN", "not a domain")
    with pytest.raises(ConfigError, match="dkim_domain must be"):
        load_config()
    (tmp_path / "campaigns.toml").write_text(
        '[email]\ndkim_private_key = """-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"""\n'
    )
    monkeypatch.delenv("CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY")
    with pytest.raises(ConfigError, match="holds a key: give the path") as refused:
        load_config(str(tmp_path / "campaigns.toml"))
    assert "abc" not in str(refused.value)


def test_a_record_matches_its_key_in_either_rsa_form():
    from cryptography.hazmat.primitives import serialization

    key = new_key()
    assert record_name("s1", "example.org") == "s1._domainkey.example.org"
    assert record_matches(record_value(key), key)
    pkcs1 = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert record_matches(f"k=rsa; p={base64.b64encode(pkcs1).decode()}", key)
    assert not record_matches(record_value(new_key()), key)
    assert not record_matches("v=DKIM1; k=rsa; p=", key)  # revoked
    ed = new_key(ed25519=True)
    assert record_matches(record_value(ed), ed) and not record_matches(record_value(ed), key)


def test_a_message_dkimpy_cannot_parse_fails_alone():
    from senders.mime import UnsendableMessage

    signer = DkimSigner(new_key(ed25519=True), "s1", FROM_DOMAIN)
    with pytest.raises(UnsendableMessage, match="cannot be DKIM-signed"):
        signer(b"From: a@b.example\r\nnot a header line\r\n\r\nbody\r\n")
