"""The overview page: key figures (today, this month, month-end run-rate, budget), the range buttons and the
spend chart (with outcome markers once outcomes exist); while the ledger is empty, the first-run panel instead.

Every read runs through ``services.read``; a range switch reads only the new series and keeps the old chart on
screen until it arrives, and answers to older requests are dropped (a quick 7d → 1y → 30d ends on 30 days).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from tracker.analytics.dashboard import (
    LedgerState,
    OutcomeMarker,
    SpendSeries,
    ledger_state,
    month_run_rates,
    outcome_markers,
    spend_series,
)
from tracker.ui.pages.base import Page
from tracker.ui.pages.first_run import FirstRunPanel
from tracker.ui.widgets.chart import SpendChart
from tracker.ui.widgets.format import usd
from tracker.ui.widgets.range_dialog import DateRangeDialog
from tracker.ui.widgets.timing import PaintTimer

if TYPE_CHECKING:
    import sqlite3

    from tracker.analytics.spend import SpendSummary
    from tracker.sync.services import AppServices

RANGES = (("7d", "7 days", 7), ("30d", "30 days", 30), ("90d", "90 days", 90), ("1y", "1 year", 365))
PICO_PER_USD = 10**12


class FigureCard(QFrame):
    """One key figure: a caption, up to two large values each with its own kind ("estimated", "reported") next
    to it, in the same size so neither reads as the headline, and a line of detail."""

    def __init__(self, object_name: str, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setStyleSheet(f"#{object_name} {{ background: #ffffff; border: 1px solid #e0e0e0; border-radius: 6px; }}")
        self.caption = QLabel(caption, self)
        self.caption.setStyleSheet("color: #666666;")
        self.value, self.value_kind = self._figure(f"{object_name}_value")
        self.second, self.second_kind = self._figure(f"{object_name}_second")
        self.detail = QLabel("", self)
        self.detail.setObjectName(f"{object_name}_detail")
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet("color: #555555;")
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 8, 12, 10)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.caption, 0, 0, 1, 2)
        grid.addWidget(self.value, 1, 0)
        grid.addWidget(self.value_kind, 1, 1)
        grid.addWidget(self.second, 2, 0)
        grid.addWidget(self.second_kind, 2, 1)
        grid.addWidget(self.detail, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(4, 1)

    def _figure(self, name: str) -> tuple[QLabel, QLabel]:
        value = QLabel("…", self)
        value.setObjectName(name)
        font = value.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        value.setFont(font)
        kind = QLabel("", self)
        kind.setObjectName(f"{name}_kind")
        kind.setStyleSheet("color: #555555;")
        return value, kind

    def set(self, value: str, detail: str, kind: str = "", second: tuple[str, str] | None = None) -> None:
        """Show ``value`` (labelled ``kind``), and ``second`` = (value, kind) under it when given."""
        self.value.setText(value)
        self.value_kind.setText(kind)
        # An unused row is left empty rather than hidden: hiding these labels made PySide6 6.12 abort at exit
        # ("bool_dealloc" while collecting garbage), and an empty row keeps the cards of a row aligned anyway.
        self.second.setText(second[0] if second else "")
        self.second_kind.setText(second[1] if second else "")
        for label in (self.second, self.second_kind):  # no gap for an empty row
            label.setMaximumHeight(16_777_215 if second else 0)
        self.detail.setText(detail)

    def texts(self) -> list[str]:
        """The figures as read: "$5.68 estimated", "$9.85 reported" (for tests and screen readers alike)."""
        out = [f"{self.value.text()} {self.value_kind.text()}".strip()]
        if self.second.text():
            out.append(f"{self.second.text()} {self.second_kind.text()}".strip())
        return out


def _pair(estimated: int, reported: int, both: bool) -> tuple[str, str, tuple[str, str] | None]:
    """A card's figures: estimated, and reported under it when there is any reported spend."""
    return usd(estimated), "estimated", (usd(reported), "reported") if both else None


