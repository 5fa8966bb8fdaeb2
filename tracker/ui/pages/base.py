"""What every page of the dashboard window shares: its services, a notice for errors, refresh when stale."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from tracker.analytics.periods import local_date
from tracker.ui.widgets.notice import Notice

if TYPE_CHECKING:
    from tracker.sync.services import AppServices

T = TypeVar("T")


def guarded(owner: QObject, fn: Callable[..., Any] | None) -> Callable[..., None] | None:
    """``fn``, skipped once ``owner`` (a widget) is deleted: a worker's answer may arrive after its page is gone."""
    if fn is None:
        return None

    def call(*args: Any) -> None:
        if shiboken6.isValid(owner):
            fn(*args)

    return call


def read(owner: QObject, services: AppServices, fn: Callable[[sqlite3.Connection], T],
         on_done: Callable[[T], None], on_error: Callable[[str], None] | None = None) -> None:
    """``services.read`` with callbacks that only run while ``owner`` exists."""
    services.read(fn, guarded(owner, on_done), guarded(owner, on_error))  # type: ignore[arg-type]


def run(owner: QObject, services: AppServices, fn: Callable[[], T], on_done: Callable[[T], None],
        on_error: Callable[[str], None] | None = None) -> None:
    """``services.run`` with callbacks that only run while ``owner`` exists."""
    services.run(fn, guarded(owner, on_done), guarded(owner, on_error))  # type: ignore[arg-type]


class Page(QWidget):
    """A page: ``refresh()`` re-reads its data through ``services.read`` (the window calls it when the page is
    shown after the ledger or the settings changed). Errors show in the page's notice, in plain words."""

    title = ""

    def __init__(self, services: AppServices, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setObjectName(object_name)
        self.stale = True
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(18, 14, 18, 14)
        self._layout.setSpacing(10)
        heading = QLabel(self.title, self)
        heading.setObjectName("page_title")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        heading.setFont(font)
        self._layout.addWidget(heading)
        self.notice = Notice(f"{object_name}_notice", self)
        self._layout.addWidget(self.notice)

    def refresh(self) -> None:
        self.stale = False

    def now_ms(self) -> int:
        """The services' clock (tests freeze it), else the wall clock."""
        now = getattr(self.services, "now_ms", None)
        return int(now()) if callable(now) else int(time.time() * 1000)

    def today(self) -> date:
        """Today in the dashboard's zone."""
        return local_date(self.now_ms(), self.services.tz())

    def read(self, fn: Callable[[sqlite3.Connection], T], on_done: Callable[[T], None],
             on_error: Callable[[str], None] | None = None) -> None:
        read(self, self.services, fn, on_done, on_error)

    def run(self, fn: Callable[[], T], on_done: Callable[[T], None],
            on_error: Callable[[str], None] | None = None) -> None:
        run(self, self.services, fn, on_done, on_error)

    def show_error(self, text: str) -> None:
        self.notice.show_message(text, "error")

    def show_info(self, text: str, kind: str = "info") -> None:
        self.notice.show_message(text, kind)
