"""The click command line (everything but the fast path): the composition root of the CLI.

Commands are in sibling modules, named in ``tracker.cli.COMMANDS`` and imported only when used. Heavy imports
(rich, sqlite-utils, genai-prices) happen inside commands. Every error a user can cause ends in one clear
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from tracker import __version__
from tracker.cli import COMMANDS
from tracker.cli.context import CliContext, UserError
from tracker.paths import DATA_DIR_ENV, resolve_paths


class LazyGroup(click.Group):
    """A group whose subcommands are imported only when invoked (or listed by ``--help``).

    Each command module pulls in what it needs (rich, the importer, the price catalog); importing them all
    on every start cost tens of milliseconds that ``token-ledger report --format json`` does not need.
    """

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # command name -> "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, attr = target.split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=LazyGroup, lazy=COMMANDS, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=str),
    help=f"Folder of the ledger (default: ${DATA_DIR_ENV}, else the platform's user data folder).",
)
@click.version_option(__version__, "--version", prog_name="token-ledger")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None) -> None:
    """Token Ledger: what did my tokens buy?

    Tracks your AI token spend from local coding-agent logs (Claude Code, Codex CLI), and from the usage APIs
    of provider accounts you add, in a private SQLite ledger on this machine. Nothing is sent anywhere: the
    only requests are to the providers of your accounts, and `token-ledger network-log` lists every one.
    """
    ctx.obj = CliContext(resolve_paths(data_dir))
    if ctx.invoked_subcommand is None:
        if display_available():
            from tracker.ui.app import run_app  # PySide6 is imported only here, never for a subcommand

            ctx.exit(run_app(ctx.obj.paths))
        from tracker.cli.start import start

        click.echo(f"The desktop app needs a display ({_DISPLAY_HINT}); here is the command-line summary.\n")
        ctx.invoke(start)


_DISPLAY_HINT = "none found: $DISPLAY, $WAYLAND_DISPLAY and $QT_QPA_PLATFORM are unset"


def display_available(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Can the desktop app open a window here? On Linux and other X11/Wayland systems only with a display (or an
    explicit Qt platform that shows windows); macOS and Windows always have one. Qt's ``offscreen`` and ``minimal``
    platforms show nothing (tests set them), so they do not count."""
    env = dict(os.environ) if env is None else env
    platform = sys.platform if platform is None else platform
    if platform in ("darwin", "win32"):
        return True
    if env.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal"):
        return False
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(argv: list[str] | None = None) -> Any:
    """Run the command line with click (see ``tracker.cli.main``)."""
    try:
        return cli.main(args=argv, prog_name="token-ledger", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo("Interrupted. Everything committed so far is kept; run the command again to continue.", err=True)
        sys.exit(130)
    except UserError as e:
        click.echo(f"token-ledger: {e}", err=True)
        sys.exit(e.exit_code)
    except BrokenPipeError:
        # e.g. `token-ledger report daily | head`: not an error for the user
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as e:  # the last line of defence: one line, no traceback, and how to learn more
        if os.environ.get("TOKEN_LEDGER_DEBUG"):
            raise
        click.echo(
            f"token-ledger: internal error: {type(e).__name__}: {e}\n"
            "Your ledger is unchanged beyond the last completed step. Set TOKEN_LEDGER_DEBUG=1 for details.",
            err=True,
        )
        sys.exit(70)
