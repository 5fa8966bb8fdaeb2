"""What one background sync does, as plain functions run on worker threads (no Qt here).

A sync has two steps so that API keys are read on the GUI thread in between (the GUIDE: Secret Service from
worker threads needs locking nobody understands): :func:`import_local` imports the local agent logs and lists
the active accounts; :func:`poll_accounts` polls them with the keys, one thread per provider (the accounts of
one provider one after another), each thread on its own connection to the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tracker.paths import AppPaths


@dataclass(frozen=True)
class AccountRef:
    id: int
    provider: str
    label: str


@dataclass
class LocalResult:
    new_records: int = 0
    files_read: int = 0
    errors: list[str] = field(default_factory=list)
    accounts: list[AccountRef] = field(default_factory=list)
    demo: bool = False  # a demo ledger (``token-ledger demo``): nothing real is imported or polled into it


@dataclass
class AccountOutcome:
    account: AccountRef
    ok: bool
    message: str


@dataclass
class PollResult:
    outcomes: list[AccountOutcome] = field(default_factory=list)
    network_down: bool = False  # some request got no answer at all: worth retrying soon


def open_ledger(paths: AppPaths) -> None:
    """Create or migrate the ledger (a copy is kept before migrating); raises StoreError with a message."""
    from tracker.store import open_store

    open_store(paths.db, create=True, migrate=True).close()


def import_local(paths: AppPaths, *, with_accounts: bool = True) -> LocalResult:
    """Import everything new from the local agent logs, refresh the rollup, and list the active accounts."""
    from tracker.cli.accounts_db import list_accounts
    from tracker.demo import is_demo
    from tracker.ledger.costing import Costing
    from tracker.ledger.importer import Importer
    from tracker.ledger.rollup import refresh as refresh_rollup
    from tracker.pricing.catalog import PriceCatalog
    from tracker.sources import all_sources
    from tracker.store import open_store

    costing = Costing(PriceCatalog(paths.prices if paths.prices.exists() else None))
    store = open_store(paths.db, create=True, migrate=True)
    try:
        if is_demo(store.conn):
            return LocalResult(demo=True)  # the demo's figures stay as generated, apart from real data
        summary = Importer(store, costing, all_sources()).run()
        refresh_rollup(store.conn)  # figures read after this sync are current without a rebuild
        accounts = list_accounts(store.conn) if with_accounts else []
    finally:
        store.close()
    return LocalResult(
        new_records=summary.new_records,
        files_read=summary.files_read,
        errors=[e for s in summary.sources for e in s.errors],
        accounts=[AccountRef(a.id, a.provider, a.label) for a in accounts],
    )


def record_key_failure(paths: AppPaths, account_id: int, message: str) -> None:
    """Store a keychain failure as the account's last sync, so the Accounts page shows it."""
    from tracker.cli.accounts_db import record_failure
    from tracker.store import open_store

    store = open_store(paths.db, create=False, migrate=False)
    try:
        with store.transaction() as conn:
            record_failure(conn, account_id, message)
    finally:
        store.close()


def poll_accounts(paths: AppPaths, keyed: Sequence[tuple[AccountRef, str]]) -> PollResult:
    """Poll each account with its key: providers in parallel, one provider's accounts in order."""
    started_ms = int(time.time() * 1000)
    queues: dict[str, list[tuple[AccountRef, str]]] = {}
    for acct, key in keyed:
        queues.setdefault(acct.provider, []).append((acct, key))
    outcomes: list[AccountOutcome] = []
    if queues:
        with ThreadPoolExecutor(max_workers=len(queues), thread_name_prefix="provider") as pool:
            for done in pool.map(lambda q: _poll_queue(paths, q), queues.values()):
                outcomes.extend(done)
    return PollResult(outcomes, _network_down(paths, started_ms) if outcomes else False)


def _poll_queue(paths: AppPaths, queue: list[tuple[AccountRef, str]]) -> list[AccountOutcome]:
    from tracker.store import open_store

    store = open_store(paths.db, create=False, migrate=False)
    try:
        return [_poll_one(store, acct, key) for acct, key in queue]
    finally:
        store.close()


def _poll_one(store: object, acct: AccountRef, key: str) -> AccountOutcome:
    from tracker.cli.accounts_db import record_failure
    from tracker.providers import ProviderError, sync_account
    from tracker.store import Store

    assert isinstance(store, Store)
    try:
        result = sync_account(store, acct.id, key)
    except ProviderError as e:
        with store.transaction() as conn:
            record_failure(conn, acct.id, str(e))
        return AccountOutcome(acct, False, str(e))
    return AccountOutcome(acct, result.ok, result.message)


def _network_down(paths: AppPaths, since_ms: int) -> bool:
    """Did any request of this sync get no answer (timeout, refused, no route)? Read from the network log."""
    import sqlite3

    conn = sqlite3.connect(f"file:{paths.db}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT count(*) FROM network_log WHERE ts_ms >= ? AND status IS NULL", (since_ms,)
        ).fetchone()
        return bool(row[0])
    except sqlite3.Error:
        return False
    finally:
        conn.close()
