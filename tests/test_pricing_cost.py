"""Exact cost arithmetic, unit conversions and tier merging (no lookups)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from genai_prices.types import ModelPrice, Tier, TieredPrices

from tracker.domain import Rates, TokenCounts
from tracker.pricing.cost import (
    cost_pico,
    pico_to_usd_per_mtok,
    pico_to_usd_str,
    rates_for_prompt,
    usd_per_mtok_to_pico,
)
from tracker.pricing.genai import _to_rates

FLAT = Rates(input=3, output=15, cache_read=1, cache_write_5m=4, cache_write_1h=6)


def test_every_field_is_billed_once() -> None:
    tokens = TokenCounts(
        input_tokens=1,
        cache_creation_tokens=10,
        cache_creation_1h_tokens=3,
        cache_read_tokens=100,
        output_tokens=1000,
        reasoning_tokens=999,
    )
    assert cost_pico(tokens, FLAT) == 1 * 3 + 7 * 4 + 3 * 6 + 100 * 1 + 1000 * 15


def test_one_hour_count_never_exceeds_all_writes() -> None:
    assert cost_pico(TokenCounts(cache_creation_tokens=2, cache_creation_1h_tokens=5), FLAT) == 2 * 6


def test_highest_exceeded_tier_wins() -> None:
    tier1 = Rates(input=10, output=10, cache_read=10, cache_write_5m=10, cache_write_1h=10)
    tier2 = Rates(input=20, output=20, cache_read=20, cache_write_5m=20, cache_write_1h=20)
    rates = Rates(1, 1, 1, 1, 1, tiers=((100, tier1), (200, tier2)))
    assert rates_for_prompt(rates, 100).input == 1
    assert rates_for_prompt(rates, 101) is tier1
    assert rates_for_prompt(rates, 200) is tier1
    assert rates_for_prompt(rates, 201) is tier2
    assert cost_pico(TokenCounts(input_tokens=150, output_tokens=7), rates) == 157 * 10


@pytest.mark.parametrize(
    ("usd_mtok", "pico"),
    [
        ("3", 3_000_000),
        ("0.0625", 62_500),
        ("0.003625", 3_625),
        ("22.5", 22_500_000),
        ("0", 0),
        ("0.0000005", 0),
        ("0.0000015", 2),
        ("0.0137931", 13_793),
    ],
)
def test_usd_per_mtok_to_pico_rounds_half_even(usd_mtok: str, pico: int) -> None:
    assert usd_per_mtok_to_pico(Decimal(usd_mtok)) == pico


def test_pico_to_usd_per_mtok_is_exact() -> None:
    assert str(pico_to_usd_per_mtok(3_000_000)) == "3"
    assert str(pico_to_usd_per_mtok(62_500)) == "0.0625"
    assert str(pico_to_usd_per_mtok(22_500_000)) == "22.5"
    assert str(pico_to_usd_per_mtok(30_000_000)) == "30"


@pytest.mark.parametrize(
    ("pico", "places", "text"),
    [
        (6_780_000_000, 6, "0.006780"),
        (500_000, 6, "0.000000"),
        (1_500_000, 6, "0.000002"),
        (2_500_000, 6, "0.000002"),
        (12_345_678_900_000_000, 2, "12345.68"),
        (-1_000_000_000_000, 2, "-1.00"),
        (0, 0, "0"),
    ],
)
def test_pico_to_usd_str(pico: int, places: int, text: str) -> None:
    assert pico_to_usd_str(pico, places) == text


def test_tiers_of_different_keys_are_merged_into_full_rate_sets() -> None:
    price = ModelPrice(
        input_mtok=TieredPrices(
            base=Decimal(1), tiers=[Tier(start=100, price=Decimal(2)), Tier(200, Decimal(3))]
        ),
        output_mtok=TieredPrices(base=Decimal(10), tiers=[Tier(start=200, price=Decimal(20))]),
        cache_read_mtok=Decimal("0.5"),
    )
    rates = _to_rates(price)
    assert rates is not None
    assert rates.input == 1_000_000 and rates.output == 10_000_000 and rates.cache_read == 500_000
    assert rates.cache_write_5m == rates.cache_write_1h == 1_000_000  # no write price: billed as input
    (t1, r1), (t2, r2) = rates.tiers
    assert (t1, r1.input, r1.output, r1.cache_read, r1.cache_write_5m) == (
        100,
        2_000_000,
        10_000_000,
        500_000,
        2_000_000,
    )
    assert (t2, r2.input, r2.output, r2.cache_read, r2.cache_write_1h) == (
        200,
        3_000_000,
        20_000_000,
        500_000,
        3_000_000,
    )


def test_a_price_without_per_token_input_and_output_is_not_a_rate() -> None:
    assert _to_rates(ModelPrice(input_mtok=Decimal(1))) is None
