"""The user's price overrides: a small TOML file for gateways, negotiated rates and model aliases.

Format (documented for users in docs/pricing.md)::

    [aliases]
    "kimi-for-coding" = "kimi-k2.5"          # price model A as model B ("provider:model" pins a provider)

    [[price]]
    model = "my-gateway-model"                 # the model name as it appears in the logs
    input_mtok = 1.0                           # USD per million tokens; required
    output_mtok = 2.0                          # required
    cache_read_mtok = 0.1                      # optional, default: input_mtok
    cache_write_mtok = 1.25                    # optional (5-minute writes), default: input_mtok
    cache_write_1h_mtok = 2.0                  # optional, default: cache_write_mtok
    since = 2026-01-01                         # optional; several entries for one model give dated prices
    speed = "fast"                             # optional; the entry then prices only requests of that speed

A malformed file raises :class:`PriceOverridesError` whose message names the file, the entry and the problem.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from tracker.domain import Rates
from tracker.pricing.cost import usd_per_mtok_to_pico

_PRICE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok")
_ENTRY_KEYS = frozenset({"model", *_PRICE_KEYS, "since", "speed"})
_TOP_KEYS = frozenset({"aliases", "price"})


class PriceOverridesError(Exception):
    """The overrides file cannot be used; the message is meant for the user as is."""


@dataclass(frozen=True, slots=True)
class OverridePrice:
    """One ``[[price]]`` entry."""

    model: str
    rates: Rates
    since: dt.date | None = None
    speed: str | None = None


@dataclass(frozen=True, slots=True)
class PriceOverrides:
    """Parsed overrides. Model names are matched case-insensitively."""

    aliases: Mapping[str, str] = field(default_factory=dict)
    prices: Mapping[str, tuple[OverridePrice, ...]] = field(default_factory=dict)  # sorted by ``since``

    def price_for(self, model: str, day: dt.date, speed: str | None) -> OverridePrice | None:
        """The entry in force on ``day``: the latest ``since`` not after it, same speed preferred."""
        entries = self.prices.get(model.lower(), ())
        for wanted in (speed, None) if speed else (None,):
            current = None
            for entry in entries:
                if entry.speed == wanted and (entry.since is None or entry.since <= day):
                    current = entry
            if current is not None:
                return current
        return None

    def alias_for(self, model: str) -> str | None:
        return self.aliases.get(model.lower())


def load_overrides(path: Path | None) -> tuple[PriceOverrides, bytes | None]:
    """Parse the file at ``path``; a missing file (or None) means no overrides. Also returns its bytes."""
    if path is None:
        return PriceOverrides(), None
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return PriceOverrides(), None
    except OSError as exc:
        raise PriceOverridesError(f"{path}: cannot read the price overrides file: {exc.strerror}") from None
    return parse_overrides(content, path), content


def parse_overrides(content: bytes, path: Path) -> PriceOverrides:
    try:
        doc = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise PriceOverridesError(f"{path}: the price overrides file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PriceOverridesError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise PriceOverridesError(f"{path}: unknown section {unknown[0]!r}; expected [aliases] or [[price]]")
    aliases = _parse_aliases(doc.get("aliases", {}), path)
    return PriceOverrides(aliases=aliases, prices=_parse_prices(doc.get("price", []), path))


def _parse_aliases(raw: Any, path: Path) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise PriceOverridesError(f'{path}: [aliases] must be a table of "model" = "priced as model" lines')
    aliases: dict[str, str] = {}
    for name, target in raw.items():
        if not isinstance(target, str) or not target.strip():
            raise PriceOverridesError(f"{path}: alias {name!r} must name a model as a non-empty string")
        if not name.strip() or name.strip().lower() == target.strip().lower():
            raise PriceOverridesError(f"{path}: alias {name!r} must name a different model")
        aliases[name.strip().lower()] = target.strip()
    return aliases


def _parse_prices(raw: Any, path: Path) -> dict[str, tuple[OverridePrice, ...]]:
    if not isinstance(raw, list):
        raise PriceOverridesError(f"{path}: prices must be written as [[price]] entries")
    by_model: dict[str, list[OverridePrice]] = {}
    for number, item in enumerate(raw, start=1):
        entry = _parse_entry(item, f"{path}: [[price]] entry {number}")
        same = by_model.setdefault(entry.model.lower(), [])
        if any(e.since == entry.since and e.speed == entry.speed for e in same):
            when = f"since {entry.since}" if entry.since else "without a since date"
            raise PriceOverridesError(
                f"{path}: [[price]] entry {number} (model {entry.model!r}): a second price {when}"
            )
        same.append(entry)
    return {
        model: tuple(sorted(entries, key=lambda e: e.since or dt.date.min))
        for model, entries in by_model.items()
    }


def _parse_entry(item: Any, where: str) -> OverridePrice:
    if not isinstance(item, dict):
        raise PriceOverridesError(f"{where}: must be a table of keys such as model and input_mtok")
    model = item.get("model")
    if not isinstance(model, str) or not model.strip():
        raise PriceOverridesError(f'{where}: needs model = "<model name as it appears in the logs>"')
    where = f"{where} (model {model.strip()!r})"
    unknown = sorted(set(item) - _ENTRY_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_ENTRY_KEYS))
        raise PriceOverridesError(f"{where}: unknown key {unknown[0]!r}; allowed keys: {allowed}")
    for required in ("input_mtok", "output_mtok"):
        if required not in item:
            raise PriceOverridesError(f"{where}: {required} is required (USD per million tokens)")
    pico = {key: usd_per_mtok_to_pico(_price(item[key], key, where)) for key in _PRICE_KEYS if key in item}
    write_5m = pico.get("cache_write_mtok", pico["input_mtok"])
    rates = Rates(
        input=pico["input_mtok"],
        output=pico["output_mtok"],
        cache_read=pico.get("cache_read_mtok", pico["input_mtok"]),
        cache_write_5m=write_5m,
        cache_write_1h=pico.get("cache_write_1h_mtok", write_5m),
    )
    return OverridePrice(
        model.strip(), rates, _since(item.get("since"), where), _speed(item.get("speed"), where)
    )


def _price(value: Any, key: str, where: str) -> Decimal:
    # TOML floats go through str(): Python prints the shortest exact form, so 0.1 stays 0.1 and not 0.1000…5.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PriceOverridesError(f"{where}: {key} must be a number of USD per million tokens, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise PriceOverridesError(f"{where}: {key} must be a finite number, got {value!r}")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        raise PriceOverridesError(f"{where}: {key} must be a number, got {value!r}") from None
    if not price.is_finite() or price < 0:
        raise PriceOverridesError(f"{where}: {key} must be a number of at least 0, got {value!r}")
    return price


def _since(value: Any, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PriceOverridesError(f"{where}: since must be a date like 2026-01-01, got {value!r}")


def _speed(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise PriceOverridesError(f'{where}: speed must be a string such as "fast", got {value!r}')
    return value.strip().lower()
