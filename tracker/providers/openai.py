"""OpenAI: the organization Costs and Usage APIs (Admin key, ``sk-admin-...``).

Costs (USD per UTC day, grouped by line item and project) are the bill; the usage endpoints (completions by
model and project with input/cached/output/request counts, and the other usage types) are informational.
``amount.value`` arrives as a number or a numeric string; both are read exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker.providers.base import (
    AuthError,
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
    money,
    raw_json,
)
from tracker.providers.http import HttpClient
from tracker.providers.paging import buckets, pages, results

PAGE_LIMIT = 31  # the usage endpoints' maximum for 1d buckets (costs allow 180)
ADMIN_HINT = "an Admin key (sk-admin-...)"

Parser = Callable[[dict[str, Any], ReportedRow], None]


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def auth_message(key: str) -> str:
    """Plain words for a refused key, from its prefix only (the key itself is never shown)."""
    if key.startswith("sk-admin-"):
        return ("OpenAI refused this Admin key: it is wrong, revoked, or lacks the usage read permission "
                "(api.usage.read)")
    if key.startswith("sk-svcacct-"):
        return f"this is a service account key; the usage API needs {ADMIN_HINT}"
    if key.startswith("sk-"):
        return f"this is a project key; the usage API needs {ADMIN_HINT}"
    return f"OpenAI refused this key; the usage API needs {ADMIN_HINT}"


def _completions(item: dict[str, Any], row: ReportedRow) -> None:
    cached = as_int(item.get("input_cached_tokens"))
    written = as_int(item.get("input_cache_write_tokens"))
    # input_tokens counts cached (and, since 2026, cache-write) tokens too; prefer the explicit uncached field.
    uncached = item.get("input_uncached_tokens")
    row.input_tokens = as_int(uncached) if uncached is not None else max(
        0, as_int(item.get("input_tokens")) - cached - written)
    row.cache_read_tokens = cached
    row.cache_creation_tokens = written
    row.output_tokens = as_int(item.get("output_tokens"))
    row.requests = as_int(item.get("num_model_requests"))
    row.dims = dims_json({"batch": item.get("batch"), "service_tier": item.get("service_tier")})


def _quantity(field: str, unit: str, *alternatives: str) -> Parser:
    def parse(item: dict[str, Any], row: ReportedRow) -> None:
        value = next((item[f] for f in (field, *alternatives) if item.get(f) is not None), 0)
        row.quantity = str(as_int(value))
        row.quantity_unit = unit
        row.requests = as_int(item.get("num_model_requests"))
    return parse


def _embeddings(item: dict[str, Any], row: ReportedRow) -> None:
    row.input_tokens = as_int(item.get("input_tokens"))
    row.requests = as_int(item.get("num_model_requests"))


# name -> (group_by, parser). Moderations are free and left out.
USAGE_ENDPOINTS: dict[str, tuple[tuple[str, ...], Parser]] = {
    "completions": (("model", "project_id"), _completions),
    "embeddings": (("model", "project_id"), _embeddings),
    "images": (("model", "project_id"), _quantity("images", "images")),
    "audio_speeches": (("model", "project_id"), _quantity("characters", "characters")),
    "audio_transcriptions": (("model", "project_id"), _quantity("seconds", "seconds")),
    "vector_stores": (("project_id",), _quantity("usage_bytes", "bytes")),
    "code_interpreter_sessions": (("project_id",), _quantity("num_sessions", "sessions", "sessions")),
    "file_search_calls": (("project_id",), _quantity("num_requests", "requests")),
    "web_search_calls": (("model", "project_id"), _quantity("num_requests", "requests")),
}


def _params(window: Window, group_by: tuple[str, ...], options: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "start_time": window.start_ms // 1000,
        "end_time": window.end_ms // 1000,
        "bucket_width": "1d",
        "limit": PAGE_LIMIT,
        "group_by": list(group_by),  # repeated keys: accepted by the API (see provider-apis.md 1.3)
    }
    project_ids = options.get("project_ids")
    if isinstance(project_ids, list) and project_ids:
        params["project_ids"] = [str(p) for p in project_ids]
    return params


def _rows(client: HttpClient, path: str, params: dict[str, Any], kind: str, parse: Parser) -> list[ReportedRow]:
    rows: list[ReportedRow] = []
    for body in pages(client, path, params, f"OpenAI {kind}"):
        for bucket in buckets(body, kind):
            start_ms = as_int(bucket.get("start_time")) * 1000
            end_ms = as_int(bucket.get("end_time")) * 1000
            for item in results(bucket, kind):
                row = ReportedRow(
                    kind=kind, bucket_start_ms=day_floor_ms(start_ms), bucket_end_ms=end_ms,
                    model=as_str(item.get("model")), project=as_str(item.get("project_id")),
                    partial=start_ms != day_floor_ms(start_ms), raw=raw_json(item),
                )
                parse(item, row)
                rows.append(row)
    return rows


def _cost(item: dict[str, Any], row: ReportedRow) -> None:
    amount = item.get("amount")
    if not isinstance(amount, dict):
        raise ProviderError("OpenAI costs: a result has no amount")
    row.cost_pico, row.amount_raw = money(amount.get("value"), "OpenAI cost amount")
    row.currency = as_str(amount.get("currency")).upper() or "USD"
    row.amount_unit = "unit"
    row.line_item = as_str(item.get("line_item"))
    row.billed = True
    if item.get("quantity") is not None:
        row.quantity = str(item["quantity"])
        row.quantity_unit = as_str(item.get("quantity_unit")) or None


def fetch(client: HttpClient, key: str, window: Window, options: dict[str, Any]) -> Fetched:
    out = Fetched()
    try:
        params = _params(window, ("line_item", "project_id"), options)
        out.rows += _rows(client, "organization/costs", params, "openai.costs", _cost)
        out.covered.append(("openai.costs", window.start_ms, window.end_ms))
        for name, (group_by, parse) in USAGE_ENDPOINTS.items():
            kind = f"openai.usage.{name}"
            try:
                out.rows += _rows(client, f"organization/usage/{name}", _params(window, group_by, options),
                                  kind, parse)
            except NotAvailableError:
                out.notes.append(f"OpenAI {name} usage is not available here")
                continue
            out.covered.append((kind, window.start_ms, window.end_ms))
    except AuthError:
        raise AuthError(auth_message(key)) from None
    return out


def probe(client: HttpClient, key: str, now_ms: int) -> KeyProbe:
    start = day_floor_ms(now_ms) // 1000
    can: list[str] = []
    cannot: list[str] = []
    problem = ""
    for capability, path in (("costs", "organization/costs"), ("usage", "organization/usage/completions")):
        try:
            client.get_json(path, {"start_time": start, "limit": 1})
            can.append(capability)
        except AuthError:
            cannot.append(capability)
            problem = auth_message(key)
        except ProviderError as e:
            cannot.append(capability)
            problem = problem or str(e)
    summary = problem or "this Admin key can read the organization's costs and usage"
    return KeyProbe(ok=not cannot, summary=summary, can_read=can, cannot_read=cannot)
