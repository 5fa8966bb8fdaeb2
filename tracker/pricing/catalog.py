"""The price catalog: which rates bill a given model at a given moment, or None when nobody knows (unpriced).

Sources, first match wins: the user's overrides file (``[[price]]`` entries, then ``[aliases]``), then the
genai-prices snapshot bundled with the installed package (see :mod:`tracker.pricing.genai`). An unknown model
is never priced at $0: :meth:`PriceCatalog.rates_for` returns None and the caller marks the row unpriced.

Prices are resolved per UTC day (dated prices change at UTC midnight) and cached, so pricing millions of rows
costs one dict lookup each after the first row of a (model, day). Models whose price depends on the time of
day (DeepSeek off-peak) are cached per minute instead. genai-prices is imported on the first cache miss only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from tracker.domain import Rates
from tracker.pricing.fingerprint import price_fingerprint
from tracker.pricing.names import ModelName, normalise_model
from tracker.pricing.overrides import PriceOverrides, PriceOverridesError, load_overrides

__all__ = ["PriceCatalog", "PriceLookup", "PriceOrigin", "PriceOverridesError"]

# Bump when a change here or in genai.py/overrides.py/cost.py can change a stored row's price.

PriceOrigin = Literal["genai-prices", "override"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS_PER_DAY = 86_400_000
_MS_PER_MINUTE = 60_000
_SOURCE_PROVIDERS = {"claude_code": ("anthropic",), "codex": ("openai",)}
_NO_CONTEXT_SPEEDS = frozenset({"", "standard", "default", "auto"})
_MISSING = object()
_PER_MINUTE = object()  # day-cache marker: this model's price depends on the time of day


@dataclass(frozen=True, slots=True)
class PriceLookup:
    """The rates that bill one model at one moment, and where they came from."""

    rates: Rates
    price_model_id: str  # "anthropic:claude-sonnet-4-5", or "override:<model>" for a [[price]] entry
    origin: PriceOrigin
    note: str = ""  # how the price was found (clause, dated entry, variant), for `token-ledger prices show`


class PriceCatalog:
    """Looks up dated per-token rates. Not thread-safe: give each thread its own catalog."""

    def __init__(self, overrides_path: Path | None) -> None:
        """Reads and checks the overrides file now; raises PriceOverridesError if it is malformed."""
        self.overrides_path = overrides_path
        self._overrides, self._overrides_bytes = load_overrides(overrides_path)
        self._by_day: dict[tuple[str, str, str | None, int], object] = {}
        self._by_minute: dict[tuple[str, str, str | None, int], PriceLookup | None] = {}
        self._fingerprint: str | None = None

    def rates_for(
        self, model: str | None, ts_ms: int, *, source: str, speed: str | None = None
    ) -> PriceLookup | None:
        """Rates for a request to ``model`` at ``ts_ms`` (UTC ms), or None when the model is unpriced."""
        if not model:
            return None
        day_key = (model, source, speed, ts_ms // _MS_PER_DAY)
        hit = self._by_day.get(day_key, _MISSING)
        if hit is _PER_MINUTE:
            minute_key = (model, source, speed, ts_ms // _MS_PER_MINUTE)
            if minute_key not in self._by_minute:
                self._by_minute[minute_key] = self._resolve(model, ts_ms, source, speed)[0]
            return self._by_minute[minute_key]
        if hit is not _MISSING:
            return cast("PriceLookup | None", hit)  # stored below
        lookup, per_minute = self._resolve(model, ts_ms, source, speed)
        if per_minute:
            self._by_day[day_key] = _PER_MINUTE
            self._by_minute[(model, source, speed, ts_ms // _MS_PER_MINUTE)] = lookup
        else:
            self._by_day[day_key] = lookup
        return lookup

    def fingerprint(self) -> str:
        """Changes whenever stored prices may be stale: genai-prices version, overrides content, our code."""
        if self._fingerprint is None:
            self._fingerprint = price_fingerprint(self._overrides_bytes)
        return self._fingerprint

    @property
    def overrides(self) -> PriceOverrides:
        return self._overrides

    def _resolve(
        self, model: str, ts_ms: int, source: str, speed: str | None
    ) -> tuple[PriceLookup | None, bool]:
        """The lookup, and whether it may differ within the day (time-of-day prices)."""
        name = normalise_model(model)
        if name is None:
            return None, False
        when = _EPOCH + dt.timedelta(milliseconds=ts_ms)  # exact, unlike fromtimestamp(float)
        request = _Request(when, source, speed.strip().lower() if speed else None)
        raw = model.strip()
        for key in dict.fromkeys((raw, name.model)):
            if (found := self._override(key, request)) is not None:
                return found, False
        for key in dict.fromkeys((raw, name.model)):
            if (target := self._overrides.alias_for(key)) is not None:
                return self._aliased(key, target, request)
        return self._from_genai(name, request)

    def _override(self, model: str, request: _Request) -> PriceLookup | None:
        entry = self._overrides.price_for(model, request.when.date(), request.speed)
        if entry is None:
            return None
        since = f", since {entry.since.isoformat()}" if entry.since else ""
        on_speed = f", speed {entry.speed}" if entry.speed else ""
        note = f"[[price]] model = {entry.model!r}{since}{on_speed} in {self.overrides_path}"
        return PriceLookup(entry.rates, f"override:{entry.model}", "override", note)

    def _aliased(self, alias: str, target: str, request: _Request) -> tuple[PriceLookup | None, bool]:
        """Price ``alias`` as ``target``: the target's own override, else its genai-prices entry."""
        lookup: PriceLookup | None = self._override(target, request)
        per_minute = False
        if lookup is None:
            lookup, per_minute = self._from_genai(_alias_target(target), request)
        if lookup is None:
            return None, per_minute
        note = f"{alias!r} priced as {target!r} ([aliases] in {self.overrides_path}); {lookup.note}"
        return PriceLookup(lookup.rates, lookup.price_model_id, "override", note), per_minute

    @staticmethod
    def _from_genai(name: ModelName | None, request: _Request) -> tuple[PriceLookup | None, bool]:
        from tracker.pricing import genai

        if name is None:
            return None, False
        pinned = name.provider_hints[:1] if name.pinned else ()
        preferred = pinned or (*name.provider_hints, *_SOURCE_PROVIDERS.get(request.source, ()))
        match = genai.find_model(name.model, preferred, detect=not pinned)
        if match is None:
            return None, False
        price = genai.price_at(match, request.when, _price_context(request.source, request.speed))
        if price is None:
            return None, match.time_of_day
        return PriceLookup(price.rates, match.price_model_id, "genai-prices", price.note), match.time_of_day


@dataclass(frozen=True, slots=True)
class _Request:
    when: dt.datetime  # UTC
    source: str
    speed: str | None  # lower-case


def _alias_target(target: str) -> ModelName | None:
    """An alias target: a model name, or "provider:model" to pin a genai-prices provider."""
    from tracker.pricing import genai

    provider, _, model = target.strip().lower().partition(":")
    if model and provider in genai.provider_ids():
        return ModelName(model, (provider,), pinned=True)
    return normalise_model(target)


def _price_context(source: str, speed: str | None) -> dict[str, str] | None:
    """genai-prices request context: Claude Code's ``speed`` or Codex's service tier."""
    if speed is None or speed in _NO_CONTEXT_SPEEDS:
        return None
    return {"service_tier" if source == "codex" else "speed": speed}

