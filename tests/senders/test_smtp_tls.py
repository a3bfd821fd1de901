"""A relay that demands STARTTLS and a login, as a hospital's own relay does: a real aiosmtpd with TLS."""

import asyncio
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from senders.engine import Engine
from store.models import Message
from tests.senders.conftest import campaign_to, config_for, heal_once_waiting
from tests.senders.peers import MailServer

ADDRESSES = [f"paziente{i}@example.org" for i in range(6)]


class TlsMailServer(MailServer):
    """Refuses mail before STARTTLS and a login as `campagne` / `password`."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.cert = folder / "relay.pem"
        key = folder / "relay.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(self.cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.password = "password"
        self.sessions: list[tuple[bool, bool]] = []  # (over TLS, logged in) of each message
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
            authenticator=self.authenticate, auth_require_tls=True, auth_exclude_mechanism=["LOGIN"],
        )  # fmt: skip

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"campagne",
            self.password.encode(),
        )
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235 or 535

    async def handle_DATA(self, server, session, envelope) -> str:
        self.sessions.append((session.ssl is not None, bool(session.authenticated)))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def tls_mail_server(tmp_path: Path) -> Iterator[TlsMailServer]:
    server = TlsMailServer(tmp_path)
    server.start()
    yield server
    server.stop()


def send(config) -> None:
    asyncio.run(asyncio.wait_for(Engine(config, worker="test").run(until_idle=True), 30))


def test_mail_goes_over_starttls_with_a_login_trusting_the_relays_ca(sqlite_store, tls_mail_server):
    campaign_id = campaign_to("email", ADDRESSES)
    config = config_for(sqlite_store, tls_mail_server, starttls=True, ca_file=str(tls_mail_server.cert),
                        username="campagne", password="password")  # fmt: skip
    send(config)
    assert tls_mail_server.count_by_recipient() == {a: 1 for a in ADDRESSES}
    assert set(tls_mail_server.sessions) == {(True, True)}
    assert {m.state for m in Message.select().where(Message.campaign == campaign_id)} == {"sent"}


def test_a_refused_login_makes_the_campaign_wait_with_the_reason(sqlite_store, tls_mail_server):
    tls_mail_server.password = "changed by the relay's admin"
    campaign_id = campaign_to("email", ADDRESSES[:3])
    config = config_for(sqlite_store, tls_mail_server, starttls=True, ca_file=str(tls_mail_server.cert),
                        username="campagne", password="password")  # fmt: skip
    seen: list[str] = []
    healer = heal_once_waiting(campaign_id, lambda: setattr(tls_mail_server, "password", "password"), seen)
    send(config)
    healer.join()
    assert "SMTPAuthenticationError" in seen[0]
    assert tls_mail_server.count_by_recipient() == {a: 1 for a in ADDRESSES[:3]}


def test_an_untrusted_certificate_is_refused(sqlite_store, tls_mail_server):
    campaign_id = campaign_to("email", ADDRESSES[:2])
    config = config_for(
        sqlite_store, tls_mail_server, starttls=True, username="campagne", password="password"
    )
    seen: list[str] = []
    healer = heal_once_waiting(campaign_id, lambda: None, seen)
    engine = Engine(config, worker="test")

    async def run_briefly() -> None:
        task = asyncio.create_task(engine.run())
        await asyncio.sleep(1.0)
        engine.stop()
        await task

    asyncio.run(run_briefly())
    healer.join()
    assert seen and "cannot connect" in seen[0]
    assert tls_mail_server.received == []
    assert {m.state for m in Message.select().where(Message.campaign == campaign_id)} == {"pending"}
