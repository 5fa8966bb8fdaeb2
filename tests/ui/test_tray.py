"""The tray: menu actions and their names, figures from the ledger, pause/resume, icon states, budget notices."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tracker.analytics.spend import SpendSummary
from tracker.domain import PICO_PER_USD
from tracker.paths import AppPaths
from tracker.settings import Settings
from tracker.store import open_store
from tracker.sync import budget
from tracker.sync.services import AppServices
from tracker.ui.tray import ACTION_NAMES, Tray, month_line, today_line, usd

NOW = 1_795_000_000_000  # 2026-11-18 (UTC)


def add_usage(db: Path, pico: int | None, ts_ms: int = NOW - 1000) -> None:
    conn = sqlite3.connect(db)
    n = conn.execute("SELECT count(*) FROM usage").fetchone()[0]
    conn.execute(
        "INSERT INTO usage (source, dedup_key, ts_ms, model, cost_pusd, cost_kind) VALUES ('codex', ?, ?, 'm', ?, ?)",
        (f"k{n}", ts_ms, pico, "estimated" if pico is not None else "unpriced"),
    )
    conn.commit()
    conn.close()


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    p = AppPaths(tmp_path / "data")
    p.data_dir.mkdir()
    open_store(p.db).close()
    return p


@pytest.fixture
def services(paths: AppPaths, qtbot: Any) -> Iterator[AppServices]:
    s = AppServices(paths, Settings(time_zone="UTC", monthly_budget_usd=Decimal(10)), now_ms=lambda: NOW)
    yield s
    s.close()


@pytest.fixture
def tray(services: AppServices, qtbot: Any) -> Iterator[Tray]:
    t = Tray(services)
    qtbot.waitUntil(lambda: t.summary is not None, timeout=5000)  # the first figures, read at start
    yield t
    t.menu.deleteLater()


def names(tray: Tray) -> list[str]:
    return [a.objectName() for a in tray.menu.actions() if a.objectName()]


def test_money_is_dollars_and_cents_rounded_half_up() -> None:
    assert usd(0) == "$0.00"
    assert usd(1_234_565 * 10**10 // 1000 * 1000) == "$12,345.65"
    assert usd(5 * 10**9) == "$0.01"
    assert usd(5 * 10**9 - 1) == "$0.00"


def test_menu_has_the_actions_with_their_names(tray: Tray) -> None:
    tray.rebuild_menu()
    assert names(tray) == ["action_today", "action_month", "action_log_outcome", "action_sync_now",
                           "action_open_dashboard", "action_pause_hour", "action_pause_tomorrow", "action_quit"]
    assert set(names(tray)) >= set(ACTION_NAMES) - {"action_resume"}


def test_menu_shows_fresh_figures(tray: Tray, paths: AppPaths, qtbot: Any) -> None:
    add_usage(paths.db, 3 * PICO_PER_USD + 456 * 10**9)
    add_usage(paths.db, None)
    with qtbot.waitSignal(tray.figures_changed, timeout=5000):
        tray.menu.aboutToShow.emit()  # what opening the menu does
    today = tray.find_action("action_today")
    month = tray.find_action("action_month")
    assert today is not None and month is not None
    assert today.text() == "Today: $3.46 estimated + 1 unpriced, $0.00 reported"
    assert month.text() == "This month: $3.46 estimated + 1 unpriced, $0.00 reported — 34% of $10.00 budget"
    assert "Today: $3.46 estimated" in tray.icon.toolTip()
    assert tray.icon_state() == "idle"


def test_actions_do_what_they_say(tray: Tray, services: AppServices, qtbot: Any) -> None:
    opened: list[bool] = []
    quits: list[bool] = []
    tray.open_requested.connect(lambda: opened.append(True))
    tray.quit_requested.connect(lambda: quits.append(True))
    tray.rebuild_menu()
    for name in ("action_open_dashboard", "action_quit"):
        action = tray.find_action(name)
        assert action is not None
        action.trigger()
    assert opened == [True] and quits == [True]
    with qtbot.waitSignal(services.sync_finished, timeout=20_000):
        action = tray.find_action("action_sync_now")
        assert action is not None
        action.trigger()


def test_pause_then_resume_from_the_menu(tray: Tray, services: AppServices) -> None:
    tray.rebuild_menu()
    action = tray.find_action("action_pause_hour")
    assert action is not None
    action.trigger()
    assert services.settings.paused_until_ms == NOW + 3_600_000
    assert services.state == "paused" and tray.icon_state() == "paused"
    tray.rebuild_menu()
    assert "action_resume" in names(tray) and "action_pause_hour" not in names(tray)
    assert "Syncing is paused." in tray.tooltip()
    resume = tray.find_action("action_resume")
    assert resume is not None
    resume.trigger()
    assert services.settings.paused_until_ms is None and services.state == "idle"
    tray.rebuild_menu()
    tomorrow = tray.find_action("action_pause_tomorrow")
    assert tomorrow is not None
    tomorrow.trigger()
    until = services.settings.paused_until_ms
    assert until is not None and NOW < until <= NOW + 86_400_000


def test_over_budget_shows_in_the_icon(tray: Tray, paths: AppPaths, qtbot: Any) -> None:
    add_usage(paths.db, 11 * PICO_PER_USD)
    with qtbot.waitSignal(tray.figures_changed, timeout=5000):
        tray.refresh()
    assert tray.icon_state() == "over_budget"


def test_budget_notices_once_each_and_not_again_after_a_restart(
    services: AppServices, paths: AppPaths, qtbot: Any
) -> None:
    tray = Tray(services)
    add_usage(paths.db, 6 * PICO_PER_USD)  # 60%
    with qtbot.waitSignal(tray.figures_changed, timeout=5000):
        tray.refresh()
    qtbot.waitUntil(lambda: len(tray.notices_shown) == 1, timeout=5000)
    assert tray.notices_shown[0].percent == 50
    assert tray.notices_shown[0].text == "This month: $6.00 of $10.00 (estimated + reported)."
    with qtbot.waitSignal(tray.figures_changed, timeout=5000):
        tray.refresh()
    add_usage(paths.db, 3 * PICO_PER_USD)  # 90%
    with qtbot.waitSignal(tray.figures_changed, timeout=5000):
        tray.refresh()
    qtbot.waitUntil(lambda: len(tray.notices_shown) == 2, timeout=5000)
    assert [n.percent for n in tray.notices_shown] == [50, 80]
    assert budget.load_sent(paths.data_dir, "2026-11") == [50, 80]
    restarted = Tray(services)
    with qtbot.waitSignal(restarted.figures_changed, timeout=5000):
        restarted.refresh()
    qtbot.wait(100)
    assert restarted.notices_shown == []
    tray.menu.deleteLater()
    restarted.menu.deleteLater()


def summary(month_pico: int, budget_pico: int | None) -> SpendSummary:
    return SpendSummary(0, 0, 0, month_pico, 0, 0, month_pico, budget_pico)


def test_thresholds() -> None:
    assert budget.crossed(summary(49, 100)) == []
    assert budget.crossed(summary(50, 100)) == [50]
    assert budget.crossed(summary(100, 100)) == [50, 80, 100]
    assert budget.crossed(summary(10**20, None)) == []
    assert budget.crossed(summary(5, 0)) == []
    jump = budget.notices(summary(100, 100), [])
    assert [(n.percent, n.title) for n in jump] == [(100, "Monthly budget reached")]  # one notice, not three
    assert budget.notices(summary(100, 100), [50, 80, 100]) == []


def test_sent_state_is_per_month(tmp_path: Path) -> None:
    budget.mark_sent(tmp_path, "2026-11", [80])
    assert budget.load_sent(tmp_path, "2026-11") == [50, 80]
    assert budget.load_sent(tmp_path, "2026-12") == []
    (tmp_path / budget.STATE_FILENAME).write_text("garbage")
    assert budget.load_sent(tmp_path, "2026-11") == []


def test_lines_label_estimated_and_reported() -> None:
    s = SpendSummary(10**12, 2 * 10**12, 0, 3 * 10**12, 4 * 10**12, 2, 10**13, None)
    assert today_line(s) == "Today: $1.00 estimated, $2.00 reported"
    assert month_line(s) == "This month: $3.00 estimated + 2 unpriced, $4.00 reported"
