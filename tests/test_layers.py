"""The layer contracts hold on the tree, and the check catches a deliberate violation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.layers import ROOT, import_circles, threads_touching_the_screen, violations


def test_the_tree_keeps_its_layers():
    assert [str(v) for v in violations()] == []


def test_no_modules_import_each_other_in_a_circle():
    assert import_circles() == []


def test_the_check_finds_a_circle(tmp_path):
    write(tmp_path, "tui/cli/__init__.py", "from tui.cli import send\n")  # its own package: no circle
    write(tmp_path, "tui/cli/send.py", "from tui.cli.common import runtime\n")
    write(tmp_path, "tui/cli/common.py", "from tui.textout import plain\n")
    write(tmp_path, "tui/textout.py", "def f():\n    from tui.cli.send import x\n")  # deferred: allowed
    assert import_circles(tmp_path) == []
    write(tmp_path, "tui/textout.py", "from tui.cli.send import x\n")
    [circle] = import_circles(tmp_path)
    assert circle[0] == circle[-1] and set(circle) == {"tui.cli.send", "tui.cli.common", "tui.textout"}


def write(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")


def test_the_check_fails_each_kind_of_violation(tmp_path):
    write(tmp_path, "store/reads.py", "from tui.screens.summary import SummaryScreen\n")
    write(tmp_path, "store/sends.py", "import httpx\n")
    write(tmp_path, "senders/shows.py", "def f():\n    from textual.app import App\n")
    write(tmp_path, "senders/queries.py", "from peewee import fn\n")
    write(tmp_path, "tui/screens/peeks.py", "from store import models\n")
    write(tmp_path, "tui/cli/eager.py", "import textual.app\n")
    write(tmp_path, "fixtures/writes.py", "from store.models import Contact\n")
    write(tmp_path, "store/sneaks.py", "from ..tui import app\n")  # a relative import is named too
    write(tmp_path, "tui/cli/lazy.py", "def tui():\n    from tui.app import make_app\n    import textual\n")
    write(
        tmp_path,
        "tui/screens/fine.py",
        "from textual.screen import Screen\nfrom store.campaigns import get_campaign\n",
    )
    write(
        tmp_path,
        "tui/__init__.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import textual\n",
    )
    found = {(v.path, v.imported) for v in violations(tmp_path)}
    assert found == {
        ("store/reads.py", "tui.screens.summary"),
        ("store/sends.py", "httpx"),
        ("senders/shows.py", "textual.app"),
        ("senders/queries.py", "peewee"),
        ("tui/screens/peeks.py", "store.models"),
        ("tui/cli/eager.py", "textual.app"),
        ("fixtures/writes.py", "store.models"),
        ("store/sneaks.py", "tui"),
    }


def test_the_command_line_loads_no_textual_until_the_app_opens():
    probe = (
        "import sys, tui, tui.cli\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_no_thread_worker_touches_the_screen():
    assert threads_touching_the_screen() == []


def test_the_check_finds_a_thread_worker_that_touches_the_screen(tmp_path):
    write(
        tmp_path,
        "tui/screens/eager.py",
        "class S:\n"
        "    @work(thread=True, exclusive=True)\n"
        "    def load(self):\n"
        "        rows = read()\n"  # its own locals: fine
        "        seen = set()\n"
        "        seen.update(rows)\n"
        "        self.rows = rows\n"
        "        self.query_one('#t').update(rows)\n"
        "        self.post_message(Loaded(rows))\n"
        "    @work(exclusive=True)\n"
        "    async def act(self):\n"  # on the loop: it may
        "        self.done = True\n",
    )
    assert threads_touching_the_screen(tmp_path) == [
        "tui/screens/eager.py:7: load writes self.rows",
        "tui/screens/eager.py:8: load calls update",
        "tui/screens/eager.py:8: load calls query_one",
    ]
