"""The `campaigns` command: the full-screen app by default, and one sub-command per action.

Errors end up here as one line on stderr: exit 2 for bad input, 1 for anything else; `--debug` shows the
traceback above that line, with the same exit status.
"""

from __future__ import annotations

import sys
import traceback
from typing import NoReturn

import click

from store.errors import BadInput, CampaignsError, DatabaseError
from tui.cli import app, campaigns, check_email, data, dkim, drafts, recipients, send, suppressions
from tui.cli.common import common_options
from tui.textout import for_terminal


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
        ctx.invoke(app.tui)


# Every command, registered here and nowhere else, in the order `--help` lists them.
for _module in (app, data, campaigns, drafts, recipients, send, check_email, dkim, suppressions):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


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
        ctx: click.Context | None = getattr(exc, "ctx", None)  # a usage error knows its command
        hint = f" (see '{ctx.command_path} --help')" if ctx else ""
        _fail(f"{exc.format_message()}{hint}", 2, debug)
    except CampaignsError as exc:
        _fail(str(exc), 2 if isinstance(exc, BadInput) else 1, debug)
    except KeyboardInterrupt:
        _fail("interrupted", 130, debug)
    except DatabaseError as exc:
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
