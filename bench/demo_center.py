"""`campaigns fixtures --patients 100000`, the whole command, on a fresh SQLite database: goal < 10 s."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, median

GOAL_SECONDS = 10.0


def run_once(patients: int, url: str) -> tuple[float, dict]:
    command = [sys.executable, "-m", "tui", "fixtures", "--patients", str(patients), "--json"]
    env = {**os.environ, "CAMPAIGNS_DB": url}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", help="a database URL to use instead of fresh SQLite files (emptied by you)")
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            url = args.db or f"sqlite:///{folder}/bench.db"
            seconds, counts = run_once(args.patients, url)
            times.append(seconds)
    print(f"machine: {machine()}")
    print(f"counts: {counts}")
    print(f"runs: {', '.join(f'{t:.2f} s' for t in times)}")
    verdict = "meets" if median(times) < GOAL_SECONDS else "MISSES"
    figure = f"{median(times):.1f} s (median of {args.runs})"
    print(
        f"| `campaigns fixtures --patients {args.patients:,}` | {figure} "
        f"| < {GOAL_SECONDS:.0f} s | {verdict} |"
    )


if __name__ == "__main__":
    main()
