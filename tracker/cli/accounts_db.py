"""The ``accounts`` rows the CLI reads and writes (provider, label, base URL, options, last sync): never a key.

Keys live in the OS keychain (tracker.keychain); a row is written only after its key was saved there. Reported
usage, costs and balances belong to tracker.providers, which fills them (and each account's last sync state).
Removing an account marks its row (``removed_ms``) and keeps that history; only a purge deletes it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.cli.context import UserError

_COLUMNS = "id, provider, label, base_url, options, created_ms, last_sync_ms, last_status, last_message, removed_ms"

# Provider data tables whose rows belong to an account (m005: no cascade; a purge deletes them, children first).
ACCOUNT_DATA_TABLES = ("provider_usage", "provider_balances")
PURGED_TABLES = (*ACCOUNT_DATA_TABLES, "provider_sync_state")


@dataclass(frozen=True)
class Account:
    id: int
    provider: str
    label: str
    base_url: str | None
    options: dict[str, Any] = field(default_factory=dict)
    created_ms: int = 0
    last_sync_ms: int | None = None
    last_status: str | None = None
    last_message: str | None = None
    removed_ms: int | None = None

    @property
    def removed(self) -> bool:
        return self.removed_ms is not None

    def state(self) -> str:
        """The last sync in words: ``never synced``, ``ok`` or ``error: ...``, with the message."""
        if self.last_sync_ms is None and self.last_status is None:
            return "never synced"
        status = self.last_status or "unknown"
        return f"{status}: {self.last_message}" if self.last_message else status


def _account(row: tuple[Any, ...]) -> Account:
    try:
        options = json.loads(row[4] or "{}")
    except ValueError:
        options = {}
    return Account(row[0], row[1], row[2], row[3], options if isinstance(options, dict) else {}, *row[5:])


def has_accounts_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'accounts'").fetchone() is not None


def list_accounts(conn: sqlite3.Connection, *, removed: bool = False) -> list[Account]:
    """Active accounts by label; with ``removed``, the removed ones (still holding history) too."""
    if not has_accounts_table(conn):
        return []
    where = "" if removed else " WHERE removed_ms IS NULL"
    return [_account(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM accounts{where} ORDER BY label")]


def removed_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM accounts WHERE removed_ms IS NOT NULL").fetchone()[0])


def find_account(conn: sqlite3.Connection, label: str) -> Account | None:
    """The account named ``label``, active or removed."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM accounts WHERE label = ?", (label,)).fetchone()
    return None if row is None else _account(row)


def require_account(conn: sqlite3.Connection, label: str) -> Account:
    """The active account named ``label``, or the one-line error (a removed one says how to bring it back)."""
    account = find_account(conn, label)
    if account is None:
        raise UserError(f"There is no account named {label!r}. `token-ledger account list` shows your accounts.")
    if account.removed:
        raise UserError(
            f"Account {label!r} was removed on {day(account.removed_ms)}; its history is kept. To use it again: "
            f"`token-ledger account add {account.provider} --name {label}`."
        )
    return account


def insert_account(conn: sqlite3.Connection, provider: str, label: str, base_url: str | None,
                   options: dict[str, Any]) -> int:
    """Insert the row in the caller's transaction; its id."""
    cur = conn.execute(
        "INSERT INTO accounts (provider, label, base_url, options, created_ms) VALUES (?, ?, ?, ?, ?)",
        (provider, label, base_url, json.dumps(options, sort_keys=True), int(time.time() * 1000)),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def record_failure(conn: sqlite3.Connection, account_id: int, message: str) -> None:
    """Mark a sync that could not start (e.g. the key could not be read) as the account's last sync."""
    conn.execute(
        "UPDATE accounts SET last_sync_ms = ?, last_status = 'error', last_message = ? WHERE id = ?",
        (int(time.time() * 1000), message, account_id),
    )


def mark_removed(conn: sqlite3.Connection, account_id: int) -> None:
    """Mark the account removed (sync skips it); its reported rows, balances and sync state stay."""
    conn.execute("UPDATE accounts SET removed_ms = ? WHERE id = ?", (int(time.time() * 1000), account_id))


def reactivate(conn: sqlite3.Connection, account_id: int, provider: str, base_url: str | None,
               options: dict[str, Any]) -> bool:
    """Make a removed account of ``provider`` active again with the given settings; False if it is not one now."""
    cur = conn.execute(
        "UPDATE accounts SET base_url = ?, options = ?, removed_ms = NULL "
        "WHERE id = ? AND provider = ? AND removed_ms IS NOT NULL",
        (base_url, json.dumps(options, sort_keys=True), account_id, provider),
    )
    return cur.rowcount == 1


def purge(conn: sqlite3.Connection, account_id: int) -> dict[str, int]:
    """Delete the account's provider rows, balances, sync state and then its row, in the caller's transaction.

    The network log is not touched. Returns the rows deleted per table (the account's own row under ``accounts``).
    """
    deleted = {table: conn.execute(f"DELETE FROM {table} WHERE account_id = ?", (account_id,)).rowcount
               for table in PURGED_TABLES}
    deleted["accounts"] = conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,)).rowcount
    return deleted


def data_rows(conn: sqlite3.Connection, account_id: int) -> int:
    """How many reported rows (usage, costs, balances) the account has."""
    total = 0
    for table in ACCOUNT_DATA_TABLES:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            total += conn.execute(f"SELECT count(*) FROM {table} WHERE account_id = ?", (account_id,)).fetchone()[0]
    return total


def day(ms: int | None) -> str:
    """A local date for people, e.g. ``2026-11-23``; ``-`` for none."""
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d")


def when(ms: int | None) -> str:
    """A local time for people, e.g. ``2026-11-23 17:05``; ``-`` for none."""
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")
