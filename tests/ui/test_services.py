"""AppServices: a real sync of real-shaped logs on worker threads, reads, pause/resume, one sync at a time."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Home

from tracker.paths import resolve_paths
from tracker.settings import Settings, load_settings
from tracker.sync.services import AppServices, SyncReport

CLAUDE_LINE = (
    '{{"type":"assistant","timestamp":"2026-11-20T10:00:00.000Z","sessionId":"s1","cwd":"/home/u/app",'
    '"version":"2.1.72","requestId":"req_{n}","message":{{"id":"msg_{n}","model":"claude-sonnet-4-5-20250929",'
    '"usage":{{"input_tokens":{n},"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,'
    '"output_tokens":50}}}}}}\n'
)


def claude_lines(n: int, start: int = 0) -> str:
    return "".join(CLAUDE_LINE.format(n=k) for k in range(start, start + n))


def no_keychain(label: str) -> str:
    raise RuntimeError(f"The keychain has no key for {label!r}.")


@pytest.fixture
def services(home: Home, qtbot: Any) -> Iterator[AppServices]:
    s = AppServices(resolve_paths(home.data), Settings(), load_key=no_keychain)
    yield s
    s.close()


def sync(qtbot: Any, services: AppServices, **kw: bool) -> SyncReport:
    with qtbot.waitSignal(services.sync_finished, timeout=20_000) as blocker:
        services.sync_now(**kw)
    report = blocker.args[0]
    assert isinstance(report, SyncReport)
    return report


def test_sync_imports_logs_and_emits_data_changed(home: Home, services: AppServices, qtbot: Any) -> None:
    home.claude_log("-home-u-app/s1.jsonl", claude_lines(3))
    states: list[str] = []
    services.state_changed.connect(states.append)
    with qtbot.waitSignal(services.data_changed, timeout=20_000):
        report = sync(qtbot, services)
    assert report.ok, report.message
    assert report.new_records == 3
    assert states == ["syncing", "idle"]
    assert services.state == "idle" and services.last_error is None
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    assert conn.execute("SELECT count(*), sum(input_tokens) FROM usage").fetchone() == (3, 3)
    conn.close()
    home.claude_log("-home-u-app/s2.jsonl", claude_lines(2, start=10))
    assert sync(qtbot, services, accounts=False).new_records == 2


def test_read_runs_on_a_worker_and_calls_back_on_the_gui_thread(
    home: Home, services: AppServices, qtbot: Any
) -> None:
    home.claude_log("-home-u-app/s1.jsonl", claude_lines(4))
    sync(qtbot, services)
    seen: dict[str, object] = {}

    def count(conn: sqlite3.Connection) -> int:
        seen["worker"] = threading.current_thread() is not threading.main_thread()
        return int(conn.execute("SELECT count(*) FROM usage").fetchone()[0])

    def done(n: int) -> None:
        seen["n"], seen["gui"] = n, threading.current_thread() is threading.main_thread()

    services.read(count, done)
    qtbot.waitUntil(lambda: "n" in seen, timeout=5000)
    assert seen == {"worker": True, "n": 4, "gui": True}


def test_read_connection_is_read_only(home: Home, services: AppServices, qtbot: Any) -> None:
    sync(qtbot, services)
    errors: list[str] = []
    services.read(lambda conn: conn.execute("DELETE FROM usage"), lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "readonly" in errors[0].replace("-", "").replace(" ", "").lower()


def test_read_before_the_ledger_exists_is_a_plain_error(services: AppServices, qtbot: Any) -> None:
    errors: list[str] = []
    services.read(lambda conn: 1, lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors[0].startswith("No ledger at ")


def test_run_reports_errors_as_one_line(services: AppServices, qtbot: Any) -> None:
    errors: list[str] = []

    def boom() -> None:
        raise ValueError("the key looks wrong")

    services.run(boom, lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == ["the key looks wrong"]


def test_a_sync_is_never_started_twice(home: Home, services: AppServices, qtbot: Any) -> None:
    home.claude_log("-home-u-app/s1.jsonl", claude_lines(3))
    reports: list[SyncReport] = []
    services.sync_finished.connect(reports.append)
    services.sync_now(accounts=False)
    services.sync_now(accounts=False)  # while the first runs: queued once
    services.sync_now(accounts=True)  # merged into the same queued run, now with accounts
    assert services.is_syncing()
    qtbot.waitUntil(lambda: len(reports) == 2, timeout=20_000)
    qtbot.wait(200)
    assert len(reports) == 2
    assert [r.with_accounts for r in reports] == [False, True]
    assert [r.new_records for r in reports] == [3, 0]


def test_a_key_that_cannot_be_read_is_an_account_error_not_a_crash(
    home: Home, services: AppServices, qtbot: Any
) -> None:
    with qtbot.waitSignal(services.sync_finished, timeout=20_000):
        services.sync_now()  # creates the ledger
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    conn.execute("INSERT INTO accounts (provider, label, created_ms) VALUES ('openai', 'work', 0)")
    conn.commit()
    messages: list[str] = []
    services.message.connect(messages.append)
    report = sync(qtbot, services)
    assert not report.ok
    assert report.message == "work: The keychain has no key for 'work'."
    assert services.state == "error" and services.last_error == report.message
    assert messages == [report.message]
    row = conn.execute("SELECT last_status, last_message FROM accounts WHERE label = 'work'").fetchone()
    assert row == ("error", "The keychain has no key for 'work'.")
    conn.close()


def test_pause_and_resume(home: Home, qtbot: Any) -> None:
    now = [1_800_000_000_000]
    services = AppServices(resolve_paths(home.data), Settings(), load_key=no_keychain, now_ms=lambda: now[0])
    try:
        changed: list[str] = []
        services.settings_changed.connect(lambda: changed.append("settings"))
        with qtbot.waitSignal(services.state_changed) as blocker:
            services.pause(now[0] + 3_600_000)
        assert blocker.args == ["paused"] and services.is_paused()
        qtbot.waitUntil(lambda: load_settings(home.data).paused_until_ms == now[0] + 3_600_000, timeout=5000)
        now[0] += 3_600_001  # the pause ran out
        services.refresh_state()
        assert services.state == "idle" and not services.is_paused()
        services.pause(now[0] + 10)
        assert services.state == "paused"
        with qtbot.waitSignal(services.state_changed) as blocker:
            services.pause(None)
        assert blocker.args == ["idle"]
        qtbot.waitUntil(lambda: load_settings(home.data).paused_until_ms is None, timeout=5000)
        assert changed == ["settings"] * 3
        assert json.loads((home.data / "settings.json").read_text())["paused_until_ms"] is None
    finally:
        services.close()


def test_tz_falls_back_to_the_system_zone(home: Home, services: AppServices) -> None:
    services.update_settings(Settings(time_zone="Europe/Paris"))
    assert getattr(services.tz(), "key", None) == "Europe/Paris"
    services.settings = Settings(time_zone="Not/AZone")
    assert services.tz() is not None


def test_open_ledger_reports_a_newer_database(tmp_path: Path, qtbot: Any) -> None:
    data = tmp_path / "data"
    data.mkdir()
    conn = sqlite3.connect(data / "ledger.sqlite3")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    services = AppServices(resolve_paths(data), Settings(), load_key=no_keychain)
    try:
        errors: list[str] = []
        services.open_ledger(lambda _n: None, errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
        assert "newer" in errors[0].lower()
    finally:
        services.close()


def test_a_demo_ledger_is_never_synced_into(home: Home, qtbot: Any) -> None:
    """The demo's figures stay as generated: no local logs imported, no demo account polled (they have no key)."""
    from tracker.demo import DemoSpec, create_demo

    paths = resolve_paths(home.data)
    create_demo(paths, DemoSpec(months=1, seed=3))
    home.claude_log("-home-u-app/s1.jsonl", claude_lines(3))
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    before = conn.execute("SELECT count(*), sum(input_tokens) FROM usage").fetchone()
    s = AppServices(paths, Settings(), load_key=no_keychain)
    try:
        report = sync(qtbot, s)
        assert report.ok, report.message
        assert s.demo and s.state == "idle" and s.last_error is None
    finally:
        s.close()
    assert conn.execute("SELECT count(*), sum(input_tokens) FROM usage").fetchone() == before
    assert conn.execute("SELECT count(*) FROM accounts WHERE last_status = 'error'").fetchone()[0] == 0
    conn.close()


