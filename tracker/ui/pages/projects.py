"""The Projects page: every project (stored, or a default one seen in usage) with its client, all-time estimated
and reported spend (labelled apart; unpriced requests counted, never $0) and outcome count; for the selected
project, its client (set or cleared), a rename, and its rules (listed, "Add rule…" with a kind and a pattern,
"Remove").

Reads go through ``services.read`` (:func:`projects_data`, built on :func:`tracker.outcomes.project_summaries` and
``list_rules``); every write goes through :mod:`tracker.outcomes` in one transaction on a worker
(``services.run``) and ends with ``services.data_changed``, so every page re-reads (a rule changes the project of
past spend too). Mistakes (a duplicate rule, a relative path, a taken name) come back as one line in the notice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from tracker.analytics.attribution import RULE_KINDS
from tracker.outcomes import (
    ProjectSummary,
    RuleRow,
    add_rule,
    list_rules,
    project_summaries,
    remove_rule,
    rename_project,
    set_client,
)
from tracker.ui.pages.base import Page
from tracker.ui.widgets.format import usd
from tracker.ui.widgets.table import Cell, RowsModel, fit_columns, make_table

if TYPE_CHECKING:
    from tracker.sync.services import AppServices

T = TypeVar("T")
UNATTRIBUTED = "(unattributed)"
HEADINGS = ("Project", "Client", "Estimated spend", "Reported spend", "Unpriced", "Outcomes", "Rules")
RULE_HEADINGS = ("#", "Match", "Pattern")
RULE_LABELS = {
    "path_prefix": "Folder and below (path prefix)",
    "path_glob": "Folders matching a glob",
    "account": "Provider account (its name)",
    "api_key_id": "API key id",
    "openai_project": "OpenAI project id (proj_…)",
    "anthropic_workspace": "Anthropic workspace id (wrkspc_…)",
}
PLACEHOLDERS = {
    "path_prefix": "/home/me/work/app", "path_glob": "/home/me/clients/acme/*", "account": "work",
    "api_key_id": "apikey_01…", "openai_project": "proj_…", "anthropic_workspace": "wrkspc_…",
}


@dataclass(frozen=True)
class ProjectsData:
    projects: list[ProjectSummary]
    rules: list[RuleRow]
    clients: list[str]


def projects_data(conn: sqlite3.Connection, tz: tzinfo) -> ProjectsData:
    """Everything the page shows, in one read."""
    clients = [str(n) for (n,) in conn.execute("SELECT name FROM clients ORDER BY name COLLATE NOCASE")]
    return ProjectsData(project_summaries(conn, tz), list_rules(conn), clients)


def write(db: Path, fn: Callable[[sqlite3.Connection], T]) -> T:
    """``fn`` in one write transaction of the ledger at ``db`` (runs on a worker)."""
    from tracker.store import open_store

    with open_store(db) as store, store.transaction() as conn:
        return fn(conn)


def project_cells(p: ProjectSummary) -> list[Cell]:
    s = p.spend
    return [
        Cell(p.name, p.name.casefold(), tooltip=None if p.stored else "Named after its repository folder"),
        Cell(p.client or "", (p.client or "").casefold()),
        Cell(usd(s.estimated_pusd), s.estimated_pusd, align_right=True),
        Cell(usd(s.reported_pusd), s.reported_pusd, align_right=True),
        Cell(f"{s.unpriced_records} unpriced" if s.unpriced_records else "", s.unpriced_records, align_right=True,
             problem=bool(s.unpriced_records)),
        Cell(str(p.outcomes), p.outcomes, align_right=True),
        Cell(str(p.rules) if p.rules else "", p.rules, align_right=True),
    ]


class AddRuleDialog(QDialog):
    """A rule's kind (combo) and pattern for one project; ``rule_chosen(kind, pattern)`` when OK is pressed."""

    rule_chosen = Signal(str, str)

    def __init__(self, project: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("add_rule_dialog")
        self.setWindowTitle(f"Add a rule for {project}")
        form = QFormLayout(self)
        form.addRow(QLabel(f"Spend matching this rule goes to <b>{project}</b>, past spend included.", self))
        self.kind = QComboBox(self)
        self.kind.setObjectName("rule_kind")
        for k in RULE_KINDS:
            self.kind.addItem(RULE_LABELS[k], k)
        self.pattern = QLineEdit(self)
        self.pattern.setObjectName("rule_pattern")
        self.kind.currentIndexChanged.connect(lambda _i: self._placeholder())
        self._placeholder()
        form.addRow("Match:", self.kind)
        form.addRow("Pattern:", self.pattern)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                   self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _placeholder(self) -> None:
        self.pattern.setPlaceholderText(PLACEHOLDERS[str(self.kind.currentData())])

    def accept(self) -> None:
        if not self.pattern.text().strip():
            self.pattern.setFocus()
            return
        self.rule_chosen.emit(str(self.kind.currentData()), self.pattern.text().strip())
        super().accept()


class ProjectsPage(Page):
    title = "Projects"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_projects", parent)
        self.data: ProjectsData | None = None
        self.shown: list[ProjectSummary] = []
        self.rule_rows: list[RuleRow] = []
        self.rule_dialog: AddRuleDialog | None = None
        self._request = 0
        self._select_after: str | None = None
        intro = QLabel("Projects come from your agents' working folders (the repository's name) and from rules. "
                       "Rules apply to past spend too. Spend is all time: estimated from local logs and reported "
                       "by providers, shown apart.", self)
        intro.setWordWrap(True)
        intro.setStyleSheet("color: #555555;")
        self._layout.addWidget(intro)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.model = RowsModel(HEADINGS, self)
        self.table = make_table(self.model, "projects_table", splitter)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self._selection_changed())
        splitter.addWidget(self.table)
        splitter.addWidget(self._build_detail(splitter))
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self._layout.addWidget(splitter, 1)
        self.empty = QLabel("No projects yet: they appear with the first agent usage in a folder, or define one "
                            "with Add rule… (`token-ledger rule add PROJECT --path-prefix DIR`).", self)
        self.empty.setObjectName("projects_empty")
        self.empty.setWordWrap(True)
        self.empty.setVisible(False)
        self._layout.addWidget(self.empty)
        self._selection_changed()

    def _button(self, name: str, text: str, slot: Callable[[], object], parent: QWidget) -> QPushButton:
        button = QPushButton(text, parent)
        button.setObjectName(name)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _build_detail(self, parent: QWidget) -> QWidget:
        box = QWidget(parent)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 6, 0, 0)
        self.detail_title = QLabel("Select a project.", box)
        self.detail_title.setObjectName("project_detail_title")
        layout.addWidget(self.detail_title)
        row = QHBoxLayout()
        row.addWidget(QLabel("Client:", box))
        self.client_edit = QComboBox(box)
        self.client_edit.setObjectName("project_client")
        self.client_edit.setEditable(True)
        self.client_edit.setMinimumWidth(220)
        line = self.client_edit.lineEdit()
        if line is not None:
            line.setPlaceholderText("none")
        row.addWidget(self.client_edit)
        self.set_client_button = self._button("project_set_client", "Set client", self.save_client, box)
        self.rename_button = self._button("project_rename", "Rename…", self.rename_selected, box)
        row.addWidget(self.set_client_button)
        row.addStretch(1)
        row.addWidget(self.rename_button)
        layout.addLayout(row)
        self.rules_model = RowsModel(RULE_HEADINGS, self)
        self.rules_table = make_table(self.rules_model, "project_rules_table", box, sortable=False)
        self.rules_table.selectionModel().selectionChanged.connect(lambda *_a: self._update_buttons())
        layout.addWidget(self.rules_table, 1)
        rules_row = QHBoxLayout()
        self.rules_note = QLabel("", box)
        self.rules_note.setWordWrap(True)
        self.rules_note.setStyleSheet("color: #555555;")
        rules_row.addWidget(self.rules_note, 1)
        self.add_rule_button = self._button("project_add_rule", "Add rule…", self.open_rule_dialog, box)
        self.remove_rule_button = self._button("project_remove_rule", "Remove", self.remove_selected_rule, box)
        rules_row.addWidget(self.add_rule_button)
        rules_row.addWidget(self.remove_rule_button)
        layout.addLayout(rules_row)
        return box

    # -- data -----------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        super().refresh()
        tz = self.services.tz()
        self._request += 1
        request = self._request
        self.read(lambda conn: projects_data(conn, tz), lambda d: self._loaded(request, d), self._failed)

    def _loaded(self, request: int, data: ProjectsData) -> None:
        if request != self._request:
            return
        current = self.selected()
        keep = self._select_after or (current.name if current is not None else None)
        self._select_after = None
        self.data = data
        self.shown = list(data.projects)
        self.model.set_rows([project_cells(p) for p in self.shown])
        header = self.table.horizontalHeader()
        self.table.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        fit_columns(self.table, stretch=0)
        self.empty.setVisible(not self.shown)
        self.client_edit.blockSignals(True)
        text = self.client_edit.currentText()
        self.client_edit.clear()
        self.client_edit.addItems(data.clients)
        self.client_edit.setEditText(text)
        self.client_edit.blockSignals(False)
        if keep is not None:
            self.select_project(keep)
        self._selection_changed()

    def _failed(self, message: str) -> None:
        if message.startswith("No ledger at"):
            self.empty.setVisible(True)
            return
        self.show_error(f"The projects could not be read: {message}")

    # -- selection ------------------------------------------------------------------------------------------

    def _row_name(self, row: int) -> str:
        return str(self.model.cell(row, 0).text)

    def selected(self) -> ProjectSummary | None:
        if self.data is None:
            return None
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        name = self._row_name(rows[0].row())
        return next((p for p in self.shown if p.name == name), None)

    def select_project(self, name: str) -> None:
        for row in range(self.model.rowCount()):
            if self._row_name(row) == name:
                self.table.selectRow(row)
                return

    def editable(self) -> ProjectSummary | None:
        """The selected project, unless it is the unattributed row (no project to change)."""
        p = self.selected()
        return None if p is None or p.name == UNATTRIBUTED else p

    def _selection_changed(self) -> None:
        p = self.selected()
        rules = [] if p is None or self.data is None else [r for r in self.data.rules if r.project == p.name]
        self.rule_rows = rules
        self.rules_model.set_rows([[Cell(str(r.id), r.id, align_right=True), Cell(RULE_LABELS.get(r.kind, r.kind)),
                                    Cell(r.pattern, tooltip=r.pattern)] for r in rules])
        fit_columns(self.rules_table, stretch=2)
        if p is None:
            self.detail_title.setText("Select a project to set its client, rename it or edit its rules.")
            self.rules_note.setText("")
        elif p.name == UNATTRIBUTED:
            self.detail_title.setText("<b>(unattributed)</b>: spend no rule or folder gives a project. Add a rule "
                                      "to a project to claim it.")
            self.rules_note.setText("")
        else:
            self.detail_title.setText(f"<b>{p.name}</b>" + ("" if p.stored else " (named after its repository "
                                                              "folder)"))
            self.rules_note.setText("No rules: its spend comes from its repository folder." if not rules else
                                    f"{len(rules)} rule{'s' if len(rules) != 1 else ''}; they apply to past spend "
                                    "too.")
            self.client_edit.setEditText(p.client or "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.editable() is not None
        for w in (self.client_edit, self.set_client_button, self.rename_button, self.add_rule_button):
            w.setEnabled(has)
        self.remove_rule_button.setEnabled(has and bool(self.rules_table.selectionModel().selectedRows()))

    # -- writes ---------------------------------------------------------------------------------------------

    def _write(self, fn: Callable[[sqlite3.Connection], T], done: Callable[[T], None], what: str,
               select: str | None = None) -> None:
        db = self.services.paths.db

        def finished(result: T) -> None:
            self._select_after = select
            done(result)
            before = self._request
            self.services.data_changed.emit()  # the window re-reads the page shown (this one) and marks the rest
            if self._request == before:
                self.refresh()  # not in a window (or not shown there): re-read anyway, the rules changed

        self.run(lambda: write(db, fn), finished, lambda m: self.show_error(f"{what}: {m}"))

    def save_client(self) -> None:
        p = self.editable()
        if p is None:
            return
        client = " ".join(self.client_edit.currentText().split()) or None
        name = p.name
        self._write(lambda conn: set_client(conn, name, client),
                    lambda _r: self.show_info(f"{name}: client {client!r}." if client else f"{name}: no client."),
                    "The client could not be set", select=name)

    def ask_text(self, title: str, label: str, text: str) -> str | None:
        """Ask for a line of text (tests replace this)."""
        value, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, text)
        return str(value) if ok else None

    def rename_selected(self) -> None:
        p = self.editable()
        if p is None:
            return
        new = self.ask_text("Rename project", f"New name for {p.name}:", p.name)
        if new is None or not new.strip() or new.strip() == p.name:
            return
        old, new = p.name, " ".join(new.split())

        def done(added: int) -> None:
            extra = (f" {added} folder rule{'s were' if added != 1 else ' was'} added so its usage follows the "
                     "new name.") if added else ""
            self.show_info(f"Renamed {old} to {new}.{extra}")

        self._write(lambda conn: rename_project(conn, old, new), done, "The project could not be renamed",
                    select=new)

    def open_rule_dialog(self) -> AddRuleDialog | None:
        p = self.editable()
        if p is None:
            return None
        dialog = self.rule_dialog = AddRuleDialog(p.name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        name = p.name
        dialog.rule_chosen.connect(lambda kind, pattern: self.add_rule(name, kind, pattern))
        dialog.open()
        return dialog

    def add_rule(self, project: str, kind: str, pattern: str) -> None:
        self._write(lambda conn: add_rule(conn, project, kind, pattern),
                    lambda rid: self.show_info(f"Added rule #{rid} for {project}; it applies to past spend too."),
                    "The rule could not be added", select=project)

    def remove_selected_rule(self) -> None:
        p = self.editable()
        rows = self.rules_table.selectionModel().selectedRows()
        if p is None or not rows or rows[0].row() >= len(self.rule_rows):
            return
        rule = self.rule_rows[rows[0].row()]
        name = p.name
        self._write(lambda conn: remove_rule(conn, rule.id),
                    lambda r: self.show_info(f"Removed rule #{r.id} ({r.pattern}) of {r.project}."),
                    "The rule could not be removed", select=name)
