"""OpenAI Costs and Usage against a loopback server speaking the wire format; faults never corrupt the ledger."""

from __future__ import annotations

from collections.abc import Callable
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
    days,
    example,
    paged,
    rows_snapshot,
)
from tracker.providers import probe_key, sync_account
from tracker.store.db import Store

ADMIN = "sk-admin-test0123456789abcdef"
PROJECT = "sk-proj-test0123456789abcdef"


class OpenAIMock:
    """Costs per day by line item and project (one amount a number, one a string), completions per model."""

    def __init__(self) -> None:
        self.page_size = 31
        self.partial_first = False
        self.repeat_cursor = False
        self.today_extra = 0  # late-arriving spend for the current day
        self.envelope_403 = False

    def costs(self, day_ms: int) -> list[dict[str, Any]]:
        n = day_ms // DAY_MS
        if n % 5 == 1:
            return []  # an empty bucket
        extra = self.today_extra if day_ms == NOW_MS - NOW_MS % DAY_MS else 0
        return [
            {"object": "organization.costs.result", "amount": {"value": (n % 7 + 1 + extra) / 10, "currency": "usd"},
             "line_item": "gpt-4o, input", "project_id": "proj_a", "organization_id": "org-x"},
            {"object": "organization.costs.result", "amount": {"value": f"{n % 3}.0042", "currency": "usd"},
             "line_item": "gpt-4o, output", "project_id": None, "quantity": 12.5, "quantity_unit": "1000_tokens"},
        ]

    def completions(self, day_ms: int) -> list[dict[str, Any]]:
        n = day_ms // DAY_MS
        if n % 5 == 1:
            return []
        item = dict(example("openai_usage_completions.json")["data"][0]["results"][0])
        item.update(model="gpt-4o-mini", project_id="proj_a", input_tokens=1000 + n)
        return [item]

    def expected_cost_pico(self, start_ms: int, end_ms: int) -> int:
        total = Decimal(0)
        for d in days(start_ms, end_ms):
            for r in self.costs(d):
                total += Decimal(str(r["amount"]["value"]))
        return int(total * 10**12)

    def route(self, request: Request) -> Reply:
        auth = request.headers.get("authorization", "")
        if auth == f"Bearer {PROJECT}":
            name = "openai_error_missing_scope_envelope.json" if self.envelope_403 else \
                "openai_error_missing_scope_bare_string.json"
            return Reply(403, example(name))
        if auth != f"Bearer {ADMIN}":
            return Reply(401, example("openai_error_invalid_api_key.json"))
        if request.arg("start_time") is None:
            return Reply(400, {"error": {"message": "start_time is required", "type": "invalid_request_error",
                                         "param": "start_time", "code": None}})
        start = int(request.arg("start_time") or 0) * 1000
        end = int(request.arg("end_time") or (NOW_MS // 1000 + 86400)) * 1000
        endpoint = request.path.removeprefix("/v1/organization/")
        if endpoint == "costs":
            make: Callable[[int], list[dict[str, Any]]] = self.costs
        elif endpoint == "usage/completions":
            make = self.completions
        elif endpoint.startswith("usage/"):
            make = lambda d: []  # noqa: E731 - the other usage types are idle in this organization
        else:
            return Reply(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
        buckets = [{"object": "bucket", "start_time": d // 1000, "end_time": (d + DAY_MS) // 1000, "results": make(d)}
                   for d in days(start, end)]
        if self.partial_first:
            buckets[0]["start_time"] += 17 * 3600 + 31 * 60  # like the cookbook's real output
            buckets[0]["results"] = buckets[0]["results"][:1]
        page = paged(buckets, request, self.page_size, repeat_cursor=self.repeat_cursor)
        return Reply(200, {"object": "page", **page})


@pytest.fixture
def api(serve: Callable[[Any], MockServer]) -> tuple[OpenAIMock, MockServer]:
    mock = OpenAIMock()
    return mock, serve(mock.route)


def stored_cost(store: Store) -> int:
    return int(store.conn.execute(
        "SELECT coalesce(sum(cost_pico), 0) FROM provider_usage WHERE kind = 'openai.costs' AND billed = 1"
    ).fetchone()[0])


def count(store: Store, kind: str = "openai.costs") -> int:
    return int(store.conn.execute("SELECT count(*) FROM provider_usage WHERE kind = ?", (kind,)).fetchone()[0])


def test_first_sync_backfills_90_days_by_line_item_and_project(store: Store, api: Any, sleeps: Any) -> None:
    mock, server = api
    account = add_account(store, "openai", server.url + "/v1")
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST, sleep=sleeps)
    assert result.ok, result.message
    end = NOW_MS - NOW_MS % DAY_MS + DAY_MS
    assert stored_cost(store) == mock.expected_cost_pico(end - 90 * DAY_MS, end)
    non_empty = sum(1 for d in days(end - 90 * DAY_MS, end) if mock.costs(d))
    assert count(store) == 2 * non_empty == result.rows_new - count(store, "openai.usage.completions")
    # amounts keep their raw text; currencies are upper-case; extra fields are ignored
    raws = {r[0] for r in store.conn.execute("SELECT amount_raw FROM provider_usage WHERE kind='openai.costs'")}
    assert "1.0042" in raws and "0.5" in raws
    row = store.conn.execute(
        "SELECT input_tokens, cache_read_tokens, cache_creation_tokens, output_tokens, requests, model, project "
        "FROM provider_usage WHERE kind = 'openai.usage.completions' ORDER BY bucket_start_ms LIMIT 1").fetchone()
    assert row[1:] == (400, 100, 500, 5, "gpt-4o-mini", "proj_a")
    assert row[0] == 500  # input_uncached_tokens: cached and cache writes are counted apart
    costs_requests = [r for r in server.requests if r.path.endswith("/costs")]
    assert len(costs_requests) == 3  # 90 days at 31 buckets a page
    assert all(int(r.arg("start_time") or 1) % 86400 == 0 for r in costs_requests)  # UTC-aligned
    assert all(sorted(r.args("group_by")) == ["line_item", "project_id"] for r in costs_requests)
    assert sleeps == []


def test_later_sync_refetches_two_days_and_upserts(store: Store, api: Any) -> None:
    mock, server = api
    account = add_account(store, "openai", server.url + "/v1", backfill_days=10)
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST).ok
    before = count(store)
    mock.today_extra = 3  # today's spend grows
    server.requests.clear()
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS + 3_600_000, settings=FAST)
    assert result.ok and result.rows_new == 0 and result.rows_updated == 1, result.message
    assert count(store) == before
    end = NOW_MS - NOW_MS % DAY_MS + DAY_MS
    assert stored_cost(store) == mock.expected_cost_pico(end - 10 * DAY_MS, end)
    first = min(int(r.arg("start_time") or 0) for r in server.requests)
    assert first * 1000 == end - 2 * DAY_MS


def test_partial_first_bucket_is_flagged_and_replaced_by_the_full_day(store: Store, api: Any) -> None:
    mock, server = api
    account = add_account(store, "openai", server.url + "/v1", backfill_days=3)
    mock.partial_first = True
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST).ok
    flagged = store.conn.execute("SELECT count(*) FROM provider_usage WHERE partial = 1").fetchone()[0]
    assert flagged >= 1
    mock.partial_first = False
    with store.transaction() as conn:  # a longer backfill re-fetches the older days
        conn.execute("UPDATE accounts SET options = '{\"backfill_days\": 4}' WHERE id = ?", (account,))
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST).ok
    end = NOW_MS - NOW_MS % DAY_MS + DAY_MS
    assert store.conn.execute("SELECT count(*) FROM provider_usage WHERE partial = 1").fetchone()[0] == 0
    assert stored_cost(store) == mock.expected_cost_pico(end - 4 * DAY_MS, end)


