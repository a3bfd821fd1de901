"""What every command shares: the Runtime (configuration, database, output) and the common options."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from store.clock import use_center_zone
from store.config import Config, load_config
from store.report import ImportReport
from tui.textout import for_terminal, report_text

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Runtime:
    """What every command needs: the configuration and how to print."""

    config: Config
    as_json: bool
    debug: bool

    def open_store(self, warn: bool = True) -> None:
        """Connects to the configured database and brings its schema up to date; with `warn`, says on
        stderr when other accounts can read the database (the app shows it on screen instead)."""
        from store.db import exposure_warning, open_database
        from store.schema import migrate_schema

        open_database(self.config.database_url)
        migrate_schema()
        exposed = exposure_warning(self.config.database_url) if warn else None
        if exposed:  # on stderr even with --json: stdout stays one document
            click.echo(f"campaigns: warning: {exposed}", err=True)

    def emit(self, data: Any, text: str | Callable[[], str]) -> None:
        """Exactly one JSON document with --json, else the human text."""
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        else:
            click.echo(for_terminal(text() if callable(text) else text))

    def note(self, text: str) -> None:
        """Progress for a person watching; never on stdout, never with --json."""
        if not self.as_json:
            click.echo(for_terminal(text), err=True)


def _remember(name: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value not in (None, False):
            ctx.ensure_object(dict)[name] = value
            root = ctx.find_root()
            root.ensure_object(dict)[name] = value
        return value

    return callback


def common_options(command: F) -> F:
    """--db, --config, --json and --debug, accepted before or after the sub-command."""
    options = [
        click.option("--db", "db_url", metavar="URL", expose_value=False, callback=_remember("db"),
                     help="Database URL: sqlite:///PATH (default under the data dir) or postgresql://..."),
        click.option("--config", "config_file", metavar="FILE", expose_value=False,
                     callback=_remember("config"), help="TOML configuration file."),
        click.option("--json", "as_json", is_flag=True, expose_value=False, callback=_remember("json"),
                     help="Print exactly one JSON document on stdout."),
        click.option("--debug", is_flag=True, expose_value=False, callback=_remember("debug"),
                     help="Show tracebacks of errors."),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def runtime() -> Runtime:
    """The Runtime of the command being run, built on first use."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    found = root.meta.get("campaigns.runtime")
    if found is None:
        given = root.ensure_object(dict)
        config = load_config(given.get("config"), given.get("db"))
        use_center_zone(config.timezone)
        found = Runtime(config=config, as_json=bool(given.get("json")), debug=bool(given.get("debug")))
        root.meta["campaigns.runtime"] = found
    return found


def campaign_id_argument(command: F) -> F:
    """The campaign's number, as `campaigns list` shows it."""
    return click.argument("campaign_id", metavar="ID", type=int)(command)


def emit_report(report: ImportReport) -> None:
    """An import's report: the JSON document with --json, else the text a person reads."""
    runtime().emit(report.as_dict(), lambda: report_text(report))
