"""`campaigns tui`: the full-screen app, on the configured database or a throw-away demo one."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import click

from tui.cli import common_options, runtime


@click.command()
@click.option(
    "--demo",
    is_flag=True,
    help="A throw-away demo center: outbox transports, and make-believe recipients who open, click and "
    "receive what goes out, so the numbers move.",
)
@common_options
def tui(demo: bool = False) -> None:
    """Open the full-screen app (also what `campaigns` alone does)."""
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
        app = make_app(config, feedback=True, demo=demo)
        app.run()
    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    if app.return_code:
        sys.exit(app.return_code)


COMMANDS = [tui]
