"""The `campaigns` command: the full-screen app by default, and one sub-command per action.

Errors end up here as one line on stderr: exit 2 for bad input, 1 for anything else; `--debug` shows the
traceback above that line, with the same exit status.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click
import peewee

from store.config import Config, load_config
from store.errors import BadInput, CampaignsError
from tui.textout import for_terminal

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
        found = Runtime(config=config, as_json=bool(given.get("json")), debug=bool(given.get("debug")))
        root.meta["campaigns.runtime"] = found
    return found


class CampaignsGroup(click.Group):
    """Lists commands in the order they were added, which is the order a user meets them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(
    cls=CampaignsGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@common_options
@click.version_option(package_name="campaigns", prog_name="campaigns")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """The campaign console of a healthcare center: SMS, email and push campaigns to patients,
    resources and users, sent one campaign after another and watched live.

    With no command, opens the full-screen app. Configuration comes from --config, $CAMPAIGNS_CONFIG,
    ./campaigns.toml or the user's config dir, and CAMPAIGNS_<SECTION>_<KEY> environment variables;
    the database from --db or $CAMPAIGNS_DB.
    """
    if ctx.invoked_subcommand is None:
        from tui.cli_app import tui

        ctx.invoke(tui)


def _register() -> None:
    from tui import cli_app, cli_campaigns, cli_data, cli_drafts, cli_recipients, cli_send

    for module in (cli_app, cli_data, cli_campaigns, cli_drafts, cli_recipients, cli_send):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """The console script: runs a command and turns every failure into one line and an exit status."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        cli.main(args, prog_name="campaigns", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("interrupted", 130, debug)
    except click.ClickException as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if getattr(exc, "ctx", None) else ""
        _fail(f"{exc.format_message()}{hint}", 2, debug)
    except CampaignsError as exc:
        _fail(str(exc), 2 if isinstance(exc, BadInput) else 1, debug)
    except KeyboardInterrupt:
        _fail("interrupted", 130, debug)
    except peewee.DatabaseError as exc:
        _fail(f"database error: {_one_line(exc)}", 1, debug)
    except Exception as exc:
        name = type(exc).__name__
        hint = "" if debug else " (run with --debug for details)"
        _fail(f"unexpected {name}: {_one_line(exc)}{hint}", 1, debug)
    sys.exit(0)


def _fail(line: str, status: int, debug: bool) -> NoReturn:
    """One line on stderr and the exit status; --debug adds the traceback above the line and changes
    nothing else, so a script sees the same status with it or without."""
    if debug:
        traceback.print_exc(file=sys.stderr)
    click.echo(for_terminal(f"campaigns: {_one_line_of(line)}"), err=True)
    sys.exit(status)


def _one_line_of(line: str) -> str:
    """The error as one line: a value it quotes may hold line breaks (a CSV cell, a typed name)."""
    return " ".join(line.split("\n")) if "\n" in line else line


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else "no details"
