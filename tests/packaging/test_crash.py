"""The crash handler: an uncaught exception is logged (redacted) and shown in one dialog that never holds a key."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before pytest-qt creates the QApplication (as tests/ui/conftest.py)

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication

from tracker import __version__, logs
from tracker.ui.crash import CrashReporter
from tracker.ui.pyside_fix import pin_singletons

pin_singletons()  # PySide6 6.12 on Python 3.11 leaks references to None/True/False (see the module)

KEY = "sk-ant-api03-" + "Q7w8E9r0T1y2U3i4O5p6" * 4 + "-abcAA"

pytestmark = pytest.mark.qt_no_exception_capture  # the reporter, not pytest-qt, takes the exceptions here


class Emitter(QObject):
    fire = Signal()


class Harness:
    def __init__(self, log_path: Path | None) -> None:
        self.opened: list[Path] = []
        self.quits = 0
        self.emitter = Emitter()
        self.reporter = CrashReporter(log_path, open_folder=self.opened.append, quit_app=self.quit)

    def quit(self) -> None:
        self.quits += 1

    def raise_in_slot(self, exc: BaseException) -> None:
        def slot() -> None:
            raise exc

        self.emitter.fire.connect(slot)
        self.emitter.fire.emit()  # PySide6 hands the exception to sys.excepthook and goes on
        self.emitter.fire.disconnect(slot)


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: Any) -> Iterator[Harness]:
    monkeypatch.setenv(logs.LOG_DIR_ENV, str(tmp_path / "logs"))
    root_level = logging.getLogger().level
    log_path = logs.setup_logging()
    h = Harness(log_path)
    reporter = h.reporter
    reporter.install()
    reporter.attach()
    try:
        yield h
    finally:
        reporter.detach()
        reporter.uninstall()
        logs.close_logging()
        logging.getLogger().setLevel(root_level)


def test_an_exception_in_a_slot_shows_a_dialog_without_the_key(harness: Harness, qtbot: Any) -> None:
    harness.raise_in_slot(RuntimeError(f"the provider said: invalid x-api-key {KEY}"))
    dialog = harness.reporter.dialog
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.text()
    assert KEY not in text and KEY[13:30] not in text
    assert "RuntimeError: the provider said: invalid x-api-key [REDACTED]" in text
    assert str(harness.reporter.log_path) in text
    assert "Your ledger is safe" in text
    assert dialog.continue_button.isDefault()

    qtbot.mouseClick(dialog.copy_button, _left())
    copied = QGuiApplication.clipboard().text()
    assert KEY not in copied and KEY[13:30] not in copied
    assert f"Token Ledger {__version__}" in copied and "Python " in copied and "PySide6 " in copied
    assert "Traceback (most recent call last)" in copied and "[REDACTED]" in copied

    qtbot.mouseClick(dialog.folder_button, _left())
    assert harness.opened == [harness.reporter.log_path.parent]  # type: ignore[union-attr]

    logged = harness.reporter.log_path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "unhandled exception" in logged and "RuntimeError" in logged and KEY not in logged
    qtbot.mouseClick(dialog.continue_button, _left())
    assert not dialog.isVisible() and harness.quits == 0


def test_a_storm_of_exceptions_opens_one_dialog(harness: Harness, qtbot: Any) -> None:
    for i in range(50):
        harness.raise_in_slot(ValueError(f"bad row {i}"))
    dialog = harness.reporter.dialog
    assert dialog is not None
    assert dialog.more == 49 and "49 more errors happened since" in dialog.more_label.text()
    assert [w for w in qtbot_top_dialogs() if w.isVisible()] == [dialog]
    qtbot.mouseClick(dialog.continue_button, _left())

    harness.raise_in_slot(ValueError("bad row again"))  # the same place once more: logged, no new dialog
    assert harness.reporter.dialog is dialog and not dialog.isVisible()

    harness.raise_in_slot(KeyError("another place"))  # a different problem gets its own dialog
    assert harness.reporter.dialog is not dialog and harness.reporter.dialog.isVisible()  # type: ignore[union-attr]


def test_quit_asks_the_app_to_quit(harness: Harness, qtbot: Any) -> None:
    harness.raise_in_slot(OSError("disk full"))
    dialog = harness.reporter.dialog
    assert dialog is not None
    qtbot.mouseClick(dialog.quit_button, _left())
    assert harness.quits == 1 and not dialog.isVisible()


def test_an_exception_in_a_worker_thread_is_shown_on_the_gui_thread(harness: Harness, qtbot: Any) -> None:
    def work() -> None:
        raise RuntimeError(f"worker failed with {KEY}")

    worker = threading.Thread(target=work, name="sync-worker")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: harness.reporter.dialog is not None)
    dialog = harness.reporter.dialog
    assert dialog is not None
    assert "Thread: sync-worker" in dialog.details and KEY not in dialog.details
    assert KEY not in dialog.text.text()


def test_without_a_log_file_the_dialog_says_where_the_details_went(qapp: Any, qtbot: Any) -> None:
    reporter = CrashReporter(None, open_folder=lambda p: None, quit_app=lambda: None)
    reporter.attach()
    try:
        reporter.report((RuntimeError, RuntimeError(f"boom {KEY}"), None))
        dialog = reporter.dialog
        assert dialog is not None
        assert "No log file could be written" in dialog.text.text() and KEY not in dialog.text.text()
        assert not dialog.folder_button.isEnabled()
    finally:
        reporter.detach()


def test_ctrl_c_quits_without_a_dialog(harness: Harness) -> None:
    harness.reporter.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert harness.quits == 1 and harness.reporter.dialog is None


def test_hooks_are_restored(harness: Harness) -> None:
    assert sys.excepthook == harness.reporter.excepthook
    assert threading.excepthook == harness.reporter.thread_excepthook
    harness.reporter.uninstall()
    assert sys.excepthook is not harness.reporter.excepthook
    assert threading.excepthook is not harness.reporter.thread_excepthook


def qtbot_top_dialogs() -> list[Any]:
    from PySide6.QtWidgets import QApplication, QDialog

    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog)]


def _left() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_the_single_instance_name_uses_the_app_id(tmp_path: Path) -> None:
    from tracker.paths import APP_ID, AppPaths
    from tracker.ui.app import server_name

    name = server_name(AppPaths(tmp_path / "data"), system="win32")
    assert name.startswith(f"{APP_ID}-")
    assert len(name) <= len(APP_ID) + 25


def test_a_failing_dialog_does_not_loop(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.ui import crash

    calls: list[int] = []

    def broken(*args: Any) -> None:
        calls.append(1)
        raise RuntimeError("cannot build the dialog")

    monkeypatch.setattr(crash, "CrashDialog", broken)
    harness.raise_in_slot(ValueError("first"))
    harness.raise_in_slot(TypeError("second"))
    assert calls == [1] and harness.reporter.dialog is None
    logged = harness.reporter.log_path.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "the crash dialog could not be shown" in logged
