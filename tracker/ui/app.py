"""The desktop app's composition root: ``run_app(paths)`` builds everything in order and runs the event loop.

Start-up, in order (each step logged):

1. paths (given), logging (rotating files in the platform log folder, keys redacted: ``tracker.logs``) and the
   crash handler (uncaught exceptions are logged; once Qt runs, a dialog says so: ``tracker.ui.crash``);
2. settings (``settings.json``; a corrupt file gives defaults and is kept aside);
3. QApplication;
4. single instance: a second launch for the same data folder tells the first to show its window and exits 0.
   This comes before the ledger so that a second launch never touches the database;
5. services, then the store: created or migrated on the sync worker before anything reads it (a copy is kept
   before migrating); a newer or unusable database stops the app with a clear message;
6. tray (or, with no system tray, the window with a notice saying why), then the scheduler.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import sys
from collections.abc import Callable, Mapping

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QSystemTrayIcon

from tracker import __version__
from tracker.logs import setup_logging
from tracker.paths import APP_ID, AppPaths
from tracker.settings import load_settings
from tracker.sync.autostart import apply_autostart
from tracker.sync.scheduler import Scheduler
from tracker.sync.services import AppServices
from tracker.ui.crash import CrashReporter
from tracker.ui.gc_guard import MainThreadCollector
from tracker.ui.icons import app_icon
from tracker.ui.pyside_fix import pin_singletons
from tracker.ui.tray import Tray

log = logging.getLogger("tracker.app")

NO_TRAY_NOTICE = (
    "No system tray was found (on GNOME, the AppIndicator extension adds one): Token Ledger runs in this window; "
    "closing it quits."
)
SHOW_MESSAGE = b"show\n"
CONNECT_TIMEOUT_MS = 1000


# Unix socket paths are limited (108 bytes on Linux, 104 on macOS, counting the final NUL)
SOCKET_PATH_MAX = 100


def server_name(paths: AppPaths, env: Mapping[str, str] | None = None, system: str | None = None) -> str:
    """One name per user and data folder: two ledgers may run side by side, one ledger only once.

    On Unix it is a full socket path: in ``$XDG_RUNTIME_DIR`` (private to the user) when set, else the temp
    folder; if that path would pass the socket length limit (a deep ``$TMPDIR``, macOS's long one), ``/tmp``. A
    name Qt cannot listen on would let a second launch start a second app.
    """
    env = os.environ if env is None else env
    system = sys.platform if system is None else system
    digest = hashlib.sha256(os.fsencode(os.path.abspath(paths.data_dir))).hexdigest()[:12]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    name = f"{APP_ID}-{uid}-{digest}"
    if system == "win32":
        return name  # a named pipe: no path and no length trouble
    for folder in (env.get("XDG_RUNTIME_DIR", ""), env.get("TMPDIR", "") or "/tmp", "/tmp"):
        if folder and os.path.isabs(folder):
            path = os.path.join(folder, name)
            if len(os.fsencode(path)) <= SOCKET_PATH_MAX:
                return path
    return os.path.join("/tmp", name)


def tell_running_instance(name: str) -> bool:
    """Ask an instance listening on ``name`` to show its window; False when none answers."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    sock.write(SHOW_MESSAGE)
    sock.waitForBytesWritten(CONNECT_TIMEOUT_MS)
    sock.disconnectFromServer()
    if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        sock.waitForDisconnected(CONNECT_TIMEOUT_MS)
    return True


class SingleInstance(QObject):
    """Listens for later launches. Signals: show_requested() — another launch asked for the window."""

    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)
        self.name = name
        self._clients: list[QLocalSocket] = []  # connections from later launches, until they hang up

    def listen(self) -> bool:
        """Listen on the name; a stale socket left by a crash (nobody answered on it) is removed first."""
        if self.server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    def _accept(self) -> None:
        while (sock := self.server.nextPendingConnection()) is not None:
            self._clients.append(sock)
            sock.readyRead.connect(self._read)
            sock.disconnected.connect(self._drop)
        self._read()  # the message may have arrived with the connection

    def _read(self) -> None:
        for sock in self._clients:
            if sock.bytesAvailable() and bytes(sock.readAll().data()).startswith(b"show"):
                self.show_requested.emit()

    def _drop(self) -> None:
        for sock in [s for s in self._clients if s.state() == QLocalSocket.LocalSocketState.UnconnectedState]:
            self._read()  # anything that came with the disconnect
            self._clients.remove(sock)
            sock.deleteLater()

    def close(self) -> None:
        for sock in self._clients:
            sock.readyRead.disconnect(self._read)
            sock.disconnected.disconnect(self._drop)
            sock.abort()
            sock.deleteLater()
        self._clients.clear()
        self.server.close()


