"""What the app does with an exception nobody caught: log it (redacted) and say so in a dialog.

:class:`CrashReporter` replaces ``sys.excepthook`` (which PySide6 also calls for an exception escaping a slot or
an event handler) and ``threading.excepthook``. Each exception is logged with its traceback through the
redacting log handlers; then, once a QApplication exists, a :class:`CrashDialog` says what happened in plain
words, where the log file is, and offers "Copy details" (the redacted traceback, version and platform),
"Open log folder", "Continue" and "Quit".

"Continue" is the default: PySide6 abandons only the slot that raised and the event loop goes on, and every
write to the ledger is one transaction, so nothing is left half-written; quitting would also stop the tray and
the scheduled syncs for an error that may not matter. The user decides, with Quit one click away.

One dialog at a time: exceptions that arrive while it is open are logged and counted in it, and an exception
already shown (same type and place) is only logged afterwards, so a timer that fails every second never opens
a dialog per tick. No text here contains a key: everything shown or copied goes through
:func:`tracker.logs.redact`.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout

from tracker import __version__
from tracker.logs import redact

log = logging.getLogger("tracker.crash")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
_SUMMARY_CHARS = 300


def crash_details(exc_info: ExcInfo, thread_name: str | None = None) -> str:
    """The text "Copy details" puts on the clipboard: version, platform and the traceback, redacted."""
    import PySide6

    lines = [
        f"Token Ledger {__version__}",
        f"Python {platform.python_version()} on {platform.platform()}",
        f"PySide6 {PySide6.__version__}, Qt platform {QGuiApplication.platformName() or 'none'}",
        f"Thread: {thread_name or threading.current_thread().name}",
        "",
        "".join(traceback.format_exception(*exc_info)).rstrip(),
    ]
    return redact("\n".join(lines))


def summary(exc: BaseException) -> str:
    """One line for people: the exception's type and message, redacted and cut short."""
    text = redact(f"{type(exc).__name__}: {exc}".strip().rstrip(":"))
    first = text.splitlines()[0] if text else type(exc).__name__
    return first if len(first) <= _SUMMARY_CHARS else first[: _SUMMARY_CHARS - 1] + "…"


def _where(exc_info: ExcInfo) -> tuple[str, str, int]:
    """The exception's type and its innermost frame: two reports with the same place are the same problem."""
    frames = traceback.extract_tb(exc_info[2]) if exc_info[2] else []
    last = frames[-1] if frames else None
    return (exc_info[0].__qualname__, last.filename if last else "", last.lineno or 0 if last else 0)


