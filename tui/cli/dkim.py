"""`campaigns dkim`: a signing key and the DNS record to publish for it, and whether DNS publishes it."""

from __future__ import annotations

from pathlib import Path

import click

from store.errors import BadInput, CampaignsError
from tui.cli.common import common_options, runtime
from tui.textout import plain


@click.group()
@common_options
def dkim() -> None:
    """DKIM signing of email: with [email] dkim_selector and dkim_private_key set, every email (tests
    included) goes with a DKIM-Signature of the From address's domain (or [email] dkim_domain), which
    receivers verify against the public key published in DNS.

    Set-up: `dkim keygen --selector S`, publish the TXT record it prints, set the two keys it names,
    then `dkim check`.
    """


@dkim.command("keygen")
@click.option("--selector", required=True, metavar="S", help="The key's name in DNS, e.g. s2026.")
@click.option(
    "--out",
    metavar="PATH",
    help="Where the key goes (never overwritten); default: the data folder's dkim/S.pem.",
)
@click.option(
    "--ed25519", is_flag=True, help="An Ed25519 key instead of RSA 2048 (few receivers check it yet)."
)
@click.option(
    "--domain", metavar="DOMAIN", help="The signing domain; default: [email] dkim_domain, else From's."
)
@common_options
def keygen(selector: str, out: str | None, ed25519: bool, domain: str | None) -> None:
    """Write a new owner-only (0600) DKIM private key and print the DNS TXT record to publish for it."""
    from senders.dkim_signing import key_pem, new_key, record_name, record_value
    from store.config import data_dir, is_dns_name
    from store.private_files import open_private, private_folder

    rt = runtime()
    domain = (domain or rt.config.email.dkim_signing_domain).lower().rstrip(".")
    if not is_dns_name(selector):
        raise BadInput(f"--selector must be a DNS label like s2026, not {selector!r}")
    if not is_dns_name(domain) or "." not in domain:
        raise BadInput(f"--domain must be an ASCII domain name, not {domain!r}")
    path = (Path(out).expanduser() if out else data_dir() / "dkim" / f"{selector}.pem").absolute()
    if path.exists() or path.is_symlink():
        raise BadInput(f"{path} exists already: keygen never replaces a key (give another --out)")
    key = new_key(ed25519)
    try:
        private_folder(path.parent)
        with open_private(path, "xb") as written:
            written.write(key_pem(key))
    except FileExistsError:
        raise BadInput(f"{path} exists already: keygen never replaces a key (give another --out)") from None
    except OSError as exc:
        raise CampaignsError(f"cannot write the key to {path}: {exc.strerror or exc}") from None
    name, value = record_name(selector, domain), record_value(key)
    document = {"name": name, "type": "TXT", "value": value, "key_file": str(path)}
    rt.emit(document, lambda: _keygen_text(selector, domain, name, value, path, ed25519))


def _keygen_text(selector: str, domain: str, name: str, value: str, path: Path, ed25519: bool) -> str:
    from senders.dkim_signing import zone_strings

    rt = runtime()
    kind = "Ed25519" if ed25519 else "2048-bit RSA"
    settings = [f'  dkim_selector = "{selector}"', f'  dkim_private_key = "{plain(str(path), 4096)}"']
    if domain != rt.config.email.from_address.rpartition("@")[2].lower():
        settings.append(f'  dkim_domain = "{domain}"')
    return "\n".join(
        [
            f"Wrote a new {kind} key to {plain(str(path), 4096)} (owner-only; keep it so, and keep a copy).",
            "",
            "Publish this DNS record at the domain's DNS provider:",
            f"  name:  {name}",
            "  type:  TXT",
            f"  value: {value}",
            "",
            "In a zone file:",
            f"  {name}. IN TXT ( {zone_strings(value)} )",
            "",
            "Then set in [email] of the configuration (or CAMPAIGNS_EMAIL_DKIM_* variables):",
            *settings,
            "and, once the record is visible, run `campaigns dkim check`.",
        ]
    )


