"""The app shell: single instance over a local socket, the window fallback without a tray, one dashboard window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Home
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from tracker.paths import APP_ID, AppPaths, resolve_paths
from tracker.settings import Settings
from tracker.sync.scheduler import Scheduler
from tracker.sync.services import AppServices
from tracker.ui.app import NO_TRAY_NOTICE, App, SingleInstance, server_name, tell_running_instance


class StandIn(QMainWindow):
    """Stands in for the dashboard (tracker.ui.window.MainWindow) in these tests."""

    def __init__(self, services: AppServices) -> None:
        super().__init__()
        self.services = services
        self.notices: list[str] = []

    def show_notice(self, text: str) -> None:
        self.notices.append(text)
        self.setCentralWidget(QLabel(text))


def test_server_name_is_per_data_folder(tmp_path: Path) -> None:
    a, b = AppPaths(tmp_path / "a"), AppPaths(tmp_path / "b")
    assert server_name(a) == server_name(AppPaths(tmp_path / "a"))
    assert server_name(a) != server_name(b)


def test_the_socket_path_fits_the_unix_limit_and_prefers_the_runtime_dir(tmp_path: Path) -> None:
    from tracker.ui.app import SOCKET_PATH_MAX

    paths = AppPaths(tmp_path / "data")
    runtime = server_name(paths, {"XDG_RUNTIME_DIR": "/run/user/1000", "TMPDIR": "/var/tmp"}, "linux")
    assert runtime.startswith(f"/run/user/1000/{APP_ID}-")
    deep = "/tmp/" + "d" * 90
    fallback = server_name(paths, {"XDG_RUNTIME_DIR": deep, "TMPDIR": deep}, "linux")  # too long: /tmp
    assert fallback.startswith(f"/tmp/{APP_ID}-") and len(fallback) <= SOCKET_PATH_MAX
    assert server_name(paths, {"TMPDIR": "/var/folders/ab/cdefghij_klmnopqrstuvwxyz0000gn/T/"}, "darwin").startswith(
        "/var/folders/")
    assert "/" not in server_name(paths, {}, "win32")  # a named pipe


@pytest.mark.parametrize("deep", [False, True], ids=["usual", "deep-temp-folder"])
def test_second_launch_asks_the_first_to_show_its_window(tmp_path: Path, qtbot: Any, deep: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    if deep:  # a socket path there would pass the Unix limit: the name falls back to a shorter folder
        folder = tmp_path / ("t" * 60) / ("u" * 60)
        folder.mkdir(parents=True)
        monkeypatch.setenv("TMPDIR", str(folder))
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    name = server_name(AppPaths(tmp_path / "data"))
    assert not tell_running_instance(name)  # nobody listening yet: this launch becomes the instance
    first = SingleInstance(name)
    try:
        assert first.listen()
        with qtbot.waitSignal(first.show_requested, timeout=5000):
            assert tell_running_instance(name)
    finally:
        first.close()
    assert not tell_running_instance(name)


def test_a_stale_socket_from_a_crash_is_taken_over(tmp_path: Path) -> None:
    name = server_name(AppPaths(tmp_path / "data"))
    crashed = SingleInstance(name)
    assert crashed.listen()
    second = SingleInstance(name)  # the name is taken; listen() removes it and takes over
    try:
        assert second.listen()
    finally:
        second.close()
        crashed.close()


def make_app(home: Home, tray: bool) -> App:
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    services = AppServices(resolve_paths(home.data), Settings(), load_key=lambda _l: "")
    scheduler = Scheduler(services, roots=[], watch_network=False)
    return App(qapp, services, window_factory=StandIn, tray_available=tray, scheduler=scheduler)


def test_without_a_tray_the_window_opens_and_says_why(home: Home, qtbot: Any) -> None:
    app = make_app(home, tray=False)
    try:
        with qtbot.waitSignal(app.services.sync_finished, timeout=20_000):
            app.start()  # opens the ledger on a worker, then the first sync runs
        window = app.window
        assert isinstance(window, StandIn) and window.isVisible()
        assert window.notices == [NO_TRAY_NOTICE]
        assert app.qapp.quitOnLastWindowClosed()  # closing this window quits
        assert app.tray is None
        assert (home.data / "ledger.sqlite3").exists()
    finally:
        app.qapp.setQuitOnLastWindowClosed(False)
        if app.window is not None:
            app.window.close()
        app.shutdown()


def test_with_a_tray_the_dashboard_opens_once_from_the_menu(home: Home, qtbot: Any) -> None:
    app = make_app(home, tray=True)
    try:
        with qtbot.waitSignal(app.services.sync_finished, timeout=20_000):
            app.start()
        assert app.window is None  # the tray app starts without a window
        assert app.tray is not None and not app.qapp.quitOnLastWindowClosed()
        app.tray.rebuild_menu()
        action = app.tray.find_action("action_open_dashboard")
        assert action is not None
        action.trigger()
        first = app.window
        assert first is not None and first.isVisible()
        first.close()  # closing the window keeps the app (and the window object) alive
        action.trigger()
        assert app.window is first and first.isVisible()
        first.close()
    finally:
        app.shutdown()


def test_display_detection() -> None:
    from tracker.cli.app import display_available

    assert not display_available({}, "linux")
    assert display_available({"DISPLAY": ":0"}, "linux")
    assert display_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not display_available({"QT_QPA_PLATFORM": "offscreen"}, "linux")  # shows nothing: tests set it
    assert not display_available({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux")
    assert display_available({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":0"}, "linux")
    assert not display_available({"DISPLAY": ""}, "freebsd")
    assert display_available({}, "darwin") and display_available({}, "win32")


def test_plain_command_without_a_display_keeps_the_cli_start_screen(home: Home) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "tracker"], capture_output=True, text=True, env=env, timeout=60,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("The desktop app needs a display (none found: $DISPLAY, $WAYLAND_DISPLAY and "
                                 "$QT_QPA_PLATFORM are unset); here is the command-line summary.\n")
    assert "Next: `token-ledger report monthly`" in out.stdout


def test_launch_at_login_writes_and_removes_the_autostart_entry(
    home: Home, qtbot: Any, monkeypatch: Any, tmp_path: Path
) -> None:
    from dataclasses import replace

    from tracker.sync.autostart import apply_autostart, autostart_file

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    entry = autostart_file()
    app = make_app(home, tray=True)
    try:
        app.services.update_settings(replace(app.services.settings, launch_at_login=True))
        qtbot.waitUntil(entry.exists, timeout=5000)
        text = entry.read_text()
        assert "Exec=" in text and "-m tracker --data-dir" in text and str(home.data) in text
        app.services.update_settings(replace(app.services.settings, launch_at_login=False))
        qtbot.waitUntil(lambda: not entry.exists(), timeout=5000)
    finally:
        app.shutdown()
    # written again at start: an entry left by an installation that has moved now starts this one
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.write_text("[Desktop Entry]\nType=Application\nName=Token Ledger\nExec=/old/place/token-ledger\n")
    services = AppServices(resolve_paths(home.data), Settings(launch_at_login=True), load_key=lambda _l: "")
    app = App(QApplication.instance(), services, window_factory=StandIn, tray_available=True,
              scheduler=Scheduler(services, roots=[], watch_network=False))
    try:
        app.start()
        qtbot.waitUntil(lambda: "/old/place" not in entry.read_text(), timeout=5000)
        assert str(home.data) in entry.read_text()
    finally:
        app.shutdown()
    # macOS: a LaunchAgent under the test's home (tests/packaging/test_autostart.py checks its content)
    assert apply_autostart(True, platform="darwin", home=home.root) is None
    assert (home.root / "Library" / "LaunchAgents" / f"{APP_ID}.plist").is_file()
