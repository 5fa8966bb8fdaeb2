"""The Reports page (a client's monthly report: preview and export) and the Settings page's hourly rate and annual
compensation. On a small demo ledger (one month; project ledger-api belongs to the demo's client), driven through
the real AppServices: reports are built and files written on its workers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tracker.demo import DEMO_CLIENT, DemoSpec, create_demo
from tracker.paths import AppPaths
from tracker.settings import Settings, load_settings

pytest.importorskip("pytestqt")

NOW = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC


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


def _page(services: Any, qtbot: Any) -> Any:
    from tracker.ui.pages.reports import ReportsPage

    p = ReportsPage(services)
    qtbot.addWidget(p)
    p.resize(1100, 760)
    p.show()
    p.refresh()
    return p


def test_preview_shows_the_clients_report_for_the_chosen_month(services: Any, qtbot: Any) -> None:
    page = _page(services, qtbot)
    qtbot.waitUntil(lambda: page.preview is not None, timeout=10_000)
    assert page.clients == [DEMO_CLIENT]
    assert page.client_combo.currentData() == DEMO_CLIENT
    assert page.month_combo.currentData() == date(2026, 11, 1)  # the current month first
    assert page.month_combo.itemText(1) == "October 2026"
    text = page.browser.toPlainText()
    assert DEMO_CLIENT in text and "November 2026" in text and "Outcomes delivered" in text
    assert "Webhooks, with retries" in text  # the client's project's outcome of the month
    assert "Cart page 40% faster" not in text  # another project's
    assert all(b.isEnabled() for b in page.export_buttons.values())
    assert not page.empty.isVisible()
    # another month: a new report (built on a worker), the buttons wait for it
    page.month_combo.setCurrentIndex(1)
    assert not page.export_buttons["pdf"].isEnabled()
    qtbot.waitUntil(lambda: page.preview is not None and page.preview.report.month == "2026-10", timeout=10_000)
    assert "October 2026" in page.browser.toPlainText()


def test_exports_write_what_report_client_writes(services: Any, qtbot: Any, tmp_path: Path) -> None:
    from tracker.analytics.client_report import client_report_csv

    page = _page(services, qtbot)
    qtbot.waitUntil(lambda: page.preview is not None, timeout=10_000)
    assert page.suggested_name("pdf") == "Northwind-demo-2026-11.pdf"
    for fmt in ("csv", "html", "pdf"):
        target = tmp_path / f"out.{fmt}"
        page.ask_path = lambda _f, t=target: t
        page.export_buttons[fmt].click()
        qtbot.waitUntil(lambda t=target: f"Wrote {t}" in page.notice.label.text(), timeout=20_000)
    assert (tmp_path / "out.csv").read_text() == client_report_csv(page.preview.report)
    assert "<html" in (tmp_path / "out.html").read_text() and DEMO_CLIENT in (tmp_path / "out.html").read_text()
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")
    page.ask_path = lambda _f: None  # cancelled: nothing happens
    page.export_buttons["csv"].click()
    assert "Wrote" in page.notice.label.text()


def test_without_clients_the_page_says_how_to_assign_one(services: Any, paths: AppPaths, qtbot: Any) -> None:
    conn = sqlite3.connect(paths.db)
    with conn:
        conn.execute("UPDATE projects SET client_id = NULL")
        conn.execute("DELETE FROM clients")
    conn.close()
    page = _page(services, qtbot)
    qtbot.waitUntil(lambda: page.clients is not None, timeout=10_000)
    assert page.empty.isVisible() and not page.browser.isVisible()
    assert "token-ledger project set-client" in page.empty.text()
    assert not any(b.isEnabled() for b in page.export_buttons.values())


def test_window_has_the_reports_page(services: Any, qtbot: Any) -> None:
    from tracker.ui.window import PAGE_NAMES, MainWindow

    w = MainWindow(services)
    qtbot.addWidget(w)
    w.show_page("reports")
    assert w.current_page().objectName() == "page_reports"
    assert PAGE_NAMES.index("reports") == PAGE_NAMES.index("outcomes") + 1
    qtbot.waitUntil(lambda: w.pages["reports"].preview is not None, timeout=10_000)


def test_settings_page_saves_hourly_rate_and_annual_compensation_exactly(services: Any, paths: AppPaths,
                                                                         qtbot: Any) -> None:
    from tracker.ui.pages.settings import SettingsPage

    page = SettingsPage(services)
    qtbot.addWidget(page)
    assert page.rate.text() == "100"
    assert page.compensation.text() == ""
    page.rate.setText("$87.125")
    page.compensation.setText("185,000.000001")
    page.save.click()
    qtbot.waitUntil(lambda: load_settings(paths.data_dir).annual_compensation_usd is not None, timeout=10_000)
    saved = load_settings(paths.data_dir)
    assert (saved.hourly_rate_usd, saved.annual_compensation_usd) == (Decimal("87.125"), Decimal("185000.000001"))
    page.compensation.setText("-5")
    page.save.click()
    assert "The annual compensation must be zero or more dollars." in page.notice.label.text()
    page.rate.setText("a lot")
    page.save.click()
    assert "not an amount" in page.notice.label.text()
    assert services.settings.hourly_rate_usd == Decimal("87.125")
    page.rate.setText("")
    page.compensation.setText("")
    page.save.click()
    assert (services.settings.hourly_rate_usd, services.settings.annual_compensation_usd) == (None, None)
