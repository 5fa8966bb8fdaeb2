"""``token-ledger network-log``: every request, newest first, as a table or JSON; an empty log says so plainly."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

import pytest
from test_cli_accounts import add_account, memory_keyring, openrouter
from test_keychain import MemoryKeyring

from tracker.store import open_store

if TYPE_CHECKING:
    from conftest import Home  # only a type: tests/providers has a conftest module too

__all__ = ["memory_keyring", "openrouter"]  # fixtures


def _log(home: Home, *rows: tuple[Any, ...]) -> None:
    """Write network_log rows (ts_ms, provider, host, path, status, error) straight into the ledger."""
    store = open_store(home.data / "ledger.sqlite3")
    try:
        with store.transaction() as conn:
            for ts, provider, host, path, status, error in rows:
                conn.execute(
                    "INSERT INTO network_log (ts_ms, provider, method, host, path, status, bytes_sent, "
                    "bytes_received, duration_ms, error) VALUES (?, ?, 'GET', ?, ?, ?, 10, 2048, 150, ?)",
                    (ts, provider, host, path, status, error),
                )
    finally:
        store.close()


def test_empty_log_says_nothing_was_contacted(home: Home, cli: Any) -> None:
    r = cli("network-log")
    assert r.code == 0
    assert r.out.startswith("Nothing has been contacted: the network log is empty.")
    assert not (home.data / "ledger.sqlite3").exists()  # reading the log creates no ledger
    assert cli("network-log", "--format", "json").out == "[]\n"
    assert cli("sync").code == 0
    assert cli("network-log").out.startswith("Nothing has been contacted")


def test_newest_first_filters_and_limits(home: Home, cli: Any) -> None:
    assert cli("sync").code == 0
    _log(
        home,
        (1_795_000_000_000, "openai", "api.openai.com", "/v1/organization/costs", 200, None),
        (1_795_000_060_000, "deepseek", "api.deepseek.com", "/user/balance", None, "timed out after 30 s"),
        (1_795_000_120_000, "openai", "api.openai.com", "/v1/organization/usage/completions", 429, None),
    )
    r = cli("network-log")
    assert r.code == 0
    lines = r.out.splitlines()
    assert lines[0].split() == ["TIME", "PROVIDER", "ACCOUNT", "REQUEST", "STATUS", "SENT", "RECEIVED", "MS", "ERROR"]
    assert "api.openai.com/v1/organization/usage/completions" in lines[1]
    assert "timed out after 30 s" in lines[2] and " - " in lines[2]  # no status: no response
    assert "2,048" in lines[3]
    json_rows = cli("network-log", "--format", "json").json()
    assert [row["path"] for row in json_rows] == [
        "/v1/organization/usage/completions", "/user/balance", "/v1/organization/costs"]
    assert set(json_rows[0]) == {"time", "ts_ms", "provider", "account", "method", "host", "path", "status",
                                 "bytes_sent", "bytes_received", "duration_ms", "error"}
    only = cli("network-log", "--provider", "deepseek", "--format", "json").json()
    assert [row["host"] for row in only] == ["api.deepseek.com"]
    r = cli("network-log", "--limit", "1")
    assert len(r.out.splitlines()) == 3  # header, one row, and how to see the rest
    assert "(the newest 1 of 3 requests; --limit 0 shows all)" in r.out
    assert len(cli("network-log", "--limit", "0", "--format", "json").json()) == 3
    assert cli("network-log", "--provider", "moonshot").out.startswith("No requests for moonshot are recorded")


def test_probe_and_sync_requests_are_listed_with_their_account(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: Any
) -> None:
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    assert cli("sync").code == 0
    rows = cli("network-log", "--format", "json").json()
    assert rows and all(r["host"] == "127.0.0.1" and r["provider"] == "openrouter" for r in rows)
    assert rows[-1]["account"] is None  # the probe before the account existed
    assert rows[0]["account"] == "personal"
    assert all("?" not in r["path"] for r in rows)
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    try:
        assert conn.execute("SELECT count(*) FROM network_log").fetchone()[0] == len(rows)
    finally:
        conn.close()
