"""The settings page: sync interval, backfill window, time zone, monthly budget, the hourly rate that values
hours saved, an optional annual compensation (for the share-of-pay figure; local only), launch at login, and where
the data lives. "Save" hands the settings to ``services.update_settings`` (which writes them on a worker). The app
(``tracker.ui.app``) applies "launch at login" when the settings change, through ``tracker.sync.autostart`` on a
worker, so there is one owner of the autostart entry. The list of time zones is read from disk on a worker too.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from tracker.ui.pages.base import Page

if TYPE_CHECKING:
    from tracker.settings import Settings
    from tracker.sync.services import AppServices

SYSTEM_ZONE = "System"


def parse_budget(text: str, what: str = "The budget") -> Decimal | None:
    """Dollars as typed ("", "50", "$1,200.50"), exact; ValueError with a plain message when it is not an amount
    of zero or more dollars (``what`` names the field in it)."""
    cleaned = text.strip().replace("$", "").replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not an amount of dollars, e.g. 50 or 120.50.") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be zero or more dollars.")
    return value


def _zones() -> list[str]:
    from zoneinfo import available_timezones

    return sorted(z for z in available_timezones() if "/" in z or z == "UTC")


class SettingsPage(Page):
    title = "Settings"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_settings", parent)
        form = QFormLayout()
        form.setSpacing(10)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.interval = _spin("setting_sync_interval", 1, 1440, " min")
        self.backfill = _spin("setting_backfill_days", 1, 3660, " days")
        self.zone = QComboBox(self)
        self.zone.setObjectName("setting_time_zone")
        self.zone.setEditable(False)
        self.zone.addItem(SYSTEM_ZONE, None)
        self.budget = QLineEdit(self)
        self.budget.setObjectName("setting_budget")
        self.budget.setPlaceholderText("no budget")
        self.budget.setMinimumWidth(160)
        self.rate = QLineEdit(self)
        self.rate.setObjectName("setting_hourly_rate")
        self.rate.setPlaceholderText("hours saved not valued")
        self.rate.setMinimumWidth(160)
        self.rate.setToolTip("Values the hours saved you log with outcomes, in value per dollar and reports.")
        self.compensation = QLineEdit(self)
        self.compensation.setObjectName("setting_annual_compensation")
        self.compensation.setPlaceholderText("optional")
        self.compensation.setMinimumWidth(160)
        compensation_note = QLabel("Stays on this computer; shows your token run-rate as a share of your pay.",
                                   self)
        compensation_note.setObjectName("setting_annual_compensation_note")
        compensation_note.setStyleSheet("color: #555555;")
        compensation_row = QHBoxLayout()
        compensation_row.addWidget(self.compensation)
        compensation_row.addSpacing(8)
        compensation_row.addWidget(compensation_note, 1)
        self.zone.setMinimumWidth(240)
        self.launch = QCheckBox("Start Token Ledger when I log in", self)
        self.launch.setObjectName("setting_launch_at_login")
        self.suggest = QCheckBox("Suggest outcomes from the local git history of my projects (read locally, never "
                                 "sent anywhere)", self)
        self.suggest.setObjectName("setting_suggest_from_git")
        # A read-only line: the whole path on one line (never wrapped mid-word), selectable and copyable.
        self.data_dir = QLineEdit(str(services.paths.data_dir), self)
        self.data_dir.setObjectName("setting_data_dir")
        self.data_dir.setReadOnly(True)
        self.data_dir.setToolTip(str(services.paths.data_dir))
        # Wide enough for the whole path where the window allows; a longer one scrolls in the field.
        path_width = self.data_dir.fontMetrics().horizontalAdvance(self.data_dir.text())
        self.data_dir.setMinimumWidth(min(path_width + 16, 520))
        self.data_dir.setFrame(False)
        self.data_dir.setStyleSheet("background: transparent;")
        self.data_dir.setCursorPosition(0)
        self.open_folder = QPushButton("Open folder", self)
        self.open_folder.setObjectName("open_data_folder")
        self.open_folder.clicked.connect(self.open_data_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_dir, 1)
        folder_row.addSpacing(6)
        folder_row.addWidget(self.open_folder)
        form.addRow("Check provider accounts every", self.interval)
        form.addRow("New accounts fetch the last", self.backfill)
        form.addRow("Time zone for days and months", self.zone)
        form.addRow("Monthly budget (USD)", self.budget)
        rate_note = QLabel("Values the hours saved you log with outcomes (empty: hours stay hours).", self)
        rate_note.setStyleSheet("color: #555555;")
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.rate)
        rate_row.addSpacing(8)
        rate_row.addWidget(rate_note, 1)
        form.addRow("Hourly rate (USD)", rate_row)
        form.addRow("Annual compensation (USD)", compensation_row)
        form.addRow("", self.launch)
        form.addRow("", self.suggest)
        form.addRow("Data folder", folder_row)
        self._layout.addLayout(form)
        note = QLabel("Local agent logs are imported as soon as their folders change. The data folder holds the "
                      "ledger (an SQLite file) and these settings; API keys are kept in your OS keychain.", self)
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        self._layout.addWidget(note)
        buttons = QHBoxLayout()
        self.save = QPushButton("Save", self)
        self.save.setObjectName("settings_save")
        self.save.clicked.connect(self.save_settings)
        self.revert = QPushButton("Revert", self)
        self.revert.setObjectName("settings_revert")
        self.revert.clicked.connect(lambda: self.load_from_services(force=True))
        buttons.addStretch(1)
        buttons.addWidget(self.revert)
        buttons.addWidget(self.save)
        self._layout.addLayout(buttons)
        self._layout.addStretch(1)
        self.zones_loaded = False
        self._loading = False
        self.run(_zones, self._zones_done, lambda m: self.show_error(f"The list of time zones is missing: {m}"))
        self.edited = False  # unsaved changes in the form: a change made elsewhere (a pause) does not wipe them
        for signal in (self.interval.valueChanged, self.backfill.valueChanged, self.zone.activated,
                       self.budget.textEdited, self.rate.textEdited, self.compensation.textEdited,
                       self.launch.toggled, self.suggest.toggled):
            signal.connect(self._mark_edited)
        services.settings_changed.connect(self.load_from_services)
        self.load_from_services(force=True)

    def _mark_edited(self, *_args: object) -> None:
        if not self._loading:
            self.edited = True

    def _zones_done(self, zones: list[str]) -> None:
        current = self.zone.currentData()
        for z in zones:
            self.zone.addItem(z, z)
        self.zones_loaded = True
        self._select_zone(current or self.services.settings.time_zone)

    def _select_zone(self, name: str | None) -> None:
        k = self.zone.findData(name) if name else 0
        if k < 0:  # a saved zone not (yet) in the list: offer it anyway
            self.zone.addItem(str(name), name)
            k = self.zone.count() - 1
        self.zone.setCurrentIndex(k)

    def load_from_services(self, force: bool = False) -> None:
        """Show the current settings; unsaved edits are kept unless ``force`` (Revert)."""
        if self.edited and not force:
            return
        s = self.services.settings
        self._loading = True
        try:
            self.interval.setValue(s.sync_interval_min)
            self.backfill.setValue(s.backfill_days)
            self._select_zone(s.time_zone)
            self.budget.setText("" if s.monthly_budget_usd is None else f"{s.monthly_budget_usd}")
            self.rate.setText("" if s.hourly_rate_usd is None else f"{s.hourly_rate_usd}")
            self.compensation.setText("" if s.annual_compensation_usd is None else f"{s.annual_compensation_usd}")
            self.launch.setChecked(s.launch_at_login)
            self.suggest.setChecked(s.suggest_from_git)
        finally:
            self._loading = False
        self.edited = False

    def form_settings(self) -> Settings:
        """The settings as the form shows them; ValueError (plain words) for a bad amount."""
        return replace(self.services.settings, sync_interval_min=self.interval.value(),
                       backfill_days=self.backfill.value(), time_zone=self.zone.currentData(),
                       monthly_budget_usd=parse_budget(self.budget.text()),
                       hourly_rate_usd=parse_budget(self.rate.text(), "The hourly rate"),
                       annual_compensation_usd=parse_budget(self.compensation.text(), "The annual compensation"),
                       launch_at_login=self.launch.isChecked(), suggest_from_git=self.suggest.isChecked())

    def save_settings(self) -> None:
        try:
            new = self.form_settings()
        except ValueError as e:
            self.show_error(str(e))
            return
        self.edited = False
        self.services.update_settings(new)
        self.show_info("Settings saved.", "ok")

    def open_data_folder(self) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.services.paths.data_dir))):
            self.show_error(f"No file manager could open {self.services.paths.data_dir}.")


def _spin(name: str, lo: int, hi: int, suffix: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(lo, hi)
    spin.setSuffix(suffix)
    spin.setMinimumWidth(120)
    return spin
