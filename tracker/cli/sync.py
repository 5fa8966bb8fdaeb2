"""``token-ledger sync``: import everything new from local agent logs, then poll each provider account.

Active accounts are polled after the logs (removed ones keep their history but are not polled), each key read
from the OS keychain here on the main thread and handed to ``tracker.providers.sync_account`` as a plain string.
Different providers are polled in parallel, the accounts of one provider one at a time. A keychain or provider
problem is reported for that account (and makes the exit status 1); the other accounts still sync.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from tracker.cli.context import CliContext, UserError
from tracker.cli.output import SOURCE_ENV, SOURCE_NAMES, configured_but_missing, summary_lines

if TYPE_CHECKING:
    from tracker.cli.accounts_db import Account
    from tracker.ledger.importer import ProgressFn, SyncSummary
    from tracker.store import Store
    from tracker.store.db import StrPath

__all__ = ["SOURCE_ENV", "SOURCE_NAMES", "sync"]


@click.command()
@click.option(
    "--source", "sources", multiple=True, type=click.Choice(SOURCE_NAMES),
    help="Only this source (repeatable). Default: all.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless something went wrong.")
@click.option("--no-accounts", is_flag=True, help="Only local logs: do not poll provider accounts.")
@click.pass_obj
def sync(ctx: CliContext, sources: tuple[str, ...], quiet: bool, no_accounts: bool = False) -> None:
    """Import everything new from local agent logs, then fetch each provider account's usage.

    Reads only what changed since the last sync. Malformed lines are skipped and counted. Safe to
    interrupt: run it again and it continues where it stopped, without counting anything twice.
    Provider accounts (`token-ledger account add`) are polled after the logs; --no-accounts skips them.
    """
    started = time.monotonic()
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
        account_lines, account_problems = ([], []) if no_accounts else _sync_accounts(store)
    if not quiet or any(s.errors for s in summary.sources):
        _print_summary(summary, quiet, account_lines, time.monotonic() - started)
    problems = configured_but_missing(summary) + [e for s in summary.sources for e in s.errors] + account_problems
    if all(not s.roots_found for s in summary.sources) and not quiet and not problems and not account_lines:
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


def _print_summary(summary: SyncSummary, quiet: bool, account_lines: list[str], duration_s: float) -> None:
    echo: Callable[[str], None] = (lambda m: click.echo(m, err=True)) if quiet else click.echo
    lines = summary_lines(summary)
    if account_lines:  # before "Done in", which then counts the accounts' time too
        lines = lines[:-1] + account_lines + [f"Done in {duration_s:.2f} s."]
    for line in lines:
        echo(line)


def _sync_accounts(store: Store) -> tuple[list[str], list[str]]:
    """Poll every active account: a summary line each, in label order, and the problems (one per failed account).

    Keys are read here, on the main thread (Secret Service and threads do not mix). Accounts of different
    providers are polled in parallel, one thread per provider, each thread with its own connection to the ledger
    (sqlite3 connections stay in their thread); accounts of one provider are polled one after another, so a slow
    provider never has two syncs of ours under way at once.
    """
    from tracker.cli.accounts_db import list_accounts

    accounts = list_accounts(store.conn)
    results: dict[int, tuple[bool, str]] = {}
    queues: dict[str, list[tuple[Account, str]]] = {}
    for acct in accounts:
        key = _load_key(store, acct)
        if isinstance(key, tuple):
            results[acct.id] = key
        else:
            queues.setdefault(acct.provider, []).append((acct, key))
    results |= _poll(store, list(queues.values()))
    lines: list[str] = []
    problems: list[str] = []
    for acct in accounts:
        ok, message = results[acct.id]
        name = f"{_provider_label(acct.provider)} account {acct.label!r}"
        lines.append(f"{name}: {message}")
        if not ok:
            problems.append(f"{name}: {message}")
    return lines, problems


def _load_key(store: Store, acct: Account) -> str | tuple[bool, str]:
    """The account's key, or (False, why) after recording the failure as its last sync."""
    from tracker import keychain
    from tracker.cli.accounts_db import record_failure

    try:
        return keychain.load_key(acct.label)
    except keychain.KeychainError as e:
        with store.transaction() as conn:  # the account's state shows the failure (status, the app)
            record_failure(conn, acct.id, str(e))
        return False, str(e)


def _poll(store: Store, queues: list[list[tuple[Account, str]]]) -> dict[int, tuple[bool, str]]:
    """Each provider's queue in order; the queues in parallel when there are several."""
    if len(queues) <= 1:
        return {acct.id: _sync_account(store, acct, key) for queue in queues for acct, key in queue}
    from concurrent.futures import ThreadPoolExecutor

    results: dict[int, tuple[bool, str]] = {}
    with ThreadPoolExecutor(max_workers=len(queues), thread_name_prefix="account-sync") as pool:
        for done in pool.map(lambda queue: _poll_queue(store.path, queue), queues):
            results |= done
    return results


def _poll_queue(path: StrPath, queue: list[tuple[Account, str]]) -> dict[int, tuple[bool, str]]:
    """One provider's accounts, one at a time, on this thread's own connection."""
    from tracker.store import open_store

    own = open_store(path, create=False, migrate=False)
    try:
        return {acct.id: _sync_account(own, acct, key) for acct, key in queue}
    finally:
        own.close()


def _sync_account(store: Store, acct: Account, key: str) -> tuple[bool, str]:
    from tracker.cli.accounts_db import record_failure
    from tracker.providers import ProviderError, sync_account

    try:
        result = sync_account(store, acct.id, key)
    except ProviderError as e:
        with store.transaction() as conn:
            record_failure(conn, acct.id, str(e))
        return False, str(e)
    message = result.message
    if message.startswith(f"{acct.label}: "):  # the line already names the account
        message = message[len(acct.label) + 2 :]
    return result.ok, message


def _provider_label(provider: str) -> str:
    from tracker.providers import PROVIDERS

    info = PROVIDERS.get(provider)
    return info.label if info is not None else provider
