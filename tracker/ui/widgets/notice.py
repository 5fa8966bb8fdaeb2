"""A one-line banner inside a page or the window: errors and notices in plain words, never a pop-up."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

_STYLES = {
    "error": "background: #fdecea; color: #8c1d18; border: 1px solid #f2b8b5;",
    "info": "background: #e8f0fe; color: #1a3e8a; border: 1px solid #aecbfa;",
    "ok": "background: #e6f4ea; color: #0d5223; border: 1px solid #a8dab5;",
}


class Notice(QFrame):
    """A coloured banner with a message and a close button; hidden until :meth:`show_message`."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.label = QLabel(self)
        self.label.setObjectName(f"{object_name}_text")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide this message")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = "info"
        self.hide()

    def show_message(self, text: str, kind: str = "error") -> None:
        self.kind = kind
        self.setStyleSheet(f"#{self.objectName()} {{ {_STYLES.get(kind, _STYLES['info'])} border-radius: 4px; }}"
                           f" #{self.objectName()} QLabel {{ border: none; background: transparent; }}")
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.isVisible() or not self.isHidden() else ""
