"""Golden: the `--json` documents of `campaigns workers` and `campaigns test`, pinned to the character
(keys, their order, values), as docs/cli.md shows them. Made by `WorkerState.as_document()` and
`TestResult.as_document()`."""

from __future__ import annotations

from datetime import timedelta

from store.db import close_database, open_database
from store.models import Worker
from tests.conftest import NOW

WORKERS = """\
[
  {
    "name": "docs-check",
    "host": "vm",
    "pid": 9195,
    "state": "stopped",
    "started_at": "2026-11-20T10:00:00Z",
    "heartbeat_at": "2026-11-20T10:00:05Z",
    "sending": [],
    "sent": 12,
    "silent_for_seconds": 55
  },
  {
    "name": "ward-b",
    "host": "vm",
    "pid": 9196,
    "state": "silent",
    "started_at": "2026-11-20T10:00:00Z",
    "heartbeat_at": "2026-11-20T10:00:01Z",
    "sending": [
      3,
      14
    ],
    "sent": 7,
    "silent_for_seconds": 59
  }
]
"""

TEST_RESULTS = """\
[
  {
    "to": "anna.verdi@example.org",
    "address": "anna.verdi@example.org",
    "state": "sent",
    "error": null
  },
  {
    "to": "nope",
    "address": null,
    "state": "refused",
    "error": "invalid email: An email address must have an @-sign."
  }
]
"""


def test_the_workers_document(campaigns, sqlite_url, monkeypatch):
    assert campaigns("init").code == 0
    open_database(sqlite_url)
    seconds = [NOW + timedelta(seconds=s) for s in range(7)]
    Worker.create(name="docs-check", host="vm", pid=9195, started_at=NOW, heartbeat_at=seconds[5], sent=12,
                  stopped_at=seconds[6])  # fmt: skip
    Worker.create(name="ward-b", host="vm", pid=9196, started_at=NOW, heartbeat_at=seconds[1],
                  sending="3,14", sent=7)  # fmt: skip
    close_database()
    monkeypatch.setattr("store.workers.utcnow", lambda: NOW + timedelta(minutes=1))
    listed = campaigns("workers", "--json")
    assert (listed.code, listed.out) == (0, WORKERS)
    text = campaigns("workers").out.splitlines()
    assert text[0].split() == ["docs-check", "vm:9195", "stopped", "12", "sent"]
    assert text[1].split() == ["ward-b", "vm:9196", "silent", "for", "59", "s", "7", "sent"]


def test_the_test_document(campaigns, tmp_path, monkeypatch):
    monkeypatch.setenv("CAMPAIGNS_OUTBOX_PATH", str(tmp_path / "outbox"))
    monkeypatch.setenv("CAMPAIGNS_EMAIL_TRANSPORT", "outbox")
    created = campaigns(
        "create", "--channel", "email", "--name", "Check-up", "--sender", "Centro Medico",
        "--subject", "Per te", "--body", "Ciao {{ first_name }}", "--json",
    )  # fmt: skip
    assert created.code == 0, created.err
    draft = str(created.json["id"])
    tested = campaigns("test", draft, "--to", "anna.verdi@example.org, nope", "--json")
    assert (tested.code, tested.out) == (0, TEST_RESULTS)
    refused = campaigns("test", draft, "--to", "nope")
    assert (refused.code, refused.out) == (
        1,
        "nope: refused: invalid email: An email address must have an @-sign.\n",
    )
