"""The usage page: a table of usage grouped by day, model, project, session or source, with filters, column
sorting, and CSV export of the selected rows (all rows when none is selected).

Estimated, reported and unpriced rows read apart at a glance: the Kind column, plus colour (reported in blue,
unpriced in grey italics). The rows come from ``tracker.analytics.dashboard.usage_lines`` on a worker; the CSV
is written on a worker too.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from tracker.analytics import dashboard as dash
from tracker.ui.pages.base import Page
from tracker.ui.widgets.format import tokens, usd
from tracker.ui.widgets.table import fit_columns, make_table

if TYPE_CHECKING:
    import sqlite3

    from tracker.sync.services import AppServices

Index = QModelIndex | QPersistentModelIndex
_KIND_COLOURS = {"estimated": QColor("#202124"), "reported": QColor("#1a56c4"), "unpriced": QColor("#80868b")}
_KIND_BACKGROUNDS = {"reported": QColor("#f1f5fd"), "unpriced": QColor("#f6f6f6")}
_NUMERIC = {"records", "input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "cost_pico"}
RANGE_CHOICES = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("Last year", 365),
                 ("All time", 0))
GROUP_LABELS = {"day": "Day", "model": "Model", "project": "Project", "session": "Session", "source": "Source"}


class UsageTableModel(QAbstractTableModel):
    """Usage lines under the columns of ``dash.USAGE_COLUMNS``; sorting goes through ``dash.sort_lines``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines: list[dash.UsageLine] = []
        self.group_heading = "Day"

    def set_lines(self, lines: list[dash.UsageLine], group_heading: str) -> None:
        self.beginResetModel()
        self.lines = list(lines)
        self.group_heading = group_heading
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(dash.USAGE_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return self.group_heading if section == 0 else dash.USAGE_COLUMNS[section][1]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        line = self.lines[index.row()]
        attr = dash.USAGE_COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(line, attr)
        if role == Qt.ItemDataRole.UserRole:
            return getattr(line, attr)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(_KIND_COLOURS[line.kind])
        if role == Qt.ItemDataRole.BackgroundRole and line.kind in _KIND_BACKGROUNDS:
            return QBrush(_KIND_BACKGROUNDS[line.kind])
        if role == Qt.ItemDataRole.FontRole and line.kind != "estimated":
            font = QFont()
            font.setItalic(line.kind == "unpriced")
            font.setBold(line.kind == "reported" and attr == "kind")
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if attr in _NUMERIC else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(line)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self.lines = dash.sort_lines(self.lines, dash.USAGE_COLUMNS[column][0],
                                     descending=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()


def _text(line: dash.UsageLine, attr: str) -> str:
    if attr == "cost_pico":
        return usd(line.cost_pico)
    value = getattr(line, attr)
    if attr in _NUMERIC:
        return "—" if line.kind == "reported" and attr != "records" and not value else tokens(value)
    return str(value)


def _tooltip(line: dash.UsageLine) -> str:
    if line.kind == "reported":
        return f"Reported: what {line.origin} billed (its own figures, by UTC day)."
    if line.kind == "unpriced":
        return "Unpriced: no price is known for this model, so no cost is counted (not $0)."
    return f"Estimated from {line.origin}'s local logs and the price tables."


class UsagePage(Page):
    title = "Usage"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_usage", parent)
        self._request = 0
        self.filter: dash.UsageFilter | None = None
        self.source_combo = self._combo("filter_source", [
            ("All sources", None), ("Claude Code (estimated)", "claude_code"), ("Codex (estimated)", "codex"),
            ("Provider bills (reported)", "reported")])
        self.provider_combo = self._combo("filter_provider", [("All providers", None)])
        self.model_combo = self._combo("filter_model", [("All models", None)])
        self.project_combo = self._combo("filter_project", [("All projects", None)])
        self.range_combo = self._combo("filter_range", [(label, days) for label, days in RANGE_CHOICES])
        self.range_combo.setCurrentIndex(1)
        self.group_combo = self._combo("group_by", [(f"By {label.lower()}", name)
                                                   for name, label in GROUP_LABELS.items()])
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setObjectName("export_csv")
        self.export_button.clicked.connect(self.ask_export)
        row = QHBoxLayout()
        row.setSpacing(6)
        for w in (self.source_combo, self.provider_combo, self.model_combo, self.project_combo, self.range_combo,
                  self.group_combo):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.export_button)
        self._layout.addLayout(row)
        self.model = UsageTableModel(self)
        self.table = make_table(self.model, "usage_table", self, stretch_last=False)
        self._layout.addWidget(self.table, 1)
        self.status = QLabel("", self)
        self.status.setObjectName("usage_status")
        self.status.setStyleSheet("color: #555555;")
        self._layout.addWidget(self.status)
        for combo in (self.source_combo, self.provider_combo, self.model_combo, self.project_combo,
                      self.range_combo, self.group_combo):
            combo.currentIndexChanged.connect(self.load_lines)

    def _combo(self, name: str, items: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMaximumWidth(260)
        for label, value in items:
            combo.addItem(label, value)
        return combo

    # -- data ----------------------------------------------------------------------------------------------------

    def current_filter(self) -> dash.UsageFilter:
        today = self.today()
        days = self.range_combo.currentData()
        since = date(1970, 1, 2) if not days else today - timedelta(days=days - 1)
        return dash.UsageFilter(since=since, until=today, source=self.source_combo.currentData(),
                                provider=self.provider_combo.currentData(), model=self.model_combo.currentData(),
                                project=self.project_combo.currentData(), group_by=self.group_combo.currentData())

    def refresh(self) -> None:
        super().refresh()
        self.read(dash.filter_choices, self._choices_done, self._failed)
        self.load_lines()

    def _choices_done(self, choices: dash.FilterChoices) -> None:
        from tracker.analytics.reported import PROVIDER_LABELS

        _refill(self.provider_combo, "All providers", [(PROVIDER_LABELS.get(p, p), p) for p in choices.providers])
        _refill(self.model_combo, "All models", [(m, m) for m in choices.models])
        _refill(self.project_combo, "All projects", [(p, p) for p in choices.projects])

    def load_lines(self) -> None:
        f = self.current_filter()
        tz = self.services.tz()
        self._request += 1
        request = self._request

        def read(conn: sqlite3.Connection) -> list[dash.UsageLine]:
            return dash.usage_lines(conn, f, tz)

        self.read(read, lambda lines: self._lines_done(request, f, lines), self._failed)

    def _lines_done(self, request: int, f: dash.UsageFilter, lines: list[dash.UsageLine]) -> None:
        if request != self._request:
            return
        self.notice.hide()
        self.filter = f
        header = self.table.horizontalHeader()
        self.model.set_lines(lines, GROUP_LABELS[f.group_by])
        if header.sortIndicatorSection() >= 0:
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        # The column of names takes the room left: the group (model, project, session) or, by day, the origin.
        fit_columns(self.table, 420, stretch=1 if f.group_by in ("day", "source") else 0)
        self.status.setText(_status(lines))

    def _failed(self, message: str) -> None:
        self.show_error(f"Usage could not be read: {message}")

    # -- export --------------------------------------------------------------------------------------------------

    def selected_lines(self) -> list[dash.UsageLine]:
        """The selected rows in view order, or every row when nothing is selected."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.lines[r] for r in rows] if rows else list(self.model.lines)

    def ask_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export usage as CSV", str(Path.home() / "token-usage.csv"),
                                              "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> None:
        """Write the selection (or all rows) to ``path`` on a worker; the result shows in the page."""
        lines = self.selected_lines()
        self.run(lambda: dash.write_csv(path, lines),
                          lambda n: self.show_info(f"Exported {n} row{'s' if n != 1 else ''} to {path}.", "ok"),
                          lambda m: self.show_error(f"The CSV was not written: {m}"))


def _refill(combo: QComboBox, all_label: str, items: list[tuple[str, str]]) -> None:
    """Replace a filter's choices, keeping the current one when it is still offered."""
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(all_label, None)
    for label, value in items:
        combo.addItem(label, value)
    k = combo.findData(current) if current is not None else 0
    combo.setCurrentIndex(max(k, 0))
    combo.blockSignals(False)
    if current is not None and k < 0:
        combo.currentIndexChanged.emit(0)  # the chosen value is gone: show everything again


def _status(lines: list[dash.UsageLine]) -> str:
    if not lines:
        return "No usage matches these filters."
    est = sum(x.cost_pico or 0 for x in lines if x.kind == "estimated")
    rep = sum(x.cost_pico or 0 for x in lines if x.kind == "reported")
    unpriced = sum(x.records for x in lines if x.kind == "unpriced")
    parts = [f"{len(lines)} rows", f"estimated {usd(est)}"]
    if rep:
        parts.append(f"reported {usd(rep)}")
    if unpriced:
        parts.append(f"{unpriced} unpriced record{'s' if unpriced != 1 else ''}")
    return " · ".join(parts) + ". Select rows to export only those."