FAULTS: dict[str, tuple[Reply, int, str]] = {
    # name: (reply, times, words expected in the message)
    "500s": (Reply(500, {"error": {"message": "The server had an error", "type": "server_error"}}), 3, "HTTP 500"),
    "slow": (Reply(200, {"object": "page", "data": []}, stall_s=1.0), 3, "did not answer within 0.2 s"),
    "truncated": (Reply(200, {"object": "page", "data": [], "has_more": False}, truncate=True), 1, "not valid JSON"),
    "429 forever": (Reply(429, {"error": {"message": "Rate limit reached", "type": "requests"}},
                          headers={"Retry-After": "1"}), 3, "HTTP 429"),
    "has_more without cursor": (Reply(200, {"object": "page", "data": [], "has_more": True, "next_page": None}), 1,
                                "no next_page cursor"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_mid_sync_leaves_the_data_exactly_as_it_was(store: Store, api: Any, sleeps: Any,
                                                           fault: str) -> None:
    mock, server = api
    account = add_account(store, "openai", server.url + "/v1", backfill_days=40)
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST, sleep=sleeps).ok
    before = rows_snapshot(store.conn)
    logged = store.conn.execute("SELECT count(*) FROM network_log").fetchone()[0]
    reply, times, words = FAULTS[fault]
    later = NOW_MS + 40 * DAY_MS  # a gap: two pages per endpoint
    server.fault("/usage/completions", reply, times=times, skip=1)  # after some pages were already read
    result = sync_account(store, account, ADMIN, now_ms=later, settings=FAST, sleep=sleeps)
    assert not result.ok and words in result.message, result.message
    assert rows_snapshot(store.conn) == before
    status = store.conn.execute("SELECT last_status, last_message FROM accounts WHERE id = ?", (account,)).fetchone()
    assert status == ("error", result.message)
    # the failed sync's requests are in the network log, retries included
    assert store.conn.execute("SELECT count(*) FROM network_log").fetchone()[0] > logged + 2
    # a later good sync fills the gap, with no duplicates
    result = sync_account(store, account, ADMIN, now_ms=later, settings=FAST, sleep=sleeps)
    assert result.ok, result.message
    end = later - later % DAY_MS + DAY_MS
    start = NOW_MS - NOW_MS % DAY_MS + DAY_MS - 40 * DAY_MS
    assert stored_cost(store) == mock.expected_cost_pico(start, end)
    assert count(store) == 2 * sum(1 for d in days(start, end) if mock.costs(d))


def test_429_honours_retry_after_then_succeeds(store: Store, api: Any, sleeps: Any) -> None:
    _mock, server = api
    account = add_account(store, "openai", server.url + "/v1", backfill_days=3)
    server.fault("/costs", Reply(429, {"error": {"message": "Rate limit", "type": "requests"}},
                                 headers={"Retry-After": "7"}))
    server.fault("/usage/completions", Reply(503, {}))
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST, sleep=sleeps)
    assert result.ok, result.message
    assert sleeps[0] == 7.0 and len(sleeps) == 2 and 0 <= sleeps[1] <= 1.0  # then backoff with jitter
    statuses = [r[0] for r in store.conn.execute("SELECT status FROM network_log ORDER BY id")]
    assert statuses[:2] == [429, 200] and 503 in statuses