def _unpriced(n: int) -> str:
    return f"{n} unpriced record{'s' if n != 1 else ''} not counted" if n else ""


def range_text(first: date, last: date) -> str:
    """"25 Oct – 23 Nov 2026", with both years only when they differ."""
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def budget_pico(budget: Decimal | None) -> int | None:
    return None if budget is None else int(budget * PICO_PER_USD)


class OverviewPage(Page):
    """Signals: add_key_requested() and log_outcome_requested() from the first-run panel."""

    title = "Overview"
    add_key_requested = Signal()
    log_outcome_requested = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_overview", parent)
        self.range_name = "30d"
        self.custom: tuple[date, date] | None = None
        self.state: LedgerState | None = None
        self._request = 0
        # (first, last, zone) -> the chart's answer, for the standard ranges: filled by each refresh (one worker
        # read of all four) and by range loads, emptied when the data may have changed. A range switch then
        # draws at once instead of waiting for a read.
        self._series_cache: dict[tuple[date, date, str], tuple[SpendSeries, list[OutcomeMarker]]] = {}
        self._cache_generation = 0
        self.stack = QStackedWidget(self)
        self.first_run = FirstRunPanel(self)
        self.first_run.add_key_requested.connect(self.add_key_requested.emit)
        self.first_run.log_outcome_requested.connect(self.log_outcome_requested.emit)
        self.dashboard = self._build_dashboard()
        self.stack.addWidget(self.dashboard)
        self.stack.addWidget(self.first_run)
        self._layout.addWidget(self.stack, 1)

    def _build_dashboard(self) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.cards_grid = grid = QGridLayout()
        grid.setSpacing(10)
        self.card_today = FigureCard("figure_today", "Today")
        self.card_month = FigureCard("figure_month", "This month")
        self.card_run_rate = FigureCard("figure_run_rate", "Month-end run-rate")
        self.card_budget = FigureCard("figure_budget", "Monthly budget")
        self.cards = (self.card_today, self.card_month, self.card_run_rate, self.card_budget)
        for card in self.cards:
            card.setMinimumWidth(60)  # the page decides how many cards share a row (see resizeEvent)
        self.card_columns = 0
        self._place_cards(4)
        layout.addLayout(grid)
        layout.addLayout(self._build_range_row())
        self.chart = SpendChart(box)
        self.range_timer = PaintTimer(self.chart.plot.viewport(), "range", self)  # click → chart painted
        layout.addWidget(self.chart, 1)
        self.footnote = QLabel("", box)
        self.footnote.setObjectName("overview_footnote")
        self.footnote.setWordWrap(True)
        self.footnote.setStyleSheet("color: #555555;")
        layout.addWidget(self.footnote)
        return box

    def _place_cards(self, columns: int) -> None:
        """Lay the four cards out in rows of ``columns`` (4, or 2 in a narrow window so no figure is cut)."""
        if columns == self.card_columns:
            return
        self.card_columns = columns
        for card in self.cards:
            self.cards_grid.removeWidget(card)
        for k, card in enumerate(self.cards):
            self.cards_grid.addWidget(card, k // columns, k % columns)
        for k in range(4):
            self.cards_grid.setColumnStretch(k, 1 if k < columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_cards()

    def _fit_cards(self) -> None:
        """Four cards in a row when their figures fit side by side, else two rows of two."""
        needed = sum(card.sizeHint().width() for card in self.cards) + 3 * self.cards_grid.spacing()
        available = self.width() - self._layout.contentsMargins().left() - self._layout.contentsMargins().right()
        self._place_cards(4 if available >= needed else 2)

    def _build_range_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(6)
        self.range_group = QButtonGroup(self)
        self.range_group.setExclusive(True)
        self.range_buttons: dict[str, QPushButton] = {}
        for name, label, _days in (*RANGES, ("custom", "Custom…", 0)):
            button = QPushButton(label, self)
            button.setObjectName(f"range_{name}")
            button.setCheckable(True)
            # As wide as the text needs (the style's minimum would push a narrow window's page off screen).
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(label) + 28)
            button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _checked=False, n=name: self.choose_range(n))
            self.range_group.addButton(button)
            self.range_buttons[name] = button
            row.addWidget(button)
        self.range_buttons[self.range_name].setChecked(True)
        row.addStretch(1)
        self.range_label = QLabel("", self)
        self.range_label.setObjectName("range_label")
        self.range_label.setStyleSheet("color: #555555;")
        row.addWidget(self.range_label)
        return row

    # -- ranges --------------------------------------------------------------------------------------------------

    def date_range(self) -> tuple[date, date]:
        if self.range_name == "custom" and self.custom is not None:
            return self.custom
        days = {n: d for n, _label, d in RANGES}[self.range_name if self.range_name != "custom" else "30d"]
        last = self.today()
        return last - timedelta(days=days - 1), last

    def choose_range(self, name: str) -> None:
        """Switch the chart to range ``name`` ('7d', '30d', '90d', '1y' or 'custom', which asks for dates)."""
        if name == "custom":
            first, last = self.custom or self.date_range()
            dialog = DateRangeDialog(first, last, self)
            if self.ask_dates(dialog) is None:
                self.range_buttons[self.range_name].setChecked(True)
                return
            self.custom = dialog.dates()
        self.range_timer.start(name)
        self.range_name = name
        self.range_buttons[name].setChecked(True)
        self.load_series()

    def ask_dates(self, dialog: DateRangeDialog) -> tuple[date, date] | None:
        """Run the custom-range dialog (tests replace this)."""
        return dialog.dates() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def load_series(self) -> None:
        first, last = self.date_range()
        tz = self.services.tz()
        self._request += 1
        request = self._request
        self.range_label.setText(range_text(first, last))
        key = (first, last, str(tz))
        cached = None if self.stale else self._series_cache.get(key)
        if cached is not None:
            self._series_done(request, *cached)
            return
        generation = self._cache_generation

        def done(answer: tuple[SpendSeries, list[OutcomeMarker]]) -> None:
            if generation == self._cache_generation:  # not read before data that has changed since
                self._series_cache[key] = answer
            self._series_done(request, *answer)

        self.read(lambda conn: (spend_series(conn, first, last, tz), outcome_markers(conn, first, last, tz)),
                  done, self._failed)

    def standard_ranges(self) -> list[tuple[date, date]]:
        last = self.today()
        return [(last - timedelta(days=days - 1), last) for _name, _label, days in RANGES]

    def _series_done(self, request: int, series: SpendSeries, markers: list[OutcomeMarker]) -> None:
        if request != self._request:
            return  # an older range's answer: a newer one is on its way
        self.chart.set_series(series, markers)
        self.range_timer.data_ready()
        self._set_footnote(series)

    def _set_footnote(self, s: SpendSeries) -> None:
        notes = []
        unpriced = sum(s.unpriced_records)
        if unpriced:
            notes.append(f"{unpriced} record{'s' if unpriced != 1 else ''} in this range could not be priced "
                         "(unknown model) and are not in the bars.")
        if any(p.kind == "reported" for p in s.parts):
            notes.append("Estimated spend comes from local agent logs; reported spend is what providers billed "
                         "(placed on its UTC date). The two can cover the same requests, so they are never added "
                         "up: each day has one bar of each.")
        if s.other_currency_lines:
            notes.append("Some bills are in another currency and are not converted to dollars.")
        self.footnote.setText(" ".join(notes))
        self.footnote.setVisible(bool(notes))

    # -- refresh -------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        super().refresh()
        first, last = self.date_range()
        tz = self.services.tz()
        now_ms = self.now_ms()
        budget = budget_pico(self.services.settings.monthly_budget_usd)
        env, home = dict(os.environ), Path.home()
        self._request += 1
        request = self._request
        self._cache_generation += 1
        self._series_cache.clear()
        generation = self._cache_generation
        ranges = list(dict.fromkeys([(first, last), *self.standard_ranges()]))  # the shown one first
        self.range_label.setText(range_text(first, last))

        def read(conn: sqlite3.Connection) -> tuple[LedgerState, dict[tuple[date, date], tuple[SpendSeries,
                                                    list[OutcomeMarker]]], SpendSummary, tuple[int, int]]:
            from tracker.analytics.spend import spend_summary

            summary = spend_summary(conn, tz, now_ms, budget)
            rates = month_run_rates(summary.month_estimated_pico, summary.month_reported_pico, tz, now_ms)
            charts = {(a, b): (spend_series(conn, a, b, tz), outcome_markers(conn, a, b, tz)) for a, b in ranges}
            return ledger_state(conn, env, home), charts, summary, rates

        def done(answer: tuple[LedgerState, dict[tuple[date, date], tuple[SpendSeries, list[OutcomeMarker]]],
                               SpendSummary, tuple[int, int]]) -> None:
            state, charts, summary, rates = answer
            if generation == self._cache_generation:
                self._series_cache.update({(a, b, str(tz)): chart for (a, b), chart in charts.items()})
            self._refreshed(request, state, charts[(first, last)], summary, rates)

        self.read(read, done, self._failed)

    def _refreshed(self, request: int, state: LedgerState, chart: tuple[SpendSeries, list[OutcomeMarker]],
                   summary: SpendSummary, run_rates: tuple[int, int]) -> None:
        self.notice.hide()
        self.state = state
        self.first_run.set_state(state)
        self.stack.setCurrentWidget(self.first_run if state.empty else self.dashboard)
        self.set_summary(summary, run_rates)
        self._series_done(request, *chart)

    def set_summary(self, s: SpendSummary, run_rates: tuple[int, int]) -> None:
        """Fill the cards. Estimated and reported are two figures of equal weight, never one sum: they can cover
        the same requests. ``run_rates`` is the month-end run-rate of each kind (estimated, reported)."""
        self._fill_cards(s, run_rates, bool(s.month_reported_pico or s.today_reported_pico))
        self._fit_cards()  # wider figures may no longer fit four to a row

    def _fill_cards(self, s: SpendSummary, run_rates: tuple[int, int], both: bool) -> None:
        value, kind, second = _pair(s.today_estimated_pico, s.today_reported_pico, both)
        self.card_today.set(value, _unpriced(s.today_unpriced_records), kind, second)
        value, kind, second = _pair(s.month_estimated_pico, s.month_reported_pico, both)
        self.card_month.set(value, _unpriced(s.month_unpriced_records), kind, second)
        value, kind, second = _pair(*run_rates, both)
        self.card_run_rate.set(value, "at this month's pace", kind, second)
        self.card_budget.value.setStyleSheet("")
        if s.budget_pico is None:
            self.card_budget.set("not set", "Set a monthly budget in Settings to be told at 50%, 80% and 100%.")
            return
        spent = s.month_estimated_pico + s.month_reported_pico
        share = f"{spent * 100 // s.budget_pico}% used" if s.budget_pico else "budget is $0"
        left = s.budget_pico - spent
        rest = f"{usd(left)} left" if left >= 0 else f"{usd(-left)} over"
        counts = "of estimated + reported spend" if both else "of estimated spend"
        self.card_budget.set(usd(s.budget_pico), f"{share} · {rest}, counting {counts}")
        if spent > s.budget_pico:
            self.card_budget.value.setStyleSheet("color: #b3261e;")

    def _failed(self, message: str) -> None:
        if message.startswith("No ledger at"):  # the very first start: the first sync creates it
            self.first_run.sources_label.setText("Looking for your agents' logs; the ledger is being created…")
            self.stack.setCurrentWidget(self.first_run)
            return
        self.show_error(f"The overview could not be read: {message}")
