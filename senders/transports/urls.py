"""Where a provider's credentials may be sent: over TLS, or in clear only to this machine (a stand-in)."""

from __future__ import annotations

import ipaddress

import httpx


def safe_url(url: str) -> bool:
    """https, or http to this machine only (a stand-in): a signed grant or a token never travels in clear."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return False
    if parsed.scheme == "https" and parsed.host:
        return True
    return parsed.scheme == "http" and _loopback(parsed.host)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
