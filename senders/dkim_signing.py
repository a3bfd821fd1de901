"""DKIM (RFC 6376): a signature on the exact bytes that go on the wire, and the DNS record that verifies it.

dkimpy parses, canonicalises (relaxed/relaxed), hashes and folds, as its `dkim.sign` does; the signature
itself is OpenSSL's, through `cryptography`: dkimpy's own RSA is pure Python, ~7 ms a message here
against 0.3 ms, and the engine sends a message in about 1 ms. The key is read and parsed once, when the
transport is made (`dkim_signer`).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from senders.mime import UnsendableMessage
from store.config import EmailConfig, dkim_private_key
from store.errors import CampaignsError

if TYPE_CHECKING:
    from store.config import DkimKey

CRLF = b"\r\n"
# What a receiver checks and what a relay must not change: who, what, when, the MIME structure and the
# list headers (RFC 2369, RFC 8058's one-click, RFC 2919's List-Id, Google's Feedback-ID). Only those
# present are signed; From a second time, so that a From added on the way breaks the signature.
SIGNED_HEADERS = (
    b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type",
    b"list-unsubscribe", b"list-unsubscribe-post", b"list-id", b"feedback-id",
)  # fmt: skip
DNS_TIMEOUT = 5.0  # seconds for a whole look-up, every server tried


class DnsUnreachable(CampaignsError):
    """No DNS server answered: the network is down, or closed to DNS."""


class DkimSigner:
    """Signs messages for one selector and domain with one key; `signer(raw)` is `raw` with its
    DKIM-Signature header first."""

    def __init__(self, key: DkimKey, selector: str, domain: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import ed25519
        from dkim.canonicalization import CanonicalizationPolicy

        self.key = key
        self.algorithm = b"ed25519-sha256" if isinstance(key, ed25519.Ed25519PrivateKey) else b"rsa-sha256"
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")
        self.policy = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")

    def __call__(self, message: bytes) -> bytes:
        from dkim import DKIMException

        try:
            return self.signature(message) + message
        except DKIMException:  # a message dkimpy cannot parse fails alone, as any unsendable one
            raise UnsendableMessage("the message cannot be DKIM-signed") from None

    def signature(self, message: bytes, now: float | None = None) -> bytes:
        """The DKIM-Signature header line (CRLF-terminated, folded) for `message`, byte for byte what
        `dkim.sign(message, selector, domain, key, canonicalize=(b"relaxed", b"relaxed"),
        include_headers=…)` writes at the same second."""
        from dkim import fold, hash_headers, rfc822_parse

        headers, body = rfc822_parse(message)
        present = {name.lower() for name, _ in headers}
        include = [name for name in SIGNED_HEADERS if name in present] + [b"from"]
        body_hash = base64.b64encode(hashlib.sha256(self.policy.canonicalize_body(body)).digest())
        fields = [
            (b"v", b"1"), (b"a", self.algorithm), (b"c", b"relaxed/relaxed"), (b"d", self.domain),
            (b"i", b"@" + self.domain), (b"q", b"dns/txt"), (b"s", self.selector),
            (b"t", str(int(time.time() if now is None else now)).encode("ascii")),
            (b"h", b" : ".join(include)), (b"bh", body_hash),
            # As dkimpy: a placeholder long enough to fold b= onto a line of its own, so that the real
            # value, folded in its place, leaves every other tag's folding as it was hashed.
            (b"b", b"0" * 60),
        ]  # fmt: skip
        name = b"DKIM-Signature"
        unsigned = fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(name), linesep=CRLF)
        digest = hashlib.sha256()
        hash_headers(
            digest, self.policy, self.policy.canonicalize_headers(headers), include,
            (name, b" " + unsigned), dict(fields),
        )  # fmt: skip
        fields[-1] = (b"b", base64.b64encode(self._sign(digest.digest())))
        value: bytes = fold(b"; ".join(b"=".join(f) for f in fields) + CRLF, namelen=len(name), linesep=CRLF)
        return name + b": " + value

    def _sign(self, digest: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ed25519, padding, utils

        if isinstance(self.key, ed25519.Ed25519PrivateKey):  # RFC 8463: Ed25519 over the SHA-256 digest
            return self.key.sign(digest)
        return self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


def dkim_signer(email: EmailConfig) -> DkimSigner | None:
    """The signer `[email]` configures, its key read now; None without a selector and a key."""
    if not (email.dkim_selector and email.dkim_private_key):
        return None
    return DkimSigner(dkim_private_key(email), email.dkim_selector, email.dkim_signing_domain)


# -- keys and their DNS record ------------------------------------------------------------------------


def new_key(ed25519: bool = False) -> DkimKey:
    """A new signing key: RSA of 2048 bits (what every receiver checks), or Ed25519 (RFC 8463)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519 as ed
    from cryptography.hazmat.primitives.asymmetric import rsa

    if ed25519:
        return ed.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key: DkimKey) -> bytes:
    """The key as an unencrypted PKCS#8 PEM, what `[email] dkim_private_key` reads."""
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def record_name(selector: str, domain: str) -> str:
    """Where receivers look the key up: `SELECTOR._domainkey.DOMAIN`."""
    return f"{selector}._domainkey.{domain}"


