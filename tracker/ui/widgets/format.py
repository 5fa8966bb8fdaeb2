"""How money, token counts and times are written in the window (Qt-free, exact).

Money is shown as dollars rounded half-up to whole cents from exact pico-USD integers; an amount under a cent
that is not zero reads "<$0.01" rather than a misleading "$0.00". Unpriced usage is "unpriced", never $0.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

PICO_PER_CENT = 10**10


def usd(pico: int | None) -> str:
    """``$1,234.57`` from pico-USD, rounded half-even to cents like every other money figure (the CLI's tables,
    the client report: ``tracker.analytics.reported.usd_cell``); ``unpriced`` for None."""
    if pico is None:
        return "unpriced"
    sign = "-" if pico < 0 else ""
    if 0 < abs(pico) < PICO_PER_CENT:
        return f"{sign}<$0.01"  # less than a cent: never "$0.00" for spend that happened, nor a rounded-up cent
    cents, rest = divmod(abs(pico), PICO_PER_CENT)
    if rest * 2 > PICO_PER_CENT or (rest * 2 == PICO_PER_CENT and cents % 2 == 1):
        cents += 1
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def tokens(n: int) -> str:
    """``12,345``; compact for the chart's labels is not needed, tables have room."""
    return f"{n:,}"


def size(n: int) -> str:
    """Bytes for people: ``512 B``, ``2.0 KB``, ``3.4 MB``."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB"):
        value /= 1024
        if value < 1024 or unit == "GB":
            return f"{value:.1f} {unit}"
    return f"{n} B"


def when(ms: int | None, tz: tzinfo, *, seconds: bool = False) -> str:
    """A local time, e.g. ``2026-11-23 17:05``; ``never`` for None."""
    if ms is None:
        return "never"
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(ms / 1000, tz).strftime(fmt)
