"""``token-ledger account add|list|test|remove``: provider accounts, their keys kept in the OS keychain.

A key is read from a no-echo prompt, or from stdin when it is not a terminal (a pipe from a password manager):
never from argv or the environment, so it shows in no process list or shell history. It is checked with one
cheap call per capability (``tracker.providers.probe_key``), saved in the keychain (``tracker.keychain``) and only
then is the account's row written; the database never holds a key.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from tracker.cli.context import CliContext, UserError

if TYPE_CHECKING:
    from tracker.cli.accounts_db import Account
    from tracker.providers import KeyProbe, ProviderInfo
    from tracker.store import Store

T = TypeVar("T")

_LABEL = re.compile(r"[\w.@-][\w .@-]{0,63}")


@click.group()
def account() -> None:
    """Provider accounts: API keys whose usage, costs and balances `token-ledger sync` fetches.

    Keys are kept in the OS keychain (Keychain, Credential Manager, Secret Service), never in the ledger.
    """


@account.command()
@click.argument("provider")
@click.option("--name", "label", required=True, help="Your name for the account, e.g. work (unique).")
@click.option("--base-url", help="Another API address (https; http only to this machine), e.g. a gateway.")
@click.option("--project-id", "project_ids", multiple=True, help="OpenAI: only this project (repeatable).")
@click.option("--backfill-days", type=click.IntRange(1, 3660), help="Days the first sync fetches (default 90).")
@click.option("--no-check", is_flag=True, help="Save the key without checking it with the provider (offline).")
@click.pass_obj
def add(  # noqa: PLR0917 (click passes options by keyword)
    ctx: CliContext, provider: str, label: str, base_url: str | None, project_ids: tuple[str, ...],
    backfill_days: int | None, no_check: bool,
) -> None:
    """Add an account of PROVIDER (openai, anthropic, openrouter, deepseek, moonshot).

    The key is asked for without echo, or read from stdin when it is piped, e.g.
    `pass show openrouter | token-ledger account add openrouter --name personal`. It is never taken from the
    command line or an environment variable.
    """
    from tracker import keychain
    from tracker.cli.accounts_db import find_account

    info = _provider(provider)
    label = _check_label(label)
    url = _base_url(base_url)
    options = _options(provider, project_ids, backfill_days)
    with ctx.store() as store:
        previous = find_account(store.conn, label)
        if previous is not None:
            _check_reusable(previous, provider)
        _keychain(keychain.check_backend)  # before the key is typed: no keychain, no point asking
        key = _read_key(info)
        if not no_check:
            probe = _probe(store, provider, key, url, None if previous is None else previous.id)
            _show_probe(info, probe)
            if not probe.ok:
                raise UserError(f"The key was not saved: {probe.summary}")
        _keychain(lambda: keychain.save_key(label, key))  # first the key: no row without its key
        if previous is None:
            _insert(store, provider, label, url, options)
        else:
            rows = _reactivate(store, previous, url, options)
    where = f"Its key is in the OS keychain ({keychain.backend_name()}); the ledger holds only the account's name " \
            "and settings. Run `token-ledger sync` to fetch its usage."
    if previous is None:
        click.echo(f"Added {info.label} account {label!r}. {where}")
    else:
        click.echo(f"Re-activated the removed {info.label} account {label!r} with the new key and these settings: "
                   f"its history ({_rows_phrase(rows)}) is kept and continues. {where}")


@account.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also removed accounts (whose history is kept).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_obj
def list_(ctx: CliContext, show_all: bool, fmt: str) -> None:
    """List accounts: provider, name, API address and last sync (never a key). --all adds removed ones."""
    from tracker.cli.accounts_db import list_accounts, removed_count, when
    from tracker.cli.output import dumps

    accounts, hidden = [], 0
    if ctx.paths.db.exists():
        with ctx.store() as store:
            accounts = list_accounts(store.conn, removed=show_all)
            hidden = 0 if show_all else removed_count(store.conn)
    if fmt == "json":
        click.echo(dumps([_account_json(a) for a in accounts]))
        return
    if not accounts:
        click.echo("No provider accounts yet. Add one with `token-ledger account add PROVIDER --name LABEL`."
                   if not hidden else "No active provider accounts.")
    else:
        rows: list[tuple[str, ...]] = [("NAME", "PROVIDER", "API ADDRESS", "LAST SYNC", "STATE")]
        rows += [(a.label, a.provider, a.base_url or "default", when(a.last_sync_ms), _list_state(a))
                 for a in accounts]
        _print_columns(rows)
    if hidden:
        click.echo(f"({hidden} removed account{'s' if hidden != 1 else ''} still hold{'s' if hidden == 1 else ''} "
                   "reported history; --all shows them.)")


@account.command()
@click.argument("label")
@click.pass_obj
def test(ctx: CliContext, label: str) -> None:
    """Check the key of account LABEL: one cheap call per capability, and what it can and cannot read."""
    from tracker import keychain
    from tracker.cli.accounts_db import require_account

    with ctx.store() as store:
        acct = require_account(store.conn, label)
        info = _provider(acct.provider)
        key = _keychain(lambda: keychain.load_key(acct.label))
        probe = _probe(store, acct.provider, key, acct.base_url, acct.id)
    _show_probe(info, probe)
    if not probe.ok:
        raise SystemExit(1)


@account.command()
@click.argument("label")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--purge", is_flag=True, help="Also delete the usage, costs and balances it reported (for good).")
@click.pass_obj
def remove(ctx: CliContext, label: str, yes: bool, purge: bool) -> None:
    """Remove account LABEL: delete its key from the OS keychain and stop syncing it.

    What it already reported (usage, costs, balances) stays in the ledger and in reports; adding an account of
    the same provider with the same name later continues that history. --purge deletes that history too. The
    network log always keeps its record of the requests made.
    """
    from tracker.cli.accounts_db import data_rows, find_account

    with ctx.store() as store:
        acct = find_account(store.conn, label)
        if acct is None:
            _remove_leftover_key(label)
            return
        rows = data_rows(store.conn, acct.id)
        if acct.removed and not purge:
            _already_removed(acct, rows)
            return
        _confirm(_remove_question(acct, rows, purge), yes)
        key_note = _delete_key(acct)
        with store.transaction() as conn:
            message = _purge(conn, acct, key_note) if purge else _mark_removed(conn, acct, key_note, rows)
    click.echo(message)


# --- helpers ------------------------------------------------------------------------------------------------


def _providers() -> dict[str, ProviderInfo]:
    from tracker.providers import PROVIDERS

    return PROVIDERS


def _provider(name: str) -> ProviderInfo:
    providers = _providers()
    info = providers.get(name)
    if info is None:
        raise UserError(f"Unknown provider {name!r}; choose one of: {', '.join(sorted(providers))}.")
    return info


def _check_label(label: str) -> str:
    label = label.strip()
    if not _LABEL.fullmatch(label):
        raise UserError(
            f"--name {label!r} is not a usable name: use up to 64 letters, digits, spaces and . _ @ -, "
            "starting with a letter or digit."
        )
    return label


def _base_url(url: str | None) -> str | None:
    if url is None:
        return None
    from tracker.providers import check_base_url

    try:
        return check_base_url(url)
    except ValueError as e:
        raise UserError(f"--base-url: {e}") from None


def _options(provider: str, project_ids: tuple[str, ...], backfill_days: int | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if project_ids:
        if provider != "openai":
            raise UserError("--project-id applies to OpenAI accounts only.")
        options["project_ids"] = list(dict.fromkeys(project_ids))
    if backfill_days is not None:
        options["backfill_days"] = backfill_days
    return options


def _insert(store: Store, provider: str, label: str, url: str | None, options: dict[str, Any]) -> None:
    from tracker import keychain
    from tracker.cli.accounts_db import insert_account

    try:
        with store.transaction() as conn:
            insert_account(conn, provider, label, url, options)
    except sqlite3.Error as e:  # e.g. another process added the same name meanwhile: take the key back out
        with contextlib.suppress(keychain.KeychainError):
            keychain.delete_key(label)
        raise UserError(f"The account was not added: the ledger refused it ({e}).") from None


def _read_key(info: ProviderInfo) -> str:
    """The key from a no-echo prompt (a terminal) or the first line of stdin (a pipe)."""
    stdin = sys.stdin
    if stdin is None:
        raise UserError("No key was given: there is no terminal or stdin to read it from.")
    if stdin.isatty():
        key = click.prompt(f"{info.label} key, {info.key_hint} (typing is hidden)", hide_input=True, err=True,
                           default="", show_default=False)
    else:
        key = stdin.readline()
    key = key.strip()
    if not key:
        raise UserError("No key was given. Paste it at the prompt, or pipe it on stdin (never as an argument).")
    if not key.isprintable() or any(c.isspace() for c in key):
        raise UserError("The key has spaces or control characters in it; give the key alone, on one line.")
    return key


def _probe(store: Store, provider: str, key: str, base_url: str | None, account_id: int | None) -> KeyProbe:
    from tracker.providers import ProviderError, probe_key

    try:
        return probe_key(store, provider, key, base_url, account_id)
    except ProviderError as e:
        raise UserError(str(e)) from None


def _show_probe(info: ProviderInfo, probe: KeyProbe) -> None:
    click.echo(f"{info.label}: {probe.summary}")
    if probe.can_read:
        click.echo(f"  can read: {', '.join(probe.can_read)}")
    if probe.cannot_read:
        click.echo(f"  cannot read: {', '.join(probe.cannot_read)}")


def _keychain(call: Callable[[], T]) -> T:
    """``call()``, with a keychain problem turned into the one-line error (it says how to fix it)."""
    from tracker.keychain import KeychainError

    try:
        return call()
    except KeychainError as e:
        raise UserError(str(e)) from None


def _remove_leftover_key(label: str) -> None:
    """No row: remove a key a failed or interrupted add may have left, or say there is no such account."""
    from tracker import keychain

    try:
        keychain.delete_key(label)
    except keychain.KeychainError as e:
        if e.kind in ("missing", "no_backend"):
            raise UserError(
                f"There is no account named {label!r}. `token-ledger account list` shows your accounts."
            ) from None
        raise UserError(str(e)) from None
    click.echo(f"There was no account named {label!r}; removed its leftover key from the OS keychain.")


def _check_reusable(previous: Account, provider: str) -> None:
    """A name is taken by an active account; a removed one may come back, with the same provider only."""
    if not previous.removed:
        raise UserError(f"An account named {previous.label!r} already exists; choose another --name or remove it "
                        "first.")
    if previous.provider != provider:
        raise UserError(
            f"The name {previous.label!r} belongs to a removed {previous.provider} account whose history is kept; "
            f"choose another --name, or delete that history with "
            f"`token-ledger account remove {previous.label} --purge`."
        )


def _reactivate(store: Store, previous: Account, url: str | None, options: dict[str, Any]) -> int:
    """Make the removed account active again with the new settings; its reported rows (kept) are counted."""
    from tracker import keychain
    from tracker.cli.accounts_db import data_rows, reactivate

    with store.transaction() as conn:
        done = reactivate(conn, previous.id, previous.provider, url, options)
    if not done:  # purged or re-added by another process meanwhile: take the key back out
        with contextlib.suppress(keychain.KeychainError):
            keychain.delete_key(previous.label)
        raise UserError(f"The account was not added: {previous.label!r} changed meanwhile; run the command again.")
    return data_rows(store.conn, previous.id)


def _rows_phrase(rows: int) -> str:
    return f"{rows:,} reported usage/cost/balance row{'s' if rows != 1 else ''}" if rows else "nothing reported yet"


def _remove_question(acct: Account, rows: int, purge: bool) -> str:
    name = f"{acct.provider} account {acct.label!r}"
    if purge:
        return (f"Remove {name} and delete its history for good ({_rows_phrase(rows)}, its sync state and its "
                "row)?")
    return f"Remove {name}? Its key is deleted from the OS keychain; its history ({_rows_phrase(rows)}) is kept."


def _delete_key(acct: Account) -> str:
    """Delete the account's key; what happened, in words. A locked keychain stops the removal."""
    from tracker import keychain

    try:
        keychain.delete_key(acct.label)
    except keychain.KeychainError as e:
        if acct.removed:  # its key went when it was removed; a purge needs no keychain
            return "its key was deleted when it was removed"
        if e.kind != "missing":
            raise UserError(f"Nothing was removed. {e}") from None
        return "no key was in the OS keychain"
    return "a leftover key was deleted from the OS keychain" if acct.removed else "its key from the OS keychain"


