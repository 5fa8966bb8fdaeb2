"""The network log page: every request Token Ledger made to a provider (time, provider, host and path, status,
bytes, duration, error), newest first, with a filter by provider. Never a key or a query string: the log holds
neither (see docs/schema.md)."""

from __future__ import annotations

from datetime import tzinfo
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from tracker.analytics.dashboard import NetworkRow, network_count, network_providers, network_rows
from tracker.analytics.reported import PROVIDER_LABELS
from tracker.ui.pages.base import Page
from tracker.ui.widgets.format import size, when
from tracker.ui.widgets.table import Cell, RowsModel, fit_columns, make_table

if TYPE_CHECKING:
    import sqlite3

    from tracker.sync.services import AppServices

EMPTY_TEXT = ("Nothing has been contacted yet. Token Ledger makes network requests only to the provider accounts "
              "you add (and when you test a key); each one is listed here.")
LIMIT = 2000  # rows shown: the newest ones
# No Host column: the provider names it and the request's tooltip gives the whole address; the columns then fit
# the window's default width with the request whole or nearly.
HEADINGS = ["Time", "Provider", "Request", "Status", "Sent", "Received", "Duration", "Error"]


class NetworkPage(Page):
    title = "Network log"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_network", parent)
        self._request = 0
        row = QHBoxLayout()
        self.provider_combo = QComboBox(self)
        self.provider_combo.setObjectName("network_provider")
        self.provider_combo.addItem("All providers", None)
        self.provider_combo.currentIndexChanged.connect(self.load_rows)
        row.addWidget(QLabel("Provider:", self))
        row.addWidget(self.provider_combo)
        row.addStretch(1)
        self.count = QLabel("", self)
        self.count.setObjectName("network_count")
        self.count.setStyleSheet("color: #555555;")
        row.addWidget(self.count)
        self._layout.addLayout(row)
        self.model = RowsModel(HEADINGS, self)
        self.table = make_table(self.model, "network_table", self)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # a cut path keeps its endpoint's name
        self._layout.addWidget(self.table, 1)
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setObjectName("network_empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._layout.addWidget(self.empty, 1)
        self.empty.hide()

    def refresh(self) -> None:
        super().refresh()
        self.load_rows()

    def load_rows(self) -> None:
        provider = self.provider_combo.currentData()
        self._request += 1
        request = self._request

        def read(conn: sqlite3.Connection) -> tuple[list[str], list[NetworkRow], int]:
            return network_providers(conn), network_rows(conn, provider, LIMIT), network_count(conn, provider)

        self.read(read, lambda r: self._loaded(request, *r),
                           lambda m: self.show_error(f"The network log could not be read: {m}"))

    def _loaded(self, request: int, providers: list[str], rows: list[NetworkRow], total: int) -> None:
        if request != self._request:
            return
        self.notice.hide()
        self._set_providers(providers)
        tz = self.services.tz()
        self.model.set_rows([_row(r, tz) for r in rows])
        self.table.sortByColumn(self.table.horizontalHeader().sortIndicatorSection(),
                                self.table.horizontalHeader().sortIndicatorOrder())
        nothing = not rows and self.provider_combo.currentData() is None
        self.table.setVisible(not nothing)
        self.empty.setVisible(nothing)
        self.count.setText("" if nothing else count_text(len(rows), total))
        fit_columns(self.table, 320, stretch=2)
        self.table.setColumnWidth(7, min(self.table.columnWidth(7), 120))  # a long error is elided: see its tooltip

    def _set_providers(self, providers: list[str]) -> None:
        current = self.provider_combo.currentData()
        known = [self.provider_combo.itemData(k) for k in range(1, self.provider_combo.count())]
        if known == providers:
            return
        self.provider_combo.blockSignals(True)
        self.provider_combo.clear()
        self.provider_combo.addItem("All providers", None)
        for p in providers:
            self.provider_combo.addItem(PROVIDER_LABELS.get(p, p), p)
        self.provider_combo.setCurrentIndex(max(self.provider_combo.findData(current), 0) if current else 0)
        self.provider_combo.blockSignals(False)


def count_text(shown: int, total: int) -> str:
    """"3 requests", or "the latest 2,000 of 2,568 requests" when the log holds more than is shown."""
    if shown >= total:
        return f"{shown:,} request{'s' if shown != 1 else ''}"
    return f"the latest {shown:,} of {total:,} requests"


def _row(r: NetworkRow, tz: tzinfo) -> list[Cell]:
    failed = r.error is not None or r.status is None or r.status >= 400
    status = "no answer" if r.status is None else str(r.status)
    return [
        Cell(when(r.ts_ms, tz, seconds=True), r.ts_ms),
        Cell(PROVIDER_LABELS.get(r.provider, r.provider)),
        Cell(f"{r.method} {r.path}", r.path, tooltip=f"{r.method} https://{r.host}{r.path}"),
        Cell(status, r.status if r.status is not None else -1, align_right=True, problem=failed),
        Cell(size(r.bytes_sent), r.bytes_sent, align_right=True),
        Cell(size(r.bytes_received), r.bytes_received, align_right=True),
        Cell(f"{r.duration_ms:,} ms", r.duration_ms, align_right=True),
        Cell(r.error or "", problem=bool(r.error), tooltip=r.error),
    ]
