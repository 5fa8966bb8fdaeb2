"""``token-ledger doctor``: what this installation sees, one fact per line, for a bug report or a packaging test.

:func:`gather` returns :class:`Item` s in a fixed order (Version, Keyring, Tray, Qt platform, Data folder, Schema
version, Sources, Prices, Log folder). Nothing here changes anything: a data folder without a ledger gets none
(the store code is checked on a throw-away ledger in a temporary folder instead), and no secret is read.

Every check is bounded so doctor never hangs: the keyring backend is chosen in a thread with a timeout (keyring
may ask D-Bus for a Secret Service), and the tray is asked in a short child process with a timeout, and only when
there is a display (creating a QApplication with none would abort). Qt-free at import time.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tracker import __version__
from tracker.paths import AppPaths

KEYRING_TIMEOUT_S = 5.0
TRAY_TIMEOUT_S = 10.0
TRAY_PROBE_ARG = "--probe-tray"
_HEADLESS_PLATFORMS = ("offscreen", "minimal")


@dataclass(frozen=True)
class Item:
    """One line of the report. ``ok`` False makes doctor exit 1 (only for the checks that decide it)."""

    key: str
    label: str
    text: str
    ok: bool = True
    details: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.label}: {self.text}"


def gather(paths: AppPaths, env: Mapping[str, str] | None = None) -> list[Item]:
    """Every check, in the report's order."""
    env = os.environ if env is None else env
    return [
        version_item(),
        keyring_item(),
        tray_item(env),
        qt_platform_item(env),
        data_folder_item(paths),
        schema_item(paths),
        sources_item(env),
        prices_item(paths),
        log_folder_item(env),
    ]


def problems(items: list[Item]) -> list[str]:
    return [item.line() for item in items if not item.ok]


# --- version ------------------------------------------------------------------------------------------------


def version_item() -> Item:
    kind = install_kind()
    text = f"Token Ledger {__version__} ({kind}; Python {platform.python_version()} on {platform.platform()})"
    return Item("version", "Version", text, details={"version": __version__, "install": kind,
                                                     "python": platform.python_version(),
                                                     "platform": platform.platform()})


def install_kind() -> str:
    """How this copy runs: "PyInstaller bundle", "installed package" or "source tree"."""
    if getattr(sys, "frozen", False):
        return "PyInstaller bundle"
    package = Path(__file__).resolve().parent
    return "source tree" if (package.parent / "pyproject.toml").is_file() else "installed package"


# --- keyring ------------------------------------------------------------------------------------------------


def keyring_item(timeout: float = KEYRING_TIMEOUT_S) -> Item:
    """The keyring backend and whether it is an OS keychain. No entry is read or written."""
    result = _bounded(_describe_keyring, timeout)
    if result is None:
        return Item("keyring", "Keyring", f"unknown: the keyring did not answer within {timeout:g} s (a Secret "
                    "Service may be starting or stuck)", details={"secure": None})
    name, secure = result
    if secure:
        text = f"{name} (secure: an OS keychain)"
    else:
        bus = "" if env_has_bus() else "; this session has no D-Bus session bus"
        text = (f"{name} (not secure: not an OS keychain, so API keys cannot be stored; local logs still work"
                f"{bus})")
    return Item("keyring", "Keyring", text, details={"backend": name, "secure": secure})


def env_has_bus() -> bool:
    return not sys.platform.startswith("linux") or bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS"))


def _describe_keyring() -> tuple[str, bool]:
    from tracker import keychain

    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as e:  # a broken keyring configuration: report it, do not fail doctor
        return f"unusable ({type(e).__name__})", False
    try:
        keychain.check_backend(backend)
        secure = True
    except keychain.KeychainError:
        secure = False
    return keychain.backend_name(backend), secure


def _bounded(fn: Callable[[], tuple[str, bool]], timeout: float) -> tuple[str, bool] | None:
    """``fn()`` in a daemon thread; None if it has not returned within ``timeout`` seconds (it is left behind)."""
    box: list[tuple[str, bool]] = []
    worker = threading.Thread(target=lambda: box.append(fn()), name="doctor-keyring", daemon=True)
    worker.start()
    worker.join(timeout)
    return box[0] if box else None


# --- tray and Qt platform -----------------------------------------------------------------------------------


def display_problem(env: Mapping[str, str], plat: str | None = None) -> str | None:
    """Why no window can be shown here (so the tray cannot be asked), or None when there is a display."""
    plat = sys.platform if plat is None else plat
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if qpa in _HEADLESS_PLATFORMS:
        return f"no display (Qt platform {qpa})"
    if plat in ("darwin", "win32") or qpa:
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return "no display ($DISPLAY and $WAYLAND_DISPLAY are unset)"


