"""Every mistake a user can make ends in one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from conftest import Home


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "expected a message on stderr"
    assert not any("Traceback" in line for line in lines)
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("report", "daily", "--since", "yesterday"), "--since 'yesterday' is not a date"),
        (("report", "daily", "--since", "2026-11-10", "--until", "2026-11-01"), "is after --until"),
        (("report", "daily", "--tz", "Mars/Olympus"), "unknown time zone"),
    ],
)
def test_bad_report_options(home: Home, cli: Any, args: tuple[str, ...], needle: str) -> None:
    home.claude_log("p/s.jsonl", "")
    assert cli("sync").code == 0
    r = cli(*args)
    assert r.code != 0
    assert needle in _one_line(r.err)


def test_report_before_any_sync(home: Home, cli: Any) -> None:
    r = cli("report", "daily")
    assert r.code != 0
    assert "token-ledger sync" in _one_line(r.err)
    assert not (home.data / "ledger.sqlite3").exists()


def test_unknown_command_and_option(home: Home, cli: Any) -> None:
    r = cli("report", "hourly")
    assert r.code == 2
    assert "hourly" in r.err
    assert "Traceback" not in r.err


def test_database_from_newer_version(home: Home, cli: Any) -> None:
    assert cli("sync").code == 0
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    for args in (("sync",), ("report", "daily")):
        r = cli(*args)
        assert r.code == 2
        assert "newer version of Token Ledger" in _one_line(r.err)


def test_data_dir_that_is_a_file(home: Home, cli: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    r = cli("--data-dir", str(blocker), "sync")
    assert r.code != 0
    assert "not-a-folder" in _one_line(r.err)


def test_malformed_price_overrides(home: Home, cli: Any) -> None:
    home.data.mkdir(parents=True, exist_ok=True)
    (home.data / "prices.toml").write_text("[[price]]\nmodel = 'x'\n")
    r = cli("sync")
    assert r.code != 0
    assert "prices.toml" in _one_line(r.err)


def test_configured_log_folder_missing(home: Home, cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "typo"))
    r = cli("sync")
    assert r.code == 1
    assert "typo" in r.err
    assert "CLAUDE_CONFIG_DIR" in r.err
