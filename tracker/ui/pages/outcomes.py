"""The Outcomes page: what the spend bought. A table of outcomes with filters, editing and deleting, a summary
line for the filtered set, and a second tab of value charts (cumulative spend against cumulative value, value
per dollar by month, cost per outcome by kind, outcomes as attributed cost against value) under the annual token
run-rate as a share of pay (when an annual compensation is set) next to value per dollar.

One read (``services.read``) loads every outcome with the spend attributed to it
(:func:`tracker.analytics.dashboard.outcome_data`, built on ``tracker.analytics.attribution``) and the monthly
figures (:func:`tracker.analytics.dashboard.value_series`, built on ``report value``'s); filters then work on
what was read, with no I/O. Adding and editing go through :class:`tracker.ui.outcome_dialog.OutcomeDialog`;
deleting asks first, then writes on a worker. Every write ends with ``services.data_changed``.

With the ``suggest_from_git`` setting on, a "Suggestions from git" strip above the table lists merge commits and
tags of the projects' local repositories (:mod:`tracker.suggestions`, last 90 days) with Accept (logs it as an
outcome) and Dismiss (never suggested again); the scan and both actions run on a worker (``services.run``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from tracker.analytics.dashboard import (
    NO_PROJECT_FILTER,
    OUTCOME_KIND_LABELS,
    OUTCOME_STATUS_LABELS,
    PAY_SHARE_BENCHMARK,
    OutcomeData,
    OutcomeFilter,
    OutcomeLine,
    ValueSeries,
    cost_by_kind,
    filter_outcomes,
    outcome_data,
    outcome_figures,
    outcome_points,
    pay_share,
    value_series,
)
from tracker.analytics.periods import local_midnight_ms
from tracker.outcomes import KINDS, STATUSES
from tracker.suggestions import Suggestion, SuggestionScan, accept_in, dismiss, suggest_in
from tracker.ui.outcome_dialog import OutcomeDialog, remove_outcome
from tracker.ui.pages.base import Page
from tracker.ui.widgets.format import usd
from tracker.ui.widgets.table import Cell, RowsModel, fit_columns, make_table
from tracker.ui.widgets.value_charts import ValueCharts

if TYPE_CHECKING:

    from tracker.analytics.value import ValueFigures
    from tracker.sync.services import AppServices

HEADINGS = ("#", "When", "Title", "Kind", "Project", "Status", "Value", "Hours saved", "Attributed spend")
SUGGESTION_HEADINGS = ("When", "Title", "Kind", "Project", "Tag / commit")
SUGGEST_DAYS = 90
RANGES = (("all", "All time", None), ("30d", "Last 30 days", 30), ("90d", "Last 90 days", 90),
          ("1y", "Last 12 months", 365))


def spend_cell(o: OutcomeLine) -> Cell:
    """The spend attributed to ``o``: dollars, with its estimated and reported parts in the tooltip."""
    parts = [f"estimated {usd(o.estimated_pusd)}", f"reported {usd(o.reported_pusd)}"]
    if o.unpriced_records:
        parts.append(f"{o.unpriced_records} unpriced record{'s' if o.unpriced_records != 1 else ''} not counted")
    tip = ("Its project's spend since the project's previous outcome: " + ", ".join(parts))
    if o.attributed_pusd == 0 and o.unpriced_records:
        return Cell("unpriced", -1, align_right=True, tooltip=tip)
    return Cell(usd(o.attributed_pusd), o.attributed_pusd, align_right=True, tooltip=tip)


def outcome_cells(o: OutcomeLine) -> list[Cell]:
    return [
        Cell(str(o.id), o.id, align_right=True),
        Cell(o.day.isoformat(), o.at_ms),
        Cell(o.title, tooltip=o.title + (f"\n{o.notes}" if o.notes else "") + (f"\n{o.link}" if o.link else "")),
        Cell(OUTCOME_KIND_LABELS.get(o.kind, o.kind)),
        Cell(o.project or "—", o.project or ""),
        Cell(OUTCOME_STATUS_LABELS.get(o.status, o.status), problem=o.status != "kept"),
        Cell("" if o.value_pusd is None else usd(o.value_pusd), o.value_pusd, align_right=True),
        Cell(o.hours_saved or "", None if o.hours_saved is None else Decimal(o.hours_saved), align_right=True),
        spend_cell(o),
    ]


def summary_text(fig: ValueFigures, rate: Decimal | None) -> str:
    """"3 outcomes · value $1,250.00 · attributed spend $210.40 (estimated $200.00, reported $10.40) · $5.94 of
    value per dollar" — the figures ``report value`` would give for these outcomes and their attributed spend."""
    if fig.outcomes == 0:
        return "No outcomes match."
    parts = [f"{fig.outcomes} outcome{'s' if fig.outcomes != 1 else ''}"]
    if fig.kept_outcomes != fig.outcomes:
        parts[0] += f" ({fig.kept_outcomes} kept)"
    value = usd(fig.value_pusd) if fig.value_known else "not valued"
    if fig.unvalued_hours and fig.value_known:
        value += f" + {fig.unvalued_hours} h not valued"
    parts.append(f"value {value}")
    parts.append(f"attributed spend {usd(fig.spend_pusd)} (estimated {usd(fig.estimated_pusd)}, "
                 f"reported {usd(fig.reported_pusd)})")
    vpd = fig.value_per_dollar()
    parts.append("value per dollar: —" if vpd is None else f"${vpd} of value per dollar")
    text = " · ".join(parts)
    if fig.unvalued_hours and rate is None:
        text += ". Hours saved are not valued until an hourly rate is set (Settings → Hourly rate)."
    return text


