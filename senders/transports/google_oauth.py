"""A Google service account's OAuth2 access tokens: the JWT-bearer grant (RFC 7523), as google-auth does it.

The key file is read once per transport; what is wrong with it is said in one line naming the file,
never its contents. An access token lasts about an hour and is reused until shortly before it ends;
connections that need one while another fetches it wait for that one (one grant, not one each).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from senders.transports import ProviderUnavailable
from senders.transports.http import TIMEOUT, bounded, json_of
from senders.transports.urls import safe_url

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600  # the longest Google accepts
REFRESH_MARGIN_SECONDS = 300.0  # a token this close to its end is replaced before use

_REQUIRED = ("client_email", "private_key", "private_key_id", "token_uri", "project_id")


@dataclass(frozen=True)
class ServiceAccount:
    """The fields of a service-account key file that a grant needs."""

    client_email: str
    private_key_id: str
    token_uri: str
    project_id: str
    key: RSAPrivateKey

    def __repr__(self) -> str:  # the key never reaches a log through a repr
        return f"ServiceAccount({self.client_email!r}, project {self.project_id!r})"


def load_service_account(path: str) -> ServiceAccount:
    """Reads and checks a service-account JSON key file; ProviderUnavailable says what is wrong with it."""
    if not path:
        raise ProviderUnavailable(
            "[push] service_account is not set: the path of the service account's key file"
        )
    where = f"push service account file {path}"
    try:
        text = _read_key_file(Path(path), where)
    except FileNotFoundError:
        raise ProviderUnavailable(f"{where} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProviderUnavailable(f"cannot read {where}: {type(exc).__name__}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ProviderUnavailable(
            f"{where} is not JSON: download the key again from the Firebase console"
        ) from None
    if not isinstance(data, dict) or data.get("type") != "service_account":
        raise ProviderUnavailable(
            f'{where} is not a service account key (its "type" is not "service_account")'
        )
    missing = [name for name in _REQUIRED if not isinstance(data.get(name), str) or not data[name].strip()]
    if missing:
        raise ProviderUnavailable(f"{where} lacks {', '.join(missing)}")
    try:
        key = load_pem_private_key(data["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        key = None  # the reason would quote nothing useful, and must not quote the key
    if not isinstance(key, RSAPrivateKey):
        raise ProviderUnavailable(f"{where}: its private_key is not a readable RSA key")
    token_uri = data["token_uri"].strip()
    if not safe_url(token_uri):
        raise ProviderUnavailable(f"{where}: its token_uri must be an https:// URL")
    return ServiceAccount(
        client_email=data["client_email"].strip(), private_key_id=data["private_key_id"].strip(),
        token_uri=token_uri, project_id=data["project_id"].strip(), key=key,
    )  # fmt: skip


KEY_FILE_MAX = 64 * 1024  # a service account's key file is about 2.5 KB

log = logging.getLogger("campaigns.send")


def _read_key_file(path: Path, where: str) -> str:
    """The key file's text: a regular file of a few KB (never a pipe or a device, which would hang or
    fill the memory); one others may read is said once in the log, as ssh says it of a key."""
    # O_NONBLOCK: opening a pipe for reading would wait for a writer; a regular file reads as ever.
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
        found = os.fstat(file.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise ProviderUnavailable(f"{where} is not a regular file")
        if found.st_size > KEY_FILE_MAX:
            raise ProviderUnavailable(f"{where} is over {KEY_FILE_MAX // 1024} KB: not a key file")
        if found.st_mode & 0o077:
            log.warning("%s can be read by other accounts: chmod 600 it", where)
        return file.read(KEY_FILE_MAX + 1).decode("utf-8")


class AccessTokens:
    """Access tokens for one service account and scope, fetched one at a time and reused while good."""

    def __init__(
        self, account: ServiceAccount, scope: str = FCM_SCOPE,
        clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.account = account
        self.scope = scope
        self.grants = 0  # how many tokens were fetched (the admin's status, the tests)
        self._clock = clock
        self._wall = wall
        self._token: str | None = None
        self._good_until = 0.0
        self._lock = asyncio.Lock()
        self._host = httpx.URL(account.token_uri).host
        self._client = httpx.AsyncClient(timeout=TIMEOUT, limits=httpx.Limits(max_connections=1))

    async def token(self) -> str:
        """A token good for a while yet: the cached one, else a new one (ProviderUnavailable if refused)."""
        if self._token is not None and self._clock() < self._good_until:
            return self._token
        async with self._lock:
            # Whoever held the lock before may have fetched one meanwhile: that one serves us too.
            if self._token is not None and self._clock() < self._good_until:
                return self._token
            self._token, self._good_until = await self._grant()
            return self._token

    def invalidate(self, token: str) -> None:
        """The service refused `token`: the next `token()` fetches another, unless one already replaced it."""
        if self._token == token:
            self._token = None

    async def aclose(self) -> None:
        await self._client.aclose()

    def assertion(self) -> str:
        """The signed JWT that asks the token endpoint for an access token (RFC 7523 section 2.1)."""
        now = int(self._wall())
        claims = {
            "iss": self.account.client_email,
            "scope": self.scope,
            "aud": self.account.token_uri,
            "iat": now,
            "exp": now + ASSERTION_SECONDS,
        }
        return jwt.encode(
            claims, self.account.key, algorithm="RS256", headers={"kid": self.account.private_key_id}
        )

    async def _grant(self) -> tuple[str, float]:
        started = self._clock()
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion()}
        try:
            response = await self._client.post(self.account.token_uri, data=form)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                f"cannot reach the token endpoint ({self._host}): {type(exc).__name__}"
            ) from None
        data = json_of(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderUnavailable(
                f"the token endpoint ({self._host}) is failing: HTTP {response.status_code}"
            )
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"the token endpoint ({self._host}) refuses the service account {self.account.client_email}: "
                f"{_oauth_error(data, response.status_code)}"
            )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderUnavailable(f"the token endpoint ({self._host}) answered without an access token")
        lifetime = _expires_in(data)
        self.grants += 1
        return token, started + lifetime - min(REFRESH_MARGIN_SECONDS, lifetime / 2)


def _oauth_error(data: object, status: int) -> str:
    """`invalid_grant: Invalid JWT Signature.`, as google-auth words a refused grant."""
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        detail = data["error"]
        if isinstance(data.get("error_description"), str):
            detail += f": {data['error_description']}"
        return bounded(detail)
    return f"HTTP {status}"


def _expires_in(data: dict[str, object]) -> float:
    """The token's lifetime in seconds; some servers send it as a string, some not at all (an hour)."""
    value = data.get("expires_in", ASSERTION_SECONDS)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 0.0  # nonsense: the token serves this one message, the next fetches another
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        return 0.0
    if not math.isfinite(seconds):
        return 0.0
    return max(0.0, min(seconds, 24 * 3600.0))
