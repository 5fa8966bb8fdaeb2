"""The tray's alerts for stored budgets and the value alert, through the hook the tray calls after each figure read
(``budget.check_stored_async(services, tray._notify)``), offscreen, with a fake clock. The decisions run on the
services' read workers, as in the app; whichever path runs first, each notice is shown once.

Figures by hand are in tests/test_budgets.py: 2026-11-18 (W47), project app spent $200 this week with no outcome,
$612 this month in total.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_budgets import ledger_at
from test_subscriptions import NOW, add_usage

from tracker.paths import AppPaths
from tracker.plans import add_budget
from tracker.settings import Settings
from tracker.sync import budget
from tracker.sync.services import AppServices
from tracker.ui.tray import Tray

WEEK = 7 * 86_400_000


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    p = AppPaths(tmp_path / "data")
    p.data_dir.mkdir()
    conn = ledger_at(p.db)
    add_budget(conn, "monthly", "1000")
    add_budget(conn, "weekly", "250", project="app")
    conn.close()
    return p


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(paths: AppPaths, clock: Clock, qtbot: Any) -> Iterator[AppServices]:
    s = AppServices(paths, Settings(time_zone="UTC"), now_ms=clock)
    yield s
    s.close()


def check(services: AppServices, qtbot: Any) -> list[budget.BudgetNotice]:
    """Run the hook once on a worker and wait for its answer on the GUI thread."""
    got: list[list[budget.BudgetNotice]] = []
    budget.check_stored_async(services, got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    return got[0]


def test_the_tray_shows_them(services: AppServices, qtbot: Any) -> None:
    tray = Tray(services)
    budget.check_stored_async(services, tray._notify)
    qtbot.waitUntil(lambda: len(tray.notices_shown) == 3, timeout=5000)
    assert [n.title for n in tray.notices_shown] == [
        "50% of the monthly budget spent", "80% of the weekly budget of project app spent", "Spend with no outcome"]
    # one message for the three (a tray shows one at a time: three would hide each other)
    assert tray.last_message is not None and tray.last_message[0] == "3 spending alerts"
    assert tray.last_message[1].splitlines() == [f"• {n.title}: {n.text}" for n in tray.notices_shown]
    assert check(services, qtbot) == []
    tray.menu.deleteLater()


def test_thresholds_and_value_alert_once_per_period(services: AppServices, paths: AppPaths, clock: Clock,
                                                    qtbot: Any) -> None:
    first = check(services, qtbot)
    assert [(n.percent, n.title) for n in first] == [
        (50, "50% of the monthly budget spent"),
        (80, "80% of the weekly budget of project app spent"),
        (0, "Spend with no outcome"),
    ]
    assert first[2].text == "Project app spent $200.00 this week with no outcome logged."
    assert check(services, qtbot) == []  # once each
    restarted = AppServices(paths, Settings(time_zone="UTC"), now_ms=clock)  # remembered in app-state.json
    assert check(restarted, qtbot) == []
    restarted.close()

    conn = sqlite3.connect(paths.db, isolation_level=None)
    add_usage(conn, "claude_code", "2026-11-18T09:00:00", 60, "/work/app")  # app: $260 of $250 this week
    conn.close()
    assert [n.title for n in check(services, qtbot)] == ["Weekly budget of project app reached"]

    clock.now = NOW + WEEK  # a new week: the weekly budget and the value alert start over
    conn = sqlite3.connect(paths.db, isolation_level=None)
    add_usage(conn, "claude_code", "2026-11-24T09:00:00", 150, "/work/app")
    conn.close()
    assert [(n.percent, n.text) for n in check(services, qtbot)] == [
        (80, "This month: $822.00 of $1,000.00 (estimated + reported)."),  # 612 + 60 + 150: the month goes on
        (50, "This week: $150.00 of $250.00 (estimated + reported)."),
        (0, "Project app spent $150.00 this week with no outcome logged."),
    ]


def test_a_reached_stored_budget_turns_the_icon_over_budget(services: AppServices, paths: AppPaths,
                                                              qtbot: Any) -> None:
    tray = Tray(services)
    budget.check_stored_async(services, tray._notify, tray._got_reached)
    qtbot.waitUntil(lambda: len(tray.notices_shown) == 3, timeout=5000)
    assert tray.budgets_reached == [] and tray.icon_state() == "idle"  # 50 % and 80 %: not reached yet

    conn = sqlite3.connect(paths.db, isolation_level=None)
    add_usage(conn, "claude_code", "2026-11-18T09:00:00", 60, "/work/app")  # app: $260 of $250 this week
    conn.close()
    budget.check_stored_async(services, tray._notify, tray._got_reached)
    qtbot.waitUntil(lambda: bool(tray.budgets_reached), timeout=5000)
    assert tray.budgets_reached == ["weekly budget of project app: $260.00 of $250.00"]
    assert tray.icon_state() == "over_budget"
    assert "Budget reached — Weekly budget of project app: $260.00 of $250.00" in tray.tooltip()
    tray.menu.deleteLater()


def test_stored_budgets_are_measured_at_most_every_few_minutes(services: AppServices, clock: Clock, qtbot: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.ui import tray as tray_module

    calls: list[int] = []
    monkeypatch.setattr(tray_module.budget, "check_stored_async", lambda *_args: calls.append(clock.now))
    tray = Tray(services)
    tray.check_stored()
    tray.check_stored()  # a sync a minute later: not measured again yet
    clock.now += tray_module.STORED_CHECK_EVERY_MS - 1
    tray.check_stored()
    assert calls == [NOW]
    clock.now += 1
    tray.check_stored()
    tray.check_stored(force=True)
    assert calls == [NOW, NOW + tray_module.STORED_CHECK_EVERY_MS] * 1 + [NOW + tray_module.STORED_CHECK_EVERY_MS]
    tray.menu.deleteLater()
