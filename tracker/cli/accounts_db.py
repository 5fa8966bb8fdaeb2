"""The ``accounts`` rows the CLI reads and writes (provider, label, base URL, options, last sync): never a key.

Keys live in the OS keychain (tracker.keychain); a row is written only after its key was saved there. Reported
usage, costs and balances belong to tracker.providers, which fills them (and each account's last sync state).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.cli.context import UserError

_COLUMNS = "id, provider, label, base_url, options, created_ms, last_sync_ms, last_status, last_message"

# Provider data tables whose rows belong to an account (schema m005: they cascade when the account goes).
ACCOUNT_DATA_TABLES = ("provider_usage", "provider_balances")


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


def list_accounts(conn: sqlite3.Connection) -> list[Account]:
    if not has_accounts_table(conn):
        return []
    return [_account(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM accounts ORDER BY label")]


def find_account(conn: sqlite3.Connection, label: str) -> Account | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM accounts WHERE label = ?", (label,)).fetchone()
    return None if row is None else _account(row)


def require_account(conn: sqlite3.Connection, label: str) -> Account:
    account = find_account(conn, label)
    if account is None:
        raise UserError(f"There is no account named {label!r}. `token-ledger account list` shows your accounts.")
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


def data_rows(conn: sqlite3.Connection, account_id: int) -> int:
    """How many reported rows (usage, costs, balances) the account has."""
    total = 0
    for table in ACCOUNT_DATA_TABLES:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
            total += conn.execute(f"SELECT count(*) FROM {table} WHERE account_id = ?", (account_id,)).fetchone()[0]
    return total


def when(ms: int | None) -> str:
    """A local time for people, e.g. ``2026-11-23 17:05``; ``-`` for none."""
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")
