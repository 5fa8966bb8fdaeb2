"""``token-ledger account add|list|test|remove`` and the accounts part of ``sync`` and ``status``.

What ``remove`` keeps, ``--purge`` and adding a removed name again are in tests/test_cli_accounts_remove.py.

Keys live in an in-memory keyring (tests/test_keychain.py); the provider is a small OpenRouter on 127.0.0.1 that
answers ``/api/v1/key`` with the real body from the spec (tests/fixtures/api) and refuses ``/credits`` and
``/activity`` as it does for a key that is not a management key. ``OpenRouterStub`` and its fixture are shared
with the other CLI test files.
"""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keyring
import pytest
from keyring.backends import fail
from test_keychain import FAKE_KEY, LockedKeyring, MemoryKeyring, memory_keyring

from tracker.keychain import KEYRING_SERVICE

if TYPE_CHECKING:
    from conftest import Home  # only a type: tests/providers has a conftest module too

__all__ = ["FAKE_KEY", "OpenRouterStub", "add_account", "memory_keyring", "openrouter"]

FIXTURES = Path(__file__).parent / "fixtures" / "api"  # the spec's recorded bodies (provider-apis.md)


def _body(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class OpenRouterStub:
    """An OpenRouter API on 127.0.0.1 (a thread); accepts one key; records each request's path."""

    def __init__(self) -> None:
        self.accepted_key = FAKE_KEY
        self.paths: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.paths.append(self.path)
                status, body = stub.answer(self.path, self.headers.get("Authorization", ""))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet: test output must stay clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # a short poll interval: shutdown() waits for the next poll, at every test's teardown
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/v1"

    def answer(self, path: str, auth: str) -> tuple[int, bytes]:
        if auth != f"Bearer {self.accepted_key}":
            return 401, _body("openrouter_error_401.json")
        path = path.split("?", maxsplit=1)[0]
        if path.endswith("/key"):
            return 200, _body("openrouter_key.json")
        if path.endswith(("/credits", "/activity")):
            return 403, _body("openrouter_error_403_management_key_required.json")
        return 404, _body("openrouter_error_404.json")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def openrouter() -> Iterator[OpenRouterStub]:
    stub = OpenRouterStub()
    try:
        yield stub
    finally:
        stub.close()


def add_account(cli: Any, monkeypatch: pytest.MonkeyPatch, label: str, base_url: str, *extra: str,
                key: str = FAKE_KEY, provider: str = "openrouter") -> Any:
    """``account add`` with the key piped on stdin."""
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))
    return cli("account", "add", provider, "--name", label, "--base-url", base_url, *extra)


