"""A provider key never leaks: not into any file under the data dir, nor any output, nor a log record.

A known fake key goes through everything that touches it: ``account add`` (key on stdin), ``sync`` (good, then
refused by the provider), ``account test``, ``account list``, ``network-log``, ``status``, a report, ``account
remove`` and ``--purge``; then every file under the data dir (the database, its WAL and backups included) and
everything printed or logged is searched for it, as text and as bytes.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest
from test_cli_accounts import OpenRouterStub, add_account, memory_keyring, openrouter
from test_keychain import MemoryKeyring

from tracker.keychain import KEYRING_SERVICE

if TYPE_CHECKING:
    from conftest import Home  # only a type: tests/providers has a conftest module too

__all__ = ["memory_keyring", "openrouter"]  # fixtures

LEAK_KEY = "sk-or-v1-LEAKCHECK-5d1c0ffee5d1c0ffee5d1c0ffee"


def test_the_key_appears_nowhere(  # noqa: PLR0917 (pytest passes fixtures by keyword)
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    memory_keyring: MemoryKeyring, openrouter: OpenRouterStub,
) -> None:
    caplog.set_level(logging.DEBUG)
    openrouter.accepted_key = LEAK_KEY
    home.claude_log("p/s.jsonl", "")
    results = [add_account(cli, monkeypatch, "personal", openrouter.base_url, key=LEAK_KEY)]
    assert results[0].code == 0, results[0].err
    assert memory_keyring.entries == {(KEYRING_SERVICE, "account:personal"): LEAK_KEY}  # it is stored, there
    for args in (("sync",), ("account", "test", "personal"), ("account", "list"),
                 ("account", "list", "--format", "json"), ("network-log",), ("network-log", "--format", "json"),
                 ("status",), ("report", "daily", "--format", "json")):
        results.append(cli(*args))
        assert results[-1].code == 0, (args, results[-1].err)
    openrouter.accepted_key = "sk-or-v1-another"  # the provider now refuses the key: the error paths too
    results += [cli("sync"), cli("account", "test", "personal"), cli("status"), cli("network-log")]
    assert results[-4].code == 1 and results[-3].code == 1
    for args in (("account", "remove", "personal", "--yes"), ("account", "list", "--all"), ("status",),
                 ("account", "remove", "personal", "--purge", "--yes"), ("network-log",)):
        results.append(cli(*args))
        assert results[-1].code == 0, (args, results[-1].err)

    printed = "".join(r.out + r.err for r in results)
    assert "personal" in printed  # the output was captured
    assert LEAK_KEY not in printed
    assert LEAK_KEY not in caplog.text
    files = [p for p in home.data.rglob("*") if p.is_file()]
    assert any(p.name == "ledger.sqlite3" for p in files)
    for path in files:
        data = path.read_bytes()
        assert LEAK_KEY.encode() not in data, path
        assert LEAK_KEY.encode("utf-16-le") not in data, path
