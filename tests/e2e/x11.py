"""A real X desktop for end-to-end runs: Xvfb, a real system-tray host (trayer), and X tools to look and click.

Used by tests/e2e/test_tray_e2e.py and bench/app_startup.py. Everything here is bounded in time and every
process it starts is killed by :meth:`XSession.close` (also after a failure): the test and the benchmark use it
as a context manager.

How the tray icon is found: trayer embeds each icon (XEmbed) as a child of its ``panel`` window, so an icon of
process P is a window under the panel whose ``_NET_WM_PID`` is P (Qt sets it on every window it creates).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")
TOOLS = ("Xvfb", "trayer", "xwininfo", "xprop", "xdotool", "import")
SCREEN = (1280, 800)
_TREE_LINE = re.compile(
    r'^(\s*)(0x[0-9a-f]+) (?:"(.*)"|\(has no name\)): (?:\((.*?)\))?'  # indent, id, name, (instance class)
    r"\s+(\d+)x(\d+)\+(-?\d+)\+(-?\d+)\s+\+(-?\d+)\+(-?\d+)"  # size, relative and absolute position
)


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


@dataclass(frozen=True)
class Win:
    """A window from ``xwininfo -tree``: id, name, class, size and absolute position, depth in the tree."""

    wid: str
    name: str
    wm_class: str
    width: int
    height: int
    x: int
    y: int
    depth: int

    @property
    def center(self) -> tuple[int, int]:
        return self.x + self.width // 2, self.y + self.height // 2


def wait_for(what: str, fn: Callable[[], T | None], timeout: float, interval: float = 0.05) -> T:
    """Poll ``fn`` until it returns something truthy; TimeoutError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _free_display() -> int:
    """A display number with neither an X lock file nor a socket (Xvfb itself refuses a taken one)."""
    for n in range(90, 190):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :189")