@dkim.command("check")
@common_options
def check() -> None:
    """Look the configured selector's record up in DNS and say whether it holds the configured key's
    public half (exit 0), or is missing or different (exit 1). Also said, not counted in the exit
    status: the SPF record of the envelope sender's domain ([email] return_path, else From's), the
    DMARC record of the From domain, and whether the signing domain is aligned with From (DMARC)."""
    from senders.dkim_signing import DnsUnreachable, lookup_txt, record_matches, record_name, record_value
    from senders.email_check import aligned
    from store.config import dkim_private_key

    rt = runtime()
    email = rt.config.email
    if not (email.dkim_selector and email.dkim_private_key):
        raise BadInput(
            "DKIM is not configured: set [email] dkim_selector and dkim_private_key "
            "('campaigns dkim keygen' makes a key)"
        )
    key = dkim_private_key(email)
    name, expected = record_name(email.dkim_selector, email.dkim_signing_domain), record_value(key)
    try:
        published = lookup_txt(name)
    except DnsUnreachable as exc:
        raise DnsUnreachable(f"cannot look up {name}: {exc}") from None
    matches = any(record_matches(value, key) for value in published)
    spf_name = email.envelope_sender.rpartition("@")[2].lower()
    dmarc_name = f"_dmarc.{email.from_domain}"
    spf, dmarc = _records(spf_name, "v=spf1"), _records(dmarc_name, "v=dmarc1")
    is_aligned = aligned(email.dkim_signing_domain, email.from_domain)
    document = {
        "name": name, "type": "TXT", "value": expected, "published": published, "matches": matches,
        "spf": {"name": spf_name, "published": spf}, "dmarc": {"name": dmarc_name, "published": dmarc},
        "aligned": is_aligned,
    }  # fmt: skip

    def text() -> str:
        lines = [_check_text(name, expected, published, matches)]
        if not is_aligned:
            lines.append(
                f"DKIM signs for {email.dkim_signing_domain}, not the From domain {email.from_domain}: "
                "DMARC counts it only when they are aligned (set [email] dkim_domain to the From domain)."
            )
        if spf is None or dmarc is None:
            lines.append("SPF and DMARC: DNS did not answer for them")
        if spf:
            lines.append(f"SPF at {spf_name}: {plain(spf[0], 200)}")
        elif spf is not None:
            lines.append(
                f"SPF: {spf_name} has no v=spf1 record: publish one naming the servers that send "
                f'(e.g. "v=spf1 include:<your relay> ~all")'
            )
        if dmarc:
            lines.append(f"DMARC at {dmarc_name}: {plain(dmarc[0], 200)}")
        elif dmarc is not None:
            lines.append(
                f"DMARC: {dmarc_name} has no v=DMARC1 record: publish one, starting with "
                f'"v=DMARC1; p=none; rua=mailto:dmarc@{email.from_domain}"'
            )
        return "\n".join(lines)

    rt.emit(document, text)
    if not matches:
        raise SystemExit(1)  # as `test` does when nothing was sent: the answer printed, the status says no


def _records(name: str, kind: str) -> list[str] | None:
    """The TXT records at `name` of one kind (`v=spf1`, `v=dmarc1`); None when DNS does not answer."""
    from senders.dkim_signing import DnsUnreachable, lookup_txt

    try:
        return [value for value in lookup_txt(name) if value.lower().startswith(kind)]
    except DnsUnreachable:
        return None


def _check_text(name: str, expected: str, published: list[str], matches: bool) -> str:
    if matches:
        return f"{name} publishes the public key of [email] dkim_private_key: signatures will verify."
    if not published:
        said = f"{name} has no TXT record (a new one can take up to its TTL to show): publish"
    else:
        found = "; ".join(plain(value, 80) for value in published)
        said = f"{name} publishes another key ({found}): receivers fail every signature. Publish instead"
    return f"{said}\n  {expected}"


COMMANDS = [dkim]
