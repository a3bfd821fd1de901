"""Throughput of 1, 2 and 4 `campaigns worker` processes on one PostgreSQL, one campaign, against an
SMTP server that takes 2 ms per message (goal: >= 3x from 1 to 4 workers).

Each worker uses one connection: the server's 2 ms, not this machine's CPU, is what one worker waits
on, so more workers can overlap their waits. Needs a PostgreSQL URL (--pg or $CAMPAIGNS_TEST_PG).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine

from bench.send import free_port, start

SERVER_SECONDS = 0.002


def slow_smtp_server(port: int) -> None:
    from aiosmtpd.controller import Controller

    class Slow:
        async def handle_DATA(self, server, session, envelope):
            await asyncio.sleep(SERVER_SECONDS)
            return "250 OK"

    Controller(Slow(), hostname="127.0.0.1", port=port).start()
    while True:
        time.sleep(3600)


def fresh_schema(base: str) -> tuple[str, str]:
    import uuid
    from urllib.parse import quote

    import psycopg2

    schema = f"scale_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE SCHEMA "{schema}"')
    admin.close()
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", schema


def campaign(url: str, count: int) -> None:
    from store.bulk import insert_rows
    from store.campaigns import create_campaign
    from store.db import bulk_transaction, close_database, open_database
    from store.models import Message
    from store.queue import queue_campaign
    from store.schema import migrate_schema

    open_database(url)
    migrate_schema()
    draft = create_campaign(channel="email", name="scale", sender="Centro", subject="Ciao", body="Ciao")
    constants = {Message.campaign: draft.id, Message.source: "csv", Message.state: "pending"}
    with bulk_transaction():
        insert_rows(
            Message, [Message.address], [(f"p{i}@example.org",) for i in range(count)], constants=constants
        )
    queue_campaign(draft.id)
    close_database()


def run(url: str, port: int, workers: int) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
    env.update(CAMPAIGNS_DB=url, CAMPAIGNS_EMAIL_TRANSPORT="smtp", CAMPAIGNS_EMAIL_HOST="127.0.0.1",
               CAMPAIGNS_EMAIL_PORT=str(port), CAMPAIGNS_EMAIL_CONNECTIONS="1")  # fmt: skip
    started = time.perf_counter()
    processes = []
    for n in range(workers):
        listen = {"CAMPAIGNS_FEEDBACK_LISTEN": f"127.0.0.1:{free_port()}"}
        command = [sys.executable, "-m", "tui", "worker", "--id", f"w{n}", "--until-idle"]
        processes.append(subprocess.Popen(command, env=env | listen, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))  # fmt: skip
    for process in processes:
        process.wait(timeout=900)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=6000)
    parser.add_argument("--pg", default=os.environ.get("CAMPAIGNS_TEST_PG", ""))
    args = parser.parse_args()
    if not args.pg:
        sys.exit("bench/scale.py needs PostgreSQL: --pg URL or $CAMPAIGNS_TEST_PG")
    port = free_port()
    server = start(slow_smtp_server, port)
    rates = {}
    try:
        for workers in (1, 2, 4):
            url, _schema = fresh_schema(args.pg)
            campaign(url, args.count)
            seconds = run(url, port, workers)
            rates[workers] = args.count / seconds
            print(f"  {workers} worker(s): {rates[workers]:,.0f}/s", file=sys.stderr)
    finally:
        server.terminate()
    print(f"machine: {machine()}")
    ratio = rates[4] / rates[1]
    verdict = "meets" if ratio >= 3 else "MISSES"
    figures = ", ".join(f"{w}: {r:,.0f}/s" for w, r in rates.items())
    what = f"{args.count:,} emails, one connection per worker, server 2 ms a message, PostgreSQL"
    print(f"| {what} | {figures}; 4 vs 1 = {ratio:.2f} x | >= 3 x | {verdict} |")


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