class App(QObject):
    """Owns the services, the tray, the scheduler and the (lazily created) dashboard window."""

    def __init__(
        self,
        qapp: QApplication,
        services: AppServices,
        *,
        window_factory: Callable[[AppServices], QMainWindow] | None = None,
        tray_available: bool | None = None,
        scheduler: Scheduler | None = None,
    ) -> None:
        super().__init__()
        self.qapp = qapp
        self.services = services
        self._window_factory = window_factory or _main_window
        self.window: QMainWindow | None = None
        self.has_tray = QSystemTrayIcon.isSystemTrayAvailable() if tray_available is None else tray_available
        self.tray = Tray(services, self) if self.has_tray else None
        self.scheduler = scheduler or Scheduler(services, parent=self)
        if self.tray is not None:
            self.tray.open_requested.connect(self.show_window)
            self.tray.quit_requested.connect(self.quit)
        self._autostart = services.settings.launch_at_login
        services.settings_changed.connect(self._settings_changed)

    def _settings_changed(self) -> None:
        """Apply "launch at login" when it changes (the file is written on a worker)."""
        enabled = self.services.settings.launch_at_login
        if enabled == self._autostart:
            return
        self._autostart = enabled
        self._apply_autostart(enabled)

    def _apply_autostart(self, enabled: bool) -> None:
        data_dir = self.services.paths.data_dir
        self.services.run(lambda: apply_autostart(enabled, data_dir), self._autostart_done,
                          lambda m: self.services.message.emit(f"Launch at login could not be changed: {m}"))

    def _autostart_done(self, problem: str | None) -> None:
        if problem:
            self.services.message.emit(problem)

    def start(self) -> None:
        """Open (and if needed migrate) the ledger on a worker; then show the tray and start syncing."""
        log.info("opening the ledger at %s", self.services.paths.db)
        self.services.open_ledger(lambda _none: self._ledger_ready(), self._ledger_failed)
        if self._autostart:
            # the login entry names this installation: written again at each start, so an installation that was
            # moved or upgraded (a new path) still starts at login
            self._apply_autostart(True)
        if self.tray is not None:
            self.tray.show()
            log.info("tray icon shown")
        else:
            log.info("no system tray: running in the window")
            self.qapp.setQuitOnLastWindowClosed(True)
            window = self.show_window()
            notice = getattr(window, "show_notice", None)
            if callable(notice):
                notice(NO_TRAY_NOTICE)

    def _ledger_ready(self) -> None:
        log.info("ledger ready; starting the scheduler")
        self.scheduler.start()
        if self.tray is not None:
            self.tray.refresh()

    def _ledger_failed(self, message: str) -> None:
        log.error("the ledger cannot be used: %s", message)
        box = QMessageBox(QMessageBox.Icon.Critical, "Token Ledger", f"The ledger cannot be opened.\n\n{message}")
        box.setObjectName("ledger_error")
        box.finished.connect(lambda _r: self.qapp.exit(2))
        box.open()
        self.error_box = box

    def show_window(self) -> QMainWindow:
        """Create the dashboard on first use; show it, raise it and give it focus."""
        if self.window is None:
            self.window = self._window_factory(self.services)
            self.window.setWindowIcon(app_icon())
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()
        return self.window

    def quit(self) -> None:
        self.qapp.quit()

    def shutdown(self) -> None:
        self.scheduler.stop()
        if self.tray is not None:
            self.tray.icon.hide()
        self.services.close(wait=True)


def _main_window(services: AppServices) -> QMainWindow:
    from tracker.ui.window import MainWindow  # F's dashboard; imported when first opened

    window: QMainWindow = MainWindow(services)
    return window


def run_app(paths: AppPaths) -> int:
    """Run the desktop app until Quit; the exit status (0, or 2 when the ledger cannot be used)."""
    pin_singletons()  # before any Qt call: PySide6 6.12 on Python 3.11 (see tracker/ui/pyside_fix.py)
    log_file = setup_logging()
    crash = CrashReporter(log_file)
    crash.install()
    log.info("Token Ledger %s starting (Python %s, %s)", __version__, platform.python_version(), platform.platform())
    log.info("log file: %s", log_file or "none: logging to the terminal only")
    log.info("data folder: %s", paths.data_dir)
    settings = load_settings(paths.data_dir)
    log.info("settings loaded")
    qapp = QApplication.instance() or QApplication([])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Token Ledger")
    qapp.setDesktopFileName(APP_ID)
    qapp.setWindowIcon(app_icon())
    qapp.setQuitOnLastWindowClosed(False)  # closing the window keeps the tray app running
    collector = MainThreadCollector(qapp)  # garbage cycles are freed on this thread, never on a worker's
    crash.attach()
    name = server_name(paths)
    if tell_running_instance(name):
        log.info("already running: asked it to show its window")
        collector.stop()
        crash.uninstall()
        return 0
    instance = SingleInstance(name)
    if not instance.listen():
        log.warning("single-instance server could not listen: %s", instance.server.errorString())
    services = AppServices(paths, settings)
    app = App(qapp, services)
    instance.show_requested.connect(app.show_window)
    app.start()
    try:
        return int(qapp.exec())
    finally:
        app.shutdown()
        instance.close()
        collector.stop()
        crash.detach()
        crash.uninstall()
        log.info("Token Ledger stopped")
