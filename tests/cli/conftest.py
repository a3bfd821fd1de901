from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from store.db import close_database
from tui.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def campaigns(capsys, sqlite_url, monkeypatch):
    """Runs `campaigns ARGS` in this process against a fresh SQLite database; returns code, stdout, stderr."""
    monkeypatch.setenv("CAMPAIGNS_DB", sqlite_url)

    def run(*args: str, stdin: str | None = None) -> Result:
        if stdin is not None:
            import io

            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            close_database()
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
