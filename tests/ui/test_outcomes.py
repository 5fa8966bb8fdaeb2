"""Outcomes in the desktop app: the "Log outcome" dialog (tray and page), the Outcomes page (list, filters, edit,
delete, summary, value charts) and the outcome markers on the overview chart. On a small demo ledger (one month,
five outcomes), driven through the real AppServices: reads and writes on its workers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tracker.demo import DemoSpec, create_demo
from tracker.paths import AppPaths
from tracker.settings import Settings

pytest.importorskip("pytestqt")

NOW = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC
TODAY = date(2026, 11, 18)
DEMO_DAYS = (24, 17, 11, 6, 2)  # the outcomes of a one-month demo, days before NOW (tracker/demo.py)


def _no_key(label: str) -> str:
    raise AssertionError("no key is read in these tests")


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    p = AppPaths(tmp_path / "ledger")
    create_demo(p, DemoSpec(months=1, seed=3, rows=1500, now_ms=NOW))
    return p


@pytest.fixture
def services(paths: AppPaths, qtbot: Any) -> Iterator[Any]:
    from tracker.sync.services import AppServices

    s = AppServices(paths, Settings(time_zone="UTC", hourly_rate_usd=Decimal(100)), load_key=_no_key,
                    now_ms=lambda: NOW)
    yield s
    s.close(wait=True)


def _rows(paths: AppPaths, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(paths.db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _latest_project(paths: AppPaths) -> str | None:
    from tracker.analytics.attribution import latest_usage_project

    conn = sqlite3.connect(paths.db)
    try:
        return latest_usage_project(conn)
    finally:
        conn.close()


@pytest.fixture
def page(services: Any, qtbot: Any) -> Iterator[Any]:
    from tracker.ui.pages.outcomes import OutcomesPage

    p = OutcomesPage(services)
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    p.refresh()
    qtbot.waitUntil(lambda: p.data is not None and p.value is not None, timeout=10_000)
    yield p
    p.hide()


# -- the dialog ------------------------------------------------------------------------------------------------


def _dialog(services: Any, qtbot: Any, outcome: Any = None) -> Any:
    from tracker.ui.outcome_dialog import OutcomeDialog

    d = OutcomeDialog(services, outcome)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitUntil(lambda: d.projects is not None, timeout=10_000)
    return d


def test_dialog_guesses_the_project_and_saves_exact_value_and_hours_on_enter(services: Any, paths: AppPaths,
                                                                             qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    d = _dialog(services, qtbot)
    guess = _latest_project(paths)
    assert guess and d.project_combo.currentText() == guess
    assert "most recent" in d.project_hint.text()
    assert d.when_edit.dateTime().toString("yyyy-MM-dd HH:mm") == "2026-11-18 11:06"  # now, in the zone
    d.title_edit.setText("  Shipped   CSV export ")
    d.kind_combo.setCurrentIndex(d.kind_combo.findData("shipped_feature"))
    d.value_edit.setText("$1,234.567891")
    d.hours_edit.setText("1.50")
    d.tags_edit.setText("csv, export")
    changed: list[int] = []
    services.data_changed.connect(lambda: changed.append(1))
    with qtbot.waitSignal(d.saved, timeout=10_000) as saved:
        qtbot.keyClick(d.title_edit, Qt.Key.Key_Return)  # Enter saves
    (row,) = _rows(paths, "SELECT o.title, o.kind, p.name, o.value_pusd, o.hours_saved, o.status, o.tags, o.at_ms "
                          "FROM outcomes o LEFT JOIN projects p ON p.id = o.project_id WHERE o.id = ?",
                   saved.args[0])
    assert row == ("Shipped CSV export", "shipped_feature", guess, 1_234_567_891_000_000, "1.5", "kept",
                   '["csv", "export"]', NOW - NOW % 60_000)
    assert changed  # figures re-read everywhere
    assert not d.isVisible()


def test_dialog_refuses_an_empty_title_and_bad_amounts_in_plain_words(services: Any, paths: AppPaths,
                                                                      qtbot: Any) -> None:
    before = _rows(paths, "SELECT count(*) FROM outcomes")
    d = _dialog(services, qtbot)
    d.title_edit.setText("   ")
    d.save_button.click()
    assert d.isVisible() and d.error_label.isVisible()
    assert "title" in d.error_label.text()
    d.title_edit.setText("Fixed it")
    for field, text, words in ((d.value_edit, "lots", "not an amount of dollars"),
                               (d.hours_edit, "-2", "not a number of hours")):
        field.setText(text)
        d.save_button.click()
        assert words in d.error_label.text()
        field.setText("")
    d.project_combo.setCurrentText("no-such-project")
    d.save_button.click()
    assert "no project called 'no-such-project'" in d.error_label.text()
    assert _rows(paths, "SELECT count(*) FROM outcomes") == before
    assert d.isVisible()


# -- the tray --------------------------------------------------------------------------------------------------


def test_tray_has_log_outcome_between_the_figures_and_sync_now(services: Any, qtbot: Any) -> None:
    from tracker.ui.outcome_dialog import OutcomeDialog
    from tracker.ui.tray import Tray

    tray = Tray(services)
    try:
        names = [a.objectName() for a in tray.menu.actions() if a.objectName()]
        assert names[:4] == ["action_today", "action_month", "action_log_outcome", "action_sync_now"]
        action = tray.find_action("action_log_outcome")
        assert action is not None and action.text() == "Log outcome…" and action.isEnabled()
        action.trigger()
        dialog = tray.outcome_dialog
        assert isinstance(dialog, OutcomeDialog) and dialog.isVisible()
        tray.find_action("action_log_outcome").trigger()  # a second click: the same dialog, brought forward
        assert tray.outcome_dialog is dialog
        qtbot.waitUntil(lambda: dialog.projects is not None, timeout=10_000)
        dialog.reject()
    finally:
        tray.menu.deleteLater()


# -- the page --------------------------------------------------------------------------------------------------


def _titles(page: Any) -> list[str]:
    return [page.model.cell(r, 2).text for r in range(page.model.rowCount())]


def _choose(combo: Any, data: object) -> None:
    combo.setCurrentIndex(combo.findData(data))


def test_page_lists_outcomes_newest_first_with_attributed_spend_and_a_summary(page: Any) -> None:
    assert page.model.rowCount() == 5
    assert _titles(page) == ["Cart page 40% faster", "Webhooks, with retries", "Webhooks for payments",
                             "Pick a queue: SQS over Kafka", "Search with typo tolerance"]
    days = [page.model.cell(r, 1).text for r in range(5)]
    assert days == [(TODAY - timedelta(days=n)).isoformat() for n in sorted(DEMO_DAYS)]
    assert page.model.cell(0, 6).text == "$700.00" and page.model.cell(0, 5).text == "Kept"
    assert page.model.cell(2, 5).text == "Redone" and page.model.cell(2, 5).problem
    assert all(page.model.cell(r, 8).text.startswith("$") for r in range(5))
    assert "estimated" in (page.model.cell(0, 8).tooltip or "")
    summary = page.summary.text()
    # Kept: $900 + $500 + $700 and 1.5 h at $100 = $2,250.00; the redone $500 adds nothing.
    assert summary.startswith("5 outcomes (4 kept) · value $2,250.00 · attributed spend $")
    assert "of value per dollar" in summary


def test_page_filters_by_project_kind_status_and_range(page: Any) -> None:
    _choose(page.project_filter, "ledger-api")
    assert _titles(page) == ["Webhooks, with retries", "Webhooks for payments"]
    _choose(page.status_filter, "redone")
    assert _titles(page) == ["Webhooks for payments"]
    assert page.summary.text().startswith("1 outcome (0 kept) · value $0.00")
    _choose(page.status_filter, None)
    _choose(page.project_filter, None)
    _choose(page.kind_filter, "shipped_feature")
    assert _titles(page) == ["Cart page 40% faster", "Search with typo tolerance"]
    _choose(page.kind_filter, None)
    page.range_filter.setCurrentIndex(page.range_filter.findData("30d"))
    assert page.model.rowCount() == 5
    _choose(page.kind_filter, "decision")
    _choose(page.status_filter, "abandoned")
    assert page.model.rowCount() == 0 and page.summary.text() == "No outcomes match."


def test_page_edits_an_outcome_from_a_double_click(page: Any, paths: AppPaths, qtbot: Any) -> None:
    page._double_clicked(page.model.index(0, 2))  # what a double click on the first row does
    d = page.dialog
    assert d is not None and d.title_edit.text() == "Cart page 40% faster"
    assert d.value_edit.text() == "700" and d.project_combo.currentText() == "webshop"
    qtbot.waitUntil(lambda: d.projects is not None, timeout=10_000)
    assert d.project_combo.currentText() == "webshop"  # the outcome's own project, never the guess
    d.value_edit.setText("")  # cleared
    d.hours_edit.setText("2.25")
    _choose(d.status_combo, "redone")
    with qtbot.waitSignal(d.saved, timeout=10_000):
        d.save_button.click()
    (row,) = _rows(paths, "SELECT value_pusd, hours_saved, status, at_ms FROM outcomes WHERE title = ?",
                   "Cart page 40% faster")
    assert row[:3] == (None, "2.25", "redone")
    assert row[3] == (NOW // 86_400_000 - 2) * 86_400_000 + 16 * 3_600_000  # the time was not touched
    page.refresh()
    qtbot.waitUntil(lambda: page.model.cell(0, 5).text == "Redone", timeout=10_000)


def test_page_deletes_after_confirmation(page: Any, paths: AppPaths, qtbot: Any) -> None:
    asked: list[str] = []
    answers = iter([False, True])

    def confirm(question: str) -> bool:
        asked.append(question)
        return next(answers)

    page.confirm = confirm
    assert not page.delete_button.isEnabled()
    page.table.selectRow(1)
    assert page.delete_button.isEnabled()
    page.delete_selected()  # cancelled
    assert "Webhooks, with retries" in asked[0]
    assert _rows(paths, "SELECT count(*) FROM outcomes") == [(5,)]
    with qtbot.waitSignal(page.services.data_changed, timeout=10_000):
        page.delete_selected()
    assert _rows(paths, "SELECT count(*) FROM outcomes WHERE title = 'Webhooks, with retries'") == [(0,)]
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 4, timeout=10_000)


def test_value_charts_show_spend_against_value_and_value_per_dollar(page: Any) -> None:
    from tracker.analytics.periods import zone
    from tracker.analytics.value import ValueQuery, build_value_report

    series = page.charts.series
    assert series is not None and series.months[-1].month == date(2026, 11, 1)
    conn = sqlite3.connect(page.services.paths.db)
    try:
        report = build_value_report(conn, ValueQuery("month", zone("UTC"), now_ms=NOW,
                                                     hourly_rate_usd=Decimal(100)))
    finally:
        conn.close()
    assert series.cumulative_value()[-1] == report.totals.value_pusd
    assert series.cumulative_spend()[-1] == report.totals.spend_pusd
    bars = dict(page.charts.bars())
    for r in report.rows:
        vpd = r.value_per_dollar()
        assert bars.get(date.fromisoformat(r.key + "-01")) == (None if vpd is None else float(vpd))
    assert "Cumulative outcome value (kept outcomes)" in page.charts.legend.text()
    assert "estimated" in page.charts_note.text()


# -- the overview's markers ------------------------------------------------------------------------------------


def test_overview_marks_the_outcomes_in_range_and_names_them_on_hover(services: Any, qtbot: Any) -> None:
    from tracker.ui.pages.overview import OverviewPage

    page = OverviewPage(services)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.refresh()
    chart = page.chart
    qtbot.waitUntil(lambda: chart.series is not None, timeout=10_000)
    days = {TODAY - timedelta(days=n) for n in DEMO_DAYS}
    assert {m.day for m in chart.markers} == days  # 30 days: all five
    assert sorted(d for d, _x in chart.marker_positions()) == sorted(days)
    k = chart.series.days.index(TODAY - timedelta(days=2))
    assert "Outcome: Cart page 40% faster — $700.00 value, kept" in chart.hover_text(k)
    page.choose_range("7d")
    qtbot.waitUntil(lambda: chart.series is not None and len(chart.series.days) == 7, timeout=10_000)
    assert {m.day for m in chart.markers} == {TODAY - timedelta(days=n) for n in (6, 2)}
    assert len(chart.marker_positions()) == 2
    page.hide()


# -- suggestions from git (opt-in) -----------------------------------------------------------------------------


@pytest.fixture
def git_world(tmp_path: Path) -> AppPaths:
    import shutil

    if shutil.which("git") is None:
        pytest.skip("the git command is not installed")
    from test_suggestions import make_ledger, make_repo

    repo = make_repo(tmp_path / "work")
    p = AppPaths(tmp_path / "git-ledger")
    make_ledger(p.db, [str(repo / "src")])
    return p


def _suggestion_page(paths: AppPaths, qtbot: Any, on: bool) -> tuple[Any, Any]:
    from tracker.sync.services import AppServices
    from tracker.ui.pages.outcomes import OutcomesPage

    s = AppServices(paths, Settings(time_zone="UTC", suggest_from_git=on), load_key=_no_key, now_ms=lambda: NOW)
    p = OutcomesPage(s)
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    p.refresh()
    qtbot.waitUntil(lambda: p.data is not None, timeout=10_000)
    return s, p


def test_suggestions_strip_is_hidden_and_reads_nothing_when_the_setting_is_off(git_world: AppPaths, qtbot: Any,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import tracker.ui.pages.outcomes as page_module

    def no_scan(*_a: object) -> None:
        raise AssertionError("no git while the setting is off")

    monkeypatch.setattr(page_module, "suggest_in", no_scan)
    s, p = _suggestion_page(git_world, qtbot, on=False)
    try:
        assert not p.suggestions_box.isVisible()
        assert not p.suggestions_loaded
    finally:
        p.hide()
        s.close(wait=True)


def test_suggestions_accept_logs_an_outcome_and_dismiss_hides_one(git_world: AppPaths, qtbot: Any) -> None:
    from tracker.suggestions import load_dismissed

    s, p = _suggestion_page(git_world, qtbot, on=True)
    try:
        qtbot.waitUntil(lambda: p.suggestions_loaded, timeout=10_000)
        assert p.suggestions_box.isVisible()
        titles = [x.title for x in p.suggestions]
        assert titles == ["Merge branch 'fix-login'", "Tagged v1.0: First release", "CSV export (#12)",
                          "Tagged v0.9"]
        assert p.suggestions_status.text().startswith("4 suggested outcomes")
        assert not p.accept_button.isEnabled()
        p.suggestions_table.selectRow(2)
        assert p.accept_button.isEnabled()
        with qtbot.waitSignal(s.data_changed, timeout=10_000):
            p.accept_suggestion()
        assert _rows(git_world, "SELECT o.title, o.kind, p.name FROM outcomes o JOIN projects p "
                                "ON p.id = o.project_id") == [("CSV export (#12)", "pr_merged", "shop")]
        qtbot.waitUntil(lambda: len(p.suggestions) == 3, timeout=10_000)
        p.suggestions_table.selectRow(0)
        p.dismiss_suggestion()
        qtbot.waitUntil(lambda: [x.title for x in p.suggestions] == ["Tagged v1.0: First release", "Tagged v0.9"],
                        timeout=10_000)
        assert len(load_dismissed(git_world.data_dir)) == 1
        p.load_suggestions()  # a new scan: the accepted and the dismissed ones stay away
        qtbot.waitUntil(p.rescan_button.isEnabled, timeout=10_000)
        assert [x.title for x in p.suggestions] == ["Tagged v1.0: First release", "Tagged v0.9"]
    finally:
        p.hide()
        s.close(wait=True)
