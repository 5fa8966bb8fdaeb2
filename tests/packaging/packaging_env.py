"""Helpers for the packaging tests: a clean environment for built artifacts, and the PyInstaller bundle.

Not a conftest.py: a second module named ``conftest`` would replace tests/conftest.py in ``sys.modules`` and
break the tests that import from it.

Built programs run as subprocesses with an environment that points every per-user folder (home, XDG
folders, agent logs, the ledger, logs, temp) into the test's tmp folder, and the session bus nowhere, so
they never see the real user's data or keychain.

``TOKEN_LEDGER_TEST_BUNDLE=DIR`` (a folder holding a built ``token-ledger``) skips building the bundle,
for iterating on the bundle tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO / "packaging" / "pyinstaller" / "build.py"
BUNDLE_ENV = "TOKEN_LEDGER_TEST_BUNDLE"
# `token-ledger doctor` prints a line starting with each (issue 6), from any installation
DOCTOR_LABELS = (
    "Version:",
    "Keyring:",
    "Tray:",
    "Qt platform:",
    "Data folder:",
    "Schema version:",
    "Sources:",
    "Prices:",
    "Log folder:",
)

# Variables that could point a program at the real user's files, keyring or display: never passed on.
_DROP_PREFIXES = ("XDG_", "TOKEN_LEDGER_", "QT_", "PYTHON", "VIRTUAL_ENV", "UV_", "CONDA", "PYINSTALLER_")
_DROP = {
    "HOME",
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "DBUS_SESSION_BUS_ADDRESS",
    "TMPDIR",
    "TEMP",
    "TMP",
    "APPDATA",
    "LOCALAPPDATA",
    "USERPROFILE",
    "__PYVENV_LAUNCHER__",
}


@dataclass
class Sandbox:
    """Per-user folders of a fake user, all under one tmp folder."""

    root: Path

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def claude(self) -> Path:
        return self.home / ".claude"

    @property
    def codex(self) -> Path:
        return self.home / ".codex"

    @property
    def xdg_data(self) -> Path:
        return self.home / ".local" / "share"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def env(self, **extra: str) -> dict[str, str]:
        """An environment with nothing of the real user's: see the module docstring."""
        env = {k: v for k, v in os.environ.items() if k not in _DROP and not k.startswith(_DROP_PREFIXES)}
        tmp = self.root / "tmp"
        for d in (self.home, self.claude / "projects", self.codex / "sessions", tmp, self.logs):
            d.mkdir(parents=True, exist_ok=True)
        env.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.xdg_data),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
            CLAUDE_CONFIG_DIR=str(self.claude),
            CODEX_HOME=str(self.codex),
            TOKEN_LEDGER_DATA_DIR=str(self.data),
            TOKEN_LEDGER_LOG_DIR=str(self.logs),
            TMPDIR=str(tmp),
            # No session bus: the keyring's Secret Service backend finds none instead of the real keychain.
            DBUS_SESSION_BUS_ADDRESS=f"unix:path={self.root / 'no-bus'}",
            QT_QPA_PLATFORM="offscreen",
            TZ="UTC",
            LC_ALL="C.UTF-8",
            LANG="C.UTF-8",
        )
        env.update(extra)
        return env


def run(
    cmd: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to the end and return its output (the timeout only stops a hung test run)."""
    return subprocess.run(
        cmd,
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def explain(result: subprocess.CompletedProcess[str]) -> str:
    """A failed command's exit status and output, for assertion messages."""
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def build_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built Linux bundle's executable, built with packaging/pyinstaller/build.py (or given, see above)."""
    given = os.environ.get(BUNDLE_ENV)
    if given:
        exe = Path(given) / "token-ledger"
        assert exe.is_file(), f"{BUNDLE_ENV}={given} holds no token-ledger executable"
        return exe
    if not sys.platform.startswith("linux"):
        pytest.skip("the bundle test builds the Linux bundle")
    if shutil.which("objdump") is None:
        pytest.fail("PyInstaller needs objdump on Linux: install binutils (apt-get install binutils)")
    root = tmp_path_factory.mktemp("bundle")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYINSTALLER_")}
    env["PYINSTALLER_CONFIG_DIR"] = str(root / "pyinstaller-cache")  # not the user's ~/.cache/pyinstaller
    result = run(
        [
            sys.executable,
            str(BUILD_SCRIPT),
            "--dist",
            str(root / "dist"),
            "--work",
            str(root / "work"),
            "--quiet",
        ],
        env,
        cwd=REPO,
        timeout=1800,
    )
    assert result.returncode == 0, f"building the bundle failed: {explain(result)}"
    exe = root / "dist" / "token-ledger" / "token-ledger"
    assert exe.is_file(), explain(result)
    return exe
