"""Python's cyclic garbage collection, on the GUI thread only.

Python collects reference cycles in whichever thread happens to allocate when a generation's threshold is passed.
The app runs reads and syncs on worker threads, so a collection could start there and free a cycle that holds a
Qt object (a widget, a pixmap, a closure over a page): Qt objects must be destroyed on the thread they live in, and
such a collection crashed the interpreter ("Fatal Python error: Segmentation fault", "Garbage-collecting" on a
worker's stack; seen in the Qt tests). :class:`MainThreadCollector` turns automatic collection off and collects on
the GUI thread instead, on a timer, by the same rule Python follows (a generation is collected once its count
passes its threshold). Reference counting still frees everything that is not in a cycle at once, on any thread.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1000  # the check's pace while garbage is being made (the check itself takes microseconds)
MAX_INTERVAL_MS = 8000  # when idle, checks slow down to this (idle CPU: no needless wake-ups)


class MainThreadCollector(QObject):
    """Collects garbage cycles on the thread it lives in (the GUI thread); :meth:`stop` gives collection back to
    Python (as it was before)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.threshold = gc.get_threshold()
        self.collections = 0
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        """Check; while nothing needs collecting the pace halves, down to one check per MAX_INTERVAL_MS."""
        if self.check() is None:
            self._timer.setInterval(min(self._timer.interval() * 2, max(MAX_INTERVAL_MS, self.interval_ms)))
        else:
            self._timer.setInterval(self.interval_ms)

    def check(self) -> int | None:
        """Collect the oldest generation whose count passed its threshold; returns it (None: nothing to do)."""
        counts = gc.get_count()
        generation = None
        for g in range(3):
            if counts[g] > self.threshold[g]:
                generation = g
            else:
                break
        if generation is not None:
            gc.collect(generation)
            self.collections += 1
        return generation

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()
