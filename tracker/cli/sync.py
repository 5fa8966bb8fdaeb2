"""``token-ledger sync``: import everything new from local agent logs."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from tracker.cli.context import CliContext, UserError
from tracker.cli.output import SOURCE_ENV, SOURCE_NAMES, configured_but_missing, summary_lines

if TYPE_CHECKING:
    from tracker.ledger.importer import ProgressFn, SyncSummary

__all__ = ["SOURCE_ENV", "SOURCE_NAMES", "sync"]


@click.command()
@click.option(
    "--source", "sources", multiple=True, type=click.Choice(SOURCE_NAMES),
    help="Only this source (repeatable). Default: all.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless something went wrong.")
@click.pass_obj
def sync(ctx: CliContext, sources: tuple[str, ...], quiet: bool) -> None:
    """Import everything new from local agent logs into the ledger.

    Reads only what changed since the last sync. Malformed lines are skipped and counted. Safe to
    interrupt: run it again and it continues where it stopped, without counting anything twice.
    """
    from tracker.ledger.importer import Importer
    from tracker.ledger.rollup import refresh as refresh_rollup
    from tracker.pricing.catalog import PriceOverridesError
    from tracker.sources import get_source

    chosen = [get_source(n) for n in (sources or SOURCE_NAMES)]
    costing = ctx.costing()
    with ctx.store() as store, _progress(quiet) as progress:
        try:
            summary = Importer(store, costing, chosen, progress=progress).run()
        except PriceOverridesError as e:
            raise UserError(str(e)) from None
        refresh_rollup(store.conn)  # report sums stay in step with what was just imported
    if not quiet or any(s.errors for s in summary.sources):
        _print_summary(summary, quiet)
    problems = configured_but_missing(summary) + [e for s in summary.sources for e in s.errors]
    if all(not s.roots_found for s in summary.sources) and not quiet and not problems:
        click.echo(
            "No agent log folders were found. Looked in: "
            + ", ".join(r for s in summary.sources for r in s.roots)
            + ". Set CLAUDE_CONFIG_DIR or CODEX_HOME if your logs live elsewhere.",
            err=True,
        )
    if problems:
        for problem in problems[:5]:
            click.echo(f"token-ledger: {problem}", err=True)
        raise SystemExit(1)


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressFn | None]:
    """A progress bar on stderr when it is a terminal; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        tasks: dict[str, object] = {}

        def update(label: str, done: int, total: int, bytes_done: int, bytes_total: int) -> None:
            task = tasks.get(label)
            if task is None:
                task = tasks[label] = bar.add_task(label, total=bytes_total)
            bar.update(task, completed=bytes_done, description=f"{label} {done}/{total} files")  # type: ignore[arg-type]

        yield update


def _print_summary(summary: SyncSummary, quiet: bool) -> None:
    echo: Callable[[str], None] = (lambda m: click.echo(m, err=True)) if quiet else click.echo
    for line in summary_lines(summary):
        echo(line)
