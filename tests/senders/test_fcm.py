"""Push through Firebase Cloud Messaging HTTP v1, against a local stand-in for Google (fcm_peer.py)."""

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from senders.transports import ProviderUnavailable
from senders.transports.fcm import FcmTransport
from senders.transports.google_oauth import AccessTokens, load_service_account
from store.config import Config
from store.contacts import import_contacts
from store.models import Contact, Message, Suppression
from store.sending import Outgoing
from store.suppressions import DEAD_TOKEN
from tests.senders.conftest import campaign_to, config_for, run_until_waiting, send_all
from tests.senders.fcm_peer import FcmPeer, new_key

WriteCsv = Callable[[str, str], Path]

TOKENS = [f"fcm-device-{i:02d}:APA91b" + "x" * 20 for i in range(20)]
TRUNCATED_KEY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
EMAILS = [f"paziente{i:02d}@example.org" for i in range(20)]


@pytest.fixture
def peer() -> Iterator[FcmPeer]:
    server = FcmPeer().start()
    yield server
    server.stop()


@pytest.fixture
def key_file(peer: FcmPeer, tmp_path: Path) -> Path:
    return peer.service_account(tmp_path / "service-account.json")


def fcm_config(store_url: str, peer: FcmPeer, key_file: Path, **push: object) -> Config:
    config = config_for(store_url)
    settings = {"provider": "fcm", "base_url": peer.url, "service_account": str(key_file), "connections": 4}
    return replace(config, push=replace(config.push, **{**settings, **push}))  # type: ignore[arg-type]


def push_campaign(
    write_csv: WriteCsv, count: int, body: str = "Ciao {{ first_name }}, prenota dall'app."
) -> int:
    rows = "".join(f"P{i:03d},{EMAILS[i]},Anna{i},{TOKENS[i]},yes\n" for i in range(count))
    import_contacts(write_csv("c.csv", "id,email,first_name,push_token,consent\n" + rows))
    return campaign_to("push", EMAILS[:count], body=body)


def states(campaign_id: int) -> dict[str, str]:
    return {m.address: m.state for m in Message.select().where(Message.campaign == campaign_id)}


def error_of(token: str) -> str:
    return Message.get(Message.address == token).error or ""


def nothing_burnt(campaign_id: int) -> bool:
    messages = list(Message.select().where(Message.campaign == campaign_id))
    return all(m.state == "pending" and m.attempts == 0 for m in messages)


def test_messages_go_in_fcm_v1_json_with_one_access_token(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, key_file: Path
) -> None:
    campaign_id = push_campaign(write_csv, 20)
    send_all(fcm_config(sqlite_store, peer, key_file))
    assert set(states(campaign_id).values()) == {"sent"}
    message = Message.get(Message.address == TOKENS[3])
    assert {
        "message": {
            "token": TOKENS[3],
            "notification": {"title": "CentroMed", "body": "Ciao Anna3, prenota dall'app."},
            "data": {"reference": f"m{message.id}"},
        }
    } in peer.received
    assert (message.provider_id or "").startswith(f"projects/{peer.project_id}/messages/0:")
    assert peer.count_by_token() == {token: 1 for token in TOKENS}
    assert peer.grants == 1  # four connections, twenty messages: one grant
    assert peer.refusals == []


def test_a_token_near_its_end_is_replaced_before_use(peer: FcmPeer, key_file: Path) -> None:
    now = [1000.0]
    tokens = AccessTokens(load_service_account(str(key_file)), clock=lambda: now[0])

    async def scenario() -> list[str]:
        try:
            seen = list(await asyncio.gather(*(tokens.token() for _ in range(8))))  # at once: one grant
            now[0] += 3600 - 301
            seen.append(await tokens.token())
            now[0] += 2  # less than five minutes left
            seen.append(await tokens.token())
            return seen
        finally:
            await tokens.aclose()

    seen = asyncio.run(scenario())
    assert len(set(seen[:9])) == 1
    assert seen[9] != seen[0]
    assert peer.grants == 2


def test_a_gone_app_fails_marks_the_token_dead_and_suppresses_it(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, key_file: Path
) -> None:
    peer.script[TOKENS[1]] = ["UNREGISTERED"]
    campaign_id = push_campaign(write_csv, 3)
    send_all(fcm_config(sqlite_store, peer, key_file))
    assert states(campaign_id) == {TOKENS[0]: "sent", TOKENS[1]: "failed", TOKENS[2]: "sent"}
    assert error_of(TOKENS[1]) == "FCM UNREGISTERED: the app is no longer installed"
    assert Contact.get(Contact.push_token == TOKENS[1]).push_token_dead_at is not None
    assert Contact.get(Contact.push_token == TOKENS[0]).push_token_dead_at is None
    assert Suppression.get_by_id(TOKENS[1]).reason == DEAD_TOKEN