def test_the_window_title_says_demo_data(home: Home, qtbot: Any) -> None:
    from tracker.demo import DemoSpec, create_demo
    from tracker.ui.window import MainWindow

    paths = resolve_paths(home.data)
    create_demo(paths, DemoSpec(months=1, seed=3))
    s = AppServices(paths, Settings(), load_key=no_keychain)
    try:
        window = MainWindow(s)
        qtbot.addWidget(window)
        sync(qtbot, s)
        qtbot.waitUntil(lambda: window.windowTitle() == "Token Ledger (demo data)", timeout=5_000)
    finally:
        s.close()


def test_an_idle_poll_does_not_make_readers_read_again(home: Home, services: AppServices, qtbot: Any) -> None:
    """The 60 s poll reads nothing most of the day: figures (and alerts) are only re-read after a change."""
    home.claude_log("-home-u-app/s1.jsonl", claude_lines(2))
    fired: list[int] = []
    services.data_changed.connect(lambda: fired.append(1))
    sync(qtbot, services)
    assert fired == [1]
    sync(qtbot, services)
    sync(qtbot, services, accounts=False)
    assert fired == [1]  # nothing new: nobody re-reads
    home.claude_log("-home-u-app/s2.jsonl", claude_lines(1, start=50))
    assert sync(qtbot, services).new_records == 1
    assert fired == [1, 1]
