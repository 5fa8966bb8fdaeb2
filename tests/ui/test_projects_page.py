"""The Projects page: projects with client, estimated/reported spend and outcome count; set a client, rename,
add and remove rules; every write through tracker.outcomes on a worker, then data_changed. Offscreen, driven
through the real AppServices.

The ledger: $1.50 of estimated usage in <tmp>/work/app (project ``app``), $0.25 in <tmp>/work/site (``site``),
one unpriced request in ``site``; one outcome in ``app``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracker.paths import AppPaths
from tracker.settings import Settings
from tracker.store import open_store

pytest.importorskip("pytestqt")

NOW = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC
P = 10**12


def _no_key(label: str) -> str:
    raise AssertionError("no key is read in these tests")


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, str]:
    out = {}
    for name in ("app", "site"):
        (tmp_path / "work" / name).mkdir(parents=True)
        out[name] = str(tmp_path / "work" / name)
    return out


@pytest.fixture
def paths(tmp_path: Path, folders: dict[str, str]) -> AppPaths:
    from tracker.outcomes import OutcomeFields, add_outcome

    p = AppPaths(tmp_path / "ledger")
    rows = [(folders["app"], 150 * P // 100, "estimated"), (folders["site"], P // 4, "estimated"),
            (folders["site"], None, "unpriced")]
    with open_store(p.db) as store, store.transaction() as conn:
        for i, (path, cost, kind) in enumerate(rows):
            conn.execute("INSERT INTO usage (source, dedup_key, ts_ms, project_path, cost_kind, cost_pusd) "
                         "VALUES ('claude_code', ?, ?, ?, ?, ?)", (f"k{i}", NOW - 86_400_000, path, kind, cost))
        add_outcome(conn, OutcomeFields(title="CSV export", at_ms=NOW, project="app"))
    return p


@pytest.fixture
def services(paths: AppPaths, qtbot: Any) -> Iterator[Any]:
    from tracker.sync.services import AppServices

    s = AppServices(paths, Settings(time_zone="UTC"), load_key=_no_key, now_ms=lambda: NOW)
    yield s
    s.close(wait=True)


@pytest.fixture
def page(services: Any, qtbot: Any) -> Iterator[Any]:
    from tracker.ui.pages.projects import ProjectsPage

    p = ProjectsPage(services)
    qtbot.addWidget(p)
    p.resize(1000, 700)
    p.show()
    p.refresh()
    qtbot.waitUntil(lambda: p.data is not None, timeout=10_000)
    yield p
    p.hide()


def _rows(paths: AppPaths, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(paths.db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _table(page: Any) -> list[list[str]]:
    m = page.model
    return [[m.cell(r, c).text for c in range(m.columnCount())] for r in range(m.rowCount())]


def _wait_reread(page: Any, qtbot: Any, services: Any, action: Any) -> None:
    """Run ``action`` (a write) and wait for data_changed and the page's re-read."""
    before = page._request
    with qtbot.waitSignal(services.data_changed, timeout=10_000):
        action()
    qtbot.waitUntil(lambda: page._request > before and page.data is not None, timeout=10_000)
    qtbot.wait(50)


def test_lists_projects_with_client_spend_and_outcomes(page: Any) -> None:
    assert page.objectName() == "page_projects"
    assert _table(page) == [
        ["app", "", "$1.50", "$0.00", "", "1", ""],
        ["site", "", "$0.25", "$0.00", "1 unpriced", "0", ""],
    ]
    assert not page.set_client_button.isEnabled()  # nothing selected yet


def test_set_client_rename_and_rules(page: Any, services: Any, paths: AppPaths, qtbot: Any,
                                     folders: dict[str, str]) -> None:
    page.select_project("site")
    assert page.set_client_button.isEnabled() and page.add_rule_button.isEnabled()
    assert not page.remove_rule_button.isEnabled()
    page.client_edit.setEditText("  ACME   Corp ")
    _wait_reread(page, qtbot, services, page.save_client)
    qtbot.waitUntil(lambda: _table(page)[1][1] == "ACME Corp", timeout=10_000)
    assert _rows(paths, "SELECT p.name, c.name FROM projects p JOIN clients c ON c.id = p.client_id") == [
        ("site", "ACME Corp")]

    page.select_project("app")
    page.ask_text = lambda *_a: "Shop"
    _wait_reread(page, qtbot, services, page.rename_selected)
    qtbot.waitUntil(lambda: [r[0] for r in _table(page)] == ["Shop", "site"], timeout=10_000)
    assert _rows(paths, "SELECT kind, pattern FROM project_rules") == [("path_prefix", folders["app"])]
    assert page.selected() is not None and page.selected().name == "Shop"  # the renamed one stays selected
    assert page.rules_model.rowCount() == 1
    assert _table(page)[0][3:] == ["$0.00", "", "1", "1"]

    # Add rule…: the site's folder now goes to Shop too (past spend included)
    page.select_project("Shop")
    dialog = page.open_rule_dialog()
    assert dialog is not None
    dialog.kind.setCurrentIndex(dialog.kind.findData("path_glob"))
    dialog.pattern.setText(folders["site"] + "*")
    _wait_reread(page, qtbot, services, dialog.accept)
    qtbot.waitUntil(lambda: [r[0] for r in _table(page)] == ["Shop", "site"] and _table(page)[0][2] == "$1.75",
                    timeout=10_000)
    assert page.rules_model.rowCount() == 2
    assert "applies to past spend too" in page.notice.text()

    # a duplicate rule: one line in the notice, nothing written
    page.select_project("site")
    page.add_rule("site", "path_glob", folders["site"] + "*")
    qtbot.waitUntil(lambda: "already exists" in page.notice.text(), timeout=10_000)
    assert page.notice.text().startswith("The rule could not be added: a rule for path_glob")

    page.select_project("Shop")
    page.rules_table.selectRow(1)
    assert page.remove_rule_button.isEnabled()
    _wait_reread(page, qtbot, services, page.remove_selected_rule)
    qtbot.waitUntil(lambda: _table(page)[0][2] == "$1.50", timeout=10_000)
    assert _rows(paths, "SELECT kind FROM project_rules") == [("path_prefix",)]


def test_window_has_the_projects_page(services: Any, qtbot: Any) -> None:
    from tracker.ui.window import PAGE_NAMES, MainWindow

    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show_page("projects")
    assert window.current_page().objectName() == "page_projects"
    assert PAGE_NAMES.index("projects") == PAGE_NAMES.index("reports") + 1
    window.hide()
