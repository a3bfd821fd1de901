"""What DKIM signing costs the engine: `bench/send.py email`'s run (emails to aiosmtpd in its own process,
4 connections) with signing off and on, alternating, on the same server.

    .venv/bin/python bench/dkim_cost.py [--count 10000] [--rounds 4] [--ed25519]

Prints each round's rate and the medians' ratio: the pace of signed email against unsigned.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import send as bench  # bench/send.py: its servers, data and engine run

from senders.dkim_signing import key_pem, new_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="emails a round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each, off and on alternating")
    parser.add_argument("--ed25519", action="store_true", help="an Ed25519 key instead of RSA-2048")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    key = folder / "s1.pem"
    key.write_bytes(key_pem(new_key(args.ed25519)))
    os.chmod(key, 0o600)
    signing = {"on": False}
    made = bench.engine_config

    def engine_config(*given: object, **named: object) -> object:
        config = made(*given, **named)
        if signing["on"]:
            config = replace(
                config, email=replace(config.email, dkim_selector="s1", dkim_private_key=str(key))
            )
        return config

    bench.engine_config = engine_config
    port = bench.free_port()
    server = bench.start(bench.smtp_server, port)
    rates: dict[bool, list[float]] = {False: [], True: []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                for on in (False, True) if n % 2 == 0 else (True, False):
                    signing["on"] = on
                    url, _ = bench.prepared_database(tmp, f"email-{n}-{on}", args.count)
                    rate = asyncio.run(bench.engine_rate(url, port, args.count, "email", tmp))
                    rates[on].append(rate)
                    print(f"  round {n + 1}, signing {'on' if on else 'off'}: {rate:,.0f}/s", file=sys.stderr)
    finally:
        server.terminate()
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    kind = "Ed25519" if args.ed25519 else "RSA-2048"
    print(
        f"{args.count:,} emails, {kind}: unsigned {off:,.0f}/s, signed {on:,.0f}/s = {on / off:.2f} x "
        f"(medians of {args.rounds})"
    )


if __name__ == "__main__":
    main()