class CrashDialog(QDialog):
    """The crash dialog. Signals: quit_requested() — the user chose Quit."""

    quit_requested = Signal()

    def __init__(
        self,
        message: str,
        details: str,
        log_path: Path | None,
        open_folder: Callable[[Path], None],
    ) -> None:
        super().__init__(None)  # top-level: it must show even when no other window is open
        self.setObjectName("crash_dialog")
        self.setWindowTitle("Token Ledger: something went wrong")
        self.details = details
        self.log_path = log_path
        self.more = 0
        self._open_folder = open_folder
        self.text = QLabel(self._text(message), self)
        self.text.setObjectName("crash_text")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.more_label = QLabel("", self)
        self.more_label.setObjectName("crash_more")
        self.more_label.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.more_label)
        layout.addWidget(self._buttons())
        self.setMinimumWidth(480)

    def _text(self, message: str) -> str:
        where = (f"The details are in the log file:\n{self.log_path}" if self.log_path
                 else "No log file could be written; the details went to the terminal (standard error).")
        return (
            f"Token Ledger ran into an error it did not expect:\n\n{message}\n\n"
            "Your ledger is safe: every change to it is saved whole or not at all. You can go on using the app; "
            "if something looks wrong, quit and start it again.\n\n"
            f"{where}\n\nTo report the problem, use Copy details: it holds the error, the app version and your "
            "platform, never your API keys."
        )

    def _buttons(self) -> QDialogButtonBox:
        box = QDialogButtonBox(self)
        self.copy_button = self._button(box, "Copy details", "crash_copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_details)
        self.folder_button = self._button(
            box, "Open log folder", "crash_open_log", QDialogButtonBox.ButtonRole.ActionRole)
        self.folder_button.clicked.connect(self.open_log_folder)
        self.folder_button.setEnabled(self.log_path is not None)
        self.quit_button = self._button(box, "Quit", "crash_quit", QDialogButtonBox.ButtonRole.DestructiveRole)
        self.quit_button.clicked.connect(self._quit)
        self.continue_button = self._button(box, "Continue", "crash_continue", QDialogButtonBox.ButtonRole.AcceptRole)
        self.continue_button.clicked.connect(self.accept)
        self.continue_button.setDefault(True)
        return box

    @staticmethod
    def _button(box: QDialogButtonBox, text: str, name: str, role: QDialogButtonBox.ButtonRole) -> QPushButton:
        button = box.addButton(text, role)
        button.setObjectName(name)
        button.setAutoDefault(False)
        return button

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_button.setText("Copied")

    def open_log_folder(self) -> None:
        if self.log_path is not None:
            self._open_folder(self.log_path.parent)

    def add_another(self) -> None:
        """One more exception arrived while this dialog is open: say so (it is in the log)."""
        self.more += 1
        self.more_label.setText(f"{self.more} more error{'s' if self.more > 1 else ''} happened since; "
                                "see the log file.")
        self.more_label.show()

    def _quit(self) -> None:
        self.quit_requested.emit()
        self.reject()


def open_in_file_manager(folder: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class _Relay(QObject):
    """Carries a report from any thread to the GUI thread. Signals: crashed(object, object) — exc_info, thread."""

    crashed = Signal(object, object)


class CrashReporter:
    """Installs the exception hooks; shows at most one :class:`CrashDialog` at a time (see the module)."""

    def __init__(
        self,
        log_path: Path | None,
        *,
        open_folder: Callable[[Path], None] = open_in_file_manager,
        quit_app: Callable[[], None] | None = None,
    ) -> None:
        self.log_path = log_path
        self.dialog: CrashDialog | None = None
        self._open_folder = open_folder
        self._quit_app = quit_app or (lambda: QApplication.exit(1))
        self._relay: _Relay | None = None
        self._shown: set[tuple[str, str, int]] = set()
        self._previous: tuple[object, object] | None = None
        self._broken = False  # the dialog itself failed once

    def install(self) -> None:
        """Take over ``sys.excepthook`` and ``threading.excepthook`` (call early; :meth:`attach` once Qt runs)."""
        if self._previous is None:
            self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous  # type: ignore[assignment]
            self._previous = None

    def attach(self) -> None:
        """From now on show the dialog (call on the GUI thread after the QApplication exists)."""
        if self._relay is None:
            self._relay = _Relay()
            self._relay.crashed.connect(self._show)  # queued when emitted from another thread

    def detach(self) -> None:
        if self._relay is not None:
            self._relay.crashed.disconnect(self._show)
            self._relay.deleteLater()
            self._relay = None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None

    def excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        self.report((exc_type, exc, tb), threading.current_thread().name)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return  # threading ignores SystemExit too
        self.report((args.exc_type, args.exc_value, args.exc_traceback),
                    args.thread.name if args.thread else None)

    def report(self, exc_info: ExcInfo, thread_name: str | None = None) -> None:
        """Log the exception (the log handlers redact it) and, with a GUI, show it."""
        try:
            if issubclass(exc_info[0], KeyboardInterrupt):
                log.warning("interrupted (Ctrl-C): quitting")
                self._quit_app()
                return
            log.critical("unhandled exception in thread %s", thread_name or "?", exc_info=exc_info)
            if self._relay is not None:
                self._relay.crashed.emit(exc_info, thread_name)
        except Exception:  # the hook must never raise: say so once on the real stderr and go on
            if sys.__stderr__ is not None:
                sys.__stderr__.write("token-ledger: the crash handler failed\n")

    def _show(self, exc_info: ExcInfo, thread_name: str | None) -> None:
        if self._broken:
            return
        try:
            self._present(exc_info, thread_name)
        except Exception:
            # an exception here would come back through the hook to this slot: log it once and show no more
            self._broken = True
            log.exception("the crash dialog could not be shown; errors are only logged from now on")

    def _present(self, exc_info: ExcInfo, thread_name: str | None) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.add_another()
            return
        where = _where(exc_info)
        if where in self._shown:
            return  # shown once already and logged again: no dialog per timer tick
        self._shown.add(where)
        if self.dialog is not None:
            self.dialog.deleteLater()  # the previous, closed one
        self.dialog = CrashDialog(summary(exc_info[1]), crash_details(exc_info, thread_name), self.log_path,
                                  self._open_folder)
        self.dialog.quit_requested.connect(self._quit_app)
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
