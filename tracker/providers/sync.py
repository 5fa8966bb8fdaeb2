"""Syncing one provider account: pick the window, fetch everything, then write it in one transaction.

All network I/O happens before the write transaction begins, so a failure anywhere (HTTP error, timeout,
bad JSON, a repeating cursor) leaves the stored data exactly as it was, and the database is never locked
while waiting for a provider. Network-log rows are written as each request ends, outside that transaction,
so they survive a failed sync. Rows are upserted by natural key; inside a window that was fetched completely,
rows the provider no longer reports are removed, so re-fetching never double counts.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from typing import TYPE_CHECKING, Any

from tracker.providers import anthropic, balances, openai, openrouter
from tracker.providers.base import (
    DAY_MS,
    AccountSyncResult,
    Fetched,
    KeyProbe,
    ProviderError,
    ReportedRow,
    Window,
    day_floor_ms,
    ymd,
)
from tracker.providers.http import HttpClient, HttpSettings, NetworkLogEntry
from tracker.providers.info import PROVIDERS
from tracker.providers.urls import check_base_url

if TYPE_CHECKING:
    from tracker.store.db import Store

DEFAULT_BACKFILL_DAYS = 90
MAX_BACKFILL_DAYS = 366
TRAILING_DAYS = 2  # later syncs re-fetch yesterday and today: late data updates rows instead of adding them

FetchFn = Callable[[HttpClient, str, Window, dict[str, Any]], Fetched]
ProbeFn = Callable[[HttpClient, str, int], KeyProbe]


@dataclass(frozen=True, slots=True)
class Provider:
    headers: Callable[[str], dict[str, str]]
    fetch: FetchFn
    probe: ProbeFn


MODULES: dict[str, Provider] = {
    "openai": Provider(openai.headers, openai.fetch, openai.probe),
    "anthropic": Provider(anthropic.headers, anthropic.fetch, anthropic.probe),
    "openrouter": Provider(openrouter.headers, openrouter.fetch, openrouter.probe),
    "deepseek": Provider(balances.headers, balances.fetch_deepseek, balances.probe_deepseek),
    "moonshot": Provider(balances.headers, balances.fetch_moonshot, balances.probe_moonshot),
}

ROW_FIELDS = tuple(f.name for f in fields(ReportedRow))


class NetworkLog:
    """Writes each request to ``network_log`` at once (autocommit), or after the caller's transaction ends."""

    def __init__(self, conn: sqlite3.Connection, provider: str, account_id: int | None) -> None:
        self.conn = conn
        self.provider = provider
        self.account_id = account_id
        self.pending: list[NetworkLogEntry] = []

    def __call__(self, entry: NetworkLogEntry) -> None:
        self.pending.append(entry)
        if not self.conn.in_transaction:
            self.flush()

    def flush(self) -> None:
        rows = [(e.ts_ms, self.provider, self.account_id, e.method, e.host, e.path, e.status, e.bytes_sent,
                 e.bytes_received, e.duration_ms, e.error) for e in self.pending]
        self.pending = []
        self.conn.executemany(
            "INSERT INTO network_log (ts_ms, provider, account_id, method, host, path, status, bytes_sent, "
            "bytes_received, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _client(store: Store, provider: str, key: str, base_url: str | None, account_id: int | None, *,
            settings: HttpSettings | None, sleep: Callable[[float], None] | None) -> tuple[HttpClient, NetworkLog]:
    if provider not in MODULES:
        raise ProviderError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    url = check_base_url(base_url or PROVIDERS[provider].default_base_url)
    log = NetworkLog(store.conn, provider, account_id)
    extra: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    return HttpClient(url, MODULES[provider].headers(key), key, log, settings=settings, **extra), log


def probe_key(store: Store, provider: str, key: str, base_url: str | None, account_id: int | None = None, *,
              now_ms: int | None = None, settings: HttpSettings | None = None,
              sleep: Callable[[float], None] | None = None) -> KeyProbe:
    """One cheap call per capability; what the key can and cannot read, in plain words."""
    try:
        client, log = _client(store, provider, key, base_url, account_id, settings=settings, sleep=sleep)
    except ValueError as e:
        raise ProviderError(str(e)) from None
    try:
        return MODULES[provider].probe(client, key, now_ms if now_ms is not None else _now_ms())
    except ProviderError as e:
        return KeyProbe(ok=False, summary=str(e), can_read=[], cannot_read=[])
    finally:
        client.close()
        log.flush()


