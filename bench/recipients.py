"""Adding recipients: a 100,000-row CSV through the whole `campaigns recipients add` command (goal
<= 2 s), and a paste of 20,000 addresses (goal <= 0.5 s), into a center of 100,000 patients."""

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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

from fixtures.center import load_center
from store.campaigns import create_campaign
from store.db import close_database, open_database
from store.models import Contact
from store.recipients import add_pasted
from store.schema import migrate_schema

CSV_GOAL, PASTE_GOAL = 2.0, 0.5


def write_csv(path: Path, rows: int, channel: str, known: list[tuple[str, str]]) -> None:
    """A realistic file: a third known contacts, some duplicates and bad rows, the rest new people."""
    rng = random.Random(1)
    with path.open("w", encoding="utf-8") as out:
        out.write("First Name;Last Name;Email;Phone\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.33 and known:
                email, phone = rng.choice(known)
            elif roll < 0.34:
                email, phone = f"broken{i}@", "12"
            else:
                email = f"person.{i}@posta.example"
                phone = f"+39 3{rng.randint(20, 93)} {rng.randint(0, 9_999_999):07d}"
            out.write(f"Nome{i % 500};Cognome{i % 700};{email or ''};{phone or ''}\n")


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
        results: dict[str, list[float]] = {}
        for channel in ("email", "sms"):
            sender = "Centro" if channel == "sms" else "Centro Medico"
            csv_path = Path(folder) / f"{channel}.csv"
            write_csv(csv_path, args.rows, channel, known)
            for run in range(args.runs):
                draft = create_campaign(channel=channel, name=f"bench {run}", sender=sender, body="Ciao")
                close_database()
                command = [sys.executable, "-m", "tui", "recipients", "add", str(draft.id)]
                command += ["--csv", str(csv_path), "--json"]
                started = time.perf_counter()
                done = subprocess.run(command, env={**os.environ, "CAMPAIGNS_DB": url}, capture_output=True,
                                      text=True, check=True)  # fmt: skip
                results.setdefault(f"csv {channel}", []).append(time.perf_counter() - started)
                report = json.loads(done.stdout)
                open_database(url)
            column = 0 if channel == "email" else 1
            text = ";".join([row[column] for row in known if row[column]][:20_000])
            for run in range(args.runs):
                draft = create_campaign(channel=channel, name=f"paste {run}", sender=sender, body="Ciao")
                started = time.perf_counter()
                add_pasted(draft.id, text)
                results.setdefault(f"paste {channel}", []).append(time.perf_counter() - started)
        close_database()
    print(f"machine: {machine()}")
    print(f"last csv report: { {k: v for k, v in report.items() if k != 'errors'} }")
    for name, times in results.items():
        goal = CSV_GOAL if name.startswith("csv") else PASTE_GOAL
        verdict = "meets" if median(times) <= goal else "MISSES"
        mode, channel = name.split()
        if mode == "csv":
            what = f"`campaigns recipients add --csv`, {args.rows:,} rows, {channel}"
        else:
            what = f"paste of 20,000 addresses, {channel}"
        figure = f"{median(times):.2f} s (median of {args.runs}; best {min(times):.2f} s)"
        print(f"| {what} | {figure} | <= {goal} s | {verdict} |")


if __name__ == "__main__":
    main()
