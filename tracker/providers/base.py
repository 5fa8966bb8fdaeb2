"""Plain types shared by the provider modules: results, parsed rows, money and time helpers.

Imports no HTTP library, so ``tracker.providers`` stays cheap to import. Money is never a float: amounts are
parsed with ``Decimal(str(value))`` (providers send numbers or strings) and stored as whole 1e-12 units of
their currency (pico-USD for USD) next to the amount exactly as received.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

DAY_MS = 86_400_000
PICO = Decimal(10**12)


class ProviderError(Exception):
    """A problem talking to a provider, in plain words. The message never contains a key."""


class NotAvailableError(ProviderError):
    """The endpoint does not exist for this account (404, or a feature the organization lacks)."""


class AuthError(ProviderError):
    """The key was refused (401/403); the message names the kind of key that is needed."""


class BadRequestError(ProviderError):
    """HTTP 400: the provider refused the request itself (e.g. Anthropic's cap on a dense page)."""


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str
    label: str
    default_base_url: str
    key_hint: str


@dataclass(slots=True)
class KeyProbe:
    ok: bool
    summary: str
    can_read: list[str] = field(default_factory=list)
    cannot_read: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AccountSyncResult:
    ok: bool
    message: str
    rows_new: int = 0
    rows_updated: int = 0
    rows_removed: int = 0
    balances: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ReportedRow:
    """One row of ``provider_usage``: one bucket and group of what a provider reported."""

    kind: str  # e.g. 'openai.costs', 'anthropic.messages' (names in docs/providers.md)
    bucket_start_ms: int
    bucket_end_ms: int
    bucket_width: str = "1d"
    model: str = ""
    project: str = ""
    line_item: str = ""
    dims: str = ""
    input_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_creation_1h_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    requests: int = 0
    quantity: str | None = None
    quantity_unit: str | None = None
    cost_pico: int | None = None
    currency: str | None = None
    amount_raw: str | None = None
    amount_unit: str | None = None
    billed: bool = False  # True: the provider's bill for the bucket (sum these); False: informational
    partial: bool = False
    raw: str = "{}"

    def natural_key(self) -> tuple[str, int, str, str, str, str, str]:
        return (self.kind, self.bucket_start_ms, self.bucket_width, self.model, self.project, self.line_item,
                self.dims)


@dataclass(slots=True)
class BalanceRow:
    """One field of a balance snapshot (``provider_balances``)."""

    field: str
    currency: str
    amount_pico: int | None
    amount_raw: str | None
    raw: str = "{}"


@dataclass(slots=True)
class Window:
    """The UTC-aligned range a sync asks for: ``[start_ms, end_ms)``; ``end_ms`` is the next UTC midnight."""

    start_ms: int
    end_ms: int
    now_ms: int


@dataclass(slots=True)
class Fetched:
    """What one provider returned for one sync, parsed; written to the store in one transaction."""

    rows: list[ReportedRow] = field(default_factory=list)
    balances: list[BalanceRow] = field(default_factory=list)
    covered: list[tuple[str, int, int]] = field(default_factory=list)  # (kind, start_ms, end_ms) fully fetched
    notes: list[str] = field(default_factory=list)


def to_decimal(value: object, what: str) -> Decimal:
    """A money or quantity value sent as a JSON number or a numeric string, exactly."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ProviderError(f"unexpected {what} in the response: {type(value).__name__}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ProviderError(f"unexpected {what} in the response (not a number)") from None
    if not d.is_finite():
        raise ProviderError(f"unexpected {what} in the response (not a finite number)")
    return d


def to_pico(amount: Decimal, minor_per_unit: int = 1) -> int:
    """Whole 1e-12 units of the currency; ``minor_per_unit`` is 100 when the amount is in cents."""
    return int((amount * PICO / minor_per_unit).to_integral_value(rounding=ROUND_HALF_EVEN))


def money(value: object, what: str, minor_per_unit: int = 1) -> tuple[int, str]:
    """(pico units, the amount as received) for a money value; the raw text keeps what the provider sent."""
    return to_pico(to_decimal(value, what), minor_per_unit), str(value)


def as_int(value: object) -> int:
    """A token or request count; missing or null is 0 (fields come and go between API versions)."""
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ProviderError(f"unexpected count in the response: {value!r:.40}")


def as_str(value: object) -> str:
    """A dimension value; null becomes '' (the natural key needs a value, see migration m005)."""
    return "" if value is None else str(value)


def dims_json(values: dict[str, Any]) -> str:
    """Canonical JSON of the extra grouping dimensions that are set; '' when none is."""
    kept = {k: v for k, v in values.items() if v is not None and v != ""}
    return json.dumps(kept, sort_keys=True, separators=(",", ":")) if kept else ""


def raw_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def day_floor_ms(ms: int) -> int:
    return ms - ms % DAY_MS


def iso_z(ms: int) -> str:
    """RFC 3339 with a 'Z' suffix (a '+00:00' would need escaping in the query)."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ymd(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def parse_time_ms(value: object) -> int:
    """Unix seconds, an RFC 3339 timestamp or a YYYY-MM-DD date (taken as UTC) as epoch milliseconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) * 1000
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
    raise ProviderError(f"unexpected time in the response: {value!r:.40}")


# Things that look like API keys (also masked ones such as 'sk-proj-****abcd'), removed from provider messages.
_KEYLIKE = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_*\-]{3,}|\*{3,}[A-Za-z0-9]{0,8}")


def redact(text: str, key: str | None = None) -> str:
    """``text`` with the key and anything key-like replaced, shortened to one line for people."""
    if key:
        text = text.replace(key, "[key]")
    text = _KEYLIKE.sub("[key]", text)
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."
