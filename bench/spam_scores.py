"""SpamAssassin's score of every demo email campaign as the program sends it, before and after issue 20's
changes to the email (List-Id, Feedback-ID, the footer's words, `--no-open-tracking`). The issue asks
<= 1.0; the suite (tests/senders/test_spam_scores.py) holds that no rule scores but the open-tracking
image's HTML_IMAGE_ONLY_NN in a short HTML part.

For each email campaign of `fixtures.plans.PLANS` (A, and B as a campaign of its own), the real program
makes the email: `campaigns create`, one recipient (Maria Rossi, from a CSV file), `send`, then
`worker --until-idle` with the outbox transport, in a throw-away folder (SQLite, From
noreply@centromedico.example, links on https://campagne.centromedico.example, the footer in Italian).
The .eml it wrote is scored by `spamassassin -L -t` (its network-free rules: the signature and
blocklists aside, what a receiver without network tests scores), unsigned. The program is run as
`python -m tui` from `--source DIR` (default: this checkout), so an older checkout can be scored too:

    git worktree add /tmp/before c2626ef     # the commit before the email's changes
    .venv/bin/python bench/spam_scores.py --before /tmp/before
    git worktree remove /tmp/before

A checkout without `--no-open-tracking` (`create --help` says) is scored with the image only. Needs
`spamassassin` on the PATH (apt install spamassassin).
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine

from fixtures.plans import PLANS

ROOT = Path(__file__).resolve().parent.parent
FROM_ADDRESS = "noreply@centromedico.example"
PUBLIC_URL = "https://campagne.centromedico.example"
RECIPIENT = "first_name,last_name,email\nMaria,Rossi,maria.rossi@example.org\n"
GOAL = 1.0
_HEAD = re.compile(r"Content analysis details:\s+\((-?[\d.]+) points")
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z][A-Z0-9_]+)\s")


@dataclass(frozen=True)
class Content:
    name: str
    sender: str
    subject: str | None
    coupon: str | None
    body: str


@dataclass(frozen=True)
class Scored:
    html_bytes: int
    score: float
    rules: dict[str, float]  # the rules that gave points (either sign), with their points

    def said(self) -> str:
        return ", ".join(f"{name} {points:g}" for name, points in self.rules.items()) or "none"

    def points(self) -> str:
        """As SpamAssassin writes it, one decimal (its -0.0 is 0.0)."""
        return f"{self.score:.1f}".replace("-0.0", "0.0")


def demo_contents() -> list[Content]:
    """Every demo email campaign; an A/B test's B as a campaign of its own, its subject B's (or A's)."""
    found = []
    for plan in PLANS:
        if plan.channel != "email":
            continue
        found.append(Content(plan.name, plan.sender, plan.subject, plan.coupon, plan.body))
        if plan.variant_body is not None:
            subject = plan.variant_subject if plan.variant_subject is not None else plan.subject
            found.append(Content(f"{plan.name} (B)", plan.sender, subject, plan.coupon, plan.variant_body))
    return found


class Program:
    """`campaigns` of one checkout, on a database and outbox of its own under `folder`."""

    def __init__(self, source: Path, folder: Path, language: str) -> None:
        self.source, self.folder = source, folder
        config = folder / "campaigns.toml"
        config.write_text("")  # nothing of the user's own configuration
        # Only the settings named here: none of the caller's CAMPAIGNS_* (a DKIM key, a database)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
        self.env = env | {
            "PYTHONPATH": str(source),
            "XDG_DATA_HOME": str(folder / "data"),
            "XDG_CONFIG_HOME": str(folder / "config"),
            "CAMPAIGNS_CONFIG": str(config),
            "CAMPAIGNS_DB": f"sqlite:///{folder}/campaigns.db",
            "CAMPAIGNS_EMAIL_TRANSPORT": "outbox",
            "CAMPAIGNS_OUTBOX_PATH": str(folder / "outbox"),
            "CAMPAIGNS_EMAIL_FROM_ADDRESS": FROM_ADDRESS,
            "CAMPAIGNS_EMAIL_LANGUAGE": language,
            "CAMPAIGNS_FEEDBACK_PUBLIC_URL": PUBLIC_URL,
            "CAMPAIGNS_FEEDBACK_LISTEN": "127.0.0.1:0",  # the worker's feedback server: any free port
        }

    def run(self, *args: str) -> str:
        command = [sys.executable, "-m", "tui", *args]
        done = subprocess.run(command, cwd=self.source, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args[:2])} in {self.source}: {done.stderr.strip()}")
        return done.stdout

    def tracks_opens_per_campaign(self) -> bool:
        return "--no-open-tracking" in self.run("create", "--help")

    def send(self, contents: list[Content], tracking: bool) -> dict[str, bytes]:
        """Each content as a campaign of its own to Maria Rossi; the emails the outbox holds, by name."""
        recipients = self.folder / "recipients.csv"
        recipients.write_text(RECIPIENT)
        ids = {}
        for content in contents:
            args = ["create", "--json", "--channel", "email", "--name", content.name,
                    "--sender", content.sender, "--body", content.body]  # fmt: skip
            if content.subject is not None:
                args += ["--subject", content.subject]
            if content.coupon is not None:
                args += ["--coupon", content.coupon]
            if not tracking:
                args.append("--no-open-tracking")
            campaign_id = json.loads(self.run(*args))["id"]
            self.run("recipients", "add", str(campaign_id), "--file", str(recipients), "--json")
            self.run("send", str(campaign_id), "--json")
            ids[content.name] = campaign_id
        self.run("worker", "--until-idle", "--json")
        sent = {}
        for name, campaign_id in ids.items():
            (eml,) = (self.folder / "outbox" / f"campaign-{campaign_id}").glob("*.eml")
            sent[name] = eml.read_bytes()
        return sent


