"""Prices from the bundled genai-prices snapshot: strict model matching and conversion to :class:`Rates`.

Importing this module imports genai_prices (pydantic, about 0.6 s), so :mod:`tracker.pricing.catalog` imports
it only when a price is first needed. Nothing here touches the network: the bundled snapshot is used and
``UpdatePrices`` is never called.

Matching is stricter than ``genai_prices.calc_price``. A model's curated match clauses count as known aliases
only when they pin the id: ``equals``, an anchored ``regex``, or ``starts_with`` whose remainder does not
continue a version number (``claude-opus-4-1`` does not match ``claude-opus-4-10``; an 8-digit date such as
``claude-sonnet-4-2025`` + ``0514`` is fine). ``contains`` and ``ends_with`` clauses are loose substrings that
can name another model, so they never count.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

import genai_prices
from genai_prices import data_snapshot
from genai_prices.types import (
    ClauseAnd,
    ClauseEquals,
    ClauseOr,
    ClauseRegex,
    ClauseStartsWith,
    ModelInfo,
    ModelPrice,
    Provider,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)

from tracker.domain import Rates
from tracker.pricing.cost import usd_per_mtok_to_pico

VERSION: str = genai_prices.__version__

# Fast mode where the data has no ``speed: fast`` variant: the multipliers ccusage ships in
# rust/crates/ccusage/src/fast-multiplier-overrides.json (spec local-logs.md §1.5). Anthropic priced Opus 4.6
# fast mode at $30/$150 per MTok, 6x standard, with the caching multipliers on top, so every rate scales.
FAST_MULTIPLIERS: Mapping[str, int] = {"anthropic:claude-opus-4-6": 6, "anthropic:claude-opus-4-7": 6}

_COMPACT_DATE = re.compile(r"-(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)")
_PriceValue = Decimal | TieredPrices | None


@dataclass(frozen=True, slots=True)
class GenaiMatch:
    """A genai-prices model that a log's model name names exactly."""

    provider: Provider
    model: ModelInfo
    clause: str  # the clause that matched, for `prices show`

    @property
    def price_model_id(self) -> str:
        return f"{self.provider.id}:{self.model.id}"

    @property
    def time_of_day(self) -> bool:
        """Whether the price depends on the time of day (DeepSeek off-peak), not only on the date."""
        prices = self.model.prices if isinstance(self.model.prices, list) else []
        constraints = [p.constraint for p in prices] + [v.constraint for v in self.model.price_variants or ()]
        return any(isinstance(c, TimeOfDateConstraint) for c in constraints)


@dataclass(frozen=True, slots=True)
class GenaiPrice:
    rates: Rates
    note: str


def provider_ids() -> frozenset[str]:
    return frozenset(p.id for p in data_snapshot.get_snapshot().providers)


def find_model(name: str, preferred: Sequence[str], *, detect: bool = True) -> GenaiMatch | None:
    """The model ``name`` names exactly: in the ``preferred`` providers first, then (if ``detect``) in every
    provider whose own model pattern (genai-prices' provider detection) matches the name.

    Cached: the catalog asks once per model *and day* (prices are dated), but the match depends on the name
    only, and finding it walks every clause of every provider (about 0.6 ms).
    """
    return _find_model(name, tuple(preferred), detect)


@functools.lru_cache(maxsize=1024)
def _find_model(name: str, preferred: tuple[str, ...], detect: bool) -> GenaiMatch | None:
    providers = data_snapshot.get_snapshot().providers
    candidates = [p for pid in preferred if (p := data_snapshot.find_provider_by_id(providers, pid))]
    if detect:
        candidates += [p for p in providers if p.model_match is not None and p.model_match.is_match(name)]
    refs = [name]
    if (compact := _dashed_dates(name)) != name:
        refs.append(compact)  # genai-prices' own fallback: gpt-5.2-20251211 -> gpt-5.2-2025-12-11
    seen: set[str] = set()
    for provider in candidates:
        if provider.id in seen:
            continue
        seen.add(provider.id)
        for ref in refs:
            for model in provider.models:
                if (clause := _strict_match(model.match, ref)) is not None:
                    return GenaiMatch(provider, model, clause)
    return None


def price_at(match: GenaiMatch, when: datetime, context: Mapping[str, str] | None) -> GenaiPrice | None:
    """Rates of ``match`` at ``when`` (UTC), with the request ``context`` (e.g. ``{"speed": "fast"}``) applied
    through the model's price variants; None when the data has no per-token input and output price."""
    standard = match.model.get_prices(when)
    resolved = match.model.get_prices(when, context) if context else standard
    rates = _to_rates(resolved)
    if rates is None:
        return None
    notes = [f"{match.price_model_id} (genai-prices {VERSION}, {match.clause})", _price_period(match, when)]
    if context and resolved != standard:
        notes.append("variant " + ", ".join(f"{k}={v}" for k, v in context.items()))
    elif context and context.get("speed") == "fast" and match.price_model_id in FAST_MULTIPLIERS:
        factor = FAST_MULTIPLIERS[match.price_model_id]
        rates = _scaled(rates, factor)
        notes.append(f"fast mode: {factor}x the standard rates (Token Ledger table)")
    elif context:
        asked = ", ".join(f"{k}={v}" for k, v in context.items())
        notes.append(f"no price for {asked} in the data on this date: standard rates")
    return GenaiPrice(rates, "; ".join(notes))


