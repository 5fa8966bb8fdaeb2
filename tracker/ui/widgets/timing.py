"""Timing a user action inside the app, from the input that asked for it to the widget painted with the answer.

Issue 4 sets "switching the dashboard range ≤ 100 ms". Measured from outside (bench/app_startup.py) a screen grab
takes tens of milliseconds, too coarse for that target; this measures it where it happens. :class:`PaintTimer`
takes the time at :meth:`start` (the button's click), is told when the answer has been handed to the widget
(:meth:`data_ready`), and stops when the widget's next paint has *finished*: it paints the widget itself inside the
event filter, so the figure includes the drawing. Each result goes to the ``tracker.timing`` log at INFO (the log
file) and stays in :attr:`PaintTimer.last` for tests. It costs nothing when no action is being timed.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import QWidget

log = logging.getLogger("tracker.timing")


class PaintTimer(QObject):
    """Times ``start(label)`` → the next completed paint of ``widget`` after ``data_ready()``."""

    def __init__(self, widget: QWidget, what: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.widget = widget
        self.what = what
        self.last: dict[str, float | str] | None = None
        self._label = ""
        self._started = 0.0
        self._ready = 0.0
        self._armed = False

    def start(self, label: str) -> None:
        """The user asked for ``label`` now (a newer start replaces an unfinished one)."""
        self._disarm()
        self._label = label
        self._started = time.perf_counter()
        self._ready = 0.0

    def data_ready(self) -> None:
        """The answer has been given to the widget; its next paint ends the measurement."""
        if not self._started or self._armed:
            return
        self._ready = time.perf_counter()
        self._armed = True
        self.widget.installEventFilter(self)
        self.widget.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # Qt calls it by this name
        if not (self._armed and watched is self.widget and event.type() == QEvent.Type.Paint):
            return False
        self._disarm()
        QCoreApplication.sendEvent(watched, event)  # paint now, so the time below includes the drawing
        self._finish()
        return True  # painted above: Qt must not paint it twice

    def _finish(self) -> None:
        done = time.perf_counter()
        total, read = (done - self._started) * 1000, (self._ready - self._started) * 1000
        self.last = {"label": self._label, "total_ms": round(total, 1), "answer_ms": round(read, 1),
                     "paint_ms": round(total - read, 1)}
        self._started = 0.0
        log.info("%s %s: painted %.1f ms after the click (chart ready after %.1f ms, drawing %.1f ms)",
                 self.what, self._label, total, read, total - read)

    def _disarm(self) -> None:
        if self._armed:
            self.widget.removeEventFilter(self)
            self._armed = False
