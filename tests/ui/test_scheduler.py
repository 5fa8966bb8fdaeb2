"""The scheduler's decisions with an injectable clock and a fake services object (no real waiting, except one
short debounce with a real file-system watcher)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal

from tracker.settings import Settings
from tracker.sync import scheduler as sched
from tracker.sync.scheduler import JUMP_MS, POLL_MS, Scheduler, backoff_ms
from tracker.sync.services import SyncReport

MIN = 60_000


class FakeServices(QObject):
    sync_finished = Signal(object)
    settings_changed = Signal()

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.settings = Settings(sync_interval_min=15)
        self.syncs: list[bool] = []
        self.syncing = False

    def sync_now(self, *, accounts: bool = True) -> None:
        self.syncs.append(accounts)
        self.syncing = True

    def finish(self, accounts: bool = True, network_down: bool = False) -> None:
        self.syncing = False
        self.sync_finished.emit(SyncReport(not network_down, "", network_down=network_down, with_accounts=accounts))

    def is_syncing(self) -> bool:
        return self.syncing

    def is_paused(self) -> bool:
        until = self.settings.paused_until_ms
        return until is not None and until > self.clock.wall

    def refresh_state(self) -> None:
        pass

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None], on_error: Any = None) -> None:
        on_done(fn())  # synchronous is enough here


class Clock:
    def __init__(self) -> None:
        self.wall = 1_800_000_000_000
        self.mono = 5_000

    def advance(self, ms: int, *, asleep: bool = False) -> None:
        self.wall += ms
        if not asleep:  # the monotonic clock stops while the machine sleeps
            self.mono += ms


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock, qtbot: Any) -> FakeServices:
    return FakeServices(clock)


@pytest.fixture
def scheduler(fake: FakeServices, clock: Clock, tmp_path: Path) -> Iterator[Scheduler]:
    s = Scheduler(fake, wall_ms=lambda: clock.wall, mono_ms=lambda: clock.mono, roots=[tmp_path / "none"],  # type: ignore[arg-type]
                  watch_network=False)
    yield s
    s.stop()


def test_start_syncs_everything_at_once(scheduler: Scheduler, fake: FakeServices) -> None:
    scheduler.start()
    assert fake.syncs == [True]
    assert scheduler.poll_timer.isActive()
    assert scheduler.poll_timer.interval() == POLL_MS


def test_accounts_are_planned_an_interval_after_each_sync(
    scheduler: Scheduler, fake: FakeServices, clock: Clock
) -> None:
    scheduler.start()
    fake.finish()
    assert scheduler.provider_due_mono == clock.mono + 15 * MIN
    assert scheduler.provider_timer.isActive() and scheduler.provider_timer.interval() == 15 * MIN
    fake.finish(accounts=False)  # a local-only sync does not move the account plan
    assert scheduler.provider_due_mono == clock.mono + 15 * MIN
    scheduler.provider_due()
    assert fake.syncs == [True, True]


def test_network_errors_back_off_then_reset(scheduler: Scheduler, fake: FakeServices, clock: Clock) -> None:
    scheduler.start()
    delays = []
    for _ in range(6):
        fake.finish(network_down=True)
        delays.append(scheduler.provider_timer.interval())
    assert delays == [30_000, 60_000, 120_000, 300_000, 600_000, 600_000]
    fake.finish()
    assert scheduler.failures == 0
    assert scheduler.provider_timer.interval() == 15 * MIN
    assert backoff_ms(5, 5 * MIN) == 5 * MIN  # never longer than the interval


def test_network_back_retries_at_once_only_after_a_failure(scheduler: Scheduler, fake: FakeServices) -> None:
    scheduler.start()
    fake.finish()
    scheduler.network_back()
    assert fake.syncs == [True]
    fake.sync_now()
    fake.finish(network_down=True)
    scheduler.network_back()
    assert fake.syncs == [True, True, True]


def test_tick_imports_logs_and_a_clock_jump_syncs_everything(
    scheduler: Scheduler, fake: FakeServices, clock: Clock
) -> None:
    scheduler.start()
    fake.finish()
    clock.advance(POLL_MS)
    scheduler.tick()
    assert fake.syncs == [True, False]
    fake.finish(accounts=False)
    clock.advance(JUMP_MS + 1, asleep=True)  # slept: wall time moved, monotonic time did not
    scheduler.tick()
    assert fake.syncs == [True, False, True]
    fake.finish()
    clock.advance(POLL_MS)
    scheduler.tick()  # no jump since the last tick
    assert fake.syncs == [True, False, True, False]


def test_a_running_sync_is_not_started_again(scheduler: Scheduler, fake: FakeServices, clock: Clock) -> None:
    scheduler.start()
    clock.advance(POLL_MS)
    scheduler.tick()
    scheduler.local_due()
    assert fake.syncs == [True]


def test_pause_stops_scheduled_syncs_until_it_ends(scheduler: Scheduler, fake: FakeServices, clock: Clock) -> None:
    fake.settings = Settings(paused_until_ms=clock.wall + 3_600_000)
    scheduler.start()
    assert fake.syncs == []
    assert scheduler.pause_timer.isActive() and scheduler.pause_timer.interval() == 3_600_000
    scheduler.local_due()
    scheduler.provider_due()
    assert fake.syncs == []
    clock.advance(3_600_000)
    scheduler._pause_over()
    assert fake.syncs == [True]


def test_settings_change_replans_a_shorter_interval(scheduler: Scheduler, fake: FakeServices, clock: Clock) -> None:
    scheduler.start()
    fake.finish()
    fake.settings = Settings(sync_interval_min=5)
    fake.settings_changed.emit()
    assert scheduler.provider_timer.interval() == 5 * MIN


def test_log_changes_trigger_a_debounced_local_sync(
    fake: FakeServices, clock: Clock, tmp_path: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sched, "DEBOUNCE_MS", 100)
    root = tmp_path / ".claude"
    (root / "projects" / "-home-u-app").mkdir(parents=True)
    (root / "projects" / "-home-u-app" / "s1.jsonl").write_text("")
    s = Scheduler(fake, wall_ms=lambda: clock.wall, mono_ms=lambda: clock.mono, roots=[root],  # type: ignore[arg-type]
                  watch_network=False)
    try:
        clock.wall = int(__import__("time").time() * 1000)
        s.refresh_watch()
        watched = set(s.watcher.directories()) | set(s.watcher.files())
        assert {str(root), str(root / "projects"), str(root / "projects" / "-home-u-app"),
                str(root / "projects" / "-home-u-app" / "s1.jsonl")} <= watched
        (root / "projects" / "new-project").mkdir()
        (root / "projects" / "-home-u-app" / "s1.jsonl").write_text("{}\n")
        qtbot.waitUntil(lambda: fake.syncs == [False], timeout=3000)
        qtbot.wait(250)
        assert fake.syncs == [False]  # a burst of changes: one sync
    finally:
        s.stop()
