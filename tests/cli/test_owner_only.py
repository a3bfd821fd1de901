"""Under the usual umask (022), only the account running `campaigns` can read what it writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import pytest

from store.campaigns import create_campaign
from store.db import close_database, open_database, sqlite_path
from tests.modes import mode_of, usual_umask
from tests.senders.peers import free_port


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    with usual_umask():
        yield


def test_init_creates_the_database_0600_and_so_are_its_wal_and_shm(campaigns, sqlite_url):
    assert campaigns("init").code == 0
    database = sqlite_path(sqlite_url)
    assert mode_of(database) == 0o600
    open_database(sqlite_url)  # the -wal and -shm live while a connection is open
    try:
        create_campaign(channel="sms", name="Richiamo", sender="CentroMed", body="Ciao")
        for suffix in ("-wal", "-shm"):
            assert mode_of(database.with_name(database.name + suffix)) == 0o600
    finally:
        close_database()


def test_the_default_data_folder_is_0700(campaigns, monkeypatch, tmp_path):
    monkeypatch.delenv("CAMPAIGNS_DB")
    result = campaigns("init")
    assert result.code == 0 and result.err == ""
    data = tmp_path / "home" / ".local" / "share" / "campaigns"
    assert mode_of(data) == 0o700
    assert mode_of(data / "campaigns.db") == 0o600


def sent_campaign(campaigns, channel: str, sender: str, to: str) -> int:
    made = campaigns("create", "--channel", channel, "--name", "Richiamo", "--sender", sender,
                     "--subject", "Controllo", "--body", "Ciao {{ first_name }}", "--json")  # fmt: skip
    campaign_id = made.json["id"]
    assert campaigns("recipients", "add", str(campaign_id), "--paste", to).code == 0
    assert campaigns("send", str(campaign_id)).code == 0
    return campaign_id


def test_the_outbox_is_owner_only(campaigns, monkeypatch, tmp_path):
    monkeypatch.setenv("CAMPAIGNS_FEEDBACK_LISTEN", f"127.0.0.1:{free_port()}")
    email = sent_campaign(campaigns, "email", "Centro Medico", "anna@example.org")
    sms = sent_campaign(campaigns, "sms", "CentroMed", "3471234567")
    assert campaigns("worker", "--until-idle").code == 0
    outbox = tmp_path / "outbox"
    assert mode_of(outbox) == 0o700
    written = {path.suffix: path for path in outbox.rglob("*.*")}
    assert written[".eml"].parent.name == f"campaign-{email}"
    assert written[".json"].parent.name == f"campaign-{sms}"
    assert {mode_of(path) for path in written.values()} == {0o600}
    assert {mode_of(folder) for folder in outbox.iterdir()} == {0o700}


def test_an_export_is_0600_in_the_folder_the_user_chose(campaigns, tmp_path):
    campaign_id = sent_campaign(campaigns, "sms", "CentroMed", "3471234567")
    chosen = tmp_path / "exports"
    chosen.mkdir(mode=0o755)
    out = chosen / "recipients.csv"
    result = campaigns("export", str(campaign_id), "--who", "all", "--out", str(out), "--json")
    assert result.json["rows"] == 1
    assert mode_of(out) == 0o600
    assert mode_of(chosen) == 0o755  # the user's folder, the user's choice


def test_the_csv_template_is_0600(campaigns, tmp_path):
    out = tmp_path / "template.csv"
    assert campaigns("recipients", "template", str(out)).code == 0
    assert out.read_text(encoding="utf-8").startswith("first_name,last_name,email,phone")
    assert mode_of(out) == 0o600


def test_a_database_others_can_read_gets_one_warning_line_with_the_fix(campaigns, sqlite_url):
    assert campaigns("init").code == 0
    database = sqlite_path(sqlite_url)
    database.chmod(0o644)
    result = campaigns("list", "--json")
    assert result.code == 0
    json.loads(result.out)  # stdout is still exactly one JSON document
    [line] = result.err.splitlines()
    assert line.startswith("campaigns: warning: other accounts on this machine can read")
    assert line.endswith(f"fix it with: chmod 600 {database}")
    assert mode_of(database) == 0o644  # told, not changed behind the user's back
    database.chmod(0o600)
    assert campaigns("list").err == ""


def test_the_warning_names_every_file_others_can_read(campaigns, sqlite_url):
    assert campaigns("init").code == 0
    database = sqlite_path(sqlite_url)
    database.chmod(0o644)
    held = sqlite3.connect(database)  # another program's connection: SQLite gives -wal and -shm the db's mode
    try:
        held.execute("PRAGMA journal_mode = wal")
        held.execute("INSERT INTO setting (key, value) VALUES ('probe', 'x')")
        held.commit()
        result = campaigns("list")
    finally:
        held.close()
    assert result.err.rstrip().endswith(f"chmod 600 {database} {database}-wal {database}-shm")