def test_repeating_cursor_is_an_error(store: Store, api: Any) -> None:
    mock, server = api
    mock.page_size = 7
    mock.repeat_cursor = True
    account = add_account(store, "openai", server.url + "/v1", backfill_days=30)
    result = sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST)
    assert not result.ok and "same next_page cursor twice" in result.message
    assert rows_snapshot(store.conn) == [[], []]


@pytest.mark.parametrize("envelope", [False, True])
def test_project_key_is_explained(store: Store, api: Any, envelope: bool) -> None:
    mock, server = api
    mock.envelope_403 = envelope
    account = add_account(store, "openai", server.url + "/v1")
    result = sync_account(store, account, PROJECT, now_ms=NOW_MS, settings=FAST)
    assert result.message == "this is a project key; the usage API needs an Admin key (sk-admin-...)"
    probe = probe_key(store, "openai", PROJECT, server.url + "/v1", settings=FAST)
    assert not probe.ok and probe.cannot_read == ["costs", "usage"]
    assert probe.summary == "this is a project key; the usage API needs an Admin key (sk-admin-...)"


def test_probe_admin_key(store: Store, api: Any) -> None:
    _mock, server = api
    probe = probe_key(store, "openai", ADMIN, server.url + "/v1", now_ms=NOW_MS, settings=FAST)
    assert probe.ok and probe.can_read == ["costs", "usage"]
    rows = store.conn.execute("SELECT provider, account_id, method, host, path, status FROM network_log").fetchall()
    assert rows == [("openai", None, "GET", "127.0.0.1", "/v1/organization/costs", 200),
                    ("openai", None, "GET", "127.0.0.1", "/v1/organization/usage/completions", 200)]


def test_project_filter_is_sent(store: Store, api: Any) -> None:
    _mock, server = api
    account = add_account(store, "openai", server.url + "/v1", backfill_days=2, project_ids=["proj_a", "proj_b"])
    assert sync_account(store, account, ADMIN, now_ms=NOW_MS, settings=FAST).ok
    assert all(r.args("project_ids") == ["proj_a", "proj_b"] for r in server.requests)
