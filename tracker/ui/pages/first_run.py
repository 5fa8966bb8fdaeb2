"""The first-run panel: shown while the ledger is empty, it says which agent logs were found and offers to add
a provider key or to log an outcome (what the spend is for: the outcome dialog, as in the tray's menu)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from tracker.analytics.dashboard import LedgerState, LocalSource


class FirstRunPanel(QFrame):
    """Signals: add_key_requested() when "Add a provider key" is clicked; log_outcome_requested() for "Log an
    outcome"."""

    add_key_requested = Signal()
    log_outcome_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("first_run")
        self.setStyleSheet("#first_run { background: #fafafa; border: 1px solid #dddddd; border-radius: 8px; }")
        title = QLabel("Welcome to Token Ledger", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        title.setFont(font)
        intro = QLabel("Your ledger is empty so far. Token Ledger reads the usage your coding agents write to their "
                       "local logs and prices it; it can also fetch what providers bill you.", self)
        intro.setWordWrap(True)
        self.sources_label = QLabel(self)
        self.sources_label.setObjectName("first_run_sources")
        self.sources_label.setWordWrap(True)
        self.sources_label.setTextFormat(Qt.TextFormat.RichText)
        self.add_key = QPushButton("Add a provider key…", self)
        self.add_key.setObjectName("first_run_add_key")
        self.add_key.clicked.connect(self.add_key_requested.emit)
        self.log_outcome = QPushButton("Log an outcome…", self)
        self.log_outcome.setObjectName("first_run_log_outcome")
        self.log_outcome.setToolTip("Note what the tokens bought (a feature shipped, a bug fixed, hours saved): "
                                    "value per dollar and cost per outcome come from these.")
        self.log_outcome.clicked.connect(self.log_outcome_requested.emit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_key)
        buttons.addWidget(self.log_outcome)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(self.sources_label)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def set_state(self, state: LedgerState) -> None:
        items = "".join(f"<li>{_source_line(s)}</li>" for s in state.sources)
        found = any(s.found for s in state.sources)
        tail = ("They are being imported now; the overview appears as soon as there is usage." if found else
                "No agent log folders were found. If your logs live elsewhere, set CLAUDE_CONFIG_DIR or CODEX_HOME "
                "before starting Token Ledger.")
        self.sources_label.setText(f"<p><b>Local agent logs</b></p><ul>{items}</ul><p>{html.escape(tail)}</p>")


def _source_line(s: LocalSource) -> str:
    if s.found:
        where = ", ".join(html.escape(r) for r in s.roots_found)
        files = f"{s.files} file{'s' if s.files != 1 else ''} imported so far" if s.files else "importing"
        return f"{html.escape(s.label)}: found <code>{where}</code> ({files})"
    looked = ", ".join(html.escape(r) for r in s.roots)
    return f"{html.escape(s.label)}: not found (looked in <code>{looked}</code>)"
