"""``sync`` polls accounts of different providers in parallel, and the accounts of one provider one at a time.

One server on 127.0.0.1 plays OpenRouter (management key) and DeepSeek. Parallelism is shown without timing: the
first OpenRouter activity request and the DeepSeek balance request each wait for the other at a barrier, so they
can only both succeed if they are under way at the same time. The two OpenRouter accounts have different keys;
their requests must not interleave.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from test_cli_accounts import add_account, memory_keyring
from test_cli_accounts_remove import ManagementStub
from test_keychain import MemoryKeyring

if TYPE_CHECKING:
    from conftest import Home  # only a type: tests/providers has a conftest module too

__all__ = ["memory_keyring"]  # fixture

KEYS = {"alpha": "sk-or-v1-alpha-0000000000", "beta": "sk-or-v1-beta-1111111111", "gamma": "sk-deepseek-2222222"}
MEET = 5.0  # how long the barrier waits for its partner: only ever reached when the syncs do not overlap


class ParallelStub(ManagementStub):
    """Accepts each of KEYS; records (key, path) per request; ``arm()`` makes two requests meet at a barrier."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []
        self.barrier: threading.Barrier | None = None
        self.waiting: set[str] = set()
        self.lock = threading.Lock()

    def arm(self) -> None:
        self.barrier = threading.Barrier(2, timeout=MEET)
        self.waiting = {"/activity", "/user/balance"}

    def answer(self, path: str, auth: str) -> tuple[int, bytes]:
        key = auth.removeprefix("Bearer ")
        bare = path.split("?", maxsplit=1)[0]
        self.calls.append((key, bare))
        with self.lock:  # the first request of each kind waits, later ones do not
            meet = next((w for w in self.waiting if bare.endswith(w)), None)
            self.waiting.discard(meet or "")
        if meet is not None and self.barrier is not None:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                return 400, b'{"error": {"message": "no request of the other provider was under way"}}'
        if key in KEYS.values():
            return super().answer(path, f"Bearer {self.accepted_key}")
        return super().answer(path, auth)


@pytest.fixture
def stub() -> Iterator[ParallelStub]:
    server = ParallelStub()
    try:
        yield server
    finally:
        if server.barrier is not None:
            server.barrier.abort()  # a waiting handler thread must not outlive the test
        server.close()


def test_providers_in_parallel_one_provider_in_order(
    home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring, stub: ParallelStub
) -> None:
    for label, provider in (("beta", "openrouter"), ("gamma", "deepseek"), ("alpha", "openrouter")):
        r = add_account(cli, monkeypatch, label, stub.base_url, key=KEYS[label], provider=provider)
        assert r.code == 0, r.err
    stub.calls.clear()
    stub.arm()
    r = cli("sync")
    assert r.code == 0, r.err
    lines = [line for line in r.out.splitlines() if " account '" in line]
    assert [line.split("'")[1] for line in lines] == ["alpha", "beta", "gamma"]  # label order, whatever finished first
    assert lines[0].startswith("OpenRouter account 'alpha': 2 new, 0 updated rows")
    assert lines[1].startswith("OpenRouter account 'beta': 2 new, 0 updated rows")
    assert lines[2].startswith("DeepSeek account 'gamma': 0 new, 0 updated rows")
    assert stub.waiting == set()  # both were asked for, and met (else "no request of the other provider"):
    # OpenRouter and DeepSeek were polled at the same time

    openrouter_keys = [key for key, path in stub.calls if not path.endswith("/user/balance")]
    runs = [key for i, key in enumerate(openrouter_keys) if i == 0 or openrouter_keys[i - 1] != key]
    assert sorted(runs) == sorted([KEYS["alpha"], KEYS["beta"]])  # each OpenRouter account's requests in one run
    assert len(openrouter_keys) == 6  # /key, /credits and /activity for each

    db = sqlite3.connect(home.data / "ledger.sqlite3")
    try:
        states = dict(db.execute("SELECT label, last_status FROM accounts").fetchall())
        balances = dict(db.execute(
            "SELECT a.label, count(*) FROM provider_balances b JOIN accounts a ON a.id = b.account_id "
            "GROUP BY a.label").fetchall())
    finally:
        db.close()
    assert states == {"alpha": "ok", "beta": "ok", "gamma": "ok"}
    assert balances == {"alpha": 13, "beta": 13, "gamma": 3}
