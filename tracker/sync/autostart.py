"""Launch at login: an XDG autostart entry (Linux), a LaunchAgent (macOS), a ``Run`` registry value (Windows).

Each platform has a pure builder (the file or the command line, from :func:`tracker.launch.launch_args`) and a
writer that takes where to write as an argument (a folder, a :class:`RunKey`), so tests run the writers for
real against a temporary folder or a fake registry. :func:`apply_autostart` picks the platform; the app calls
it on a worker when the setting changes, and shows its return value (a message for people) if something failed.

Turning it on only registers the app for the *next* login: nothing is started or loaded now (a LaunchAgent with
``RunAtLoad`` would start a second copy at once). Turning it off removes the entry and leaves the running app alone.
No Qt here.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from tracker.launch import desktop_exec, launch_args
from tracker.paths import APP_ID

# The Run value is named by the app id like every other trace of the app (keychain, socket, files): unique, and
# Windows' own startup lists show the executable's description ("Token Ledger"), not this name.
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = APP_ID

_ENTRY = """[Desktop Entry]
Type=Application
Name=Token Ledger
Comment=Track AI token spend from the tray
TryExec={try_exec}
Exec={exec}
Icon={icon}
Terminal=false
StartupNotify=false
X-GNOME-Autostart-enabled=true
"""


# --- Linux: XDG autostart -----------------------------------------------------------------------------------


def autostart_file(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/autostart/<app id>.desktop`` (``~/.config`` when unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME", "").strip() or os.path.join(env.get("HOME") or os.path.expanduser("~"),
                                                                   ".config")
    return Path(base) / "autostart" / f"{APP_ID}.desktop"


def desktop_entry(args: list[str]) -> str:
    """The autostart ``.desktop`` file that runs ``args``. ``TryExec`` makes the session skip it quietly once the
    program is gone (an uninstalled app or a deleted virtual environment) instead of failing at every login."""
    try_exec = args[0].replace("\\", "\\\\")  # a string value: only the backslash needs escaping here
    return _ENTRY.format(try_exec=try_exec, exec=desktop_exec(args), icon=APP_ID)


# --- macOS: a LaunchAgent -----------------------------------------------------------------------------------


def launch_agent_file(home: Path | None = None) -> Path:
    return (Path.home() if home is None else home) / "Library" / "LaunchAgents" / f"{APP_ID}.plist"


def launch_agent(args: list[str]) -> bytes:
    """The LaunchAgent plist (XML). No ``KeepAlive``: quitting from the tray must stay quit until the next login.
    ``LimitLoadToSessionType=Aqua`` keeps it out of SSH and background sessions, which have no menu bar."""
    agent = {
        "Label": APP_ID,
        "ProgramArguments": list(args),
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }
    return plistlib.dumps(agent, fmt=plistlib.FMT_XML)


# --- Windows: the Run registry value ------------------------------------------------------------------------


class RunKey(Protocol):
    """The values of ``HKCU\\...\\Run`` (a fake in tests; :class:`WindowsRunKey` for real)."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, command: str) -> None: ...

    def delete(self, name: str) -> None:
        """Remove the value; no error if there is none."""


def run_command(args: list[str]) -> str:
    """The command line Windows runs at login, quoted the way the C runtime splits it again."""
    return subprocess.list2cmdline(args)


class WindowsRunKey:
    """The real ``HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`` (Windows only: winreg
    is imported in the methods, and each first checks the platform, which also tells mypy where winreg exists)."""

    def get(self, name: str) -> str | None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                value, _kind = winreg.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        return str(value)

    def set(self, name: str, command: str) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, command)

    def delete(self, name: str) -> None:
        if sys.platform != "win32":
            raise OSError("the Windows registry exists only on Windows")
        import winreg

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            pass


# --- writing and removing -----------------------------------------------------------------------------------


def write_file(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` whole or not at all (a temporary file beside it, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_bytes(content)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def apply_linux(enabled: bool, args: list[str], path: Path) -> None:
    if enabled:
        write_file(path, desktop_entry(args).encode("utf-8"))
    else:
        path.unlink(missing_ok=True)


def apply_macos(enabled: bool, args: list[str], path: Path) -> None:
    if enabled:
        write_file(path, launch_agent(args))
    else:
        path.unlink(missing_ok=True)


def apply_windows(enabled: bool, args: list[str], run_key: RunKey) -> None:
    if enabled:
        run_key.set(RUN_VALUE, run_command(args))
    else:
        run_key.delete(RUN_VALUE)


def apply_autostart(enabled: bool, data_dir: Path | None = None, env: Mapping[str, str] | None = None,
                    platform: str | None = None, *, home: Path | None = None,
                    run_key: RunKey | None = None) -> str | None:
    """Register (or unregister) the app to start at login. None when done; else a message for people.

    ``home`` (macOS) and ``run_key`` (Windows) stand in for the real places in tests.
    """
    platform = sys.platform if platform is None else platform
    args = launch_args(data_dir)
    try:
        if platform == "darwin":
            where = str(launch_agent_file(home))
            apply_macos(enabled, args, launch_agent_file(home))
        elif platform == "win32":
            where = rf"HKEY_CURRENT_USER\{RUN_KEY}"
            apply_windows(enabled, args, WindowsRunKey() if run_key is None else run_key)
        else:
            where = str(autostart_file(env))
            apply_linux(enabled, args, autostart_file(env))
    except OSError as e:
        return _failure_message(enabled, where, e)
    return None


def autostart_enabled(env: Mapping[str, str] | None = None, platform: str | None = None, *,
                      home: Path | None = None, run_key: RunKey | None = None) -> bool:
    """Whether a login entry of this app exists now (whatever command it runs)."""
    platform = sys.platform if platform is None else platform
    try:
        if platform == "darwin":
            return launch_agent_file(home).is_file()
        if platform == "win32":
            return (WindowsRunKey() if run_key is None else run_key).get(RUN_VALUE) is not None
        return autostart_file(env).is_file()
    except OSError:
        return False


def _failure_message(enabled: bool, where: str, error: OSError) -> str:
    action = "turned on" if enabled else "turned off"
    if isinstance(error, PermissionError):
        fix = (f"you may not write to {where} (permission denied). Check that this folder or registry key "
               "belongs to you, then change the setting again.")
    else:
        reason = error.strerror or str(error) or type(error).__name__
        fix = f"{where} could not be changed ({reason}). Fix that, then change the setting again."
    return f"Launch at login was not {action}: {fix}"
