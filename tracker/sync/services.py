"""The app's services: background sync, reads of the ledger, settings; one :class:`AppServices` per app.

The GUI thread never opens the database, a log file or a socket: everything blocking runs on worker threads
(:mod:`tracker.sync.workers`) and comes back through queued signals. One sync runs at a time; a request while one
runs is remembered and runs right after. API keys are read on the GUI thread between the two steps of a sync
(see :mod:`tracker.sync.job`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import TypeVar

from PySide6.QtCore import QObject, Signal

from tracker.paths import AppPaths
from tracker.settings import Settings, load_settings, save_settings
from tracker.sync import job
from tracker.sync.workers import Relay, Workers

T = TypeVar("T")
log = logging.getLogger(__name__)

STATES = ("idle", "syncing", "error", "paused")


@dataclass(frozen=True)
class SyncReport:
    """How one sync went, for the scheduler (retry on network errors) and the UI."""

    ok: bool
    message: str
    new_records: int = 0
    network_down: bool = False
    with_accounts: bool = True
    changed: bool = True  # something was read or polled: figures may differ (an idle poll changes nothing)


def _default_load_key(label: str) -> str:
    from tracker.keychain import load_key
    from tracker.logs import register_secret

    key = load_key(label)
    register_secret(key)  # the log files and crash reports redact it even in a shape no pattern knows
    return key


def _wall_ms() -> int:
    return int(time.time() * 1000)


class AppServices(QObject):
    """Signals: state_changed(str) 'idle'|'syncing'|'error'|'paused'; data_changed(); settings_changed();
    message(str) one line for people (errors in plain words); sync_finished(object) a :class:`SyncReport`."""

    state_changed = Signal(str)
    data_changed = Signal()
    settings_changed = Signal()
    message = Signal(str)
    sync_finished = Signal(object)

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings | None = None,
        *,
        load_key: Callable[[str], str] = _default_load_key,
        now_ms: Callable[[], int] = _wall_ms,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.settings = settings if settings is not None else load_settings(paths.data_dir)
        self.state = "idle"
        self.last_error: str | None = None
        self.demo = False  # the ledger is a demo one (known after the first sync): shown, and never synced into
        self.now_ms = now_ms
        self._load_key = load_key
        self._relay = Relay(self)
        self._sync_pool = Workers(self._relay, 1, "sync")
        self._read_pool = Workers(self._relay, 2, "read")
        self._save_pool = Workers(self._relay, 1, "settings")  # one thread: saves land in order
        self._syncing = False
        self._pending: bool | None = None  # a sync asked for while one runs (True: with accounts)
        self._closed = False
        self._shown: tuple[str, str | None] | None = None  # (local date, last error) when data_changed last fired
        self._refresh_state()

    # -- state ----------------------------------------------------------------------------------------------

    def is_paused(self) -> bool:
        until = self.settings.paused_until_ms
        return until is not None and until > self.now_ms()

    def is_syncing(self) -> bool:
        return self._syncing

    def _refresh_state(self) -> None:
        if self._syncing:
            state = "syncing"
        elif self.is_paused():
            state = "paused"
        elif self.last_error:
            state = "error"
        else:
            state = "idle"
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def refresh_state(self) -> None:
        """Re-evaluate the state (the scheduler calls this when a pause ends)."""
        self._refresh_state()

    def tz(self) -> tzinfo:
        from tracker.analytics.periods import BadZoneError, local_zone, zone

        try:
            return zone(self.settings.time_zone)
        except BadZoneError:
            return local_zone()

    # -- settings -------------------------------------------------------------------------------------------

    def update_settings(self, s: Settings) -> None:
        """Use ``s`` now; save it on a worker (a failed save becomes a message) and emit settings_changed."""
        self.settings = s
        data_dir = self.paths.data_dir
        self._save_pool.submit(lambda: save_settings(data_dir, s), lambda _: None, self._save_failed)
        self.settings_changed.emit()
        self._refresh_state()

    def _save_failed(self, message: str) -> None:
        self.message.emit(f"Settings could not be saved: {message}")

    def pause(self, until_ms: int | None) -> None:
        """Pause scheduled syncing until ``until_ms`` (None = resume now)."""
        self.update_settings(replace(self.settings, paused_until_ms=until_ms))

    # -- background work ------------------------------------------------------------------------------------

    def read(
        self,
        fn: Callable[[sqlite3.Connection], T],
        on_done: Callable[[T], None],
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        """Run ``fn`` on a worker with its own read-only connection; callbacks on the GUI thread."""
        db = self.paths.db
        self._read_pool.submit(lambda: _with_read_conn(db, fn), on_done, on_error)

    def run(
        self, fn: Callable[[], T], on_done: Callable[[T], None], on_error: Callable[[str], None] | None = None
    ) -> None:
        """Any other blocking work, off the GUI thread; callbacks on the GUI thread."""
        self._read_pool.submit(fn, on_done, on_error)

    def open_ledger(self, on_done: Callable[[None], None], on_error: Callable[[str], None]) -> None:
        """Create or migrate the ledger on the sync thread (before any read; a sync queued after it waits)."""
        paths = self.paths
        self._sync_pool.submit(lambda: job.open_ledger(paths), on_done, on_error)

    # -- sync -----------------------------------------------------------------------------------------------

    def sync_now(self, *, accounts: bool = True) -> None:
        """Import new local usage and (unless ``accounts=False``) poll the provider accounts.

        Never starts a second sync: a request during one runs once it ends (with accounts if any asked).
        """
        if self._closed:
            return
        if self._syncing:
            self._pending = bool(self._pending) or accounts
            return
        self._syncing = True
        self._refresh_state()
        paths = self.paths
        self._sync_pool.submit(
            lambda: job.import_local(paths, with_accounts=accounts),
            lambda r: self._local_done(r, accounts),
            lambda m: self._finish(SyncReport(False, m, with_accounts=accounts)),
        )

    def _local_done(self, local: job.LocalResult, accounts: bool) -> None:
        self.demo = local.demo
        keyed: list[tuple[job.AccountRef, str]] = []
        failures: list[job.AccountOutcome] = []
        for acct in local.accounts:
            try:
                keyed.append((acct, self._load_key(acct.label)))  # on the GUI thread, by design
            except Exception as e:
                failures.append(job.AccountOutcome(acct, False, str(e)))
        paths = self.paths

        def poll() -> job.PollResult:
            for f in failures:
                job.record_key_failure(paths, f.account.id, f.message)
            result = job.poll_accounts(paths, keyed)
            result.outcomes[:0] = failures
            return result

        if not keyed and not failures:
            self._finish(_report(local, job.PollResult(), accounts))
            return
        self._sync_pool.submit(
            poll,
            lambda p: self._finish(_report(local, p, accounts)),
            lambda m: self._finish(SyncReport(False, m, local.new_records, with_accounts=accounts)),
        )

    def _finish(self, report: SyncReport) -> None:
        self._syncing = False
        self.last_error = None if report.ok else report.message
        if not report.ok:
            self.message.emit(report.message)
        self._refresh_state()
        # Readers re-read (the tray's figures, the visible page, the alerts) only when something may have changed:
        # a sync that read and polled nothing (the 60 s poll, most of the day) leaves them as they are, which keeps
        # an idle app idle on a large ledger. A new local day or a change of error counts as a change.
        shown = (datetime.fromtimestamp(self.now_ms() / 1000, self.tz()).date().isoformat(), self.last_error)
        if report.changed or shown != self._shown:
            self._shown = shown
            self.data_changed.emit()
        self.sync_finished.emit(report)
        if self._pending is not None and not self._closed:
            again, self._pending = self._pending, None
            self.sync_now(accounts=again)

    def close(self, wait: bool = True) -> None:
        """Stop the workers (waiting for running work when ``wait``); no callback runs after this."""
        self._closed = True
        self._relay.closed = True
        for pool in (self._sync_pool, self._read_pool, self._save_pool):
            pool.shutdown(wait=wait)


def _report(local: job.LocalResult, polled: job.PollResult, accounts: bool) -> SyncReport:
    problems = list(local.errors) + [f"{o.account.label}: {o.message}" for o in polled.outcomes if not o.ok]
    changed = local.new_records > 0 or local.files_read > 0 or bool(polled.outcomes)
    if problems:
        extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return SyncReport(False, problems[0] + extra, local.new_records, polled.network_down, accounts, changed)
    return SyncReport(True, f"Synced: {local.new_records} new records.", local.new_records, False, accounts, changed)


def _with_read_conn(db: object, fn: Callable[[sqlite3.Connection], T]) -> T:
    from pathlib import Path

    path = Path(str(db))
    if not path.exists():
        raise FileNotFoundError(f"No ledger at {path} yet: it is created by the first sync.")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=10.0)
    try:
        return fn(conn)
    finally:
        conn.close()
