"""Launch at login: the command line (tracker.launch) and the login entries of tracker.sync.autostart.

Linux for real: the autostart file is written under a temporary XDG_CONFIG_HOME, checked with
``desktop-file-validate``, and its Exec line is run by GLib's own launcher (``gio launch``), which must hand the
program exactly the arguments we meant. macOS and Windows through their writers, pointed at a temporary home and
a fake registry key, and by content: the plist read back with plistlib, the Run command split back with the
rules of the Microsoft C runtime.
"""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.launch import _gui_interpreter, desktop_exec, launch_args
from tracker.paths import APP_ID
from tracker.sync import autostart
from tracker.sync.autostart import (
    RUN_VALUE,
    apply_autostart,
    autostart_enabled,
    autostart_file,
    desktop_entry,
    launch_agent,
    run_command,
)

WEIRD = ["a b", 'q"uote', "d$ollar", "back\\slash", "tick`", "per%cent", "", "semi;colon", "(par)", "~t",
         "tab\there", "'s'", "ü é", "*?#|&<>", "new\nline", "=x", "trailing\\", "50% off"]


# --- the command line -----------------------------------------------------------------------------------------


def test_launch_args_run_this_interpreter_with_the_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert launch_args() == [sys.executable, "-m", "tracker"]
    assert launch_args(tmp_path / "d") == [sys.executable, "-m", "tracker", "--data-dir", str(tmp_path / "d")]
    monkeypatch.chdir(tmp_path)
    assert launch_args(Path("rel"))[-1] == str(tmp_path / "rel")  # a login item starts in another folder


def test_a_bundle_runs_its_own_executable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/Token Ledger/token-ledger")
    assert launch_args() == ["/opt/Token Ledger/token-ledger"]
    assert launch_args(tmp_path) == ["/opt/Token Ledger/token-ledger", "--data-dir", str(tmp_path)]


def test_windows_prefers_pythonw_for_no_console_window(tmp_path: Path) -> None:
    python = tmp_path / "python.exe"
    assert _gui_interpreter(str(python), "win32") == str(python)  # no pythonw.exe beside it
    (tmp_path / "pythonw.exe").touch()
    assert _gui_interpreter(str(python), "win32") == str(tmp_path / "pythonw.exe")
    assert _gui_interpreter(str(python), "linux") == str(python)


def test_desktop_exec_quotes_only_what_needs_it() -> None:
    assert desktop_exec(["/usr/bin/python3", "-m", "tracker"]) == "/usr/bin/python3 -m tracker"
    assert desktop_exec(["/p", "--data-dir", "/home/a b/x"]) == '/p --data-dir "/home/a b/x"'
    assert desktop_exec(["/p", "50%"]) == "/p 50%%"
    assert desktop_exec(["/p", ""]) == '/p ""'
    # quoting escapes $ with one backslash, then the string escape doubles that backslash
    assert desktop_exec(["/p", "a$b"]) == '/p "a\\\\$b"'
    with pytest.raises(ValueError):
        desktop_exec([])


def parse_exec(value: str) -> list[str]:
    """Split an Exec= value the way the Desktop Entry spec reads it: string escapes, %%, then the quoting rule."""
    unescaped = _unescape_string(value)
    args: list[str] = []
    current: list[str] | None = None
    i = 0
    while i < len(unescaped):
        ch = unescaped[i]
        if ch == " ":
            if current is not None:
                args.append("".join(current))
            current = None
        elif ch == '"':
            current = [] if current is None else current
            i += 1
            while unescaped[i] != '"':
                if unescaped[i] in "\\%":  # an escaped character, or %% (GLib reads it in quotes too)
                    i += 1
                current.append(unescaped[i])
                i += 1
        elif ch == "%":
            assert unescaped[i + 1] == "%", "a field code where a literal % was meant"
            current = [*(current or []), "%"]
            i += 1
        else:
            current = [*(current or []), ch]
        i += 1
    if current is not None:
        args.append("".join(current))
    return args