def test_refused_messages_fail_with_fcms_reason_alone(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, key_file: Path
) -> None:
    peer.script[TOKENS[0]] = ["INVALID_ARGUMENT"]
    peer.script[TOKENS[1]] = ["SENDER_ID_MISMATCH"]
    peer.script[TOKENS[2]] = ["THIRD_PARTY_AUTH_ERROR"]
    campaign_id = push_campaign(write_csv, 4)
    send_all(fcm_config(sqlite_store, peer, key_file))
    assert states(campaign_id) == {
        TOKENS[0]: "failed", TOKENS[1]: "failed", TOKENS[2]: "failed", TOKENS[3]: "sent"
    }  # fmt: skip
    assert error_of(TOKENS[0]) == (
        "FCM INVALID_ARGUMENT: The registration token is not a valid FCM registration token"
    )
    assert (
        error_of(TOKENS[1]) == "FCM SENDER_ID_MISMATCH: the device token belongs to another Firebase project"
    )
    assert error_of(TOKENS[2]).startswith("FCM THIRD_PARTY_AUTH_ERROR: Apple (APNs)")
    assert Suppression.select().count() == 0
    assert all(c.push_token_dead_at is None for c in Contact.select())
    assert peer.grants == 1  # Apple's refusal is no reason to fetch a new access token


def test_quota_and_overload_are_retried_after_the_pause_fcm_asks(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, key_file: Path
) -> None:
    peer.retry_after = "1"
    peer.script[TOKENS[0]] = ["QUOTA_EXCEEDED"]
    peer.script[TOKENS[1]] = ["UNAVAILABLE", "INTERNAL"]
    campaign_id = push_campaign(write_csv, 3)
    send_all(fcm_config(sqlite_store, peer, key_file))
    assert set(states(campaign_id).values()) == {"sent"}
    assert peer.count_by_token() == {token: 1 for token in TOKENS[:3]}
    first, again = peer.arrivals[TOKENS[0]]
    assert again - first >= 0.95  # our own back-off is 50 ms in tests: this is FCM's Retry-After
    assert Message.get(Message.address == TOKENS[1]).attempts == 3


def test_a_revoked_access_token_is_replaced_once_and_nothing_goes_twice(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, key_file: Path
) -> None:
    peer.revoke_after = 5
    campaign_id = push_campaign(write_csv, 20)
    send_all(fcm_config(sqlite_store, peer, key_file))
    assert set(states(campaign_id).values()) == {"sent"}
    assert peer.count_by_token() == {token: 1 for token in TOKENS}
    assert peer.grants == 2  # the connections refused together share the new token
    assert all(m.attempts == 1 for m in Message.select())


def test_a_service_account_fcm_keeps_refusing_makes_the_campaign_wait(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, key_file: Path
) -> None:
    peer.refuse_all_tokens = True
    campaign_id = push_campaign(write_csv, 5)
    reason = run_until_waiting(fcm_config(sqlite_store, peer, key_file), campaign_id)
    assert f"refuses the service account {peer.client_email} even with a new access token" in reason
    assert nothing_burnt(campaign_id)
    assert peer.received == []


def test_a_refused_grant_makes_the_campaign_wait(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, tmp_path: Path
) -> None:
    wrong_key = peer.service_account(tmp_path / "old-key.json", key=new_key())  # a key Google revoked
    campaign_id = push_campaign(write_csv, 5)
    reason = run_until_waiting(fcm_config(sqlite_store, peer, wrong_key), campaign_id)
    assert (
        f"the token endpoint (127.0.0.1) refuses the service account {peer.client_email}: "
        "invalid_grant: Invalid JWT Signature." in reason
    )
    assert nothing_burnt(campaign_id)
    assert peer.grants == 0 and peer.received == []


def test_a_missing_key_file_makes_the_campaign_wait_saying_so(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, tmp_path: Path
) -> None:
    campaign_id = push_campaign(write_csv, 3)
    missing = tmp_path / "nowhere.json"
    reason = run_until_waiting(fcm_config(sqlite_store, peer, missing), campaign_id)
    assert reason.startswith(f"push service account file {missing} does not exist")
    assert nothing_burnt(campaign_id)


def test_the_project_can_be_named_in_the_configuration(
    sqlite_store: str, write_csv: WriteCsv, peer: FcmPeer, key_file: Path
) -> None:
    campaign_id = push_campaign(write_csv, 2)
    reason = run_until_waiting(
        fcm_config(sqlite_store, peer, key_file, project_id="another-project"), campaign_id
    )
    assert "refuses to send for project another-project: FCM PERMISSION_DENIED" in reason
    assert nothing_burnt(campaign_id)


