"""DeepSeek and Moonshot (Kimi): balance endpoints only. Each sync stores one balance snapshot.

DeepSeek sends decimal strings per currency (CNY or USD). Moonshot sends floats with no currency field: USD
on api.moonshot.ai, CNY on api.moonshot.cn (the account option ``currency`` overrides the guess).
"""

from __future__ import annotations

from typing import Any

from tracker.providers.base import (
    AuthError,
    BalanceRow,
    Fetched,
    KeyProbe,
    ProviderError,
    Window,
    as_str,
    money,
    raw_json,
)
from tracker.providers.http import HttpClient


def headers(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _balance(field: str, currency: str, value: object, raw: str) -> BalanceRow:
    pico, text = money(value, f"balance {field}")
    return BalanceRow(field=field, currency=currency, amount_pico=pico, amount_raw=text, raw=raw)


def deepseek_balances(client: HttpClient) -> list[BalanceRow]:
    try:
        body = client.get_json("user/balance")
    except AuthError:
        raise AuthError("DeepSeek refused this API key: it is wrong or was deleted") from None
    infos = body.get("balance_infos") if isinstance(body, dict) else None
    if not isinstance(infos, list):
        raise ProviderError("DeepSeek balance: unexpected response shape")
    rows = []
    for info in infos:
        if not isinstance(info, dict):
            raise ProviderError("DeepSeek balance: unexpected response shape")
        currency, raw = as_str(info.get("currency")).upper(), raw_json({**info, "is_available": body.get(
            "is_available")})
        for name in ("total_balance", "granted_balance", "topped_up_balance"):
            if info.get(name) is not None:
                rows.append(_balance(name.removesuffix("_balance"), currency, info[name], raw))
    return rows


def moonshot_currency(base_url: str, options: dict[str, Any]) -> str:
    chosen = options.get("currency")
    if isinstance(chosen, str) and chosen:
        return chosen.upper()
    host = base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return "CNY" if host.endswith(".cn") else "USD" if host.endswith(".ai") else ""


def moonshot_balances(client: HttpClient, currency: str) -> list[BalanceRow]:
    try:
        body = client.get_json("users/me/balance")
    except AuthError:
        raise AuthError("Moonshot refused this API key: it is wrong or was deleted") from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise ProviderError("Moonshot balance: unexpected response shape")
    raw = raw_json(data)
    return [_balance(name.removesuffix("_balance"), currency, data[name], raw)
            for name in ("available_balance", "voucher_balance", "cash_balance") if data.get(name) is not None]


def fetch_deepseek(client: HttpClient, key: str, window: Window, options: dict[str, Any]) -> Fetched:
    return Fetched(balances=deepseek_balances(client))


def fetch_moonshot(client: HttpClient, key: str, window: Window, options: dict[str, Any]) -> Fetched:
    return Fetched(balances=moonshot_balances(client, moonshot_currency(str(options.get("_base_url", "")),
                                                                         options)))


def probe_deepseek(client: HttpClient, key: str, now_ms: int) -> KeyProbe:
    return _probe(lambda: deepseek_balances(client))


def probe_moonshot(client: HttpClient, key: str, now_ms: int) -> KeyProbe:
    return _probe(lambda: moonshot_balances(client, ""))


def _probe(read: Any) -> KeyProbe:
    try:
        read()
    except ProviderError as e:
        return KeyProbe(ok=False, summary=str(e), can_read=[], cannot_read=["balance"])
    return KeyProbe(ok=True, summary="this key can read the account balance (there is no usage history API)",
                    can_read=["balance"], cannot_read=[])
