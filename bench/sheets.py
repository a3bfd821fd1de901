"""Adding recipients from a workbook: a 100,000-row .xlsx through the whole `campaigns recipients add
--file` command (goal <= 3 s) into a center of 100,000 patients; and the same file read by pandas with
the calamine engine, by pandas with openpyxl, and by store.sheets (calamine's rows, no DataFrame), the
reasons for the engine and for taking its rows directly."""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

from fixtures.center import load_center
from store.campaigns import create_campaign
from store.db import close_database, open_database
from store.models import Contact
from store.schema import migrate_schema
from store.sheets import read_table

GOAL = 3.0


def write_xlsx(path: Path, rows: int, known: list[tuple[str, str]]) -> None:
    """As bench/recipients.py's CSV, in a workbook as admins keep one: a third known contacts, some bad
    rows, phone numbers half stored as numbers (as Excel does when one types them)."""
    from openpyxl import Workbook

    rng = random.Random(1)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Pazienti")
    sheet.append(["Nome", "Cognome", "Email", "Cellulare"])
    for i in range(rows):
        roll = rng.random()
        phone: Any
        if roll < 0.33 and known:
            email, phone = rng.choice(known)
        elif roll < 0.34:
            email, phone = f"broken{i}@", "12"
        else:
            email = f"person.{i}@posta.example"
            phone = f"3{rng.randint(20, 93)}{rng.randint(0, 9_999_999):07d}"
        if phone and phone.isdigit() and i % 2:
            phone = int(phone)
        sheet.append([f"Nome{i % 500}", f"Cognome{i % 700}", email or None, phone or None])
    book.save(path)


def read_times(path: Path, runs: int) -> dict[str, list[float]]:
    started = time.perf_counter()
    import pandas as pd

    print(f"import pandas: {time.perf_counter() - started:.2f} s")

    times: dict[str, list[float]] = {}
    for _ in range(runs):
        for engine in ("calamine", "openpyxl"):
            started = time.perf_counter()
            pd.read_excel(path, engine=engine, header=None, dtype=object, na_filter=False)
            times.setdefault(f"pandas read_excel, engine={engine}", []).append(time.perf_counter() - started)
        started = time.perf_counter()
        read_table(path, max_rows=None, what="rows")
        times.setdefault("store.sheets.read_table (calamine's rows, cells as text)", []).append(
            time.perf_counter() - started
        )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        open_database(url)
        migrate_schema()
        load_center(patients=100_000)
        known = list(Contact.select(Contact.email, Contact.phone).where(Contact.kind == "patient").tuples())
        path = Path(folder) / "recipients.xlsx"
        write_xlsx(path, args.rows, known)
        size = path.stat().st_size
        results: dict[str, list[float]] = {}
        for channel in ("email", "sms"):
            sender = "Centro" if channel == "sms" else "Centro Medico"
            for run in range(args.runs):
                draft = create_campaign(channel=channel, name=f"bench {run}", sender=sender, body="Ciao")
                close_database()
                command = [sys.executable, "-m", "tui", "recipients", "add", str(draft.id)]
                command += ["--file", str(path), "--json"]
                started = time.perf_counter()
                done = subprocess.run(command, env={**os.environ, "CAMPAIGNS_DB": url}, capture_output=True,
                                      text=True, check=True)  # fmt: skip
                results.setdefault(channel, []).append(time.perf_counter() - started)
                report = json.loads(done.stdout)
                open_database(url)
        close_database()
        reads = read_times(path, args.runs)
    print(f"machine: {machine()}")
    print(f"workbook: {args.rows:,} rows, {size / 2**20:.1f} MiB")
    print(f"last report: { {k: v for k, v in report.items() if k != 'errors'} }")
    for channel, times in results.items():
        verdict = "meets" if median(times) <= GOAL else "MISSES"
        what = f"`campaigns recipients add --file x.xlsx`, {args.rows:,} rows, {channel}"
        figure = f"{median(times):.2f} s (median of {args.runs}; best {min(times):.2f} s)"
        print(f"| {what} | {figure} | <= {GOAL} s | {verdict} |")
    for name, times in reads.items():
        print(f"| {name}, {args.rows:,} rows | {median(times):.2f} s (median of {args.runs}) | - | - |")


if __name__ == "__main__":
    main()
