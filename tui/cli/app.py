"""`campaigns tui`: the full-screen app, on the configured database or a throw-away demo one."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import click

from tui.cli.common import common_options, runtime


@click.command()
@click.option(
    "--demo",
    is_flag=True,
    help="A throw-away demo center: outbox transports, and make-believe recipients who open, click and "
    "receive what goes out, so the numbers move.",
)
@click.option(
    "--no-send",
    is_flag=True,
    help="Watch only: no send engine and no feedback server. For a second admin on the same database, or a "
    "slow link: campaigns still go out through a worker or the app that sends.",
)
@common_options
def tui(demo: bool = False, no_send: bool = False) -> None:
    """Open the full-screen app (also what `campaigns` alone does).

    The app sends what is queued while it is open (and serves opens, clicks and unsubscribes), unless
    --no-send: then it only shows, and says so in its title.
    """
    rt = runtime()
    workdir = None
    config = rt.config
    if demo:
        from dataclasses import replace

        from fixtures.center import load_center

        workdir = tempfile.mkdtemp(prefix="campaigns-demo-")
        config = replace(
            config.with_database(f"sqlite:///{workdir}/demo.db"),
            email=replace(config.email, transport="outbox"),
            sms=replace(config.sms, transport="outbox"),
            push=replace(config.push, transport="outbox"),
            outbox=replace(config.outbox, path=os.path.join(workdir, "outbox")),
        )
        rt.config = config
        rt.open_store(warn=False)
        click.echo("Preparing the demo center…", err=True)
        load_center()
    else:
        rt.open_store(warn=False)  # the app says it on screen, where it stays readable
    from tui.app import make_app

    try:
        app = make_app(config, send=not no_send, feedback=not no_send, demo=demo, watch_only=no_send)
        app.run()
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if app.return_code:
        sys.exit(app.return_code)


COMMANDS = [tui]
