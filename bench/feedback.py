"""Pixel hits a second the feedback server takes on loopback (goal >= 2,000/s).

`campaigns serve` runs in its own process over a database holding a sent campaign of 200,000 emails; a
lean asyncio client (keep-alive HTTP/1.1, its own process) requests the open pixels of the messages in a
random order over 16 connections, each once (the server answers a repeat within seconds without writing
it). Every hit is recorded (a raw event, the first open of its message) before its answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

GOAL = 2000
SECRET = "bench-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prepare(url: str, messages: int) -> list[int]:
    from store.bulk import insert_rows
    from store.campaigns import create_campaign
    from store.db import bulk_transaction, close_database, open_database
    from store.models import Message
    from store.schema import migrate_schema

    open_database(url)
    migrate_schema()
    campaign = create_campaign(channel="email", name="Pixel", sender="Centro", body="Ciao")
    now = datetime.utcnow()
    with bulk_transaction():
        insert_rows(Message, [Message.campaign, Message.address, Message.state, Message.sent_at],
                    [(campaign.id, f"p{i}@example.org", "sent", now) for i in range(messages)])  # fmt: skip
    ids = [row[0] for row in Message.select(Message.id).tuples()]
    close_database()
    return ids


async def hammer(port: int, paths: list[bytes], connections: int, seconds: float) -> tuple[int, int]:
    """Requests paths round-robin over keep-alive connections for `seconds`; (answers, errors)."""
    done = errors = 0
    deadline = time.perf_counter() + seconds

    async def one(offset: int) -> None:
        nonlocal done, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        while time.perf_counter() < deadline:
            writer.write(b"GET " + paths[i % len(paths)] + b" HTTP/1.1\r\nHost: bench\r\n\r\n")
            i += connections
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                done += 1
            else:
                errors += 1
        writer.close()

    await asyncio.gather(*(one(k) for k in range(connections)))
    return done, errors


def client_main(port: int, tokens_file: str, connections: int, seconds: float, skip: int) -> None:
    paths = Path(tokens_file).read_bytes().split(b"\n")[skip:]
    started = time.perf_counter()
    done, errors = asyncio.run(hammer(port, paths, connections, seconds))
    print(f"{done} {errors} {time.perf_counter() - started:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--skip", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--client", nargs=2, metavar=("PORT", "TOKENS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main(int(args.client[0]), args.client[1], args.connections, args.seconds, args.skip)
        return
    from senders.links import sign

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        ids = prepare(url, args.messages)
        random.Random(3).shuffle(ids)
        tokens = Path(folder) / "paths.txt"
        # Every hit a different message (the server answers repeats within seconds without writing):
        # each run starts where the last one stopped.
        tokens.write_bytes(b"\n".join(f"/o/{sign(SECRET, 'o', i)}".encode() for i in ids))
        port = free_port()
        env = {**os.environ, "CAMPAIGNS_DB": url, "CAMPAIGNS_FEEDBACK_SECRET": SECRET,
               "CAMPAIGNS_FEEDBACK_LISTEN": f"127.0.0.1:{port}"}  # fmt: skip
        server = subprocess.Popen([sys.executable, "-m", "tui", "serve"], env=env, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            rates, used = [], 0
            for _ in range(args.runs):
                client = [sys.executable, __file__, "--client", str(port), str(tokens), "--skip", str(used)]
                client += ["--seconds", str(args.seconds), "--connections", str(args.connections)]
                out = subprocess.run(client, capture_output=True, text=True, check=True)
                done, errors, elapsed = out.stdout.split()
                used += int(done) + int(errors) + args.connections
                rates.append(int(done) / float(elapsed))
                if int(errors):
                    print(f"  {errors} answers were not 200", file=sys.stderr)
        finally:
            server.terminate()
            server.wait(10)
        from store.db import close_database, open_database
        from store.models import Message, TrackingEvent

        open_database(url)
        events = TrackingEvent.select().count()
        opened = Message.select().where(Message.opened_at.is_null(False)).count()
        close_database()
    print(f"machine: {machine()}")
    print(f"  recorded {events:,} open events, {opened:,} messages opened")
    verdict = "meets" if median(rates) >= GOAL else "MISSES"
    runs = f"median of {args.runs} runs of {args.seconds:.0f} s; best {max(rates):,.0f}/s"
    figure = f"{median(rates):,.0f}/s ({runs})"
    print(f"| pixel hits on loopback, `campaigns serve` on SQLite, {args.connections} keep-alive connections "
          f"| {figure} | >= {GOAL:,}/s | {verdict} |")  # fmt: skip


if __name__ == "__main__":
    main()