def _strict_match(clause: object, ref: str) -> str | None:
    """A description of the clause that pins ``ref`` to this model, or None (see the module docstring)."""
    if isinstance(clause, ClauseEquals):
        return f"equals {clause.equals!r}" if ref == clause.equals.lower() else None
    if isinstance(clause, ClauseStartsWith):
        prefix = clause.starts_with.lower()
        ok = ref.startswith(prefix) and _clean_tail(prefix, ref[len(prefix) :])
        return f"starts_with {clause.starts_with!r}" if ok else None
    if isinstance(clause, ClauseRegex):
        ok = clause.regex.startswith("^") and re.search(clause.regex, ref) is not None
        return f"regex {clause.regex!r}" if ok else None
    if isinstance(clause, ClauseOr):
        return next((d for c in clause.or_ if (d := _strict_match(c, ref)) is not None), None)
    if isinstance(clause, ClauseAnd) and all(c.is_match(ref) for c in clause.and_):
        return next((d for c in clause.and_ if (d := _strict_match(c, ref)) is not None), None)
    return None  # contains, ends_with: loose


def _clean_tail(prefix: str, tail: str) -> bool:
    """Whether ``tail`` after a ``starts_with`` prefix leaves the model id alone (no version continuation)."""
    if not tail or not prefix[-1:].isdigit():
        return True
    if tail[0] == "." and tail[1:2].isdigit():
        return False  # claude-haiku-4-5 + .1
    if not tail[0].isdigit():
        return True
    head = len(prefix) - len(prefix.rstrip("0123456789"))
    run = head + len(tail) - len(tail.lstrip("0123456789"))
    return run == 8  # claude-sonnet-4-2025 + 0514 is a date; claude-opus-4-1 + 0 is another model


def _dashed_dates(ref: str) -> str:
    def dashed(m: re.Match[str]) -> str:
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return m.group(0)
        return f"-{day.isoformat()}"

    return _COMPACT_DATE.sub(dashed, ref)


def _price_period(match: GenaiMatch, when: datetime) -> str:
    prices = match.model.prices
    if isinstance(prices, ModelPrice):
        return "the model's only price"
    chosen = next(
        (p for p in reversed(prices) if p.constraint is None or p.constraint.active(when)), prices[0]
    )
    constraint = chosen.constraint
    if isinstance(constraint, StartDateConstraint):
        return f"price since {constraint.start_date.isoformat()}"
    if isinstance(constraint, TimeOfDateConstraint):
        return f"time-of-day price {constraint.start_time:%H:%M}-{constraint.end_time:%H:%M} UTC"
    return "first listed price (before any dated change)"


def _to_rates(price: ModelPrice) -> Rates | None:
    values: dict[str, _PriceValue] = vars(price)
    if values.get("input_mtok") is None or values.get("output_mtok") is None:
        return None
    thresholds = sorted({t.start for v in values.values() if isinstance(v, TieredPrices) for t in v.tiers})
    base = _rates_above(values, None)
    return replace(base, tiers=tuple((t, _rates_above(values, t)) for t in thresholds))


def _rates_above(values: Mapping[str, _PriceValue], threshold: int | None) -> Rates:
    """Flat rates for prompts above ``threshold`` (None: the base tier).

    Missing keys fall back like genai-prices' unit hierarchy: a cache read or write with no price of its own
    is input; a 5-minute or 1-hour write with no price of its own is a cache write.
    """

    def pico(key: str) -> int | None:
        value = values.get(key)
        if isinstance(value, TieredPrices):
            value = next(
                (t.price for t in reversed(value.tiers) if threshold is not None and t.start <= threshold),
                value.base,
            )
        return None if value is None else usd_per_mtok_to_pico(value)

    input_rate = pico("input_mtok")
    output_rate = pico("output_mtok")
    assert input_rate is not None and output_rate is not None  # checked by _to_rates
    write = _first(pico("cache_write_mtok"), input_rate)
    return Rates(
        input=input_rate,
        output=output_rate,
        cache_read=_first(pico("cache_read_mtok"), input_rate),
        cache_write_5m=_first(pico("cache_write_5m_mtok"), write),
        cache_write_1h=_first(pico("cache_write_1h_mtok"), write),
    )


def _first(value: int | None, default: int) -> int:
    return default if value is None else value


def _scaled(rates: Rates, factor: int) -> Rates:
    return Rates(
        input=rates.input * factor,
        output=rates.output * factor,
        cache_read=rates.cache_read * factor,
        cache_write_5m=rates.cache_write_5m * factor,
        cache_write_1h=rates.cache_write_1h * factor,
        tiers=tuple((t, _scaled(r, factor)) for t, r in rates.tiers),
    )
