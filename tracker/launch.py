"""How to start Token Ledger again: the command line for a menu entry, a login item or a restart.

:func:`launch_args` gives the argument list (a PyInstaller bundle runs its own executable; otherwise this
interpreter runs ``-m tracker``), :func:`desktop_exec` turns it into an ``Exec=`` value quoted per the freedesktop
Desktop Entry spec. Qt-free and import-light: the CLI and the app both use it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Characters that force an Exec= argument into double quotes (Desktop Entry spec, "The Exec key").
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
# Inside double quotes these four take a backslash (quoting rule).
_QUOTE_ESCAPED = frozenset('"`$\\')
# The string-value escapes, applied to the whole value after quoting (spec: "applied before the quoting rule"
# when reading, so after it when writing).
_STRING_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))


def launch_args(data_dir: Path | None = None) -> list[str]:
    """The argument list that starts the app: the bundle's executable, or this interpreter with ``-m tracker``.

    ``data_dir`` (made absolute: a login item starts in another folder) is passed as ``--data-dir``.
    """
    if is_frozen():
        args = [_windowed_bundle_exe(sys.executable, sys.platform)]
    else:
        args = [_gui_interpreter(sys.executable, sys.platform), "-m", "tracker"]
    if data_dir is not None:
        args += ["--data-dir", os.path.abspath(os.path.expanduser(os.fspath(data_dir)))]
    return args


def _windowed_bundle_exe(executable: str, platform: str) -> str:
    """On Windows the bundle has a console ``token-ledger.exe`` (the command line) and a windowed
    ``Token Ledger.exe`` beside it (packaging/pyinstaller): menus and login items start the windowed one."""
    if platform != "win32":
        return executable
    windowed = os.path.join(os.path.dirname(executable), "Token Ledger.exe")
    return windowed if os.path.exists(windowed) else executable


def _gui_interpreter(executable: str, platform: str) -> str:
    """On Windows, ``pythonw.exe`` beside ``python.exe`` when there is one: no console window at login."""
    if platform != "win32":
        return executable
    folder, name = os.path.split(executable)
    if name.lower() != "python.exe":
        return executable
    windowed = os.path.join(folder, "pythonw.exe")
    return windowed if os.path.exists(windowed) else executable


def desktop_exec(args: list[str]) -> str:
    """``args`` as the value of a desktop entry's ``Exec=`` key (to write after ``Exec=`` as it is).

    Arguments with reserved characters are double-quoted, with ``"`` ````` ``$`` ``\\`` backslash-escaped inside
    the quotes; then the string-value escapes apply (a backslash is written twice, so a literal backslash in a
    quoted argument becomes four); a literal ``%`` is ``%%`` (it would otherwise start a field code). The spec
    leaves ``%%`` inside quotes undefined, but GLib reads it as ``%`` there too (tests/packaging checks it),
    and there is no other way to write one.
    """
    if not args:
        raise ValueError("An Exec= line needs at least the program to run.")
    quoted = " ".join(_quote_arg(arg) for arg in args)
    escaped = "".join(_STRING_ESCAPES.get(ch, ch) for ch in quoted)
    return escaped.replace("%", "%%")


def _quote_arg(arg: str) -> str:
    if arg and not any(ch in _RESERVED for ch in arg):
        return arg
    inner = "".join("\\" + ch if ch in _QUOTE_ESCAPED else ch for ch in arg)
    return f'"{inner}"'
