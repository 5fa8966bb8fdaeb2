"""Price lookups on the real genai-prices snapshot, with costs computed by hand in pico-dollars.

Rates are pico-dollars per token: $3 per million tokens = 3,000,000.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.domain import Rates, TokenCounts
from tracker.pricing.catalog import PriceCatalog, PriceLookup
from tracker.pricing.cost import cost_pico


def ms(when: str) -> int:
    """UTC milliseconds of an ISO date or date-time."""
    moment = dt.datetime.fromisoformat(when)
    return int(moment.replace(tzinfo=dt.UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog(None)


def price(
    catalog: PriceCatalog, model: str | None, when: str, source: str = "claude_code", **kw: str
) -> PriceLookup:
    lookup = catalog.rates_for(model, ms(when), source=source, **kw)
    assert lookup is not None, f"{model} should be priced"
    return lookup


SONNET_45 = Rates(
    input=3_000_000, output=15_000_000, cache_read=300_000, cache_write_5m=3_750_000, cache_write_1h=6_000_000
)


def test_sonnet_45_rates_and_long_context_tier(catalog: PriceCatalog) -> None:
    lookup = price(catalog, "claude-sonnet-4-5-20250929", "2025-10-01")
    assert lookup.price_model_id == "anthropic:claude-sonnet-4-5"
    assert lookup.origin == "genai-prices"
    assert _flat(lookup.rates) == SONNET_45
    [(threshold, tier)] = lookup.rates.tiers
    assert threshold == 200_000
    assert tier == Rates(
        input=6_000_000,
        output=22_500_000,
        cache_read=600_000,
        cache_write_5m=7_500_000,
        cache_write_1h=12_000_000,
    )


def test_cache_writes_5m_and_1h_are_priced_apart(catalog: PriceCatalog) -> None:
    rates = price(catalog, "claude-sonnet-4-5-20250929", "2025-10-01").rates
    all_5m = TokenCounts(cache_creation_tokens=1000)
    all_1h = TokenCounts(cache_creation_tokens=1000, cache_creation_1h_tokens=1000)
    assert cost_pico(all_5m, rates) == 1000 * 3_750_000 == 3_750_000_000  # $0.00375
    assert cost_pico(all_1h, rates) == 1000 * 6_000_000 == 6_000_000_000  # $0.006
    mixed = TokenCounts(
        input_tokens=10,
        cache_creation_tokens=1000,
        cache_creation_1h_tokens=400,
        cache_read_tokens=2000,
        output_tokens=100,
    )
    # 10*3e6 + 600*3.75e6 + 400*6e6 + 2000*0.3e6 + 100*15e6 = 30e6 + 2250e6 + 2400e6 + 600e6 + 1500e6
    assert cost_pico(mixed, rates) == 6_780_000_000


def test_cache_reads(catalog: PriceCatalog) -> None:
    rates = price(catalog, "claude-sonnet-4-5", "2025-10-01").rates
    assert cost_pico(TokenCounts(cache_read_tokens=150_000), rates) == 150_000 * 300_000 == 45_000_000_000


def test_long_context_tier_bills_the_whole_request(catalog: PriceCatalog) -> None:
    rates = price(catalog, "claude-sonnet-4-5-20250929", "2025-10-01").rates
    at_limit = TokenCounts(cache_read_tokens=200_000, output_tokens=1000)  # prompt 200,000: not above
    assert cost_pico(at_limit, rates) == 200_000 * 300_000 + 1000 * 15_000_000 == 75_000_000_000
    over = TokenCounts(input_tokens=1, cache_read_tokens=200_000, output_tokens=1000)  # prompt 200,001
    # every token at the tier rates, output included: 1*6e6 + 200000*0.6e6 + 1000*22.5e6
    assert cost_pico(over, rates) == 6_000_000 + 120_000_000_000 + 22_500_000_000 == 142_506_000_000


def test_opus_46_long_context_premium_ends_on_2026_03_13(catalog: PriceCatalog) -> None:
    before = price(catalog, "claude-opus-4-6", "2026-03-12T23:59:59.999")
    after = price(catalog, "claude-opus-4-6", "2026-03-13T00:00:00")
    assert [t for t, _ in before.rates.tiers] == [200_000]
    assert after.rates.tiers == ()
    assert "price since 2026-03-13" in after.note
    big = TokenCounts(input_tokens=300_000, output_tokens=1000)
    assert cost_pico(big, before.rates) == 300_000 * 10_000_000 + 1000 * 37_500_000 == 3_037_500_000_000
    assert cost_pico(big, after.rates) == 300_000 * 5_000_000 + 1000 * 25_000_000 == 1_525_000_000_000


def test_retired_anthropic_id_is_priced(catalog: PriceCatalog) -> None:
    lookup = price(catalog, "claude-sonnet-4-20250514", "2025-06-01")
    assert lookup.price_model_id == "anthropic:claude-sonnet-4-0"
    assert (lookup.rates.input, lookup.rates.output) == (3_000_000, 15_000_000)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-5-codex", "openai:gpt-5"),
        ("gpt-5.1-codex-max", "openai:gpt-5.1"),
        ("gpt-5.1-codex", "openai:gpt-5.1"),
    ],
)
def test_codex_models_priced_as_their_genai_prices_entries(
    catalog: PriceCatalog, model: str, expected: str
) -> None:
    lookup = price(catalog, model, "2025-12-01", source="codex")
    assert lookup.price_model_id == expected
    assert lookup.rates == Rates(
        input=1_250_000,
        output=10_000_000,
        cache_read=125_000,
        cache_write_5m=1_250_000,
        cache_write_1h=1_250_000,
    )
    # input is the uncached part (the source subtracts cached input); reasoning is inside output, never added
    tokens = TokenCounts(input_tokens=1000, cache_read_tokens=9000, output_tokens=500, reasoning_tokens=200)
    assert (
        cost_pico(tokens, lookup.rates)
        == 1000 * 1_250_000 + 9000 * 125_000 + 500 * 10_000_000
        == 7_375_000_000
    )


def test_codex_cache_writes_use_the_cache_write_price_when_the_model_has_one(catalog: PriceCatalog) -> None:
    gpt56 = price(catalog, "gpt-5.6", "2026-08-01", source="codex")
    assert gpt56.price_model_id == "openai:gpt-5.6-sol"
    assert (gpt56.rates.input, gpt56.rates.cache_write_5m) == (5_000_000, 6_250_000)
    assert (
        price(catalog, "gpt-5.6", "2026-08-21", source="codex").rates.cache_write_5m == 5_000_000
    )  # dated cut
    gpt5 = price(catalog, "gpt-5", "2026-08-01", source="codex")
    assert gpt5.rates.cache_write_5m == gpt5.rates.input  # no cache-write price: billed as input


def test_codex_service_tier_uses_the_datas_variant_from_its_date(catalog: PriceCatalog) -> None:
    priority = price(catalog, "gpt-5.4", "2026-10-13", source="codex", speed="priority")
    assert (priority.rates.input, priority.rates.output) == (5_000_000, 30_000_000)
    assert "variant service_tier=priority" in priority.note
    earlier = price(catalog, "gpt-5.4", "2026-05-13", source="codex", speed="priority")
    assert earlier.rates.input == 2_500_000  # tier history before 2026-10-12 is not in the data
    assert "standard rates" in earlier.note


@pytest.mark.parametrize(
    "model", ["no-such-model", "kimi-for-coding", "claude-opus-4-10", "gpt-5-turbo-ultra"]
)
def test_unknown_models_are_unpriced(catalog: PriceCatalog, model: str) -> None:
    assert catalog.rates_for(model, ms("2026-01-01"), source="claude_code") is None


@pytest.mark.parametrize("model", ["<synthetic>", None, "", "  "])
def test_synthetic_and_missing_models_are_unpriced(catalog: PriceCatalog, model: str | None) -> None:
    assert catalog.rates_for(model, ms("2026-01-01"), source="claude_code") is None


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-opus-4", "anthropic:claude-opus-4-0"),
        ("claude-opus-4-20250514", "anthropic:claude-opus-4-0"),
        ("claude-opus-4-1", "anthropic:claude-opus-4-1"),
        ("claude-opus-4-1-20250805", "anthropic:claude-opus-4-1"),
        ("claude-opus-4-5@20251101", "anthropic:claude-opus-4-5"),  # Vertex
        ("anthropic/claude-sonnet-4-5", "anthropic:claude-sonnet-4-5"),
        ("openrouter/anthropic/claude-sonnet-4.5", "anthropic:claude-sonnet-4-5"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic:claude-sonnet-4-5"),  # Bedrock
        ("Claude-Haiku-4-5-20251001", "anthropic:claude-haiku-4-5"),
        ("openai/gpt-5.5", "openai:gpt-5.5"),
        ("gpt-5.2-20251211", "openai:gpt-5.2"),  # compact date, as genai-prices itself retries it
    ],
)
def test_model_names_resolve_exactly(catalog: PriceCatalog, model: str, expected: str) -> None:
    assert price(catalog, model, "2026-01-01").price_model_id == expected


def test_gateway_models_in_claude_code_logs_use_provider_detection(catalog: PriceCatalog) -> None:
    assert price(catalog, "deepseek-v4-pro", "2026-09-01T12:00").price_model_id == "deepseek:deepseek-v4-pro"
    assert price(catalog, "kimi-k2.5", "2026-03-01").price_model_id == "moonshotai:kimi-k2.5"
    assert price(catalog, "glm-4.7", "2026-03-01").price_model_id == "zhipuai:GLM-4.7"


def test_anthropic_fast_mode(catalog: PriceCatalog) -> None:
    standard = price(catalog, "claude-opus-4-6", "2026-04-01")
    fast = price(catalog, "claude-opus-4-6", "2026-04-01", speed="fast")
    # no fast variant in the data for Opus 4.6: the documented 6x (Anthropic: $30/$150 per MTok)
    assert (fast.rates.input, fast.rates.output) == (30_000_000, 150_000_000)
    assert fast.rates.cache_write_1h == 6 * standard.rates.cache_write_1h == 60_000_000
    assert "6x" in fast.note
    assert price(catalog, "claude-opus-4-6", "2026-04-01", speed="standard") == standard
    # Opus 4.8 has a `speed: fast` price variant in genai-prices: $10/$50
    opus48 = price(catalog, "claude-opus-4-8", "2026-06-01", speed="fast")
    assert (opus48.rates.input, opus48.rates.output, opus48.rates.cache_read) == (
        10_000_000,
        50_000_000,
        1_000_000,
    )
    assert "variant speed=fast" in opus48.note
    # a model with no known fast price keeps its standard rates and says so
    sonnet = price(catalog, "claude-sonnet-4-5", "2026-04-01", speed="fast")
    assert _flat(sonnet.rates) == SONNET_45
    assert "standard rates" in sonnet.note


def test_time_of_day_prices_are_resolved_per_minute(catalog: PriceCatalog) -> None:
    peak = price(catalog, "deepseek-v4-flash", "2026-09-20T02:00")
    off = price(catalog, "deepseek-v4-flash", "2026-09-20T12:00")
    assert (peak.rates.input, off.rates.input) == (300_000, 150_000)
    assert price(catalog, "deepseek-v4-flash", "2026-09-20T02:00:30").rates == peak.rates


def test_lookups_are_cached_per_day(catalog: PriceCatalog) -> None:
    first = price(catalog, "claude-haiku-4-5-20251001", "2026-02-02T00:00:01")
    assert price(catalog, "claude-haiku-4-5-20251001", "2026-02-02T23:59:59") is first
    assert first.rates.cache_read == 100_000  # $0.10 per MTok


def test_haiku_55_tier_at_100k(catalog: PriceCatalog) -> None:
    rates = price(catalog, "claude-haiku-5-5", "2026-10-01").rates
    assert [(t, r.input, r.output) for t, r in rates.tiers] == [(100_000, 500_000, 2_500_000)]
    assert cost_pico(TokenCounts(input_tokens=100_001), rates) == 100_001 * 500_000


def _flat(rates: Rates) -> Rates:
    return Rates(rates.input, rates.output, rates.cache_read, rates.cache_write_5m, rates.cache_write_1h)
