"""OpenRouter: the key's own spend and limit (any key), credits and per-day activity (management key).

``/key`` gives spend today / this week / this month (UTC) and the limit: stored as a balance snapshot.
``/credits`` and ``/activity`` need a management key; with another key the sync says so and goes on.
``/activity`` covers the last 30 completed UTC days in one unpaginated list. Money is USD as JSON numbers.
"""

from __future__ import annotations

from typing import Any

from tracker.providers.base import (
    DAY_MS,
    AuthError,
    BalanceRow,
    Fetched,
    KeyProbe,
    ProviderError,
    ReportedRow,
    Window,
    as_int,
    as_str,
    day_floor_ms,
    dims_json,
    money,
    parse_time_ms,
    raw_json,
)
from tracker.providers.http import HttpClient

ACTIVITY_DAYS = 30
MANAGEMENT_NOTE = "OpenRouter activity needs a management key"
KEY_FIELDS = ("limit", "limit_remaining", "usage", "usage_daily", "usage_weekly", "usage_monthly",
              "byok_usage", "byok_usage_daily", "byok_usage_weekly", "byok_usage_monthly")


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _data(body: object, what: str) -> Any:
    if not isinstance(body, dict) or "data" not in body:
        raise ProviderError(f"OpenRouter {what}: unexpected response shape")
    return body["data"]


def _usd(field: str, value: object, raw: str) -> BalanceRow:
    pico, text = money(value, f"OpenRouter {field}")
    return BalanceRow(field=field, currency="USD", amount_pico=pico, amount_raw=text, raw=raw)


def _key_info(client: HttpClient) -> dict[str, Any]:
    try:
        info = _data(client.get_json("key"), "key")
    except AuthError:
        raise AuthError("OpenRouter refused this key: it is wrong, disabled or expired") from None
    if not isinstance(info, dict):
        raise ProviderError("OpenRouter key: unexpected response shape")
    return info


def _key_balances(info: dict[str, Any]) -> list[BalanceRow]:
    # 'label' is a redacted form of the key itself: not stored.
    raw = raw_json({k: v for k, v in info.items() if k != "label"})
    return [_usd(f"key.{f}", info[f], raw) for f in KEY_FIELDS if info.get(f) is not None]


def _credits(client: HttpClient) -> list[BalanceRow]:
    data = _data(client.get_json("credits"), "credits")
    total, used = data.get("total_credits"), data.get("total_usage")
    raw = raw_json(data)
    rows = [_usd("credits.total_credits", total, raw), _usd("credits.total_usage", used, raw)]
    balance = rows[0].amount_pico - rows[1].amount_pico  # type: ignore[operator] # money() never gives None
    rows.append(BalanceRow(field="credits.balance", currency="USD", amount_pico=balance, amount_raw=None, raw=raw))
    return rows


def _activity(client: HttpClient, window: Window) -> tuple[list[ReportedRow], int]:
    data = _data(client.get_json("activity"), "activity")
    if not isinstance(data, list):
        raise ProviderError("OpenRouter activity: unexpected response shape")
    first = max(window.start_ms, day_floor_ms(window.now_ms) - ACTIVITY_DAYS * DAY_MS)
    rows = []
    for item in data:
        if not isinstance(item, dict):
            raise ProviderError("OpenRouter activity: an item is not an object")
        day = day_floor_ms(parse_time_ms(item.get("date")))
        if not first <= day < window.end_ms:
            continue
        row = ReportedRow(
            kind="openrouter.activity", bucket_start_ms=day, bucket_end_ms=day + DAY_MS,
            model=as_str(item.get("model")), project=as_str(item.get("workspace_id")),
            dims=dims_json({k: item.get(k) for k in ("endpoint_id", "provider_name", "model_permaslug")}),
            input_tokens=as_int(item.get("prompt_tokens")), output_tokens=as_int(item.get("completion_tokens")),
            reasoning_tokens=as_int(item.get("reasoning_tokens")), requests=as_int(item.get("requests")),
            currency="USD", amount_unit="unit", billed=True, raw=raw_json(item),
        )
        row.cost_pico, row.amount_raw = money(item.get("usage", 0), "OpenRouter activity usage")
        rows.append(row)
    return rows, first


def fetch(client: HttpClient, key: str, window: Window, options: dict[str, Any]) -> Fetched:
    out = Fetched()
    info = _key_info(client)
    out.balances += _key_balances(info)
    if info.get("is_management_key") is False and info.get("is_provisioning_key") is not True:
        out.notes.append(f"{MANAGEMENT_NOTE}; only this key's own spend was read")
        return out
    try:
        out.balances += _credits(client)
        rows, first = _activity(client, window)
    except AuthError:
        out.notes.append(f"{MANAGEMENT_NOTE}; only this key's own spend was read")
        return out
    out.rows += rows
    out.covered.append(("openrouter.activity", first, min(window.end_ms, day_floor_ms(window.now_ms))))
    return out


def probe(client: HttpClient, key: str, now_ms: int) -> KeyProbe:
    try:
        info = _key_info(client)
    except ProviderError as e:
        return KeyProbe(ok=False, summary=str(e), can_read=[], cannot_read=["key", "credits", "activity"])
    can = ["key"]
    if info.get("is_management_key") is False and info.get("is_provisioning_key") is not True:
        return KeyProbe(ok=True, summary=f"this key can read its own spend and limit; {MANAGEMENT_NOTE}",
                        can_read=can, cannot_read=["credits", "activity"])
    try:
        client.get_json("credits")
    except AuthError:
        return KeyProbe(ok=True, summary=f"this key can read its own spend and limit; {MANAGEMENT_NOTE}",
                        can_read=can, cannot_read=["credits", "activity"])
    except ProviderError as e:
        return KeyProbe(ok=False, summary=str(e), can_read=can, cannot_read=["credits", "activity"])
    return KeyProbe(ok=True, summary="this management key can read credits, activity and its own spend",
                    can_read=[*can, "credits", "activity"], cannot_read=[])
