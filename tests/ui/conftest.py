"""Qt tests run offscreen: set before any QApplication exists (pytest-qt creates it lazily)."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from tracker.ui.pyside_fix import pin_singletons

pin_singletons()  # PySide6 6.12 on Python 3.11 leaks references to None/True/False (see the module)

import pytest  # noqa: E402 (after the platform is set)

from tracker.ui.gc_guard import MainThreadCollector  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _garbage_cycles_freed_on_the_gui_thread(qapp: object) -> object:
    """As in the app (tracker.ui.gc_guard): with pages reading on worker threads, a collection started on a worker
    could free a Qt object there and crash the test run."""
    collector = MainThreadCollector()
    yield collector
    collector.stop()
