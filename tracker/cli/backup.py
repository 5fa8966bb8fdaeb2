"""``token-ledger backup PATH``: a consistent copy of the ledger, safe while the app runs (tracker.store.backup)."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.cli.context import CliContext, UserError


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
@click.pass_obj
def backup(ctx: CliContext, path: Path, force: bool) -> None:
    """Copy the ledger to PATH: a file name, or a folder (then a dated file name inside it).

    The copy is consistent even while the app is running or syncing, is checked with SQLite's integrity check,
    and is readable only by you. To restore it, quit Token Ledger and put the copy in place of ledger.sqlite3
    in the data folder (deleting ledger.sqlite3-wal and ledger.sqlite3-shm beside it).
    """
    from tracker.store.backup import BackupError, backup_ledger

    try:
        result = backup_ledger(ctx.paths.db, path.expanduser(), force=force)
    except BackupError as e:
        raise UserError(str(e)) from None
    click.echo(f"Backed up the ledger to {result.path} ({_size(result.size)}, schema version "
               f"{result.schema_version}).")
    parts = ", ".join(f"{source} {n:,}" for source, n in result.usage_by_source.items())
    click.echo(f"Usage records: {result.usage_rows:,}" + (f" ({parts})." if parts else "."))
    click.echo(f"To restore: quit Token Ledger, copy this file over {ctx.paths.db}, and delete the "
               f"{ctx.paths.db.name}-wal and {ctx.paths.db.name}-shm files beside it if there are any.")


def _size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / (1024 * 1024):.1f} MB"