def key_file_saying(tmp_path: Path, peer: FcmPeer, **changes: object) -> str:
    path = peer.service_account(tmp_path / "key.json")
    info = json.loads(path.read_text())
    info.update(changes)
    path.write_text(json.dumps({k: v for k, v in info.items() if v is not None}))
    return str(path)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"type": "authorized_user"}, 'is not a service account key (its "type" is not "service_account")'),
        ({"client_email": None, "private_key_id": ""}, "lacks client_email, private_key_id"),
        ({"private_key": f"-----BEGIN PRIVATE KEY-----\n{TRUNCATED_KEY}\n-----END PRIVATE KEY-----\n"},
         "its private_key is not a readable RSA key"),
        ({"token_uri": "http://oauth2.example.org/token"}, "its token_uri must be an https:// URL"),
    ],
)  # fmt: skip
def test_a_bad_key_file_is_one_line_naming_the_problem_not_the_key(
    tmp_path: Path, peer: FcmPeer, changes: dict[str, object], said: str
) -> None:
    path = key_file_saying(tmp_path, peer, **changes)
    with pytest.raises(ProviderUnavailable) as refused:
        load_service_account(path)
    line = str(refused.value)
    assert (
        line == f"push service account file {path} {said}"
        or line == f"push service account file {path}: {said}"
    )
    assert "\n" not in line and "PRIVATE KEY" not in line and "MII" not in line


def test_a_key_file_that_is_not_json_says_so(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    path.write_text('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE')
    with pytest.raises(ProviderUnavailable, match=r"key.json is not JSON: download the key again") as refused:
        load_service_account(str(path))
    assert "MIIE" not in str(refused.value)


def test_fcms_words_never_carry_the_device_token(tmp_path: Path, peer: FcmPeer, key_file: Path) -> None:
    config = fcm_config("sqlite:///unused.db", peer, key_file)
    message = Outgoing(id=7, campaign_id=1, channel="push", address=TOKENS[0], sender="CentroMed",
                       subject=None, body="b", body_hash="h", resent=False)  # fmt: skip
    said = {"error": {"code": 400, "status": "INVALID_ARGUMENT",
                      "message": f"Invalid registration\ntoken {TOKENS[0]} " + "x" * 500}}  # fmt: skip

    async def judged() -> str | None:
        transport = FcmTransport(config)
        try:
            return transport.judge(message, httpx.Response(400, json=said)).error
        finally:
            await transport.close()

    error = asyncio.run(judged())
    assert error is not None and error.startswith(
        "FCM INVALID_ARGUMENT: Invalid registration token <device token> x"
    )
    assert TOKENS[0] not in error and "\n" not in error and len(error) < 250


def judged_by_fcm(config: Config, response: httpx.Response) -> object:
    """What FcmTransport.judge makes of an answer: the Outcome, or the ProviderUnavailable it raises."""
    message = Outgoing(id=7, campaign_id=1, channel="push", address=TOKENS[0], sender="CentroMed",
                       subject=None, body="b", body_hash="h", resent=False)  # fmt: skip

    async def judged() -> object:
        transport = FcmTransport(config)
        try:
            return transport.judge(message, response)
        except ProviderUnavailable as exc:
            return exc
        finally:
            await transport.close()

    return asyncio.run(judged())


def test_only_fcms_unregistered_marks_a_token_dead_not_any_not_found(peer: FcmPeer, key_file: Path) -> None:
    """A wrong project_id answers a plain NOT_FOUND for every message: no device token is to blame."""
    config = fcm_config("sqlite:///unused.db", peer, key_file)
    not_found = {"error": {"code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found."}}
    found = judged_by_fcm(config, httpx.Response(404, json=not_found))
    assert isinstance(found, ProviderUnavailable) and "refuses to send for project" in str(found)
    detail = {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}
    gone = {"error": {"code": 404, "status": "NOT_FOUND", "details": [detail]}}
    outcome = judged_by_fcm(config, httpx.Response(404, json=gone))
    assert getattr(outcome, "suppress", None) == DEAD_TOKEN


@pytest.mark.parametrize("expires_in", [10**400, "1e999", "nan", -5])
def test_a_nonsense_token_lifetime_serves_one_message_and_never_crashes(
    peer: FcmPeer, key_file: Path, expires_in: object
) -> None:
    peer.expires_in_said = expires_in

    async def twice() -> int:
        tokens = AccessTokens(load_service_account(str(key_file)))
        try:
            await tokens.token()
            await tokens.token()
            return tokens.grants
        finally:
            await tokens.aclose()

    assert asyncio.run(twice()) == 2  # nothing cached, nothing raised


def test_a_key_file_that_is_a_pipe_or_too_large_is_refused_at_once(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "key.json"
    os.mkfifo(fifo)
    with pytest.raises(ProviderUnavailable, match="is not a regular file"):
        load_service_account(str(fifo))
    big = tmp_path / "big.json"
    big.write_text(" " * (65 * 1024))
    with pytest.raises(ProviderUnavailable, match="over 64 KB"):
        load_service_account(str(big))