def _unescape_string(value: str) -> str:
    table = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            out.append(table[value[i + 1]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def test_desktop_exec_round_trips_awkward_arguments() -> None:
    args = ["/opt/a b/python", *WEIRD]
    assert parse_exec(desktop_exec(args)) == args


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n")), min_size=1))
def test_desktop_exec_round_trips_any_text(args: list[str]) -> None:
    assert parse_exec(desktop_exec(args)) == args


needs_gio = pytest.mark.skipif(shutil.which("gio") is None, reason="needs GLib's `gio` tool (Debian libglib2.0-bin)")


@needs_gio
def test_glib_launches_the_entry_with_exactly_our_arguments(tmp_path: Path) -> None:
    """GLib (what GNOME and most session managers use to run autostart entries) reads our quoting back."""
    out = tmp_path / "argv.json"
    script = "import json, sys; open(sys.argv[1], 'w').write(json.dumps(sys.argv[2:]))"
    entry = tmp_path / "entry.desktop"
    entry.write_text(desktop_entry([sys.executable, "-c", script, str(out), *WEIRD]), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBUS_")}
    subprocess.run(["gio", "launch", str(entry)], env=env, check=True, timeout=60, capture_output=True)
    deadline = time.monotonic() + 60  # the child runs detached: wait for its file (a bound, not a timing check)
    while not (out.exists() and out.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert json.loads(out.read_text()) == WEIRD


# --- Linux: XDG autostart -------------------------------------------------------------------------------------


def test_the_autostart_file_lives_in_xdg_config_home(tmp_path: Path) -> None:
    assert autostart_file({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "autostart" / f"{APP_ID}.desktop"
    assert autostart_file({"HOME": str(tmp_path)}) == tmp_path / ".config" / "autostart" / f"{APP_ID}.desktop"
    assert autostart_file({"XDG_CONFIG_HOME": " ", "HOME": str(tmp_path)}).parent == tmp_path / ".config/autostart"


def test_linux_entry_is_written_valid_and_removed(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    data = tmp_path / "my data $HOME"
    assert not autostart_enabled(env, "linux")
    assert apply_autostart(True, data, env, "linux") is None
    path = autostart_file(env)
    assert autostart_enabled(env, "linux")
    fields = dict(line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines()[1:])
    assert parse_exec(fields["Exec"]) == [sys.executable, "-m", "tracker", "--data-dir", str(data)]
    assert fields["Icon"] == APP_ID and fields["Type"] == "Application" and fields["Terminal"] == "false"
    assert fields["TryExec"] == sys.executable
    assert "KeepAlive" not in fields and "Hidden" not in fields
    _validate(path)
    assert apply_autostart(False, data, env, "linux") is None
    assert not path.exists() and not autostart_enabled(env, "linux")
    assert apply_autostart(False, data, env, "linux") is None  # off twice is fine
    assert list(path.parent.iterdir()) == []  # no temporary file left behind


def _validate(path: Path) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("needs desktop-file-validate (Debian desktop-file-utils; .ci/run installs it)")
    done = subprocess.run([tool, str(path)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def test_a_linux_entry_that_cannot_be_written_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "autostart").write_text("a file where the folder should be")
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    message = apply_autostart(True, None, env, "linux")
    assert message is not None and message.startswith("Launch at login was not turned on: ")
    assert str(autostart_file(env)) in message and "change the setting again" in message

    def denied(path: Path, content: bytes) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(autostart, "write_file", denied)
    message = apply_autostart(True, None, {"XDG_CONFIG_HOME": str(tmp_path / "ok")}, "linux")
    assert message is not None and "(permission denied)" in message and "belongs to you" in message


# --- macOS: a LaunchAgent -------------------------------------------------------------------------------------


def test_launch_agent_content() -> None:
    args = ["/Applications/Token Ledger.app/Contents/MacOS/token-ledger", "--data-dir", "/Users/a/x y"]
    agent = plistlib.loads(launch_agent(args))
    assert agent == {
        "Label": APP_ID,
        "ProgramArguments": args,
        "RunAtLoad": True,
        "ProcessType": "Interactive",
        "LimitLoadToSessionType": "Aqua",
    }  # and no KeepAlive: Quit stays quit


def test_macos_agent_is_written_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "Library" / "LaunchAgents" / f"{APP_ID}.plist"
    assert apply_autostart(True, tmp_path / "data", platform="darwin", home=tmp_path) is None
    assert plistlib.loads(path.read_bytes())["ProgramArguments"] == launch_args(tmp_path / "data")
    assert autostart_enabled(platform="darwin", home=tmp_path)
    assert apply_autostart(False, platform="darwin", home=tmp_path) is None
    assert not path.exists() and not autostart_enabled(platform="darwin", home=tmp_path)


# --- Windows: the Run registry value --------------------------------------------------------------------------


class FakeRunKey:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, command: str) -> None:
        self.values[name] = command

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def split_windows(command: str) -> list[str]:
    """Split a command line with the Microsoft C runtime's rules (what a Python or PyInstaller exe does)."""
    args: list[str] = []
    current: list[str] = []
    quoted = started = False
    i = 0
    while i < len(command):
        ch = command[i]
        if ch == "\\":
            n = len(command[i:]) - len(command[i:].lstrip("\\"))
            i += n
            if i < len(command) and command[i] == '"':
                current += "\\" * (n // 2)
                if n % 2:
                    current.append('"')
                    i += 1
            else:
                current += "\\" * n
            started = True
            continue
        if ch == '"':
            quoted, started = not quoted, True
        elif ch in " \t" and not quoted:
            if started:
                args.append("".join(current))
            current, started = [], False
        else:
            current.append(ch)
            started = True
        i += 1
    if started:
        args.append("".join(current))
    return args


def test_run_command_round_trips() -> None:
    args = [r"C:\Program Files\Token Ledger\token-ledger.exe", "--data-dir", "C:\\Users\\A B\\data\\"]
    command = run_command(args)
    assert command == '"C:\\Program Files\\Token Ledger\\token-ledger.exe" --data-dir "C:\\Users\\A B\\data\\\\"'
    assert split_windows(command) == args
    awkward = [r"C:\Python\pythonw.exe", "-m", "tracker", 'say "hi"', "", "a\\\\b", "tab\tx", "x\\"]
    assert split_windows(run_command(awkward)) == awkward


def test_windows_value_is_set_and_removed() -> None:
    key = FakeRunKey()
    assert RUN_VALUE == APP_ID
    assert apply_autostart(True, Path("C:/data"), platform="win32", run_key=key) is None
    assert split_windows(key.values[APP_ID]) == launch_args(Path("C:/data"))
    assert autostart_enabled(platform="win32", run_key=key)
    assert apply_autostart(False, platform="win32", run_key=key) is None
    assert key.values == {} and not autostart_enabled(platform="win32", run_key=key)


def test_a_registry_refusal_is_a_message() -> None:
    class Refusing(FakeRunKey):
        def set(self, name: str, command: str) -> None:
            raise PermissionError(5, "Access is denied")

    message = apply_autostart(True, platform="win32", run_key=Refusing())
    assert message is not None and message.startswith("Launch at login was not turned on: ")
    assert r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run" in message


def test_the_real_registry_is_windows_only() -> None:
    if sys.platform == "win32":
        pytest.skip("on Windows this would touch the real registry")
    message = apply_autostart(True, platform="win32")
    assert message is not None and "exists only on Windows" in message


def test_a_windows_bundle_starts_its_windowed_executable(tmp_path: Path) -> None:
    from tracker.launch import _windowed_bundle_exe

    console = tmp_path / "token-ledger.exe"
    console.write_bytes(b"")
    assert _windowed_bundle_exe(str(console), "win32") == str(console)  # no windowed twin: the console one
    (tmp_path / "Token Ledger.exe").write_bytes(b"")
    assert _windowed_bundle_exe(str(console), "win32") == str(tmp_path / "Token Ledger.exe")
    assert _windowed_bundle_exe(str(console), "linux") == str(console)
