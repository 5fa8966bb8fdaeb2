"""The accounts page: provider accounts (add, test, remove; keys in the OS keychain) and the local sources with
their folders, what was found and the last import. Results and errors show in the page, in plain words."""

from __future__ import annotations

import os
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QWidget,
)

from tracker.analytics.dashboard import LocalSource, local_sources
from tracker.ui.pages import account_jobs as jobs
from tracker.ui.pages.base import Page, run
from tracker.ui.widgets.format import when
from tracker.ui.widgets.table import Cell, RowsModel, fit_columns, make_table

if TYPE_CHECKING:
    import sqlite3

    from tracker.cli.accounts_db import Account
    from tracker.sync.services import AppServices


class AddAccountDialog(QDialog):
    """Provider, name, API address and key (a password field); "Check and save" probes the key on a worker and
    saves it only when the provider accepts it. The key never leaves this dialog except to the job."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        from tracker.providers import PROVIDERS

        super().__init__(parent)
        self.services = services
        self.result_message = ""
        self.setObjectName("add_account_dialog")
        self.setWindowTitle("Add a provider account")
        self.setMinimumWidth(480)
        self.provider = QComboBox(self)
        self.provider.setObjectName("add_provider")
        for info in PROVIDERS.values():
            self.provider.addItem(info.label, info.name)
        self.name = QLineEdit(self)
        self.name.setObjectName("add_name")
        self.name.setPlaceholderText("e.g. work")
        self.base_url = QLineEdit(self)
        self.base_url.setObjectName("add_base_url")
        self.key = QLineEdit(self)
        self.key.setObjectName("add_key")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #555555;")
        self.status = QLabel(self)
        self.status.setObjectName("add_status")
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.save = self.buttons.addButton("Check and save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save.setObjectName("add_save")
        self.save.setDefault(True)
        self.buttons.accepted.connect(self.check_and_save)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Provider", self.provider)
        form.addRow("Name", self.name)
        form.addRow("API address", self.base_url)
        form.addRow("Key", self.key)
        form.addRow(self.hint)
        form.addRow(self.status)
        form.addRow(self.buttons)
        self.provider.currentIndexChanged.connect(self._provider_changed)
        self._provider_changed()

    def _provider_changed(self) -> None:
        from tracker.providers import PROVIDERS

        info = PROVIDERS[self.provider.currentData()]
        self.base_url.setPlaceholderText(f"default: {info.default_base_url}")
        self.hint.setText(f"{info.label} needs {info.key_hint}. The key is checked with the provider, then kept in "
                          "your OS keychain; the ledger never holds it.")

    def check_and_save(self) -> None:
        try:
            new = jobs.check_new_account(self.provider.currentData(), self.name.text(), self.base_url.text())
        except ValueError as e:
            self._say(str(e), error=True)
            return
        key = self.key.text()
        if not key.strip():
            self._say("Paste the key first.", error=True)
            return
        new = jobs.NewAccount(new.provider, new.label, new.base_url, self.services.settings.backfill_days)
        self.save.setEnabled(False)
        self._say("Checking the key with the provider…", error=False)
        db = self.services.paths.db
        run(self, self.services, lambda: jobs.add_account(db, new, key), self._done, self._failed)

    def _done(self, result: jobs.JobResult) -> None:
        self.save.setEnabled(True)
        if result.ok:
            self.key.clear()
            self.result_message = result.message
            self.accept()
            return
        self._say(_with_reads(result), error=True)

    def _failed(self, message: str) -> None:
        self.save.setEnabled(True)
        self._say(f"The account was not added: {message}", error=True)

    def _say(self, text: str, *, error: bool) -> None:
        self.status.setStyleSheet("color: #b3261e;" if error else "color: #1a3e8a;")
        self.status.setText(text)


def _with_reads(result: jobs.JobResult) -> str:
    text = result.message
    if result.can_read:
        text += f"\nCan read: {', '.join(result.can_read)}."
    if result.cannot_read:
        text += f"\nCannot read: {', '.join(result.cannot_read)}."
    return text


class AccountsPage(Page):
    title = "Accounts"

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(services, "page_accounts", parent)
        self.accounts: list[Account] = []
        self._layout.addWidget(_section("Provider accounts"))
        buttons = QHBoxLayout()
        self.add_button = self._button("account_add", "Add…", self.open_add_dialog, buttons)
        self.test_button = self._button("account_test", "Test", self.test_selected, buttons)
        self.remove_button = self._button("account_remove", "Remove…", self.remove_selected, buttons)
        buttons.addStretch(1)
        self._layout.addLayout(buttons)
        self.accounts_model = RowsModel(["Provider", "Name", "API address", "Last sync", "State"], self)
        self.accounts_table = make_table(self.accounts_model, "accounts_table", self)
        self._layout.addWidget(self.accounts_table, 3)
        self.accounts_empty = QLabel("No provider accounts yet. Add one to fetch what OpenAI, Anthropic, OpenRouter, "
                                     "DeepSeek or Moonshot report about your usage and bills.", self)
        self.accounts_empty.setObjectName("accounts_empty")
        self.accounts_empty.setWordWrap(True)
        self._layout.addWidget(self.accounts_empty)
        self._layout.addWidget(_section("Local sources"))
        self.sources_model = RowsModel(["Source", "Folders", "Files found", "Records", "Last import"], self)
        self.sources_table = make_table(self.sources_model, "sources_table", self)
        self._layout.addWidget(self.sources_table, 2)
        self.accounts_table.selectionModel().selectionChanged.connect(self._selection_changed)
        self._selection_changed()

    def _button(self, name: str, text: str, slot: object, row: QHBoxLayout) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.clicked.connect(slot)
        row.addWidget(b)
        return b

    def _selection_changed(self) -> None:
        chosen = self.selected_label() is not None
        self.test_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)

    # -- data ----------------------------------------------------------------------------------------------------

    def refresh(self) -> None:
        super().refresh()
        env, home = dict(os.environ), Path.home()

        def read(conn: sqlite3.Connection) -> tuple[list[Account], list[LocalSource]]:
            from tracker.cli.accounts_db import list_accounts

            return list_accounts(conn), local_sources(conn, env, home)

        self.read(read, lambda r: self._loaded(*r), self._failed)

    def _loaded(self, accounts: list[Account], sources: list[LocalSource]) -> None:
        from tracker.providers import PROVIDERS

        tz = self.services.tz()
        self.accounts = accounts
        rows = []
        for a in accounts:
            info = PROVIDERS.get(a.provider)
            rows.append([Cell(info.label if info else a.provider), Cell(a.label), Cell(a.base_url or "default"),
                         Cell(when(a.last_sync_ms, tz), a.last_sync_ms or 0),
                         Cell(a.state(), problem=a.last_status == "error", tooltip=a.state())])
        self.accounts_model.set_rows(rows)
        self.accounts_table.setVisible(bool(accounts))
        self.accounts_empty.setVisible(not accounts)
        fit_columns(self.accounts_table, 260, stretch=4)
        self.sources_model.set_rows([_source_row(s, tz) for s in sources])
        fit_columns(self.sources_table, 520, stretch=1)
        self._selection_changed()

    def _failed(self, message: str) -> None:
        self.show_error(f"The accounts could not be read: {message}")

    def selected_label(self) -> str | None:
        rows = self.accounts_table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.accounts_model.cell(rows[0].row(), 1).text

    # -- actions -------------------------------------------------------------------------------------------------

    def open_add_dialog(self) -> AddAccountDialog:
        """Open the add dialog (not modal: the page stays usable); the result shows in the page."""
        dialog = AddAccountDialog(self.services, self)
        dialog.accepted.connect(lambda: self._added(dialog.result_message))
        dialog.open()
        return dialog

    def _added(self, message: str) -> None:
        self.show_info(message, "ok")
        self.refresh()

    def test_selected(self) -> None:
        label = self.selected_label()
        if label is None:
            return
        self.show_info(f"Testing {label}…")
        db = self.services.paths.db
        self.run(lambda: jobs.check_account(db, label), self._tested,
                          lambda m: self.show_error(f"{label} could not be tested: {m}"))

    def _tested(self, result: jobs.JobResult) -> None:
        if result.ok:
            self.show_info(_with_reads(result), "ok")
        else:
            self.show_error(_with_reads(result))

    def remove_selected(self) -> None:
        label = self.selected_label()
        if label is None:
            return
        question = (f"Remove the account {label!r}? Its key is deleted from the OS keychain and it is no longer "
                    "synced. What it already reported stays in your ledger and reports.")
        if not self.confirm(question):
            return
        db = self.services.paths.db
        self.run(lambda: jobs.remove_account(db, label), self._removed,
                          lambda m: self.show_error(f"{label} was not removed: {m}"))

    def confirm(self, question: str) -> bool:
        """Ask before removing (tests replace this)."""
        answer = QMessageBox.question(self, "Remove account", question,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _removed(self, result: jobs.JobResult) -> None:
        if result.ok:
            self.show_info(result.message, "ok")
        else:
            self.show_error(result.message)
        self.refresh()


def _section(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.15)
    label.setFont(font)
    return label


def _source_row(s: LocalSource, tz: tzinfo) -> list[Cell]:
    folders = ", ".join(s.roots_found) if s.found else f"not found (looked in {', '.join(s.roots)})"
    return [Cell(s.label), Cell(folders, problem=False, tooltip="\n".join(s.roots)),
            Cell(f"{s.files:,}", s.files, align_right=True), Cell(f"{s.records:,}", s.records, align_right=True),
            Cell(when(s.last_read_ms, tz), s.last_read_ms or 0)]