def _rows(home: Home, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(home.data / "ledger.sqlite3")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _last_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and not any("Traceback" in line for line in lines)
    return lines[-1]


# --- add ------------------------------------------------------------------------------------------------------


def test_add_reads_the_key_from_stdin_probes_and_saves(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    r = add_account(cli, monkeypatch, "personal", openrouter.base_url, "--backfill-days", "30")
    assert r.code == 0, r.err
    assert "OpenRouter:" in r.out
    assert "Added OpenRouter account 'personal'" in r.out
    assert memory_keyring.entries == {(KEYRING_SERVICE, "account:personal"): FAKE_KEY}
    rows = _rows(home, "SELECT provider, label, base_url, options, last_status FROM accounts")
    assert rows == [("openrouter", "personal", openrouter.base_url, json.dumps({"backfill_days": 30}), None)]
    assert any(p.startswith("/api/v1/key") for p in openrouter.paths)
    assert _rows(home, "SELECT count(*) FROM network_log WHERE account_id IS NULL")[0][0] >= 1


def test_a_refused_key_is_not_saved(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    r = add_account(cli, monkeypatch, "personal", openrouter.base_url, key="sk-or-v1-wrong")
    assert r.code == 1
    assert "The key was not saved" in _last_line(r.err)
    assert memory_keyring.entries == {}
    assert _rows(home, "SELECT count(*) FROM accounts") == [(0,)]


def test_no_keychain_stops_before_the_key_is_read(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, openrouter: OpenRouterStub
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        stdin = io.StringIO(FAKE_KEY + "\n")
        monkeypatch.setattr("sys.stdin", stdin)
        r = cli("account", "add", "openrouter", "--name", "personal", "--base-url", openrouter.base_url)
    finally:
        keyring.set_keyring(previous)
    assert r.code == 1
    assert "No OS keychain was found" in _last_line(r.err)
    assert stdin.tell() == 0  # the key was never asked for
    assert openrouter.paths == []
    assert _rows(home, "SELECT count(*) FROM accounts") == [(0,)]


def test_a_failed_keychain_save_writes_no_row(home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        r = add_account(cli, monkeypatch, "personal", "http://127.0.0.1:9/api/v1", "--no-check")
    finally:
        keyring.set_keyring(previous)
    assert r.code == 1
    assert "the OS keychain is locked" in _last_line(r.err)
    assert _rows(home, "SELECT count(*) FROM accounts") == [(0,)]


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (("account", "add", "acme", "--name", "x"), FAKE_KEY, "Unknown provider 'acme'; choose one of:"),
        (("account", "add", "openrouter", "--name", "x", "--base-url", "http://example.com/api"), FAKE_KEY,
         "--base-url:"),
        (("account", "add", "openrouter", "--name", "x", "--project-id", "p1", "--no-check"), FAKE_KEY,
         "--project-id applies to OpenAI accounts only"),
        (("account", "add", "openrouter", "--name", "a/b", "--no-check"), FAKE_KEY, "is not a usable name"),
        (("account", "add", "openrouter", "--name", "x", "--no-check"), "\n", "No key was given"),
        (("account", "add", "openrouter", "--name", "x", "--no-check"), "sk one two", "spaces or control"),
        (("account", "test", "nobody"), "", "There is no account named 'nobody'"),
        (("account", "remove", "nobody", "--yes"), "", "There is no account named 'nobody'"),
    ],
)
def test_mistakes_are_one_line(  # noqa: PLR0917 (pytest passes fixtures by keyword)
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring,
    args: tuple[str, ...], stdin: str, needle: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    r = cli(*args)
    assert r.code == 1
    assert needle in _last_line(r.err)
    assert FAKE_KEY not in r.out + r.err
    assert memory_keyring.entries == {}


def test_the_key_is_never_an_argument(home: Home, cli: Any) -> None:
    r = cli("account", "add", "openrouter", "--name", "x", "--key", FAKE_KEY)
    assert r.code == 2
    assert "No such option '--key'" in r.err
    assert FAKE_KEY not in r.out + r.err


def test_a_name_is_used_once(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    r = add_account(cli, monkeypatch, "personal", openrouter.base_url)
    assert r.code == 1
    assert "An account named 'personal' already exists" in _last_line(r.err)


# --- list, test, remove ---------------------------------------------------------------------------------------


def test_list(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    r = cli("account", "list")
    assert r.code == 0
    assert "No provider accounts yet" in r.out
    assert not (home.data / "ledger.sqlite3").exists()  # listing creates nothing
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    r = cli("account", "list")
    assert r.out.splitlines()[0].split() == ["NAME", "PROVIDER", "API", "ADDRESS", "LAST", "SYNC", "STATE"]
    assert r.out.splitlines()[1].split()[:3] == ["personal", "openrouter", openrouter.base_url]
    assert "never synced" in r.out
    listed = cli("account", "list", "--format", "json").json()
    assert [(a["label"], a["provider"], a["last_status"]) for a in listed] == [("personal", "openrouter", None)]


def test_test_says_what_the_key_can_read(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    r = cli("account", "test", "personal")
    assert r.code == 0, r.err
    assert r.out.startswith("OpenRouter: ")
    openrouter.accepted_key = "sk-or-v1-rotated"  # the provider no longer accepts the stored key
    r = cli("account", "test", "personal")
    assert r.code == 1
    memory_keyring.entries.clear()
    r = cli("account", "test", "personal")
    assert r.code == 1
    assert "The key for account 'personal' is not in the OS keychain" in _last_line(r.err)


def test_remove(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    r = cli("account", "remove", "personal")
    assert r.code == 1
    assert "Add --yes to confirm" in _last_line(r.err)
    assert memory_keyring.entries and _rows(home, "SELECT count(*) FROM accounts") == [(1,)]
    r = cli("account", "remove", "personal", "--yes")
    assert r.code == 0, r.err
    assert "Removed account 'personal': its key from the OS keychain; it is no longer synced." in r.out
    assert memory_keyring.entries == {}
    # the row stays, marked removed, with what it reported (tests/test_cli_accounts_remove.py counts those)
    assert _rows(home, "SELECT count(*) FROM accounts WHERE removed_ms IS NOT NULL") == [(1,)]
    assert _rows(home, "SELECT count(*) FROM network_log")[0][0] >= 1  # the log keeps its record


def test_remove_without_a_key_and_a_leftover_key(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    memory_keyring.entries.clear()
    r = cli("account", "remove", "personal", "--yes")
    assert r.code == 0
    assert "no key was in the OS keychain" in r.out
    memory_keyring.entries[(KEYRING_SERVICE, "account:ghost")] = FAKE_KEY
    r = cli("account", "remove", "ghost", "--yes")
    assert r.code == 0
    assert "removed its leftover key" in r.out
    assert memory_keyring.entries == {}


def test_remove_when_the_keychain_is_locked_keeps_the_row(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    keyring.set_keyring(LockedKeyring())  # the fixture restores the previous backend
    r = cli("account", "remove", "personal", "--yes")
    assert r.code == 1
    assert "Nothing was removed. Could not delete the key of account 'personal': the OS keychain is locked" in (
        _last_line(r.err))
    assert _rows(home, "SELECT count(*) FROM accounts") == [(1,)]


# --- sync and status ------------------------------------------------------------------------------------------


def test_sync_polls_every_account_and_reports_each(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    assert add_account(cli, monkeypatch, "team", openrouter.base_url).code == 0
    del memory_keyring.entries[(KEYRING_SERVICE, "account:team")]  # its key went missing
    r = cli("sync")
    assert r.code == 1
    out = r.out.splitlines()
    assert any(line.startswith("OpenRouter account 'personal': ") for line in out)
    assert "OpenRouter account 'team': The key for account 'team' is not in the OS keychain" in r.out
    assert out[-1].startswith("Done in ")
    assert "token-ledger: OpenRouter account 'team': The key for account 'team'" in r.err
    states = dict(_rows(home, "SELECT label, last_status FROM accounts"))
    assert states == {"personal": "ok", "team": "error"}
    r = cli("sync", "--no-accounts")
    assert r.code == 0
    assert "account" not in r.out


def test_status_shows_accounts(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    assert cli("sync").code == 0
    r = cli("status")
    assert "Provider accounts:   none" in r.out
    assert "Network requests:    none: nothing has been contacted" in r.out
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    r = cli("status")
    assert "Provider accounts:   1" in r.out
    assert f"{'  personal:':<20} openrouter, {openrouter.base_url}; never synced" in r.out
    assert "(`token-ledger network-log`)" in r.out


def test_the_fast_path_leaves_sync_to_click_when_an_account_exists(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    from tracker.cli import fast

    home.claude_log("p/s.jsonl", "")
    assert cli("sync").code == 0
    assert fast.run(["sync"]) == 0  # warm, no accounts: answered by the fast path
    assert add_account(cli, monkeypatch, "personal", openrouter.base_url).code == 0
    assert fast.run(["sync"]) is None
    seen = len(openrouter.paths)
    r = cli("sync")
    assert r.code == 0
    assert "OpenRouter account 'personal'" in r.out
    assert len(openrouter.paths) > seen


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_key_is_asked_for_without_echo(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, openrouter: OpenRouterStub
) -> None:
    asked: list[str] = []

    def no_echo(prompt: str) -> str:  # stands in for getpass: reads the terminal without echo
        asked.append(prompt)
        return FAKE_KEY

    monkeypatch.setattr("click.termui.hidden_prompt_func", no_echo)
    monkeypatch.setattr("sys.stdin", _Terminal(""))
    r = cli("account", "add", "openrouter", "--name", "personal", "--base-url", openrouter.base_url)
    assert r.code == 0, r.err
    assert len(asked) == 1
    assert "OpenRouter key, an API key (sk-or-v1-...)" in r.err + asked[0]
    assert FAKE_KEY not in r.out + r.err
    assert memory_keyring.entries == {(KEYRING_SERVICE, "account:personal"): FAKE_KEY}
