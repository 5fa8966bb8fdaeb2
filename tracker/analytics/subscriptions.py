"""Subscription spend: a flat plan's fee spread per day, and what the plan's usage would have cost at API prices.

**Spreading (exact).** A plan's monthly fee ``F`` (integer pico-USD) is spread over the ``D`` days of each calendar
month by cumulative floors: day ``k`` (1-based) of the month gets ``floor(F*k/D) - floor(F*(k-1)/D)``. The shares
are whole pico-USD, differ by at most one pico, and the days of a full month sum to exactly ``F`` (the remainder
``F mod D`` is spread one pico at a time over the days where the cumulative floor steps up, never lost or
doubled). A partial first or last month counts only the plan's days (``start``..``end`` inclusive). Days are
local calendar dates; spend after ``today`` has not happened yet and is never counted.

**API-equivalent value** of a plan in a period: the estimated cost (``usage.cost_pusd``, priced from the agent's
logs) of the usage the plan covers on its days: a plan covering an agent (``claude_code``, ``codex``) counts that
agent's usage; a plan covering a provider counts the agents priced at that provider's models (Claude Code for
``anthropic``, Codex for ``openai``) plus that provider's billed reported cost. Unpriced records are counted apart,
never as $0. Set against the fee charged for the same days, it says whether the plan paid for itself.

Qt-free; money stays in integers, Decimal only for ratios.
"""

from __future__ import annotations

import calendar
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from tracker.analytics.periods import local_midnight_ms
from tracker.plans import SOURCE_PROVIDER, SOURCES, Subscription, list_subscriptions

_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)


def day_share(fee_pusd: int, day: date) -> int:
    """The part of a monthly fee that falls on ``day`` (cumulative floors: a full month sums to the fee)."""
    days = calendar.monthrange(day.year, day.month)[1]
    k = day.day
    return fee_pusd * k // days - fee_pusd * (k - 1) // days


