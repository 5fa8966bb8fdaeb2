"""A real Secret Service for tests: gnome-keyring-daemon on a private D-Bus session.

``dbus-run-session`` starts a session bus for one shell; in it ``gnome-keyring-daemon --unlock`` creates and
unlocks a 'login' keyring (with a known password, under a temporary HOME) and serves the Secret Service. The
keyring password reaches the daemon through its own pipe; the shell's stdin (a key, in these tests) goes on to the
program the shell runs, never into argv or the environment. Both tools come from Debian packages (``dbus-daemon``,
``gnome-keyring``) that ``.ci/run`` installs; without them :data:`needs_secret_service` skips and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNLOCK = 'printf "%s" ledger-test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null; '
PYTHON_CHILD = UNLOCK + 'exec "$0" -c "$1"'  # run `python -c CODE` (argv: python, CODE)

_missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
needs_secret_service = pytest.mark.skipif(
    bool(_missing) or not sys.platform.startswith("linux"),
    reason=f"needs a Linux Secret Service: {', '.join(_missing) or 'Linux'} not available "
    "(Debian packages dbus-daemon and gnome-keyring; .ci/run installs them)",
)


def session_env(home: Path, runtime: Path, **extra: str) -> dict[str, str]:
    """This environment without any session bus or keyring of the real user, with ``home`` and ``runtime``
    (created), and the repository importable; keyring finds the Secret Service by itself."""
    home.mkdir(exist_ok=True)
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "GNOME_KEYRING", "XDG_"))}
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime), PYTHONPATH=str(REPO), **extra)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    return env


def run_in_session(shell: str, args: list[str], stdin: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``sh -c shell args...`` inside a new session bus with an unlocked gnome-keyring; ``stdin`` to the shell."""
    return subprocess.run(["dbus-run-session", "--", "sh", "-c", shell, *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120, check=False)


def run_python(code: str, stdin: str, home: Path, runtime: Path) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with a Secret Service, ``stdin`` on its standard input."""
    return run_in_session(PYTHON_CHILD, [sys.executable, code], stdin, session_env(home, runtime))
