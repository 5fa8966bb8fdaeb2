"""DeepSeek and Moonshot balance snapshots against a loopback wire-format server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from providers.provider_mock import (
    FAST,
    NOW_MS,
    MockServer,
    Reply,
    Request,
    add_account,
    example,
    rows_snapshot,
)
from tracker.providers import probe_key, sync_account
from tracker.providers.balances import moonshot_currency
from tracker.store.db import Store

KEY = "sk-balance0123456789abcdef"


def route(request: Request) -> Reply:
    if request.headers.get("authorization") != f"Bearer {KEY}":
        return Reply(401, example("deepseek_error_401.json"))
    if request.path == "/user/balance":
        body = example("deepseek_balance.json")
        body["balance_infos"].append({"currency": "USD", "total_balance": "1.10", "granted_balance": "0.00",
                                      "topped_up_balance": "1.10"})
        return Reply(200, body)
    if request.path == "/v1/users/me/balance":
        return Reply(200, example("moonshot_balance.json"))
    return Reply(404, {"error": {"message": "not found"}})


@pytest.fixture
def server(serve: Callable[[Any], MockServer]) -> MockServer:
    return serve(route)


def snapshot(store: Store) -> set[tuple[Any, ...]]:
    return set(store.conn.execute("SELECT ts_ms, field, currency, amount_pico, amount_raw FROM provider_balances"))


def test_deepseek_snapshot_per_sync(store: Store, server: MockServer) -> None:
    account = add_account(store, "deepseek", server.url)
    assert sync_account(store, account, KEY, now_ms=NOW_MS, settings=FAST).ok
    assert sync_account(store, account, KEY, now_ms=NOW_MS + 1000, settings=FAST).ok
    rows = snapshot(store)
    assert (NOW_MS, "total", "CNY", 110 * 10**12, "110.00") in rows
    assert (NOW_MS + 1000, "topped_up", "USD", 1_100_000_000_000, "1.10") in rows
    assert len(rows) == 12  # two snapshots of three fields in two currencies


def test_moonshot_balance_and_currency_from_host(store: Store, server: MockServer) -> None:
    account = add_account(store, "moonshot", server.url + "/v1", currency="usd")
    assert sync_account(store, account, KEY, now_ms=NOW_MS, settings=FAST).ok
    assert (NOW_MS, "cash", "USD", 3_000_010_000_000, "3.00001") in snapshot(store)
    assert moonshot_currency("https://api.moonshot.cn/v1", {}) == "CNY"
    assert moonshot_currency("https://api.moonshot.ai/v1", {}) == "USD"


def test_bad_key_message_hides_the_key(store: Store, server: MockServer) -> None:
    account = add_account(store, "deepseek", server.url)
    result = sync_account(store, account, "sk-wrong0123456789", now_ms=NOW_MS, settings=FAST)
    assert result.message == "DeepSeek refused this API key: it is wrong or was deleted"
    assert rows_snapshot(store.conn) == [[], []]
    probe = probe_key(store, "moonshot", KEY, server.url + "/v1", settings=FAST)
    assert probe.ok and probe.can_read == ["balance"]


def test_slow_balance_times_out(store: Store, server: MockServer, sleeps: Any) -> None:
    account = add_account(store, "deepseek", server.url)
    server.fault("/user/balance", Reply(200, {}, stall_s=1.0), times=3)
    result = sync_account(store, account, KEY, now_ms=NOW_MS, settings=FAST, sleep=sleeps)
    assert not result.ok and "did not answer within 0.2 s (3 attempts)" in result.message
    assert len(sleeps) == 2
    rows = store.conn.execute("SELECT status, error FROM network_log").fetchall()
    assert rows == [(None, "ReadTimeout: timed out")] * 3
