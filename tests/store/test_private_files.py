"""Owner-only files and folders, whatever the umask; and the warning about a database others can read."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.campaigns import create_campaign
from store.config import data_dir, default_database_url
from store.db import close_database, exposure_warning, open_database
from store.private_files import open_private, private_folder, write_private_bytes
from store.schema import migrate_schema
from tests.modes import mode_of, usual_umask


@pytest.fixture(autouse=True)
def _usual_umask() -> Iterator[None]:
    with usual_umask():
        yield


def test_folders_it_creates_are_0700_and_a_chosen_one_keeps_its_mode(tmp_path):
    chosen = tmp_path / "chosen"
    chosen.mkdir(mode=0o755)
    private_folder(chosen / "outbox" / "campaign-1")
    assert mode_of(chosen) == 0o755
    assert mode_of(chosen / "outbox") == mode_of(chosen / "outbox" / "campaign-1") == 0o700


def test_files_are_0600_even_one_that_was_0644(tmp_path):
    write_private_bytes(tmp_path / "new.eml", b"Hi")
    old = tmp_path / "old.csv"
    old.write_text("before, longer than after")
    old.chmod(0o644)
    with open_private(old, "w", encoding="utf-8") as out:
        out.write("after")
    assert mode_of(tmp_path / "new.eml") == mode_of(old) == 0o600
    assert old.read_text() == "after"
    with pytest.raises(FileExistsError):
        open_private(old, "x")


def test_a_new_database_and_its_wal_and_shm_are_0600(tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'campaigns.db'}"
    open_database(url)
    try:
        migrate_schema()
        create_campaign(channel="sms", name="Richiamo", sender="CentroMed", body="Ciao")
        path = tmp_path / "new" / "campaigns.db"
        wal, shm = path.with_name("campaigns.db-wal"), path.with_name("campaigns.db-shm")
        assert wal.exists() and shm.exists()
        assert (mode_of(path), mode_of(wal), mode_of(shm)) == (0o600, 0o600, 0o600)
        assert mode_of(path.parent) == 0o700
        assert exposure_warning(url) is None
    finally:
        close_database()


def test_the_default_data_folder_is_created_0700():
    open_database(default_database_url())
    try:
        migrate_schema()
    finally:
        close_database()
    assert mode_of(data_dir()) == 0o700
    assert mode_of(data_dir() / "campaigns.db") == 0o600


def test_an_existing_database_others_can_read_keeps_its_mode_and_gets_a_warning(tmp_path):
    path = tmp_path / "campaigns.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    open_database(f"sqlite:///{path}")
    close_database()
    assert mode_of(path) == 0o644  # never changed behind the user's back
    warning = exposure_warning(f"sqlite:///{path}")
    assert warning is not None and warning.endswith(f"fix it with: chmod 600 {path}")


def test_postgresql_gets_no_warning():
    assert exposure_warning("postgresql://ann@db.example/center") is None


def test_the_warning_names_the_default_data_folder_when_others_can_enter_it():
    open_database(default_database_url())
    close_database()
    data_dir().chmod(0o755)
    warning = exposure_warning(default_database_url())
    assert warning is not None and warning.endswith(f"fix it with: chmod 700 {data_dir()}")


def test_paths_with_spaces_are_quoted_in_the_fixing_command(tmp_path: Path):
    path = tmp_path / "my data" / "campaigns.db"
    open_database(f"sqlite:///{path}")
    close_database()
    path.chmod(0o640)
    warning = exposure_warning(f"sqlite:///{path}")
    assert warning is not None and warning.endswith(f"chmod 600 '{path}'")


def test_a_pipe_is_written_to_as_it_is(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe, 0o644)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # the other end, as a shell's `| cat` would be
    try:
        write_private_bytes(pipe, b"first_name\n")
        assert os.read(reader, 100) == b"first_name\n"
    finally:
        os.close(reader)
    assert mode_of(pipe) == 0o644
