"""``token-ledger demo``: write a clearly labelled demo ledger into a folder of its own (see tracker/demo.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click

from tracker.cli.context import UserError


@click.command()
@click.option(
    "--data-dir", "data_dir", type=click.Path(file_okay=False, path_type=str),
    help="Folder for the demo ledger (required; also accepted before the command).",
)
@click.option("--months", type=click.IntRange(1, 36), default=6, show_default=True, help="How far back it goes.")
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same data.")
@click.option(
    "--rows", type=click.IntRange(1, 20_000_000), default=None,
    help="Exactly this many usage rows (e.g. 1000000 for benchmarks). Default: a realistic volume.",
)
@click.option("--now-ms", type=int, default=None, hidden=True, help="The demo's 'now' (tests).")
@click.pass_context
def demo(
    click_ctx: click.Context, *, data_dir: str | None, months: int, seed: int, rows: int | None, now_ms: int | None
) -> None:
    """Create a demo ledger for trying the app: made-up but realistic data, marked as a demo.

    Several months of Claude Code and Codex usage (weekdays busy, weekends quiet, a few unpriced rows), priced
    with the real price tables; demo OpenAI, Anthropic and OpenRouter accounts with billed costs, balance
    snapshots and a network log; sync history. Outcomes are not included yet (they come with a later version).

    It never writes into your real ledger: --data-dir must name the folder, and a folder that already holds a
    ledger that is not a demo is refused. An earlier demo there is replaced. Then try:
    `token-ledger --data-dir DIR report monthly`, or start the app on it.
    """
    from tracker.demo import DemoError, DemoSpec, create_demo
    from tracker.paths import resolve_paths

    chosen = data_dir or _explicit_group_data_dir(click_ctx)
    if not chosen:
        raise UserError("Say where the demo goes: token-ledger demo --data-dir DIR (an empty folder).")
    paths = resolve_paths(chosen)
    started = time.monotonic()
    try:
        summary = create_demo(paths, DemoSpec(months=months, seed=seed, rows=rows, now_ms=now_ms),
                              progress=_progress())
    except DemoError as e:
        raise UserError(str(e)) from None
    click.echo(
        f"Demo ledger written to {paths.db} in {time.monotonic() - started:.1f} s: "
        f"{summary.usage_rows:,} usage rows ({summary.unpriced_rows:,} unpriced) in {summary.sessions:,} sessions, "
        f"{summary.accounts} demo accounts, {summary.provider_usage_rows:,} reported cost rows, "
        f"{summary.network_rows:,} network-log rows."
    )
    click.echo(f"Try: token-ledger --data-dir {paths.data_dir} report monthly")


def _explicit_group_data_dir(click_ctx: click.Context) -> str | None:
    """``token-ledger --data-dir DIR demo`` names the folder too; the environment variable alone does not."""
    parent = click_ctx.parent
    value = parent.params.get("data_dir") if parent is not None else None
    return value if isinstance(value, str) and value else None


def _progress() -> Callable[[int, int], None] | None:
    """A line of progress on stderr for big demos, when it is a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        click.echo(f"\r{done:,} / {total:,} usage rows", nl=done >= total, err=True)

    return show

