"""Configuration: a TOML file, then `CAMPAIGNS_<SECTION>_<KEY>` environment overrides, then `--db`."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from store.errors import ConfigError
from store.message_limits import MessageLimits

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    DkimKey = RSAPrivateKey | Ed25519PrivateKey

LANGUAGES = ("en", "it")  # of what the product itself tells recipients (senders.wording)

APP_NAME = "campaigns"


def data_dir() -> Path:
    """Where the embedded database lives unless configured otherwise."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'campaigns.db'}"


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""


@dataclass(frozen=True)
class ContactsConfig:
    default_region: str = "IT"


@dataclass(frozen=True)
class EmailConfig:
    transport: str = "outbox"
    from_address: str = "noreply@example.org"
    host: str = "127.0.0.1"
    port: int = 1025
    starttls: bool = False
    ca_file: str = ""  # a CA bundle for a relay whose certificate a private CA signed
    username: str = ""
    password: str = ""
    rate_per_hour: int = 0
    connections: int = 4
    language: str = "en"  # of the unsubscribe footer and pages: en or it
    quiet_hours: str = ""  # "20:00-09:00": no campaign email goes then (store.quiet_hours); none by default
    quiet_days: tuple[str, ...] = ()  # "sun", "2026-12-25": whole days without campaign email
    # DKIM signing (senders.dkim_signing), on when a selector and a key are given
    dkim_selector: str = ""
    dkim_private_key: str = field(
        default="", repr=False
    )  # a PEM file's path, or (environment) the PEM itself
    dkim_domain: str = ""  # the d= of the signature; empty: from_address's domain
    return_path: str = ""  # the envelope sender (SMTP MAIL FROM), where bounces go; empty: from_address
    list_id: str = ""  # the center's RFC 2919 List-Id; empty: campaigns.<from_address's domain>
    open_tracking: bool = True  # whether a new email campaign carries the open-tracking image

    @property
    def from_domain(self) -> str:
        return self.from_address.rpartition("@")[2].lower().rstrip(".")

    @property
    def dkim_signing_domain(self) -> str:
        """The domain that signs: `dkim_domain`, else the From address's."""
        return (self.dkim_domain or self.from_domain).lower().rstrip(".")

    @property
    def envelope_sender(self) -> str:
        """SMTP's MAIL FROM: `return_path`, else the From address (SPF then checks the From domain)."""
        return self.return_path or self.from_address

    @property
    def list_identifier(self) -> str:
        return self.list_id or f"campaigns.{self.from_domain}"


@dataclass(frozen=True)
class SmsConfig:
    transport: str = "outbox"
    provider: str = "json"  # with transport "http": our JSON gateway format, or "twilio" (docs/providers.md)
    url: str = "http://127.0.0.1:8025/messages"
    token: str = ""
    rate_per_hour: int = 0
    connections: int = 4
    quiet_hours: str = "20:00-09:00"  # the center's wall clock; "" for none (store.quiet_hours)
    quiet_days: tuple[str, ...] = ()  # weekdays ("sun") and dates ("2026-12-25") without campaign SMS
    max_parts: int = 6  # an SMS that would bill more parts fails for that recipient, never posted
    # provider = "twilio" (or a gateway that copies its API)
    base_url: str = "https://api.twilio.com"
    account_sid: str = ""
    auth_token: str = ""  # signs the status callbacks; with no API key, the password of every request
    api_key_sid: str = ""  # an API key instead of the account's own credentials for the requests
    api_key_secret: str = ""
    messaging_service_sid: str = ""  # sent instead of `From` when set


@dataclass(frozen=True)
class PushConfig:
    transport: str = "outbox"
    provider: str = "json"  # with transport "http": our JSON push format, or "fcm" (docs/providers.md)
    url: str = "http://127.0.0.1:8026/send"
    token: str = ""
    rate_per_hour: int = 0
    connections: int = 4
    quiet_hours: str = "20:00-09:00"
    quiet_days: tuple[str, ...] = ()
    # provider = "fcm": Firebase Cloud Messaging HTTP v1
    base_url: str = "https://fcm.googleapis.com"
    project_id: str = ""  # default: the service account file's own project_id
    service_account: str = ""  # the path of the service account's JSON key file


@dataclass(frozen=True)
class OutboxConfig:
    path: str = "outbox"


