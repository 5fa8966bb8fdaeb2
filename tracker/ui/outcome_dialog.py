"""The "Log outcome…" dialog (tray menu, Outcomes page): log what the spend bought, or edit an outcome.

Only the title is required. The project is pre-filled with the project of the most recent agent activity (as
``token-ledger outcome add`` guesses it); the time defaults to now, in the dashboard's zone. Fields are checked on
the GUI thread (no I/O) with the same parsers as the CLI (:mod:`tracker.outcomes`), so amounts are exact; the
write runs on a worker through ``tracker.outcomes.add_outcome`` / ``update_outcome``. Errors show inside the
dialog in plain words. After a save the services emit ``data_changed``, so every figure re-reads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, QDateTime, QTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from tracker.analytics.dashboard import (
    OUTCOME_KIND_LABELS,
    OUTCOME_STATUS_LABELS,
    OutcomeData,
    OutcomeLine,
    outcome_data,
)
from tracker.outcomes import KINDS, STATUSES, OutcomeFields, parse_hours, parse_usd
from tracker.ui.pages.base import read, run

if TYPE_CHECKING:
    from tracker.sync.services import AppServices

PICO_PER_USD = 10**12


def save_outcome(db: Path, outcome_id: int | None, f: OutcomeFields) -> int:
    """Add (``outcome_id`` None) or update an outcome in one transaction; returns its id. Runs on a worker."""
    from tracker.outcomes import add_outcome, update_outcome
    from tracker.store import open_store

    with open_store(db) as store, store.transaction() as conn:
        if outcome_id is None:
            return add_outcome(conn, f)
        update_outcome(conn, outcome_id, f)
        return outcome_id


def remove_outcome(db: Path, outcome_id: int) -> None:
    """Delete an outcome (``tracker.outcomes.delete_outcome``) in one transaction. Runs on a worker."""
    from tracker.outcomes import delete_outcome
    from tracker.store import open_store

    with open_store(db) as store, store.transaction() as conn:
        delete_outcome(conn, outcome_id)


def dollars_text(pico: int | None) -> str:
    """An exact amount for the value field: "250", "99.5", "0.000001"; "" for none."""
    if pico is None:
        return ""
    whole, rest = divmod(pico, PICO_PER_USD)
    return str(whole) if rest == 0 else f"{whole}.{rest:012d}".rstrip("0")


class OutcomeDialog(QDialog):
    """Log a new outcome (``outcome`` None) or edit one. Signals: saved(int) — the outcome's id, once written."""

    saved = Signal(int)

    def __init__(self, services: AppServices, outcome: OutcomeLine | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.outcome = outcome
        self.projects: list[str] | None = None  # known projects, once read
        self.guessed_project: str | None = None
        self.saving = False
        self.setObjectName("outcome_dialog")
        self.setWindowTitle("Log outcome" if outcome is None else f"Edit outcome #{outcome.id}")
        self.setMinimumWidth(460)
        self._build()
        self._fill(outcome)
        read(self, services, lambda conn: outcome_data(conn, services.tz()), self._got_data, lambda _m: None)

    # -- building -----------------------------------------------------------------------------------------------

    def _field(self, name: str, placeholder: str = "") -> QLineEdit:
        w = QLineEdit(self)
        w.setObjectName(name)
        if placeholder:
            w.setPlaceholderText(placeholder)
        return w

    def _build(self) -> None:
        self.title_edit = self._field("outcome_title", "What was done, e.g. “Shipped CSV export”")
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("outcome_kind")
        for k in KINDS:
            self.kind_combo.addItem(OUTCOME_KIND_LABELS[k], k)
        self.when_edit = QDateTimeEdit(self)
        self.when_edit.setObjectName("outcome_when")
        self.when_edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.when_edit.setCalendarPopup(True)
        self.project_combo = QComboBox(self)
        self.project_combo.setObjectName("outcome_project")
        self.project_combo.setEditable(True)
        line = self.project_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText("No project")
        self.project_hint = QLabel("", self)
        self.project_hint.setObjectName("outcome_project_hint")
        self.project_hint.setStyleSheet("color: #666666;")
        self.value_edit = self._field("outcome_value", "e.g. 250")
        self.hours_edit = self._field("outcome_hours", "e.g. 1.5")
        money = QHBoxLayout()
        money.addWidget(QLabel("$", self))
        money.addWidget(self.value_edit, 1)
        money.addSpacing(12)
        money.addWidget(QLabel("and/or hours saved", self))
        money.addWidget(self.hours_edit, 1)
        self.status_combo = QComboBox(self)
        self.status_combo.setObjectName("outcome_status")
        for s in STATUSES:
            self.status_combo.addItem(OUTCOME_STATUS_LABELS[s], s)
        self.link_edit = self._field("outcome_link", "https://… (optional)")
        self.notes_edit = self._field("outcome_notes", "optional")
        self.tags_edit = self._field("outcome_tags", "comma-separated, optional")
        form = QFormLayout()
        form.addRow("Title", self.title_edit)
        form.addRow("Kind", self.kind_combo)
        form.addRow("When", self.when_edit)
        form.addRow("Project", self.project_combo)
        form.addRow("", self.project_hint)
        form.addRow("Value", money)
        form.addRow("Status", self.status_combo)
        form.addRow("Link", self.link_edit)
        form.addRow("Notes", self.notes_edit)
        form.addRow("Tags", self.tags_edit)
        self.error_label = QLabel("", self)
        self.error_label.setObjectName("outcome_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #b3261e;")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("outcome_save")
        self.save_button.setDefault(True)  # Enter saves
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        hint = QLabel("Hours saved are valued at the hourly rate (hourly_rate_usd in settings.json); redone and "
                      "abandoned outcomes add no value.", self)
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666666;")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    def _fill(self, o: OutcomeLine | None) -> None:
        self.kind_combo.setCurrentIndex(KINDS.index("other"))  # as `outcome add` without --kind
        at_ms = self._now_ms() if o is None else o.at_ms
        local = datetime.fromtimestamp(at_ms / 1000, self.services.tz())
        self.when_edit.setDateTime(QDateTime(QDate(local.year, local.month, local.day),
                                             QTime(local.hour, local.minute)))
        self._initial_when = self.when_edit.dateTime()
        if o is None:
            return
        self.title_edit.setText(o.title)
        self.kind_combo.setCurrentIndex(KINDS.index(o.kind) if o.kind in KINDS else len(KINDS) - 1)
        self.project_combo.setCurrentText(o.project or "")
        self.value_edit.setText(dollars_text(o.value_pusd))
        self.hours_edit.setText(o.hours_saved or "")
        self.status_combo.setCurrentIndex(STATUSES.index(o.status) if o.status in STATUSES else 0)
        self.link_edit.setText(o.link or "")
        self.notes_edit.setText(o.notes or "")
        self.tags_edit.setText(", ".join(o.tags))

    def _now_ms(self) -> int:
        now = getattr(self.services, "now_ms", None)
        return int(now()) if callable(now) else int(datetime.now().timestamp() * 1000)

    def _got_data(self, data: OutcomeData) -> None:
        typed = self.project_combo.currentText()
        self.projects = data.projects
        self.guessed_project = data.guessed_project
        self.project_combo.clear()
        self.project_combo.addItems(data.projects)
        if self.outcome is not None or typed:
            self.project_combo.setCurrentText(typed)  # the outcome's own, or what the user already typed
        elif data.guessed_project:
            self.project_combo.setCurrentText(data.guessed_project)
            self.project_hint.setText("Guessed from your most recent agent activity.")
        else:
            self.project_combo.setCurrentText("")
            self.project_hint.setText("No activity to guess the project from yet.")

    # -- saving -------------------------------------------------------------------------------------------------

    def fields(self) -> OutcomeFields:
        """The form as an add or an edit; ValueError in plain words when a field cannot be used (no I/O)."""
        o = self.outcome
        title = " ".join(self.title_edit.text().split())
        if not title:
            raise ValueError("Give the outcome a title: say what was done, e.g. “Shipped CSV export”.")
        f = OutcomeFields(title=title, kind=str(self.kind_combo.currentData()),
                          status=str(self.status_combo.currentData()))
        if o is None or self.when_edit.dateTime() != self._initial_when:
            qdt = self.when_edit.dateTime()
            naive = datetime.combine(qdt.date().toPython(), qdt.time().toPython())  # type: ignore[arg-type]
            f.at_ms = int(naive.replace(tzinfo=self.services.tz()).timestamp() * 1000)
        value, hours = self.value_edit.text().strip(), self.hours_edit.text().strip()
        if value:
            try:
                f.value_pusd = parse_usd(value, "value")
            except ValueError:
                raise ValueError(f"The value {value!r} is not an amount of dollars: write e.g. 250 or 99.50.") from None
        elif o is not None and o.value_pusd is not None:
            f.clear.add("value")
        if hours:
            try:
                f.hours_saved = parse_hours(hours)
            except ValueError:
                raise ValueError(f"Hours saved {hours!r} is not a number of hours (0 or more): write e.g. 1.5."
                                 ) from None
        elif o is not None and o.hours_saved is not None:
            f.clear.add("hours")
        self._project(f)
        for name, edit in (("link", self.link_edit), ("notes", self.notes_edit)):
            text = edit.text().strip()
            if text or (o is not None and getattr(o, name)):
                setattr(f, name, text)  # "" on an edit clears it
        tags = [t.strip() for t in self.tags_edit.text().split(",") if t.strip()]
        if tags or (o is not None and o.tags):
            f.tags = tags
        return f

    def _project(self, f: OutcomeFields) -> None:
        name = " ".join(self.project_combo.currentText().split())
        if not name:
            if self.outcome is not None and self.outcome.project is not None:
                f.clear.add("project")
            return
        if self.projects is not None and name not in self.projects:
            raise ValueError(f"There is no project called {name!r}. Pick one from the list: projects are your "
                             "agents' repository folders, or those named by rules (`token-ledger rule add`).")
        f.project = name

    def accept(self) -> None:
        """Check the form and save it on a worker; the dialog closes once the outcome is written."""
        if self.saving:
            return
        try:
            f = self.fields()
        except ValueError as e:
            self.show_error(str(e))
            return
        self.saving = True
        self.save_button.setEnabled(False)
        self.error_label.hide()
        db, oid = self.services.paths.db, None if self.outcome is None else self.outcome.id
        run(self, self.services, lambda: save_outcome(db, oid, f), self._saved, self._failed)

    def _saved(self, outcome_id: int) -> None:
        self.saving = False
        self.saved.emit(outcome_id)
        self.services.data_changed.emit()  # every page, the tray and the charts re-read
        super().accept()

    def _failed(self, message: str) -> None:
        self.saving = False
        self.save_button.setEnabled(True)
        self.show_error(f"The outcome could not be saved: {message}")

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()