def record_value(key: DkimKey) -> str:
    """The TXT record's value: `v=DKIM1; k=rsa; p=…` (the public key as base64 DER, SubjectPublicKeyInfo)
    or `v=DKIM1; k=ed25519; p=…` (the raw 32 bytes, RFC 8463)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode('ascii')}"
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode('ascii')}"


def zone_strings(value: str, size: int = 255) -> str:
    """The value as a zone file writes it: quoted strings of at most 255 characters (RFC 1035)."""
    return " ".join(f'"{value[i : i + size]}"' for i in range(0, len(value), size))


def record_matches(published: str, key: DkimKey) -> bool:
    """Whether a published TXT value carries the public key of `key` (and says so for its kind)."""
    tags: dict[str, str] = {}
    for item in published.split(";"):
        tag, sep, value = item.partition("=")
        if sep:
            tags[tag.strip().lower()] = "".join(value.split())
    expected = {k.strip(): v.strip() for k, _, v in (t.partition("=") for t in record_value(key).split(";"))}
    if tags.get("v", "DKIM1") != "DKIM1" or tags.get("k", "rsa") != expected["k"] or not tags.get("p"):
        return False
    if tags["p"] == expected["p"] or expected["k"] != "rsa":
        return tags["p"] == expected["p"]
    # The same RSA key may be published as a bare PKCS#1 RSAPublicKey: compare the numbers.
    from cryptography.hazmat.primitives.asymmetric import rsa
    from dkim.crypto import UnparsableKeyError, parse_public_key

    try:
        found = parse_public_key(base64.b64decode(tags["p"]))
    except (UnparsableKeyError, ValueError, IndexError):
        return False
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.public_key().public_numbers()
    return bool(found["modulus"] == numbers.n and found["publicExponent"] == numbers.e)


def lookup_txt(name: str, timeout: float = DNS_TIMEOUT) -> list[str]:
    """The TXT values published at `name` (each one's strings joined); [] when there are none;
    DnsUnreachable when no server answers within `timeout` seconds."""
    import dns.exception
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver()
        answer = resolver.resolve(name, "TXT", lifetime=timeout)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.resolver.NoResolverConfiguration:
        raise DnsUnreachable("this machine has no DNS server configured (/etc/resolv.conf)") from None
    except dns.resolver.NoNameservers:
        raise DnsUnreachable(f"no DNS server gave an answer for {name}") from None
    except (dns.exception.Timeout, OSError) as exc:
        raise DnsUnreachable(f"no DNS server answered within {timeout:g} s ({type(exc).__name__})") from None
    return [_joined(record.strings) for record in answer]


def _joined(strings: Sequence[bytes]) -> str:
    return b"".join(strings).decode("ascii", "replace")
