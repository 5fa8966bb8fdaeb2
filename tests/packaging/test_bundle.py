"""The PyInstaller bundle, built for Linux and run: what a user of the one-folder app gets.

Built once per module by packaging/pyinstaller/build.py (about a minute on 2 cores), then run as a
subprocess in a sandbox (packaging_env.Sandbox): ``--version``, ``doctor``, a real ``sync`` large enough
to parse in worker processes (which start the frozen executable again: multiprocessing.freeze_support()),
the desktop entry, and the tray app on a real X display (Xvfb and trayer, as tests/e2e).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from e2e.x11 import XSession, missing_tools, stop_process, wait_for
from packaging_env import DOCTOR_LABELS, REPO, Sandbox, build_bundle, explain, run

from tracker import __version__
from tracker.cli import COMMANDS
from tracker.ledger.parsing import PARALLEL_MIN_BYTES, worker_count
from tracker.paths import APP_ID

pytestmark = pytest.mark.slow

FIXTURES = REPO / "tests" / "fixtures"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(tmp_path_factory)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path / "user")


def _pyz_modules(exe: Path) -> set[str]:
    """Names of the Python modules frozen into the executable's archive."""
    from PyInstaller.archive.readers import CArchiveReader

    pyz = CArchiveReader(str(exe)).open_embedded_archive("PYZ.pyz")
    return set(pyz.toc)


def test_version(bundle: Path, sandbox: Sandbox) -> None:
    result = run([str(bundle), "--version"], sandbox.env(), cwd=sandbox.root)
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == f"token-ledger, version {__version__}"


def test_resources_and_qt_plugins_are_in_the_bundle(bundle: Path) -> None:
    internal = bundle.parent / "_internal"
    res = internal / "tracker" / "_resources"  # where tracker.resources looks in a bundle
    assert (res / "icons" / f"{APP_ID}.svg").is_file()
    for n in ICON_SIZES:
        assert (res / "icons" / "png" / f"{n}x{n}" / f"{APP_ID}.png").is_file(), n
    assert (res / "linux" / f"{APP_ID}.desktop").is_file()
    assert (res / "linux" / f"{APP_ID}.metainfo.xml").is_file()

    plugins = internal / "PySide6" / "Qt" / "plugins"
    for plugin in (
        "platforms/libqxcb.so",
        "platforms/libqwayland.so",
        "platforms/libqoffscreen.so",
        "imageformats/libqsvg.so",
        "iconengines/libqsvgicon.so",
    ):
        assert (plugins / plugin).is_file(), plugin
    assert not (plugins / "tls").exists()  # httpx does TLS; Qt's TLS backends are left out
    assert list(internal.glob("genai_prices-*.dist-info")), "genai-prices metadata (its version) is missing"


def test_lazily_imported_modules_are_frozen_in(bundle: Path) -> None:
    modules = _pyz_modules(bundle)
    commands = {target.split(":")[0] for target in COMMANDS.values()}
    wanted = commands | {
        "tracker.cli.fast",
        "tracker.ui.app",
        "tracker.resources",
        "tracker.ledger.parsing",
        "keyring.backends.SecretService",
        "keyring.backends.macOS",
        "keyring.backends.Windows",
        "secretstorage",
        "jeepney.io.blocking",
        "msgspec",
        "genai_prices.data",
    }
    assert wanted <= modules, sorted(wanted - modules)
    assert not {m for m in modules if m.split(".")[0] in ("tkinter", "pytest", "hypothesis", "PyInstaller")}
    internal = bundle.parent / "_internal"
    # pyqtgraph imports QtOpenGL and QtOpenGLWidgets by computed names, which PyInstaller cannot see.
    extensions = (
        "orjson/orjson",
        "msgspec/_core",
        "zstandard/backend_c",
        "PySide6/QtOpenGL.",
        "PySide6/QtOpenGLWidgets.",
    )
    for ext in extensions:
        assert list(internal.glob(f"{ext}*.so")), ext


