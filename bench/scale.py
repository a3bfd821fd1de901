"""Throughput of 1, 2 and 4 `campaigns worker` processes on one PostgreSQL, one campaign, against an
SMTP server that takes 2 ms per message (goal: >= 3x from 1 to 4 workers).

Each worker uses one connection: the server's 2 ms is what one worker waits on, so more workers can
overlap their waits. The stand-in server is a few lines of asyncio that answer SMTP (a real provider's
CPU is on its own machines; aiosmtpd spent 1.2-1.7 ms of this machine's CPU a message). For each
run it prints the rate over the whole run (process starts included) and while sending (first to last
message sent), the CPU each part spent per message, and how busy the machine's cores were: a run that
keeps every core busy measures the machine, not the workers. `--aiosmtpd` uses aiosmtpd instead.
Needs a PostgreSQL URL (--pg or $CAMPAIGNS_TEST_PG).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, median

from bench.send import free_port, start

SERVER_SECONDS = 0.002


class StandInSmtp(asyncio.Protocol):
    """Just enough SMTP for our client: EHLO, MAIL, RCPT, DATA (answered 2 ms after its end), QUIT."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 stand-in ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buffer, self.in_data = self.buffer[end + 5 :], False
                asyncio.get_running_loop().call_later(SERVER_SECONDS, self.transport.write, b"250 queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            verb, self.buffer = self.buffer[:4].upper(), self.buffer[end + 2 :]
            if verb == b"EHLO":
                self.transport.write(b"250-stand-in\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.transport.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.transport.write(b"221 bye\r\n")
                self.transport.close()
                return
            else:
                self.transport.write(b"250 OK\r\n")


def stand_in_smtp_server(port: int) -> None:
    async def serve() -> None:
        # IPPROTO_TCP given: asyncio then turns Nagle's algorithm off for each connection.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        server = await asyncio.get_running_loop().create_server(StandInSmtp, sock=listener)
        await server.serve_forever()

    asyncio.run(serve())


def aiosmtpd_server(port: int) -> None:
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


def drop_schema(base: str, schema: str) -> None:
    import psycopg2

    admin = psycopg2.connect(base)
    admin.autocommit = True
    admin.cursor().execute(f'DROP SCHEMA "{schema}" CASCADE')
    admin.close()


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


def sending_seconds(url: str) -> tuple[int, float]:
    """How many messages went, and the seconds from the first sent to the last."""
    import psycopg2

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), extract(epoch FROM max(sent_at) - min(sent_at)) FROM message "
            "WHERE state = 'sent'"
        )
        sent, seconds = cursor.fetchone()
    connection.close()
    return sent, float(seconds)


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of these processes and of their waited-for children, from /proc."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes on this machine (its backends do the work of our statements)."""
    found = subprocess.run(["pgrep", "-x", "postgres"], capture_output=True, text=True, check=False)
    return [int(pid) for pid in found.stdout.split()]


def workers_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Run:
    workers: int
    wall_rate: float  # messages a second from the first process start to the last process end
    sending_rate: float  # from the first message sent to the last
    worker_ms: float  # CPU milliseconds per message: all workers, their start included
    server_ms: float
    postgres_ms: float
    busy: float  # share of the machine's cores busy during the run

    def __str__(self) -> str:
        return (
            f"{self.workers} worker(s): {self.sending_rate:,.0f}/s sending, {self.wall_rate:,.0f}/s in all; "
            f"CPU ms a message: workers {self.worker_ms:.2f}, server {self.server_ms:.2f}, "
            f"PostgreSQL {self.postgres_ms:.2f}; cores {self.busy:.0%} busy"
        )


def run(url: str, port: int, workers: int, count: int, server_pid: int) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGNS_")}
    env.update(CAMPAIGNS_DB=url, CAMPAIGNS_EMAIL_TRANSPORT="smtp", CAMPAIGNS_EMAIL_HOST="127.0.0.1",
               CAMPAIGNS_EMAIL_PORT=str(port), CAMPAIGNS_EMAIL_CONNECTIONS="1")  # fmt: skip
    postgres = postgres_pids()
    before = (workers_cpu(), cpu_seconds([server_pid]), cpu_seconds(postgres))
    started = time.perf_counter()
    processes = []
    for n in range(workers):
        listen = {"CAMPAIGNS_FEEDBACK_LISTEN": f"127.0.0.1:{free_port()}"}
        command = [sys.executable, "-m", "tui", "worker", "--id", f"w{n}", "--until-idle"]
        processes.append(subprocess.Popen(command, env=env | listen, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))  # fmt: skip
    for process in processes:
        process.wait(timeout=900)
    wall = time.perf_counter() - started
    after = (workers_cpu(), cpu_seconds([server_pid]), cpu_seconds(postgres))
    worker, server, database = (end - start for end, start in zip(after, before, strict=True))
    sent, seconds = sending_seconds(url)
    if sent != count:
        raise RuntimeError(f"{sent} of {count} messages sent")
    per = 1000 / count
    busy = (worker + server + database) / (wall * (os.cpu_count() or 1))
    return Run(workers, count / wall, count / seconds, worker * per, server * per, database * per, busy)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="emails in the campaign (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of 1, 2 and 4 workers (default 3)")
    parser.add_argument("--pg", default=os.environ.get("CAMPAIGNS_TEST_PG", ""))
    parser.add_argument("--aiosmtpd", action="store_true", help="aiosmtpd as the server, not the stand-in")
    args = parser.parse_args()
    if not args.pg:
        sys.exit("bench/scale.py needs PostgreSQL: --pg URL or $CAMPAIGNS_TEST_PG")
    port = free_port()
    server = start(aiosmtpd_server if args.aiosmtpd else stand_in_smtp_server, port)
    rounds: list[dict[int, Run]] = []
    try:
        for _ in range(args.rounds):  # the machine's speed drifts: each round compares runs close in time
            rounds.append({})
            for workers in (1, 2, 4):
                url, schema = fresh_schema(args.pg)
                try:
                    campaign(url, args.count)
                    r = rounds[-1][workers] = run(url, port, workers, args.count, server.pid or 0)
                finally:
                    drop_schema(args.pg, schema)
                print(f"  {r}", file=sys.stderr)
    finally:
        server.terminate()
    print(f"machine: {machine()}")
    ratios = [r[4].sending_rate / r[1].sending_rate for r in rounds]
    ratio = median(ratios)
    rates = {w: median([r[w].sending_rate for r in rounds]) for w in (1, 2, 4)}
    busy = median([r[4].busy for r in rounds])
    verdict = "meets" if ratio >= 3 else "MISSES"
    figures = ", ".join(f"{w}: {rate:,.0f}/s" for w, rate in rates.items())
    server_name = "aiosmtpd" if args.aiosmtpd else "stand-in server"
    what = f"{args.count:,} emails, one connection per worker, {server_name} 2 ms a message, PostgreSQL"
    each = ", ".join(f"{x:.2f}" for x in ratios)
    in_all = " / ".join(f"{median([r[w].wall_rate for r in rounds]):,.0f}" for w in (1, 2, 4))
    measured = (
        f"{figures} while sending (medians of {len(rounds)}); 4 vs 1 = {ratio:.2f} x (rounds: {each}); "
        f"{in_all} a second in all"
    )
    print(f"| {what} | {measured}; cores {busy:.0%} busy at 4 | >= 3 x | {verdict} |")


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