def _days(first: date, last: date) -> Iterator[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def active_span(sub: Subscription, first: date, last: date, today: date) -> tuple[date, date] | None:
    """The plan's days within ``first``..``last`` and not after ``today``, or None."""
    lo = max(first, sub.start)
    hi = min(last, today, sub.end) if sub.end is not None else min(last, today)
    return (lo, hi) if lo <= hi else None


def fee_between(sub: Subscription, first: date, last: date, today: date) -> int:
    """The fee charged for the plan's days in ``first``..``last`` (inclusive), pico-USD."""
    span = active_span(sub, first, last, today)
    if span is None:
        return 0
    return sum(day_share(sub.fee_pusd, d) for d in _days(*span))


def subscription_by_day(conn: sqlite3.Connection, first: date | None, last: date | None, today: date,
                        subs: list[Subscription] | None = None) -> dict[date, dict[str, int]]:
    """Subscription spend per local day and covered source: ``{day: {covers: pico}}``. None bounds: every plan day
    up to ``today``."""
    subs = list_subscriptions(conn) if subs is None else subs
    out: dict[date, dict[str, int]] = {}
    for sub in subs:
        span = active_span(sub, first or sub.start, last or today, today)
        if span is None:
            continue
        for d in _days(*span):
            share = day_share(sub.fee_pusd, d)
            if share:
                per = out.setdefault(d, {})
                per[sub.covers] = per.get(sub.covers, 0) + share
    return out


def covered_sources(covers: str) -> tuple[str, ...]:
    """The agents whose estimated usage a plan (or a provider budget) on ``covers`` counts."""
    if covers in SOURCES:
        return (covers,)
    return tuple(s for s in SOURCES if SOURCE_PROVIDER[s] == covers)


def estimated_between(conn: sqlite3.Connection, sources: tuple[str, ...], tz: tzinfo, first: date, last: date
                      ) -> tuple[int, int]:
    """(priced pico, unpriced records) of ``sources``' usage on local dates ``first``..``last``."""
    if not sources:
        return 0, 0
    marks = ", ".join("?" for _ in sources)
    row = conn.execute(
        f"""SELECT coalesce(sum(CASE WHEN cost_kind != 'unpriced' THEN cost_pusd END), 0),
                   coalesce(sum(cost_kind = 'unpriced'), 0)
            FROM usage WHERE source IN ({marks}) AND ts_ms >= ? AND ts_ms < ?""",
        (*sources, local_midnight_ms(first, tz), local_midnight_ms(last + timedelta(days=1), tz)),
    ).fetchone()
    return int(row[0]), int(row[1])


def reported_between(conn: sqlite3.Connection, provider: str, first: date, last: date) -> int:
    """Billed USD (pico) of ``provider`` for buckets on UTC dates ``first``..``last`` (as every report places them)."""
    try:
        row = conn.execute(
            """SELECT coalesce(sum(cost_pico), 0) FROM provider_usage
               WHERE provider = ? AND billed = 1 AND cost_pico IS NOT NULL
                 AND upper(coalesce(currency, 'USD')) = 'USD' AND bucket_start_ms >= ? AND bucket_start_ms < ?""",
            (provider, (first - _EPOCH).days * _DAY_MS, (last + timedelta(days=1) - _EPOCH).days * _DAY_MS),
        ).fetchone()
    except sqlite3.OperationalError:  # a ledger without provider tables
        return 0
    return int(row[0])


@dataclass(frozen=True)
class PlanMonth:
    """One calendar month of a plan: the fee charged for its days and the API-equivalent value of its usage."""

    plan: str
    covers: str
    month: str  # YYYY-MM
    first: date
    last: date  # the plan's last counted day in this month (today for the current month)
    to_date: bool  # the month is not over yet
    fee_pusd: int
    value_pusd: int
    unpriced_records: int

    def times(self) -> Decimal | None:
        """Value / fee to one decimal (half-even); None for a free plan."""
        if self.fee_pusd <= 0:
            return None
        with localcontext() as ctx:
            ctx.prec = 60
            return (Decimal(self.value_pusd) / Decimal(self.fee_pusd)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)

    def verdict(self) -> str:
        """``paid for itself 3.2× over``, ``break-even`` or ``below break-even (40% of the fee)``."""
        ratio = self.times()
        if ratio is None:
            return "free plan"
        if self.value_pusd < self.fee_pusd:
            return f"below break-even ({self.value_pusd * 100 // self.fee_pusd}% of the fee)"
        if ratio <= 1:
            return "break-even"
        return f"paid for itself {ratio}× over"


def plan_value(conn: sqlite3.Connection, sub: Subscription, tz: tzinfo, span: tuple[date, date], today: date
               ) -> tuple[int, int]:
    """(API-equivalent value pico, unpriced records) of the usage ``sub`` covers on its days in first..last."""
    active = active_span(sub, span[0], span[1], today)
    if active is None:
        return 0, 0
    value, unpriced = estimated_between(conn, covered_sources(sub.covers), tz, *active)
    if sub.covers not in SOURCES:
        value += reported_between(conn, sub.covers, *active)
    return value, unpriced


def plan_months(conn: sqlite3.Connection, sub: Subscription, tz: tzinfo, today: date) -> list[PlanMonth]:
    """Every month of ``sub`` from its start to its end (or to this month), oldest first."""
    out: list[PlanMonth] = []
    month = sub.start.replace(day=1)
    stop = min(sub.end, today) if sub.end is not None else today
    while month <= stop:
        last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        span = active_span(sub, month, last_day, today)
        if span is not None:
            value, unpriced = plan_value(conn, sub, tz, span, today)
            out.append(PlanMonth(sub.name, sub.covers, month.strftime("%Y-%m"), span[0], span[1],
                                 span[1] == today and today < last_day and (sub.end is None or sub.end > today),
                                 fee_between(sub, *span, today), value, unpriced))
        month = last_day + timedelta(days=1)
    return out
