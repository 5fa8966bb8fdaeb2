"""The dashboard window: a sidebar of pages (Overview, Usage, Outcomes, Reports, Projects, Accounts, Settings,
Network log) and a banner for notices (e.g. "No system tray found: ...").

Pages re-read their data when shown after ``services.data_changed`` or ``settings_changed`` (the visible page at
once, hidden ones when next shown), always through the services' workers. Closing the window only hides it (the
tray app keeps running); its geometry is remembered in ``<data dir>/window-state.json``, read and written on a
worker: window state is kept apart from the behaviour settings.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from tracker.ui.pages.accounts import AccountsPage
from tracker.ui.pages.base import Page, run
from tracker.ui.pages.network import NetworkPage
from tracker.ui.pages.outcomes import OutcomesPage
from tracker.ui.pages.overview import OverviewPage
from tracker.ui.pages.projects import ProjectsPage
from tracker.ui.pages.reports import ReportsPage
from tracker.ui.pages.settings import SettingsPage
from tracker.ui.pages.usage import UsagePage
from tracker.ui.pyside_fix import pin_singletons
from tracker.ui.widgets.notice import Notice

if TYPE_CHECKING:
    from tracker.sync.services import AppServices

pin_singletons()  # before any Qt call of the app: see tracker/ui/pyside_fix.py

PAGE_NAMES = ("overview", "usage", "outcomes", "reports", "projects", "accounts", "settings", "network")
_LABELS = {"overview": "Overview", "usage": "Usage", "outcomes": "Outcomes", "reports": "Reports",
           "projects": "Projects", "accounts": "Accounts",
           "settings": "Settings", "network": "Network log"}
STATE_FILENAME = "window-state.json"


def read_geometry(path: Path) -> bytes | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return base64.b64decode(data["geometry"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # first start, or a damaged file: the default size


def write_geometry(path: Path, geometry: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps({"geometry": base64.b64encode(geometry).decode("ascii")}), encoding="utf-8")
    os.replace(tmp, path)


class MainWindow(QMainWindow):
    """The dashboard. ``show_page(name)`` switches pages; ``show_notice(text)`` shows the banner."""

    def __init__(self, services: AppServices) -> None:
        super().__init__()
        self.services = services
        self.setObjectName("main_window")
        self.setWindowTitle("Token Ledger")
        self.resize(1100, 720)
        self.setMinimumSize(QSize(760, 520))
        self.pages: dict[str, Page] = {
            "overview": OverviewPage(services),
            "usage": UsagePage(services),
            "outcomes": OutcomesPage(services),
            "reports": ReportsPage(services),
            "projects": ProjectsPage(services),
            "accounts": AccountsPage(services),
            "settings": SettingsPage(services),
            "network": NetworkPage(services),
        }
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(170)
        self.sidebar.setStyleSheet(
            "#sidebar { background: #f3f4f6; border: none; padding-top: 10px; font-size: 11pt; }"
            " #sidebar::item { padding: 9px 14px; border-radius: 4px; margin: 1px 8px; }"
            " #sidebar::item:selected { background: #dde6f7; color: #123a7a; }")
        self.stack = QStackedWidget()
        for name in PAGE_NAMES:
            QListWidgetItem(_LABELS[name], self.sidebar).setData(Qt.ItemDataRole.UserRole, name)
            self.stack.addWidget(self.pages[name])
        self.notice = Notice("window_notice")
        right = QVBoxLayout()
        right.setContentsMargins(10, 8, 10, 0)
        right.setSpacing(0)
        right.addWidget(self.notice)
        right.addWidget(self.stack, 1)
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(0)
        body.addWidget(self.sidebar)
        body.addLayout(right, 1)
        central = QWidget()
        central.setLayout(body)
        self.setCentralWidget(central)
        self.sidebar.currentRowChanged.connect(self._row_changed)
        self.overview.add_key_requested.connect(self.add_provider_key)
        self.overview.log_outcome_requested.connect(self.log_outcome)
        services.data_changed.connect(self._data_changed)
        services.settings_changed.connect(self._data_changed)
        services.message.connect(self._service_message)
        self._state_path = services.paths.data_dir / STATE_FILENAME
        self._geometry_restored = False
        run(self, services, lambda: read_geometry(self._state_path), self._restore_geometry)
        self.sidebar.setCurrentRow(0)

    @property
    def overview(self) -> OverviewPage:
        page = self.pages["overview"]
        assert isinstance(page, OverviewPage)
        return page

    # -- pages ---------------------------------------------------------------------------------------------------

    def show_page(self, name: str) -> None:
        """Switch to page ``name`` (one of ``PAGE_NAMES``: 'overview', 'usage', 'outcomes', 'reports', 'projects',
        'accounts', 'settings', 'network')."""
        if name not in self.pages:
            raise ValueError(f"no page {name!r}; choose one of {', '.join(PAGE_NAMES)}")
        self.sidebar.setCurrentRow(PAGE_NAMES.index(name))

    def current_page(self) -> Page:
        page = self.stack.currentWidget()
        assert isinstance(page, Page)
        return page

    def _row_changed(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        page = self.current_page()
        if page.stale:
            page.refresh()

    def _data_changed(self) -> None:
        # A demo ledger says so in the title: its figures are made up (see `token-ledger demo`).
        self.setWindowTitle("Token Ledger (demo data)" if self.services.demo else "Token Ledger")
        for page in self.pages.values():
            page.stale = True
        if self.isVisible():
            self.current_page().refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        page = self.current_page()
        if page.stale:
            page.refresh()

    def add_provider_key(self) -> None:
        """The first-run button: the accounts page, with its add dialog open."""
        self.show_page("accounts")
        accounts = self.pages["accounts"]
        assert isinstance(accounts, AccountsPage)
        accounts.open_add_dialog()

    def log_outcome(self) -> None:
        """The first-run button: the outcomes page, with the outcome dialog open."""
        self.show_page("outcomes")
        outcomes = self.pages["outcomes"]
        assert isinstance(outcomes, OutcomesPage)
        outcomes.open_dialog(None)

    # -- notices ---------------------------------------------------------------------------------------------------

    def show_notice(self, text: str) -> None:
        """A banner above the pages, e.g. why the window opened instead of a tray icon."""
        self.notice.show_message(text, "info")

    def _service_message(self, text: str) -> None:
        # Sync problems arrive here in plain words; they show in the banner, never as a pop-up.
        self.notice.show_message(text, "error")

    # -- geometry --------------------------------------------------------------------------------------------------

    def _restore_geometry(self, geometry: bytes | None) -> None:
        if geometry and not self._geometry_restored:
            self.restoreGeometry(QByteArray(geometry))
        self._geometry_restored = True

    def closeEvent(self, event: QCloseEvent) -> None:
        geometry = bytes(self.saveGeometry().data())
        path = self._state_path
        self.services.run(lambda: write_geometry(path, geometry), lambda _: None)
        super().closeEvent(event)
