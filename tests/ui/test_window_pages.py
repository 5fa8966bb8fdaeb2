"""The dashboard window on a real ledger (real-shaped logs imported by `token-ledger sync`, provider rows written
with SQL), driven through the real AppServices: every read on its workers, results back on the GUI thread."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Home
from hypothesis import given
from hypothesis import strategies as st

from tracker.analytics import dashboard as dash
from tracker.paths import APP_ID, AppPaths
from tracker.settings import Settings, load_settings

sys.path.insert(0, str(Path(__file__).parents[1]))
from test_dashboard_models import UNKNOWN, build_ledger, today_utc

pytest.importorskip("pytestqt")


def _no_key(label: str) -> str:
    raise AssertionError("no key is read in these tests")


@pytest.fixture
def services(home: Home, qtbot: Any) -> Iterator[Any]:
    from tracker.sync.services import AppServices

    s = AppServices(AppPaths(home.data), Settings(time_zone="UTC"), load_key=_no_key)
    yield s
    s.close(wait=True)


@pytest.fixture
def window(services: Any, qtbot: Any) -> Iterator[Any]:
    from tracker.ui.window import MainWindow

    w = MainWindow(services)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    yield w
    w.hide()


def _loaded(qtbot: Any, condition: Any) -> None:
    qtbot.waitUntil(condition, timeout=10_000)


def _overview_ready(window: Any) -> bool:
    return window.overview.chart.series is not None and window.overview.state is not None


def test_every_page_renders_with_data_and_screenshots(home: Home, cli: Any, qtbot: Any, services: Any,
                                                      tmp_path: Path) -> None:
    build_ledger(home, cli)
    from PySide6.QtWidgets import QApplication

    from tracker.ui.window import MainWindow

    w = MainWindow(services)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    _loaded(qtbot, lambda: _overview_ready(w))
    ov = w.overview
    assert ov.stack.currentIndex() == 0  # the dashboard, not the first-run panel
    assert [p.label for p in ov.chart.series.parts] == ["Claude Code (estimated)", "OpenAI (reported)"]
    assert ov.card_today.value.text().startswith("$")
    assert ov.card_budget.value.text() == "not set"
    assert "could not be priced" in ov.footnote.text()
    shots = tmp_path / "shots"
    shots.mkdir()
    w.grab().save(str(shots / "overview.png"))
    checks = {
        "usage": lambda: w.pages["usage"].model.rowCount() > 0,
        "accounts": lambda: w.pages["accounts"].accounts_model.rowCount() == 1,
        "settings": lambda: w.pages["settings"].zones_loaded,
        "network": lambda: w.pages["network"].model.rowCount() == 3,
    }
    for name, ready in checks.items():
        w.show_page(name)
        assert w.stack.currentWidget().objectName() == f"page_{name}"
        _loaded(qtbot, ready)
        QApplication.processEvents()  # let the layout settle before the picture
        w.grab().save(str(shots / f"{name}.png"))
    assert all((shots / f"{n}.png").stat().st_size > 10_000 for n in ("overview", *checks))
    accounts = w.pages["accounts"]
    assert accounts.accounts_model.cell(0, 0).text == "OpenAI"
    assert accounts.sources_model.cell(0, 0).text == "Claude Code"
    assert accounts.sources_model.cell(0, 2).text == "2"  # files found
    print(f"screenshots in {shots}")


def test_range_buttons_switch_the_chart(home: Home, cli: Any, qtbot: Any, window: Any, tmp_path: Path,  # noqa: PLR0917
                                        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    caplog.set_level(logging.INFO, logger="tracker.timing")

    build_ledger(home, cli)
    window.services.data_changed.emit()
    _loaded(qtbot, lambda: _overview_ready(window) and window.overview.chart.series.sum("estimated") > 0)
    ov = window.overview
    assert len(ov.chart.series.days) == 30
    week_est = None
    for name, days in (("7d", 7), ("90d", 90), ("1y", 365), ("30d", 30)):
        qtbot.mouseClick(window.findChild(QPushButton, f"range_{name}"), Qt.MouseButton.LeftButton)
        _loaded(qtbot, lambda d=days: len(ov.chart.series.days) == d)
        assert ov.chart.series.days[-1] == today_utc()
        # the in-app timer (bench/app_startup.py reads its log line): click → chart painted with the new range
        _loaded(qtbot, lambda n=name: ov.range_timer.last is not None and ov.range_timer.last["label"] == n)
        timing = ov.range_timer.last
        assert 0 < timing["answer_ms"] <= timing["total_ms"]
        assert f"range {name}: painted" in caplog.text
        if name == "7d":
            week_est = ov.chart.series.sum("estimated")
        if name == "1y":
            window.grab().save(str(tmp_path / "year.png"))
            print(f"year screenshot: {tmp_path / 'year.png'}")
        if name == "90d":
            assert ov.chart.series.sum("estimated") > week_est
            assert ov.chart.series.sum("reported") == 3_500_000_000_000
    first, last = today_utc() - timedelta(days=4), today_utc() - timedelta(days=2)
    ov.ask_dates = lambda dialog: (dialog.first_edit.setDate(first), dialog.last_edit.setDate(last), (first, last))[2]
    ov.choose_range("custom")
    _loaded(qtbot, lambda: len(ov.chart.series.days) == 3)
    assert ov.chart.series.first == first and ov.range_buttons["custom"].isChecked()


def test_hover_shows_the_days_figures(home: Home, cli: Any, qtbot: Any, window: Any, tmp_path: Path) -> None:
    build_ledger(home, cli)
    window.services.data_changed.emit()
    _loaded(qtbot, lambda: _overview_ready(window) and window.overview.chart.series.sum("reported") > 0)
    chart = window.overview.chart
    from tracker.ui.widgets.axes import day_x

    yesterday = today_utc() - timedelta(days=1)
    assert chart.show_hover_at(day_x(yesterday) + 3600, 0.5)
    text = chart.hover.textItem.toPlainText()
    assert yesterday.strftime("%d %b %Y") in text
    # each kind with its own total and parts, never a sum of the two
    assert text.splitlines()[1:] == ["Estimated, left bar: $0.00", "Reported, right bar: $2.50", "  OpenAI: $2.50"]
    assert "+" not in text and "Total" not in text
    assert not chart.show_hover_at(day_x(today_utc() + timedelta(days=5)), 0.5)
    # the mouse path: a move over the plot shows the box, a move outside hides it
    from PySide6.QtCore import QPointF

    vb = chart.plot.getPlotItem().vb
    chart._on_mouse_moved((vb.mapViewToScene(QPointF(day_x(yesterday) + 3600, 0.5)),))
    assert chart.hover.isVisible() and "  OpenAI: $2.50" in chart.hover.textItem.toPlainText()
    window.grab().save(str(tmp_path / "hover.png"))
    print(f"hover screenshot: {tmp_path / 'hover.png'}")
    chart._on_mouse_moved((QPointF(-50, -50),))
    assert not chart.hover.isVisible()
    three = chart.hover_text(len(chart.series.days) - 4)
    assert "Unpriced: 1 record" in three and "  Claude Code: $" in three


def test_usage_filters_change_the_row_count_exactly(home: Home, cli: Any, qtbot: Any, window: Any) -> None:
    from PySide6.QtCore import Qt

    db = build_ledger(home, cli)
    window.services.data_changed.emit()
    window.show_page("usage")
    page = window.pages["usage"]
    _loaded(qtbot, lambda: page.model.rowCount() > 0 and page.model_combo.count() > 1)
    conn = sqlite3.connect(db)

    def expected(**kw: Any) -> int:
        since = today_utc() - timedelta(days=29)
        return len(dash.usage_lines(conn, dash.UsageFilter(since=since, until=today_utc(), **kw),
                                    window.services.tz()))

    try:
        assert page.model.rowCount() == expected()
        page.group_combo.setCurrentIndex(page.group_combo.findData("model"))
        _loaded(qtbot, lambda: page.filter.group_by == "model")
        assert page.model.headerData(0, Qt.Orientation.Horizontal) == "Model"
        assert page.model.rowCount() == expected(group_by="model") == 3  # sonnet, unknown (unpriced), gpt-5
        kinds = {page.model.lines[r].kind for r in range(page.model.rowCount())}
        assert kinds == {"estimated", "unpriced", "reported"}
        page.model_combo.setCurrentIndex(page.model_combo.findData(UNKNOWN))
        _loaded(qtbot, lambda: page.filter.model == UNKNOWN)
        assert page.model.rowCount() == 1
        assert page.model.lines[0].kind == "unpriced"
        assert page.model.data(page.model.index(0, 8)) == "unpriced"
        assert page.model.data(page.model.index(0, 2), Qt.ItemDataRole.FontRole).italic()
        page.model_combo.setCurrentIndex(0)
        page.source_combo.setCurrentIndex(page.source_combo.findData("reported"))
        _loaded(qtbot, lambda: page.filter.source == "reported" and page.filter.model is None)
        assert page.model.rowCount() == expected(group_by="model", source="reported") == 1
        assert page.model.data(page.model.index(0, 8)) == "$2.50"
    finally:
        conn.close()


def test_usage_sorting_and_csv_export(home: Home, cli: Any, qtbot: Any, window: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import QItemSelectionModel, Qt

    build_ledger(home, cli)
    window.services.data_changed.emit()
    window.show_page("usage")
    page = window.pages["usage"]
    page.range_combo.setCurrentIndex(3)  # last year: the Codex rollout of May 2026 too
    _loaded(qtbot, lambda: page.filter is not None and page.filter.since == today_utc() - timedelta(days=364))
    page.table.sortByColumn(8, Qt.SortOrder.DescendingOrder)  # cost
    costs = [x.cost_pico for x in page.model.lines]
    priced = [c for c in costs if c is not None]
    assert priced == sorted(priced, reverse=True) and costs[-1] is None  # unpriced last, never as $0
    out = tmp_path / "all.csv"
    page.export_csv(out)
    _loaded(qtbot, out.exists)
    assert out.read_text() == dash.usage_csv(page.model.lines)
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    page.table.selectionModel().select(page.model.index(0, 0), flags)
    one = tmp_path / "one.csv"
    page.export_csv(one)
    _loaded(qtbot, one.exists)
    assert one.read_text() == dash.usage_csv([page.model.lines[0]])
    assert len(one.read_text().splitlines()) == 2
    _loaded(qtbot, lambda: "Exported 1 row" in page.notice.label.text())


def test_settings_round_trip(home: Home, qtbot: Any, window: Any, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    window.show_page("settings")
    page = window.pages["settings"]
    _loaded(qtbot, lambda: page.zones_loaded)
    assert page.zone.currentData() == "UTC"
    page.interval.setValue(30)
    page.backfill.setValue(14)
    page.zone.setCurrentIndex(page.zone.findData("Europe/Paris"))
    page.budget.setText("$1,250.50")
    page.launch.setChecked(True)
    page.suggest.setChecked(True)
    page.save.click()
    settings_file = home.data / "settings.json"
    _loaded(qtbot, settings_file.exists)
    saved = load_settings(home.data)
    assert (saved.sync_interval_min, saved.backfill_days, saved.time_zone, saved.launch_at_login) == (
        30, 14, "Europe/Paris", True)
    assert saved.suggest_from_git
    assert str(saved.monthly_budget_usd) == "1250.50"
    assert window.services.tz().key == "Europe/Paris"
    page.budget.setText("lots")
    page.save.click()
    assert "not an amount" in page.notice.label.text()
    page.budget.setText("")
    page.launch.setChecked(False)
    page.save.click()
    assert window.services.settings.monthly_budget_usd is None
    assert not window.services.settings.launch_at_login
    _loaded(qtbot, lambda: not load_settings(home.data).launch_at_login)
    # another part of the app changes the settings: the form follows
    from dataclasses import replace

    window.services.update_settings(replace(window.services.settings, backfill_days=45))
    assert page.backfill.value() == 45
    # ... but unsaved edits survive a change made elsewhere (a pause from the tray), until Revert
    page.interval.setValue(5)
    window.services.pause(window.services.now_ms() + 3_600_000)
    assert page.interval.value() == 5
    page.revert.click()
    assert page.interval.value() == 30
    assert page.data_dir.text() == str(home.data)


def test_network_page_says_when_nothing_was_contacted(home: Home, cli: Any, qtbot: Any, window: Any) -> None:
    build_ledger(home, cli, provider_rows=False)
    window.services.data_changed.emit()
    window.show_page("network")
    page = window.pages["network"]
    _loaded(qtbot, page.empty.isVisible)
    assert page.empty.text().startswith("Nothing has been contacted")
    assert not page.table.isVisible()


def test_network_page_lists_requests_newest_first(home: Home, cli: Any, qtbot: Any, window: Any) -> None:
    from PySide6.QtCore import Qt

    build_ledger(home, cli)
    window.services.data_changed.emit()
    window.show_page("network")
    page = window.pages["network"]
    _loaded(qtbot, lambda: page.model.rowCount() == 3)
    assert [page.model.cell(r, 1).text for r in range(3)] == ["Anthropic", "OpenAI", "OpenAI"]
    assert page.model.cell(1, 3).text == "no answer" and page.model.cell(1, 7).text == "timed out"
    assert page.model.data(page.model.index(0, 2), Qt.ItemDataRole.ToolTipRole).startswith("GET https://")
    assert page.count.text() == "3 requests"
    page.provider_combo.setCurrentIndex(page.provider_combo.findData("openai"))
    _loaded(qtbot, lambda: page.model.rowCount() == 2)
    assert page.count.text() == "2 requests"
    # every column shows whole at the default width: the path column takes what is left, no horizontal scroll
    header = page.table.horizontalHeader()
    assert header.length() <= page.table.viewport().width()
    assert page.table.columnWidth(6) >= header.sectionSizeHint(6)  # "Duration"


def test_network_count_says_when_only_the_latest_are_shown() -> None:
    from tracker.ui.pages.network import count_text

    assert count_text(1, 1) == "1 request"
    assert count_text(3, 3) == "3 requests"
    assert count_text(2000, 2568) == "the latest 2,000 of 2,568 requests"


def test_first_run_panel_on_an_empty_ledger(home: Home, cli: Any, qtbot: Any, window: Any, tmp_path: Path) -> None:
    assert cli("sync", "--no-accounts").code == 0
    window.services.data_changed.emit()
    ov = window.overview
    _loaded(qtbot, lambda: ov.state is not None)
    assert ov.stack.currentWidget() is ov.first_run
    text = ov.first_run.sources_label.text()
    assert "Claude Code: found" in text and "being imported" in text
    window.grab().save(str(tmp_path / "first_run.png"))
    print(f"first run screenshot: {tmp_path / 'first_run.png'}")
    assert ov.first_run.findChild(type(ov.first_run.add_key), "first_run_add_key") is not None
    ov.first_run.add_key.click()
    assert window.current_page().objectName() == "page_accounts"
    from tracker.ui.pages.accounts import AddAccountDialog

    dialog = window.findChild(AddAccountDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.reject()
    # "Log an outcome…": the Outcomes page, with the outcome dialog open
    from tracker.ui.outcome_dialog import OutcomeDialog

    assert ov.first_run.log_outcome.text() == "Log an outcome…"
    assert ov.first_run.findChild(type(ov.first_run.add_key), "first_run_log_outcome") is ov.first_run.log_outcome
    ov.first_run.log_outcome.click()
    assert window.current_page().objectName() == "page_outcomes"
    outcome_dialog = window.findChild(OutcomeDialog)
    assert outcome_dialog is not None and outcome_dialog.isVisible()
    outcome_dialog.reject()


def test_before_the_ledger_exists_the_first_run_panel_shows(window: Any, qtbot: Any) -> None:
    ov = window.overview
    _loaded(qtbot, lambda: "being created" in ov.first_run.sources_label.text())
    assert ov.stack.currentWidget() is ov.first_run and not ov.notice.isVisible()


def test_notice_banner(window: Any) -> None:
    window.show_notice("No system tray found: the window stays open instead.")
    assert window.notice.isVisible()
    assert window.notice.label.text().startswith("No system tray found")
    with pytest.raises(ValueError, match="no page"):
        window.show_page("nope")


FAKE_KEY = "sk-admin-FAKE-0123456789abcdef"


@pytest.fixture
def memory_keyring() -> Iterator[dict[tuple[str, str], str]]:
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    entries: dict[tuple[str, str], str] = {}

    class MemoryKeyring(KeyringBackend):
        priority = 1  # type: ignore[assignment]

        def get_password(self, service: str, username: str) -> str | None:
            return entries.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            entries[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            if (service, username) not in entries:
                raise PasswordDeleteError("No such password!")
            del entries[(service, username)]

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        yield entries
    finally:
        keyring.set_keyring(previous)


def _fake_probe(calls: list[tuple[str, str | None]]) -> Any:
    from tracker.providers import KeyProbe

    def probe(store: Any, provider: str, key: str, base_url: str | None, account_id: int | None = None) -> Any:
        calls.append((provider, base_url))
        if key != FAKE_KEY:
            return KeyProbe(False, "the key was refused (401)", [], ["costs"])
        return KeyProbe(True, "this Admin key reads usage and costs", ["usage", "costs"], [])

    return probe


def test_add_test_and_remove_an_account(  # noqa: PLR0917 (fixtures)
        home: Home, cli: Any, qtbot: Any, window: Any,
                                        memory_keyring: dict[tuple[str, str], str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    db = build_ledger(home, cli)
    calls: list[tuple[str, str | None]] = []
    monkeypatch.setattr("tracker.providers.probe_key", _fake_probe(calls))
    window.services.data_changed.emit()
    window.show_page("accounts")
    page = window.pages["accounts"]
    _loaded(qtbot, lambda: page.accounts_model.rowCount() == 1)
    dialog = page.open_add_dialog()
    assert dialog.key.echoMode() == dialog.key.EchoMode.Password
    dialog.provider.setCurrentIndex(dialog.provider.findData("anthropic"))
    dialog.name.setText("home")
    dialog.key.setText("sk-wrong")
    dialog.save.click()
    _loaded(qtbot, lambda: "not saved" in dialog.status.text())
    assert "refused" in dialog.status.text() and memory_keyring == {}
    dialog.base_url.setText("ftp://example.com")
    dialog.save.click()
    assert dialog.isVisible() and dialog.status.text() and len(calls) == 1  # refused before any request
    dialog.base_url.setText("")
    dialog.key.setText(FAKE_KEY)
    dialog.save.click()
    _loaded(qtbot, lambda: not dialog.isVisible())
    assert memory_keyring == {(APP_ID, "account:home"): FAKE_KEY}
    _loaded(qtbot, lambda: page.accounts_model.rowCount() == 2)
    assert "Added Anthropic account 'home'" in page.notice.label.text()
    assert FAKE_KEY not in page.notice.label.text()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT provider, base_url FROM accounts WHERE label = 'home'").fetchone() == (
            "anthropic", None)
        assert conn.execute("SELECT count(*) FROM accounts WHERE options LIKE '%backfill_days%'").fetchone()[0] == 1
        # test: the key comes from the keychain
        labels = [page.accounts_model.cell(r, 1).text for r in range(2)]
        page.accounts_table.selectRow(labels.index("home"))
        page.test_selected()
        _loaded(qtbot, lambda: "reads usage and costs" in page.notice.label.text())
        # remove: asks first, keeps history
        questions: list[str] = []
        page.confirm = lambda question: questions.append(question) is not None  # "No" this time
        page.remove_selected()
        assert "stays in your ledger" in questions[0]
        assert conn.execute("SELECT removed_ms FROM accounts WHERE label = 'home'").fetchone() == (None,)
        page.confirm = lambda question: True
        page.accounts_table.selectRow(labels.index("work"))
        page.remove_selected()
        _loaded(qtbot, lambda: page.accounts_model.rowCount() == 1)
        assert "Removed account 'work'" in page.notice.label.text()
        assert conn.execute("SELECT removed_ms IS NOT NULL FROM accounts WHERE label = 'work'").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM provider_usage WHERE account_id = 1").fetchone() == (2,)
    finally:
        conn.close()


def test_window_remembers_its_geometry(services: Any, qtbot: Any, home: Home) -> None:
    from tracker.ui.window import STATE_FILENAME, MainWindow

    first = MainWindow(services)
    qtbot.addWidget(first)
    first.show()
    first.resize(770, 540)  # inside the offscreen screen (800 x 600)
    first.close()
    state = home.data / STATE_FILENAME
    _loaded(qtbot, state.exists)
    second = MainWindow(services)
    qtbot.addWidget(second)
    _loaded(qtbot, lambda: second._geometry_restored)
    assert (second.width(), second.height()) == (770, 540)


def _series(days: int, parts: dict[tuple[str, str], list[int]]) -> Any:
    from datetime import date

    last = date(2026, 11, 23)
    first = last - timedelta(days=days - 1)
    return dash.SpendSeries(first, last, tuple(first + timedelta(days=k) for k in range(days)),
                            tuple(dash.SpendPart(kind, name, tuple(v)) for (kind, name), v in parts.items()),
                            tuple(0 for _ in range(days)))


def test_chart_draws_estimated_and_reported_as_two_bars_per_day(qtbot: Any) -> None:
    from tracker.ui.widgets.axes import day_x
    from tracker.ui.widgets.chart import SpendChart

    usd = 10**12
    chart = SpendChart()
    qtbot.addWidget(chart)
    chart.resize(800, 420)
    chart.show()
    series = _series(2, {("estimated", "claude_code"): [2 * usd, 1 * usd], ("estimated", "codex"): [3 * usd, 0],
                         ("reported", "anthropic"): [4 * usd, 0], ("reported", "openai"): [5 * usd, 6 * usd]})
    chart.set_series(series)
    bars = chart.bar_stacks()
    mid = [day_x(d) + 43_200 for d in series.days]
    w = 0.4 * 86_400
    # left bar, stacked by source: claude 0..2, codex 2..5 (day 1); right bar, stacked by provider: 0..4, 4..9
    assert bars["bar estimated claude_code"] == [(mid[0] - 0.21 * 86_400, w, 0, 2), (mid[1] - 0.21 * 86_400, w, 0, 1)]
    assert bars["bar estimated codex"] == [(mid[0] - 0.21 * 86_400, w, 2, 5), (mid[1] - 0.21 * 86_400, w, 1, 1)]
    assert bars["bar reported anthropic"] == [(mid[0] + 0.21 * 86_400, w, 0, 4), (mid[1] + 0.21 * 86_400, w, 0, 0)]
    assert bars["bar reported openai"] == [(mid[0] + 0.21 * 86_400, w, 4, 9), (mid[1] + 0.21 * 86_400, w, 0, 6)]
    # the two bars of a day stay inside the day and apart from each other
    assert mid[0] - 0.21 * 86_400 + w / 2 < mid[0] + 0.21 * 86_400 - w / 2
    # the plot is as tall as the higher bar (9), not as the sum of both (14)
    top = chart.plot.getPlotItem().vb.viewRange()[1][1]
    assert 9 < top < 10
    assert chart.hover_text(0).splitlines() == [
        "Sun 22 Nov 2026", "Estimated, left bar: $5.00", "  Claude Code: $2.00", "  Codex: $3.00",
        "Reported, right bar: $9.00", "  Anthropic: $4.00", "  OpenAI: $5.00"]
    # the legend sits above the plot, one row per kind saying which bar it is
    qtbot.waitUntil(lambda: chart.legend.height() > 20)
    assert chart.legend.geometry().bottom() <= chart.plot.geometry().top()
    assert chart.legend.texts() == [
        "Estimated (left bar):", "Claude Code", "Codex", "cumulative",
        "Reported (right bar):", "Anthropic", "OpenAI", "cumulative"]
    # one kind alone: one bar per day, centred
    chart.set_series(_series(2, {("estimated", "codex"): [usd, usd]}))
    assert chart.bar_stacks()["bar estimated codex"][0][:2] == (mid[0], 0.78 * 86_400)
    assert chart.legend.texts() == ["Estimated:", "Codex", "cumulative"]


@pytest.mark.parametrize(("days", "pixels", "step"), [
    (7, 700, "day"), (30, 700, "week"), (90, 700, "week"), (90, 420, "2weeks"), (365, 700, "month"),
    (365, 420, "quarter")])
def test_date_ticks_are_spaced_by_range_and_never_overlap(days: int, pixels: float, step: str) -> None:
    from datetime import date

    from tracker.ui.widgets.axes import choose_step, labels_fit, tick_days, tick_label

    def width(text: str) -> float:  # about what an 8-9 pt font needs
        return 6.0 * len(text)

    last = date(2026, 11, 23)
    first = last - timedelta(days=days - 1)
    assert choose_step(first, last, pixels, width) == step
    assert labels_fit(tick_days(first, last, step), step, pixels / days, width)
    assert tick_label(date(2026, 9, 1), "week") == "Sep 1"
    assert tick_label(date(2026, 9, 1), "month") == "Sep" and tick_label(date(2027, 1, 1), "month") == "Jan 2027"
    if step == "week":
        assert all(d.weekday() == 0 for d in tick_days(first, last, step))


@pytest.mark.parametrize(("values", "spacing", "labels"), [
    ([0.0, 0.02, 0.04], 0.02, ["$0.00", "$0.02", "$0.04"]),
    ([0.0, 0.005, 0.01], 0.005, ["$0.000", "$0.005", "$0.010"]),
    ([0.0, 50.0, 100.0], 50.0, ["$0", "$50", "$100"]),
    ([1000.0, 2000.0], 1000.0, ["$1,000", "$2,000"]),
])
def test_dollar_ticks_never_use_si_scaling(qtbot: Any, values: list[float], spacing: float,
                                           labels: list[str]) -> None:
    from tracker.ui.widgets.axes import DollarAxis

    axis = DollarAxis("left")
    assert not axis.autoSIPrefix  # pyqtgraph would write "$100 (x0.001)" for a ten-cent range
    assert axis.tickStrings(values, 1.0, spacing) == labels


def test_a_range_switch_after_a_refresh_draws_without_a_read(home: Home, cli: Any, qtbot: Any, window: Any) -> None:
    """A refresh reads the four standard ranges in one go; switching among them then needs no worker read, and
    new data (data_changed) empties the cache so no stale range is drawn."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    build_ledger(home, cli)
    window.services.data_changed.emit()
    ov = window.overview
    _loaded(qtbot, lambda: _overview_ready(window) and ov.chart.series.sum("estimated") > 0)
    reads: list[object] = []
    real_read = window.services.read
    window.services.read = lambda *a, **k: (reads.append(a[0]), real_read(*a, **k))[1]
    for name, days in (("7d", 7), ("1y", 365), ("90d", 90), ("30d", 30)):
        qtbot.mouseClick(window.findChild(QPushButton, f"range_{name}"), Qt.MouseButton.LeftButton)
        assert len(ov.chart.series.days) == days  # drawn at once, from the refresh's answer
    assert reads == []
    window.services.read = real_read
    before = {key: answer[0] for key, answer in ov._series_cache.items()}
    assert len(before) == 4
    window.services.data_changed.emit()  # new data may have come: every range is read again
    _loaded(qtbot, lambda: len(ov._series_cache) == 4 and all(
        answer[0] is not before.get(key) for key, answer in ov._series_cache.items()))


@given(first=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)), days=st.integers(1, 800),
       px=st.floats(0.5, 80.0), step=st.sampled_from(("day", "2days", "week", "2weeks", "month", "quarter", "year")))
def test_labels_fit_stops_early_but_answers_as_checking_every_pair(first: date, days: int, px: float,
                                                                   step: str) -> None:
    from tracker.ui.widgets.axes import _TICK_GAP_PX, labels_fit, tick_days, tick_label

    width = lambda text: 7.0 * len(text)  # noqa: E731 (a stand-in font)
    ticks = tick_days(first, first + timedelta(days=days - 1), step)
    widths = [width(tick_label(d, step)) for d in ticks]
    every_pair = all((ticks[i + 1] - ticks[i]).days * px >= (widths[i] + widths[i + 1]) / 2 + _TICK_GAP_PX
                     for i in range(len(ticks) - 1))
    assert labels_fit(ticks, step, px, width) == every_pair
