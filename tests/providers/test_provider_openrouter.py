"""OpenRouter /key, /credits and /activity against a loopback wire-format server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from providers.provider_mock import (
    DAY_MS,
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
from tracker.store.db import Store

MANAGEMENT = "sk-or-v1-mgmt0123456789abcdef"
INFERENCE = "sk-or-v1-infer0123456789abcdef"
TODAY = NOW_MS - NOW_MS % DAY_MS


class OpenRouterMock:
    def __init__(self) -> None:
        self.late = Decimal(0)

    def activity(self) -> list[dict[str, Any]]:
        item = example("openrouter_activity.json")["data"][0]
        out = []
        for back in range(1, 31):  # the last 30 completed UTC days; today is not included
            day = datetime.fromtimestamp((TODAY - back * DAY_MS) / 1000, UTC).strftime("%Y-%m-%d")
            usage = Decimal("0.015") * back + (self.late if back == 1 else 0)
            out.append({**item, "date": day, "usage": float(usage)})
            out.append({**item, "date": day, "model": "anthropic/claude-sonnet-4", "usage": str(usage)})
        return out

    def route(self, request: Request) -> Reply:
        auth = request.headers.get("authorization")
        if auth not in (f"Bearer {MANAGEMENT}", f"Bearer {INFERENCE}"):
            return Reply(401, example("openrouter_error_401_observed.json"))
        management = auth == f"Bearer {MANAGEMENT}"
        if request.path == "/api/v1/key":
            data = example("openrouter_key.json")
            data["data"]["is_management_key"] = management
            return Reply(200, data)
        if not management:
            return Reply(403, example("openrouter_error_403_management_key_required.json"))
        if request.path == "/api/v1/credits":
            return Reply(200, example("openrouter_credits.json"))
        if request.path == "/api/v1/activity":
            return Reply(200, {"data": self.activity()})
        return Reply(404, example("openrouter_error_404.json"))


@pytest.fixture
def api(serve: Callable[[Any], MockServer]) -> tuple[OpenRouterMock, MockServer]:
    mock = OpenRouterMock()
    return mock, serve(mock.route)


def balances(store: Store) -> dict[str, int]:
    return {r[0]: r[1] for r in store.conn.execute("SELECT field, amount_pico FROM provider_balances")}


def test_management_key_reads_activity_credits_and_key(store: Store, api: Any) -> None:
    mock, server = api
    account = add_account(store, "openrouter", server.url + "/api/v1")
    result = sync_account(store, account, MANAGEMENT, now_ms=NOW_MS, settings=FAST)
    assert result.ok, result.message
    expected = sum(Decimal(str(r["usage"])) for r in mock.activity())
    got = store.conn.execute("SELECT sum(cost_pico), count(*), sum(input_tokens) FROM provider_usage "
                             "WHERE kind = 'openrouter.activity' AND billed = 1").fetchone()
    assert got == (int(expected * 10**12), 60, 60 * 50)
    b = balances(store)
    assert b["credits.balance"] == 74_750_000_000_000  # 100.5 - 25.75
    assert b["key.usage_daily"] == 25_500_000_000_000 and b["key.limit"] == 100 * 10**12
    raw = store.conn.execute("SELECT group_concat(raw) FROM provider_balances").fetchone()[0]
    assert "sk-or-v1-au7" not in raw  # the key's redacted label is not kept

    mock.late = Decimal("0.5")  # yesterday's figure arrives late
    result = sync_account(store, account, MANAGEMENT, now_ms=NOW_MS + 60_000, settings=FAST)
    assert result.ok and result.rows_new == 0 and result.rows_updated == 2, result.message
    expected = sum(Decimal(str(r["usage"])) for r in mock.activity())
    assert store.conn.execute("SELECT sum(cost_pico) FROM provider_usage").fetchone()[0] == int(expected * 10**12)


def test_inference_key_reads_its_own_spend_and_says_what_it_cannot(store: Store, api: Any) -> None:
    _mock, server = api
    account = add_account(store, "openrouter", server.url + "/api/v1")
    result = sync_account(store, account, INFERENCE, now_ms=NOW_MS, settings=FAST)
    assert result.ok and "OpenRouter activity needs a management key" in result.message
    assert "key.usage_monthly" in balances(store)
    probe = probe_key(store, "openrouter", INFERENCE, server.url + "/api/v1", settings=FAST)
    assert probe.ok and probe.can_read == ["key"] and probe.cannot_read == ["credits", "activity"]
    assert "OpenRouter activity needs a management key" in probe.summary


def test_unknown_key_and_rate_limit(store: Store, api: Any, sleeps: Any) -> None:
    _mock, server = api
    account = add_account(store, "openrouter", server.url + "/api/v1")
    result = sync_account(store, account, "sk-or-v1-wrong", now_ms=NOW_MS, settings=FAST)
    assert result.message == "OpenRouter refused this key: it is wrong, disabled or expired"
    server.fault("/activity", Reply(429, example("openrouter_error_429.json"), headers={
        "Retry-After": "3", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"}), times=3)
    result = sync_account(store, account, MANAGEMENT, now_ms=NOW_MS, settings=FAST, sleep=sleeps)
    assert not result.ok and "HTTP 429: Rate limit exceeded" in result.message and sleeps == [3.0, 3.0]
    assert rows_snapshot(store.conn) == [[], []]  # the /key balance read before the failure was not kept
    assert sync_account(store, account, MANAGEMENT, now_ms=NOW_MS, settings=FAST, sleep=sleeps).ok
