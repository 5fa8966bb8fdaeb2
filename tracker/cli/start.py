"""What plain ``token-ledger`` does until the desktop app exists: sync, then a short summary and next steps."""

from __future__ import annotations

from datetime import date, timedelta

import click

from tracker.cli.context import CliContext


@click.command()
@click.pass_context
def start(click_ctx: click.Context) -> None:
    """Import new usage, show the last 7 days, and say what to do next."""
    from tracker.cli.report import report
    from tracker.cli.sync import sync

    ctx: CliContext = click_ctx.obj
    click.echo("Token Ledger: what did my tokens buy?\n")
    click_ctx.invoke(sync, sources=(), quiet=False)
    click.echo("")
    if ctx.paths.db.exists():
        week_ago = (date.today() - timedelta(days=6)).isoformat()
        today = date.today().isoformat()
        click_ctx.invoke(report, kind="daily", since=week_ago, until=today, tz_name=None, sources=(), fmt="table",
                         breakdown=False)
    click.echo(
        "\nNext: `token-ledger report monthly`, `token-ledger report project`, `token-ledger report session`,\n"
        "`token-ledger status`, or `token-ledger --help` for everything. Your data stays in "
        f"{ctx.paths.data_dir}."
    )