def pay_share_text(v: ValueSeries, compensation: Decimal | None) -> str:
    """The annual token run-rate as a share of pay, next to value per dollar (issue 5): spend alone is not success.
    Without a compensation set, how to see it."""
    vpd = ("value per dollar (all time): —, no valued outcomes yet" if v.value_per_dollar is None
           else f"value per dollar (all time): ${v.value_per_dollar} of value per $1 spent")
    if compensation is None:
        return (f"<b>{vpd[0].upper() + vpd[1:]}.</b> Set your annual compensation in Settings (it stays on this "
                "computer) to see your token run-rate as a share of your pay.")
    share = pay_share(v.run_rate_pusd, compensation)
    spend = "estimated + reported" + (" + subscriptions" if v.subscriptions else "")
    percent = "—" if share.percent is None else f"{share.percent}%"
    colour = "#b71c1c" if share.above_benchmark else "#1b5e20"
    return (f"<b>Annual token run-rate {usd(share.annual_run_rate_pusd)}</b> (this month's month-end run-rate × 12, "
            f"{spend}) = <b style='color:{colour}'>{percent} of your {usd(share.compensation_pusd)} annual "
            f"compensation</b> · <b>{vpd}</b>. Public benchmark: {PAY_SHARE_BENCHMARK}. Spend is an input: "
            "compare it with the value it bought.")


