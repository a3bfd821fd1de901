"""Files and folders only their owner can read: what the product writes holds personal data or secrets.

Modes are set explicitly rather than left to the umask: a 022 umask, the usual one on a shared SSH server,
would let every local account read the inboxes and the link secret.
"""

from __future__ import annotations

import errno
import os
import shlex
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: str | Path) -> Path:
    """The folder, made with any missing parents as 0700; a folder that exists already keeps its mode."""
    folder = Path(path)
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for created in reversed(missing):
        try:
            created.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another thread or process, which sets its own mode
        os.chmod(created, FOLDER_MODE)  # mkdir's mode went through the umask
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
    return folder


def open_private(path: str | Path, mode: str = "w", **text_options: Any) -> IO[Any]:
    """Opens a file for writing as 0600, whatever the umask: `w`/`wb` replace its content, `x`/`xb` refuse
    one that exists; `encoding` and `newline` as for `open`.

    A file that exists already is made 0600 as well: what is written into it now is the product's."""
    if mode not in ("w", "wb", "x", "xb"):
        raise ValueError(f"open_private writes only (w, wb, x, xb), not {mode!r}")
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if mode.startswith("x") else 0)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        # A terminal or a pipe (`/dev/stdout`) keeps nothing on disk, and its mode is not ours to change.
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            # Mode first, truncation after: a file whose mode cannot change keeps its content.
            os.fchmod(descriptor, FILE_MODE)
            os.ftruncate(descriptor, 0)
        return open(descriptor, mode.replace("x", "w"), **text_options)
    except BaseException:
        os.close(descriptor)
        raise


def write_private_bytes(path: str | Path, data: bytes) -> None:
    """Writes the bytes to a 0600 file."""
    with open_private(path, "wb") as out:
        out.write(data)


def write_private_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Writes the text to a 0600 file, line endings as given."""
    with open_private(path, "w", encoding=encoding, newline="") as out:
        out.write(text)


def create_private_file(path: str | Path) -> bool:
    """Creates an empty 0600 file; False, and nothing changed, when one exists already."""
    try:
        open_private(path, "xb").close()
    except FileExistsError:
        return False
    return True


def open_to_others(paths: Iterable[Path]) -> list[Path]:
    """Those of the paths that exist and that some other account may read, write or enter."""
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        if stat.S_IMODE(mode) & 0o077:
            found.append(path)
    return found


def fixing_command(folders: list[Path], files: list[Path]) -> str:
    """The shell command that makes these folders 0700 and these files 0600."""
    steps = []
    if folders:
        steps.append("chmod 700 " + " ".join(shlex.quote(str(folder)) for folder in folders))
    if files:
        steps.append("chmod 600 " + " ".join(shlex.quote(str(file)) for file in files))
    return " && ".join(steps)
