"""``account remove`` keeps an account's history; ``--purge`` deletes it; ``account add`` of the name brings it back.

The provider is an OpenRouter on 127.0.0.1 that takes the key for a management key, so a sync stores exact,
known rows: two activity rows (usage with cost), ten key balance fields from ``/key`` and three from ``/credits``
(13 balance rows per sync) and one sync-state row. Every test counts rows before and after.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from test_cli_accounts import FIXTURES, OpenRouterStub, add_account, memory_keyring
from test_keychain import FAKE_KEY, MemoryKeyring

from tracker.keychain import KEYRING_SERVICE
from tracker.store import open_store

if TYPE_CHECKING:
    from conftest import Home  # only a type: tests/providers has a conftest module too

__all__ = ["ManagementStub", "memory_keyring", "openrouter"]  # fixtures, and the stub for other test files

USAGE_ROWS, BALANCE_ROWS = 2, 13  # what one sync of a ManagementStub account stores
TABLES = ("provider_usage", "provider_balances", "provider_sync_state")


class ManagementStub(OpenRouterStub):
    """OpenRouter answering as for a management key: ``/credits`` and two activity rows from the last days."""

    def __init__(self) -> None:
        super().__init__()
        self.on_activity: Callable[[], None] | None = None

    def answer(self, path: str, auth: str) -> tuple[int, bytes]:
        if auth != f"Bearer {self.accepted_key}":
            return super().answer(path, auth)
        path = path.split("?", maxsplit=1)[0]
        if path.endswith("/user/balance"):  # DeepSeek's balance, so one server can play two providers
            return 200, (FIXTURES / "deepseek_balance.json").read_bytes()
        if path.endswith("/key"):
            body = json.loads((FIXTURES / "openrouter_key.json").read_bytes())
            body["data"]["is_management_key"] = True
            return 200, json.dumps(body).encode()
        if path.endswith("/credits"):
            return 200, (FIXTURES / "openrouter_credits.json").read_bytes()
        if path.endswith("/activity"):
            if self.on_activity is not None:
                self.on_activity()
            return 200, json.dumps({"data": _activity()}).encode()
        return super().answer(path, auth)


def _activity() -> list[dict[str, Any]]:
    item = json.loads((FIXTURES / "openrouter_activity.json").read_bytes())["data"][0]
    today = datetime.now(UTC).date()
    return [{**item, "date": str(today - timedelta(days=days)), "model": model}
            for days, model in ((1, "openai/gpt-4.1"), (2, "anthropic/claude-sonnet-4"))]


@pytest.fixture
def openrouter() -> Iterator[ManagementStub]:
    stub = ManagementStub()
    try:
        yield stub
    finally:
        stub.close()


def _conn(home: Home) -> sqlite3.Connection:
    return sqlite3.connect(home.data / "ledger.sqlite3")


def _one(home: Home, sql: str, *args: Any) -> Any:
    conn = _conn(home)
    try:
        return conn.execute(sql, args).fetchone()[0]
    finally:
        conn.close()


def _counts(home: Home, label: str) -> dict[str, int]:
    """Rows the account ``label`` holds per provider table, and whether its row is there (1) or not (0)."""
    conn = _conn(home)
    try:
        row = conn.execute("SELECT id FROM accounts WHERE label = ?", (label,)).fetchone()
        if row is None:
            return {"accounts": 0, **dict.fromkeys(TABLES, 0)}
        return {"accounts": 1, **{t: conn.execute(f"SELECT count(*) FROM {t} WHERE account_id = ?", row).fetchone()[0]
                                  for t in TABLES}}
    finally:
        conn.close()


def _synced(times: int = 1) -> dict[str, int]:
    return {"accounts": 1, "provider_usage": USAGE_ROWS, "provider_balances": BALANCE_ROWS * times,
            "provider_sync_state": 1}


def _last_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and not any("Traceback" in line for line in lines)
    return lines[-1]


def _add_and_sync(home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, stub: ManagementStub,
                  *labels: str) -> None:
    for label in labels:
        r = add_account(cli, monkeypatch, label, stub.base_url)
        assert r.code == 0, r.err
    r = cli("sync")
    assert r.code == 0, r.err
    for label in labels:
        assert _counts(home, label) == _synced()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# --- remove keeps the history ---------------------------------------------------------------------------------


def test_remove_keeps_the_history_and_stops_syncing(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    home.claude_log("p/s.jsonl", "")
    _add_and_sync(home, cli, monkeypatch, openrouter, "personal")
    log_rows = _one(home, "SELECT count(*) FROM network_log")
    r = cli("account", "remove", "personal", "--yes")
    assert r.code == 0, r.err
    assert r.out.startswith("Removed account 'personal': its key from the OS keychain; it is no longer synced. "
                            f"Kept: its {USAGE_ROWS + BALANCE_ROWS} reported usage/cost/balance rows")
    assert "`token-ledger account remove personal --purge` deletes what was kept." in r.out
    assert memory_keyring.entries == {}
    assert _counts(home, "personal") == _synced()  # every row kept, the account's row too
    assert _one(home, "SELECT removed_ms FROM accounts") is not None
    assert _one(home, "SELECT count(*) FROM network_log") == log_rows

    # list shows active accounts; --all the removed one too, marked with its date
    assert "No active provider accounts." in cli("account", "list").out
    assert "(1 removed account still holds reported history; --all shows them.)" in cli("account", "list").out
    everything = cli("account", "list", "--all").out.splitlines()
    assert everything[1].split()[:2] == ["personal", "openrouter"]
    assert everything[1].endswith(f"removed {datetime.now().strftime('%Y-%m-%d')}")
    assert cli("account", "list", "--format", "json").json() == []
    listed = cli("account", "list", "--all", "--format", "json").json()
    assert [a["label"] for a in listed] == ["personal"] and listed[0]["removed_ms"] is not None

    # sync, status, test and the fast path leave it alone
    seen = len(openrouter.paths)
    r = cli("sync")
    assert r.code == 0, r.err
    assert "personal" not in r.out
    assert len(openrouter.paths) == seen
    assert _counts(home, "personal") == _synced()
    status = cli("status").out
    assert "Provider accounts:   none" in status
    assert "Removed accounts:    1, their reported history kept" in status
    r = cli("account", "test", "personal")
    assert r.code == 1
    assert _last_line(r.err).startswith("token-ledger: Account 'personal' was removed on ")
    assert "`token-ledger account add openrouter --name personal`" in r.err
    from tracker.cli import fast

    assert fast.run(["sync"]) == 0  # only removed accounts: nothing to poll, the fast path answers

    r = cli("account", "remove", "personal", "--yes")
    assert r.code == 0
    assert r.out.startswith("Account 'personal' was already removed on ")
    assert _counts(home, "personal") == _synced()


def test_sync_account_refuses_a_removed_account(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    from tracker.providers import sync_account

    _add_and_sync(home, cli, monkeypatch, openrouter, "personal")
    assert cli("account", "remove", "personal", "--yes").code == 0
    seen = len(openrouter.paths)
    store = open_store(home.data / "ledger.sqlite3")
    try:
        account_id = store.conn.execute("SELECT id FROM accounts").fetchone()[0]
        before = store.conn.execute("SELECT last_sync_ms, last_status, last_message FROM accounts").fetchone()
        result = sync_account(store, account_id, FAKE_KEY)
        after = store.conn.execute("SELECT last_sync_ms, last_status, last_message FROM accounts").fetchone()
    finally:
        store.close()
    assert not result.ok
    assert result.message == ("the account was removed, so it is not synced (add it again to continue "
                              "its history)")
    assert len(openrouter.paths) == seen  # nothing was asked
    assert before == after
    assert _counts(home, "personal") == _synced()


def test_an_account_removed_during_its_sync_gets_nothing_written(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    from tracker.providers import sync_account

    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0

    def remove_meanwhile() -> None:  # another process removes it while the requests are under way
        conn = _conn(home)
        try:
            with conn:
                conn.execute("UPDATE accounts SET removed_ms = 1")
        finally:
            conn.close()

    openrouter.on_activity = remove_meanwhile
    store = open_store(home.data / "ledger.sqlite3")
    try:
        result = sync_account(store, store.conn.execute("SELECT id FROM accounts").fetchone()[0], FAKE_KEY)
    finally:
        store.close()
    assert not result.ok and "the account was removed" in result.message
    assert _counts(home, "personal") == {"accounts": 1, **dict.fromkeys(TABLES, 0)}


# --- purge ----------------------------------------------------------------------------------------------------


def test_purge_deletes_the_history_of_that_account_only(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    _add_and_sync(home, cli, monkeypatch, openrouter, "personal", "team")
    log_rows = _one(home, "SELECT count(*) FROM network_log")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    r = cli("account", "remove", "personal", "--purge")
    assert r.code == 1
    assert "Add --yes to confirm (stdin is not a terminal to ask)" in _last_line(r.err)
    assert "delete its history for good" in _last_line(r.err)
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    r = cli("account", "remove", "personal", "--purge")
    assert r.code == 1
    assert _last_line(r.err).endswith("? [y/N]: token-ledger: Nothing was removed.")  # asked, on stderr
    assert _counts(home, "personal") == _synced()
    assert len(memory_keyring.entries) == 2

    monkeypatch.setattr("sys.stdin", _Terminal("y\n"))
    r = cli("account", "remove", "personal", "--purge")
    assert r.code == 0, r.err
    assert r.out == (
        f"Removed account 'personal' for good: its key from the OS keychain, {USAGE_ROWS} reported usage/cost "
        f"rows, {BALANCE_ROWS} balance snapshots, its sync state and its row. The network log keeps its record of "
        "the requests made.\n")
    assert _counts(home, "personal") == {"accounts": 0, **dict.fromkeys(TABLES, 0)}
    assert _counts(home, "team") == _synced()  # the other account is untouched
    assert memory_keyring.entries == {(KEYRING_SERVICE, "account:team"): FAKE_KEY}
    assert _one(home, "SELECT count(*) FROM network_log") == log_rows
    table = cli("network-log", "--limit", "0").out
    assert "(purged)" in table and "team" in table


def test_purge_after_remove_and_ids_are_never_reused(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    _add_and_sync(home, cli, monkeypatch, openrouter, "personal")
    old_id = _one(home, "SELECT id FROM accounts")
    assert cli("account", "remove", "personal", "--yes").code == 0
    r = cli("account", "remove", "personal", "--purge", "--yes")
    assert r.code == 0, r.err
    assert r.out.startswith(
        "Purged the removed account 'personal' (its key was deleted when it was removed): deleted "
        f"{USAGE_ROWS} reported usage/cost rows, {BALANCE_ROWS} balance snapshots, its sync state and its row.")
    assert _one(home, "SELECT count(*) FROM accounts") == 0
    assert all(_one(home, f"SELECT count(*) FROM {t}") == 0 for t in TABLES)
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    assert _one(home, "SELECT id FROM accounts") > old_id  # the purged account's network log is not inherited
    assert _one(home, "SELECT count(*) FROM network_log WHERE account_id = ?", old_id) > 0


def test_the_schema_does_not_cascade(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    _add_and_sync(home, cli, monkeypatch, openrouter, "personal")
    store = open_store(home.data / "ledger.sqlite3")  # foreign keys are enforced on the store's connection
    try:
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
            conn.execute("DELETE FROM accounts")
    finally:
        store.close()
    assert _counts(home, "personal") == _synced()


# --- adding the name again ------------------------------------------------------------------------------------


def test_adding_a_removed_account_again_continues_its_history(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    _add_and_sync(home, cli, monkeypatch, openrouter, "personal")
    old_id = _one(home, "SELECT id FROM accounts")
    assert cli("account", "remove", "personal", "--yes").code == 0
    r = add_account(cli, monkeypatch, "personal", openrouter.base_url, "--backfill-days", "30")
    assert r.code == 0, r.err
    assert (f"Re-activated the removed OpenRouter account 'personal' with the new key and these settings: its "
            f"history ({USAGE_ROWS + BALANCE_ROWS} reported usage/cost/balance rows) is kept and continues.") in r.out
    assert memory_keyring.entries == {(KEYRING_SERVICE, "account:personal"): FAKE_KEY}
    conn = _conn(home)
    try:
        assert conn.execute("SELECT id, options, removed_ms FROM accounts").fetchall() == [
            (old_id, json.dumps({"backfill_days": 30}), None)]
    finally:
        conn.close()
    assert _counts(home, "personal") == _synced()
    r = cli("sync")
    assert r.code == 0, r.err
    assert "OpenRouter account 'personal': 0 new, 0 updated rows" in r.out  # the same buckets: no double counting
    assert _counts(home, "personal") == _synced(times=2)
    assert "personal" in cli("account", "list").out


def test_a_removed_name_of_another_provider_is_refused(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: ManagementStub
) -> None:
    _add_and_sync(home, cli, monkeypatch, openrouter, "personal")
    assert cli("account", "remove", "personal", "--yes").code == 0
    stdin = io.StringIO(FAKE_KEY + "\n")
    monkeypatch.setattr("sys.stdin", stdin)
    r = cli("account", "add", "deepseek", "--name", "personal", "--no-check")
    assert r.code == 1
    assert _last_line(r.err) == (
        "token-ledger: The name 'personal' belongs to a removed openrouter account whose history is kept; choose "
        "another --name, or delete that history with `token-ledger account remove personal --purge`.")
    assert stdin.tell() == 0  # the key was not asked for
    assert memory_keyring.entries == {}
    assert _counts(home, "personal") == _synced()
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0  # same provider: still fine
    r = add_account(cli, monkeypatch, "personal", openrouter.base_url)
    assert r.code == 1
    assert "An account named 'personal' already exists" in _last_line(r.err)
