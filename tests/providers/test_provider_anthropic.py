"""Anthropic usage report, cost report (cents!) and Claude Code report against a loopback wire-format server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
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
    days,
    example,
    paged,
    rows_snapshot,
)
from tracker.providers import probe_key, sync_account
from tracker.store.db import Store

ADMIN = "sk-ant-admin01-test0123456789"
INFERENCE = "sk-ant-api03-test0123456789"
TODAY = NOW_MS - NOW_MS % DAY_MS


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


class AnthropicMock:
    def __init__(self) -> None:
        self.claude_code = False
        self.repeat_cursor = False

    def messages(self, day_ms: int) -> list[dict[str, Any]]:
        n = day_ms // DAY_MS
        if n % 4 == 3:
            return []
        item = dict(example("anthropic_usage_messages.json")["data"][0]["results"][0])
        item.update(uncached_input_tokens=1500 + n % 10, api_key_id=None, service_tier=None, context_window=None)
        return [item, {**item, "model": "claude-haiku-4-5", "workspace_id": None}]

    def costs(self, day_ms: int) -> list[dict[str, Any]]:
        n = day_ms // DAY_MS
        if n % 4 == 3:
            return []
        item = dict(example("anthropic_cost_report.json")["data"][0]["results"][0])
        return [{**item, "amount": f"{n % 9}23.78912"},
                {**item, "description": "Code Execution Usage", "cost_type": "code_execution", "model": None,
                 "token_type": None, "amount": "50"}]

    def expected_cost_pico(self, start: int, end: int) -> int:
        cents = sum(Decimal(r["amount"]) for d in days(start, end) for r in self.costs(d))
        return int(cents * 10**10)

    def route(self, request: Request) -> Reply:
        key = request.headers.get("x-api-key")
        if request.headers.get("anthropic-version") != "2023-06-01" or key != ADMIN:
            return Reply(401, example("anthropic_error_authentication.json"))
        path = request.path.removeprefix("/v1/organizations/")
        if path == "usage_report/claude_code":
            if not self.claude_code:
                return Reply(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"},
                                   "request_id": "req_1"})
            record = example("anthropic_usage_claude_code.json")["data"][0]
            return Reply(200, {"data": [{**record, "date": request.arg("starting_at")}] * 2, "has_more": False,
                               "next_page": None})
        start = ms(request.arg("starting_at") or "")
        end = ms(request.arg("ending_at") or "") if request.arg("ending_at") else TODAY + DAY_MS
        make: Callable[[int], list[dict[str, Any]]]
        if path == "usage_report/messages":
            make = self.messages
        elif path == "cost_report":
            make = self.costs
        else:
            return Reply(404, {"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})
        buckets = [{"starting_at": datetime.fromtimestamp(d / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ending_at": datetime.fromtimestamp((d + DAY_MS) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "results": make(d)} for d in days(start, end)]
        return Reply(200, paged(buckets, request, 31, repeat_cursor=self.repeat_cursor))


@pytest.fixture
def api(serve: Callable[[Any], MockServer]) -> tuple[AnthropicMock, MockServer]:
    mock = AnthropicMock()
    return mock, serve(mock.route)


def total(store: Store, column: str, kind: str) -> int:
    return int(store.conn.execute(
        f"SELECT coalesce(sum({column}), 0) FROM provider_usage WHERE kind = ?", (kind,)).fetchone()[0])


def test_backfill_reads_cents_and_nested_cache_writes(store: Store, api: Any) -> None:
    mock, server = api
    account = add_account(store, "anthropic", server.url)
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST)
    assert result.ok, result.message
    assert "Claude Code analytics are not available" in result.message
    end = TODAY + DAY_MS
    assert total(store, "cost_pico", "anthropic.cost_report") == mock.expected_cost_pico(end - 90 * DAY_MS, end)
    row = store.conn.execute(
        "SELECT input_tokens, cache_read_tokens, cache_creation_tokens, cache_creation_1h_tokens, output_tokens, "
        "project, quantity FROM provider_usage WHERE kind = 'anthropic.messages' AND model LIKE 'claude-sonnet%' "
        "LIMIT 1").fetchone()
    assert row[1:] == (200, 1500, 1000, 500, "wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ", "10")
    one = store.conn.execute("SELECT amount_raw, cost_pico, amount_unit, currency FROM provider_usage "
                             "WHERE line_item = 'Code Execution Usage' LIMIT 1").fetchone()
    assert one == ("50", 500_000_000_000, "cents", "USD")  # "50" cents is $0.50
    group_by = [r.args("group_by") for r in server.requests if r.path.endswith("/messages")]
    assert group_by[0] == ["model", "workspace_id"] and all("group_by[]" in r.query for r in server.requests
                                                           if r.path.endswith("/cost_report"))


def test_claude_code_rows_are_informational(store: Store, api: Any) -> None:
    mock, server = api
    mock.claude_code = True
    account = add_account(store, "anthropic", server.url, backfill_days=3)
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST)
    assert result.ok and "not available" not in result.message, result.message
    rows = store.conn.execute("SELECT count(*), sum(billed), min(line_item) FROM provider_usage "
                              "WHERE kind = 'anthropic.claude_code'").fetchone()
    per_day = len(example("anthropic_usage_claude_code.json")["data"][0]["model_breakdown"])
    assert rows == (3 * per_day, 0, "user@example.com")  # a record seen twice a day is added up, not duplicated
    part = example("anthropic_usage_claude_code.json")["data"][0]["model_breakdown"][0]
    got = store.conn.execute("SELECT input_tokens FROM provider_usage WHERE kind = 'anthropic.claude_code' "
                             "AND model = ? LIMIT 1", (part["model"],)).fetchone()[0]
    assert got == 2 * part["tokens"]["input"]


FAULTS = {
    "overloaded": (Reply(529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}), 3,
                   "HTTP 529: Overloaded"),
    "slow": (Reply(200, {}, stall_s=1.0), 3, "did not answer"),
    "truncated": (Reply(200, {"data": [], "has_more": False}, truncate=True), 1, "not valid JSON"),
    "bad request": (Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "limit too "
                                                           "large"}}), 6, "limit too large (invalid_request_error)"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_leaves_data_unchanged_and_next_sync_fills_the_gap(store: Store, api: Any, sleeps: Any,
                                                                fault: str) -> None:
    mock, server = api
    account = add_account(store, "anthropic", server.url, backfill_days=35)
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST, sleep=sleeps).ok
    before = rows_snapshot(store.conn)
    reply, times, words = FAULTS[fault]
    server.fault("/cost_report", reply, times=times, skip=1)
    later = NOW_MS + 35 * DAY_MS
    result = sync_account(store, account, ADMIN, now_ms=later, settings=FAST, sleep=sleeps)
    assert not result.ok and words in result.message, result.message
    assert rows_snapshot(store.conn) == before
    assert sync_account(store, account, ADMIN, now_ms=later, settings=FAST, sleep=sleeps).ok
    start, end = TODAY + DAY_MS - 35 * DAY_MS, later - later % DAY_MS + DAY_MS
    assert total(store, "cost_pico", "anthropic.cost_report") == mock.expected_cost_pico(start, end)
    assert total(store, "1", "anthropic.messages") == sum(len(mock.messages(d)) for d in days(start, end))


def test_dense_pages_refused_with_400_are_asked_again_smaller(store: Store, api: Any) -> None:
    """provider-apis.md §2.2: a dense grouped backfill can get 400; halve the page size and ask again."""
    mock, server = api
    route = mock.route

    def capped(request: Request) -> Reply:
        if int(request.arg("limit") or 7) > 7 and not request.path.endswith("claude_code"):
            return Reply(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                          "message": "too many results for one response"}})
        return route(request)

    server.route = capped
    account = add_account(store, "anthropic", server.url, backfill_days=40)
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST)
    assert result.ok, result.message
    limits = [r.arg("limit") for r in server.requests if r.path.endswith("/cost_report")]
    assert limits[:3] == ["31", "15", "7"] and set(limits[2:]) == {"7"}
    end = TODAY + DAY_MS
    assert total(store, "cost_pico", "anthropic.cost_report") == mock.expected_cost_pico(end - 40 * DAY_MS, end)
    assert total(store, "1", "anthropic.messages") == sum(len(mock.messages(d)) for d in days(end - 40 * DAY_MS, end))


def test_retry_after_as_an_http_date(store: Store, api: Any, sleeps: Any) -> None:
    _mock, server = api
    account = add_account(store, "anthropic", server.url, backfill_days=2)
    when = format_datetime(datetime.now(UTC).replace(microsecond=0) + (datetime.min - datetime.min), usegmt=True)
    server.fault("/messages", Reply(429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
                                    headers={"retry-after": when}))
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST, sleep=sleeps).ok
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 1.0


def test_repeating_cursor(store: Store, api: Any) -> None:
    mock, server = api
    mock.repeat_cursor = True
    account = add_account(store, "anthropic", server.url)
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST)
    assert not result.ok and "same next_page cursor twice" in result.message


def test_inference_key_is_explained(store: Store, api: Any) -> None:
    _mock, server = api
    account = add_account(store, "anthropic", server.url, label="work")
    result = sync_account(store, account, INFERENCE, now_ms=NOW_MS, settings=FAST)
    assert result.message == ("this is an API key; the usage and cost reports need an Admin key "
                              "(sk-ant-admin...) from an organization")
    probe = probe_key(store, "anthropic", INFERENCE, server.url, settings=FAST)
    assert not probe.ok and probe.summary.startswith("this is an API key")


def test_probe_admin_key_without_claude_code(store: Store, api: Any) -> None:
    _mock, server = api
    probe = probe_key(store, "anthropic", ADMIN, server.url, now_ms=NOW_MS, settings=FAST)
    assert probe.ok and probe.can_read == ["usage", "costs"] and probe.cannot_read == ["claude_code"]
    assert "Claude Code analytics are not available" in probe.summary