def html_bytes(raw: bytes) -> int:
    """The HTML part's own length (its source, tags and tracked links included): what SpamAssassin's
    HTML_IMAGE_ONLY_NN counts."""
    message = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return len(part.get_content().encode("utf-8"))
    return 0


def spamassassin(raw: bytes) -> Scored:
    done = subprocess.run(
        ["spamassassin", "-L", "-t"], input=raw, capture_output=True, timeout=300, check=True
    )
    output = done.stdout.decode("utf-8", "replace")
    heads = list(_HEAD.finditer(output))  # the last: the message's own text comes first
    if not heads:
        raise SystemExit(f"no SpamAssassin report in:\n{output[-2000:]}")
    rules = {}
    for line in output[heads[-1].end() :].splitlines():
        match = _RULE.match(line)
        if match and float(match.group(1)) != 0:
            rules[match.group(2)] = float(match.group(1))
    return Scored(html_bytes(raw), float(heads[-1].group(1)), rules)


def measure(source: Path, contents: list[Content], language: str) -> dict[bool, dict[str, Scored]]:
    """{tracked: {campaign: scored}}: with the open-tracking image, and without it where the checkout can."""
    found: dict[bool, dict[str, Scored]] = {}
    with tempfile.TemporaryDirectory() as folder:
        can_untrack = Program(source, Path(folder), language).tracks_opens_per_campaign()
    for tracking in (True, False) if can_untrack else (True,):
        with tempfile.TemporaryDirectory() as folder:
            sent = Program(source, Path(folder), language).send(contents, tracking)
        with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
            found[tracking] = dict(zip(sent, pool.map(spamassassin, sent.values()), strict=True))
    return found


def version_of(source: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(source), "log", "-1", "--format=%h"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(source), "status", "--porcelain"], capture_output=True, text=True
    )
    return (done.stdout.strip() or str(source)) + (" + work tree" if dirty.stdout.strip() else "")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to score (default: this one)")
    parser.add_argument("--before", type=Path, help="an older checkout to score beside it")
    parser.add_argument("--language", choices=("it", "en"), default="it", help="[email] language")
    args = parser.parse_args()
    if shutil.which("spamassassin") is None:
        raise SystemExit("spamassassin is not installed (apt install spamassassin)")
    contents = demo_contents()
    after = measure(args.source.resolve(), contents, args.language)
    before = measure(args.before.resolve(), contents, args.language)[True] if args.before else None
    version = subprocess.run(["spamassassin", "--version"], capture_output=True, text=True).stdout
    print(f"machine: {machine()}; {date.today().isoformat()}")
    print(f"{version.splitlines()[0]}, spamassassin -L -t, unsigned, footer language {args.language}")
    print(f"after: {version_of(args.source)}" + (f"; before: {version_of(args.before)}" if before else ""))
    print()
    untracked = after.get(False)
    head = ["campaign", "HTML bytes"]
    head += ["before"] if before else []
    head += ["after"] + (["after, --no-open-tracking"] if untracked else []) + ["rules that scored"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for content in contents:
        name = content.name
        runs = ([("before", before[name])] if before else []) + [("after", after[True][name])]
        runs += [("no tracking", untracked[name])] if untracked else []
        sizes = " / ".join(f"{scored.html_bytes:,}" for _, scored in runs)
        scores = [scored.points() for _, scored in runs]
        rules = "; ".join(f"{label}: {scored.said()}" for label, scored in runs)
        print(f"| {name} | {sizes} | " + " | ".join(scores) + f" | {rules} |")
    worst = max(scored.score for scored in (untracked or after[True]).values())
    verdict = "meets" if worst <= GOAL else "MISSES"
    which = "without open tracking" if untracked else "as sent"
    print(f"\nworst after, {which}: {worst:.1f} (goal <= {GOAL:g}): {verdict}".replace("-0.0", "0.0"))


if __name__ == "__main__":
    main()
