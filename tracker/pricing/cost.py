"""Exact money arithmetic: the cost of one request from its tokens and rates, and unit conversions.

Rates are whole pico-dollars per token, token counts are integers, so a cost is an exact integer and sums of
costs are exact. Decimal is used only at the edges: converting published USD-per-million-token prices in, and
formatting dollars out.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from tracker.domain import PICO_PER_USD, Rates, TokenCounts

_PICO_PER_USD_PER_MTOK = PICO_PER_USD // 1_000_000  # $1 per million tokens = 1,000,000 pico-dollars per token


def rates_for_prompt(rates: Rates, prompt_tokens: int) -> Rates:
    """The rates that bill a request whose prompt has ``prompt_tokens`` tokens.

    A tier applies when the prompt *exceeds* its threshold (Anthropic and OpenAI long-context pricing, and
    genai-prices' ``TieredPrices``); the highest such tier wins and then bills every token of the request.
    """
    chosen = rates
    for threshold, tier_rates in rates.tiers:
        if prompt_tokens > threshold:
            chosen = tier_rates
    return chosen


def cost_pico(tokens: TokenCounts, rates: Rates) -> int:
    """Estimated cost of one request (or of tokens that all share one tier) in pico-dollars.

    ``cache_creation_1h_tokens`` is the 1-hour part of ``cache_creation_tokens``; the rest was written with
    the 5-minute TTL. ``output_tokens`` already includes reasoning, so ``reasoning_tokens`` is not billed.
    """
    return cost_pico_of(
        (tokens.input_tokens, tokens.cache_creation_tokens, tokens.cache_creation_1h_tokens,
         tokens.cache_read_tokens, tokens.output_tokens),
        rates,
    )


def cost_pico_of(counts: tuple[int, int, int, int, int], rates: Rates) -> int:
    """:func:`cost_pico` of plain counts: (input, cache writes, of which 1-hour writes, cache reads, output).

    The importer prices rows with it, without building a :class:`TokenCounts` per row.
    """
    input_tokens, cache_writes, cache_writes_1h, cache_reads, output = counts
    r = rates_for_prompt(rates, input_tokens + cache_writes + cache_reads) if rates.tiers else rates
    # A 1h count larger than all writes would be a source bug; never let it make the 5m part negative.
    write_1h = min(cache_writes_1h, cache_writes)
    return (
        input_tokens * r.input
        + (cache_writes - write_1h) * r.cache_write_5m
        + write_1h * r.cache_write_1h
        + cache_reads * r.cache_read
        + output * r.output
    )


def usd_per_mtok_to_pico(price: Decimal) -> int:
    """A USD-per-million-tokens price as whole pico-dollars per token ($3/MTok -> 3,000,000).

    Exact for prices with up to six decimal places; finer prices (rare currency conversions) are rounded half
    to even to the nearest pico-dollar per token, an error of at most $0.0000005 per million tokens.
    """
    scaled = price * _PICO_PER_USD_PER_MTOK
    return int(scaled.to_integral_value(rounding=ROUND_HALF_EVEN))


def pico_to_usd_per_mtok(pico_per_token: int) -> Decimal:
    """The inverse of :func:`usd_per_mtok_to_pico`, exact, for display (3,000,000 -> Decimal('3'))."""
    return _plain(Decimal(pico_per_token) / _PICO_PER_USD_PER_MTOK)


def pico_to_usd_str(p: int, places: int = 6) -> str:
    """Pico-dollars as a dollar string with ``places`` decimals, rounded half to even ("0.012346")."""
    quantum = Decimal(1).scaleb(-places)
    usd = (Decimal(p) / PICO_PER_USD).quantize(quantum, rounding=ROUND_HALF_EVEN)
    return f"{usd:f}"


def _plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros and never in exponent notation (Decimal('3'), not '3E+0')."""
    normalised = value.normalize()
    return normalised.quantize(Decimal(1)) if normalised == normalised.to_integral_value() else normalised
