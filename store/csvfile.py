"""Reading CSV files as people really have them: Excel exports with `;`, a BOM, CRLF, cp1252, stray spaces."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from store.errors import ImportRefused
from store.limits import shown as shown_value

SNIFF_BYTES = 64 * 1024
_HEADER_SPACES = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class CsvTable:
    """The data rows of a file under normalised header names, each as long as the header at least.

    `lines[i]` is the row number of `rows[i]` in the file as a spreadsheet shows it (the header is 1).
    """

    path: str
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    sheet: str | None = None  # the sheet read, for a spreadsheet (store.sheets)

    def numbered(self) -> Iterator[tuple[int, list[str]]]:
        return zip(self.lines, self.rows, strict=True)

    def column(self, index: int) -> list[str]:
        """One column's cells, stripped."""
        return [row[index].strip() for row in self.rows]

    def index(self, name: str) -> int | None:
        try:
            return self.header.index(name)
        except ValueError:
            return None


def normalise_header(name: str) -> str:
    """`' First Name '` and `FIRST_NAME` both become `first_name`."""
    return _HEADER_SPACES.sub("_", name.strip().strip("\ufeff").strip().lower())


def decode(data: bytes, path: str, kind: str = "a CSV file") -> str:
    """UTF-16 with its BOM (Excel's "Unicode text"), UTF-8, or Windows-1252 line by line.

    A UTF-8 file with one stray Windows byte keeps its other lines' accents right: only the lines
    that are not UTF-8 are read as Windows-1252. `path` and `kind` name the source in refusals.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportRefused(f"{path} is not readable UTF-16 text") from None
    if b"\x00" in data:  # anywhere: a NUL deep in a text file is no name (and PostgreSQL refuses it)
        raise ImportRefused(f"{path} is not {kind} (it holds binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = []
    for line in data.splitlines(keepends=True):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                lines.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                raise ImportRefused(
                    f"{path} is in an encoding that cannot be read; save it as UTF-8 (Excel: CSV UTF-8)"
                ) from None
    return "".join(lines).removeprefix("\ufeff")


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


MAX_FILE_BYTES = 512 * 1024 * 1024  # a million contacts of a registry are some 200 MB of CSV


def refuse_unless_a_file(path: str | Path, shown: str) -> None:
    """Refuses, in one line, what cannot be imported whole: no such file, a folder, a pipe or a device
    (reading a FIFO would wait for ever, /dev/zero would fill the memory), or a file too big."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        raise ImportRefused(f"{shown} does not exist") from None
    except OSError as exc:
        raise ImportRefused(f"cannot read {shown}: {exc.strerror}") from None
    if stat.S_ISDIR(found.st_mode):
        raise ImportRefused(f"{shown} is a folder, not a file")
    if not stat.S_ISREG(found.st_mode):
        raise ImportRefused(f"{shown} is not a file but a pipe or a device; name a file")
    if found.st_size > MAX_FILE_BYTES:
        raise ImportRefused(
            f"{shown} is {found.st_size / 2**20:,.0f} MB; import at most {MAX_FILE_BYTES // 2**20} MB at once"
        )


def read_csv_table(path: str | Path, *, max_rows: int | None = None, what: str = "rows") -> CsvTable:
    """Reads a whole CSV file or refuses it with one clear line (ImportRefused)."""
    shown = str(path)
    refuse_unless_a_file(path, shown)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ImportRefused(f"{shown} does not exist") from None
    except IsADirectoryError:
        raise ImportRefused(f"{shown} is a folder, not a CSV file") from None
    except OSError as exc:
        raise ImportRefused(f"cannot read {shown}: {exc.strerror}") from None
    text = decode(data, shown)
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")
    if not first_line:
        raise ImportRefused(f"{shown} is empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(first_line))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ImportRefused(f"{shown} is not a readable CSV file (line {reader.line_num}: {exc})") from None
    return table_of(shown, records, max_rows=max_rows, what=what)


def table_of(
    shown: str, records: list[list[str]], *, max_rows: int | None, what: str, sheet: str | None = None
) -> CsvTable:
    """The table of a file's records (a CSV's lines, or a sheet's rows from A1): `records[i]` is row i + 1.
    The first row that is not blank is the header; blank rows are skipped, the others keep their numbers."""
    start = next((i for i, r in enumerate(records) if "".join(r).strip()), None)
    if start is None:
        raise ImportRefused(f"{shown} has no header row")
    header = [normalise_header(v) for v in records[start]]
    refuse_repeated_columns(shown, header, records[start])
    width = len(header)
    lines = [i for i in range(start + 1, len(records)) if "".join(records[i]).strip()]
    if max_rows is not None and len(lines) > max_rows:
        raise ImportRefused(f"{shown} has {len(lines):,} {what}; import at most {max_rows:,} at once")
    rows = [records[i] for i in lines]
    for row in rows:
        if len(row) < width:
            row.extend([""] * (width - len(row)))
    return CsvTable(path=shown, header=header, rows=rows, lines=[i + 1 for i in lines], sheet=sheet)


def refuse_repeated_columns(shown: str, header: list[str], given: list[str]) -> None:
    """Refuses a header naming a column twice (`Email` and ` email ` too): which one holds the data would
    be a guess, and a wrong guess imports the wrong addresses or names."""
    seen: dict[str, int] = {}
    for position, name in enumerate(header):
        if not name:
            continue  # blank headers of unused columns (Excel leaves them) name nothing
        if name in seen:
            first = seen[name]
            raise ImportRefused(
                f"{shown} has the column {shown_value(name)} twice (columns {first + 1} and {position + 1}: "
                f"{_as_typed(given[first])} and {_as_typed(given[position])}); keep one and import it again"
            )
        seen[name] = position


def _as_typed(name: str) -> str:
    return repr(shown_value(name.strip("\ufeff")))


def require_columns(table: CsvTable, *names: str) -> None:
    missing = [n for n in names if table.index(n) is None]
    if missing:
        listed = ", ".join(missing)
        raise ImportRefused(
            f"{table.path} lacks the column {listed} (found: {', '.join(h for h in table.header if h)})"
        )