@dataclass(frozen=True)
class FeedbackConfig:
    listen: str = "127.0.0.1:8080"
    public_url: str = "http://127.0.0.1:8080"
    secret: str = ""
    machine_open_seconds: int = 10


@dataclass(frozen=True)
class DedupConfig:
    campaign_window: str = "7d"


@dataclass(frozen=True)
class CenterConfig:
    timezone: str = ""  # IANA name (Europe/Rome); empty: the system's (store.config.center_timezone)
    # Send Now warns when a campaign's estimate waits through more quiet periods than this (store.eta)
    max_quiet_pauses: int = 2


@dataclass(frozen=True)
class EngineConfig:
    lanes: int = 1  # campaigns sent at once; the manual's rule is one after another
    lease_seconds: int = 60  # a claim left this long by a stopped engine is taken up by another


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    contacts: ContactsConfig = field(default_factory=ContactsConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    push: PushConfig = field(default_factory=PushConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    feedback: FeedbackConfig = field(default_factory=FeedbackConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    center: CenterConfig = field(default_factory=CenterConfig)
    source: str = "defaults"

    @property
    def database_url(self) -> str:
        return self.database.url or default_database_url()

    @property
    def timezone(self) -> str:
        """The center's time zone: `[center] timezone`, else the system's."""
        return self.center.timezone or system_timezone()

    @property
    def limits(self) -> MessageLimits:
        """How large a message may be, as configured (store.message_limits holds the rest)."""
        return MessageLimits(sms_parts=self.sms.max_parts)

    def with_database(self, url: str | None) -> Config:
        if not url:
            return self
        return replace(self, database=replace(self.database, url=url))


SECTIONS = [f.name for f in fields(Config) if f.name != "source"]


def find_config_file(explicit: str | None, env: dict[str, str]) -> Path | None:
    """The first of --config, $CAMPAIGNS_CONFIG, ./campaigns.toml, the user's config dir."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {explicit} does not exist")
        return path
    if env.get("CAMPAIGNS_CONFIG"):
        path = Path(env["CAMPAIGNS_CONFIG"]).expanduser()
        if not path.is_file():
            raise ConfigError(f"$CAMPAIGNS_CONFIG names {path}, which does not exist")
        return path
    for candidate in (
        Path("campaigns.toml"),
        Path(platformdirs.user_config_dir(APP_NAME)) / "campaigns.toml",
    ):
        if candidate.is_file():
            return candidate
    return None


def _coerce(value: Any, default: Any, where: str) -> Any:
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    if isinstance(default, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be a whole number, not {value!r}") from None
    if isinstance(default, tuple):  # a list: TOML's, or an environment value's commas
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str | int) for i in items):
            raise ConfigError(f'{where} must be a list of words, like ["sun", "2026-12-25"]')
        return tuple(str(item).strip() for item in items if str(item).strip())
    if isinstance(value, (dict, list)):
        raise ConfigError(f"{where} must be a single value")
    return str(value)


def load_config(
    path: str | None = None, database_url: str | None = None, env: dict[str, str] | None = None
) -> Config:
    """Reads the configuration (docs/configuration.md); raises ConfigError with one clear line."""
    env = dict(os.environ if env is None else env)
    file = find_config_file(path, env)
    raw: dict[str, Any] = {}
    if file is not None:
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {file}: {exc}") from None
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"unknown section [{unknown[0]}] in {file}")
    sections: dict[str, Any] = {}
    built_in = Config()
    for section in SECTIONS:
        defaults = getattr(built_in, section)
        values: dict[str, Any] = {}
        given = raw.get(section, {})
        if not isinstance(given, dict):
            raise ConfigError(f"[{section}] in {file} must be a table")
        names = {f.name for f in fields(defaults)}
        for key in given:
            if key not in names:
                raise ConfigError(f"unknown key {key!r} in [{section}] of {file}")
        for name in names:
            default = getattr(defaults, name)
            env_key = f"CAMPAIGNS_{section.upper()}_{name.upper()}"
            if env_key in env:
                values[name] = _coerce(env[env_key], default, env_key)
            elif name in given:
                values[name] = _coerce(given[name], default, f"{section}.{name}")
        sections[section] = replace(defaults, **values)
    if str(raw.get("email", {}).get("dkim_private_key", "")).lstrip().startswith(PEM_START):
        # A config file is rarely kept owner-only: the key goes in a file of its own, or the environment.
        raise ConfigError(
            f"[email] dkim_private_key in {file} holds a key: give the path of a 0600 PEM file, "
            f"or the key in {DKIM_KEY_ENV}"
        )
    config = Config(**sections, source=str(file) if file else "defaults")
    url = database_url or env.get("CAMPAIGNS_DB")
    config = config.with_database(url)
    _check(config)
    return config


def parse_listen(listen: str) -> tuple[str, int]:
    """`127.0.0.1:8080`, `[::1]:8080` or `:8080` (every interface)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"[feedback] listen must be HOST:PORT, not {listen!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def system_timezone(env: dict[str, str] | None = None, localtime: Path = Path("/etc/localtime")) -> str:
    """The system's IANA time zone: `$TZ` when it names one, else where /etc/localtime points, else
    /etc/timezone, else UTC."""
    from zoneinfo import available_timezones

    known = available_timezones()
    given = (os.environ if env is None else env).get("TZ", "").lstrip(":")
    if given in known:
        return given
    try:
        target = str(localtime.resolve())
    except OSError:
        target = ""
    if "zoneinfo/" in target and target.split("zoneinfo/", 1)[1] in known:
        return target.split("zoneinfo/", 1)[1]
    try:
        written = (localtime.parent / "timezone").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        written = ""
    return written if written in known else "UTC"


def _check(config: Config) -> None:
    parse_listen(config.feedback.listen)
    _check_public_url(config.feedback.public_url)
    from store.quiet_hours import QuietHoursError, center_zone, channel_quiet_hours

    try:
        if config.center.timezone:
            center_zone(config.center.timezone)
        channel_quiet_hours(config)
    except QuietHoursError as exc:
        raise ConfigError(str(exc)) from None
    transports = {
        "email": ("smtp", "outbox"),
        "sms": ("http", "outbox"),
        "push": ("http", "outbox"),
    }
    for section, allowed in transports.items():
        transport = getattr(config, section).transport
        if transport not in allowed:
            choices = " or ".join(repr(a) for a in allowed)
            raise ConfigError(f"[{section}] transport must be {choices}, not {transport!r}")
    _check_providers(config)
    if not config.email.from_address.isascii() or "@" not in config.email.from_address:
        # Every message's From and envelope carry it: one that cannot go as ASCII fails every message.
        raise ConfigError(
            f"[email] from_address must be a plain ASCII address, not {config.email.from_address!r}"
        )
    if not 1 <= config.sms.max_parts <= 255:  # a concatenated SMS has at most 255 parts
        raise ConfigError(f"[sms] max_parts must be from 1 to 255, not {config.sms.max_parts}")
    if config.email.language not in LANGUAGES:
        choices = " or ".join(repr(language) for language in LANGUAGES)
        raise ConfigError(f"[email] language must be {choices}, not {config.email.language!r}")
    if config.email.dkim_selector or config.email.dkim_private_key:
        _check_dkim(config.email)
    _check_list_headers(config.email)


def _check_list_headers(email: EmailConfig) -> None:
    """The envelope sender and the List-Id go into every message as they are: one line now if not."""
    address = email.return_path
    if address and not (
        address.isascii() and address.count("@") == 1 and is_dns_name(address.rpartition("@")[2])
        and address.isprintable() and not any(ch in address for ch in "<> \t")
    ):  # fmt: skip
        raise ConfigError(f"[email] return_path must be a plain ASCII address, not {address!r}")
    if not (is_dns_name(email.list_identifier) and "." in email.list_identifier):
        raise ConfigError(
            "[email] list_id must look like a domain name (campaigns.example.org), "
            f"not {email.list_identifier!r}"
        )


def _check_public_url(url: str) -> None:
    """Every tracking and unsubscribe link starts with it: an http(s) address of a host, nothing after
    its path (a query or a fragment would break each link made from it)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise ConfigError(
            f"[feedback] public_url must be the http(s) address the links start with, like "
            f"https://campagne.example.org, not {url!r}"
        )


PROVIDERS = {"sms": ("json", "twilio"), "push": ("json", "fcm")}


def _check_providers(config: Config) -> None:
    """Each HTTP provider's own keys, when it is the one that sends: a missing one is one line now, not
    every message failing later."""
    for section, allowed in PROVIDERS.items():
        provider = getattr(config, section).provider
        if provider not in allowed:
            choices = " or ".join(repr(a) for a in allowed)
            raise ConfigError(f"[{section}] provider must be {choices}, not {provider!r}")
    sms, push = config.sms, config.push
    if sms.transport == "http" and sms.provider == "twilio":
        for key in ("account_sid", "auth_token"):
            if not getattr(sms, key):
                raise ConfigError(f'[sms] provider "twilio" needs {key} (or CAMPAIGNS_SMS_{key.upper()})')
        if bool(sms.api_key_sid) != bool(sms.api_key_secret):
            raise ConfigError("[sms] api_key_sid and api_key_secret go together")
        _check_base_url("sms", sms.base_url)
    if push.transport == "http" and push.provider == "fcm":
        if not push.service_account:
            raise ConfigError('[push] provider "fcm" needs service_account, the path of its JSON key file')
        _check_base_url("push", push.base_url)


def _check_base_url(section: str, url: str) -> None:
    if not url.startswith(("https://", "http://")) or len(url) < 10:
        raise ConfigError(f"[{section}] base_url must be an http(s) address, not {url!r}")


# -- DKIM -------------------------------------------------------------------------------------------------

PEM_START = "-----BEGIN"
DKIM_KEY_ENV = "CAMPAIGNS_EMAIL_DKIM_PRIVATE_KEY"
_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def is_dns_name(name: str) -> bool:
    """Whether `name` is an ASCII DNS name (labels of letters, digits, `-` and `_`, dot-separated)."""
    labels = name.rstrip(".").split(".")
    return len(name) <= 253 and all(_DNS_LABEL.fullmatch(label) for label in labels)


def _check_dkim(email: EmailConfig) -> None:
    """A selector and a key that go together, names DNS can carry, and a key that is private and readable."""
    if not (email.dkim_selector and email.dkim_private_key):
        given, missing = (
            ("dkim_selector", "dkim_private_key")
            if email.dkim_selector
            else ("dkim_private_key", "dkim_selector")
        )
        raise ConfigError(f"[email] {given} is set but {missing} is not: DKIM signing needs both")
    if not is_dns_name(email.dkim_selector):
        raise ConfigError(
            f"[email] dkim_selector must be a DNS label like s2026, not {email.dkim_selector!r}"
        )
    if not is_dns_name(email.dkim_signing_domain) or "." not in email.dkim_signing_domain:
        raise ConfigError(
            f"[email] dkim_domain must be an ASCII domain name, not {email.dkim_signing_domain!r}"
        )
    dkim_private_key(email)


def dkim_private_key(email: EmailConfig) -> DkimKey:
    """The configured DKIM key, read and parsed (an RSA or Ed25519 key of `cryptography`); ConfigError, one
    line that never quotes the key, when it cannot be read, is open to other accounts, or is no such key."""
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    given = email.dkim_private_key.strip()
    if given.startswith(PEM_START):
        # An environment value may carry its line breaks as the two characters \n (a .env file, a unit file).
        pem, where = (given.replace("\\n", "\n") + "\n").encode("ascii", "replace"), DKIM_KEY_ENV
    else:
        path = Path(given).expanduser()
        where = f"the DKIM key {path}"
        from store.private_files import fixing_command, open_to_others

        try:
            if open_to_others([path]):
                fix = fixing_command([], [path])
                raise ConfigError(f"{where} can be read by other accounts: make it owner-only ({fix})")
            pem = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"cannot read {where} ([email] dkim_private_key): {exc.strerror or exc}"
            ) from None
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):  # encrypted, not PEM, or a damaged key; the message may quote it
        raise ConfigError(
            f"{where} is not an unencrypted PEM private key (make one with 'campaigns dkim keygen')"
        ) from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 1024:  # receivers ignore shorter ones (RFC 8301)
            raise ConfigError(
                f"{where} is a {key.key_size}-bit RSA key: DKIM needs 1024 bits or more (2048 advised)"
            )
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise ConfigError(f"{where} is neither an RSA nor an Ed25519 key, the two kinds DKIM signs with")
