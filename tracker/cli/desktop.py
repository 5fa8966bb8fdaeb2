"""``token-ledger install-desktop-entry [--uninstall]``: the app in the applications menu of Linux desktops."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.cli.context import CliContext, UserError

if TYPE_CHECKING:
    from tracker.desktop import InstallResult

_OTHER_SYSTEMS = {
    "darwin": "On macOS, move the Token Ledger app into Applications instead (it then shows in Launchpad).",
    "win32": "On Windows, pin token-ledger.exe from the Token Ledger folder to Start instead "
             "(right-click it, then Pin to Start).",
}


@click.command("install-desktop-entry")
@click.option("--uninstall", is_flag=True, help="Remove the menu entry, icons and metadata this command installed.")
@click.pass_obj
def install_desktop_entry(obj: CliContext, uninstall: bool) -> None:
    """Add Token Ledger to your applications menu (Linux desktops).

    Installs into $XDG_DATA_HOME (default ~/.local/share): applications/io.github.tokenledger.TokenLedger.desktop,
    the app icon in icons/hicolor, and the AppStream metadata in metainfo/. The entry starts this installation of
    Token Ledger, with the same data folder as this command. Run it again after moving the installation;
    --uninstall removes exactly those files.
    """
    platform = _platform()
    if platform in _OTHER_SYSTEMS:
        raise UserError(f"install-desktop-entry is for Linux desktops. {_OTHER_SYSTEMS[platform]}")
    from tracker import desktop

    base = desktop.data_home()
    if uninstall:
        _report_uninstall(desktop.uninstall(base), base)
        return
    from tracker.launch import desktop_exec, launch_args

    args = launch_args(_data_dir_to_pass(obj.paths.data_dir))
    try:
        result = desktop.install(base, desktop_exec(args))
    except FileNotFoundError as e:
        raise UserError(str(e)) from None
    except OSError as e:
        raise UserError(f"Could not install the menu entry into {base}: {e.strerror or e}.") from None
    click.echo(f"Token Ledger is now in your applications menu ({len(result.files)} files):")
    for path in result.files:
        click.echo(f"  {path}")
    click.echo(f"It starts: {shlex.join(args)}")
    _echo_notes(result.notes)
    click.echo("To remove it: token-ledger install-desktop-entry --uninstall")


def _platform() -> str:
    return sys.platform


def _data_dir_to_pass(data_dir: Path) -> Path | None:
    """The ledger this command works on, when it is not the default one: the menu entry then opens it too.

    Menus start apps without the shell's environment, so a folder chosen by $TOKEN_LEDGER_DATA_DIR is written
    into the entry as well.
    """
    from tracker.paths import default_data_dir

    return None if data_dir == Path(default_data_dir()) else data_dir


def _report_uninstall(result: InstallResult, base: Path) -> None:
    if not result.files:
        click.echo(f"Nothing to remove: no Token Ledger menu entry is installed in {base}.")
        return
    click.echo(f"Removed Token Ledger from your applications menu ({len(result.files)} files):")
    for path in result.files:
        click.echo(f"  {path}")
    _echo_notes(result.notes)


def _echo_notes(notes: list[str]) -> None:
    for note in notes:
        click.echo(f"Note: {note}", err=True)