class OutcomesPage(Page):
    title = "Outcomes"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_outcomes", parent)
        self.data: OutcomeData | None = None
        self.value: ValueSeries | None = None
        self.shown: list[OutcomeLine] = []
        self.points_left_out = 0  # outcomes with no known value: not on the cost/value chart
        self.dialog: OutcomeDialog | None = None
        self._request = 0
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("outcomes_tabs")
        self.tabs.addTab(self._build_table_tab(), "Outcomes")
        self.charts = ValueCharts(self)
        charts_tab = QWidget(self)
        box = QVBoxLayout(charts_tab)
        box.setContentsMargins(6, 8, 6, 6)
        self.pay_share = QLabel("", charts_tab)
        self.pay_share.setObjectName("value_pay_share")
        self.pay_share.setWordWrap(True)
        self.pay_share.setTextFormat(Qt.TextFormat.RichText)
        self.pay_share.setStyleSheet("QLabel { background: #f6f8fa; border: 1px solid #e1e4e8; border-radius: 4px;"
                                     " padding: 6px 8px; }")
        box.addWidget(self.pay_share)
        box.addWidget(self.charts, 1)
        self.charts_note = QLabel("", charts_tab)
        self.charts_note.setObjectName("value_charts_note")
        self.charts_note.setWordWrap(True)
        self.charts_note.setStyleSheet("color: #555555;")
        box.addWidget(self.charts_note)
        self.tabs.addTab(charts_tab, "Value charts")
        self._layout.addWidget(self.tabs, 1)

    def _combo(self, name: str, items: list[tuple[str, object]]) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        for text, data in items:
            combo.addItem(text, data)
        combo.currentIndexChanged.connect(lambda _i: self.apply_filters())
        return combo

    def _build_table_tab(self) -> QWidget:
        tab = QWidget(self)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(6, 8, 6, 6)
        row = QHBoxLayout()
        self.project_filter = self._combo("outcome_filter_project", [("All projects", None)])
        self.kind_filter = self._combo("outcome_filter_kind",
                                       [("All kinds", None), *((OUTCOME_KIND_LABELS[k], k) for k in KINDS)])
        self.status_filter = self._combo("outcome_filter_status",
                                         [("Any status", None), *((OUTCOME_STATUS_LABELS[s], s) for s in STATUSES)])
        self.range_filter = self._combo("outcome_filter_range", [(label, name) for name, label, _d in RANGES])
        for w in (self.project_filter, self.kind_filter, self.status_filter, self.range_filter):
            row.addWidget(w)
        row.addStretch(1)
        self.add_button = self._button("outcome_add", "Log outcome…", self.add_outcome)
        self.edit_button = self._button("outcome_edit", "Edit…", self.edit_selected)
        self.delete_button = self._button("outcome_delete", "Delete…", self.delete_selected)
        for b in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(b)
        layout.addLayout(row)
        layout.addWidget(self._build_suggestions(tab))
        self.summary = QLabel("", tab)
        self.summary.setObjectName("outcomes_summary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.model = RowsModel(HEADINGS, self)
        self.table = make_table(self.model, "outcomes_table", tab)
        self.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # newest first
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        layout.addWidget(self.table, 1)
        self.empty_label = QLabel("No outcomes yet. Log one from the tray menu (“Log outcome…”), with the "
                                  "button above, or with `token-ledger outcome add TITLE`.", tab)
        self.empty_label.setObjectName("outcomes_empty")
        self.empty_label.setVisible(False)  # until the outcomes are read
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: #666666;")
        layout.addWidget(self.empty_label)
        note = QLabel("Attributed spend: each outcome's project's spend since that project's previous outcome "
                      "(estimated from local logs plus reported by providers; hover a cell for the parts). "
                      "Value counts kept outcomes only.", tab)
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        layout.addWidget(note)
        self._update_buttons()
        return tab

    def _build_suggestions(self, parent: QWidget) -> QGroupBox:
        box = self.suggestions_box = QGroupBox("Suggestions from git (merge commits and tags, last 90 days)", parent)
        box.setObjectName("outcome_suggestions")
        layout = QVBoxLayout(box)
        layout.setContentsMargins(6, 6, 6, 6)
        self.suggestions: list[Suggestion] = []
        self.suggestions_loaded = False
        self._scan_repos: list[str] = []
        self.suggestions_status = QLabel("", box)
        self.suggestions_status.setObjectName("suggestions_status")
        self.suggestions_status.setWordWrap(True)
        layout.addWidget(self.suggestions_status)
        self.suggestions_model = RowsModel(SUGGESTION_HEADINGS, self)
        self.suggestions_table = make_table(self.suggestions_model, "suggestions_table", box, sortable=False)
        self.suggestions_table.setMaximumHeight(150)
        self.suggestions_table.selectionModel().selectionChanged.connect(lambda *_a: self._update_suggestion_buttons())
        layout.addWidget(self.suggestions_table)
        row = QHBoxLayout()
        row.addStretch(1)
        self.accept_button = self._button("suggestion_accept", "Accept", self.accept_suggestion)
        self.dismiss_button = self._button("suggestion_dismiss", "Dismiss", self.dismiss_suggestion)
        self.rescan_button = self._button("suggestion_rescan", "Look again", self.load_suggestions)
        for b in (self.accept_button, self.dismiss_button, self.rescan_button):
            row.addWidget(b)
        layout.addLayout(row)
        box.setVisible(False)  # only with the setting on (see refresh)
        self._update_suggestion_buttons()
        return box

    def _button(self, name: str, text: str, slot: object) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())  # type: ignore[operator]
        return button

    # -- data -----------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the outcomes (quick: the table first), then the monthly figures for the charts."""
        super().refresh()
        tz, now_ms, rate = self.services.tz(), self.now_ms(), self.services.settings.hourly_rate_usd
        self._request += 1
        request = self._request
        if self.data is None:
            self.summary.setText("Loading…")
        self.read(lambda conn: outcome_data(conn, tz), lambda d: self._loaded(request, d), self._failed)
        self.read(lambda conn: value_series(conn, tz, now_ms, rate), lambda v: self._value_loaded(request, v),
                  self._failed)
        self.suggestions_box.setVisible(self.services.settings.suggest_from_git)
        if self.services.settings.suggest_from_git:
            self.load_suggestions()

    def _loaded(self, request: int, data: OutcomeData) -> None:
        if request != self._request:
            return
        self.notice.hide()
        self.data = data
        self._fill_projects(data)
        self.apply_filters()
        points, self.points_left_out = outcome_points(data.lines, self.services.settings.hourly_rate_usd)
        self.charts.set_outcomes(cost_by_kind(data.lines), points)
        if self.value is not None:
            self.charts_note.setText(self._charts_note(self.value))

    def _value_loaded(self, request: int, value: ValueSeries) -> None:
        if request != self._request:
            return
        self.value = value
        self.charts.set_series(value)
        self.charts_note.setText(self._charts_note(value))
        self.pay_share.setText(pay_share_text(value, self.services.settings.annual_compensation_usd))

    def _failed(self, message: str) -> None:
        if message.startswith("No ledger at"):
            self.summary.setText("No ledger yet: it is created by the first sync.")
            return
        self.show_error(f"The outcomes could not be read: {message}")

    def _fill_projects(self, data: OutcomeData) -> None:
        chosen = self.project_filter.currentData()
        names = sorted({o.project for o in data.lines if o.project} | set(data.projects), key=str.casefold)
        if any(o.project is None for o in data.lines):
            names.append(NO_PROJECT_FILTER)
        self.project_filter.blockSignals(True)
        self.project_filter.clear()
        self.project_filter.addItem("All projects", None)
        for n in names:
            self.project_filter.addItem(n, n)
        index = self.project_filter.findData(chosen) if chosen is not None else 0
        self.project_filter.setCurrentIndex(max(index, 0))
        self.project_filter.blockSignals(False)

    def current_filter(self) -> OutcomeFilter:
        days = {name: d for name, _label, d in RANGES}[str(self.range_filter.currentData())]
        today = self.today()
        return OutcomeFilter(
            project=self.project_filter.currentData(), kind=self.kind_filter.currentData(),
            status=self.status_filter.currentData(),
            since=None if days is None else today - timedelta(days=days - 1), until=None)

    def apply_filters(self) -> None:
        if self.data is None:
            return
        self.shown = filter_outcomes(self.data.lines, self.current_filter())
        self.model.set_rows([outcome_cells(o) for o in self.shown])
        header = self.table.horizontalHeader()  # keep the user's sort (newest first until they choose)
        self.table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        fit_columns(self.table, stretch=2)
        rate = self.services.settings.hourly_rate_usd
        nothing = not self.data.lines
        self.empty_label.setVisible(nothing)
        self.summary.setText("" if nothing else summary_text(outcome_figures(self.shown, rate), rate))
        self._update_buttons()

    def _charts_note(self, v: ValueSeries) -> str:
        notes = ["Spend is estimated (from local agent logs) plus reported (billed by providers), as in "
                 "`token-ledger report value`; the two can cover the same requests (see `report reconcile`)."]
        if v.subscriptions:
            notes.append("Subscription fees are spread per day and included.")
        notes.append("Value is what you logged for kept outcomes: dollars, plus hours saved at the hourly rate. "
                     "A month without spend or without valued outcomes has no value-per-dollar bar.")
        notes.append("Cost per outcome and the cost/value points use each outcome's attributed spend (its "
                     "project's spend since the previous outcome, estimated + reported), all time.")
        if self.points_left_out:
            n = self.points_left_out
            notes.append(f"{n} outcome{'s' if n != 1 else ''} with no value (or hours saved and no hourly rate) "
                         f"{'are' if n != 1 else 'is'} not on the cost/value chart.")
        if v.unvalued_hours:
            notes.append(f"{v.unvalued_hours} hours saved are not valued: no hourly rate is set "
                         "(Settings → Hourly rate).")
        if not v.has_outcomes:
            notes.append("No outcomes yet: the value line stays at $0 until you log some.")
        return " ".join(notes)

    # -- actions --------------------------------------------------------------------------------------------

    def selected(self) -> OutcomeLine | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.data is None:
            return None
        oid = int(self.model.cell(rows[0].row(), 0).sort_value)
        return next((o for o in self.data.lines if o.id == oid), None)

    def _update_buttons(self) -> None:
        has = bool(self.table.selectionModel().selectedRows())
        self.edit_button.setEnabled(has)
        self.delete_button.setEnabled(has)

    def _double_clicked(self, index: QModelIndex) -> None:
        self.table.selectRow(index.row())
        self.edit_selected()

    def add_outcome(self) -> None:
        self.open_dialog(None)

    def edit_selected(self) -> None:
        o = self.selected()
        if o is not None:
            self.open_dialog(o)

    def open_dialog(self, outcome: OutcomeLine | None) -> OutcomeDialog:
        """Open the outcome dialog (window-modal, not blocking); the page re-reads once it saved."""
        dialog = self.dialog = OutcomeDialog(self.services, outcome, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def confirm(self, question: str) -> bool:
        """Ask yes/no (tests replace this)."""
        answer = QMessageBox.question(self, "Delete outcome", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def delete_selected(self) -> None:
        o = self.selected()
        if o is None or not self.confirm(f"Delete outcome #{o.id} “{o.title}” ({o.day:%d %b %Y})? "
                                         "This cannot be undone."):
            return
        db = self.services.paths.db
        self.run(lambda: remove_outcome(db, o.id), lambda _r: self._deleted(o), self._delete_failed)

    def _deleted(self, o: OutcomeLine) -> None:
        self.show_info(f"Deleted outcome #{o.id} “{o.title}”.")
        self.services.data_changed.emit()

    def _delete_failed(self, message: str) -> None:
        self.show_error(f"The outcome could not be deleted: {message}")

    # -- suggestions from git ----------------------------------------------------------------------------------

    def load_suggestions(self) -> None:
        """Scan the projects' local repositories on a worker (git and the ledger are read there, never here)."""
        if not self.services.settings.suggest_from_git:
            return
        db, data_dir, tz = self.services.paths.db, self.services.paths.data_dir, self.services.tz()
        since_ms = local_midnight_ms(self.today() - timedelta(days=SUGGEST_DAYS - 1), tz)
        self.suggestions_status.setText("Looking at the local git history…")
        self.rescan_button.setEnabled(False)
        self.run(lambda: suggest_in(db, data_dir, tz, since_ms), self._suggestions_loaded,
                 self._suggestions_failed)

    def _suggestions_loaded(self, scan: SuggestionScan) -> None:
        self.suggestions_loaded = True
        self.rescan_button.setEnabled(True)
        self._scan_repos = list(scan.repos)
        self.suggestions = list(scan.suggestions)
        tz = self.services.tz()
        self.suggestions_model.set_rows([
            [Cell(datetime.fromtimestamp(s.at_ms / 1000, tz).strftime("%Y-%m-%d %H:%M")),
             Cell(s.title, tooltip=f"{s.title}\n{s.repo}"), Cell(OUTCOME_KIND_LABELS.get(s.kind, s.kind)),
             Cell(s.project), Cell(s.tag or s.commit[:10])]
            for s in self.suggestions
        ])
        fit_columns(self.suggestions_table, stretch=1)
        n = len(self.suggestions)
        if n:
            text = f"{n} suggested outcome{'s' if n != 1 else ''}: accept one to log it, or dismiss it."
        elif scan.repos:
            text = (f"No suggestions: nothing new in {len(scan.repos)} local "
                    f"repositor{'y' if len(scan.repos) == 1 else 'ies'}.")
        else:
            text = "No suggestions: no local git repository found for the projects in your agent logs."
        if scan.problems:
            text += " " + " ".join(scan.problems)
        self.suggestions_status.setText(text)
        self._update_suggestion_buttons()

    def _suggestions_failed(self, message: str) -> None:
        self.suggestions_loaded = True
        self.rescan_button.setEnabled(True)
        self.suggestions_status.setText(f"Suggestions could not be read: {message}")

    def selected_suggestion(self) -> Suggestion | None:
        rows = self.suggestions_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.suggestions):
            return None
        return self.suggestions[rows[0].row()]

    def _update_suggestion_buttons(self) -> None:
        has = self.selected_suggestion() is not None
        self.accept_button.setEnabled(has)
        self.dismiss_button.setEnabled(has)

    def accept_suggestion(self) -> None:
        s = self.selected_suggestion()
        if s is None:
            return
        db = self.services.paths.db
        self._set_suggestion_busy(True)
        self.run(lambda: accept_in(db, s), lambda oid: self._accepted(s, oid), self._suggestion_write_failed)

    def _accepted(self, s: Suggestion, outcome_id: int) -> None:
        self._drop(s)
        self.show_info(f"Logged outcome #{outcome_id} “{s.title}” ({s.project}).")
        self.services.data_changed.emit()

    def dismiss_suggestion(self) -> None:
        s = self.selected_suggestion()
        if s is None:
            return
        data_dir = self.services.paths.data_dir
        self._set_suggestion_busy(True)
        self.run(lambda: dismiss(data_dir, s), lambda _r: self._drop(s), self._suggestion_write_failed)

    def _drop(self, s: Suggestion) -> None:
        self._set_suggestion_busy(False)
        self.suggestions = [x for x in self.suggestions if x.key != s.key]
        self._suggestions_loaded(SuggestionScan(self.suggestions, repos=self._scan_repos))

    def _set_suggestion_busy(self, busy: bool) -> None:
        self.accept_button.setEnabled(not busy)
        self.dismiss_button.setEnabled(not busy)

    def _suggestion_write_failed(self, message: str) -> None:
        self._set_suggestion_busy(False)
        self._update_suggestion_buttons()
        self.show_error(f"The suggestion could not be saved: {message}")
