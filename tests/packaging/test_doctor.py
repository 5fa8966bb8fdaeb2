"""``token-ledger doctor``: the labelled lines, exit status, no ledger created, and checks that never hang."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from tracker import doctor
from tracker.doctor import display_problem, qt_platform, tray_item
from tracker.store import open_store

LABELS = ["Version:", "Keyring:", "Tray:", "Qt platform:", "Data folder:", "Schema version:", "Sources:",
          "Prices:", "Log folder:"]


@pytest.fixture
def headless(home: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("TOKEN_LEDGER_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(doctor, "keyring_item", lambda: doctor.Item("keyring", "Keyring", "stub"))
    return home


def test_every_line_starts_with_its_label_and_no_ledger_is_created(headless: Any, cli: Any) -> None:
    result = cli("--data-dir", str(headless.data), "doctor")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert [line.split(" ")[0] for line in lines] == [label.split(" ")[0] for label in LABELS]
    assert all(line.startswith(label) for line, label in zip(lines, LABELS, strict=True))
    by_label = {label: line for line, label in zip(lines, LABELS, strict=True)}
    assert "no ledger yet (it is created on the first sync" in by_label["Schema version:"]
    assert by_label["Tray:"] == "Tray: unknown: no display (Qt platform offscreen)"
    assert "offscreen (from $QT_QPA_PLATFORM); PySide6 " in by_label["Qt platform:"]
    assert "genai-prices " in by_label["Prices:"] and "prices dated up to 20" in by_label["Prices:"]
    assert "Token Ledger " in by_label["Version:"] and "source tree" in by_label["Version:"]
    assert not headless.data.exists()  # doctor creates nothing in the data folder
    assert not Path(os.environ["TOKEN_LEDGER_LOG_DIR"]).exists()


def test_an_existing_ledger_and_found_sources(headless: Any, cli: Any) -> None:
    open_store(headless.data / "ledger.sqlite3").close()
    headless.claude_log("-home-me-proj/a.jsonl", "{}\n")
    result = cli("doctor")
    assert result.code == 0, result.err
    schema = next(line for line in result.out.splitlines() if line.startswith("Schema version:"))
    assert "(current; 0 usage records in ledger.sqlite3)" in schema
    sources = next(line for line in result.out.splitlines() if line.startswith("Sources:"))
    assert f"Claude Code: {headless.claude} (1 log file)" in sources
    assert "Codex CLI: " in sources


def test_json_format(headless: Any, cli: Any) -> None:
    headless.codex_log("sessions/2026/01/02/rollout-2026-01-02T10-00-00-x.jsonl", "{}\n")
    result = cli("doctor", "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["ok"] is True and report["problems"] == []
    assert [item["label"] + ":" for item in report["items"]] == LABELS
    items = {item["key"]: item for item in report["items"]}
    assert items["tray"]["available"] is None
    assert items["schema"]["exists"] is False
    assert items["sources"]["codex"]["found"] is True and items["sources"]["codex"]["files"] == 1
    assert items["prices"]["genai_prices"]


def test_a_newer_ledger_fails_with_the_reason(headless: Any, cli: Any) -> None:
    open_store(headless.data / "ledger.sqlite3").close()
    conn = sqlite3.connect(headless.data / "ledger.sqlite3")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    result = cli("doctor")
    assert result.code == 1
    assert "written by a newer version of Token Ledger" in result.out
    assert "1 problem" in result.err and "newer version" in result.err


def test_a_broken_price_overrides_file_fails(headless: Any, cli: Any) -> None:
    headless.data.mkdir(parents=True)
    (headless.data / "prices.toml").write_text("[[price]\nnot toml")
    result = cli("doctor")
    assert result.code == 1
    line = next(line for line in result.out.splitlines() if line.startswith("Prices:"))
    assert "the overrides file cannot be used" in line


def test_an_older_ledger_is_left_unmigrated(headless: Any, cli: Any) -> None:
    from tracker.store.schema import SCHEMA_VERSION

    db = headless.data / "ledger.sqlite3"
    open_store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM _sqlite_migrations WHERE rowid = (SELECT max(rowid) FROM _sqlite_migrations)")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    conn.commit()
    conn.close()
    result = cli("doctor")
    assert result.code == 0, result.err
    assert f"Schema version: {SCHEMA_VERSION - 1} (older: the app or the next sync migrates it" in result.out
    assert not (headless.data / "backups").exists()  # nothing was migrated, so no copy was needed


@pytest.mark.parametrize(
    ("env", "plat", "expected"),
    [
        ({"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":0"}, "linux", "no display (Qt platform offscreen)"),
        ({"QT_QPA_PLATFORM": "minimal"}, "darwin", "no display (Qt platform minimal)"),
        ({}, "linux", "no display ($DISPLAY and $WAYLAND_DISPLAY are unset)"),
        ({"DISPLAY": ":0"}, "linux", None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", None),
        ({}, "darwin", None),
        ({}, "win32", None),
    ],
)
def test_when_the_tray_can_be_asked(env: dict[str, str], plat: str, expected: str | None) -> None:
    assert display_problem(env, plat) == expected


@pytest.mark.parametrize(
    ("env", "plat", "name"),
    [
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"}, "linux", "xcb"),
        ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux", "wayland"),
        ({"XDG_SESSION_TYPE": "x11", "WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, "linux", "xcb"),
        ({"DISPLAY": ":1"}, "linux", "xcb"),
        ({}, "linux", "none"),
        ({}, "darwin", "cocoa"),
        ({}, "win32", "windows"),
    ],
)
def test_which_qt_platform(env: dict[str, str], plat: str, name: str) -> None:
    assert qt_platform(env, plat)[0] == name


def test_tray_answers_from_the_probe() -> None:
    env = {"DISPLAY": ":0"}
    assert tray_item(env, probe=lambda: "available").text == "available"
    assert tray_item(env, probe=lambda: "not available").text.startswith("not available: the app runs in its window")
    assert tray_item(env, probe=lambda: "Qt did not answer within 10 s").text == (
        "Tray: unknown: Qt did not answer within 10 s"[len("Tray: "):])


def test_the_tray_probe_runs_in_a_child_process(home: Any) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}  # the offscreen platform has no tray
    assert doctor.run_tray_probe(env) == "not available"


def test_a_keyring_that_does_not_answer_does_not_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck() -> tuple[str, bool]:
        release.wait()
        return "never", True

    monkeypatch.setattr(doctor, "_describe_keyring", stuck)
    try:
        item = doctor.keyring_item(timeout=0.01)
    finally:
        release.set()
    assert item.text.startswith("unknown: the keyring did not answer within 0.01 s")
    assert item.details["secure"] is None


def test_keyring_backends_secure_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend
    from keyring.backends import fail

    class OsKeychain(KeyringBackend):
        priority = 1  # type: ignore[assignment]
        name = "Test Keychain"

        def get_password(self, service: str, username: str) -> str | None:
            raise AssertionError("doctor must not read entries")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise AssertionError("doctor must not write entries")

        def delete_password(self, service: str, username: str) -> None:
            raise AssertionError("doctor must not delete entries")

    monkeypatch.setattr(keyring, "get_keyring", OsKeychain)
    item = doctor.keyring_item()
    assert item.text == "Test Keychain (secure: an OS keychain)" and item.details["secure"] is True
    monkeypatch.setattr(keyring, "get_keyring", fail.Keyring)
    item = doctor.keyring_item()
    assert item.text.startswith(f"{fail.Keyring.name} (not secure: not an OS keychain")
    assert item.details["secure"] is False


def test_logs_and_doctor_do_not_import_qt() -> None:
    import subprocess
    import sys

    code = ("import sys, tracker.logs, tracker.doctor, tracker.cli.doctor; "
            "print(sorted(m for m in sys.modules if m.startswith('PySide6')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
