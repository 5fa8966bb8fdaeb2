"""The tray icon: state at a glance, today's and this month's spend, and the app's menu.

The menu is rebuilt each time it opens (``aboutToShow``) with the last known figures at once, then fresh ones
read on a worker replace them in place. Budget notices (50/80/100% of the monthly budget) are shown here,
once each per month (:mod:`tracker.sync.budget`). "Log outcome…" opens :mod:`tracker.ui.outcome_dialog`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from tracker.analytics.spend import SpendSummary, month_key, spend_summary
from tracker.domain import PICO_PER_USD
from tracker.sync import budget
from tracker.sync.services import AppServices
from tracker.ui.icons import tray_icon
from tracker.ui.pyside_fix import pin_singletons

if TYPE_CHECKING:
    from tracker.ui.outcome_dialog import OutcomeDialog

pin_singletons()  # before any Qt call of the app: see tracker/ui/pyside_fix.py

# Stored budgets and the value alert are measured at most this often (and at start-up): on a ledger of a million
# rows three budgets take ~0.6 s of CPU, and a busy agent changes the ledger every minute. A notice is at most this
# late.
STORED_CHECK_EVERY_MS = 5 * 60_000

ACTION_NAMES = (
    "action_log_outcome", "action_sync_now", "action_open_dashboard", "action_pause_hour", "action_pause_tomorrow",
    "action_resume", "action_quit",
)


def usd(pico: int) -> str:
    """Dollars with cents, rounded half up, from exact pico-USD: ``$1,234.57``."""
    cents = (pico + PICO_PER_USD // 200) // (PICO_PER_USD // 100)
    return f"${cents // 100:,}.{cents % 100:02d}"


def _unpriced(n: int) -> str:
    return f" + {n} unpriced" if n else ""


def today_line(s: SpendSummary) -> str:
    return (f"Today: {usd(s.today_estimated_pico)} estimated{_unpriced(s.today_unpriced_records)}, "
            f"{usd(s.today_reported_pico)} reported")


def month_line(s: SpendSummary) -> str:
    line = (f"This month: {usd(s.month_estimated_pico)} estimated{_unpriced(s.month_unpriced_records)}, "
            f"{usd(s.month_reported_pico)} reported")
    if s.budget_pico:
        pct = s.month_total_pico * 100 // s.budget_pico
        line += f" — {pct}% of {usd(s.budget_pico)} budget"
    return line


def over_budget(s: SpendSummary | None) -> bool:
    return bool(s is not None and s.budget_pico and s.month_total_pico >= s.budget_pico)


def tomorrow_ms(now_ms: int) -> int:
    """Local midnight after ``now_ms`` (the system zone: "until tomorrow" is the user's own tomorrow)."""
    now = datetime.fromtimestamp(now_ms / 1000).astimezone()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


class Tray(QObject):
    """The tray icon and its menu.

    Signals: open_requested() — show the dashboard; quit_requested() — leave the app;
    figures_changed(object) — a fresh :class:`SpendSummary`.
    """

    open_requested = Signal()
    quit_requested = Signal()
    figures_changed = Signal(object)

    def __init__(self, services: AppServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.summary: SpendSummary | None = None
        self.notices_shown: list[budget.BudgetNotice] = []
        self.last_message: tuple[str, str] | None = None  # (title, text) of the latest tray message
        self.budgets_reached: list[str] = []  # stored budgets (`token-ledger budget`) at 100 % this period
        self._stored_checked_ms: int | None = None
        self.outcome_dialog: OutcomeDialog | None = None
        self._asked = self._shown = 0  # figure reads asked for / the newest one shown
        self._budget_lock = threading.Lock()  # two figure reads may finish together: decide one at a time
        self.icon = QSystemTrayIcon(tray_icon("idle"), self)
        self.icon.setObjectName("tray_icon")
        self.menu = QMenu()
        self.menu.setObjectName("tray_menu")
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        services.state_changed.connect(lambda _state: self._update_icon())
        services.data_changed.connect(self.refresh)
        services.settings_changed.connect(self.refresh)
        services.message.connect(self._show_problem)
        # the glyph is dark on light panels and light on dark ones: pick again when the desktop switches
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._scheme_changed)
        self.rebuild_menu()
        self._update_icon()

    # -- figures --------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read today's and this month's figures on a worker; update tooltip, icon and menu when they come."""
        tz, now_ms = self.services.tz(), self.services.now_ms()
        budget_usd = self.services.settings.monthly_budget_usd
        budget_pico = None if budget_usd is None else int(budget_usd * PICO_PER_USD)
        self._asked += 1
        asked = self._asked
        self.services.read(lambda conn: spend_summary(conn, tz, now_ms, budget_pico),
                           lambda s: self._got_summary(asked, s),
                           lambda _m: None)  # no ledger yet: keep the last figures

    def _got_summary(self, asked: int, s: SpendSummary) -> None:
        if asked < self._shown:  # reads run in parallel: an older answer never replaces a newer one
            return
        self._shown = asked
        self.summary = s
        self.icon.setToolTip(self.tooltip())
        self._update_icon()
        self._update_figure_actions()
        self.figures_changed.emit(s)
        self._check_budget(s)
        self.check_stored()

    def check_stored(self, *, force: bool = False) -> None:
        """Stored budgets and the value alert, on a worker: at start-up, then at most every few minutes."""
        now = self.services.now_ms()
        if not force and self._stored_checked_ms is not None and now - self._stored_checked_ms < STORED_CHECK_EVERY_MS:
            return
        self._stored_checked_ms = now
        budget.check_stored_async(self.services, self._notify, self._got_reached)

    def _got_reached(self, reached: list[str]) -> None:
        if reached != self.budgets_reached:
            self.budgets_reached = reached
            self._update_icon()

    def tooltip(self) -> str:
        lines = ["Token Ledger (demo data)" if self.services.demo else "Token Ledger"]
        if self.summary is not None:
            lines += [today_line(self.summary), month_line(self.summary)]
        lines += [f"Budget reached — {line[0].upper()}{line[1:]}" for line in self.budgets_reached]
        if self.services.state == "error" and self.services.last_error:
            lines.append(f"Last sync failed: {self.services.last_error}")
        elif self.services.state == "paused":
            lines.append("Syncing is paused.")
        return "\n".join(lines)

    def icon_state(self) -> str:
        state = self.services.state
        if state == "idle" and (over_budget(self.summary) or self.budgets_reached):
            return "over_budget"
        return state

    def _scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        self._update_icon()

    def _update_icon(self) -> None:
        self.icon.setIcon(tray_icon(self.icon_state()))
        self.icon.setToolTip(self.tooltip())

    # -- menu -----------------------------------------------------------------------------------------------

    def rebuild_menu(self) -> None:
        """Fill the menu afresh: the last known figures now, fresh ones when the worker returns."""
        m = self.menu
        m.clear()
        self._today = self._info_action("action_today", "Today: …")
        self._month = self._info_action("action_month", "This month: …")
        self._update_figure_actions()
        m.addSeparator()
        self._action("action_log_outcome", "Log outcome…", self.log_outcome)
        self._action("action_sync_now", "Sync now", self.services.sync_now)
        self._action("action_open_dashboard", "Open dashboard", self.open_requested.emit)
        m.addSeparator()
        if self.services.is_paused():
            until = datetime.fromtimestamp((self.services.settings.paused_until_ms or 0) / 1000)
            self._info_action("action_paused_until", f"Syncing paused until {until:%a %H:%M}")
            self._action("action_resume", "Resume syncing", lambda: self.services.pause(None))
        else:
            self._action("action_pause_hour", "Pause syncing for 1 hour",
                         lambda: self.services.pause(self.services.now_ms() + 3_600_000))
            self._action("action_pause_tomorrow", "Pause syncing until tomorrow",
                         lambda: self.services.pause(tomorrow_ms(self.services.now_ms())))
        m.addSeparator()
        self._action("action_quit", "Quit Token Ledger", self.quit_requested.emit)
        self.refresh()

    def log_outcome(self) -> None:
        """Open the "Log outcome" dialog (one at a time: a second click brings the open one forward)."""
        from tracker.ui.outcome_dialog import OutcomeDialog

        dialog = self.outcome_dialog
        if dialog is None or not shiboken6.isValid(dialog) or not dialog.isVisible():
            dialog = self.outcome_dialog = OutcomeDialog(self.services)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _action(self, name: str, text: str, slot: Callable[[], object]) -> QAction:
        action = self.menu.addAction(text)
        action.setObjectName(name)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _info_action(self, name: str, text: str) -> QAction:
        action = self.menu.addAction(text)
        action.setObjectName(name)
        action.setEnabled(False)
        return action

    def _update_figure_actions(self) -> None:
        if self.summary is None:
            return
        for action, text in ((self._today, today_line(self.summary)), (self._month, month_line(self.summary))):
            with contextlib.suppress(RuntimeError):  # the menu was rebuilt meanwhile, the old action deleted
                action.setText(text)

    def find_action(self, name: str) -> QAction | None:
        return next((a for a in self.menu.actions() if a.objectName() == name), None)

    # -- messages -------------------------------------------------------------------------------------------

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_requested.emit()

    def _show_problem(self, text: str) -> None:
        self._update_icon()
        if self.icon.isVisible():
            self.icon.showMessage("Token Ledger", text, QSystemTrayIcon.MessageIcon.Warning, 8000)

    def _check_budget(self, s: SpendSummary) -> None:
        if not s.budget_pico or not budget.crossed(s):
            return
        month, data_dir = month_key(self.services.now_ms(), self.services.tz()), self.services.paths.data_dir

        def decide() -> list[budget.BudgetNotice]:
            with self._budget_lock:
                todo = budget.notices(s, budget.load_sent(data_dir, month))
                if todo:
                    budget.mark_sent(data_dir, month, [n.percent for n in todo])
                return todo

        self.services.run(decide, self._notify)

    def _notify(self, todo: list[budget.BudgetNotice]) -> None:
        """Show the notices; several at once become one message (a tray shows one at a time: each would hide the
        one before)."""
        if not todo:
            return
        self.notices_shown.extend(todo)
        if len(todo) == 1:
            title, text = todo[0].title, todo[0].text
        else:
            title = f"{len(todo)} spending alerts"
            text = "\n".join(f"• {n.title}: {n.text}" for n in todo)
        self.last_message = (title, text)
        self.icon.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 10000)

    def show(self) -> None:
        self.icon.show()
