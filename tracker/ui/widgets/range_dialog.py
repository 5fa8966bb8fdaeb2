"""The "Custom" range of the overview: two dates, first and last day (inclusive)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget


class DateRangeDialog(QDialog):
    """Pick a first and last day; the last may not be before the first."""

    def __init__(self, first: date, last: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("date_range_dialog")
        self.setWindowTitle("Custom range")
        self.first_edit = self._date_edit("range_first", first)
        self.last_edit = self._date_edit("range_last", last)
        self.problem = QLabel(self)
        self.problem.setStyleSheet("color: #b3261e;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("From", self.first_edit)
        form.addRow("To (inclusive)", self.last_edit)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.first_edit.dateChanged.connect(self._check)
        self.last_edit.dateChanged.connect(self._check)

    def _date_edit(self, name: str, d: date) -> QDateEdit:
        edit = QDateEdit(QDate(d.year, d.month, d.day), self)
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    def _check(self) -> None:
        ok = self.first_edit.date() <= self.last_edit.date()
        self.problem.setText("" if ok else "The last day is before the first.")
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        button.setEnabled(ok)

    def dates(self) -> tuple[date, date]:
        return self.first_edit.date().toPython(), self.last_edit.date().toPython()  # type: ignore[return-value]