def _mark_removed(conn: sqlite3.Connection, acct: Account, key_note: str, rows: int) -> str:
    from tracker.cli.accounts_db import mark_removed

    mark_removed(conn, acct.id)
    kept = (f"its {rows:,} reported usage/cost/balance row{'s' if rows != 1 else ''} (reports still show them)"
            if rows else "its name and settings (nothing was reported yet)")
    return (f"Removed account {acct.label!r}: {key_note}; it is no longer synced. Kept: {kept}, and the network "
            f"log. `token-ledger account remove {acct.label} --purge` deletes what was kept.")


def _purge(conn: sqlite3.Connection, acct: Account, key_note: str) -> str:
    from tracker.cli.accounts_db import purge

    n = purge(conn, acct.id)
    deleted = (f"{n['provider_usage']:,} reported usage/cost rows, {n['provider_balances']:,} balance snapshots, "
               f"its sync state and its row")
    done = (f"Purged the removed account {acct.label!r} ({key_note}): deleted {deleted}." if acct.removed
            else f"Removed account {acct.label!r} for good: {key_note}, {deleted}.")
    return f"{done} The network log keeps its record of the requests made."


def _already_removed(acct: Account, rows: int) -> None:
    """``remove`` of a removed account: also take out a key an interrupted re-add may have left, then say so."""
    from tracker import keychain
    from tracker.cli.accounts_db import day

    with contextlib.suppress(keychain.KeychainError):
        keychain.delete_key(acct.label)
    click.echo(f"Account {acct.label!r} was already removed on {day(acct.removed_ms)}; its history "
               f"({_rows_phrase(rows)}) is kept. `token-ledger account remove {acct.label} --purge` deletes it.")


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin or not sys.stdin.isatty():
        raise UserError(f"{question} Add --yes to confirm (stdin is not a terminal to ask).")
    if not click.confirm(question, default=False, err=True):
        raise UserError("Nothing was removed.")


def _account_json(a: Account) -> dict[str, Any]:
    return {
        "label": a.label, "provider": a.provider, "base_url": a.base_url, "options": a.options,
        "created_ms": a.created_ms, "last_sync_ms": a.last_sync_ms, "last_status": a.last_status,
        "last_message": a.last_message, "removed_ms": a.removed_ms,
    }


def _list_state(a: Account) -> str:
    from tracker.cli.accounts_db import day

    return f"removed {day(a.removed_ms)}" if a.removed else a.state()


def _print_columns(rows: list[tuple[str, ...]]) -> None:
    """Plain aligned columns (the last one unpadded): readable, and stable for scripts that grep."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        click.echo("  ".join([c.ljust(w) for c, w in zip(r, widths, strict=False)] + [r[-1]]).rstrip())
