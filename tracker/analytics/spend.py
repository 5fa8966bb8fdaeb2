"""Today's and this month's spend, for the tray and the overview's key figures.

Two kinds, never mixed in one number without a label: *estimated* (the ``usage`` table, priced from local agent
logs; rows with ``cost_kind = 'unpriced'`` are counted apart, never as $0) and *reported* (what providers bill:
``provider_usage`` rows with ``billed = 1`` in USD). Sums are exact integers of pico-USD.

Days and months are cut in the given zone for estimated usage (its timestamps are instants). Providers report
whole UTC days, which cannot be split at a local midnight, so a reported bucket counts in the local day (and
month) whose date equals its UTC date: the same rule as ``token-ledger report --cost reported``.

The month-end run-rate is "month so far / elapsed fraction of the month", over estimated + reported.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from tracker.analytics.periods import local_date, local_midnight_ms

_DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class SpendSummary:
    today_estimated_pico: int
    today_reported_pico: int
    today_unpriced_records: int
    month_estimated_pico: int
    month_reported_pico: int
    month_unpriced_records: int
    month_run_rate_pico: int  # month-end projection of estimated + reported
    budget_pico: int | None

    @property
    def month_total_pico(self) -> int:
        """Estimated + reported this month: what a budget is measured against."""
        return self.month_estimated_pico + self.month_reported_pico

    @property
    def today_total_pico(self) -> int:
        return self.today_estimated_pico + self.today_reported_pico


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def _estimated(conn: sqlite3.Connection, lo_ms: int, hi_ms: int) -> tuple[int, int]:
    """(priced pico sum, unpriced row count) of ``usage`` rows with lo_ms <= ts_ms < hi_ms."""
    row = conn.execute(
        "SELECT coalesce(sum(CASE WHEN cost_kind != 'unpriced' THEN cost_pusd END), 0),"
        " coalesce(sum(cost_kind = 'unpriced'), 0)"
        " FROM usage WHERE ts_ms >= ? AND ts_ms < ?",
        (lo_ms, hi_ms),
    ).fetchone()
    return int(row[0]), int(row[1])


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
    return row is not None


def _reported(conn: sqlite3.Connection, first: date, end: date) -> int:
    """Billed USD (pico) of buckets whose UTC date is in first..end (end exclusive)."""
    if not _has_table(conn, "provider_usage"):
        return 0
    lo = (first - _EPOCH).days * _DAY_MS
    hi = (end - _EPOCH).days * _DAY_MS
    row = conn.execute(
        "SELECT coalesce(sum(cost_pico), 0) FROM provider_usage"
        " WHERE billed = 1 AND upper(coalesce(currency, 'USD')) = 'USD' AND cost_pico IS NOT NULL"
        " AND bucket_start_ms >= ? AND bucket_start_ms < ?",
        (lo, hi),
    ).fetchone()
    return int(row[0])


def run_rate(month_so_far_pico: int, month_start_ms: int, month_end_ms: int, now_ms: int) -> int:
    """Month-end projection: so far / elapsed fraction, in whole pico-USD (rounded down)."""
    elapsed = min(max(now_ms - month_start_ms, 0), month_end_ms - month_start_ms)
    if elapsed <= 0:
        return month_so_far_pico
    return month_so_far_pico * (month_end_ms - month_start_ms) // elapsed


def spend_summary(conn: sqlite3.Connection, tz: tzinfo, now_ms: int, budget_pico: int | None) -> SpendSummary:
    """Spend today and this month (in ``tz``) as of ``now_ms``, with the month-end run-rate."""
    today = local_date(now_ms, tz)
    month = _month_start(today)
    day_lo, day_hi = local_midnight_ms(today, tz), local_midnight_ms(today + timedelta(days=1), tz)
    month_lo, month_hi = local_midnight_ms(month, tz), local_midnight_ms(_next_month(month), tz)
    today_est, today_unpriced = _estimated(conn, day_lo, day_hi)
    month_est, month_unpriced = _estimated(conn, month_lo, month_hi)
    today_rep = _reported(conn, today, today + timedelta(days=1))
    month_rep = _reported(conn, month, _next_month(month))
    return SpendSummary(
        today_estimated_pico=today_est,
        today_reported_pico=today_rep,
        today_unpriced_records=today_unpriced,
        month_estimated_pico=month_est,
        month_reported_pico=month_rep,
        month_unpriced_records=month_unpriced,
        month_run_rate_pico=run_rate(month_est + month_rep, month_lo, month_hi, now_ms),
        budget_pico=budget_pico,
    )


def month_key(now_ms: int, tz: tzinfo) -> str:
    """'YYYY-MM' of the local month containing ``now_ms`` (budget notices are remembered per month)."""
    return datetime.fromtimestamp(now_ms / 1000, tz).strftime("%Y-%m")
