"""Anthropic: the Admin API's usage report, cost report and Claude Code report (Admin key, ``sk-ant-admin...``).

Units to mind: cost_report ``amount`` is a decimal string in **cents**; Claude Code ``estimated_cost.amount``
is a number in cents and only an estimate (stored, not billed). Cache writes in the usage report are only
in the nested ``cache_creation`` object. The Claude Code report answers one UTC day per call.
"""

from __future__ import annotations

from typing import Any

from tracker.providers.base import (
    DAY_MS,
    AuthError,
    BadRequestError,
    Fetched,
    KeyProbe,
    NotAvailableError,
    ProviderError,
    ReportedRow,
    Window,
    as_int,
    as_str,
    day_floor_ms,
    dims_json,
    iso_z,
    money,
    parse_time_ms,
    raw_json,
    ymd,
)
from tracker.providers.http import HttpClient
from tracker.providers.paging import buckets, pages, results

API_VERSION = "2023-06-01"
PAGE_LIMIT = 31
CLAUDE_CODE_MAX_DAYS = 31  # one request per day: keep the backfill polite
ADMIN_HINT = "an Admin key (sk-ant-admin...)"


def headers(key: str) -> dict[str, str]:
    return {"x-api-key": key, "anthropic-version": API_VERSION}


def auth_message(key: str) -> str:
    if key.startswith("sk-ant-admin"):
        return "Anthropic refused this Admin key: it is wrong or revoked, or your role cannot read usage"
    if key.startswith("sk-ant-"):
        return f"this is an API key; the usage and cost reports need {ADMIN_HINT} from an organization"
    return f"Anthropic refused this key; the usage and cost reports need {ADMIN_HINT}"


def _bucket_rows(client: HttpClient, path: str, params: dict[str, Any], kind: str) -> list[ReportedRow]:
    """Every row of the window, in pages of ``params["limit"]`` days.

    A dense backfill grouped by several dimensions can be refused with HTTP 400 (a cap on results per response,
    provider-apis.md §2.2): the whole window is then asked again with half as many days per page, down to one.
    """
    limit = int(params["limit"])
    while True:
        try:
            return _bucket_pages(client, path, {**params, "limit": limit}, kind)
        except BadRequestError:
            if limit <= 1:
                raise
            limit //= 2


def _bucket_pages(client: HttpClient, path: str, params: dict[str, Any], kind: str) -> list[ReportedRow]:
    rows: list[ReportedRow] = []
    for body in pages(client, path, params, f"Anthropic {kind}"):
        for bucket in buckets(body, kind):
            start_ms = parse_time_ms(bucket.get("starting_at"))
            end_ms = parse_time_ms(bucket.get("ending_at"))
            for item in results(bucket, kind):
                row = ReportedRow(kind=kind, bucket_start_ms=day_floor_ms(start_ms), bucket_end_ms=end_ms,
                                  model=as_str(item.get("model")), project=as_str(item.get("workspace_id")),
                                  partial=start_ms != day_floor_ms(start_ms), raw=raw_json(item))
                (_messages if kind == "anthropic.messages" else _cost)(item, row)
                rows.append(row)
    return rows


def _messages(item: dict[str, Any], row: ReportedRow) -> None:
    creation = item.get("cache_creation") or {}
    if not isinstance(creation, dict):
        raise ProviderError("Anthropic messages usage: cache_creation is not an object")
    one_hour = as_int(creation.get("ephemeral_1h_input_tokens"))
    row.input_tokens = as_int(item.get("uncached_input_tokens"))
    row.cache_read_tokens = as_int(item.get("cache_read_input_tokens"))
    row.cache_creation_tokens = one_hour + as_int(creation.get("ephemeral_5m_input_tokens"))
    row.cache_creation_1h_tokens = one_hour
    row.output_tokens = as_int(item.get("output_tokens"))
    tools = item.get("server_tool_use") or {}
    searches = as_int(tools.get("web_search_requests")) if isinstance(tools, dict) else 0
    if searches:
        row.quantity, row.quantity_unit = str(searches), "web_search_requests"
    row.dims = dims_json({k: item.get(k) for k in (
        "api_key_id", "service_tier", "context_window", "inference_geo", "speed", "account_id",
        "service_account_id")})


def _cost(item: dict[str, Any], row: ReportedRow) -> None:
    row.cost_pico, row.amount_raw = money(item.get("amount"), "Anthropic cost amount", minor_per_unit=100)
    row.currency = as_str(item.get("currency")).upper() or "USD"
    row.amount_unit = "cents"
    row.line_item = as_str(item.get("description"))
    row.billed = True
    row.dims = dims_json({k: item.get(k) for k in (
        "cost_type", "token_type", "service_tier", "context_window", "inference_geo")})


