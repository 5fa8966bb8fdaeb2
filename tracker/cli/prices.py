"""``token-ledger prices``: which price bills a model on a date, and where the user's overrides file lives.

The group reads the overrides path from ``ctx.obj.prices_path``. Imports of the pricing package happen inside
the commands; genai-prices itself is imported only when a price is looked up.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracker.pricing.cost import pico_to_usd_per_mtok

if TYPE_CHECKING:
    from tracker.domain import Rates

_COLUMNS = ("input", "output", "cache read", "cache write 5m", "cache write 1h")


@click.group()
def prices() -> None:
    """Show the prices Token Ledger uses, and where to override them."""


@prices.command("show")
@click.argument("model")
@click.option(
    "--date", "when", metavar="YYYY-MM-DD", help="Price on this UTC date (default: today); a time may follow."
)
@click.option(
    "--source", type=click.Choice(["claude_code", "codex"]), help="Read MODEL as this agent logs it."
)
@click.option(
    "--speed", help='Request speed or service tier, e.g. "fast" (Claude Code) or "priority" (Codex).'
)
@click.pass_context
def show(ctx: click.Context, model: str, when: str | None, source: str | None, speed: str | None) -> None:
    """Show which price entry bills MODEL and its rates in USD per million tokens."""
    from tracker.pricing.catalog import PriceCatalog, PriceOverridesError

    path = _prices_path(ctx)
    moment = _parse_when(when)
    try:
        catalog = PriceCatalog(path)
    except PriceOverridesError as e:
        raise click.ClickException(str(e)) from None
    ts_ms = int(moment.timestamp() * 1000)
    lookup = catalog.rates_for(model, ts_ms, source=source or "", speed=speed)
    if lookup is None:
        click.echo(f"unpriced: no price known for {model}; add one to {path}")
        return
    at = moment.strftime("%Y-%m-%d %H:%M") if moment.time() != dt.time(0) else moment.date().isoformat()
    click.echo(f"{model} on {at} UTC" + (f", source {source}" if source else ""))
    click.echo(f"price:  {lookup.price_model_id} ({lookup.origin})")
    click.echo(f"found:  {lookup.note}")
    for line in _rate_table(lookup.rates):
        click.echo(line)


@prices.command("path")
@click.pass_context
def path(ctx: click.Context) -> None:
    """Print the path of the price overrides file (it need not exist yet)."""
    click.echo(str(_prices_path(ctx)))


def _prices_path(ctx: click.Context) -> Path:
    return Path(ctx.find_root().obj.prices_path)


def _parse_when(value: str | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-13", param_hint="--date") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _rate_table(rates: Rates) -> list[str]:
    rows = [("USD per million tokens", rates)]
    rows += [(f"prompt > {threshold:,} tokens", tier) for threshold, tier in rates.tiers]
    cells = [[label, *(str(pico_to_usd_per_mtok(v)) for v in _values(r))] for label, r in rows]
    header = ["", *_COLUMNS]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *cells]
    ]
    if rates.tiers:
        lines.append(
            "A tier bills every token of a request whose prompt (input + cache reads + writes) exceeds it."
        )
    return lines


def _values(rates: Rates) -> tuple[int, ...]:
    return (rates.input, rates.output, rates.cache_read, rates.cache_write_5m, rates.cache_write_1h)