def sync_account(store: Store, account_id: int, key: str, *, now_ms: int | None = None,
                 settings: HttpSettings | None = None,
                 sleep: Callable[[float], None] | None = None) -> AccountSyncResult:
    """Fetch and store one account's reported usage, costs and balances. Provider failures do not raise."""
    now = now_ms if now_ms is not None else _now_ms()
    account = store.conn.execute(
        "SELECT provider, label, base_url, options, removed_ms FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if account is None:
        raise ProviderError(f"there is no account with id {account_id}")
    provider, _label, base_url, options_text, removed_ms = account
    if removed_ms is not None:  # its history is kept, and left as it is: nothing is fetched or written
        return AccountSyncResult(ok=False, message=_REMOVED)
    try:
        options = _options(options_text)
        window = _window(store, account_id, options, now)
        client, log = _client(store, provider, key, base_url, account_id, settings=settings, sleep=sleep)
    except (ProviderError, ValueError) as e:
        return _failed(store, account_id, now, str(e))
    try:
        if provider == "moonshot":
            options = {**options, "_base_url": base_url or PROVIDERS[provider].default_base_url}
        fetched = MODULES[provider].fetch(client, key, window, options)
    except ProviderError as e:
        return _failed(store, account_id, now, str(e))
    finally:
        client.close()
        log.flush()
    return _store(store, account_id, window, fetched, now_ms=now)


_REMOVED = "the account was removed, so it is not synced (add it again to continue its history)"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _options(text: str) -> dict[str, Any]:
    try:
        options = json.loads(text or "{}")
    except ValueError:
        raise ProviderError("the account's options are not valid JSON") from None
    if not isinstance(options, dict):
        raise ProviderError("the account's options must be a JSON object")
    return options


def _window(store: Store, account_id: int, options: dict[str, Any], now_ms: int) -> Window:
    """UTC days: a backfill on the first sync; afterwards the trailing days plus any gap since the last good one."""
    days = options.get("backfill_days", DEFAULT_BACKFILL_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ProviderError("the account option backfill_days must be a whole number of days (1 or more)")
    days = min(days, MAX_BACKFILL_DAYS)
    end = day_floor_ms(now_ms) + DAY_MS
    backfill_start = end - days * DAY_MS
    state = store.conn.execute(
        "SELECT last_ok_ms, covered_from_ms FROM provider_sync_state WHERE account_id = ?", (account_id,)
    ).fetchone()
    if state is None or state[1] > backfill_start:
        return Window(backfill_start, end, now_ms)
    start = min(end - TRAILING_DAYS * DAY_MS, day_floor_ms(state[0]) - (TRAILING_DAYS - 1) * DAY_MS)
    return Window(max(start, backfill_start), end, now_ms)


def _failed(store: Store, account_id: int, now_ms: int, message: str) -> AccountSyncResult:
    with store.transaction() as conn:
        conn.execute("UPDATE accounts SET last_sync_ms = ?, last_status = 'error', last_message = ? WHERE id = ?",
                     (now_ms, message, account_id))
    return AccountSyncResult(ok=False, message=message)


def merged(rows: list[ReportedRow]) -> dict[tuple[str, int, str, str, str, str, str], ReportedRow]:
    """Rows by natural key; rows sharing a key (e.g. one actor twice a day) are added together."""
    out: dict[tuple[str, int, str, str, str, str, str], ReportedRow] = {}
    for row in rows:
        key = row.natural_key()
        seen = out.get(key)
        if seen is None:
            out[key] = row
            continue
        for name in ("input_tokens", "cache_creation_tokens", "cache_creation_1h_tokens", "cache_read_tokens",
                     "output_tokens", "reasoning_tokens", "requests"):
            setattr(seen, name, getattr(seen, name) + getattr(row, name))
        if row.cost_pico is not None:
            seen.cost_pico = (seen.cost_pico or 0) + row.cost_pico
            seen.amount_raw = f"{seen.amount_raw}+{row.amount_raw}"
        if row.quantity is not None and seen.quantity is not None and seen.quantity.isdigit() \
                and row.quantity.isdigit():
            seen.quantity = str(int(seen.quantity) + int(row.quantity))
        seen.raw = f"[{seen.raw},{row.raw}]" if not seen.raw.startswith("[") else f"{seen.raw[:-1]},{row.raw}]"
    return out


def _store(store: Store, account_id: int, window: Window, fetched: Fetched, *,
           now_ms: int) -> AccountSyncResult:
    rows = merged(fetched.rows)
    result = AccountSyncResult(ok=True, message="", notes=list(fetched.notes))
    with store.transaction() as conn:
        account = conn.execute("SELECT provider, removed_ms FROM accounts WHERE id = ?", (account_id,)).fetchone()
        if account is None or account[1] is not None:  # removed (or purged) while its requests were made
            return AccountSyncResult(ok=False, message=_REMOVED)
        provider = account[0]
        existing = _existing(conn, account_id, fetched)
        for key, row in rows.items():
            values = tuple(int(v) if isinstance(v, bool) else v for v in astuple(row))
            seen = existing.pop(key, None)
            if seen is not None and seen[1] == values:
                continue
            _upsert(conn, account_id, provider, values, now_ms)
            if seen is None:
                result.rows_new += 1
            else:
                result.rows_updated += 1
        gone = [seen[0] for seen in existing.values()]
        conn.executemany("DELETE FROM provider_usage WHERE id = ?", [(i,) for i in gone])
        result.rows_removed = len(gone)
        conn.executemany(
            "INSERT OR REPLACE INTO provider_balances (account_id, provider, ts_ms, field, currency, amount_pico, "
            "amount_raw, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(account_id, provider, now_ms, b.field, b.currency, b.amount_pico, b.amount_raw, b.raw)
             for b in fetched.balances])
        result.balances = len(fetched.balances)
        conn.execute(
            "INSERT INTO provider_sync_state (account_id, first_ok_ms, last_ok_ms, covered_from_ms) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET last_ok_ms = excluded.last_ok_ms, "
            "covered_from_ms = min(covered_from_ms, excluded.covered_from_ms)",
            (account_id, now_ms, now_ms, window.start_ms))
        result.message = _summary(window, result)
        conn.execute("UPDATE accounts SET last_sync_ms = ?, last_status = 'ok', last_message = ? WHERE id = ?",
                     (now_ms, result.message, account_id))
    return result


def _existing(conn: sqlite3.Connection, account_id: int, fetched: Fetched) -> dict[Any, tuple[int, tuple[Any, ...]]]:
    """Stored rows inside the fully fetched windows: natural key -> (id, values as a ReportedRow tuple)."""
    out: dict[Any, tuple[int, tuple[Any, ...]]] = {}
    columns = ", ".join(ROW_FIELDS)
    for kind, start, end in fetched.covered:
        for row in conn.execute(
            f"SELECT id, {columns} FROM provider_usage WHERE account_id = ? AND kind = ? "
            "AND bucket_start_ms >= ? AND bucket_start_ms < ?", (account_id, kind, start, end)):
            values = tuple(row[1:])
            out[ReportedRow(*values).natural_key()] = (row[0], values)
    return out


def _upsert(conn: sqlite3.Connection, account_id: int, provider: str, values: tuple[Any, ...], now_ms: int) -> None:
    names = ("account_id", "provider", *ROW_FIELDS, "fetched_ms")
    keys = ("account_id", "kind", "bucket_start_ms", "bucket_width", "model", "project", "line_item", "dims")
    updates = ", ".join(f"{n} = excluded.{n}" for n in names if n not in keys)
    conn.execute(
        f"INSERT INTO provider_usage ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}",
        (account_id, provider, *values, now_ms))


def _summary(window: Window, result: AccountSyncResult) -> str:
    days = f"{ymd(window.start_ms)}..{ymd(window.end_ms - DAY_MS)}"
    parts = [f"{result.rows_new} new, {result.rows_updated} updated rows ({days} UTC)"]
    if result.rows_removed:
        parts.append(f"{result.rows_removed} no longer reported, removed")
    if result.balances:
        parts.append("balance saved")
    parts += result.notes
    return "; ".join(parts)