def _window_params(window: Window, group_by: list[str]) -> dict[str, Any]:
    return {"starting_at": iso_z(window.start_ms), "ending_at": iso_z(window.end_ms), "bucket_width": "1d",
            "limit": PAGE_LIMIT, "group_by[]": group_by}


def _claude_code(client: HttpClient, window: Window) -> list[ReportedRow]:
    rows: list[ReportedRow] = []
    first = max(window.start_ms, window.end_ms - CLAUDE_CODE_MAX_DAYS * DAY_MS)
    for day_ms in range(first, window.end_ms, DAY_MS):
        path = "v1/organizations/usage_report/claude_code"
        for body in pages(client, path, {"starting_at": ymd(day_ms), "limit": 1000}, "Anthropic Claude Code"):
            for record in body["data"]:
                rows += _claude_code_rows(record, day_ms)
    return rows


def _claude_code_rows(record: object, day_ms: int) -> list[ReportedRow]:
    if not isinstance(record, dict):
        raise ProviderError("Anthropic Claude Code: a record is not an object")
    actor = record.get("actor") or {}
    who = as_str(actor.get("email_address") or actor.get("api_key_name")) if isinstance(actor, dict) else ""
    dims = dims_json({k: record.get(k) for k in ("customer_type", "terminal_type", "subscription_type")})
    rows = []
    for part in record.get("model_breakdown") or []:
        tokens = part.get("tokens") or {}
        cost = part.get("estimated_cost") or {}
        row = ReportedRow(
            kind="anthropic.claude_code", bucket_start_ms=day_ms, bucket_end_ms=day_ms + DAY_MS,
            model=as_str(part.get("model")), line_item=who, dims=dims,
            input_tokens=as_int(tokens.get("input")), output_tokens=as_int(tokens.get("output")),
            cache_read_tokens=as_int(tokens.get("cache_read")),
            cache_creation_tokens=as_int(tokens.get("cache_creation")), raw=raw_json(part),
        )
        if cost.get("amount") is not None:
            row.cost_pico, row.amount_raw = money(cost["amount"], "Claude Code cost", minor_per_unit=100)
            row.currency, row.amount_unit = as_str(cost.get("currency")).upper() or "USD", "cents"
        rows.append(row)
    return rows


def fetch(client: HttpClient, key: str, window: Window, options: dict[str, Any]) -> Fetched:
    out = Fetched()
    try:
        out.rows += _bucket_rows(client, "v1/organizations/usage_report/messages",
                                 _window_params(window, ["model", "workspace_id"]), "anthropic.messages")
        out.covered.append(("anthropic.messages", window.start_ms, window.end_ms))
        out.rows += _bucket_rows(client, "v1/organizations/cost_report",
                                 _window_params(window, ["workspace_id", "description"]), "anthropic.cost_report")
        out.covered.append(("anthropic.cost_report", window.start_ms, window.end_ms))
    except AuthError:
        raise AuthError(auth_message(key)) from None
    if options.get("claude_code", True) is not False:
        try:
            out.rows += _claude_code(client, window)
            start = max(window.start_ms, window.end_ms - CLAUDE_CODE_MAX_DAYS * DAY_MS)
            out.covered.append(("anthropic.claude_code", start, window.end_ms))
        except (NotAvailableError, AuthError):
            # Only some organizations have Claude Code analytics: not having it is not a failure.
            out.notes.append("Claude Code analytics are not available for this organization")
    return out


def probe(client: HttpClient, key: str, now_ms: int) -> KeyProbe:
    day = day_floor_ms(now_ms)
    checks: tuple[tuple[str, str, dict[str, str | int]], ...] = (
        ("usage", "v1/organizations/usage_report/messages", {"starting_at": iso_z(day), "limit": 1}),
        ("costs", "v1/organizations/cost_report", {"starting_at": iso_z(day), "limit": 1}),
        ("claude_code", "v1/organizations/usage_report/claude_code", {"starting_at": ymd(day - DAY_MS), "limit": 1}),
    )
    can: list[str] = []
    cannot: list[str] = []
    problem = ""
    for capability, path, params in checks:
        try:
            client.get_json(path, params)
            can.append(capability)
        except (AuthError, NotAvailableError) as e:
            cannot.append(capability)
            if capability != "claude_code":
                problem = problem or (auth_message(key) if isinstance(e, AuthError) else str(e))
        except ProviderError as e:
            cannot.append(capability)
            problem = problem or str(e)
    ok = "usage" in can and "costs" in can
    summary = problem or ("this Admin key can read usage and costs" + (
        "" if "claude_code" in can else "; Claude Code analytics are not available for this organization"))
    return KeyProbe(ok=ok, summary=summary, can_read=can, cannot_read=cannot)
