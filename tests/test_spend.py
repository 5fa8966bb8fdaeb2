"""Spend figures: exact pico sums, days and months in the settings' zone, reported apart, run-rate."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tracker.analytics.spend import month_key, run_rate, spend_summary
from tracker.domain import PICO_PER_USD
from tracker.store import open_store

PARIS = ZoneInfo("Europe/Paris")


def ms(*args: int, tz: ZoneInfo | None = None) -> int:
    return int(datetime(*args, tzinfo=tz or UTC).timestamp() * 1000)  # type: ignore[misc]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    store = open_store(tmp_path / "ledger.sqlite3")
    store.conn.execute(
        "INSERT INTO accounts (id, provider, label, created_ms) VALUES (1, 'openai', 'work', 0)"
    )
    yield store.conn
    store.close()


def usage(conn: sqlite3.Connection, ts_ms: int, pico: int | None, kind: str = "estimated") -> None:
    n = conn.execute("SELECT count(*) FROM usage").fetchone()[0]
    conn.execute(
        "INSERT INTO usage (source, dedup_key, ts_ms, model, cost_pusd, cost_kind) VALUES ('codex', ?, ?, 'm', ?, ?)",
        (f"k{n}", ts_ms, pico, kind),
    )


def billed(conn: sqlite3.Connection, day_ms: int, pico: int, *, billed: int = 1, currency: str = "USD",
           kind: str = "openai.costs") -> None:
    n = conn.execute("SELECT count(*) FROM provider_usage").fetchone()[0]
    conn.execute(
        "INSERT INTO provider_usage (account_id, provider, kind, bucket_start_ms, bucket_width, bucket_end_ms,"
        " line_item, cost_pico, currency, billed, fetched_ms) VALUES (1, 'openai', ?, ?, '1d', ?, ?, ?, ?, ?, 0)",
        (kind, day_ms, day_ms + 86_400_000, f"li{n}", pico, currency, billed),
    )


def test_empty_ledger_is_all_zero(conn: sqlite3.Connection) -> None:
    s = spend_summary(conn, UTC, ms(2026, 11, 15), None)
    assert (s.today_estimated_pico, s.month_estimated_pico, s.month_reported_pico, s.month_run_rate_pico) == (0,) * 4
    assert s.budget_pico is None


def test_today_and_month_in_the_zone(conn: sqlite3.Connection) -> None:
    now = ms(2026, 11, 15, 12, tz=PARIS)
    usage(conn, ms(2026, 11, 15, 0, 30, tz=PARIS), 1_000_000_000_001)  # today in Paris (still the 14th in UTC)
    usage(conn, ms(2026, 11, 14, 23, 30, tz=PARIS), 2)  # yesterday in Paris
    usage(conn, ms(2026, 11, 1, 0, 0, tz=PARIS), 3)  # first instant of the month
    usage(conn, ms(2026, 10, 31, 23, 59, tz=PARIS), 1000)  # last month
    usage(conn, ms(2026, 12, 1, 0, 0, tz=PARIS), 7000)  # next month
    usage(conn, ms(2026, 11, 15, 8, tz=PARIS), None, "unpriced")
    s = spend_summary(conn, PARIS, now, 50 * PICO_PER_USD)
    assert s.today_estimated_pico == 1_000_000_000_001
    assert s.today_unpriced_records == 1
    assert s.month_estimated_pico == 1_000_000_000_006
    assert s.month_unpriced_records == 1
    assert s.budget_pico == 50 * PICO_PER_USD
    utc = spend_summary(conn, UTC, now, None)
    assert utc.today_estimated_pico == 0  # 00:30 Paris is 23:30 UTC on the 14th
    # In UTC, Nov 1 00:00 Paris (Oct 31 23:00 UTC) leaves the month and Dec 1 00:00 Paris (Nov 30 23:00 UTC) joins it.
    assert utc.month_estimated_pico == 1_000_000_000_001 + 2 + 7000


def test_reported_counts_billed_usd_only_by_utc_date(conn: sqlite3.Connection) -> None:
    billed(conn, ms(2026, 11, 15), 5 * PICO_PER_USD)
    billed(conn, ms(2026, 11, 15), 7, billed=0, kind="openai.usage.completions")  # informational
    billed(conn, ms(2026, 11, 15), 11, currency="CNY")  # not dollars
    billed(conn, ms(2026, 11, 2), 3)
    billed(conn, ms(2026, 10, 31), 100)
    s = spend_summary(conn, UTC, ms(2026, 11, 15, 18), None)
    assert s.today_reported_pico == 5 * PICO_PER_USD
    assert s.month_reported_pico == 5 * PICO_PER_USD + 3
    assert s.today_estimated_pico == 0


def test_run_rate_is_month_so_far_over_elapsed_fraction(conn: sqlite3.Connection) -> None:
    # November has 30 days; at the start of the 16th exactly half of it has passed.
    usage(conn, ms(2026, 11, 3), 10 * PICO_PER_USD)
    billed(conn, ms(2026, 11, 4), 5 * PICO_PER_USD)
    s = spend_summary(conn, UTC, ms(2026, 11, 16), None)
    assert s.month_total_pico == 15 * PICO_PER_USD
    assert s.month_run_rate_pico == 30 * PICO_PER_USD


def test_run_rate_rounds_down_exactly() -> None:
    assert run_rate(10, 0, 3, 1) == 30
    assert run_rate(10, 0, 3, 2) == 15
    assert run_rate(7, 100, 200, 100) == 7  # no time elapsed yet: the figure so far
    assert run_rate(7, 0, 3, 99) == 7  # past the end: no projection beyond what was spent


def test_month_key_uses_the_zone() -> None:
    assert month_key(ms(2026, 11, 30, 23, 30), UTC) == "2026-11"
    assert month_key(ms(2026, 11, 30, 23, 30), PARIS) == "2026-12"
