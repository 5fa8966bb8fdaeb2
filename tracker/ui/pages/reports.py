"""The Reports page: a client's monthly report (issue 5), previewed as it will be sent, and exported as PDF, HTML
or CSV.

The figures are ``tracker.analytics.client_report``'s and the layout ``tracker.ui.client_report``'s: the same
functions ``token-ledger report client`` uses, so the preview, the exported files and the command agree. The
report is built and laid out (chart image and HTML) on a worker (``services.read``); exports are written on a
worker (``services.run``). The GUI thread only shows the result. With no clients yet, the page says how to give a
project one.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QWidget,
)

from tracker.ui.pages.base import Page

if TYPE_CHECKING:
    from tracker.analytics.client_report import ClientReport
    from tracker.sync.services import AppServices

MONTHS_OFFERED = 24  # the current month and the 23 before it
NO_CLIENTS = ("No clients yet. A client report covers the projects that belong to a client: give a project one "
              "with `token-ledger project set-client PROJECT CLIENT` (for example `token-ledger project set-client "
              "webshop Acme`), then come back here.")
EXPORTS = (("pdf", "Export PDF…", "PDF files (*.pdf)"), ("html", "Export HTML…", "HTML files (*.html)"),
           ("csv", "Export CSV…", "CSV files (*.csv)"))
_PREVIEW_CHART = "chart.png"  # the preview document's resource name for the chart image


@dataclass(frozen=True)
class Preview:
    """A built report and its preview page (HTML naming the chart resource, and the chart image)."""

    report: ClientReport
    html: str
    chart: QImage


def month_choices(today: date, count: int = MONTHS_OFFERED) -> list[date]:
    """First days of the current month and the ``count - 1`` before it, newest first."""
    out, y, m = [], today.year, today.month
    for _ in range(count):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out


def load_clients(conn: sqlite3.Connection) -> list[str]:
    from tracker.analytics.client_report import known_clients

    has = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'clients'").fetchone()
    return known_clients(conn) if has else []


def build_preview(conn: sqlite3.Connection, query: object) -> Preview:
    """The report for ``query`` (a ClientQuery) and its preview page; runs on a worker (QImage and QPainter on an
    image are safe off the GUI thread)."""
    from tracker.analytics.client_report import ClientQuery, build_client_report
    from tracker.ui.client_report import CHART_SIZE, chart_image, report_html

    assert isinstance(query, ClientQuery)
    rep = build_client_report(conn, query)
    return Preview(rep, report_html(rep, _PREVIEW_CHART, *CHART_SIZE), chart_image(rep, scale=2.0))


def export_report(rep: ClientReport, fmt: str, path: Path) -> Path:
    """Write ``rep`` to ``path`` as ``fmt`` with the functions `token-ledger report client` uses; on a worker."""
    from tracker.ui import client_report as ui

    if fmt == "pdf":
        ui.write_pdf(rep, path)
    elif fmt == "html":
        ui.write_html(rep, path)
    else:
        from tracker.analytics.client_report import client_report_csv

        path.write_text(client_report_csv(rep), encoding="utf-8")
    return path


class ReportsPage(Page):
    title = "Reports"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_reports", parent)
        self.clients: list[str] | None = None
        self.preview: Preview | None = None
        self._request = 0
        row = QHBoxLayout()
        row.addWidget(QLabel("Client", self))
        self.client_combo = QComboBox(self)
        self.client_combo.setObjectName("report_client")
        self.client_combo.setMinimumWidth(200)
        row.addWidget(self.client_combo)
        row.addSpacing(10)
        row.addWidget(QLabel("Month", self))
        self.month_combo = QComboBox(self)
        self.month_combo.setObjectName("report_month")
        row.addWidget(self.month_combo)
        row.addStretch(1)
        self.export_buttons: dict[str, QPushButton] = {}
        for fmt, text, _filter in EXPORTS:
            button = QPushButton(text, self)
            button.setObjectName(f"report_export_{fmt}")
            button.clicked.connect(lambda _c=False, f=fmt: self.export(f))
            row.addWidget(button)
            self.export_buttons[fmt] = button
        self._layout.addLayout(row)
        self.empty = QLabel(NO_CLIENTS, self)
        self.empty.setObjectName("reports_empty")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #555555;")
        self.empty.setVisible(False)
        self._layout.addWidget(self.empty)
        self.browser = QTextBrowser(self)
        self.browser.setObjectName("report_preview")
        self.browser.setOpenLinks(False)
        self.browser.setStyleSheet("QTextBrowser { background: white; }")
        self._layout.addWidget(self.browser, 1)
        self.status = QLabel("", self)
        self.status.setObjectName("report_status")
        self.status.setStyleSheet("color: #555555;")
        self._layout.addWidget(self.status)
        self.client_combo.currentIndexChanged.connect(lambda _i: self.load_preview())
        self.month_combo.currentIndexChanged.connect(lambda _i: self.load_preview())
        self._update_buttons()

    # -- data -----------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        super().refresh()
        self._fill_months()
        self.read(load_clients, self._clients_loaded, self._failed)

    def _fill_months(self) -> None:
        chosen = self.month_combo.currentData()
        self.month_combo.blockSignals(True)
        self.month_combo.clear()
        for m in month_choices(self.today()):
            self.month_combo.addItem(f"{m:%B %Y}", m)
        k = self.month_combo.findData(chosen) if chosen is not None else 0
        self.month_combo.setCurrentIndex(max(k, 0))
        self.month_combo.blockSignals(False)

    def _clients_loaded(self, clients: list[str]) -> None:
        self.notice.hide()
        self.clients = clients
        chosen = self.client_combo.currentData()
        self.client_combo.blockSignals(True)
        self.client_combo.clear()
        for c in clients:
            self.client_combo.addItem(c, c)
        k = self.client_combo.findData(chosen) if chosen is not None else 0
        self.client_combo.setCurrentIndex(max(k, 0))
        self.client_combo.blockSignals(False)
        none = not clients
        self.empty.setVisible(none)
        self.browser.setVisible(not none)
        for w in (self.client_combo, self.month_combo):
            w.setEnabled(not none)
        if none:
            self.preview = None
            self.status.setText("")
            self._update_buttons()
            return
        self.load_preview()

    def load_preview(self) -> None:
        """Build the chosen client's report for the chosen month on a worker, then show it."""
        from tracker.analytics.client_report import ClientQuery

        client, month = self.client_combo.currentData(), self.month_combo.currentData()
        if client is None or month is None:
            return
        self._request += 1
        request = self._request
        query = ClientQuery(str(client), month, self.services.tz(), self.services.settings.hourly_rate_usd,
                            self.now_ms())
        self.status.setText(f"Preparing the report for {client}, {month:%B %Y}…")
        self._update_buttons()
        self.read(lambda conn: build_preview(conn, query), lambda p: self._preview_done(request, p), self._failed)

    def _preview_done(self, request: int, preview: Preview) -> None:
        if request != self._request:
            return  # an older choice answered late
        self.preview = preview
        doc = self.browser.document()
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(_PREVIEW_CHART), preview.chart)
        self.browser.setHtml(preview.html)
        rep = preview.report
        self.status.setText(f"{rep.client}, {rep.first:%d %b} to {rep.last:%d %b %Y} ({rep.timezone}): "
                            f"{rep.totals.outcomes} outcome{'s' if rep.totals.outcomes != 1 else ''}. "
                            "Export writes exactly this report.")
        self._update_buttons()

    def _failed(self, message: str) -> None:
        if message.startswith("No ledger at"):
            self.status.setText("No ledger yet: it is created by the first sync.")
            return
        self.show_error(f"The report could not be prepared: {message}")

    def _update_buttons(self) -> None:
        ready = self.preview is not None and self.preview.report.client == self.client_combo.currentData() \
            and self.preview.report.first == self.month_combo.currentData()
        for b in self.export_buttons.values():
            b.setEnabled(ready)

    # -- export ---------------------------------------------------------------------------------------------

    def suggested_name(self, fmt: str) -> str:
        assert self.preview is not None
        rep = self.preview.report
        safe = re.sub(r"[^\w]+", "-", rep.client).strip("-") or "client"  # a file name, not a path
        return f"{safe}-{rep.month}.{fmt}"

    def ask_path(self, fmt: str) -> Path | None:
        """Where to write (a save dialog; tests replace this). None when cancelled."""
        name_filter = next(f for k, _t, f in EXPORTS if k == fmt)
        path, _chosen = QFileDialog.getSaveFileName(self, "Export the client report",
                                                    str(Path.home() / self.suggested_name(fmt)), name_filter)
        if not path:
            return None
        target = Path(path)
        return target if target.suffix else target.with_suffix(f".{fmt}")

    def export(self, fmt: str) -> None:
        if self.preview is None:
            return
        path = self.ask_path(fmt)
        if path is None:
            return
        rep = self.preview.report
        self.show_info(f"Writing {path.name}…")
        self.run(lambda: export_report(rep, fmt, path), self._exported,
                 lambda m: self.show_error(f"The report could not be written to {path}: {m}"))

    def _exported(self, path: Path) -> None:
        self.show_info(f"Wrote {path}", "ok")
