"""A small read-only table model over rows of display values, and a helper for the views that show them.

Each row is a tuple of cells; a cell is the text shown, and the raw value (for sorting) can differ. The
accounts, local sources and network log tables use it; the usage table has its own model (kinds, export).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

Index = QModelIndex | QPersistentModelIndex
ERROR_COLOUR = QColor("#b3261e")


class Cell:
    """One cell: its text, a value to sort by, and whether it reads as a problem (red)."""

    __slots__ = ("align_right", "problem", "sort_value", "text", "tooltip")

    def __init__(self, text: str, sort_value: Any = None, *, align_right: bool = False, problem: bool = False,
                 tooltip: str | None = None) -> None:
        self.text = text
        self.sort_value = text if sort_value is None else sort_value
        self.align_right = align_right
        self.problem = problem
        self.tooltip = tooltip


class RowsModel(QAbstractTableModel):
    """Rows of :class:`Cell` under fixed headings; sortable by any column."""

    def __init__(self, headings: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._headings = list(headings)
        self._rows: list[list[Cell]] = []

    def set_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        self.beginResetModel()
        self._rows = [list(r) for r in rows]
        self.endResetModel()

    def cell(self, row: int, column: int) -> Cell:
        return self._rows[row][column]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt's names and defaults)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._headings)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._headings[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        c = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return c.text
        if role == Qt.ItemDataRole.ToolTipRole:
            return c.tooltip or (c.text if len(c.text) > 24 else None)
        if role == Qt.ItemDataRole.ForegroundRole and c.problem:
            return QBrush(ERROR_COLOUR)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if c.align_right else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._rows.sort(key=lambda r: _sortable(r[column].sort_value),
                        reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()


def _sortable(value: Any) -> tuple[int, Any]:
    """None sorts first ascending; numbers and text never compare with each other."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value).casefold())


def make_table(model: QAbstractTableModel, object_name: str, parent: QWidget | None = None,
               *, sortable: bool = True, stretch_last: bool = True) -> QTableView:
    """A read-only, row-selecting table view for ``model``."""
    view = QTableView(parent)
    view.setObjectName(object_name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setSortingEnabled(sortable)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(stretch_last)
    header.setHighlightSections(False)
    return view


def fit_columns(view: QTableView, max_width: int = 360, stretch: int | None = None) -> None:
    """Size columns to their contents, none wider than ``max_width`` pixels. With ``stretch``, that column
    takes the room left (its text elided, the full text in its tooltip), so the table fills its width and
    needs no horizontal scroll bar unless the window is very narrow."""
    header = view.horizontalHeader()
    for col in range(view.model().columnCount()):
        header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
    if stretch is not None:
        header.setStretchLastSection(False)
    view.resizeColumnsToContents()
    for col in range(view.model().columnCount()):
        if view.columnWidth(col) > max_width:
            view.setColumnWidth(col, max_width)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    elif header.stretchLastSection():  # sizing the last column by hand stops its stretch: turn it back on
        header.setStretchLastSection(False)
        header.setStretchLastSection(True)