def tray_item(env: Mapping[str, str], probe: Callable[[], str | None] | None = None) -> Item:
    """Whether a system tray is available, asked in a child process; "unknown" without a display."""
    problem = display_problem(env)
    if problem is not None:
        return Item("tray", "Tray", f"unknown: {problem}", details={"available": None})
    answer = (probe or run_tray_probe)()
    if answer == "available":
        return Item("tray", "Tray", "available", details={"available": True})
    if answer == "not available":
        return Item("tray", "Tray", "not available: the app runs in its window (on GNOME, the AppIndicator "
                    "extension adds a tray)", details={"available": False})
    return Item("tray", "Tray", f"unknown: {answer or 'the check did not finish'}", details={"available": None})


def tray_probe_command() -> list[str]:
    """The command line of the child process that asks Qt about the tray."""
    from tracker.launch import launch_args

    args = launch_args()
    if not getattr(sys, "frozen", False):
        args[0] = sys.executable  # launch_args may pick pythonw.exe on Windows; the probe's output is needed
    return [*args, "doctor", TRAY_PROBE_ARG]


def run_tray_probe(env: Mapping[str, str] | None = None, timeout: float = TRAY_TIMEOUT_S) -> str | None:
    """"available", "not available", or why the child could not tell."""
    try:
        done = subprocess.run(
            tray_probe_command(), env=dict(os.environ if env is None else env), capture_output=True, text=True,
            timeout=timeout, check=False, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return f"Qt did not answer within {timeout:g} s"
    except OSError as e:
        return f"the check could not start ({e.strerror})"
    answer = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    if answer in ("available", "not available"):
        return answer
    return f"the check failed (exit status {done.returncode})"


def probe_tray() -> str:
    """In the child process: create a QApplication and ask. Prints nothing else."""
    from tracker.ui.pyside_fix import pin_singletons

    pin_singletons()
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    app = QApplication.instance() or QApplication([])
    available = QSystemTrayIcon.isSystemTrayAvailable()
    del app
    return "available" if available else "not available"


def qt_platform_item(env: Mapping[str, str], plat: str | None = None) -> Item:
    """The platform plugin Qt would pick here, and why, plus the PySide6 version (Qt is not started)."""
    name, why = qt_platform(env, sys.platform if plat is None else plat)
    version = pyside_version()
    return Item("qt_platform", "Qt platform", f"{name} ({why}); PySide6 {version}",
                details={"platform": name, "reason": why, "pyside6": version})


def qt_platform(env: Mapping[str, str], plat: str) -> tuple[str, str]:
    qpa = env.get("QT_QPA_PLATFORM", "").strip()
    if qpa:
        return qpa, "from $QT_QPA_PLATFORM"
    if plat == "darwin":
        return "cocoa", "macOS"
    if plat == "win32":
        return "windows", "Windows"
    wayland = env.get("WAYLAND_DISPLAY")
    if wayland and env.get("XDG_SESSION_TYPE", "").lower() == "wayland":
        return "wayland", f"Wayland session, $WAYLAND_DISPLAY={wayland}"
    if env.get("DISPLAY"):
        return "xcb", f"X11, $DISPLAY={env['DISPLAY']}"
    if wayland:
        return "wayland", f"$WAYLAND_DISPLAY={wayland}"
    return "none", "no display: $DISPLAY, $WAYLAND_DISPLAY and $QT_QPA_PLATFORM are unset"


def pyside_version() -> str:
    try:
        import PySide6  # the package only, not QtCore: no Qt library is loaded
    except ImportError:
        return "not installed"
    return str(PySide6.__version__)


# --- data folder and ledger ---------------------------------------------------------------------------------


def data_folder_item(paths: AppPaths) -> Item:
    folder = paths.data_dir
    if not folder.exists():
        return Item("data_folder", "Data folder", f"{folder} (not created yet; the first sync creates it)",
                    details={"path": str(folder), "exists": False})
    if not folder.is_dir():
        return Item("data_folder", "Data folder", f"{folder} is not a folder: choose another with --data-dir",
                    ok=False, details={"path": str(folder), "exists": True})
    writable = os.access(folder, os.W_OK)
    text = f"{folder}" + ("" if writable else " (not writable: the ledger cannot be updated)")
    return Item("data_folder", "Data folder", text, ok=writable,
                details={"path": str(folder), "exists": True, "writable": writable})


def schema_item(paths: AppPaths) -> Item:
    """The ledger's schema version, opened without creating or migrating it."""
    from tracker.store import MigrationNeededError, StoreError, open_store
    from tracker.store.schema import SCHEMA_VERSION

    details: dict[str, Any] = {"path": str(paths.db), "supported": SCHEMA_VERSION}
    if not paths.db.exists():
        problem = check_new_ledger()
        if problem:
            return Item("schema", "Schema version", f"no ledger yet, and a new one could not be made: {problem}",
                        ok=False, details={**details, "exists": False})
        return Item("schema", "Schema version", f"no ledger yet (it is created on the first sync; this version "
                    f"makes schema {SCHEMA_VERSION})", details={**details, "exists": False, "version": None})
    try:
        store = open_store(paths.db, create=False, migrate=False)
    except MigrationNeededError:
        found = _user_version(paths.db)
        return Item("schema", "Schema version", f"{found} (older: the app or the next sync migrates it to "
                    f"{SCHEMA_VERSION}, keeping a copy first)", details={**details, "exists": True, "version": found})
    except StoreError as e:
        return Item("schema", "Schema version", str(e), ok=False, details={**details, "exists": True})
    try:
        found = int(store.conn.execute("PRAGMA user_version").fetchone()[0])
        records = int(store.conn.execute("SELECT count(*) FROM usage").fetchone()[0])
    finally:
        store.close()
    return Item("schema", "Schema version", f"{found} (current; {records:,} usage records in {paths.db.name})",
                details={**details, "exists": True, "version": found, "records": records})


def _user_version(db: Path) -> int | None:
    import sqlite3

    try:
        conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def check_new_ledger() -> str | None:
    """Create and migrate a throw-away ledger in a temporary folder: the store code works here (a frozen bundle
    that lost sqlite-utils or a migration would fail now, not on the first sync). None when it works."""
    from tracker.store import StoreError, open_store

    try:
        with tempfile.TemporaryDirectory(prefix="token-ledger-doctor-") as tmp:
            open_store(Path(tmp) / "check.sqlite3").close()
    except (StoreError, OSError, ImportError) as e:
        return f"{type(e).__name__}: {e}"
    return None


# --- sources, prices, logs ----------------------------------------------------------------------------------


def sources_item(env: Mapping[str, str]) -> Item:
    """Each local agent source: where it looks, and how many log files it finds there."""
    from tracker.sources import all_sources

    parts, found = [], {}
    for source in all_sources():
        roots = source.roots(env, Path.home())
        existing = [r for r in roots if r.is_dir()]
        if not existing:
            parts.append(f"{source.label}: not found (looked in {', '.join(map(str, roots))})")
            found[source.name] = {"found": False, "roots": [str(r) for r in roots], "files": 0}
            continue
        files = len(source.discover(existing))
        parts.append(f"{source.label}: {', '.join(map(str, existing))} ({files:,} log file{'s' * (files != 1)})")
        found[source.name] = {"found": True, "roots": [str(r) for r in existing], "files": files}
    return Item("sources", "Sources", "; ".join(parts), details=found)


def prices_item(paths: AppPaths) -> Item:
    """The bundled price data (genai-prices version and its newest dated price) and the user's overrides file."""
    from tracker.pricing.catalog import PriceCatalog, PriceOverridesError

    overrides = paths.prices
    try:
        PriceCatalog(overrides if overrides.exists() else None)
        version, newest, scheduled, models = price_data()
    except PriceOverridesError as e:
        return Item("prices", "Prices", f"the overrides file cannot be used: {e}", ok=False,
                    details={"overrides": str(overrides)})
    except Exception as e:  # the bundled data did not load (e.g. a bundle missing genai-prices' data)
        return Item("prices", "Prices", f"the price data did not load ({type(e).__name__}: {e})", ok=False,
                    details={"overrides": str(overrides)})
    dated = f", prices dated up to {newest.isoformat()}" if newest else ""
    dated += f", changes scheduled up to {scheduled.isoformat()}" if scheduled else ""
    extra = f"overrides {overrides}" if overrides.exists() else f"no overrides ({overrides} does not exist)"
    return Item("prices", "Prices", f"genai-prices {version} data ({models:,} models{dated}); {extra}",
                details={"genai_prices": version, "newest_price_date": newest.isoformat() if newest else None,
                         "scheduled_price_date": scheduled.isoformat() if scheduled else None,
                         "models": models, "overrides": str(overrides), "overrides_exist": overrides.exists()})


def price_data(today: date | None = None) -> tuple[str, date | None, date | None, int]:
    """(genai-prices version, the newest price change in its data up to ``today``, the last scheduled change
    after it if any, the number of models): the date tells how fresh the bundled prices are."""
    from genai_prices import data_snapshot
    from genai_prices.types import StartDateConstraint

    from tracker.pricing.genai import VERSION

    today = today or date.today()
    starts: set[date] = set()
    models = 0
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            models += 1
            for price in model.prices if isinstance(model.prices, list) else []:
                if isinstance(price.constraint, StartDateConstraint):
                    starts.add(price.constraint.start_date)
    past = [d for d in starts if d <= today]
    future = [d for d in starts if d > today]
    return VERSION, max(past, default=None), max(future, default=None), models


def log_folder_item(env: Mapping[str, str]) -> Item:
    from tracker.logs import LOG_FILENAME, log_dir

    folder = log_dir(env)
    current = folder / LOG_FILENAME
    if current.is_file():
        text = f"{folder} ({LOG_FILENAME}, {current.stat().st_size / 1024:,.0f} KB)"
    elif folder.is_dir():
        text = f"{folder} (no log file yet)"
    else:
        text = f"{folder} (not created yet; the app writes its log there)"
    return Item("log_folder", "Log folder", text, details={"path": str(folder), "file": str(current)})
