"""End to end: the real app under Xvfb with a real system-tray host (Debian's trayer), driven like a person would.

1. the harness proves itself on a tiny Qt tray app of its own (the icon is found once embedded; its menu opens
   with a right click and an entry is chosen from the keyboard);
2. the real app (``python -m tracker --data-dir <demo ledger>``): the icon is embedded in trayer; a right click
   opens the tray menu; "Open dashboard" is chosen; the dashboard opens; the chart's range is switched; every
   page is shown; a second launch exits at once and raises the window; Quit from the tray menu ends the app.

Screenshots go to the test's tmp dir, and also to ``$TOKEN_LEDGER_SCREENSHOTS`` when set (docs/screenshots/ is
made that way). Skipped, with the reason, when Xvfb, trayer, xdotool, x11-utils or imagemagick are missing
(``.ci/run`` installs them). Every wait is bounded, and every process is killed at the end, also on failure.

Menu entries are chosen with the keyboard, not by clicking at a guessed height: a Qt menu skips its disabled
entries (today's and this month's figures) when moving with Down, so "Open dashboard" is the third entry
reached (after "Log outcome…" and "Sync now"), whatever the font and style make the rows' heights. Inside the
dashboard, ranges and pages are switched from the keyboard too (see ``PAGE_KEYS`` and ``RANGE_KEYS``); every
switch must change what the window shows, and the pointer is parked where no hover effect can change it meanwhile.
"Log outcome…" from the tray opens its dialog, which is photographed and closed with Escape.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.x11 import Win, XSession, app_env, missing_tools, stop_process, wait_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())} (see .ci/run)"),
]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS_ENV = "TOKEN_LEDGER_SCREENSHOTS"
# Keyboard paths through the tray menu (tracker/ui/tray.py builds it): disabled figure lines are skipped.
MENU_OPEN_DASHBOARD = ("Down", "Down", "Down", "Return")  # Log outcome…, Sync now, Open dashboard
MENU_LOG_OUTCOME = ("Down", "Return")
MENU_QUIT = ("Up", "Return")  # Up from no selection goes to the last entry: Quit
# Keyboard paths through the dashboard (tracker/ui/window.py, pages/overview.py), as a person without a mouse
# would go: the sidebar (a list, focused when the window opens) moves between pages with the arrow keys; Tab
# goes on to the range buttons; in their exclusive group Space chooses one and Right chooses the next.
PAGE_KEYS = (("usage", "Down"), ("outcomes", "Down"), ("reports", "Down"), ("accounts", "Down"), ("settings", "Down"),
             ("network", "Down"), ("overview", "Home"))
RANGE_KEYS = (("7d", ("Tab", "space")), ("30d", ("Right",)), ("90d", ("Right",)), ("1y", ("Right",)))

DUMMY_TRAY = textwrap.dedent(
    """
    import sys
    from PySide6.QtGui import QColor, QIcon, QPixmap
    from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon
    app = QApplication(sys.argv)
    app.setQuitOnLastWindowClosed(False)
    pixmap = QPixmap(22, 22)
    pixmap.fill(QColor("#2a7"))
    tray = QSystemTrayIcon(QIcon(pixmap))
    menu = QMenu()
    menu.addAction("Today: $1.00").setEnabled(False)
    menu.addSeparator()
    menu.addAction("Log outcome…").triggered.connect(lambda: print("chose: log", flush=True))
    menu.addAction("Sync now").triggered.connect(lambda: print("chose: sync", flush=True))
    menu.addAction("Open dashboard").triggered.connect(lambda: print("chose: open", flush=True))
    menu.addSeparator()
    menu.addAction("Quit").triggered.connect(app.quit)
    tray.setContextMenu(menu)
    tray.show()
    sys.exit(app.exec())
    """
)


@pytest.fixture
def xsession(tmp_path: Path) -> Iterator[XSession]:
    logs = tmp_path / "logs"
    logs.mkdir()
    session = XSession(logs)
    try:
        yield session.start(tray=True)
    finally:
        session.close()


class Shots:
    """Screenshots into the tmp dir and, when $TOKEN_LEDGER_SCREENSHOTS is set, into that folder too."""

    def __init__(self, session: XSession, tmp: Path) -> None:
        self.session = session
        self.dirs = [tmp]
        if os.environ.get(SCREENSHOTS_ENV):
            self.dirs.append(Path(os.environ[SCREENSHOTS_ENV]))

    def take(self, name: str, window: Win | None = None) -> Path:
        first = self.session.screenshot(self.dirs[0] / f"{name}.png", window.wid if window else "root")
        for d in self.dirs[1:]:
            d.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(first, d / f"{name}.png")
        return first


def open_menu(session: XSession, icon: Win, pid: int, before: set[str]) -> Win:
    """Right-click the icon; the menu is the new top-level window of ``pid``."""
    session.click(*icon.center, button=3)
    return wait_for("the tray menu", lambda: next(
        (w for w in session.top_windows(pid) if w.wid not in before and session.window_type(w.wid) == "POPUP_MENU"),
        None), 5)


def settled(session: XSession, win: Win, timeout: float = 6.0) -> str:
    """Wait until the window shows the same picture twice in a row (data loads on worker threads)."""
    last = session.signature(win)

    def same() -> str | None:
        nonlocal last
        time.sleep(0.3)
        now = session.signature(win)
        same_as_before = now == last
        last = now
        return now if same_as_before else None

    return wait_for(f"window {win.wid} to stop changing", same, timeout, interval=0)


def changed(session: XSession, win: Win, before: str, what: str) -> str:
    wait_for(what, lambda: session.signature(win) != before, 4)
    return settled(session, win)


# -- 1. the harness on a tray app of its own ----------------------------------------------------------------


def test_harness_finds_an_embedded_icon_and_drives_its_menu(xsession: XSession, tmp_path: Path) -> None:
    script = tmp_path / "dummy_tray.py"
    script.write_text(DUMMY_TRAY)
    out = tmp_path / "logs" / "dummy.log"
    proc = xsession.spawn("dummy", [sys.executable, str(script)], env=app_env(xsession, tmp_path))
    try:
        icon = wait_for("the dummy's tray icon", lambda: xsession.tray_icon(proc.pid), 20)
        panel = xsession.panel()
        assert panel is not None
        assert panel.x <= icon.x < panel.x + panel.width  # inside trayer's panel: embedded
        menu = open_menu(xsession, icon, proc.pid, set())
        assert menu.height > 20
        xsession.keys(*MENU_OPEN_DASHBOARD)
        wait_for("the dummy to print its choice", lambda: "chose: open" in out.read_text(), 5)
    finally:
        stop_process(proc)


# -- 2. the real app ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tracker.demo import DemoSpec, create_demo
    from tracker.paths import AppPaths

    d = tmp_path_factory.mktemp("demo-ledger")
    create_demo(AppPaths(d), DemoSpec(months=6, seed=7))
    return d


def test_real_app_tray_dashboard_ranges_pages(xsession: XSession, tmp_path: Path, demo_dir: Path) -> None:
    env = app_env(xsession, tmp_path)
    argv = [sys.executable, "-m", "tracker", "--data-dir", str(demo_dir)]
    shots = Shots(xsession, tmp_path / "screens")
    log = tmp_path / "logs" / "app.log"
    app = xsession.spawn("app", argv, env=env, cwd=REPO)  # killed by the fixture whatever happens
    try:
        _drive(xsession, shots, app, argv, env)
    except BaseException:
        stop_process(app)
        print(f"--- app log ---\n{log.read_text(errors='replace')[-6000:]}")
        raise
    output = log.read_text(errors="replace")
    assert app.returncode == 0, output[-4000:]
    assert "Traceback" not in output, output[-4000:]


def _drive(x: XSession, shots: Shots, app: subprocess.Popen[bytes], argv: list[str], env: dict[str, str]) -> None:
    icon = wait_for("the app's tray icon to be embedded in trayer", lambda: _icon_while_alive(x, app), 25)
    shots.take("tray")

    menu = _open_menu_unobstructed(x, icon, app.pid)
    shots.take("tray-menu")
    x.keys(*MENU_OPEN_DASHBOARD)
    window = wait_for("the dashboard window", lambda: _dashboard(x, app.pid, menu), 15)
    _dismiss_balloons(x, app.pid)
    x.focus(window)
    x.park_pointer(window)
    picture = settled(x, window)
    shots.take("overview", window)

    for page, key in PAGE_KEYS:
        x.keys(key)
        picture = changed(x, window, picture, f"the {page} page after {key}")
        if page in ("outcomes", "reports"):  # reads in two steps (outcomes: table, then charts; reports: clients,
            # then the report's preview): let both land, then wait for a still picture
            time.sleep(1.5)
            picture = settled(x, window)
        if page != "overview":
            shots.take(page, window)

    for name, keys in RANGE_KEYS:
        x.keys(*keys)
        picture = changed(x, window, picture, f"the chart's range {name} after {' '.join(keys)}")
        shots.take(f"overview-{name}", window)
    shots.take("desktop")

    _log_outcome_dialog(x, shots, icon, app.pid, window)
    _second_launch_raises(x, window, argv, env)

    menu = open_menu(x, icon, app.pid, {window.wid})
    x.keys(*MENU_QUIT)
    app.wait(timeout=15)


def _log_outcome_dialog(x: XSession, shots: Shots, icon: Win, pid: int, window: Win) -> None:
    """"Log outcome…" from the tray opens the dialog (screenshot), and Escape closes it without saving."""
    open_menu(x, icon, pid, {window.wid})
    x.keys(*MENU_LOG_OUTCOME)
    dialog = wait_for("the Log outcome dialog", lambda: next(
        (w for w in x.top_windows(pid) if w.wid != window.wid and w.width > 300 and w.height > 200
         and x.window_type(w.wid) not in ("POPUP_MENU", "TOOLTIP")), None), 10)
    x.focus(dialog)
    x.park_pointer(dialog)
    settled(x, dialog)
    shots.take("log-outcome", dialog)
    x.keys("Escape")
    _wait_closed(x, dialog, pid)


def _icon_while_alive(x: XSession, app: subprocess.Popen[bytes]) -> Win | None:
    if app.poll() is not None:
        raise AssertionError(f"the app exited early with status {app.returncode}")
    return x.tray_icon(app.pid)


def _open_menu_unobstructed(x: XSession, icon: Win, pid: int) -> Win:
    """Open the tray menu; if a notification popped up over it meanwhile, close both and open the menu again."""
    for _attempt in range(3):
        _dismiss_balloons(x, pid)
        menu = open_menu(x, icon, pid, set())
        time.sleep(0.5)  # the figures fill in from a worker read; a sync's notification may come up
        if not any(x.window_type(w.wid) == "TOOLTIP" for w in x.top_windows(pid)):
            return menu
        x.keys("Escape")
        _wait_closed(x, menu, pid)
    return menu


def _wait_closed(x: XSession, win: Win, pid: int) -> None:
    wait_for(f"window {win.wid} to close", lambda: win.wid not in {w.wid for w in x.top_windows(pid)}, 3)


def _dismiss_balloons(x: XSession, pid: int) -> None:
    """Click away tray notifications (a click hides one), so they cover nothing in the screenshots."""
    for w in x.top_windows(pid):
        if x.window_type(w.wid) == "TOOLTIP":
            x.click(*w.center)


def _dashboard(x: XSession, pid: int, menu: Win) -> Win | None:
    return next((w for w in x.top_windows(pid) if w.wid != menu.wid and w.width > 400 and w.height > 300), None)


def _second_launch_raises(x: XSession, window: Win, argv: list[str], env: dict[str, str]) -> None:
    """A second launch for the same ledger exits 0 at once (it asks the running app to show its window).

    Whether the window comes forward is not checked here: with no window manager on Xvfb, "minimised" and
    "behind" do not exist. tests/ui/test_tray*.py check the show request itself.
    """
    second = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, timeout=20, check=False)
    assert second.returncode == 0, second.stdout.decode(errors="replace")[-2000:]
    assert "IsViewable" in x.run("xwininfo", "-id", window.wid)