def test_doctor_runs_headless_and_creates_no_ledger(bundle: Path, sandbox: Sandbox) -> None:
    data = sandbox.root / "empty-data"
    result = run([str(bundle), "--data-dir", str(data), "doctor"], sandbox.env(), cwd=sandbox.root)
    assert result.returncode == 0, explain(result)
    lines = result.stdout.splitlines()
    for label in DOCTOR_LABELS:
        assert any(line.startswith(label) for line in lines), f"no {label!r} line:\n{result.stdout}"
    assert __version__ in next(line for line in lines if line.startswith("Version:"))
    assert not (data / "ledger.sqlite3").exists()


def _populate_logs(box: Sandbox) -> int:
    """Fixture logs of both agents, plus padding so the sync reads enough to parse in workers; bytes written."""
    for i, src in enumerate(sorted((FIXTURES / "claude").rglob("*.jsonl"))):
        dest = box.claude / "projects" / "-home-u-app" / f"{i:02d}-{src.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    for i, src in enumerate(sorted((FIXTURES / "codex").glob("*.jsonl"))):
        dest = (
            box.codex
            / "sessions"
            / "2026"
            / "01"
            / "01"
            / f"rollout-2026-01-01T00-00-{i:02d}-{src.stem}.jsonl"
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    # Lines without usage (a user's long prompts): read and scanned, no rows.
    line = (
        json.dumps(
            {
                "type": "user",
                "sessionId": "padding",
                "timestamp": "2026-01-01T00:00:00.000Z",
                "message": {"role": "user", "content": "x" * 4000},
            }
        ).encode()
        + b"\n"
    )
    per_file = 4 << 20
    padding = box.claude / "projects" / "-home-u-padding"
    padding.mkdir(parents=True, exist_ok=True)
    for i in range(PARALLEL_MIN_BYTES // per_file + 1):
        (padding / f"pad-{i}.jsonl").write_bytes(line * (per_file // len(line)))
    return sum(p.stat().st_size for p in box.home.rglob("*.jsonl"))


def _report(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, object]:
    result = run([*cmd, "report", "daily", "--format", "json"], env, cwd=cwd)
    assert result.returncode == 0, explain(result)
    report = json.loads(result.stdout)
    return {"rows": report["rows"], "totals": report["totals"]}


def test_sync_parses_in_worker_processes_and_reports_what_the_source_tree_does(
    bundle: Path, sandbox: Sandbox
) -> None:
    # Enough to read that the importer starts worker processes (tracker.ledger.parsing.worker_count); in the
    # frozen app each worker is the bundle's executable started again, which freeze_support() turns into a
    # worker. Without it the workers would run the command line and the sync would fail. (Seen by hand with
    # `ps` during such a sync: children "token-ledger --multiprocessing-fork tracker_fd=… pipe_handle=…".)
    assert worker_count(_populate_logs(sandbox)) >= 2
    env = sandbox.env()
    synced = run([str(bundle), "sync"], env, cwd=sandbox.root)
    assert synced.returncode == 0, explain(synced)
    frozen = _report([str(bundle)], env, sandbox.root)
    totals = frozen["totals"]
    assert isinstance(totals, dict) and totals["total_tokens"] > 0 and totals["cost_usd"] > 0

    # The same logs synced by the source tree (another ledger) give the same report.
    source_env = {**env, "TOKEN_LEDGER_DATA_DIR": str(sandbox.root / "source-data")}
    source_cmd = [sys.executable, "-m", "tracker"]
    source_synced = run([*source_cmd, "sync"], {**source_env, "PYTHONPATH": str(REPO)}, cwd=sandbox.root)
    assert source_synced.returncode == 0, explain(source_synced)
    assert frozen == _report(source_cmd, {**source_env, "PYTHONPATH": str(REPO)}, sandbox.root)

    # A second sync finds nothing new (the warm fast path, frozen too), and doctor sees the ledger.
    again = run([str(bundle), "sync"], env, cwd=sandbox.root)
    assert again.returncode == 0, explain(again)
    assert _report([str(bundle)], env, sandbox.root) == frozen
    doctor = run([str(bundle), "doctor"], env, cwd=sandbox.root)
    assert doctor.returncode == 0, explain(doctor)
    assert str(sandbox.data) in doctor.stdout


def test_desktop_entry_installed_from_the_bundle_starts_the_bundle(bundle: Path, sandbox: Sandbox) -> None:
    if "install-desktop-entry" not in COMMANDS:
        pytest.fail("token-ledger install-desktop-entry is not registered in tracker.cli.COMMANDS yet")
    result = run([str(bundle), "install-desktop-entry"], sandbox.env(), cwd=sandbox.root)
    assert result.returncode == 0, explain(result)
    entry = (sandbox.xdg_data / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    assert str(bundle) in exec_line, exec_line  # the frozen executable itself, no python -m
    assert "-m tracker" not in exec_line
    assert list((sandbox.xdg_data / "icons" / "hicolor").rglob(f"{APP_ID}.*"))


def test_app_shows_its_tray_icon_and_answers_a_second_launch(bundle: Path, sandbox: Sandbox) -> None:
    """The frozen app on a real X display (xcb platform plugin, SVG icon engine) with a real tray host."""
    if missing_tools():
        pytest.skip(f"needs {', '.join(missing_tools())} (see .ci/run)")
    env = sandbox.env()  # creates the sandbox's folders
    # Qt puts the single-instance socket in $TMPDIR; pytest's tmp folders are too deep for a socket path (at
    # most 107 bytes), so this one is short.
    short_tmp = Path(tempfile.mkdtemp(prefix="tl-", dir="/tmp"))
    env["TMPDIR"] = str(short_tmp)
    try:
        _run_app(bundle, sandbox, env)
    finally:
        shutil.rmtree(short_tmp, ignore_errors=True)
    log = _log(sandbox)
    assert "Traceback" not in log, log
    assert "qt.qpa.plugin" not in log, log  # a platform plugin that would not load
    assert "could not listen" not in log, log


def _run_app(bundle: Path, sandbox: Sandbox, env: dict[str, str]) -> None:
    with XSession(sandbox.root) as x:
        x.start(tray=True)
        env["DISPLAY"] = x.display
        del env["QT_QPA_PLATFORM"]
        app = x.spawn("bundle-app", [str(bundle)], env=env, cwd=sandbox.root)
        icon = wait_for("the app's tray icon", lambda: app.poll() is not None or x.tray_icon(app.pid), 60)
        assert app.poll() is None, f"the app exited with {app.returncode}: {_log(sandbox)}"
        assert icon
        # A second launch finds the first (single instance), asks it to show its window and ends.
        second = run([str(bundle)], env, cwd=sandbox.root, timeout=60)
        assert second.returncode == 0, explain(second)
        # The dashboard (charts: pyqtgraph and numpy load now) or the crash dialog, whichever comes.
        window = wait_for(
            "the dashboard or a crash dialog",
            lambda: (
                app.poll() is not None
                or next((w for w in x.top_windows(app.pid) if w.name.startswith("Token Ledger")), None)
            ),
            60,
        )
        assert app.poll() is None, f"the app exited with {app.returncode}: {_log(sandbox)}"
        assert not isinstance(window, bool) and window.name == "Token Ledger", (window, _log(sandbox))
        stop_process(app)


def _log(box: Sandbox) -> str:
    return (box.root / "bundle-app.log").read_text(encoding="utf-8", errors="replace")


_KEYRING_SHELL = (
    'printf "%s" ledger-test-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null; '
    'exec "$0" doctor'
)


def test_keyring_finds_the_secret_service_in_the_bundle(bundle: Path, sandbox: Sandbox) -> None:
    """secretstorage, jeepney and cryptography are frozen in and work: a real gnome-keyring on a private bus."""
    missing = [tool for tool in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian packages dbus-daemon, gnome-keyring; see .ci/run)")
    env = sandbox.env()
    del env["DBUS_SESSION_BUS_ADDRESS"]  # dbus-run-session sets its own
    runtime = sandbox.root / "runtime"
    runtime.mkdir(mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    result = run(["dbus-run-session", "--", "sh", "-c", _KEYRING_SHELL, str(bundle)], env, cwd=sandbox.root)
    assert result.returncode == 0, explain(result)
    keyring_line = next(line for line in result.stdout.splitlines() if line.startswith("Keyring:"))
    assert "SecretService" in keyring_line, keyring_line
    assert "not secure" not in keyring_line, keyring_line
