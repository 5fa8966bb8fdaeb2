"""When to sync: provider accounts on an interval, local logs when they change, and after sleep.

Single-shot timers, re-planned after every run (vorta's scheduler): nothing piles up if a sync is slow, and a sync
already under way is never started twice (the services refuse to). Local logs are watched with
QFileSystemWatcher (debounced ~2 s) with a 60 s poll as the fallback. Each poll tick compares the wall clock with
the monotonic clock: when the wall clock moved much further (the machine slept, or its clock was set), the
scheduler syncs everything at once. After a sync whose requests got no answer (network down), accounts are
retried with exponential backoff, and at once when Qt reports the network back. "Pause until" stops scheduled
syncs (a manual "Sync now" still runs).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from tracker.sync.services import AppServices, SyncReport
from tracker.sync.watch import log_roots, watch_targets

log = logging.getLogger(__name__)

POLL_MS = 60_000
DEBOUNCE_MS = 2_000
JUMP_MS = 90_000  # wall clock ahead of the monotonic clock by more than this between ticks: a sleep/resume
BACKOFF_MS = (30_000, 60_000, 120_000, 300_000, 600_000)


def _wall_ms() -> int:
    return int(time.time() * 1000)


def _mono_ms() -> int:
    return int(time.monotonic() * 1000)


def backoff_ms(failures: int, interval_ms: int) -> int:
    """Delay before retrying after ``failures`` consecutive network failures (never beyond the interval)."""
    return min(BACKOFF_MS[min(failures, len(BACKOFF_MS)) - 1], interval_ms)


def _single_shot(parent: QObject, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.timeout.connect(slot)
    return timer


class Scheduler(QObject):
    """Decides when :class:`AppServices` syncs. No signals; it only calls ``services.sync_now``."""

    def __init__(
        self,
        services: AppServices,
        *,
        wall_ms: Callable[[], int] = _wall_ms,
        mono_ms: Callable[[], int] = _mono_ms,
        roots: list[Path] | None = None,
        watch_network: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.wall_ms, self.mono_ms = wall_ms, mono_ms
        self._roots = roots
        self.failures = 0  # consecutive syncs with the network down
        self.provider_due_mono: int | None = None  # when the next account sync is planned (monotonic ms)
        self._last = (wall_ms(), mono_ms())
        self.provider_timer = _single_shot(self, self.provider_due)
        self.debounce_timer = _single_shot(self, self.local_due)
        self.poll_timer = _single_shot(self, self.tick)
        self.pause_timer = _single_shot(self, self._pause_over)
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(self._changed)
        self.watcher.fileChanged.connect(self._changed)
        services.sync_finished.connect(self.sync_finished)
        services.settings_changed.connect(self.replan)
        if watch_network:
            self._watch_network()

    # -- planning -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Sync everything at once (a first run imports the logs straight away), then keep to the plan."""
        self.provider_due()
        self.poll_timer.start(POLL_MS)

    def stop(self) -> None:
        for timer in (self.provider_timer, self.debounce_timer, self.poll_timer, self.pause_timer):
            timer.stop()

    def interval_ms(self) -> int:
        return max(1, self.services.settings.sync_interval_min) * 60_000

    def plan_provider(self, delay_ms: int) -> None:
        self.provider_due_mono = self.mono_ms() + delay_ms
        self.provider_timer.start(max(0, delay_ms))

    def replan(self) -> None:
        """Settings changed (interval, pause): re-plan the account timer and the end of a pause."""
        self.services.refresh_state()
        if self.services.is_paused():
            self.pause_timer.start(max(0, (self.services.settings.paused_until_ms or 0) - self.wall_ms()))
        else:
            self.pause_timer.stop()
        if self.provider_due_mono is not None and not self.services.is_syncing():
            last_planned = self.provider_due_mono
            self.plan_provider(min(max(0, last_planned - self.mono_ms()), self.interval_ms()))

    # -- triggers -------------------------------------------------------------------------------------------

    def provider_due(self) -> None:
        """Time to poll the accounts (and import the logs with them), unless paused."""
        if self.services.is_paused():
            self.replan()
            return
        self.provider_due_mono = None  # planned again when this sync finishes
        self.services.sync_now(accounts=True)

    def local_due(self) -> None:
        """The logs changed (or the poll came round): import them, unless paused or a sync is running."""
        if self.services.is_paused() or self.services.is_syncing():
            return  # a running sync reads the logs anyway; the next tick catches anything it missed
        self.services.sync_now(accounts=False)

    def tick(self) -> None:
        """The 60 s poll: detect a clock jump (sleep/resume), end a pause, and import the logs."""
        self.poll_timer.start(POLL_MS)
        if self.clock_jumped():
            log.info("clock jump detected (sleep/resume?): syncing everything")
            self.provider_timer.stop()
            self.provider_due()
            return
        self.services.refresh_state()
        self.local_due()

    def clock_jumped(self) -> bool:
        wall, mono = self.wall_ms(), self.mono_ms()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        return abs((wall - last_wall) - (mono - last_mono)) > JUMP_MS

    def _changed(self, _path: str) -> None:
        self.debounce_timer.start(DEBOUNCE_MS)  # restarts: a burst of writes gives one sync

    def _pause_over(self) -> None:
        self.services.refresh_state()
        if not self.services.is_paused():
            self.provider_timer.stop()
            self.provider_due()

    def sync_finished(self, report: SyncReport) -> None:
        """Plan the next account sync (backoff after a network failure) and refresh what is watched."""
        if report.with_accounts:
            self.failures = self.failures + 1 if report.network_down else 0
            self.plan_provider(backoff_ms(self.failures, self.interval_ms()) if self.failures else self.interval_ms())
        self.refresh_watch()

    def network_back(self) -> None:
        """The network came back: retry the accounts at once if the last attempt found it down."""
        if self.failures and not self.services.is_syncing():
            self.provider_timer.stop()
            self.provider_due()

    # -- watching -------------------------------------------------------------------------------------------

    def refresh_watch(self) -> None:
        """Work out the paths to watch on a worker, then watch them (new folders appear as agents run)."""
        roots, now_s = self._roots, self.wall_ms() / 1000
        self.services.run(lambda: watch_targets(roots if roots is not None else log_roots(), now_s),
                          self._set_watched, lambda _m: None)

    def _set_watched(self, targets: list[str]) -> None:
        current = set(self.watcher.directories()) | set(self.watcher.files())
        wanted = set(targets)
        if stale := sorted(current - wanted):
            self.watcher.removePaths(stale)
        if new := sorted(wanted - current):
            self.watcher.addPaths(new)

    def _watch_network(self) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        if not QNetworkInformation.loadDefaultBackend():
            return
        info = QNetworkInformation.instance()
        if info is None:
            return

        def changed(reachability: QNetworkInformation.Reachability) -> None:
            if reachability == QNetworkInformation.Reachability.Online:
                self.network_back()

        info.reachabilityChanged.connect(changed)