class XSession:
    """Xvfb on a free display, optionally trayer on it; X tools run against it."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self.display = ""

    # -- life cycle ------------------------------------------------------------------------------------------

    def start(self, *, tray: bool = True, timeout: float = 10.0) -> XSession:
        for _attempt in range(3):  # another X server may take the number between the check and the start
            n = _free_display()
            xvfb = self.spawn(f"xvfb-{n}", ["Xvfb", f":{n}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                                            "-nolisten", "tcp", "-noreset"])
            self.display = f":{n}"
            wait_for("Xvfb", lambda: xvfb.poll() is not None or self._x_ready(), timeout)  # noqa: B023
            if xvfb.poll() is None:
                break
        else:
            raise RuntimeError(f"Xvfb would not start; see the xvfb-*.log files in {self.log_dir}")
        if tray:
            self.spawn("trayer", ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                                  "--height", "32", "--SetDockType", "true", "--transparent", "false",
                                  "--tint", "0x303030", "--expand", "true"])
            wait_for("trayer's panel window", self.panel, timeout)
        return self

    def _x_ready(self) -> bool:
        r = subprocess.run(["xwininfo", "-root"], env=self.env(), capture_output=True, timeout=5, check=False)
        return r.returncode == 0

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ, DISPLAY=self.display)
        env.pop("WAYLAND_DISPLAY", None)
        env.update(extra)
        return env

    def spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a process on this display, its output in ``<log_dir>/<name>.log``; killed by :meth:`close`."""
        log = (self.log_dir / f"{name}.log").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen(argv, env=env or self.env(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        """Stop everything started here, newest first: TERM, then KILL after a second."""
        for proc in reversed(self.procs):
            stop_process(proc)
        for log in self._logs:
            log.close()
        self.procs.clear()
        self._logs.clear()

    def __enter__(self) -> XSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- looking ---------------------------------------------------------------------------------------------

    def run(self, *argv: str, timeout: float = 10.0) -> str:
        r = subprocess.run(list(argv), env=self.env(), capture_output=True, timeout=timeout, check=False)
        return r.stdout.decode(errors="replace")

    def tree(self, root: str = "-root") -> list[Win]:
        args = ["xwininfo", "-tree", "-root"] if root == "-root" else ["xwininfo", "-tree", "-id", root]
        return list(_parse_tree(self.run(*args)))

    def panel(self) -> Win | None:
        """trayer's panel window (where the icons are embedded)."""
        return next((w for w in self.tree() if w.name == "panel" and "trayer" in w.wm_class), None)

    def pid_of(self, wid: str) -> int | None:
        m = re.search(r"= (\d+)", self.run("xprop", "-id", wid, "_NET_WM_PID"))
        return int(m.group(1)) if m else None

    def tray_icon(self, pid: int) -> Win | None:
        """The tray icon of process ``pid`` once trayer has embedded it (and it has a size), else None."""
        panel = self.panel()
        if panel is None:
            return None
        for w in self.tree(panel.wid):
            if w.depth > 0 and w.width > 1 and w.height > 1 and w.wm_class and self.pid_of(w.wid) == pid:
                return w
        return None

    def top_windows(self, pid: int) -> list[Win]:
        """Mapped top-level windows of ``pid`` bigger than a pixel (menus, dialogs, the main window)."""
        out = []
        for w in self.tree():
            if w.depth != 0 or w.width <= 1 or w.height <= 1 or w.x < -10 or w.y < -10:
                continue
            if self.pid_of(w.wid) == pid and self._viewable(w.wid):
                out.append(w)
        return out

    def window_type(self, wid: str) -> str:
        """The first _NET_WM_WINDOW_TYPE without its prefix: NORMAL, POPUP_MENU, TOOLTIP, ... ('' if none)."""
        m = re.search(r"_NET_WM_WINDOW_TYPE_(\w+)", self.run("xprop", "-id", wid, "_NET_WM_WINDOW_TYPE"))
        return m.group(1) if m else ""

    def _viewable(self, wid: str) -> bool:
        return "IsViewable" in self.run("xwininfo", "-id", wid)

    # -- doing -----------------------------------------------------------------------------------------------

    def click(self, x: int, y: int, button: int = 1) -> None:
        self.run("xdotool", "mousemove", "--sync", str(x), str(y))
        self.run("xdotool", "click", str(button))

    def keys(self, *keys: str, delay_ms: int = 150) -> None:
        """Press keys one by one, as real key events (XTEST) to the focused window.

        The delay: a menu drops keys that arrive before its keyboard grab is in place.
        """
        for key in keys:
            time.sleep(delay_ms / 1000)
            self.run("xdotool", "key", key)

    def focus(self, win: Win) -> None:
        """Give ``win`` the keyboard focus. There is no window manager on Xvfb: set the focus directly."""
        self.run("xdotool", "mousemove", "--sync", str(win.center[0]), str(win.center[1]))
        self.run("xdotool", "windowfocus", "--sync", str(int(win.wid, 16)), timeout=5)

    def park_pointer(self, win: Win) -> None:
        """Move the pointer to the window's bottom-left corner, where no hover effect changes the picture."""
        self.run("xdotool", "mousemove", "--sync", str(win.x + 4), str(win.y + win.height - 4))

    def screenshot(self, dest: Path, window: str = "root") -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.run("import", "-window", window, str(dest), timeout=20)
        if not dest.exists():
            raise RuntimeError(f"import -window {window} wrote no {dest}")
        return dest

    def signature(self, win: Win) -> str:
        """A fingerprint of what a window shows (to see whether a key or click changed anything)."""
        r = subprocess.run(["import", "-window", win.wid, "-depth", "8", "gray:-"], env=self.env(),
                           capture_output=True, timeout=20, check=False)
        if not r.stdout:
            raise RuntimeError(f"import could not grab window {win.wid}: {r.stderr.decode(errors='replace')}")
        return hashlib.sha256(r.stdout).hexdigest()


def app_env(session: XSession, root: Path) -> dict[str, str]:
    """Token Ledger's environment on this display: a home under ``root`` with no agent logs and no keychain, so
    nothing of the real user's leaks in (the app's syncs find nothing to import and no keys)."""
    home = root / "home"
    runtime = root / "runtime"
    for d in (home / ".claude" / "projects", home / ".codex" / "sessions", runtime):
        d.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = session.env(
        HOME=str(home), CLAUDE_CONFIG_DIR=str(home / ".claude"), CODEX_HOME=str(home / ".codex"),
        XDG_RUNTIME_DIR=str(runtime), XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local"),
        QT_QPA_PLATFORM="xcb", TZ="UTC", TOKEN_LEDGER_LOG="INFO",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", PYTHONDONTWRITEBYTECODE="1",
    )
    for name in ("TOKEN_LEDGER_DATA_DIR", "DBUS_SESSION_BUS_ADDRESS", "WAYLAND_DISPLAY", "QT_QPA_PLATFORMTHEME"):
        env.pop(name, None)
    return env


def _parse_tree(text: str) -> Iterator[Win]:
    """Windows below the queried one, with absolute positions; depth 0 = its direct children."""
    base_indent: int | None = None
    for line in text.splitlines():
        m = _TREE_LINE.match(line)
        if not m:
            continue
        indent = len(m.group(1))
        if base_indent is None:
            base_indent = indent
        classes = re.findall(r'"([^"]*)"', m.group(4) or "")
        yield Win(m.group(2), m.group(3) or "", " ".join(classes), int(m.group(5)), int(m.group(6)),
                  int(m.group(9)), int(m.group(10)), (indent - base_indent) // 3)


def stop_process(proc: subprocess.Popen[bytes], grace: float = 1.0) -> None:
    """TERM the process group, then KILL it; reap the process."""
    if proc.poll() is None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    else:
        proc.wait()
